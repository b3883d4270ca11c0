"""The credit page's headline numbers."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.data.schemas import key_figures_table

__all__ = ["key_figures"]


def key_figures(limits: pd.DataFrame, matrix: pd.DataFrame | None = None, what_if: pd.DataFrame | None = None,
                value: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline numbers of credit (:func:`~portfolio_kit.data.schemas.key_figures_table`).

    ``limits`` is :func:`~portfolio_kit.credit.recommended_limits`; ``matrix`` the provision matrix of the
    whole book (None when loss rates could not be derived), ``what_if`` the per-customer table of
    :func:`~portfolio_kit.credit.terms_what_if` and ``value`` :func:`~portfolio_kit.credit.risk_adjusted_value`.
    """
    actions = limits["limit_action"].astype(str).value_counts()
    receivables = float(limits["exposure"].clip(lower=0).sum())
    ecl = float(matrix["ecl"].sum()) if matrix is not None else ""
    return key_figures_table({
        "receivables": (round(receivables, 0), "money.0"),
        "expected_credit_loss": (round(ecl, 0) if ecl != "" else "", "money.0"),
        "ecl_rate": (round(ecl / receivables, 4) if ecl != "" and receivables else "", "percent"),
        "limits_to_raise": (int(actions.get("raise", 0)), "count"),
        "limits_to_cut": (int(actions.get("cut", 0)), "count"),
        "limits_to_review": (int(actions.get("review", 0)), "count"),
        "terms_cash_released": (round(float(what_if["cash_released"].sum()), 0) if what_if is not None else "",
                                "money.0"),
        "risk_adjusted_clv": (round(float(value["risk_adjusted_clv"].sum()), 0) if value is not None else "",
                              "money.0"),
    })
