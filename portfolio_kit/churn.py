"""Churn: who is leaving, measured three ways and validated on the client's own history.

A *cut-off* date splits time: what happened on or before it is known (features), what happens after it is
the outcome (labels). With ``H`` the horizon in months:

==================  ===================================================================================
history             transactions dated ``<= cutoff``; every feature uses only these (and invoices as
                    known at the cut-off, see :mod:`portfolio_kit.payments.ledger`)
active customer     at least one purchase in ``(cutoff - active_months, cutoff]`` (``active_months=None``:
                    any purchase by the cut-off)
label window        ``(cutoff, cutoff + H]``: the cut-off day itself is history, the last day is included
churned             an active customer with no purchase in the label window
==================  ===================================================================================

A *purchase* is a transaction with a positive amount; returns and credit notes never count as one. Months
are calendar months; a cut-off on a month's last day moves to the last day of the target month
(``2026-06-30`` + 4 months = ``2026-10-31``). The default horizon (:func:`churn_horizon`) is the 90th
percentile of the client's inter-purchase times: nine repeat orders in ten come sooner after the previous one.

Three scores of the same event (no purchase in the next ``H`` months):

- :class:`ChurnModel`: a statsmodels logit on the features of :func:`churn_features` (RFM, spend trend,
  regularity, tenure, payment behaviour, segment attributes), with odds ratios and per-customer drivers;
- :func:`no_purchase_probability`: the BG/NBD or MBG/NBD model of :mod:`portfolio_kit.clv`;
- a recency-only logit, the baseline that shows what the others add.

:func:`backtest_churn` trains at one cut-off and tests at a later one (AUC, Brier score, calibration, lift for
the three scores side by side); :func:`at_risk_customers` ranks the customers by churn probability x value at
stake, with the drivers in words; :func:`tenure_survival` (Kaplan-Meier) and :func:`cohort_retention` describe
retention. Figures are in :mod:`portfolio_kit.report.plots.churn`.

Examples
--------
>>> H = churn_horizon(tx, as_of)                                                         # doctest: +SKIP
>>> bt = backtest_churn(tx, add_months(as_of, -2 * H), add_months(as_of, -H), H, customers, invoices,
...                     as_of=as_of)                                                      # doctest: +SKIP
>>> bt.metrics[["score", "auc", "brier"]]                                                # doctest: +SKIP
>>> last = add_months(as_of, -H)                                                         # doctest: +SKIP
>>> model = ChurnModel().fit(churn_features(tx, last, customers, invoices),
...                          churn_labels(tx, last, H, as_of=as_of))                      # doctest: +SKIP
>>> at_risk_customers(model, churn_features(tx, as_of, customers, invoices), clv_values,
...                   customers)                                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.duration.survfunc import SurvfuncRight

from portfolio_kit import clv
from portfolio_kit.stats import scoring
from portfolio_kit.data.dates import as_date, period_ordinal
from portfolio_kit.payments import payment_profile
from portfolio_kit.segmentation import customer_summary
from portfolio_kit.report.texts import Texts

__all__ = ["CUSTOMER_ATTRIBUTES", "RELATIONSHIP_COLUMNS", "MODEL_FEATURES", "DEFAULT_CATEGORICAL", "SCORES",
           "add_months", "churn_horizon", "churn_labels", "churn_features", "ChurnModel", "no_purchase_probability",
           "ChurnBacktest", "backtest_churn", "at_risk_customers", "tenure_survival", "survival_at",
           "cohort_retention"]

logger = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12
_PACE_PRIOR_DAYS = 30.0  # pseudo-history of expected_orders_missed, so young customers are not judged on days
_PAYMENT_GRACE_DAYS = 5  # days after the due date before an invoice counts as late in the payment features

#: Customer-master columns carried into the features (when present and not empty).
CUSTOMER_ATTRIBUTES = ("customer_type", "sector", "region", "channel", "size_class")

#: Relationship indicators used when the customer master has them (numeric: complaints count, satisfaction
#: or NPS score). They are taken as they are in the master, i.e. assumed known at the cut-off.
RELATIONSHIP_COLUMNS = ("complaints", "satisfaction", "nps")

#: Numeric features of the default model and how each enters it: ``"log"`` = ``log(1 + max(x, 0))``
#: standardised (net amounts can be negative), ``"linear"`` = ``x`` standardised (odds ratios per standard
#: deviation), ``"flag"`` = 0/1 as it is (odds ratio of yes vs no). Features absent from the data are skipped.
MODEL_FEATURES: dict[str, str] = {
    "recency_days": "log", "frequency": "log", "tenure_days": "log", "expected_orders_missed": "linear",
    "one_purchase": "flag", "gap_cv": "linear", "spend_trend": "linear", "avg_order_value": "log",
    "avg_days_late": "linear", "share_late": "linear",
    **{c: "linear" for c in RELATIONSHIP_COLUMNS},
}

#: Segment attributes of the default model (treatment dummies against the most frequent level).
DEFAULT_CATEGORICAL = ("size_class", "sector", "channel", "customer_type")

#: Driver topics: the model terms whose log-odds contributions add up to one phrase.
_TOPICS = {"recency_days": "silence", "expected_orders_missed": "silence", "overdue_ratio": "silence",
           "frequency": "orders", "one_purchase": "orders",
           "tenure_days": "tenure", "gap_cv": "regularity", "spend_trend": "trend", "avg_order_value": "spend",
           "avg_days_late": "payment", "share_late": "payment"}

_UNKNOWN = "(unknown)"


# ------------------------------------------------------------------------------------------------ dates
def add_months(date, months: int) -> pd.Timestamp:
    """``date`` moved by whole calendar ``months`` (negative: back); a month's last day maps to the last day
    of the target month (``2026-06-30`` + 4 = ``2026-10-31``, ``2026-10-31`` - 4 = ``2026-06-30``).

    Examples
    --------
    >>> add_months("2026-06-30", 4).date(), add_months("2026-03-15", -1).date()
    (datetime.date(2026, 10, 31), datetime.date(2026, 2, 15))
    """
    stamp = as_date(date, "date")
    moved = stamp + pd.DateOffset(months=int(months))
    return moved + pd.offsets.MonthEnd(0) if stamp.is_month_end else moved


def _months(value, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a whole number of months >= 1{' or None' if allow_none else ''}, "
                         f"got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------------------ purchases
def _checked(transactions: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions: expected a DataFrame, got {type(transactions).__name__}")
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions: missing column(s) {missing}; expected the canonical customer_id, date, "
                         "amount")
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise ValueError(f"transactions: column 'date' must hold dates (datetime64), got {transactions['date'].dtype}")
    if not pd.api.types.is_numeric_dtype(transactions["amount"]):
        raise ValueError(f"transactions: column 'amount' must be numeric, got {transactions['amount'].dtype}")
    for col in ("customer_id", "date", "amount"):
        if transactions[col].isna().any():
            raise ValueError(f"transactions: column {col!r} has {int(transactions[col].isna().sum())} missing "
                             "value(s)")
    return transactions


class _Days(NamedTuple):
    """Distinct purchase days, sorted by customer then day, on integer codes."""

    ids: pd.Index  # customer id of each code (sorted)
    code: np.ndarray  # customer code per purchase day
    day: np.ndarray  # day number (days since 1970-01-01)

    def starts(self) -> np.ndarray:
        """Position of each customer's first purchase day."""
        return np.flatnonzero(np.r_[True, self.code[1:] != self.code[:-1]]) if self.code.size else self.code

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last purchase day of each customer code."""
        starts = self.starts()
        return self.day[starts], self.day[np.r_[starts[1:], self.code.size] - 1]

    def gaps(self) -> tuple[np.ndarray, np.ndarray]:
        """Days between consecutive purchase days of the same customer, and that customer's code."""
        same = self.code[1:] == self.code[:-1]
        return np.diff(self.day)[same].astype(float), self.code[1:][same]


