"""How customers pay: days late per invoice, late-payment shares per month, payment profiles and index.

An invoice's *days late* is ``paid_date - due_date`` (negative when paid early). Still-open invoices are never
counted as paid: their lateness is only known to be at least ``as_of - due_date``. A measure asking "more than
``x`` days late?" therefore uses the invoices due on or before ``as_of - x``, whose answer is known whether
they are paid or not (an open one is then certainly more than ``x`` days late); invoices due later are left
out, paid or not, because keeping only the paid ones would favour punctual payers. Credit notes and invoices
paid in full on an unknown date are left out (see :mod:`portfolio_kit.payments.ledger`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.payments.ledger import Ledger, as_timestamp, days, ledger, period_ends, with_segment

__all__ = ["days_late", "late_payment_shares", "payment_index", "payment_profile", "PAYMENT_INDEX_SCALE",
           "PROFILES"]

#: Days beyond terms -> payment index points, modelled on the published PAYDEX scale of Dun & Bradstreet
#: (100 anticipates, 90 discounts, 80 prompt, 70 = 15 days beyond terms, 60 = 22, 50 = 30, 40 = 60, 30 = 90,
#: 20 = 120); the early-payment and 120+ anchors are this kit's. Linear in between, flat outside.
PAYMENT_INDEX_SCALE = pd.DataFrame({"days_late": [-20, -10, 0, 15, 22, 30, 60, 90, 120, 180],
                                    "index": [100, 90, 80, 70, 60, 50, 40, 30, 20, 1]})

#: Payment profiles, from best to worst, then the customers with too little history to tell.
PROFILES = ["on time", "occasionally late", "chronically late", "insufficient history"]


def lateness(book: Ledger) -> tuple[np.ndarray, np.ndarray]:
    """Entries with a lateness (paid or open invoices) and their days late: actual when paid, the lower
    bound ``as_of - due`` when open."""
    known = book.is_paid | book.is_open
    return known, np.where(book.is_paid, book.pay - book.due, book.as_of - book.due)


def _resolved(book: Ledger, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Entries for which "more than ``threshold`` days late?" is answered at ``as_of`` (due by
    ``as_of - threshold``), and their days late (the lower bound for open ones)."""
    known, late = lateness(book)
    return known & (book.due <= book.as_of - threshold), late


def _window(book: Ledger, months: int | None) -> np.ndarray:
    """Entries due in the ``months`` months up to ``as_of`` (all due by ``as_of`` when ``None``)."""
    if months is None:
        return book.due <= book.as_of
    if int(months) != months or months < 1:
        raise ValueError(f"months: expected a whole number of months >= 1 or None, got {months!r}")
    start = days(np.array([(as_timestamp([book.as_of])[0] - pd.DateOffset(months=int(months))).to_datetime64()]))[0]
    return (book.due > start) & (book.due <= book.as_of)


def days_late(invoices: pd.DataFrame, as_of, customers: pd.DataFrame | None = None,
              by: str | None = None) -> pd.DataFrame:
    """Days late of every invoice paid by ``as_of``.

    ``days_late = paid_date - due_date`` (negative: paid early), ``days_to_pay = paid_date - issue_date``.
    Open invoices are not here (they are not paid yet), nor are credit notes; partially paid invoices are, by
    the date of their payment (see :mod:`portfolio_kit.payments.ledger`).

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
        Payments after it are not yet made.
    customers : DataFrame, optional
        Canonical customers, to add their ``by`` column.
    by : str, optional
        A column of ``customers`` to add (``"size_class"``, ``"sector"``, a segment ...).

    Returns
    -------
    DataFrame
        ``invoice_id``, ``customer_id``, ``issue_date``, ``due_date``, ``paid_date``, ``amount``,
        ``days_to_pay``, ``days_late``, ``late_30`` (more than 30 days late) and ``by`` when given.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C1"], "amount": [100.0, 50.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...                     "due_date": pd.to_datetime(["2024-01-31", "2024-03-02"]),
    ...                     "paid_date": pd.to_datetime(["2024-03-10", pd.NaT])})
    >>> days_late(inv, "2024-03-31")[["invoice_id", "days_to_pay", "days_late", "late_30"]]
      invoice_id  days_to_pay  days_late  late_30
    0         F1           69         39     True
    """
    book = ledger(invoices, as_of)
    rows = book.rows[book.is_paid]
    out = invoices.iloc[rows][["invoice_id", "customer_id", "issue_date", "due_date", "paid_date", "amount"]]
    out = out.reset_index(drop=True)
    out["days_to_pay"] = book.pay[book.is_paid] - book.issue[book.is_paid]
    out["days_late"] = book.pay[book.is_paid] - book.due[book.is_paid]
    out["late_30"] = out["days_late"] > 30
    return with_segment(out, customers, by)


