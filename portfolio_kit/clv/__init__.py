"""Probabilistic customer lifetime value: RFM summaries, BG/NBD-family purchase models, Gamma-Gamma spend,
customer value with bootstrap intervals, and the standard diagnostics.

Typical use (a calibration/holdout check, then a refit on all data and the ranking)::

    from portfolio_kit import clv
    cal = clv.rfm_summary(tx, as_of, period="W", calibration_end=cut)
    model = clv.fit_bgnbd(cal)
    clv.holdout_by_frequency(model, cal)
    summary = clv.rfm_summary(tx, as_of, period="W")
    values = clv.customer_value(clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary), summary, margin=0.3)
    values.sort_values("clv", ascending=False)

Time is in the summary's periods throughout (weeks for ``period="W"``): ``alpha``/``beta`` and every ``t``
are in that unit; :func:`customer_value` converts its monthly horizon with ``periods_per_month``.
"""

from portfolio_kit.clv.base import ConvergenceWarning, CustomerModel, PurchaseModel
from portfolio_kit.clv.bgnbd import BetaGeo, fit_bgnbd
from portfolio_kit.clv.diagnostics import (compare_models, cumulative_repeat_purchases, customers_by_repeat_count,
                                           expected_purchases_matrix, holdout_by_frequency,
                                           probability_alive_matrix, spend_frequency_correlation)
from portfolio_kit.clv.figures import PURCHASE_MODELS, key_figures, purchase_model
from portfolio_kit.clv.gamma_gamma import GammaGamma, fit_gamma_gamma
from portfolio_kit.clv.mbgnbd import ModifiedBetaGeo
from portfolio_kit.clv.paretonbd import ParetoNBD
from portfolio_kit.clv.summary import PERIODS, rfm_summary
from portfolio_kit.clv.value import customer_value, customer_value_by_group

__all__ = [
    "rfm_summary", "PERIODS",
    "BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGamma", "fit_bgnbd", "fit_gamma_gamma",
    "CustomerModel", "PurchaseModel", "ConvergenceWarning",
    "customer_value", "customer_value_by_group",
    "customers_by_repeat_count", "holdout_by_frequency", "cumulative_repeat_purchases",
    "probability_alive_matrix", "expected_purchases_matrix", "spend_frequency_correlation", "compare_models",
    "PURCHASE_MODELS", "purchase_model", "key_figures",
]