def _day_number(date: pd.Timestamp) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def _purchase_days(transactions: pd.DataFrame, end: pd.Timestamp | None = None) -> _Days:
    """Distinct (customer, purchase day) pairs dated on or before ``end``."""
    buy = transactions["amount"].to_numpy(dtype=float) > 0
    if end is not None:
        buy &= (transactions["date"] <= end).to_numpy()
    code, ids = pd.factorize(transactions["customer_id"][buy], sort=True)
    day = transactions["date"].to_numpy()[buy].astype("datetime64[D]").astype(np.int64)
    if not day.size:
        return _Days(pd.Index(ids), code.astype(np.int64), day)
    first, span = day.min(), np.int64(day.max() - day.min() + 1)
    key = np.sort(code.astype(np.int64) * span + (day - first))
    key = key[np.r_[True, key[1:] != key[:-1]]]  # distinct (np.unique hashes first: slower here)
    return _Days(pd.Index(ids), key // span, key % span + first)


def churn_horizon(transactions: pd.DataFrame, as_of=None, quantile: float = 0.9) -> int:
    """Default churn horizon ``H`` in whole months, from the client's inter-purchase times.

    ``H = ceil(q / (365.25 / 12))`` with ``q`` the ``quantile`` of the days between consecutive purchase days
    of the same customer, over all repeat purchases by ``as_of``; at least 1 month. With the default 0.9,
    nine repeat orders in ten come within ``H`` months of the previous one, so ``H`` months without an order
    is unusual for a customer who is still buying.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``date``, ``amount``).
    as_of : date-like, optional
        Last date used (default: all rows).
    quantile : float
        Share of inter-purchase times the horizon covers.

    Raises
    ------
    ValueError
        No customer with two purchase days (no inter-purchase time to learn from).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"], "amount": [1.0] * 5,
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01", "2024-01-10",
    ...                                            "2024-01-20"])})
    >>> churn_horizon(tx, quantile=0.5)    # gaps 31, 90, 10 days: median 31 days -> 2 months
    2
    """
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile: expected a share in (0, 1], got {quantile!r}")
    end = None if as_of is None else as_date(as_of, "as_of")
    gaps = _purchase_days(_checked(transactions), end).gaps()[0]
    if not gaps.size:
        raise ValueError("transactions: no customer has two purchase days, so there is no inter-purchase time "
                         "to set the churn horizon from; pass horizon_months explicitly")
    q = float(np.quantile(gaps, quantile))
    months = max(1, int(np.ceil(q / DAYS_PER_MONTH - 1e-9)))
    logger.info("churn horizon: %.0f%% of %d inter-purchase times are <= %.0f days -> %d month(s)",
                100 * quantile, gaps.size, q, months)
    return months


# ------------------------------------------------------------------------------------------------ labels
def churn_labels(transactions: pd.DataFrame, cutoff, horizon_months: int, *, as_of=None,
                 active_months: int | None = 12) -> pd.DataFrame:
    """Who churned after ``cutoff``: active customers with no purchase in the next ``horizon_months``.

    Boundaries (module table): active = a purchase in ``(cutoff - active_months, cutoff]``; churned = no
    purchase in ``(cutoff, cutoff + horizon_months]``. A purchase on the cut-off day is history; one on the
    window's last day counts (not churned); one exactly ``active_months`` before the cut-off is too old.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    cutoff : date-like
    horizon_months : int
        ``H``; e.g. :func:`churn_horizon`.
    as_of : date-like, optional
        Last date of the data (default: the last transaction); the label window must end by then.
    active_months : int or None
        Activity window before the cut-off (``None``: any purchase by the cut-off).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (active customers, sorted): ``last_purchase``, ``next_purchase`` (first
        purchase in the label window, NaT if none) and ``churned`` (int 0/1). ``attrs`` holds ``cutoff``,
        ``window_end`` and ``horizon_months``.

    Raises
    ------
    ValueError
        The label window ends after ``as_of`` (outcome not known yet), no active customer, bad input.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [5.0, 5.0, 5.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-01-15", "2024-03-31", "2024-02-20", "2024-03-31"])})
    >>> churn_labels(tx, "2024-02-29", 1, as_of="2024-03-31")["churned"].to_dict()
    {'a': 0, 'b': 1}
    """
    tx = _checked(transactions)
    cut = as_date(cutoff, "cutoff")
    horizon = _months(horizon_months, "horizon_months")
    active = _months(active_months, "active_months", allow_none=True)
    end = add_months(cut, horizon)
    last_date = as_date(tx["date"].max() if as_of is None else as_of, "as_of")
    if end > last_date:
        raise ValueError(f"cutoff {cut.date()} + {horizon} month(s) = {end.date()} is after the end of the data "
                         f"({last_date.date()}): the labels are not known yet; choose a cut-off on or before "
                         f"{add_months(last_date, -horizon).date()}")
    days = _purchase_days(tx, end)
    past = days.day <= _day_number(cut)
    last = pd.Series(days.day[past]).groupby(days.code[past]).max()
    if active is not None:
        last = last[last > _day_number(add_months(cut, -active))]
    if last.empty:
        raise ValueError(f"no customer active at cutoff {cut.date()} (a purchase in the "
                         f"{active or 'whole'} month(s) before it)")
    future = pd.Series(days.day[~past]).groupby(days.code[~past]).min().reindex(last.index)
    out = pd.DataFrame({"last_purchase": last.to_numpy().astype("datetime64[D]").astype("datetime64[ns]"),
                        "next_purchase": future.to_numpy().astype("datetime64[D]").astype("datetime64[ns]")},
                       index=pd.Index(days.ids[last.index], name="customer_id"))
    out["churned"] = out["next_purchase"].isna().astype(int)
    out.attrs.update(cutoff=cut, window_end=end, horizon_months=horizon)
    return out


# ------------------------------------------------------------------------------------------------ features
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
    tx = _checked(transactions)
    cut = as_date(cutoff, "cutoff")
    active = _months(active_months, "active_months", allow_none=True)
    trend = _months(trend_months, "trend_months")
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
    days = _purchase_days(history)
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


# ------------------------------------------------------------------------------------------------ model
class ChurnModel:
    """P(churn in the next ``H`` months), a statsmodels logit on the features of :func:`churn_features`::

        logit P(churn) = b0 + sum_j b_j z_j + segment effects

    Each numeric feature ``x_j`` enters as set in ``numeric`` (default :data:`MODEL_FEATURES`):
    ``z = (t(x) - mean) / sd`` with ``t(x) = log(1 + max(x, 0))`` (``"log"``) or ``x`` (``"linear"``), mean
    and standard deviation of the training rows, a missing value counting as the mean (``z = 0``: no
    evidence either way); ``"flag"`` features enter as 0/1. Categorical features are treatment dummies against their
    most frequent training level (missing: ``"(unknown)"``; a level not seen in training scores as the
    reference). Features without variation in the training rows (one segment, a constant) are left out.

    Parameters
    ----------
    numeric : mapping or sequence of str, optional
        Numeric features and their transform (a sequence takes the transforms of :data:`MODEL_FEATURES`).
        Default: :data:`MODEL_FEATURES`, skipping those the data lack.
    categorical : sequence of str, optional
        Categorical features; default :data:`DEFAULT_CATEGORICAL`, skipping those the data lack.

    Attributes
    ----------
    result_ : statsmodels ``LogitResults``
    odds_ratios_ : DataFrame
        ``term``, ``scale`` (what one unit is), ``coef``, ``std_err``, ``z``, ``p_value``, ``odds_ratio`` and
        its 95% interval (:func:`portfolio_kit.stats.scoring.coefficient_table`).
    terms_ : list of str
        Design columns (without the constant).
    n_train_, event_rate_ : int, float

    Examples
    --------
    >>> features = churn_features(tx, cutoff, customers, invoices)                 # doctest: +SKIP
    >>> model = ChurnModel().fit(features, churn_labels(tx, cutoff, 4))             # doctest: +SKIP
    >>> model.odds_ratios_[["term", "scale", "odds_ratio", "p_value"]]              # doctest: +SKIP
    >>> model.predict(churn_features(tx, as_of, customers, invoices))              # doctest: +SKIP
    """

    def __init__(self, numeric: Mapping[str, str] | Sequence[str] | None = None,
                 categorical: Sequence[str] | None = None):
        self._optional = numeric is None, categorical is None
        if numeric is None:
            numeric = MODEL_FEATURES
        elif not isinstance(numeric, Mapping):
            unknown = [c for c in numeric if c not in MODEL_FEATURES]
            if unknown:
                raise ValueError(f"numeric: no default transform for {unknown}; pass a mapping "
                                 "{feature: 'log' | 'linear' | 'flag'}")
            numeric = {c: MODEL_FEATURES[c] for c in numeric}
        bad = {c: t for c, t in numeric.items() if t not in ("log", "linear", "flag")}
        if bad:
            raise ValueError(f"numeric: transforms must be 'log', 'linear' or 'flag', got {bad}")
        self.numeric = dict(numeric)
        self.categorical = tuple(DEFAULT_CATEGORICAL if categorical is None else categorical)

    # -------------------------------------------------------------------------------------- design
    def _transformed(self, features: pd.DataFrame, column: str) -> pd.Series:
        x = pd.to_numeric(features[column], errors="coerce").astype(float)
        return np.log1p(x.clip(lower=0)) if self.numeric[column] == "log" else x

    def _fit_design(self, features: pd.DataFrame) -> None:
        optional_numeric, optional_categorical = self._optional
        self._scale: dict[str, tuple[float, float]] = {}
        for col in self.numeric:
            if col not in features.columns:
                if optional_numeric:
                    continue
                raise ValueError(f"features: missing column {col!r}; build them with churn_features()")
            x = self._transformed(features, col)
            mean, sd = float(x.mean()), float(x.std(ddof=0))
            if not np.isfinite(sd) or sd == 0:
                logger.info("ChurnModel: %r has no variation in the training rows; left out", col)
                continue
            self._scale[col] = (0.0, 1.0) if self.numeric[col] == "flag" else (mean, sd)
        self.levels_: dict[str, list[str]] = {}
        for col in self.categorical:
            if col not in features.columns:
                if optional_categorical:
                    continue
                raise ValueError(f"features: missing column {col!r}; pass customers to churn_features()")
            counts = features[col].astype("string").fillna(_UNKNOWN).value_counts()
            if len(counts) < 2:
                logger.info("ChurnModel: %r has a single level (%s) in the training rows; left out", col,
                            counts.index[0])
                continue
            reference = counts.index[0]
            self.levels_[col] = [reference] + sorted(v for v in counts.index if v != reference)

    def _matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in (*self._scale, *self.levels_) if c not in features.columns]
        if missing:
            raise ValueError(f"features: missing column(s) {missing} the model was fitted with")
        X = pd.DataFrame(index=features.index)
        for col, (mean, sd) in self._scale.items():
            X[col] = ((self._transformed(features, col) - mean) / sd).fillna(0.0)
        for col, levels in self.levels_.items():
            values = features[col].astype("string").fillna(_UNKNOWN)
            unseen = ~values.isin(levels)
            if unseen.any():
                logger.warning("%s: %d row(s) with levels not seen in training (%s) scored as %r", col,
                               int(unseen.sum()), sorted(values[unseen].unique())[:3], levels[0])
            for level in levels[1:]:
                X[f"{col}[{level}]"] = (values == level).astype(float).to_numpy()
        return X

    def _scale_labels(self) -> dict[str, str]:
        labels = {"log": "per SD of log(1 + x)", "linear": "per SD", "flag": "yes vs no"}
        out = {col: labels[self.numeric[col]] for col in self._scale}
        out.update({f"{col}[{level}]": f"vs {levels[0]}" for col, levels in self.levels_.items()
                    for level in levels[1:]})
        return out

    # -------------------------------------------------------------------------------------- fit / predict
    def fit(self, features: pd.DataFrame, labels: pd.DataFrame | pd.Series) -> "ChurnModel":
        """Fit on the customers present in both ``features`` and ``labels`` (:func:`churn_labels` or a 0/1
        Series named by customer id).

        Raises
        ------
        ValueError
            No common customer, a single outcome (all churned or none), collinear features.
        """
        y = labels["churned"] if isinstance(labels, pd.DataFrame) else labels
        common = features.index.intersection(y.index)
        if common.empty:
            raise ValueError("features and labels have no customer in common; compute both at the same cut-off")
        train, y = features.loc[common], y.loc[common].astype(float)
        churned = int(y.sum())
        if churned in (0, len(y)):
            what = "all" if churned else "none"
            raise ValueError(f"{what} of the {len(y)} active customer(s) churned at this cut-off: the model "
                             "needs both churned and retained customers; choose another cut-off or horizon")
        self._fit_design(train)
        X = self._matrix(train)
        self.terms_ = list(X.columns)
        self._centre = X.mean()
        try:
            self.result_ = sm.Logit(y.to_numpy(), sm.add_constant(X, has_constant="add")).fit(
                disp=0, method="newton", maxiter=100)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"ChurnModel: the features {self.terms_} are collinear or separate churned from "
                             f"retained perfectly on these {len(y)} customers; drop some (numeric=, "
                             "categorical=) or use more data") from exc
        if not self.result_.mle_retvals.get("converged", True):
            logger.warning("ChurnModel: the optimiser did not converge (rare levels or separation?)")
        table = scoring.coefficient_table(self.result_, "odds_ratio")
        table.insert(1, "scale", table["term"].map(self._scale_labels()).fillna(""))
        self.odds_ratios_ = table
        self.n_train_, self.event_rate_ = len(y), float(y.mean())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise ValueError("ChurnModel: call fit() first")

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """Churn probability of each row of ``features`` (``churn_probability``, indexed like it)."""
        self._check_fitted()
        X = sm.add_constant(self._matrix(features), has_constant="add")
        return pd.Series(np.asarray(self.result_.predict(X)), index=features.index, name="churn_probability")

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each customer's log-odds of churn against the average training customer, by topic.

        ``b_j (x_j - mean_j)`` over the design columns, summed per topic: ``silence`` (recency, expected
        orders missed), ``orders`` (frequency, single purchase), ``tenure``, ``regularity``, ``trend``,
        ``spend``, ``payment``, one per categorical feature, and each other feature on its own. Positive
        values raise the churn risk above average; with the constant and ``b . mean`` they add up to the
        logit of :meth:`predict`.
        """
        self._check_fitted()
        X = self._matrix(features)
        coef = self.result_.params.drop("const")
        parts = (X - self._centre).to_numpy() * coef.reindex(X.columns).to_numpy()
        topic = np.array([_TOPICS.get(t.split("[")[0], t.split("[")[0]) for t in X.columns], dtype=object)
        names = pd.unique(topic)
        return pd.DataFrame(parts @ (topic[:, None] == names[None, :]).astype(float), index=features.index,
                            columns=names)

    def drivers(self, features: pd.DataFrame, top: int = 3, min_effect: float = 0.1,
                texts: Texts | None = None) -> pd.Series:
        """The ``top`` reasons raising each customer's churn risk most, in words, separated by ``"; "``: the
        topics of :meth:`contributions` adding at least ``min_effect`` to the log-odds (0.1: about +10% on
        the odds), largest first; ``""`` when none.

        The phrases are the catalogue's ``churn.driver.*``: in the language of ``texts`` (amounts with its
        currency, its decimal marks), else in English with numbers written plainly.

        Examples
        --------
        >>> model.drivers(features).iloc[0]                                   # doctest: +SKIP
        'no order for 5 months, usually orders monthly; spend down 60% on the previous 6 months'
        """
        effects = self.contributions(features)
        phrases = _phrases(features, effects.columns, texts)
        order = np.argsort(-effects.to_numpy(), axis=1, kind="stable")[:, :top]
        chosen_effect = np.take_along_axis(effects.to_numpy(), order, axis=1)
        chosen = np.take_along_axis(phrases.to_numpy(dtype=object), order, axis=1)
        text = pd.Series("", index=features.index, dtype=object)
        for k in range(chosen.shape[1]):  # loop over the top-k ranks, vectorised over customers
            part = pd.Series(np.where(chosen_effect[:, k] >= min_effect, chosen[:, k], ""), index=features.index)
            text = text + np.where((text != "") & (part != ""), "; ", "") + part
        return text.rename("drivers")


# ------------------------------------------------------------------------------------------------ words
# The phrases live in the catalogue (churn.yaml, ``churn.driver.*``); without ``texts`` they are English with
# numbers written plainly (``average order 1234``), with it in its language (``ordine medio EUR 1.234``).
def _words(texts: Texts | None) -> Texts:
    return texts or Texts("en")


def _say(texts: Texts | None, key: str, index: pd.Index, **fields) -> pd.Series:
    """The driver phrase ``churn.driver.<key>`` for every row, fields filled column-wise."""
    t = _words(texts)
    return t.fill(t.template(f"churn.driver.{key}"), index, **fields)


def _number(x: pd.Series, digits: int = 0, texts: Texts | None = None) -> pd.Series:
    """Numbers as text, rounded (vectorised); plainly without ``texts`` (missing values become ``"?"``),
    else the language's way."""
    if texts is not None:
        return texts.numbers(x, digits)
    rounded = x.astype(float).where(np.isfinite(x.astype(float))).round(digits)  # inf (e.g. 0 before) -> "?"
    text = (rounded if digits else rounded.astype("Int64")).astype("string")
    return text.fillna("?").astype(object)


