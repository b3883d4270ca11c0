"""The data layer: a client's exports read, checked and made canonical.

=================  =====================================================================================
:mod:`.config`     ``portfolio.yaml``: paths, column map, as-of date, read options, engine, parameters
:mod:`.schemas`    the canonical tables (customers, transactions, invoices, snapshots) and their columns
:mod:`.exports`    reading the export files and checking them (every problem, with file, line and column)
:mod:`.portfolio`  the whole portfolio as of a date: :func:`load_portfolio`, the engine decided once
:mod:`.staging`    raw tables beyond memory validated chunk by chunk into canonical Parquet
:mod:`.dates`      date helpers shared by the analyses (``as_date``, day numbers, ``add_months``)
:mod:`.datasets`   public data sets (CDNOW) for tests and benchmarks
:mod:`.sample`     the synthetic client of ``data/sample/``
=================  =====================================================================================

Nothing here imports an analysis, the report or the runner. Notebooks need only
``from portfolio_kit.data import load_portfolio``.
"""

from portfolio_kit.data.config import ConfigError, PortfolioConfig, load_config
from portfolio_kit.data.exports import DataQualityReport, DataValidationError
from portfolio_kit.data.portfolio import Portfolio, check_portfolio, load_portfolio, pseudonymise

__all__ = ["load_config", "load_portfolio", "check_portfolio", "pseudonymise", "Portfolio", "PortfolioConfig",
           "DataQualityReport", "DataValidationError", "ConfigError"]
