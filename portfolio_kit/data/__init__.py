"""The data layer: a client's exports read, checked and made canonical.

================  =====================================================================================
:mod:`.config`    ``portfolio.yaml``: paths, column map, as-of date, read options, engine, parameters
:mod:`.schemas`   the canonical tables (customers, transactions, invoices, snapshots) and their columns
:mod:`.io`        reading the exports and checking them (every problem, with file, line and column)
:mod:`.staging`   raw tables beyond memory validated chunk by chunk into canonical Parquet
:mod:`.dates`     date helpers shared by the analyses (``as_date``, day numbers, ``add_months``)
:mod:`.datasets`  public data sets (CDNOW) for tests and benchmarks
:mod:`.sample`    the synthetic client of ``data/sample/``
================  =====================================================================================

Nothing here imports an analysis, the report or the runner.
"""