def _duration_words(days: pd.Series, texts: Texts | None = None) -> pd.Series:
    """"12 days", "5 weeks", "7 months", "2.5 years" (in the language of ``texts``)."""
    d = days.astype(float)
    i = days.index
    return pd.Series(np.select(
        [d < 14, d < 61, d < 730],
        [_say(texts, "days", i, n=_number(d, 0, texts)), _say(texts, "weeks", i, n=_number(d / 7, 0, texts)),
         _say(texts, "months", i, n=_number(d / DAYS_PER_MONTH, 0, texts))],
        _say(texts, "years", i, n=_number(d / 365.25, 1, texts))), index=i)


def _rhythm_words(gap_days: pd.Series, texts: Texts | None = None) -> pd.Series:
    """"weekly", "every 2 weeks", "monthly", "every 3 months", "about once a year"."""
    g = gap_days.astype(float)
    i = gap_days.index
    return pd.Series(np.select(
        [g < 10, g < 21, g < 45, g < 335],
        [_say(texts, "weekly", i), _say(texts, "fortnightly", i), _say(texts, "monthly", i),
         _say(texts, "every_months", i, n=_number(g / DAYS_PER_MONTH, 0, texts))],
        _say(texts, "yearly", i)), index=i)


def _phrases(features: pd.DataFrame, topics, texts: Texts | None = None) -> pd.DataFrame:
    """One phrase per customer and topic, describing the customer's own values."""
    f = features
    i = f.index
    out = pd.DataFrame(index=i)
    col = lambda name: f[name] if name in f.columns else pd.Series(np.nan, index=i)  # noqa: E731
    say = lambda key, **fields: _say(texts, key, i, **fields)  # noqa: E731
    for topic in topics:
        if topic == "silence":
            recency = _duration_words(col("recency_days"), texts)
            phrase = say("silence", duration=recency, rhythm=_rhythm_words(col("mean_gap_days"), texts)).where(
                col("frequency") > 1, say("silence_single", duration=recency))
        elif topic == "orders":
            phrase = say("orders", n=_number(col("frequency"), 0, texts),
                         duration=_duration_words(col("tenure_days"), texts)).where(col("frequency") > 1,
                                                                                    say("orders_single"))
        elif topic == "tenure":
            phrase = say("tenure", duration=_duration_words(col("tenure_days"), texts))
        elif topic == "regularity":
            cv = col("gap_cv")
            phrase = pd.Series(np.select([cv.isna(), cv < 0.5, cv < 1], [
                say("rhythm_unknown"), say("regular"), say("fairly_irregular")], say("irregular")), index=i)
        elif topic == "trend":
            recent, previous = col("revenue_recent").clip(lower=0), col("revenue_previous").clip(lower=0)
            change = (recent / previous.where(previous > 0) - 1) * 100
            months = f.attrs.get("trend_months")
            over = "months" if months else "period"
            m = _number(pd.Series(float(months or 0), index=i), 0, texts)
            phrase = pd.Series(np.select(
                [(recent <= 0) & (previous <= 0), recent <= 0, previous <= 0, change < 0],
                [say(f"no_spend_both_{over}", months=m), say(f"no_spend_recent_{over}", months=m),
                 say(f"spend_only_recent_{over}", months=m),
                 say(f"spend_down_{over}", months=m, change=_number(-change, 0, texts))],
                say(f"spend_up_{over}", months=m, change=_number(change, 0, texts))), index=i)
        elif topic == "spend":
            amount = _number(col("avg_order_value"), 0, texts)
            phrase = say("spend", amount=amount if texts is None else texts.currency + " " + amount)
        elif topic == "payment":
            late = col("avg_days_late")
            phrase = pd.Series(np.select([late.isna(), late < 0.5], [say("no_payment_record"), say("on_time")],
                                         say("late", days=_number(late, 0, texts))), index=i)
        elif topic in f.columns:
            values = f[topic].astype("string").fillna(_words(texts)("churn.driver.unknown")).astype(str)
            phrase = say("attribute", attribute=_attribute(topic, texts),
                         value=values if texts is None else values.map({v: str(texts.label(v))
                                                                       for v in pd.unique(values)}))
        else:
            phrase = pd.Series(_attribute(topic, texts), index=i)
        out[topic] = phrase.astype(object)
    return out


