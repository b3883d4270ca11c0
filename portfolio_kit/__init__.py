"""portfolio-kit: analyse a company's customer portfolio from its own exports.

Data flow one way: :mod:`portfolio_kit.data.io` loads and validates the client's files into the canonical tables
of :mod:`portfolio_kit.data.schemas`; one module per analysis turns them into tables; :mod:`portfolio_kit.report.plots`
draws them; notebooks call both; :mod:`portfolio_kit.runner.suite` executes the notebooks into versioned reports.
"""

__version__ = "0.1.0"
