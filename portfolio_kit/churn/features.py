"""What is known about each active customer at a cut-off: recency, frequency, tenure, regularity, spend trend,
payment behaviour and the customer master's attributes (:func:`churn_features`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_kit.churn.labels import checked_transactions, purchase_days, whole_months
from portfolio_kit.data.dates import add_months, as_date
from portfolio_kit.payments import payment_profile
from portfolio_kit.segmentation import customer_summary
from portfolio_kit.stats.regression import MISSING_LEVEL

__all__ = ["CUSTOMER_ATTRIBUTES", "RELATIONSHIP_COLUMNS", "UNKNOWN", "churn_features"]

logger = logging.getLogger(__name__)

_PACE_PRIOR_DAYS = 30.0  # pseudo-history of expected_orders_missed, so young customers are not judged on days
_PAYMENT_GRACE_DAYS = 5  # days after the due date before an invoice counts as late in the payment features

#: Customer-master columns carried into the features (when present and not empty).
CUSTOMER_ATTRIBUTES = ("customer_type", "sector", "region", "channel", "size_class")

#: Relationship indicators used when the customer master has them (numeric: complaints count, satisfaction
#: or NPS score). They are taken as they are in the master, i.e. assumed known at the cut-off.
RELATIONSHIP_COLUMNS = ("complaints", "satisfaction", "nps")

#: The value of a customer attribute missing from the master: a level of its own, in the model (the design's
#: missing level) and in the retention curves alike.
UNKNOWN = MISSING_LEVEL


def churn_features(transactions: pd.DataFrame, cutoff, customers: pd.DataFrame | None = None,
                   invoices: pd.DataFrame | None = None, *, active_months: int | None = 12,
                   trend_months: int = 6, payment_months: int = 12,
                   attributes: Sequence[str] = CUSTOMER_ATTRIBUTES + RELATIONSHIP_COLUMNS) -> pd.DataFrame:
    """What is known about each active customer at ``cutoff``: one row per customer.

    Only transactions dated on or before the cut-off are read, and invoices as the ledger stood then
    (issued by the cut-off, payments after it not yet made), so no feature sees the future.

    Columns (days are calendar days; a purchase day merges same-day purchases):

    - ``first_purchase``, ``last_purchase``; ``recency_days`` = cut-off - last purchase; ``tenure_days`` =
      cut-off - first purchase; ``frequency`` = purchase days; ``one_purchase`` = 1 when a single one;
    - ``mean_gap_days`` = (last - first) / (frequency - 1) and ``gap_cv`` = standard deviation / mean of the
      gaps between purchase days (regularity: 0 = like clockwork; NaN with fewer than 2 / 3 purchase days);
      ``overdue_ratio`` = recency_days / mean_gap_days (above 1: later than usual);
    - ``expected_orders_missed`` = ``frequency x log((c + tenure_days) / (c + tenure_days - recency_days))``
      with ``c`` = 30 days: ``-log P(a silence this long)`` for a customer buying at its own pace (Poisson
      with a gamma-distributed rate, as in BG/NBD: the rate learnt from ``frequency`` purchases over
      ``c + tenure - recency`` days), about the number of orders the silence has skipped; the single
      strongest churn signal, defined for single purchases too;
    - ``revenue`` (net, all history), ``avg_order_value`` = revenue / frequency, ``margin`` when known;
    - ``revenue_recent`` and ``revenue_previous``: net revenue in the last ``trend_months`` and the
      ``trend_months`` before; ``spend_trend = (recent - previous) / (recent + previous)`` on the positive
      parts, in [-1, 1] (-1: stopped buying, 0: stable or no spend in either);
    - with invoices, from :func:`portfolio_kit.payments.payment_profile` over invoices due in the last
      ``payment_months``: ``avg_days_late`` (amount-weighted, early = 0), ``share_late``, ``payment_index``
      (NaN for customers without such invoices);
    - the ``attributes`` columns of ``customers`` that exist and are not empty (segment attributes and
      relationship indicators such as complaints or satisfaction; taken as they are in the master).

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    cutoff : date-like
    customers, invoices : DataFrame, optional
        Canonical customers and invoices.
    active_months : int or None
        Customers with a purchase in ``(cutoff - active_months, cutoff]`` (``None``: any by the cut-off).
    trend_months : int
        Length of the two periods compared by ``spend_trend``.
    payment_months : int
        Window of due dates of the payment features.
    attributes : sequence of str
        Customer-master columns to carry.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted); ``attrs`` holds ``cutoff`` and ``trend_months``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a"], "amount": [10.0, 20.0, 30.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-03-01"])})
    >>> features = churn_features(tx, "2024-03-31")
    >>> features[["recency_days", "frequency", "mean_gap_days", "overdue_ratio"]]  # doctest: +NORMALIZE_WHITESPACE
                 recency_days  frequency  mean_gap_days  overdue_ratio
    customer_id
    a                    30.0          3           30.0            1.0
    """
    tx = checked_transactions(transactions)
    cut = as_date(cutoff, "cutoff")
    active = whole_months(active_months, "active_months", allow_none=True)
    trend = whole_months(trend_months, "trend_months")
    history = tx[(tx["date"] <= cut).to_numpy()]
    if not (history["amount"] > 0).any():
        raise ValueError(f"transactions: no purchase on or before cutoff {cut.date()}")
    base = customer_summary(history, as_of=cut)
    base = base[base["first_purchase"].notna()]
    if active is not None:
        base = base[base["last_purchase"] > add_months(cut, -active)]
    if base.empty:
        raise ValueError(f"no customer active at cutoff {cut.date()} (a purchase in the {active} month(s) "
                         "before it)")
    out = base[["first_purchase", "last_purchase"]].copy()
    out["recency_days"] = base["recency"]
    out["tenure_days"] = base["tenure"]
    out["frequency"] = base["frequency"].astype(int)
    out["one_purchase"] = (out["frequency"] == 1).astype(float)
    repeat = (out["frequency"] - 1).where(out["frequency"] > 1)
    out["mean_gap_days"] = (out["tenure_days"] - out["recency_days"]) / repeat
    days = purchase_days(history)
    gap, code = days.gaps()
    n, total = np.bincount(code, minlength=days.ids.size), np.bincount(code, gap, minlength=days.ids.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        sd = np.sqrt(np.maximum(np.bincount(code, gap * gap, minlength=days.ids.size) / n - mean**2, 0))
    out["gap_cv"] = pd.Series(np.where(n >= 2, sd / mean, np.nan), index=days.ids).reindex(out.index)
    out["overdue_ratio"] = out["recency_days"] / out["mean_gap_days"]
    pace_days = _PACE_PRIOR_DAYS + out["tenure_days"]
    out["expected_orders_missed"] = out["frequency"] * np.log(pace_days / (pace_days - out["recency_days"]))
    out["revenue"] = base["revenue"]
    out["avg_order_value"] = base["revenue"] / out["frequency"]
    if "margin" in base.columns:
        out["margin"] = base["margin"]
    recent = _revenue_between(history, add_months(cut, -trend), cut).reindex(out.index, fill_value=0.0)
    previous = _revenue_between(history, add_months(cut, -2 * trend), add_months(cut, -trend))
    previous = previous.reindex(out.index, fill_value=0.0)
    out["revenue_recent"], out["revenue_previous"] = recent, previous
    up, before = recent.clip(lower=0), previous.clip(lower=0)
    total = up + before
    out["spend_trend"] = ((up - before) / total.where(total > 0)).fillna(0.0)
    if invoices is not None:
        out = out.join(_payment_features(invoices, cut, payment_months))
    if customers is not None:
        out = out.join(_attributes(customers, attributes))
    out.attrs.update(cutoff=cut, trend_months=trend)
    return out


def _revenue_between(tx: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Net amount per customer dated in ``(start, end]``."""
    inside = ((tx["date"] > start) & (tx["date"] <= end)).to_numpy()
    return tx.loc[inside].groupby("customer_id")["amount"].sum()