def _attribute(name: str, texts: Texts | None) -> str:
    """A feature's name inside a sentence: ``size class`` (plain English) or its column label, lower case."""
    if texts is None:
        return name.replace("_", " ")
    label = texts.column(name)
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


# ------------------------------------------------------------------------------------------------ BTYD score
_PURCHASE_MODELS = {"bgnbd": (clv.BetaGeo, "BG/NBD"), "mbgnbd": (clv.ModifiedBetaGeo, "MBG/NBD")}


def no_purchase_probability(transactions: pd.DataFrame, cutoff, horizon_months: int,
                            model: str | clv.BetaGeo = "bgnbd", *, period: str = "D",
                            period_multiplier: float = 7) -> pd.DataFrame:
    """P(no purchase in the next ``horizon_months``) from a BG/NBD or MBG/NBD model fitted on the history.

    A customer alive at ``T`` drops out only right after a purchase, so no purchase in ``(T, T + t]`` means
    dead already or no Poisson event in ``t``; with the posterior ``lambda ~ Gamma(r + x, alpha + T)``::

        P(no purchase in t) = 1 - P(alive) [1 - ((alpha + T) / (alpha + T + t))^(r + x)]

    (FHL 2005 eq. 8 for a new customer, ``x = T = 0``), with ``x``, ``t_x``, ``T`` from
    :func:`portfolio_kit.clv.rfm_summary` of the transactions dated on or before ``cutoff``.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    cutoff : date-like
    horizon_months : int
    model : {"bgnbd", "mbgnbd"} or BetaGeo
        The model fitted on that summary (BG/NBD gives customers without repeat purchases P(alive) = 1, their
        risk then comes from the Poisson term alone; MBG/NBD lets them be inactive). A ``BetaGeo`` or
        ``ModifiedBetaGeo`` with parameters is used as it is (e.g. ``BetaGeo.from_params(...)``), its
        ``alpha`` in the summary's time unit.
    period, period_multiplier
        Time grid of the summary (default: days, in weeks).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (every customer with a purchase by the cut-off): ``probability_alive``,
        ``no_purchase_probability``; ``attrs["model"]`` is the model used.

    Examples
    --------
    >>> p = no_purchase_probability(tx, "2026-06-30", 4)                   # doctest: +SKIP
    """
    if not isinstance(model, clv.BetaGeo) and model not in _PURCHASE_MODELS:
        raise ValueError(f"model: expected one of {sorted(_PURCHASE_MODELS)} or a BetaGeo / ModifiedBetaGeo, "
                         f"got {model!r}")
    horizon = _months(horizon_months, "horizon_months")
    cut = as_date(cutoff, "cutoff")
    tx = _checked(transactions)
    summary = clv.rfm_summary(tx[(tx["date"] <= cut).to_numpy()], cut, period=period,
                              period_multiplier=period_multiplier, margin_col=None)
    fitted = model if isinstance(model, clv.BetaGeo) else _PURCHASE_MODELS[model][0]().fit(summary)
    r, alpha = fitted.params_["r"], fitted.params_["alpha"]
    t = horizon * summary.attrs["periods_per_month"]
    alive = fitted.probability_alive(summary)
    base = alpha + summary["T"]
    quiet_if_alive = np.exp((r + summary["frequency"]) * (np.log(base) - np.log(base + t)))
    out = pd.DataFrame({"probability_alive": alive, "no_purchase_probability": 1 - alive * (1 - quiet_if_alive)})
    out.attrs["model"] = fitted
    return out


