"""Statistical building blocks shared by the analyses: scores and calibration (:mod:`.scoring`), the regression
design matrix, logit fit and coefficient table (:mod:`.regression`), Kaplan-Meier curves (:mod:`.survival`).

Nothing here knows about customers, invoices or the report: functions take arrays or DataFrames of numbers.
"""
