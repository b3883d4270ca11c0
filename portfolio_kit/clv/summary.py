"""RFM summary per customer: the input of every probabilistic CLV model.

Definitions (Fader, Hardie & Lee 2005), with time counted in whole calendar *periods*:

- ``frequency``: number of periods with a purchase, minus one (repeat purchase periods; purchases in the
  same period are merged into one);
- ``recency``: periods from the first to the last purchase period;
- ``T``: periods from the first purchase period to the period of ``observation_end``;
- ``monetary_value``: mean value of the repeat purchase periods (the first one excluded), 0 without repeats.

Periods are calendar days (``"D"``), weeks Monday-Sunday (``"W"``), months (``"M"``) or quarters (``"Q"``).
``recency`` and ``T`` are divided by ``period_multiplier``: ``period="D", period_multiplier=7`` measures in
weeks at daily resolution, the convention of the published CDNOW summaries and of lifetimes'
``summary_data_from_transaction_data(freq="D", freq_multiplier=7)``, which this function reproduces exactly
for days and weeks.

Returns rule
------------
A row with a negative value (a return or credit note) is never a purchase: it creates no period and
changes no ``frequency``, ``recency`` or ``T``. With ``returns="net"`` (default) its value (and margin) is
subtracted from the customer's latest purchase period on or before its date, in the same window (a
credit note refers to an earlier sale), so ``monetary_value`` is net of returns; a return with no earlier
purchase in the window (e.g. a customer with returns only) is dropped. ``returns="ignore"`` drops all
returns. A period's net value can reach 0 or less; the Gamma-Gamma fit leaves such customers out.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
...                    "date": pd.to_datetime(["2024-01-03", "2024-01-04", "2024-02-20", "2024-03-01"]),
...                    "amount": [10.0, 5.0, 30.0, 8.0]})
>>> rfm_summary(tx, "2024-03-31", period="M")  # doctest: +NORMALIZE_WHITESPACE
             frequency  recency    T  monetary_value
customer_id
a                    1      1.0  2.0            30.0
b                    0      0.0  0.0             0.0
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from portfolio_kit.data.dates import PERIODS, as_date, check_period, day_number, period_end, period_ordinal

__all__ = ["rfm_summary", "PERIODS", "period_ordinal", "period_end"]

logger = logging.getLogger(__name__)

def summary_window(observation_end, calibration_end, period: str, period_multiplier: float,
                   returns: str) -> tuple[np.int64, np.int64]:
    """Check :func:`rfm_summary`'s arguments (every engine does first); the observation and calibration ends
    as day numbers (the calibration end is the observation end without a holdout)."""
    check_period(period)
    if returns not in ("net", "ignore"):
        raise ValueError(f"returns must be 'net' or 'ignore', got {returns!r}")
    if not period_multiplier > 0:
        raise ValueError(f"period_multiplier must be positive, got {period_multiplier!r}")
    obs_day = day_number(observation_end, "observation_end")
    cal_day = obs_day if calibration_end is None else day_number(calibration_end, "calibration_end")
    if cal_day > obs_day:
        raise ValueError(f"calibration_end ({calibration_end}) is after observation_end ({observation_end})")
    return obs_day, cal_day


class PurchasePeriods(NamedTuple):
    """Purchase periods of one time window, sorted by customer then period."""

    customer: np.ndarray  # customer code (position in the sorted customer ids)
    ordinal: np.ndarray  # period ordinal
    value: np.ndarray | None  # net value of the period
    margin: np.ndarray | None  # net margin of the period


def purchase_periods(code, ordinal, value, margin, window, returns: str) -> PurchasePeriods:
    """Merge the rows inside ``window`` (boolean mask) into one row per customer and period with a purchase."""
    is_return = window & (value < 0) if value is not None else np.zeros_like(window)
    buy = window & ~is_return
    span = np.int64(ordinal.max() - ordinal.min() + 1) if len(ordinal) else np.int64(1)
    base = ordinal.min() if len(ordinal) else 0
    key = code * span + (ordinal - base)
    periods, inverse = np.unique(key[buy], return_inverse=True)
    customer, ordinal_out = periods // span, periods % span + base

    netted = returns == "net" and is_return.any() and len(periods) > 0
    if netted:  # each return goes to the latest purchase period of the same customer on or before it
        pos = np.searchsorted(periods, key[is_return], side="right") - 1
        ok = (pos >= 0) & (customer[np.maximum(pos, 0)] == code[is_return])
        if (~ok).any():
            logger.info("%d returns with no earlier purchase in the window were dropped", (~ok).sum())

    def total(x):
        if x is None:
            return None
        out = np.bincount(inverse, weights=x[buy], minlength=len(periods))
        if netted:
            out += np.bincount(pos[ok], weights=x[is_return][ok], minlength=len(periods))
        return out

    return PurchasePeriods(customer, ordinal_out, total(value), total(margin))


def customer_groups(customer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and sizes of the runs of equal customer codes (input sorted by customer)."""
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    return starts, np.diff(np.r_[starts, len(customer)])