# ------------------------------------------------------------------------------------------------ backtest
#: Names of the logit and the baseline in the validation tables (the third score is named after the purchase
#: model: ``"BG/NBD"`` or ``"MBG/NBD"``).
SCORES = {"logit": "logit model", "recency": "recency only"}


@dataclass
class ChurnBacktest:
    """Three churn scores trained at ``train_cutoff`` and tested on the customers active at ``test_cutoff``.

    Attributes
    ----------
    model, baseline : ChurnModel
        The logit on all features and the recency-only logit, fitted at ``train_cutoff``.
    scores : DataFrame
        Indexed by ``customer_id``: ``churned`` (outcome after ``test_cutoff``) and one probability column
        per score (``logit model``, ``recency only``, ``BG/NBD`` or ``MBG/NBD``).
    metrics : DataFrame
        One row per score: :func:`portfolio_kit.stats.scoring.classification_metrics` (AUC, Brier ...).
    calibration, lift : DataFrame
        :func:`portfolio_kit.stats.scoring.calibration_table` and :func:`~portfolio_kit.stats.scoring.lift_table` by
        ``score``.
    train_cutoff, test_cutoff : Timestamp
    horizon_months : int
    """

    model: ChurnModel
    baseline: ChurnModel
    scores: pd.DataFrame
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame
    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    horizon_months: int