def late_payment_shares(invoices: pd.DataFrame, as_of, threshold: int = 30, freq: str = "ME") -> pd.DataFrame:
    """Per month of the due date: share of invoices, of amount and of customers paid more than ``threshold``
    days late.

    Invoices are grouped by the period their due date falls in. An invoice is late when paid more than
    ``threshold`` days after its due date or still open more than ``threshold`` days after it; only invoices
    due by ``as_of - threshold`` are counted, so that every one has a known answer (the module's rule: the
    last period ends at ``as_of - threshold`` and may be partial). A customer is late in a period when any of its invoices due then is.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
    threshold : int
        Days beyond the due date that make an invoice late (30: "severe delays").
    freq : str
        Period-end alias (``"ME"`` months, ``"QE"`` quarters).

    Returns
    -------
    DataFrame
        One row per period: ``period_end``, ``invoices``, ``invoices_late``, ``share_invoices_late``,
        ``amount``, ``amount_late``, ``share_amount_late``, ``customers``, ``customers_late``,
        ``share_customers_late``.

    Examples
    --------
    >>> trend = late_payment_shares(invoices, "2024-06-30")               # doctest: +SKIP
    >>> trend.set_index("period_end")["share_invoices_late"].tail(12)   # doctest: +SKIP
    """
    book = ledger(invoices, as_of)
    resolved, late_days = _resolved(book, threshold)
    if not resolved.any():
        raise ValueError(f"invoices: none due by {threshold} days before as_of {pd.Timestamp(as_of).date()}; "
                         "the late shares are not known yet")
    late = resolved & (late_days > threshold)
    grid = period_ends(book.due[resolved].min(), book.as_of - threshold, freq)
    n = grid.size
    period = np.searchsorted(grid, book.due, side="left")

    def count(mask, weights=None):
        return np.bincount(period[mask], weights=None if weights is None else weights[mask], minlength=n)

    def customers(mask):
        pairs = np.unique(book.customer[mask].astype(np.int64) * n + period[mask])
        return np.bincount(pairs % n, minlength=n)

    out = pd.DataFrame({"period_end": as_timestamp(grid), "invoices": count(resolved), "invoices_late": count(late),
                        "amount": count(resolved, book.amount), "amount_late": count(late, book.amount),
                        "customers": customers(resolved), "customers_late": customers(late)})
    for what in ("invoices", "amount", "customers"):
        out.insert(out.columns.get_loc(f"{what}_late") + 1, f"share_{what}_late",
                   out[f"{what}_late"] / out[what].where(out[what] > 0))
    return out


def _index_points(late_days: np.ndarray) -> np.ndarray:
    return np.interp(late_days, PAYMENT_INDEX_SCALE["days_late"], PAYMENT_INDEX_SCALE["index"])


def payment_index(invoices: pd.DataFrame, as_of, months: int | None = 12) -> pd.DataFrame:
    """A payment index per customer, 1 (pays 180+ days beyond terms) to 100 (pays well ahead of terms).

    Each invoice due in the last ``months`` months scores points by its days late on
    :data:`PAYMENT_INDEX_SCALE` (80 = paid on the due date, 50 = 30 days late, 20 = 120 days late), in the
    manner of the indices that business-information providers publish (e.g. the PAYDEX); the customer's index
    is the amount-weighted mean of its invoices' points::

        index = sum_i amount_i x points(days_late_i) / sum_i amount_i

    Open invoices already due score by their days past due so far (their index can only fall); invoices not
    yet due are left out. The scale is this kit's reading of the published one, not a
    provider's figure.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
    months : int or None
        Window of due dates (``None``: all history).

    Returns
    -------
    DataFrame
        ``customer_id``, ``payment_index``, ``invoices`` and ``amount`` scored; customers without a scored
        invoice in the window are not listed.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C1"], "amount": [100.0, 300.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...                     "due_date": pd.to_datetime(["2024-01-31", "2024-03-01"]),
    ...                     "paid_date": pd.to_datetime(["2024-01-31", "2024-03-31"])})
    >>> payment_index(inv, "2024-03-31")["payment_index"].round(1).tolist()   # (100 x 80 + 300 x 50) / 400
    [57.5]
    """
    book = ledger(invoices, as_of)
    scored, late_days = _resolved(book, 0)
    return _per_customer_index(book, scored & _window(book, months), late_days)


def _per_customer_index(book: Ledger, mask: np.ndarray, late_days: np.ndarray) -> pd.DataFrame:
    n = book.customer_ids.size
    code = book.customer[mask]
    amount = np.bincount(code, weights=book.amount[mask], minlength=n)
    points = np.bincount(code, weights=book.amount[mask] * _index_points(late_days[mask]), minlength=n)
    count = np.bincount(code, minlength=n)
    keep = count > 0
    return pd.DataFrame({"customer_id": book.customer_ids[keep], "payment_index": points[keep] / amount[keep],
                         "invoices": count[keep], "amount": amount[keep]})


