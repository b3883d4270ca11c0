"""Risk-adjusted customer value: the CLV less what the customer's credit is expected to cost.

Per customer, over the CLV's horizon::

    risk_adjusted_clv = clv - ecl - future_credit_loss - carrying_cost
    future_credit_loss = expected_revenue x loss rate of new receivables (the ``current`` bucket's)
    carrying_cost      = expected_revenue x days_to_pay / 365 x cost_of_capital

``ecl`` is the expected loss on what the customer owes today; the future loss applies the loss rate of
receivables not yet due to the revenue the CLV model expects (a whole invoice is lost, not only its
margin); the carrying cost is the cost of financing the receivables that revenue keeps open for the
customer's observed days to pay (average receivables ``annual revenue x days_to_pay / 365`` held for the
horizon). The two costs are not discounted (a small, conservative simplification).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["risk_adjusted_value"]


def risk_adjusted_value(clv_table: pd.DataFrame, profile: pd.DataFrame, new_loss_rate: float | pd.Series,
                        cost_of_capital: float = 0.08) -> pd.DataFrame:
    """The CLV of every valued customer less its expected credit cost (the module's formulas).

    Parameters
    ----------
    clv_table : DataFrame
        ``customer_id``, ``clv``, ``expected_revenue`` (the CLV page's table).
    profile : DataFrame
        ``customer_id``, ``ecl`` (expected loss on today's receivables), ``days_to_pay``
        (:func:`~portfolio_kit.credit.credit_profile`).
    new_loss_rate : float or Series indexed by customer id
        Loss rate of new receivables (the ``current`` bucket's, after the forward-looking adjustment).
    cost_of_capital : float
        Yearly cost of financing receivables (e.g. 0.08).

    Returns
    -------
    DataFrame
        ``customer_id``, ``clv``, ``ecl``, ``future_credit_loss``, ``carrying_cost``, ``risk_adjusted_clv``,
        ``clv_rank``, ``risk_adjusted_rank`` (1 = most valuable), sorted by ``risk_adjusted_clv``.

    Examples
    --------
    >>> clv_t = pd.DataFrame({"customer_id": ["C1"], "clv": [1000.0], "expected_revenue": [10000.0]})
    >>> prof = pd.DataFrame({"customer_id": ["C1"], "ecl": [50.0], "days_to_pay": [73.0]})
    >>> risk_adjusted_value(clv_t, prof, 0.01, 0.10)[["future_credit_loss", "carrying_cost", "risk_adjusted_clv"]]
       future_credit_loss  carrying_cost  risk_adjusted_clv
    0               100.0          200.0              650.0
    """
    if not 0 <= cost_of_capital < 1:
        raise ValueError(f"cost_of_capital: expected a yearly rate in [0, 1), got {cost_of_capital!r}")
    missing = ([c for c in ("customer_id", "clv", "expected_revenue") if c not in clv_table.columns]
               + [c for c in ("customer_id", "ecl", "days_to_pay") if c not in profile.columns])
    if missing:
        raise ValueError(f"risk-adjusted value: missing column(s) {sorted(set(missing))}")
    out = clv_table[["customer_id", "clv", "expected_revenue"]].merge(
        profile[["customer_id", "ecl", "days_to_pay"]], on="customer_id", how="left")
    revenue = out["expected_revenue"].fillna(0.0).clip(lower=0)
    if isinstance(new_loss_rate, pd.Series):  # customers outside the master: the mean of the groups' rates
        rate = new_loss_rate.reindex(out["customer_id"]).fillna(new_loss_rate.mean()).to_numpy(float)
    else:
        rate = np.full(len(out), float(new_loss_rate))
    out["ecl"] = out["ecl"].fillna(0.0)
    out["future_credit_loss"] = revenue * np.nan_to_num(rate)
    out["carrying_cost"] = revenue * out["days_to_pay"].fillna(0.0).clip(lower=0) / 365 * cost_of_capital
    out["risk_adjusted_clv"] = out["clv"] - out["ecl"] - out["future_credit_loss"] - out["carrying_cost"]
    out["clv_rank"] = out["clv"].rank(ascending=False, method="first").astype(int)
    out["risk_adjusted_rank"] = out["risk_adjusted_clv"].rank(ascending=False, method="first").astype(int)
    return (out.drop(columns=["expected_revenue", "days_to_pay"])
            .sort_values("risk_adjusted_clv", ascending=False, kind="stable").reset_index(drop=True))