def backtest_churn(transactions: pd.DataFrame, train_cutoff, test_cutoff, horizon_months: int,
                   customers: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None, *, as_of=None,
                   active_months: int | None = 12, purchase_model: str = "bgnbd", bins: int = 10,
                   groups: int = 10, **model_options) -> ChurnBacktest:
    """Train on ``train_cutoff``, test on ``test_cutoff``: would the ranking have worked?

    The logit and the recency-only baseline are fitted on the features at ``train_cutoff`` and the labels of
    the window after it, which must end by ``test_cutoff`` (so everything used was known then). The three
    scores are computed at ``test_cutoff`` (the BG/NBD-family model fitted on the history up to it) and
    compared with the labels of the window after it.

    Parameters
    ----------
    transactions, customers, invoices : DataFrame
        Canonical tables (customers and invoices optional).
    train_cutoff, test_cutoff : date-like
        Typically ``as_of - 2H`` and ``as_of - H`` months (:func:`add_months`).
    horizon_months : int
    as_of : date-like, optional
        End of the data (default: the last transaction).
    active_months : int or None
        Population at each cut-off (:func:`churn_labels`).
    purchase_model : {"bgnbd", "mbgnbd"}
    bins, groups : int
        Calibration bins and lift groups (10: deciles).
    **model_options
        Passed to :class:`ChurnModel` (``numeric=``, ``categorical=``).

    Raises
    ------
    ValueError
        Cut-offs in the wrong order or too close, label windows not yet observed, a single outcome at either
        cut-off (all customers churned or none).

    Examples
    --------
    >>> bt = backtest_churn(tx, "2025-12-31", "2026-05-31", 5, customers, invoices,
    ...                     as_of="2026-10-31")                                   # doctest: +SKIP
    >>> bt.metrics[["score", "auc", "brier"]]                                     # doctest: +SKIP
    """
    if purchase_model not in _PURCHASE_MODELS:
        raise ValueError(f"purchase_model: expected one of {sorted(_PURCHASE_MODELS)}, got {purchase_model!r}")
    train, test = as_date(train_cutoff, "train_cutoff"), as_date(test_cutoff, "test_cutoff")
    horizon = _months(horizon_months, "horizon_months")
    if add_months(train, horizon) > test:
        raise ValueError(f"train_cutoff {train.date()} + {horizon} month(s) is after test_cutoff {test.date()}: "
                         "the training labels would not be known at the test cut-off; move train_cutoff earlier")
    as_of = as_date(_checked(transactions)["date"].max() if as_of is None else as_of, "as_of")
    options = dict(active_months=active_months)
    train_labels = churn_labels(transactions, train, horizon, as_of=test, **options)
    test_labels = churn_labels(transactions, test, horizon, as_of=as_of, **options)
    churned = int(test_labels["churned"].sum())
    if churned in (0, len(test_labels)):
        raise ValueError(f"{'all' if churned else 'none'} of the {len(test_labels)} customer(s) active at "
                         f"test_cutoff {test.date()} churned: AUC and lift need both outcomes; choose another "
                         "cut-off or horizon")
    feature_options = dict(customers=customers, invoices=invoices, **options)
    train_features = churn_features(transactions, train, **feature_options)
    test_features = churn_features(transactions, test, **feature_options)
    model = ChurnModel(**model_options).fit(train_features, train_labels)
    baseline = ChurnModel(numeric=["recency_days"], categorical=()).fit(train_features, train_labels)
    name = _PURCHASE_MODELS[purchase_model][1]
    btyd = no_purchase_probability(transactions, test, horizon, purchase_model)
    test_features = test_features.loc[test_labels.index]
    scores = pd.DataFrame({"churned": test_labels["churned"], SCORES["logit"]: model.predict(test_features),
                           SCORES["recency"]: baseline.predict(test_features),
                           name: btyd["no_purchase_probability"].reindex(test_labels.index)})
    y = scores["churned"]
    names = [SCORES["logit"], SCORES["recency"], name]

    def by_score(table_of):  # one table per score, stacked, the score's name first
        table = pd.concat([table_of(y, scores[s]).assign(score=s) for s in names], ignore_index=True)
        return table[["score", *table.columns[:-1]]]

    metrics = by_score(scoring.classification_metrics)
    calibration = by_score(lambda t, p: scoring.calibration_table(t, p, bins))
    lift = by_score(lambda t, p: scoring.lift_table(t, p, groups))
    return ChurnBacktest(model, baseline, scores, metrics, calibration, lift, train, test, horizon)


