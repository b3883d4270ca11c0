"""portfolio-kit: analyse a company's customer portfolio from its own exports.

Layers, data flowing one way (ARCHITECTURE.md):

- :mod:`portfolio_kit.data`: the client's exports read, checked and made canonical (``load_portfolio``);
- :mod:`portfolio_kit.stats`: statistical building blocks (scores, regression designs, survival curves);
- the analyses, the package's public face: :mod:`~portfolio_kit.overview`, :mod:`~portfolio_kit.segmentation`,
  :mod:`~portfolio_kit.concentration`, :mod:`~portfolio_kit.clv`, :mod:`~portfolio_kit.payments`,
  :mod:`~portfolio_kit.churn`, :mod:`~portfolio_kit.monitoring`; :mod:`portfolio_kit.engines` runs their
  per-customer aggregations on pandas, DuckDB or Spark;
- :mod:`portfolio_kit.report`: wording (EN/IT), style, tables, figures, the executive summary, the PDF;
- :mod:`portfolio_kit.runner`: the notebooks executed into versioned report folders, and the command line.
"""

__version__ = "0.1.0"
