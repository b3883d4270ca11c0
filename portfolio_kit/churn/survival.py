"""Retention: Kaplan-Meier curves of customer tenure (:func:`tenure_survival`, read off with
:func:`survival_at`) and the share of each acquisition cohort still buying (:func:`cohort_retention`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_kit.churn.features import UNKNOWN
from portfolio_kit.churn.labels import DAYS_PER_MONTH, checked_transactions, purchase_days, whole_months
from portfolio_kit.data.dates import add_months, as_date, day_number, period_ordinal
from portfolio_kit.stats.survival import CURVE_COLUMNS, kaplan_meier

__all__ = ["TENURE_COLUMNS", "tenure_survival", "survival_at", "cohort_retention", "survival_column"]

_RENAMED = {"time": "tenure_months", "events": "churned"}

#: The columns of a :func:`tenure_survival` curve (besides the ``by`` column).
TENURE_COLUMNS = tuple(_RENAMED.get(c, c) for c in CURVE_COLUMNS)


def tenure_survival(transactions: pd.DataFrame, as_of, horizon_months: int, customers: pd.DataFrame | None = None,
                    by: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier curves of customer tenure: the share of customers still buying ``t`` months after their
    first purchase.

    A customer's tenure runs from the first to the last purchase; it has ended (an event) when the customer
    has not bought in the ``horizon_months`` up to ``as_of`` (the churn rule), otherwise it is right-censored
    at the last purchase (still running). ``S(t) = prod over t_j <= t of (1 - d_j / n_j)``
    (:func:`portfolio_kit.stats.survival.kaplan_meier`); the 95% band is pointwise, ``S +- 1.96 se``
    (Greenwood), clipped to [0, 1]. Customers with a single purchase day that churned end at 0, so ``S`` drops
    there by their share.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    as_of : date-like
    horizon_months : int
    customers : DataFrame, optional
        Needed when ``by`` is one of its columns.
    by : str, optional
        One curve per value of this customers column (a segment).

    Returns
    -------
    DataFrame
        ``[by,] tenure_months``, ``survival``, ``ci_low``, ``ci_high``, ``at_risk``, ``churned``; each curve
        starts at ``tenure_months = 0``, ``survival = 1``, and ends at its longest tenure.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"], "amount": [1.0] * 5,
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01", "2024-01-01",
    ...                                            "2024-12-01"])})
    >>> curve = tenure_survival(tx, "2024-12-31", 3)     # a and b ended (at 2 and 0 months), c still buying
    >>> curve[["tenure_months", "survival", "at_risk", "churned"]].round(2)
       tenure_months  survival  at_risk  churned
    0           0.00      1.00        3        0
    1           0.00      0.67        3        1
    2           1.97      0.33        2        1
    3          11.01      0.33        1        0
    >>> survival_at(curve, months=(1, 6))
      group  customers   1 month  6 months
    0   all          3  0.666667  0.333333
    """
    end = as_date(as_of, "as_of")
    horizon = whole_months(horizon_months, "horizon_months")
    days = purchase_days(checked_transactions(transactions), end)
    if not days.day.size:
        raise ValueError(f"transactions: no purchase on or before {end.date()}")
    first, last = days.bounds()
    table = pd.DataFrame({"duration": (last - first) / DAYS_PER_MONTH,
                          "churned": (last <= day_number(add_months(end, -horizon), "as_of")).astype(int)},
                         index=days.ids)
    groups = [("all", table)]
    if by is not None:
        if customers is None or by not in customers.columns:
            raise ValueError(f"by: {by!r} must be a column of customers (pass customers=)")
        label = customers.set_index("customer_id")[by].astype("string").reindex(table.index).fillna(UNKNOWN)
        groups = list(table.groupby(label.to_numpy(), sort=True))
    curves = []
    for name, part in groups:  # one curve per segment (a handful)
        curve = kaplan_meier(part["duration"], part["churned"], to_longest=True).rename(columns=_RENAMED)
        if by is not None:
            curve.insert(0, by, name)
        curves.append(curve)
    return pd.concat(curves, ignore_index=True)