def checked_transactions(transactions, customer_col, date_col, value_col,
                         margin_col) -> tuple[str | None, str | None]:
    """Check the transactions' columns and types (a clear error for each problem); the value and margin
    columns to use (None for those absent)."""
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}")
    needed = [c for c in (customer_col, date_col, value_col) if c is not None]
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions: missing column(s) {missing}; expected the customer id, the purchase "
                         f"date and the value (set customer_col=, date_col=, value_col=)")
    if transactions.empty:
        raise ValueError("transactions is empty: the RFM summary needs at least one purchase")
    dates = transactions[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise ValueError(f"column {date_col!r} must hold dates (datetime64), got {dates.dtype}; "
                         f"convert it with pd.to_datetime first")
    if dates.isna().any():
        raise ValueError(f"column {date_col!r} has {int(dates.isna().sum())} missing dates")
    if transactions[customer_col].isna().any():
        raise ValueError(f"column {customer_col!r} has {int(transactions[customer_col].isna().sum())} missing ids")
    margin_col = (margin_col if margin_col in transactions.columns and transactions[margin_col].notna().any()
                  else None)  # an empty margin column (sales exported without margin) is no margin
    for col in (value_col, margin_col):
        if col is None:
            continue
        if not pd.api.types.is_numeric_dtype(transactions[col]):
            raise ValueError(f"column {col!r} must be numeric, got {transactions[col].dtype}")
        if transactions[col].isna().any():
            raise ValueError(f"column {col!r} has {int(transactions[col].isna().sum())} missing values")
    return value_col, margin_col


def rfm_summary(transactions: pd.DataFrame, observation_end, period: str = "W", calibration_end=None, *,
                period_multiplier: float = 1, returns: str = "net", customer_col: str = "customer_id",
                date_col: str = "date", value_col: str | None = "amount",
                margin_col: str | None = "margin") -> pd.DataFrame:
    """Frequency, recency, age and spend per customer, for any calendar period.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase (canonical transactions): ``customer_col``, ``date_col`` (datetime64) and
        ``value_col`` (negative = return or credit note, see the module's returns rule).
    observation_end : date
        Last day of the data (inclusive); later rows are ignored.
    period : {"D", "W", "M", "Q"}
        Calendar period: purchases in the same period are merged.
    calibration_end : date, optional
        Last day (inclusive) of the calibration window. The summary then describes the calibration window
        (``T`` up to ``calibration_end``) and adds the holdout columns for the days after it up to
        ``observation_end``. Choose a period's last day, so no period straddles the two windows.
    period_multiplier : float
        ``recency``, ``T`` and ``duration_holdout`` are divided by it (``period="D"``, 7: weeks at daily
        resolution).
    returns : {"net", "ignore"}
        Rule for negative values (module docstring).
    customer_col, date_col, value_col, margin_col : str
        Column names. ``value_col=None``: no spend columns. ``margin_col`` is used when present.

    Returns
    -------
    DataFrame indexed by customer id (sorted), one row per customer with a purchase in the (calibration)
    window: ``frequency`` (int), ``recency``, ``T``, ``monetary_value`` (float), ``margin_rate`` (total margin
    / total value, when a margin column is present; NaN if the value is not positive) and, with
    ``calibration_end``, ``frequency_holdout`` (purchase periods after ``calibration_end``),
    ``monetary_value_holdout`` (their mean net value, 0 if none) and ``duration_holdout`` (periods from
    ``calibration_end`` to ``observation_end`` / ``period_multiplier``). Customers whose first purchase
    falls after ``calibration_end`` are not in the table. ``attrs`` records ``period``,
    ``period_multiplier``, ``periods_per_month`` (used by :func:`~portfolio_kit.clv.customer_value`) and
    the dates.

    Raises
    ------
    ValueError
        Missing or malformed columns, empty input, unknown period, dates in the wrong order, or no purchase
        in the window.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow
    >>> s = rfm_summary(load_cdnow(), "1997-09-30", period="D", period_multiplier=7)
    >>> len(s), int(s["frequency"].sum())
    (2357, 2457)
    """
    obs_day, cal_day = summary_window(observation_end, calibration_end, period, period_multiplier, returns)
    value_col, margin_col = checked_transactions(transactions, customer_col, date_col, value_col, margin_col)

    code, ids = pd.factorize(transactions[customer_col], sort=True)
    code = code.astype(np.int64)
    dates = transactions[date_col].to_numpy()
    day = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    ordinal = period_ordinal(dates, period)
    value = None if value_col is None else transactions[value_col].to_numpy(dtype=float)
    margin = None if margin_col is None or value is None else transactions[margin_col].to_numpy(dtype=float)

    cal = purchase_periods(code, ordinal, value, margin, day <= cal_day, returns)
    if len(cal.customer) == 0:
        raise ValueError(f"no purchase on or before {pd.Timestamp(int(cal_day), unit='D').date()}: "
                         f"nothing to summarise")
    starts, count = customer_groups(cal.customer)
    first, last = cal.ordinal[starts], cal.ordinal[starts + count - 1]
    end_ordinal = period_ordinal(np.datetime64(int(cal_day), "D"), period)
    out = pd.DataFrame(
        {"frequency": count - 1, "recency": (last - first) / period_multiplier,
         "T": (end_ordinal - first) / period_multiplier},
        index=pd.Index(ids[cal.customer[starts]], name=customer_col))
    if cal.value is not None:
        total = np.add.reduceat(cal.value, starts)
        repeat = total - cal.value[starts]
        out["monetary_value"] = np.divide(repeat, count - 1, out=np.zeros(len(starts)), where=count > 1)
        if cal.margin is not None:
            margin_total = np.add.reduceat(cal.margin, starts)
            out["margin_rate"] = np.divide(margin_total, total, out=np.full(len(starts), np.nan),
                                           where=total > 0)
    if calibration_end is not None:
        hold = purchase_periods(code, ordinal, value, margin, (day > cal_day) & (day <= obs_day), returns)
        customers = cal.customer[starts]
        n = np.bincount(hold.customer, minlength=len(ids))[customers]
        out["frequency_holdout"] = n
        if hold.value is not None:
            spent = np.bincount(hold.customer, weights=hold.value, minlength=len(ids))[customers]
            out["monetary_value_holdout"] = np.divide(spent, n, out=np.zeros(len(n)), where=n > 0)
    return finish_summary(out, period, period_multiplier, end_ordinal, obs_day,
                          None if calibration_end is None else cal_day)


def finish_summary(out: pd.DataFrame, period: str, period_multiplier: float, end_ordinal, obs_day,
                   cal_day=None) -> pd.DataFrame:
    """:func:`rfm_summary`'s last step, shared by every engine: ``duration_holdout`` when there is a
    calibration end (``cal_day``, a day number) and the summary's attrs (period, multiplier, dates)."""
    if cal_day is not None:
        obs_ordinal = period_ordinal(np.datetime64(int(obs_day), "D"), period)
        out["duration_holdout"] = float(obs_ordinal - end_ordinal) / period_multiplier
    out.attrs.update(period=period, period_multiplier=period_multiplier,
                     periods_per_month=1.0 / (PERIODS[period] * period_multiplier),
                     observation_end=pd.Timestamp(int(obs_day), unit="D"),
                     calibration_end=None if cal_day is None else pd.Timestamp(int(cal_day), unit="D"))
    return out
