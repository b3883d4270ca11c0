"""Former home of the reading and loading functions, now :mod:`portfolio_kit.data.exports` (reading and checking
the files) and :mod:`portfolio_kit.data.portfolio` (the whole portfolio)."""

from portfolio_kit.data.exports import DataValidationError  # noqa: F401
from portfolio_kit.data.portfolio import Portfolio, check_portfolio, load_portfolio  # noqa: F401