def payment_profile(invoices: pd.DataFrame, as_of, months: int | None = 12, grace_days: int = 5,
                    min_invoices: int = 3, occasional_share: float = 0.10, chronic_share: float = 0.50,
                    chronic_days: float = 30.0, worsening_days: float = 15.0) -> pd.DataFrame:
    """Per customer: how often and how late it pays, whether it is getting worse, and its payment profile.

    Over the invoices due in the last ``months`` months and at least ``grace_days`` before ``as_of``, an invoice
    is *late* when paid (or still open) more than ``grace_days`` after its due date.

    Rules, applied in this order:

    - ``"insufficient history"``: fewer than ``min_invoices`` invoices;
    - ``"chronically late"``: ``share_late >= chronic_share`` or ``avg_days_late > chronic_days``;
    - ``"occasionally late"``: ``share_late > occasional_share``;
    - ``"on time"``: otherwise.

    ``avg_days_late`` is amount-weighted, early payment counting as 0 days::

        avg_days_late = sum_i amount_i x max(days_late_i, 0) / sum_i amount_i

    ``days_late_trend`` is the least-squares slope of days late against the due date, in days per year (NaN
    with fewer than ``min_invoices`` invoices or a single due date); ``worsening`` when it exceeds
    ``worsening_days``. ``payment_index`` is that of :func:`payment_index` over the same window.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
    months : int or None
        Window of due dates (``None``: all history).
    grace_days, min_invoices, occasional_share, chronic_share, chronic_days, worsening_days
        Thresholds of the rules above.

    Returns
    -------
    DataFrame
        ``customer_id``, ``invoices``, ``invoices_late``, ``share_late``, ``amount``, ``avg_days_late``,
        ``max_days_late``, ``days_late_trend``, ``worsening``, ``payment_index``, ``profile`` (ordered
        categorical of :data:`PROFILES`); worst profile first, then by ``avg_days_late``.

    Examples
    --------
    >>> profiles = payment_profile(invoices, "2024-06-30")        # doctest: +SKIP
    >>> profiles["profile"].value_counts()                         # doctest: +SKIP
    """
    book = ledger(invoices, as_of)
    resolved, late_days = _resolved(book, grace_days)
    mask = resolved & _window(book, months)
    if not mask.any():
        raise ValueError("invoices: no invoice with a known lateness in the window; widen months")
    n = book.customer_ids.size
    code = book.customer[mask]
    late, amount = late_days[mask].astype(float), book.amount[mask]

    def total(values=None):
        return np.bincount(code, weights=values, minlength=n)

    count = total()
    keep = count > 0
    x = (book.due[mask] - book.as_of) / 365.25
    sx, sy, sxx, sxy = total(x), total(late), total(x * x), total(x * late)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = count * sxx - sx * sx
        trend = np.where((count >= min_invoices) & (denominator > 1e-12 * count * count),
                         (count * sxy - sx * sy) / denominator, np.nan)
        out = pd.DataFrame({
            "customer_id": book.customer_ids, "invoices": count.astype(int),
            "invoices_late": total((late > grace_days).astype(float)).astype(int),
            "amount": total(amount), "avg_days_late": total(amount * np.clip(late, 0, None)) / total(amount),
            "max_days_late": pd.Series(late).groupby(code).max().reindex(range(n)).to_numpy(),
            "days_late_trend": trend,
        })[keep]
    index = _per_customer_index(book, _resolved(book, 0)[0] & _window(book, months), late_days)
    return profiles_from_statistics(out, index.set_index("customer_id")["payment_index"],
                                    min_invoices=min_invoices, occasional_share=occasional_share,
                                    chronic_share=chronic_share, chronic_days=chronic_days,
                                    worsening_days=worsening_days)


def profiles_from_statistics(out: pd.DataFrame, payment_index: pd.Series, *, min_invoices: int,
                             occasional_share: float, chronic_share: float, chronic_days: float,
                             worsening_days: float) -> pd.DataFrame:
    """:func:`payment_profile`'s last step, shared by every engine: from per-customer ``invoices``,
    ``invoices_late``, ``avg_days_late`` and ``days_late_trend`` (and the payment index by customer id), the
    share late, the worsening flag, the profile by the rules, sorted worst first."""
    out.insert(3, "share_late", out["invoices_late"] / out["invoices"])
    out["worsening"] = out["days_late_trend"] > worsening_days
    out["payment_index"] = out["customer_id"].map(payment_index)
    profile = np.select(
        [out["invoices"] < min_invoices,
         (out["share_late"] >= chronic_share) | (out["avg_days_late"] > chronic_days),
         out["share_late"] > occasional_share],
        [PROFILES[3], PROFILES[2], PROFILES[1]], default=PROFILES[0])
    out["profile"] = pd.Categorical(profile, categories=PROFILES, ordered=True)
    rank = out["profile"].cat.codes.where(out["profile"] != PROFILES[3], -1)
    return (out.assign(_rank=rank).sort_values(["_rank", "avg_days_late"], ascending=False, kind="stable")
            .drop(columns="_rank").reset_index(drop=True))