# ------------------------------------------------------------------------------------------------ at risk
def at_risk_customers(model: ChurnModel, features: pd.DataFrame, value_at_stake: pd.Series | None = None,
                      customers: pd.DataFrame | None = None, top_drivers: int = 3,
                      min_effect: float = 0.1, texts: Texts | None = None) -> pd.DataFrame:
    """Customers ranked by the value they put at risk, with the reasons in words::

        value_at_risk = churn_probability x value_at_stake

    The value at stake is the customer's expected value, typically the ``clv`` column of
    :func:`portfolio_kit.clv.customer_value` (discounted expected margin over its horizon). That value is
    already weighted by P(alive), so customers the purchase model considers gone carry little value at risk:
    the list puts first the valuable customers that are still there and slipping.

    Parameters
    ----------
    model : ChurnModel
        Fitted (typically at the last cut-off whose labels are known: ``as_of - H``).
    features : DataFrame
        :func:`churn_features` at the date of the ranking (``as_of``).
    value_at_stake : Series, optional
        Indexed by customer id. Without it the list is ranked by churn probability.
    customers : DataFrame, optional
        Canonical customers, for the ``name`` column.
    top_drivers, min_effect, texts
        Reasons per customer and their language (:meth:`ChurnModel.drivers`).

    Returns
    -------
    DataFrame
        ``risk_rank``, ``customer_id``, [``name``], ``churn_probability``, [``value_at_stake``,
        ``value_at_risk``], ``drivers``, ``recency_days``, ``frequency``, ``mean_gap_days``; highest value at
        risk first (customers without a value last).

    Examples
    --------
    >>> now = churn_features(tx, as_of, customers)                                     # doctest: +SKIP
    >>> risk = at_risk_customers(model, now, values["clv"], customers)                 # doctest: +SKIP
    >>> risk[["name", "value_at_risk", "drivers"]].head()                              # doctest: +SKIP
    """
    out = pd.DataFrame({"churn_probability": model.predict(features)})
    sort = "churn_probability"
    if value_at_stake is not None:
        if not isinstance(value_at_stake, pd.Series) or not pd.api.types.is_numeric_dtype(value_at_stake):
            raise ValueError("value_at_stake: expected a numeric Series indexed by customer id, e.g. the 'clv' "
                             "column of clv.customer_value()")
        out["value_at_stake"] = value_at_stake.reindex(out.index).astype(float)
        out["value_at_risk"] = out["churn_probability"] * out["value_at_stake"]
        sort = "value_at_risk"
    out["drivers"] = model.drivers(features, top_drivers, min_effect, texts)
    out = out.join(features[["recency_days", "frequency", "mean_gap_days"]])
    if customers is not None and "name" in customers.columns:
        out.insert(0, "name", customers.set_index("customer_id")["name"].reindex(out.index))
    out = out.sort_values(sort, ascending=False, na_position="last", kind="stable").rename_axis("customer_id")
    out = out.reset_index()
    out.insert(0, "risk_rank", np.arange(1, len(out) + 1))
    return out