def _payment_features(invoices: pd.DataFrame, cut: pd.Timestamp, months: int) -> pd.DataFrame:
    """Payment behaviour at the cut-off (:func:`portfolio_kit.payments.payment_profile`); no rows when no
    invoice due in the window has a known lateness yet (e.g. a client without invoices)."""
    columns = ["avg_days_late", "share_late", "payment_index"]
    none = pd.DataFrame(columns=columns, dtype=float)
    if "issue_date" in invoices.columns and not (invoices["issue_date"] <= cut).any():
        logger.info("invoices: none issued by %s; no payment features", cut.date())
        return none
    try:
        profile = payment_profile(invoices, cut, months=months, grace_days=_PAYMENT_GRACE_DAYS)
    except ValueError as exc:
        if "no invoice with a known lateness" not in str(exc):
            raise
        logger.info("invoices: none with a known lateness in the %d months before %s; no payment features",
                    months, cut.date())
        return none
    return profile.set_index("customer_id")[columns].astype(float)


def _attributes(customers: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    if "customer_id" not in customers.columns:
        raise ValueError(f"customers: missing column 'customer_id'; available: {list(customers.columns)}")
    if customers["customer_id"].duplicated().any():
        raise ValueError(f"customers: duplicated customer_id, e.g. "
                         f"{customers.loc[customers['customer_id'].duplicated(), 'customer_id'].iloc[0]!r}")
    keep = [c for c in attributes if c in customers.columns and customers[c].notna().any()]
    return customers.set_index("customer_id")[keep]
