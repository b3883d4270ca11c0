"""Statistical building blocks shared by the analyses: scores and calibration (:mod:`.scoring`).

Nothing here knows about customers, invoices or the report: functions take arrays or DataFrames of numbers.
"""
