"""Date helpers shared by the analyses and the engines: one definition of a day, a day number, a calendar
period and a month step.

Day numbers count days since 1970-01-01 (int64); a missing date is :data:`NEVER`. Calendar periods are days
(``"D"``), weeks Monday to Sunday (``"W"``), months (``"M"``) and calendar quarters (``"Q"``).

Examples
--------
>>> add_months("2026-06-30", 4).date(), day_number("1970-01-08", "date")
(datetime.date(2026, 10, 31), np.int64(7))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NEVER", "PERIODS", "as_date", "day_number", "days", "as_timestamp", "add_months", "period_ordinal",
           "period_end", "check_period", "whole_number"]

def whole_number(value, name: str, unit: str = "", allow_none: bool = False) -> int | None:
    """``value`` as a whole number >= 1 of ``unit`` (months, days ...; ``None`` too with ``allow_none``), else a
    ``ValueError`` naming ``name``: the check of every horizon, window and lookback parameter."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a whole number{f' of {unit}' if unit else ''} >= 1"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


#: The day number of a date that never came (an invoice not paid): later than any real date.
NEVER = np.int64(10**9)

#: Supported calendar periods and their length in months (a month is 365.25 / 12 days).
PERIODS: dict[str, float] = {"D": 12 / 365.25, "W": 7 * 12 / 365.25, "M": 1.0, "Q": 3.0}


def as_date(value, name: str) -> pd.Timestamp:
    """``value`` as a day (midnight, no time zone), or a ValueError naming the argument."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a date, got {value!r}") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{name}: expected a date, got {value!r}")
    return stamp.normalize().tz_localize(None)


def day_number(value, name: str) -> np.int64:
    """The day number of one date (see :func:`as_date`)."""
    return np.datetime64(as_date(value, name), "D").astype(np.int64)


def days(values) -> np.ndarray:
    """Dates as int64 day numbers (NaT -> :data:`NEVER`); any datetime64 unit, dates before 1970 too."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype="datetime64[ns]")
    ticks = arr.view(np.int64)
    per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(arr.dtype)[0])
    out = ticks // per_day                                         # floor: dates before 1970 too
    out[ticks == np.iinfo(np.int64).min] = NEVER
    return out


def as_timestamp(day_numbers) -> pd.DatetimeIndex:
    """Inverse of :func:`days`."""
    return pd.DatetimeIndex(np.asarray(day_numbers, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]"))


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


def check_period(period: str) -> None:
    """A ValueError unless ``period`` is one of :data:`PERIODS`."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {sorted(PERIODS)}, got {period!r}")


def period_ordinal(dates, period: str) -> np.ndarray:
    """Integer index of the calendar period holding each date; consecutive periods differ by 1.

    Days and months count from 1970-01-01; weeks run Monday to Sunday (pandas' ``"W"``), quarters are
    calendar quarters.
    """
    check_period(period)
    if period in ("D", "W"):
        day = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
        return day if period == "D" else (day + 3) // 7  # 1970-01-01 is a Thursday
    months = np.asarray(dates, dtype="datetime64[M]").astype(np.int64)
    return months if period == "M" else months // 3


def period_end(ordinal, period: str) -> np.ndarray:
    """Last day (``datetime64[D]``) of the periods with the given :func:`period_ordinal`."""
    check_period(period)
    ordinal = np.asarray(ordinal, dtype=np.int64)
    if period == "D":
        return ordinal.astype("datetime64[D]")
    if period == "W":
        return (7 * ordinal + 3).astype("datetime64[D]")
    months = ordinal + 1 if period == "M" else 3 * (ordinal + 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
