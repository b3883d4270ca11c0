"""The invoice ledger as known at an as-of date: input checks, open amounts and date grids.

Every payments function starts here, so the rules below hold everywhere.

Rules
-----
as of a date
    Invoices issued after ``as_of`` are set aside; payments dated after it are not yet made (the invoice is
    open at ``as_of``), as in :mod:`portfolio_kit.data.exports`.
partial payments
    ``paid_amount`` below ``amount`` with a ``paid_date``: that amount was received on that date and the rest
    stays open. ``paid_amount`` without a ``paid_date`` (a payment on account of unknown date) reduces the open
    amount from ``as_of`` on (it is known to have been received by then, not when). An empty ``paid_amount``
    means the whole ``amount`` when the invoice has a ``paid_date``.
paid and open, for payment behaviour
    An invoice (``amount > 0``) is *paid* when a payment dated on or before ``as_of`` was received for it, even
    a partial one: the customer's payment is the event that days late, late shares, profiles and models
    measure, while the rest stays open in the receivables (aging, DSO, exposure). It is *open* when nothing
    dated was received by ``as_of``: its lateness is not known yet (censored at ``as_of``), and an open invoice
    is never counted as paid. Invoices paid in full on an unknown date are neither and are left out of
    behaviour measures and models.
credit notes
    Negative amounts reduce receivables and sales; an open credit note is aged by its own dates, so a bucket
    holds the net amount. They are left out of lateness measures and models (they are not payments owed).

Bad input raises ``ValueError`` naming the column and the first invoices concerned: missing columns, values
that are not dates or numbers, empty issue or due dates (:mod:`portfolio_kit.data.exports` fills due dates from the
customer's payment terms on load), due or payment dates before the issue date, and paid amounts above the
invoice amount or of the opposite sign. Uniqueness of ``invoice_id`` is checked on load by
:mod:`portfolio_kit.data.exports`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from portfolio_kit.data.dates import NEVER, as_timestamp, days

__all__ = ["check_invoices", "open_invoices"]

TOLERANCE = 0.005
REQUIRED = ("invoice_id", "customer_id", "issue_date", "due_date", "amount")
UNKNOWN_SEGMENT = "(unknown)"


def _examples(invoices: pd.DataFrame, mask) -> str:
    ids = invoices.loc[np.asarray(mask), "invoice_id"].head(3).tolist()
    return ", ".join(repr(str(i)) for i in ids)


def check_invoices(invoices: pd.DataFrame) -> None:
    """Raise ``ValueError`` (``TypeError`` for a non-frame) when ``invoices`` cannot be analysed.

    The message names the column, what was expected and up to three invoice ids; see the module's rules.

    Examples
    --------
    >>> bad = pd.DataFrame({"invoice_id": ["F1"], "customer_id": ["C1"], "amount": [100.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-10"]), "due_date": [pd.NaT]})
    >>> check_invoices(bad)
    Traceback (most recent call last):
    ...
    ValueError: invoices: column 'due_date' is empty for 1 invoice(s) ('F1'): expected a date; ...
    """
    checked_columns(invoices)


def checked_columns(invoices: pd.DataFrame) -> dict[str, np.ndarray]:
    """The checks of :func:`check_invoices`, on numpy arrays that are returned for reuse: ``issue``, ``due``,
    ``pay`` (day numbers, :data:`NEVER` when empty), ``amount``, ``paid`` (NaN when empty)."""
    if not isinstance(invoices, pd.DataFrame):
        raise TypeError(f"invoices: expected a DataFrame, got {type(invoices).__name__}")
    missing = [c for c in REQUIRED if c not in invoices.columns]
    if missing:
        raise ValueError(f"invoices: missing column(s) {missing}; expected the canonical invoice columns "
                         f"{list(REQUIRED)} (+ optional 'paid_date', 'paid_amount')")
    n = len(invoices)
    out = {"pay": np.full(n, NEVER), "paid": np.full(n, np.nan)}
    for col, key in (("issue_date", "issue"), ("due_date", "due"), ("paid_date", "pay")):
        if col not in invoices.columns or (col == "paid_date" and invoices[col].isna().all()):
            continue
        if not pd.api.types.is_datetime64_any_dtype(invoices[col]):
            raise ValueError(f"invoices: column {col!r} has dtype {invoices[col].dtype}: expected dates "
                             "(datetime64); parse them first, e.g. with pd.to_datetime")
        out[key] = days(invoices[col].to_numpy())
    for col, key in (("amount", "amount"), ("paid_amount", "paid")):
        if col not in invoices.columns:
            continue
        if not pd.api.types.is_numeric_dtype(invoices[col]):
            raise ValueError(f"invoices: column {col!r} has dtype {invoices[col].dtype}: expected numbers")
        out[key] = invoices[col].to_numpy(dtype=float)

    def fail(mask, message):
        if mask.any():
            raise ValueError(message.format(n=int(mask.sum()), ids=_examples(invoices, mask)))

    fail(out["issue"] == NEVER, "invoices: column 'issue_date' is empty for {n} invoice(s) ({ids}): expected a date")
    fail(out["due"] == NEVER, "invoices: column 'due_date' is empty for {n} invoice(s) ({ids}): expected a date; "
                              "fill it from the customer's payment terms (portfolio_kit.data does this on load) or "
                              "drop those invoices")
    fail(np.isnan(out["amount"]), "invoices: column 'amount' is empty for {n} invoice(s) ({ids}): expected a number")
    fail(invoices["customer_id"].isna().to_numpy(), "invoices: column 'customer_id' is empty for {n} invoice(s) "
                                                    "({ids}): expected a customer identifier")
    fail(out["due"] < out["issue"], "invoices: column 'due_date' is before 'issue_date' for {n} invoice(s) ({ids}): "
                                    "expected a due date on or after issue")
    fail(out["pay"] < out["issue"], "invoices: column 'paid_date' is before 'issue_date' for {n} invoice(s) ({ids}): "
                                    "a payment cannot precede its invoice")
    excess = np.abs(out["paid"])
    excess -= np.abs(out["amount"])
    fail(excess > TOLERANCE, "invoices: column 'paid_amount' is above 'amount' for {n} invoice(s) ({ids}): "
                             "overpayments must be booked as separate credit notes")
    fail(((out["paid"] < 0) & (out["amount"] > 0)) | ((out["paid"] > 0) & (out["amount"] < 0)),
         "invoices: column 'paid_amount' has the opposite sign of 'amount' for {n} invoice(s) ({ids}): expected the "
         "same sign (negative for credit notes)")
    return out


@dataclass(frozen=True)
class Ledger:
    """Invoices issued by ``as_of`` as arrays (day numbers, amounts), one entry per kept row of the input.

    ``pay`` is the day the paid part was received (:data:`NEVER` if not by ``as_of``; ``as_of`` for a payment
    of unknown date), ``paid`` that amount (0 when nothing was received by ``as_of``), ``dated`` whether the
    payment has a known date. ``rows`` are the positions of the kept rows in the input frame. Derived arrays
    are computed on first use: large ledgers only pay for what an analysis needs.
    """

    as_of: np.int64
    rows: np.ndarray
    customer_id: pd.Series
    issue: np.ndarray
    due: np.ndarray
    pay: np.ndarray
    amount: np.ndarray
    paid: np.ndarray
    dated: np.ndarray

    @cached_property
    def is_paid(self) -> np.ndarray:
        """Sales invoices with a dated payment by ``as_of``, even partial (the module's behaviour rule)."""
        return self.dated & (self.amount > 0) & (self.paid > TOLERANCE)

    @cached_property
    def is_open(self) -> np.ndarray:
        """Sales invoices with nothing dated received by ``as_of`` and something still due."""
        return (self.amount > 0) & ~self.is_paid & (self.open_amount > TOLERANCE)

    @cached_property
    def _customers(self) -> tuple[np.ndarray, pd.Index]:
        codes, uniques = pd.factorize(self.customer_id)
        return codes, pd.Index(uniques, name="customer_id")

    @property
    def customer(self) -> np.ndarray:
        """Customer code of each entry (hashing ids is the slow part of large ledgers)."""
        return self._customers[0]

    @property
    def customer_ids(self) -> pd.Index:
        """The customer id of each code."""
        return self._customers[1]

    @property
    def open_amount(self) -> np.ndarray:
        """Amount still due at ``as_of`` (net of partial payments; negative for open credit notes)."""
        return self.amount - self.paid

    def subset(self, mask: np.ndarray) -> "Ledger":
        """The entries where ``mask`` is true (e.g. only the open ones, before grouping large ledgers)."""
        arrays = {name: getattr(self, name)[mask] for name in
                  ("rows", "issue", "due", "pay", "amount", "paid", "dated")}
        return replace(self, customer_id=self.customer_id[mask].reset_index(drop=True), **arrays)


def ledger(invoices: pd.DataFrame, as_of) -> Ledger:
    """Check ``invoices`` and return them as a :class:`Ledger` as known at ``as_of``."""
    col = checked_columns(invoices)
    as_of_day = days(np.array([pd.Timestamp(as_of).to_datetime64()]))[0]
    if as_of_day == NEVER:
        raise ValueError("as_of: expected a date, got NaT")
    rows = np.flatnonzero(col["issue"] <= as_of_day)
    if rows.size == 0:
        raise ValueError(f"invoices: none issued on or before as_of {pd.Timestamp(as_of).date()}; "
                         "nothing to analyse")
    customer_id = invoices["customer_id"]
    if rows.size < len(invoices):
        col = {key: values[rows] for key, values in col.items()}
        customer_id = customer_id.iloc[rows]
    amount, pay, paid = col["amount"], col["pay"], col["paid"]
    dated = pay <= as_of_day
    undated = (pay == NEVER) & (paid != 0) & ~np.isnan(paid)
    # in place on arrays made above (never the caller's): few full-size temporaries on large ledgers
    paid = np.where(np.isnan(paid), amount, paid)
    paid[~(dated | undated)] = 0.0
    pay[~dated] = NEVER
    pay[undated] = as_of_day
    return Ledger(as_of=as_of_day, rows=rows, customer_id=customer_id.reset_index(drop=True), issue=col["issue"],
                  due=col["due"], pay=pay, amount=amount, paid=paid, dated=dated)


def period_ends(first_day: np.int64, as_of: np.int64, freq: str = "ME") -> np.ndarray:
    """Day numbers of the period ends from the one containing ``first_day`` up to ``as_of``, which closes the
    last (possibly partial) period."""
    start, end = as_timestamp([first_day, as_of])
    grid = pd.date_range(start, end, freq=freq)
    return np.unique(np.append(days(grid.to_numpy()), as_of))


def open_by_age(book: Ledger, grid: np.ndarray, limits=(), origin: np.ndarray | None = None,
                group: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Open amounts at each grid day: of the items aged at most each of ``limits`` days, and in total.

    The age of an item at day ``t`` is ``t - origin`` (``origin`` defaults to the due dates). An item counts
    ``amount`` from its issue day and ``-paid`` from its payment day, and stops counting in the column of a
    limit ``h`` after day ``origin + h``. Returns an array ``(n_groups, grid.size, len(limits) + 1)``, the last
    column being the total open amount; differences of consecutive columns give aging buckets.

    Vectorised as a difference array over the grid: one ``searchsorted`` and a few ``bincount`` per limit,
    linear in the number of items whatever the length of the grid.
    """
    origin = book.due if origin is None else origin
    n_grid = grid.size
    size = n_groups * (n_grid + 1)
    base = 0 if group is None else group * (n_grid + 1)
    k_issue = np.searchsorted(grid, book.issue, side="left") + base
    k_pay = np.searchsorted(grid, book.pay, side="left") + base
    start = np.bincount(k_issue, book.amount, size) - np.bincount(k_pay, book.paid, size)
    columns = []
    for h in limits:
        k_end = np.searchsorted(grid, origin + h, side="right") + base
        end = (np.bincount(np.maximum(k_end, k_issue), book.amount, size)
               - np.bincount(np.maximum(k_end, k_pay), book.paid, size))
        columns.append(start - end)
    columns.append(start)
    diff = np.stack(columns, axis=-1).reshape(n_groups, n_grid + 1, len(columns))
    return np.cumsum(diff, axis=1)[:, :n_grid]


def segment_labels(customers: pd.DataFrame | None, by: str) -> pd.Series:
    """The customers' ``by`` values as text, indexed by ``customer_id``; checks the table."""
    if customers is None:
        raise ValueError(f"by={by!r}: pass the customers table, which holds that column")
    if "customer_id" not in customers.columns or by not in customers.columns:
        raise ValueError(f"customers: expected columns 'customer_id' and {by!r}, got {list(customers.columns)}")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customers: 'customer_id' is not unique")
    return customers.set_index("customer_id")[by].astype(object)


def segment_codes(book: Ledger, customers: pd.DataFrame | None, by: str | None) -> tuple[np.ndarray | None, pd.Index]:
    """Group code of each ledger entry and the group labels, for ``by`` = None (one group), ``"customer_id"``
    or a column of ``customers``. Customers missing from ``customers`` or with an empty value fall in
    ``"(unknown)"``."""
    if by is None:
        return None, pd.Index(["total"])
    if by == "customer_id":
        return book.customer, book.customer_ids
    labels = segment_labels(customers, by).reindex(book.customer_ids).fillna(UNKNOWN_SEGMENT).astype(str)
    seg_codes, seg_labels = pd.factorize(labels.to_numpy(), sort=True)
    return seg_codes[book.customer], pd.Index(seg_labels, name=by)


def with_segment(table: pd.DataFrame, customers: pd.DataFrame | None, by: str | None) -> pd.DataFrame:
    """``table`` (with ``customer_id``) plus the customers' ``by`` column, ``"(unknown)"`` where missing."""
    if by is None or by == "customer_id" or by in table.columns:
        return table
    labels = table["customer_id"].map(segment_labels(customers, by)).astype(object)  # empty: nulls of no type
    return table.assign(**{by: labels.fillna(UNKNOWN_SEGMENT).astype(str)})


def open_invoices(invoices: pd.DataFrame, as_of) -> pd.DataFrame:
    """Invoices and credit notes with something still open at ``as_of``.

    Returns
    -------
    DataFrame
        The input's columns for those rows plus ``open_amount`` (``amount`` minus what was received by
        ``as_of``), ``days_past_due`` (``as_of - due_date``, negative when not yet due) and ``age_days``
        (``as_of - issue_date``), sorted by ``days_past_due`` descending.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C1"], "amount": [100.0, 50.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...                     "due_date": pd.to_datetime(["2024-01-31", "2024-03-02"]),
    ...                     "paid_date": pd.to_datetime(["2024-02-10", pd.NaT])})
    >>> open_invoices(inv, "2024-03-10")[["invoice_id", "open_amount", "days_past_due"]].to_dict("records")
    [{'invoice_id': 'F2', 'open_amount': 50.0, 'days_past_due': 8}]
    """
    book = ledger(invoices, as_of)
    open_amount = book.open_amount
    keep = np.abs(open_amount) > TOLERANCE
    out = invoices.iloc[book.rows[keep]].reset_index(drop=True)
    out["open_amount"] = open_amount[keep]
    out["days_past_due"] = book.as_of - book.due[keep]
    out["age_days"] = book.as_of - book.issue[keep]
    return out.sort_values("days_past_due", ascending=False, kind="stable").reset_index(drop=True)
