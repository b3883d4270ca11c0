"""The churn page's headline numbers, and the probability above which a customer counts as at risk."""

from __future__ import annotations

import pandas as pd

from portfolio_kit import clv
from portfolio_kit.churn.backtest import choose_score
from portfolio_kit.churn.scores import SCORES
from portfolio_kit.churn.survival import survival_column
from portfolio_kit.data.schemas import key_figures_table

__all__ = ["AT_RISK_PROBABILITY", "key_figures"]

#: Churn probability above which an active customer counts as at risk (the page's and the summary's figure).
AT_RISK_PROBABILITY = 0.5


def key_figures(horizon_months: int, metrics: pd.DataFrame, at_risk: pd.DataFrame, survival: pd.DataFrame,
                months: int = 12) -> pd.DataFrame:
    """Headline numbers of churn (:func:`~portfolio_kit.data.schemas.key_figures_table`).

    ``metrics`` is :func:`~portfolio_kit.churn.backtest_churn`'s ``metrics`` (AUC of the logit, the recency
    baseline and the purchase model, its last row: ``auc_bgnbd`` or ``auc_mbgnbd``; ``churn_score``, the
    score :func:`~portfolio_kit.churn.choose_score` picks from them, which ``at_risk`` is expected to use),
    ``at_risk`` :func:`~portfolio_kit.churn.at_risk_customers`' table, ``survival``
    :func:`~portfolio_kit.churn.survival_at` of all customers, read at ``months``.
    """
    auc = metrics.set_index("score")["auc"]
    purchase_model = {model.label: name for name, model in clv.PURCHASE_MODELS.items()}[auc.index[-1]]
    return key_figures_table({
        "horizon_months": (int(horizon_months), "count"),
        "auc_logit": (round(float(auc[SCORES["logit"]]), 4), "ratio"),
        "auc_recency": (round(float(auc[SCORES["recency"]]), 4), "ratio"),
        f"auc_{purchase_model}": (round(float(auc.iloc[-1]), 4), "ratio"),
        "churn_score": (choose_score(metrics), "text"),
        "at_risk_customers": (int((at_risk["churn_probability"] > AT_RISK_PROBABILITY).sum()), "count"),
        "value_at_risk": (round(float(at_risk["value_at_risk"].sum()), 0), "money.0"),
        "retained_12m": (round(float(survival[survival_column(months)].iloc[0]), 4), "percent"),
    })