# ------------------------------------------------------------------------------------------------ retention
def tenure_survival(transactions: pd.DataFrame, as_of, horizon_months: int, customers: pd.DataFrame | None = None,
                    by: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier curves of customer tenure: the share of customers still buying ``t`` months after their
    first purchase.

    A customer's tenure runs from the first to the last purchase; it has ended (an event) when the customer
    has not bought in the ``horizon_months`` up to ``as_of`` (the churn rule), otherwise it is right-censored
    at the last purchase (still running). ``S(t) = prod over t_j <= t of (1 - d_j / n_j)`` (statsmodels
    ``SurvfuncRight``); the 95% band is pointwise, ``S +- 1.96 se`` (Greenwood), clipped to [0, 1]. Customers
    with a single purchase day that churned end at 0, so ``S`` drops there by their share.

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
    horizon = _months(horizon_months, "horizon_months")
    days = _purchase_days(_checked(transactions), end)
    if not days.day.size:
        raise ValueError(f"transactions: no purchase on or before {end.date()}")
    first, last = days.bounds()
    table = pd.DataFrame({"duration": (last - first) / DAYS_PER_MONTH,
                          "churned": (last <= _day_number(add_months(end, -horizon))).astype(int)},
                         index=days.ids)
    groups = [("all", table)]
    if by is not None:
        if customers is None or by not in customers.columns:
            raise ValueError(f"by: {by!r} must be a column of customers (pass customers=)")
        label = customers.set_index("customer_id")[by].astype("string").reindex(table.index).fillna(_UNKNOWN)
        groups = list(table.groupby(label.to_numpy(), sort=True))
    curves = []
    for name, part in groups:  # one curve per segment (a handful)
        duration = part["duration"].to_numpy(float)
        fit = SurvfuncRight(duration, part["churned"].to_numpy(int))
        times, at_risk, events = np.r_[0.0, fit.surv_times], np.r_[len(part), fit.n_risk], np.r_[0, fit.n_events]
        prob, se = np.r_[1.0, fit.surv_prob], np.r_[0.0, fit.surv_prob_se]
        longest = duration.max()
        if longest > times[-1]:  # follow-up continues after the last churn: the curve runs on, flat
            times, prob, se = np.r_[times, longest], np.r_[prob, prob[-1]], np.r_[se, se[-1]]
            at_risk, events = np.r_[at_risk, (duration >= longest).sum()], np.r_[events, 0]
        curve = pd.DataFrame({"tenure_months": times, "survival": prob, "ci_low": np.clip(prob - 1.96 * se, 0, 1),
                              "ci_high": np.clip(prob + 1.96 * se, 0, 1), "at_risk": at_risk.astype(int),
                              "churned": events.astype(int)})
        if by is not None:
            curve.insert(0, by, name)
        curves.append(curve)
    return pd.concat(curves, ignore_index=True)


def survival_at(curves: pd.DataFrame, months: Sequence[float] = (3, 6, 12, 24)) -> pd.DataFrame:
    """Share of customers still buying at given tenures, read off :func:`tenure_survival` curves (the last
    step at or before each tenure; NaN beyond the longest tenure of a curve).

    Returns
    -------
    DataFrame
        One row per curve (``by`` value, or ``all``) and one column per tenure (``"12 months"``), plus
        ``customers``.
    """
    known = {"tenure_months", "survival", "ci_low", "ci_high", "at_risk", "churned"}
    by = [c for c in curves.columns if c not in known]
    label = curves[by[0]] if by else pd.Series("all", index=curves.index)
    rows = {}
    for name, curve in curves.groupby(label.to_numpy(), sort=True):
        t, s = curve["tenure_months"].to_numpy(), curve["survival"].to_numpy()
        pos = np.searchsorted(t, np.asarray(months, dtype=float), side="right") - 1
        value = np.where(np.asarray(months) <= t.max(), s[np.clip(pos, 0, None)], np.nan)
        rows[name] = {"customers": int(curve["at_risk"].iloc[0]),
                      **{f"{m:g} month{'' if m == 1 else 's'}": v for m, v in zip(months, value)}}
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
    days = _purchase_days(_checked(transactions), end)
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
