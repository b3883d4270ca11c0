"""The CLV page's headline numbers, and the purchase models a page may choose by name."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.clv.base import PurchaseModel
from portfolio_kit.clv.bgnbd import BetaGeo
from portfolio_kit.clv.mbgnbd import ModifiedBetaGeo
from portfolio_kit.data.schemas import key_figures_table

__all__ = ["PURCHASE_MODELS", "purchase_model", "VALUABLE_SHARE", "SLIPPING_P_ALIVE", "key_figures"]

#: Purchase models a notebook parameter can name (the ranking, the churn page's second score).
PURCHASE_MODELS: dict[str, type[PurchaseModel]] = {"bgnbd": BetaGeo, "mbgnbd": ModifiedBetaGeo}
#: Share of customers with the highest CLV counted as "valuable".
VALUABLE_SHARE = 0.2
#: P(alive) below which a valuable customer counts as slipping.
SLIPPING_P_ALIVE = 0.5


def purchase_model(name: str) -> PurchaseModel:
    """A new, unfitted purchase model by its parameter name (``bgnbd`` or ``mbgnbd``)."""
    if name not in PURCHASE_MODELS:
        raise ValueError(f"purchase model must be one of {sorted(PURCHASE_MODELS)}, got {name!r}")
    return PURCHASE_MODELS[name]()


def key_figures(values: pd.DataFrame, holdout: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline numbers of CLV (:func:`~portfolio_kit.data.schemas.key_figures_table`): ``values`` is
    :func:`~portfolio_kit.clv.customer_value`'s table, ``holdout`` :func:`~portfolio_kit.clv.holdout_by_frequency`'s
    (its last row, all customers, gives the holdout bias and error)."""
    top = values["clv"] >= values["clv"].quantile(1 - VALUABLE_SHARE)
    last = holdout.iloc[-1] if holdout is not None and len(holdout) else {}
    return key_figures_table({
        "clv_book": (round(float(values["clv"].sum()), 0), "money.0"),
        "top_20pct_clv_share": (round(float(values.loc[top, "clv"].sum() / values["clv"].sum()), 4), "percent"),
        "valuable_slipping": (int((top & (values["probability_alive"] < SLIPPING_P_ALIVE)).sum()), "count"),
        "expected_purchases": (round(float(values["expected_purchases"].sum()), 1), "number.1"),
        "holdout_bias": (round(float(last["bias"]), 4) if "bias" in last else "", "ratio.4"),
        "holdout_mae": (round(float(last["mae"]), 4) if "mae" in last else "", "ratio.4"),
    })