def survival_column(months: float) -> str:
    """The column of :func:`survival_at` for a tenure: ``"12 months"``, ``"1 month"``."""
    return f"{months:g} month{'' if months == 1 else 's'}"


def survival_at(curves: pd.DataFrame, months: Sequence[float] = (3, 6, 12, 24)) -> pd.DataFrame:
    """Share of customers still buying at given tenures, read off :func:`tenure_survival` curves (the last
    step at or before each tenure; NaN beyond the longest tenure of a curve).

    Returns
    -------
    DataFrame
        One row per curve (``by`` value, or ``all``) and one column per tenure (``"12 months"``), plus
        ``customers``.
    """
    by = [c for c in curves.columns if c not in TENURE_COLUMNS]
    label = curves[by[0]] if by else pd.Series("all", index=curves.index)
    rows = {}
    for name, curve in curves.groupby(label.to_numpy(), sort=True):
        t, s = curve["tenure_months"].to_numpy(), curve["survival"].to_numpy()
        pos = np.searchsorted(t, np.asarray(months, dtype=float), side="right") - 1
        value = np.where(np.asarray(months) <= t.max(), s[np.clip(pos, 0, None)], np.nan)
        rows[name] = {"customers": int(curve["at_risk"].iloc[0]),
                      **{survival_column(m): v for m, v in zip(months, value)}}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by[0] if by else "group").reset_index()


def cohort_retention(transactions: pd.DataFrame, as_of, freq: str = "Q") -> pd.DataFrame:
    """Share of each acquisition cohort buying in each later period.

    Cohort = the calendar quarter (``"Q"``) or month (``"M"``) of a customer's first purchase; period ``k``
    = ``k`` periods after it; ``retention = active / customers`` with ``active`` the cohort's customers with
    a purchase in that period (period 0 is 1 by definition). Only complete periods (ending on or before
    ``as_of``) are shown, for cohorts and later periods alike.

    Returns
    -------
    DataFrame
        ``cohort`` (``"2024Q1"`` or ``"2024-01"``), ``period`` (int), ``customers``, ``active``,
        ``retention``; one row per cohort and complete period.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [1.0, 1.0, 1.0],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-04-10", "2024-02-01"])})
    >>> cohort_retention(tx, "2024-06-30")[["cohort", "period", "retention"]]
       cohort  period  retention
    0  2024Q1       0        1.0
    1  2024Q1       1        0.5
    """
    if freq not in ("Q", "M"):
        raise ValueError(f"freq: expected 'Q' (quarters) or 'M' (months), got {freq!r}")
    end = as_date(as_of, "as_of")
    days = purchase_days(checked_transactions(transactions), end)
    ordinal = period_ordinal(days.day.astype("datetime64[D]"), freq)
    last_complete = period_ordinal(np.array([(end + pd.Timedelta(days=1)).to_datetime64()]), freq)[0] - 1
    starts = days.starts()
    cohort = np.repeat(ordinal[starts], np.diff(np.r_[starts, days.code.size]))  # days sorted: first = min
    active = pd.DataFrame({"cohort": cohort, "period": ordinal - cohort, "code": days.code}).drop_duplicates()
    active = active[active["cohort"] + active["period"] <= last_complete]
    if active.empty:
        raise ValueError(f"transactions: no complete {'quarter' if freq == 'Q' else 'month'} of purchases "
                         f"by {end.date()}")
    table = active.groupby(["cohort", "period"]).size().rename("active").reset_index()
    size = table[table["period"] == 0].set_index("cohort")["active"]
    table.insert(2, "customers", table["cohort"].map(size))
    table["retention"] = table["active"] / table["customers"]
    year, step = (table["cohort"] // 4, table["cohort"] % 4 + 1) if freq == "Q" else (table["cohort"] // 12,
                                                                                     table["cohort"] % 12 + 1)
    table["cohort"] = (year + 1970).astype(str) + (("Q" + step.astype(str)) if freq == "Q"
                                                   else ("-" + step.astype(str).str.zfill(2)))
    return table
