"""The payments page's headline numbers."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.data.schemas import key_figures_table

__all__ = ["key_figures"]


def key_figures(aging_total: pd.DataFrame, kpis: pd.DataFrame, exposures: pd.DataFrame, profiles: pd.DataFrame,
                late_payment_auc: float) -> pd.DataFrame:
    """Headline numbers of receivables and payment behaviour (:func:`~portfolio_kit.data.schemas.key_figures_table`).

    ``aging_total`` is :func:`~portfolio_kit.payments.aging` without ``by`` (one row), ``kpis``
    :func:`~portfolio_kit.payments.receivables_kpis` (its last period end is reported), ``exposures``
    :func:`~portfolio_kit.payments.exposure`, ``profiles`` :func:`~portfolio_kit.payments.payment_profile` and
    ``late_payment_auc`` the late-payment model's AUC on the later window.
    """
    total, last = aging_total.iloc[0], kpis.iloc[-1]
    return key_figures_table({
        "open_receivables": (round(float(total["total"]), 2), "money"),
        "overdue_share": (round(float(1 - total["current"] / total["total"]), 4), "percent"),
        "dso": (round(float(last["dso"]), 1), "days"),
        "average_days_delinquent": (round(float(last["add"]), 1), "days"),
        "cei": (round(float(last["cei"]), 1), "number.1"),
        "over_limit_customers": (int(exposures["over_limit"].sum()), "count"),
        "chronically_late_customers": (int((profiles["profile"] == "chronically late").sum()), "count"),
        "late_payment_auc": (round(float(late_payment_auc), 3), "ratio"),
    })
