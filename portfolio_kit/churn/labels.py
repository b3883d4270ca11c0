"""Purchase days, the churn horizon and the churn labels: who was active at a cut-off and who bought again in the
``H`` months after it (the boundaries are in :mod:`portfolio_kit.churn`)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from portfolio_kit.data.dates import add_months, as_date, day_number, days, whole_number

__all__ = ["DAYS_PER_MONTH", "churn_horizon", "churn_labels"]

logger = logging.getLogger(__name__)

#: Days in an average calendar month.
DAYS_PER_MONTH = 365.25 / 12


def whole_months(value, name: str, allow_none: bool = False) -> int | None:
    """``value`` as a whole number of months >= 1 (or ``None`` with ``allow_none``), else a ValueError."""
    return whole_number(value, name, "months", allow_none)


def checked_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """``transactions`` itself once its canonical ``customer_id``, ``date``, ``amount`` are there, typed and
    complete; a ValueError saying what is wrong otherwise."""
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


class PurchaseDays(NamedTuple):
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


def purchase_days(transactions: pd.DataFrame, end: pd.Timestamp | None = None) -> PurchaseDays:
    """Distinct (customer, purchase day) pairs dated on or before ``end``; a purchase is a positive amount."""
    buy = transactions["amount"].to_numpy(dtype=float) > 0
    if end is not None:
        buy &= (transactions["date"] <= end).to_numpy()
    code, ids = pd.factorize(transactions["customer_id"][buy], sort=True)
    day = days(transactions["date"].to_numpy()[buy])
    if not day.size:
        return PurchaseDays(pd.Index(ids), code.astype(np.int64), day)
    first, span = day.min(), np.int64(day.max() - day.min() + 1)
    key = np.sort(code.astype(np.int64) * span + (day - first))
    key = key[np.r_[True, key[1:] != key[:-1]]]  # distinct (np.unique hashes first: slower here)
    return PurchaseDays(pd.Index(ids), key // span, key % span + first)


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
    gaps = purchase_days(checked_transactions(transactions), end).gaps()[0]
    if not gaps.size:
        raise ValueError("transactions: no customer has two purchase days, so there is no inter-purchase time "
                         "to set the churn horizon from; pass horizon_months explicitly")
    q = float(np.quantile(gaps, quantile))
    months = max(1, int(np.ceil(q / DAYS_PER_MONTH - 1e-9)))
    logger.info("churn horizon: %.0f%% of %d inter-purchase times are <= %.0f days -> %d month(s)",
                100 * quantile, gaps.size, q, months)
    return months


def churn_labels(transactions: pd.DataFrame, cutoff, horizon_months: int, *, as_of=None,
                 active_months: int | None = 12) -> pd.DataFrame:
    """Who churned after ``cutoff``: active customers with no purchase in the next ``horizon_months``.

    Boundaries (:mod:`portfolio_kit.churn`): active = a purchase in ``(cutoff - active_months, cutoff]``;
    churned = no purchase in ``(cutoff, cutoff + horizon_months]``. A purchase on the cut-off day is history;
    one on the window's last day counts (not churned); one exactly ``active_months`` before the cut-off is too
    old.

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
    tx = checked_transactions(transactions)
    cut = as_date(cutoff, "cutoff")
    horizon = whole_months(horizon_months, "horizon_months")
    active = whole_months(active_months, "active_months", allow_none=True)
    end = add_months(cut, horizon)
    last_date = as_date(tx["date"].max() if as_of is None else as_of, "as_of")
    if end > last_date:
        raise ValueError(f"cutoff {cut.date()} + {horizon} month(s) = {end.date()} is after the end of the data "
                         f"({last_date.date()}): the labels are not known yet; choose a cut-off on or before "
                         f"{add_months(last_date, -horizon).date()}")
    bought = purchase_days(tx, end)
    past = bought.day <= day_number(cut, "cutoff")
    last = pd.Series(bought.day[past]).groupby(bought.code[past]).max()
    if active is not None:
        last = last[last > day_number(add_months(cut, -active), "cutoff")]
    if last.empty:
        raise ValueError(f"no customer active at cutoff {cut.date()} (a purchase in the "
                         f"{active or 'whole'} month(s) before it)")
    future = pd.Series(bought.day[~past]).groupby(bought.code[~past]).min().reindex(last.index)
    out = pd.DataFrame({"last_purchase": last.to_numpy().astype("datetime64[D]").astype("datetime64[ns]"),
                        "next_purchase": future.to_numpy().astype("datetime64[D]").astype("datetime64[ns]")},
                       index=pd.Index(bought.ids[last.index], name="customer_id"))
    out["churned"] = out["next_purchase"].isna().astype(int)
    out.attrs.update(cutoff=cut, window_end=end, horizon_months=horizon)
    return out
