"""Receivables at a date and over time: aging, DSO (standard, countback, best possible), ADD, CEI, exposure.

Formulas follow the Credit Research Foundation conventions; the ledger rules (as-of date, partial payments,
credit notes) are those of :mod:`portfolio_kit.payments.ledger`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from portfolio_kit.concentration import concentration_summary
from portfolio_kit.payments.ledger import (Ledger, as_timestamp, days, ledger, open_by_age, period_ends,
                                           segment_codes)

__all__ = ["aging_labels", "aging", "aging_history", "dso_standard", "dso_countback",
           "collection_effectiveness_index", "receivables_kpis", "exposure", "exposure_concentration",
           "cash_collected"]

logger = logging.getLogger(__name__)

DEFAULT_EDGES = (0, 30, 60, 90)


# --------------------------------------------------------------------------------------------- aging
def check_edges(edges: Sequence[int], origin: str) -> np.ndarray:
    """The aging buckets' day edges as an array, checked (every engine's first step)."""
    if origin not in ("due", "issue"):
        raise ValueError(f"origin must be 'due' (days past due) or 'issue' (days since the invoice), got {origin!r}")
    e = np.asarray(edges)
    if e.ndim != 1 or e.size == 0 or not np.issubdtype(e.dtype, np.integer) or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges: expected increasing whole numbers of days, e.g. (0, 30, 60, 90), got {edges!r}")
    if origin == "issue" and e[0] < 0:
        raise ValueError(f"edges: days since the invoice are never negative, got {edges!r}")
    return e.astype(np.int64)


def aging_labels(edges: Sequence[int] = DEFAULT_EDGES, origin: str = "due") -> list[str]:
    """Names of the aging buckets for ``edges``: bucket ``i`` holds ages in ``(edges[i-1], edges[i]]``.

    Examples
    --------
    >>> aging_labels()
    ['current', '1-30', '31-60', '61-90', '91+']
    >>> aging_labels((30, 60, 90), origin="issue")
    ['0-30', '31-60', '61-90', '91+']
    """
    e = check_edges(edges, origin)
    first = "current" if origin == "due" and e[0] == 0 else (f"0-{e[0]}" if origin == "issue" else f"<={e[0]}")
    return [first] + [f"{lo + 1}-{hi}" for lo, hi in zip(e[:-1], e[1:])] + [f"{e[-1] + 1}+"]


def _bucket_amounts(book: Ledger, grid: np.ndarray, group, n_groups: int, edges: np.ndarray,
                    origin: str) -> np.ndarray:
    """Open amounts ``(n_groups, grid.size, n_buckets)`` by age bucket at each grid day."""
    start = book.due if origin == "due" else book.issue
    if grid.size == 1:  # one date: each item's open amount falls in a single bucket, one bincount suffices
        t = grid[0]
        value = np.where(book.issue <= t, book.amount, 0.0) - np.where(book.pay <= t, book.paid, 0.0)
        bucket = np.searchsorted(edges, t - start, side="left")
        index = bucket if group is None else group * (edges.size + 1) + bucket
        amounts = np.bincount(index, weights=value, minlength=n_groups * (edges.size + 1)).astype(float, copy=False)
        return amounts.reshape(n_groups, 1, edges.size + 1)  # (bincount of nothing is int)
    return np.diff(open_by_age(book, grid, edges, start, group, n_groups), axis=-1, prepend=0.0)


def aging_table(amounts: np.ndarray, labels: list[str], groups: pd.Index, by: str | None) -> pd.DataFrame:
    """:func:`aging` from the bucket amounts at as_of: groups with nothing open dropped, customers by total."""
    out = _aging_frame(amounts, labels, groups, by, None)
    if by is not None:
        out = out[(out.drop(columns=by) != 0).any(axis=1)]
        if by == "customer_id":
            out = out.sort_values("total", ascending=False, kind="stable")
        out = out.reset_index(drop=True)
    return out


def _aging_frame(amounts: np.ndarray, labels: list[str], groups: pd.Index, by: str | None,
                 grid: np.ndarray | None) -> pd.DataFrame:
    n_groups, n_grid, n_buckets = amounts.shape
    out = pd.DataFrame(amounts.reshape(n_groups * n_grid, n_buckets), columns=labels)
    out["total"] = amounts.sum(axis=-1).ravel()
    if grid is not None:
        out.insert(0, "period_end", np.tile(as_timestamp(grid), n_groups))
    if by is not None:
        out.insert(0, by, np.repeat(groups.to_numpy(), n_grid))
    return out


def aging(invoices: pd.DataFrame, as_of, by: str | None = None, customers: pd.DataFrame | None = None,
          edges: Sequence[int] = DEFAULT_EDGES, origin: str = "due") -> pd.DataFrame:
    """Open receivables at ``as_of`` by age bucket: in total, per customer or per segment.

    The age of an open item is ``as_of - due_date`` (days past due, ``origin="due"``) or ``as_of - issue_date``
    (``origin="issue"``); with the default ``edges`` the buckets are current (not yet due), 1-30, 31-60, 61-90
    and 91+ days. Amounts are what is still open: partially paid invoices count their rest, open credit notes
    count negative in their own bucket (see :mod:`portfolio_kit.payments.ledger`).

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
        The date of the aging.
    by : str, optional
        ``None`` (one total row), ``"customer_id"``, or a column of ``customers`` (``"sector"``,
        ``"size_class"``, a segment ...).
    customers : DataFrame, optional
        Canonical customers; needed when ``by`` is one of their columns.
    edges : sequence of int
        Bucket limits in days; bucket ``i`` holds ages in ``(edges[i-1], edges[i]]``.
    origin : {"due", "issue"}
        Age counted from the due date or from the invoice date.

    Returns
    -------
    DataFrame
        The ``by`` column (when given), one column per bucket (:func:`aging_labels`) and ``total``. Groups with
        nothing open are left out (so with nothing open at all the total row holds zeros and a grouped table is
        empty); per customer, rows are sorted by ``total``, largest first.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2", "F3"], "customer_id": ["C1", "C1", "C2"],
    ...                     "amount": [100.0, 50.0, 80.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-20", "2024-03-01"]),
    ...                     "due_date": pd.to_datetime(["2024-01-20", "2024-03-20", "2024-03-31"])})
    >>> aging(inv, "2024-03-31")
       current  1-30  31-60  61-90  91+  total
    0     80.0  50.0    0.0  100.0  0.0  230.0
    """
    e = check_edges(edges, origin)
    book = ledger(invoices, as_of)
    book = book.subset(book.open_amount != 0)          # only open items count at as_of: group fewer rows
    group, groups = segment_codes(book, customers, by)
    amounts = _bucket_amounts(book, np.array([book.as_of]), group, len(groups), e, origin)
    return aging_table(amounts, aging_labels(edges, origin), groups, by)


def aging_history(invoices: pd.DataFrame, as_of, freq: str = "ME", by: str | None = None,
                  customers: pd.DataFrame | None = None, edges: Sequence[int] = DEFAULT_EDGES,
                  origin: str = "due") -> pd.DataFrame:
    """The aging of :func:`aging` at every period end from the first invoice to ``as_of`` (the last row).

    Each date sees the ledger as it was then: invoices issued by that date, payments received by it.

    Parameters
    ----------
    freq : str
        Period-end alias: ``"ME"`` (months), ``"QE"`` (quarters), ``"W"`` (weeks) ...
    by, customers, edges, origin
        As in :func:`aging`.

    Returns
    -------
    DataFrame
        ``[by,] period_end``, one column per bucket and ``total``; one row per period end (and group).

    Examples
    --------
    >>> history = aging_history(invoices, "2024-06-30")    # doctest: +SKIP
    >>> history.set_index("period_end")["91+"].tail(3)      # doctest: +SKIP
    """
    e = check_edges(edges, origin)
    book = ledger(invoices, as_of)
    group, groups = segment_codes(book, customers, by)
    grid = period_ends(book.issue.min(), book.as_of, freq)
    amounts = _bucket_amounts(book, grid, group, len(groups), e, origin)
    return _aging_frame(amounts, aging_labels(edges, origin), groups, by, grid)


# --------------------------------------------------------------------------------------------- DSO formulas
def dso_standard(ending_ar, sales, days):
    """Standard DSO: ``ending AR / credit sales of the period x days in the period``.

    With the *current* (not past due) AR in place of the ending AR this is the Best Possible DSO (BPDSO).
    Vectorised over arrays; ``NaN`` where sales are not positive.

    Examples
    --------
    >>> dso_standard(212_000, 250_000, 90)
    76.32
    """
    ending_ar, sales, days = (np.asarray(x, dtype=float) for x in (ending_ar, sales, days))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sales > 0, ending_ar / sales * days, np.nan)
    return float(out) if out.ndim == 0 else out


def _countback(ending_ar: np.ndarray, sales: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Countback DSO for rows of ``sales`` / ``days`` (newest period first); see :func:`dso_countback`."""
    cumulative = np.cumsum(sales, axis=1)
    exhausted = cumulative >= ending_ar[:, None] * (1 - 1e-12)   # rounding of the running sum
    k = np.argmax(exhausted, axis=1)
    rows = np.arange(sales.shape[0])
    before = np.where(k > 0, cumulative[rows, k - 1], 0.0)
    full_days = np.where(k > 0, np.cumsum(days, axis=1)[rows, k - 1], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = full_days + days[rows, k] * (ending_ar - before) / sales[rows, k]
    out = np.where(exhausted.any(axis=1), out, np.nan)
    return np.where(ending_ar <= 0, 0.0, out)


def dso_countback(ending_ar, sales, days=30):
    """Countback DSO: the days of sales, counted back from the newest period, that the ending AR represents.

    Walk back period by period from the newest: subtract the period's credit sales from the ending AR and add
    its days, until the AR is exhausted; the last period counts pro rata::

        DSO = sum of days of the fully absorbed periods + days_k x (AR left) / sales_k

    Parameters
    ----------
    ending_ar : float or array of shape (n,)
        Receivables at the end of the newest period.
    sales : array of shape (m,) or (n, m)
        Credit sales per period, **newest first**.
    days : float or array like ``sales``
        Days in each period.

    Returns
    -------
    float or array
        ``NaN`` when the sales given do not absorb the AR (history too short); 0 when the AR is not positive.

    Examples
    --------
    The Credit Research Foundation example: AR 212,000, sales 100,000 / 80,000 / 70,000 in 30-day months:

    >>> round(dso_countback(212_000, [100_000, 80_000, 70_000], 30), 1)
    73.7
    """
    scalar = np.ndim(ending_ar) == 0
    ar = np.atleast_1d(np.asarray(ending_ar, dtype=float))
    s = np.atleast_2d(np.asarray(sales, dtype=float))
    d = np.broadcast_to(np.asarray(days, dtype=float), s.shape)
    if s.shape[0] != ar.size:
        raise ValueError(f"sales: expected one row of periods per ending AR ({ar.size}), got shape {s.shape}")
    out = _countback(ar, s, d)
    return float(out[0]) if scalar else out


def collection_effectiveness_index(beginning_ar, sales, ending_ar, ending_current_ar, months=1):
    """Collection Effectiveness Index (CEI), in percent::

        CEI = (beginning AR + sales / N - ending total AR) / (beginning AR + sales / N - ending current AR) x 100

    with ``N`` the number of months in the period. 100 means everything collectable was collected.
    Vectorised; ``NaN`` where the denominator is 0.

    Examples
    --------
    >>> collection_effectiveness_index(100.0, 90.0, 110.0, 60.0, months=1)
    61.53846153846154
    """
    b, s, e, c, n = (np.asarray(x, dtype=float) for x in (beginning_ar, sales, ending_ar, ending_current_ar, months))
    collectable = b + s / n
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(collectable - c != 0, (collectable - e) / (collectable - c) * 100.0, np.nan)
    return float(out) if out.ndim == 0 else out


def receivables_kpis(invoices: pd.DataFrame, as_of, window: int = 3, freq: str = "ME") -> pd.DataFrame:
    """DSO, countback DSO, BPDSO, ADD and CEI at every period end, the last one being ``as_of``.

    Periods are calendar months by default (the last one runs from the previous month end to ``as_of``, so it
    may be partial); sales are the net amounts invoiced in a period (credit notes subtract), AR is what is
    open at the period end, current AR the part not yet past due. Over a window of ``window`` periods::

        DSO    = AR / window sales x window days
        BPDSO  = current AR / window sales x window days
        ADD    = DSO - BPDSO                     (average days delinquent)
        CEI    = (AR at window start + window sales / window - AR)
                 / (AR at window start + window sales / window - current AR) x 100
        countback DSO: :func:`dso_countback` of AR over the periods, newest first (no window)

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
        Last period end.
    window : int
        Periods of sales in the standard DSO, BPDSO and CEI (3 months = the usual quarterly DSO). Rows
        without a full window of history have ``NaN`` there.
    freq : str
        Period-end alias (``"ME"`` months, ``"QE"`` quarters ...).

    Returns
    -------
    DataFrame
        One row per period end: ``period_end``, ``days`` (in the period), ``sales``, ``ar``, ``current_ar``,
        ``past_due_ar``, ``window_sales``, ``window_days``, ``dso``, ``dso_countback``, ``bpdso``, ``add``,
        ``cei``.

    Examples
    --------
    >>> kpis = receivables_kpis(invoices, "2024-06-30")     # doctest: +SKIP
    >>> kpis.iloc[-1][["dso", "bpdso", "add", "cei"]]       # doctest: +SKIP
    """
    if int(window) != window or window < 1:
        raise ValueError(f"window: expected a whole number of periods >= 1, got {window!r}")
    window = int(window)
    book = ledger(invoices, as_of)
    grid = period_ends(book.issue.min(), book.as_of, freq)
    n = grid.size
    before_first = days(np.array([(as_timestamp(grid[:1])[0] - to_offset(freq)).to_datetime64()]))[0]
    period_days = np.diff(grid, prepend=before_first).astype(float)
    sales = np.bincount(np.searchsorted(grid, book.issue, side="left"), weights=book.amount, minlength=n)
    current, ar = open_by_age(book, grid, limits=(0,))[0].T

    def rolling(x):
        c = np.concatenate([[0.0], np.cumsum(x)])
        out = np.full(n, np.nan)
        out[window - 1:] = c[window:] - c[:-window]
        return out

    window_sales, window_days = rolling(sales), rolling(period_days)
    beginning = np.full(n, np.nan)
    beginning[window - 1:] = np.concatenate([[0.0], ar])[: n - window + 1]
    back = np.arange(n)[:, None] - np.arange(n)[None, :]           # row k: periods k, k-1, ..., newest first
    valid = back >= 0
    back_sales = np.where(valid, sales[np.clip(back, 0, None)], 0.0)
    back_days = np.where(valid, period_days[np.clip(back, 0, None)], 0.0)
    dso = dso_standard(ar, window_sales, window_days)
    bpdso = dso_standard(current, window_sales, window_days)
    return pd.DataFrame({
        "period_end": as_timestamp(grid), "days": period_days, "sales": sales, "ar": ar, "current_ar": current,
        "past_due_ar": ar - current, "window_sales": window_sales, "window_days": window_days, "dso": dso,
        "dso_countback": _countback(ar, back_sales, back_days), "bpdso": bpdso, "add": dso - bpdso,
        "cei": collection_effectiveness_index(beginning, window_sales, ar, current, window),
    })


# --------------------------------------------------------------------------------------------- cash
def cash_collected(invoices: pd.DataFrame, as_of, start=None) -> pd.Series:
    """Cash collected per customer: the amounts received on sales invoices from ``start`` (default: all) to
    ``as_of``, by payment date (a payment of unknown date counts as received by ``as_of``); credit notes move no
    cash and are left out. A Series ``cash`` indexed by ``customer_id`` (customers who paid nothing in the window
    have 0), for ranking customers by the cash they bring (ABC on cash flow).

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
    ...                     "due_date": pd.to_datetime(["2024-01-31", "2024-03-01", "2024-02-14"]),
    ...                     "amount": [100.0, 50.0, 80.0], "paid_date": pd.to_datetime(["2024-02-05", None, "2024-02-10"]),
    ...                     "paid_amount": [100.0, None, 60.0]})
    >>> cash_collected(inv, "2024-03-31").to_dict()
    {'a': 100.0, 'b': 60.0}
    """
    book = ledger(invoices, as_of)
    start_day = days(np.array([pd.Timestamp(start).to_datetime64()]))[0] if start is not None else None
    received = (book.amount > 0) & (book.pay <= book.as_of) & ((book.pay >= start_day) if start_day is not None
                                                               else True)
    cash = np.bincount(book.customer, weights=np.where(received, book.paid, 0.0), minlength=len(book.customer_ids))
    return pd.Series(cash, index=book.customer_ids, name="cash").sort_index()


# --------------------------------------------------------------------------------------------- exposure
def exposure(invoices: pd.DataFrame, customers: pd.DataFrame, as_of) -> pd.DataFrame:
    """Open receivables per customer against the credit limit.

    ``exposure`` is the open amount at ``as_of`` (net of partial payments and open credit notes),
    ``utilisation = exposure / credit_limit``, ``headroom = credit_limit - exposure``, ``over_limit`` when the
    exposure exceeds the limit. Without a limit (empty ``credit_limit``) utilisation and headroom are ``NaN``
    and the customer is not over limit; a limit of 0 with exposure gives infinite utilisation.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    customers : DataFrame
        Canonical customers (``customer_id``, ``credit_limit``); customers without invoices get exposure 0.
    as_of : date-like

    Returns
    -------
    DataFrame
        ``customer_id``, ``exposure``, ``past_due`` (part of the exposure past its due date),
        ``credit_limit``, ``utilisation``, ``headroom``, ``over_limit``; largest exposure first.

    Examples
    --------
    >>> table = exposure(invoices, customers, "2024-06-30")   # doctest: +SKIP
    >>> table[table["over_limit"]]                              # doctest: +SKIP
    """
    if "customer_id" not in customers.columns:
        raise ValueError(f"customers: missing column 'customer_id', got {list(customers.columns)}")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customers: 'customer_id' is not unique")
    book = ledger(invoices, as_of)
    open_amount = book.open_amount
    n = book.customer_ids.size
    per_customer = pd.DataFrame({
        "exposure": np.bincount(book.customer, weights=open_amount, minlength=n),
        "past_due": np.bincount(book.customer, weights=np.where(book.due < book.as_of, open_amount, 0.0), minlength=n),
    }, index=book.customer_ids)
    limits = customers.set_index("customer_id")
    limit = (limits["credit_limit"] if "credit_limit" in limits.columns else pd.Series(np.nan, index=limits.index))
    ids = limits.index.union(per_customer.index, sort=False)
    out = per_customer.reindex(ids, fill_value=0.0)
    out["credit_limit"] = limit.reindex(ids).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilisation"] = out["exposure"] / out["credit_limit"]
    out["headroom"] = out["credit_limit"] - out["exposure"]
    out["over_limit"] = (out["exposure"] > out["credit_limit"]).fillna(False).astype(bool)
    return (out.rename_axis("customer_id").reset_index()
            .sort_values("exposure", ascending=False, kind="stable").reset_index(drop=True))


def exposure_concentration(exposure_table: pd.DataFrame, **summary_options) -> pd.Series:
    """How concentrated the exposure is, and how much of it is over the credit limits.

    :func:`portfolio_kit.concentration.concentration_summary` of the customers' exposure (customers with a net
    credit balance are left out by its negative values rule), plus ``customers_over_limit``,
    ``exposure_over_limit`` (exposure of those customers) and ``amount_over_limit`` (the part above their
    limits).

    Parameters
    ----------
    exposure_table : DataFrame
        The result of :func:`exposure`.
    **summary_options
        Passed to ``concentration_summary`` (``top_n``, ``top_fractions``, ``thresholds``).
    """
    missing = [c for c in ("customer_id", "exposure", "credit_limit", "over_limit") if c not in exposure_table.columns]
    if missing:
        raise ValueError(f"exposure_table: missing column(s) {missing}; pass the result of exposure()")
    out = concentration_summary(exposure_table.set_index("customer_id")["exposure"], **summary_options)
    over = exposure_table[exposure_table["over_limit"]]
    out["customers_over_limit"] = float(len(over))
    out["exposure_over_limit"] = float(over["exposure"].sum())
    out["amount_over_limit"] = float((over["exposure"] - over["credit_limit"]).sum())
    return out.rename("exposure_concentration")
