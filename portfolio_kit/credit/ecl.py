"""Expected credit loss on trade receivables: the IFRS 9 simplified approach with a provision matrix.

Trade receivables carry a loss allowance equal to their lifetime expected credit losses (IFRS 9, 5.5.15); a
provision matrix applies to each aging bucket a loss rate observed on the entity's own history, adjusted for
forward-looking information (B5.5.35). Here:

- :func:`loss_rates_from_profile` turns a payment profile (amounts collected in each bucket and never
  collected) into loss rates, the roll-rate method on amounts;
- :func:`historical_loss_rates` builds that profile from the client's invoices, overall or per segment;
- :func:`provision_matrix` applies rates to bucket amounts, :func:`customer_ecl` to each customer's open items
  and :func:`ecl_by_bucket` to the whole book (the customers' allowances add up to it);
- :func:`roll_rates` and :func:`roll_rate_matrix` follow the balances from one month end to the next.

Buckets are those of :func:`portfolio_kit.payments.aging_labels` (with the default edges: current, 1-30, 31-60,
61-90, 91+ days past due) and the ledger rules (as-of date, partial payments, credit notes) those of
:mod:`portfolio_kit.payments.ledger`.

Write-offs
----------
An optional ``written_off`` column holds the amount written off an invoice, or a boolean meaning its whole open
amount. A written-off amount is never collected and is no longer part of the receivables. It is taken from what
is still open at ``as_of`` (an amount above it is capped there, with a note in the log); credit notes are never
written off. An optional ``written_off_date`` column dates the write-off; without it (or where it is empty) the
write-off, like a payment of unknown date, is known to have happened by ``as_of`` but not when, and counts from
``as_of``. Write-offs dated after ``as_of`` are not made yet.

Credit balances
---------------
Open credit notes net the receivables of their customer within the same bucket, as in the aging. A bucket in
which a customer's credit notes exceed its invoices is a credit balance, an amount owed *to* the customer (a
liability, not an asset with negative credit risk): it gets no allowance, positive or negative, and does not
reduce the allowance on other customers' receivables (offsetting needs a right of set-off against the same
counterparty, IAS 32.42) nor, prudently, on the same customer's other buckets. :func:`customer_ecl` reports it
apart, in ``credit_balance``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_kit.data.dates import NEVER, add_months, as_timestamp, day_number, days, whole_number
from portfolio_kit.payments import (DEFAULT_EDGES, TOLERANCE, Ledger, aging_labels, invoice_ledger, segment_codes,
                                    with_segment)

__all__ = ["NoLossHistory", "loss_rates_from_profile", "provision_matrix", "historical_loss_rates", "customer_ecl",
           "ecl_by_bucket", "new_receivables_rate", "roll_rates", "roll_rate_matrix", "WRITTEN_OFF", "WRITTEN_OFF_DATE", "COLLECTED"]

logger = logging.getLogger(__name__)

#: Optional invoice column: the amount written off (or True for the whole open amount).
WRITTEN_OFF = "written_off"
#: Optional invoice column: the date of the write-off.
WRITTEN_OFF_DATE = "written_off_date"
#: Destination of the amounts paid between two month ends in :func:`roll_rates`.
COLLECTED = "collected"


class NoLossHistory(ValueError):
    """No invoice is old enough for its outcome to be known: loss rates cannot come from the client's history."""


# --------------------------------------------------------------------------------------------- checks
def _edges(edges: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """Bucket labels and edges (checked by :func:`aging_labels`)."""
    labels = aging_labels(edges)
    if len(labels) > 100:
        raise ValueError(f"edges: expected at most 99 bucket limits, got {len(labels) - 1}")
    return labels, np.asarray(edges, dtype=np.int64)


def _forward(forward_adjustment) -> float:
    f = float(forward_adjustment)
    if not np.isfinite(f) or f <= -1:
        raise ValueError(f"forward_adjustment: expected a number above -1 (e.g. 0.1 raises every loss rate by 10%), "
                         f"got {forward_adjustment!r}")
    return f


def _rates(values, name: str = "loss_rates") -> np.ndarray:
    r = np.asarray(values, dtype=float)
    bad = ~np.isnan(r) & ((r < 0) | (r > 1))
    if bad.any():
        raise ValueError(f"{name}: expected rates between 0 and 1 (fractions: 0.02 for 2%), got {r[bad][:3].tolist()}")
    return r


def _adjusted(rates: np.ndarray, forward_adjustment: float) -> np.ndarray:
    return np.minimum(1.0, rates * (1.0 + forward_adjustment))


def _check_covered(amounts: np.ndarray, rates: np.ndarray, labels, where: str = "") -> None:
    """A ValueError when a bucket with something to provide for has no rate (NaN)."""
    missing = np.isnan(rates) & (amounts > TOLERANCE)
    if missing.any():
        buckets = sorted({str(labels[i]) for i in np.nonzero(missing)[-1]}, key=[str(x) for x in labels].index)
        raise ValueError(f"loss_rates: no rate for bucket(s) {buckets}{where}, which hold receivables (no history "
                         "reached them); give a rate there, e.g. with loss_rates.fillna(...)")


# --------------------------------------------------------------------------------------------- write-offs
def written_off_amounts(invoices: pd.DataFrame, book: Ledger) -> tuple[np.ndarray, np.ndarray]:
    """Amount written off each ledger entry by ``as_of`` and the day of the write-off (see the module's rules).

    Returns zeros (and :data:`NEVER`) without a ``written_off`` column. The amount is at least 0 and at most
    the entry's open amount at ``as_of``; credit notes get 0.
    """
    n = book.rows.size
    if WRITTEN_OFF not in invoices.columns:
        return np.zeros(n), np.full(n, NEVER)
    column = invoices[WRITTEN_OFF].iloc[book.rows]
    open_amount = np.where(book.amount > 0, np.maximum(book.open_amount, 0.0), 0.0)
    if pd.api.types.is_bool_dtype(column) or (column.dtype == object
                                              and pd.api.types.infer_dtype(column, skipna=True) == "boolean"):
        amount = np.where(column.fillna(False).to_numpy(dtype=bool), open_amount, 0.0)
    elif pd.api.types.is_numeric_dtype(column):
        amount = np.nan_to_num(column.to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        if (amount < 0).any():
            ids = invoices["invoice_id"].iloc[book.rows[amount < 0][:3]].tolist()
            raise ValueError(f"invoices: column {WRITTEN_OFF!r} is negative for {int((amount < 0).sum())} invoice(s) "
                             f"{ids}: expected the amount written off (>= 0) or True/False")
    else:
        raise ValueError(f"invoices: column {WRITTEN_OFF!r} has dtype {column.dtype}: expected the amounts written "
                         "off or booleans (True = the whole open amount)")
    day = np.full(n, book.as_of)
    if WRITTEN_OFF_DATE in invoices.columns:
        dates = invoices[WRITTEN_OFF_DATE].iloc[book.rows]
        if not dates.isna().all():
            if not pd.api.types.is_datetime64_any_dtype(dates):
                raise ValueError(f"invoices: column {WRITTEN_OFF_DATE!r} has dtype {dates.dtype}: expected dates "
                                 "(datetime64); parse them first, e.g. with pd.to_datetime")
            day = days(dates.to_numpy())
            day[day == NEVER] = book.as_of
            amount = np.where(day > book.as_of, 0.0, amount)
    excess = amount > open_amount + TOLERANCE
    if excess.any():
        logger.info("%s: %d invoice(s) have more written off than is open at as_of; only the open part counts",
                    WRITTEN_OFF, int(excess.sum()))
    amount = np.minimum(amount, open_amount)
    return amount, np.where(amount > 0, day, NEVER)


def _unknown_dates(book: Ledger) -> np.ndarray:
    """Entries with a payment of unknown date by ``as_of`` (in full or in part)."""
    return ~book.dated & (np.abs(book.paid) > TOLERANCE)


# --------------------------------------------------------------------------------------------- loss rates
def loss_rates_from_profile(collected_by_bucket, never_collected):
    """Loss rates from a payment profile: the roll-rate method on amounts.

    Of the sales of a past period, ``collected_by_bucket[i]`` was collected while in aging bucket ``i``
    (paid on time for the first, then paid 1-30 days late and so on) and ``never_collected`` never was. An
    amount in bucket ``i`` is either collected there or later, or never: the loss rate of bucket ``i`` is::

        never / (never + collected in bucket i and later buckets)

    Parameters
    ----------
    collected_by_bucket : sequence or Series of float
        Amounts collected in each bucket, from the youngest; a Series keeps its index (the bucket labels).
    never_collected : float
        Amount never collected (written off or still open long after its due date).

    Returns
    -------
    ndarray or Series
        One loss rate per bucket (``NaN`` where nothing reached the bucket), a Series named ``loss_rate`` when
        the amounts are a Series.

    Examples
    --------
    The IFRScommunity.com provision matrix example ("IFRS 9 example: lifetime ECL for trade receivables using a
    provision matrix"): of sales of 100,000, 50,000 were paid on time, 27,000 1-30 days late, 15,000 31-60 days
    late, 6,000 61-90 days late and 2,000 never:

    >>> rates = loss_rates_from_profile([50_000, 27_000, 15_000, 6_000, 0], 2_000)
    >>> [round(float(r), 3) for r in rates]
    [0.02, 0.04, 0.087, 0.25, 1.0]
    """
    collected = np.asarray(collected_by_bucket, dtype=float)
    never = float(never_collected)
    if collected.ndim != 1 or collected.size == 0 or np.isnan(collected).any() or (collected < 0).any():
        raise ValueError(f"collected_by_bucket: expected amounts >= 0, one per bucket, got {collected_by_bucket!r}")
    if not np.isfinite(never) or never < 0:
        raise ValueError(f"never_collected: expected an amount >= 0, got {never_collected!r}")
    reached = never + np.cumsum(collected[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(reached > 0, never / reached, np.nan)
    if isinstance(collected_by_bucket, pd.Series):
        return pd.Series(rates, index=collected_by_bucket.index, name="loss_rate")
    return rates


def _positional(values) -> bool:
    """A Series with a default index counts as a sequence (e.g. a column of a table)."""
    return isinstance(values, pd.Series) and isinstance(values.index, pd.RangeIndex)


def _labels_of(values) -> list | None:
    if isinstance(values, pd.Series) and not _positional(values):
        return list(values.index)
    if isinstance(values, pd.DataFrame):
        return list(values["bucket"])
    return None


def _aligned(values, labels: list, name: str) -> np.ndarray:
    """``values`` (Series by bucket label, frame with ``bucket``/``loss_rate``, or sequence) in ``labels`` order."""
    if isinstance(values, pd.DataFrame):
        missing = [c for c in ("bucket", "loss_rate") if c not in values.columns]
        if missing or values["bucket"].duplicated().any():
            raise ValueError(f"{name}: expected one row per bucket with columns 'bucket' and 'loss_rate' "
                             f"(historical_loss_rates without by=), got columns {list(values.columns)} and "
                             f"{len(values)} rows")
        values = values.set_index("bucket")["loss_rate"]
    if isinstance(values, pd.Series) and not _positional(values):
        missing = [b for b in labels if b not in values.index]
        if missing:
            raise ValueError(f"{name}: no value for bucket(s) {missing}; expected the buckets {labels}")
        return values.reindex(labels).to_numpy(dtype=float)
    out = np.asarray(values, dtype=float)
    if out.ndim != 1 or out.size != len(labels):
        raise ValueError(f"{name}: expected {len(labels)} values, one per bucket {labels}, got {values!r}")
    return out


def _matrix_frame(labels, receivables, rates, adjusted, ecl) -> pd.DataFrame:
    return pd.DataFrame({"bucket": labels, "receivables": receivables, "loss_rate": rates,
                         "adjusted_loss_rate": adjusted, "ecl": ecl})


def provision_matrix(receivables, loss_rates, forward_adjustment: float = 0.0, *,
                     buckets: Sequence | None = None) -> pd.DataFrame:
    """The allowance of a provision matrix: each bucket's receivables times its (adjusted) loss rate.

    ``adjusted_loss_rate = min(1, loss_rate x (1 + forward_adjustment))``, ``ecl = receivables x adjusted``.
    A negative amount (a net credit balance) gets no allowance, never a negative one.

    Parameters
    ----------
    receivables : sequence or Series of float
        Amounts by bucket, youngest first; a Series indexed by bucket label is aligned on it (one with a default
        index counts by position).
    loss_rates : sequence, Series or DataFrame
        Rates by bucket as fractions (a Series by bucket label, or the ``bucket``/``loss_rate`` table of
        :func:`historical_loss_rates` without groups). A ``NaN`` rate is allowed only where there is nothing to
        provide for.
    forward_adjustment : float
        Forward-looking adjustment of every rate, above -1 (0.1: rates 10% higher in a worsening economy).
    buckets : sequence, optional
        Bucket labels; by default those of the Series or table given, else the default aging labels when
        there are five buckets, else 0, 1, ...

    Returns
    -------
    DataFrame
        ``bucket``, ``receivables``, ``loss_rate``, ``adjusted_loss_rate``, ``ecl``; one row per bucket (the
        allowance is ``ecl.sum()``).

    Examples
    --------
    IFRS 9 Illustrative Examples, Example 12 (a provision matrix): receivables of 30 million by bucket.

    >>> matrix = provision_matrix([15_000_000, 7_500_000, 4_000_000, 2_500_000, 1_000_000],
    ...                           [0.003, 0.016, 0.036, 0.066, 0.106])
    >>> matrix["ecl"].round().tolist(), round(matrix["ecl"].sum())
    ([45000.0, 120000.0, 144000.0, 165000.0, 106000.0], 580000)
    """
    f = _forward(forward_adjustment)
    labels = (list(buckets) if buckets is not None else _labels_of(receivables) or _labels_of(loss_rates))
    if labels is None:
        n = np.size(receivables)
        default = aging_labels(DEFAULT_EDGES)
        labels = default if n == len(default) else list(range(n))
    amounts = _aligned(receivables, labels, "receivables")
    if np.isnan(amounts).any():
        raise ValueError(f"receivables: expected amounts, got NaN in bucket(s) "
                         f"{[labels[i] for i in np.flatnonzero(np.isnan(amounts))]}")
    rates = _rates(_aligned(loss_rates, labels, "loss_rates"))
    _check_covered(amounts, rates, labels)
    adjusted = _adjusted(rates, f)
    ecl = np.maximum(amounts, 0.0) * np.nan_to_num(adjusted)
    return _matrix_frame(labels, amounts, rates, adjusted, ecl)


def historical_loss_rates(invoices: pd.DataFrame, as_of, *, edges: Sequence[int] = DEFAULT_EDGES,
                          default_days: int = 365, lookback_months: int | None = 24, by: str | None = None,
                          customers: pd.DataFrame | None = None, min_reached: float = 0.0) -> pd.DataFrame:
    """Loss rates by aging bucket from the client's own invoices: the profile of :func:`loss_rates_from_profile`.

    The cohort is the sales invoices (``amount > 0``) due in the ``lookback_months`` months up to
    ``as_of - default_days``: every outcome is known by ``as_of``. Each paid part (a payment dated on or before
    ``as_of``) is collected in the bucket of its days late (``paid_date - due_date``, on time or early:
    ``current``); the part still open at ``as_of``, then more than ``default_days`` past due, is never collected,
    written-off amounts included. Invoices paid, in full or in part, on an unknown date are left out (their
    bucket is not known; the count is logged), as are credit notes.

    With ``by``, each group gets its own rates; where the amount that reached a bucket is at most
    ``min_reached`` (by default: nothing reached it), too little to tell, the group takes the rate of the whole
    cohort for that bucket (``source`` = ``"overall"``, else ``"own"``).

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices (optional ``written_off``, see the module).
    as_of : date-like
        Payments after it are not yet made.
    edges : sequence of int
        Bucket limits in days past due, as in :func:`portfolio_kit.payments.aging`.
    default_days : int
        Days past due after which an open amount counts as never collected; at least the last edge (with
        ``default_days`` as the last edge, the last bucket holds what is past the default horizon).
    lookback_months : int or None
        Months of due dates in the cohort (``None``: every invoice due by ``as_of - default_days``).
    by : str, optional
        A column of ``customers`` (a segment, ``"sector"`` ...) to compute rates per group; customers without a
        value fall in ``"(unknown)"``.
    customers : DataFrame, optional
        Canonical customers; needed with ``by``.
    min_reached : float
        With ``by``: the amount reaching a bucket at or below which a group takes the overall rate.

    Returns
    -------
    DataFrame
        ``[by,] bucket`` (buckets in aging order), ``collected`` (collected while in the bucket), ``reached``
        (never collected + collected in this bucket and later ones), ``never_collected``, ``loss_rate``
        (``never_collected / reached``; with ``by``, the overall rate where ``source`` is ``"overall"``; a
        bucket nothing reached, neither collected in it or later nor lost, takes the rate of the bucket before
        it, ``source`` ``"previous bucket"``, and stays ``NaN`` only when no bucket has a rate), ``invoices``
        (the cohort's invoices, the same on each row of a group) and ``source`` (``"own"``, ``"overall"``,
        ``"previous bucket"``).

    Examples
    --------
    >>> rates = historical_loss_rates(invoices, "2024-12-31")            # doctest: +SKIP
    >>> provision_matrix(aging(invoices, "2024-12-31").iloc[0, :5], rates)  # doctest: +SKIP
    """
    labels, e = _edges(edges)
    default_days = whole_number(default_days, "default_days")
    if default_days < e[-1]:
        raise ValueError(f"default_days: expected at least the last bucket edge ({int(e[-1])}), so that what "
                         f"is never collected has been through every bucket, got {default_days}")
    if lookback_months is not None:
        lookback_months = whole_number(lookback_months, "lookback_months")
    min_reached = float(min_reached)
    if not np.isfinite(min_reached) or min_reached < 0:
        raise ValueError(f"min_reached: expected an amount >= 0, got {min_reached!r}")
    book = invoice_ledger(invoices, as_of)
    end = book.as_of - default_days
    start = (np.iinfo(np.int64).min if lookback_months is None
             else day_number(add_months(as_timestamp([end])[0], -lookback_months), "as_of"))
    sales = book.amount > 0
    due_in = sales & (book.due > start) & (book.due <= end)
    unknown = due_in & _unknown_dates(book)
    cohort = due_in & ~unknown
    off, _ = written_off_amounts(invoices, book)  # checked; part of what is open at as_of, never collected
    if unknown.any():
        logger.info("historical_loss_rates: %d invoice(s) of the cohort paid on an unknown date are left out",
                    int(unknown.sum()))
    if not cohort.any():
        first, last = as_timestamp([start + 1 if lookback_months is not None else end, end]).date
        earliest = as_timestamp([book.due[sales].min()])[0].date() if sales.any() else None
        window = (f"between {first} and {last}" if lookback_months is not None else f"on or before {last}")
        note = f" ({int(unknown.sum())} of them paid on an unknown date, which are left out)" if unknown.any() else ""
        raise NoLossHistory(f"invoices: no sales invoice due {window}{note}: historical loss rates need invoices due at "
                         f"least default_days={default_days} days before as_of {as_timestamp([book.as_of])[0].date()}"
                         f"; the earliest due date found is {earliest}")
    group, groups = segment_codes(book, customers, by)
    n_groups, n_buckets = len(groups), len(labels)
    g = np.zeros(int(cohort.sum()), dtype=np.int64) if group is None else group[cohort]
    paid = book.paid[cohort]
    bucket = np.searchsorted(e, book.pay[cohort] - book.due[cohort], side="left")    # unpaid: paid is 0
    collected = np.bincount(g * n_buckets + bucket, weights=paid,
                            minlength=n_groups * n_buckets).reshape(n_groups, n_buckets)
    never = np.bincount(g, weights=np.maximum(book.amount[cohort] - paid - off[cohort], 0.0) + off[cohort],
                        minlength=n_groups)
    count = np.bincount(g, minlength=n_groups)

    def rates_of(collected, never):
        reached = never[:, None] + np.cumsum(collected[:, ::-1], axis=1)[:, ::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return reached, np.where(reached > TOLERANCE, never[:, None] / reached, np.nan)

    reached, rate = rates_of(collected, never)
    out = pd.DataFrame({"bucket": np.tile(labels, n_groups), "collected": collected.ravel(),
                        "reached": reached.ravel(), "never_collected": np.repeat(never, n_buckets),
                        "loss_rate": rate.ravel(), "invoices": np.repeat(count, n_buckets)})
    source = np.full(out.shape[0], "own", dtype=object)
    if by is not None:
        _, overall = rates_of(collected.sum(axis=0, keepdims=True), np.array([never.sum()]))
        fallback = (reached <= max(min_reached, TOLERANCE)).ravel()
        out["loss_rate"] = np.where(fallback, np.tile(overall[0], n_groups), out["loss_rate"])
        source[fallback] = "overall"
    # a bucket nothing reached (no amount collected in it or later, nothing lost) takes the previous bucket's rate
    unset = out["loss_rate"].isna().to_numpy()
    out["loss_rate"] = out["loss_rate"].groupby(np.repeat(np.arange(n_groups), n_buckets)).ffill()
    source[unset & out["loss_rate"].notna().to_numpy()] = "previous bucket"
    out["source"] = source
    if by is None:
        return out
    out.insert(0, by, np.repeat(groups.to_numpy(), n_buckets))
    return out


# --------------------------------------------------------------------------------------------- allowance
def _rate_rows(loss_rates, labels: list[str], by: str | None) -> tuple[np.ndarray, pd.Index | None]:
    """Rates ``(n_groups, n_buckets)`` and the group labels (``None``: one row for everyone)."""
    if by is None:
        if isinstance(loss_rates, pd.DataFrame) and "bucket" in loss_rates.columns \
                and loss_rates["bucket"].duplicated().any():
            raise ValueError("loss_rates: several rows per bucket (rates per group?); pass the group column as by=")
        return _rates(_aligned(loss_rates, labels, "loss_rates"))[None, :], None
    if not isinstance(loss_rates, pd.DataFrame) or not {by, "bucket", "loss_rate"} <= set(loss_rates.columns):
        raise ValueError(f"loss_rates: with by={by!r} expected a table with columns {by!r}, 'bucket' and 'loss_rate' "
                         "(historical_loss_rates(..., by=...))")
    table = loss_rates.assign(**{by: loss_rates[by].astype(str)})
    if table.duplicated([by, "bucket"]).any():
        raise ValueError(f"loss_rates: several rows for the same {by!r} and 'bucket'")
    wide = table.pivot(index=by, columns="bucket", values="loss_rate")
    missing = [b for b in labels if b not in wide.columns]
    if missing:
        raise ValueError(f"loss_rates: no rate for bucket(s) {missing}; expected the buckets {labels}")
    return _rates(wide[labels].to_numpy(dtype=float)), pd.Index(wide.index)


def _allowance(invoices, as_of, loss_rates, edges, forward_adjustment, by, customers):
    """Per customer: the bucket labels, ``customer_id`` [and ``by``] table, bucket amounts (credit balances at 0),
    credit balance, the rates ``(n_groups, n_buckets)`` adjusted, the group labels and each customer's group row."""
    labels, e = _edges(edges)
    f = _forward(forward_adjustment)
    rates, groups = _rate_rows(loss_rates, labels, by)
    book = invoice_ledger(invoices, as_of)
    off, _ = written_off_amounts(invoices, book)
    open_amount = book.open_amount - off
    keep = np.abs(open_amount) > TOLERANCE
    n_customers, n_buckets = book.customer_ids.size, len(labels)
    bucket = np.searchsorted(e, book.as_of - book.due[keep], side="left")
    net = np.bincount(book.customer[keep] * n_buckets + bucket, weights=open_amount[keep],
                      minlength=n_customers * n_buckets).reshape(n_customers, n_buckets)
    table = pd.DataFrame({"customer_id": book.customer_ids})
    if groups is None:
        row = np.zeros(n_customers, dtype=np.int64)
    else:
        table = with_segment(table, customers, by)
        row = groups.get_indexer(table[by].astype(str))
        if (row < 0).any():
            absent = sorted(set(table[by].astype(str)[row < 0]))
            raise ValueError(f"loss_rates: no rates for {by}={absent}; compute them on the same ledger with "
                             f"historical_loss_rates(..., by={by!r}), known: {list(groups)}")
    positive = np.maximum(net, 0.0)
    adjusted = _adjusted(rates, f)
    uncovered = np.isnan(adjusted[row]) & (positive > TOLERANCE)
    if uncovered.any():
        first = row[np.flatnonzero(uncovered.any(axis=1))[0]]
        where = "" if groups is None else f" of {by}={groups[first]!r}"
        _check_covered(positive[row == first], adjusted[first][None, :], labels, where)
    return labels, table, positive, np.minimum(net, 0.0).sum(axis=1), rates, adjusted, groups, row


def customer_ecl(invoices: pd.DataFrame, as_of, loss_rates, *, edges: Sequence[int] = DEFAULT_EDGES,
                 forward_adjustment: float = 0.0, by: str | None = None,
                 customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each customer's expected credit loss: today's receivables by aging bucket times the bucket's loss rate.

    The receivables are the amounts open at ``as_of`` (ledger rules: net of partial payments and of open
    credit notes in the same bucket) less written-off amounts, in the bucket of their days past due. A bucket
    where a customer's credit notes exceed its invoices is a credit balance: 0 in the bucket columns, reported
    in ``credit_balance`` and given no allowance (see the module).

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices (optional ``written_off``).
    as_of : date-like
        The reporting date.
    loss_rates : sequence, Series or DataFrame
        Rates by bucket (fractions): a sequence in bucket order, a Series by bucket label, or the table of
        :func:`historical_loss_rates` (with a ``by`` column for rates per group).
    edges : sequence of int
        Bucket limits in days past due; the rates' buckets must be these.
    forward_adjustment : float
        Applied to every rate as in :func:`provision_matrix`.
    by : str, optional
        The group column of ``loss_rates`` and of ``customers``: each customer takes its group's rates
        (customers without a value: ``"(unknown)"``).
    customers : DataFrame, optional
        Canonical customers; needed with ``by``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``[by,]`` one column per bucket (the receivables there), ``receivables`` (their sum),
        ``credit_balance`` (net credit left out, <= 0), ``ecl`` and ``ecl_rate`` (``ecl / receivables``);
        customers with something open, largest allowance first. ``ecl`` sums to :func:`ecl_by_bucket`.

    Examples
    --------
    >>> rates = historical_loss_rates(invoices, "2024-12-31")       # doctest: +SKIP
    >>> customer_ecl(invoices, "2024-12-31", rates).head()          # doctest: +SKIP
    """
    labels, table, positive, credit, _, adjusted, _, row = _allowance(invoices, as_of, loss_rates, edges,
                                                                      forward_adjustment, by, customers)
    ecl = (positive * np.nan_to_num(adjusted)[row]).sum(axis=1)
    receivables = positive.sum(axis=1)
    out = pd.concat([table, pd.DataFrame(positive, columns=labels)], axis=1)
    out["receivables"] = receivables
    out["credit_balance"] = credit
    out["ecl"] = ecl
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ecl_rate"] = np.where(receivables > 0, ecl / receivables, np.nan)
    out = out[(receivables > 0) | (credit < 0)]
    return out.sort_values(["ecl", "receivables"], ascending=False, kind="stable").reset_index(drop=True)


def ecl_by_bucket(invoices: pd.DataFrame, as_of, loss_rates, *, edges: Sequence[int] = DEFAULT_EDGES,
                  forward_adjustment: float = 0.0, by: str | None = None,
                  customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The provision matrix of the whole book: :func:`provision_matrix` on the bucket totals of
    :func:`customer_ecl`, whose allowances sum to it; parameters as there.

    Returns
    -------
    DataFrame
        ``[by,] bucket, receivables, loss_rate, adjusted_loss_rate, ecl``: one row per bucket, per group with
        ``by`` (each group with its own rates). ``receivables`` leaves out credit balances.

    Examples
    --------
    >>> ecl_by_bucket(invoices, "2024-12-31", [0.003, 0.016, 0.036, 0.066, 0.106])   # doctest: +SKIP
    """
    labels, _, positive, _, rates, adjusted, groups, row = _allowance(invoices, as_of, loss_rates, edges,
                                                                      forward_adjustment, by, customers)
    n_groups = rates.shape[0]
    totals = np.stack([np.bincount(row, weights=positive[:, j], minlength=n_groups) for j in range(len(labels))],
                      axis=1)
    out = _matrix_frame(np.tile(labels, n_groups), totals.ravel(), rates.ravel(), adjusted.ravel(),
                        (totals * np.nan_to_num(adjusted)).ravel())
    if groups is not None:
        out.insert(0, by, np.repeat(groups.to_numpy(), len(labels)))
    return out


def new_receivables_rate(loss_rates: pd.DataFrame, forward_adjustment: float = 0.0, by: str | None = None,
                         customers: pd.DataFrame | None = None) -> float | pd.Series:
    """The loss rate of receivables not yet due (the first bucket's, after the forward-looking adjustment): what
    a new sale is expected to lose. One rate, or with ``by`` a Series by ``customer_id`` (each customer its
    group's; customers without a value take the ``"(unknown)"`` group's, else the mean of the groups).

    Examples
    --------
    >>> rates = pd.DataFrame({"bucket": ["current", "1-30"], "loss_rate": [0.02, 0.04]})
    >>> new_receivables_rate(rates, forward_adjustment=0.5)
    0.03
    """
    f = _forward(forward_adjustment)
    first = loss_rates[loss_rates["bucket"] == loss_rates["bucket"].iloc[0]]
    if by is None:
        return float(_adjusted(_rates(first["loss_rate"].to_numpy(float)), f)[0])
    by_group = pd.Series(_adjusted(_rates(first["loss_rate"].to_numpy(float)), f), index=first[by].astype(str))
    groups = with_segment(customers[["customer_id"]], customers, by)[by].astype(str)
    rate = groups.map(by_group).fillna(by_group.mean()).to_numpy(float)
    return pd.Series(rate, index=customers["customer_id"].to_numpy(), name="loss_rate")


# --------------------------------------------------------------------------------------------- roll rates
def roll_rates(invoices: pd.DataFrame, as_of, *, months: int = 12,
               edges: Sequence[int] = DEFAULT_EDGES) -> pd.DataFrame:
    """Where the receivables of each aging bucket are one month end later: the roll-rate (flow) matrix.

    The month ends are the last ``months + 1`` on or before ``as_of``. For each pair of consecutive month ends
    ``(t, t + 1)``, the amount open at ``t`` in bucket ``i`` is, at ``t + 1``, either collected (paid in between),
    written off (with a ``written_off`` column, see the module) or still open in bucket ``j``. Amounts are
    summed over the month pairs; ``share`` is each destination's part of what was in the from-bucket. Only
    balances that existed at ``t`` are followed: invoices issued between ``t`` and ``t + 1`` are in no
    from-bucket. Credit notes are left out (they do not roll towards a loss), and so are invoices paid on an
    unknown date (when is not known; the count is logged).

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
        Payments after it are not yet made; the last month end is the last one on or before it.
    months : int
        Number of month-to-month steps.
    edges : sequence of int
        Bucket limits in days past due.

    Returns
    -------
    DataFrame
        ``from_bucket``, ``to_bucket`` (the buckets, then ``collected`` and, with write-offs, ``written_off``),
        ``amount`` and ``share`` (``NaN`` when nothing was in the from-bucket); every pair, in bucket order.
        :func:`roll_rate_matrix` makes it a square table.

    Examples
    --------
    >>> flows = roll_rates(invoices, "2024-12-31")        # doctest: +SKIP
    >>> roll_rate_matrix(flows).round(3)                  # doctest: +SKIP
    """
    labels, e = _edges(edges)
    months = whole_number(months, "months")
    book = invoice_ledger(invoices, as_of)
    grid = days(pd.date_range(end=as_timestamp([book.as_of])[0], periods=months + 1, freq="ME").to_numpy())
    off, off_day = written_off_amounts(invoices, book)
    unknown = _unknown_dates(book) & (book.amount > 0)
    if unknown.any():
        logger.info("roll_rates: %d invoice(s) paid on an unknown date are left out", int(unknown.sum()))
    # invoices that can be open at a from-date: issued by the last one, not settled by the first one
    settled = (book.issue <= grid[0]) & (book.amount - np.where(book.pay <= grid[0], book.paid, 0.0)
                                         - np.where(off_day <= grid[0], off, 0.0) <= TOLERANCE)
    keep = (book.amount > 0) & ~unknown & (book.issue <= grid[-2]) & ~settled
    issue, due, pay, paid, amount, off, off_day = (x[keep] for x in (book.issue, book.due, book.pay, book.paid,
                                                                     book.amount, off, off_day))

    def open_at(t):
        value = amount - np.where(pay <= t, paid, 0.0) - np.where(off_day <= t, off, 0.0)
        return np.where(issue <= t, value, 0.0), np.searchsorted(e, t - due, side="left").astype(np.int8)

    destinations = labels + [COLLECTED] + ([WRITTEN_OFF] if WRITTEN_OFF in invoices.columns else [])
    n_buckets, n_dest = len(labels), len(destinations)
    flows = np.zeros((n_buckets, n_dest))
    amount_t, code_t = open_at(grid[0])
    for t, u in zip(grid[:-1], grid[1:]):
        amount_u, code_u = open_at(u)
        present = amount_t > TOLERANCE
        start = code_t.astype(np.int64)
        flows[:, :n_buckets] += np.bincount(start * n_buckets + code_u, weights=np.where(present, amount_u, 0.0),
                                            minlength=n_buckets * n_buckets).reshape(n_buckets, n_buckets)
        collected = np.where(present & (pay > t) & (pay <= u), paid, 0.0)
        flows[:, n_buckets] += np.bincount(start, weights=collected, minlength=n_buckets)
        if n_dest > n_buckets + 1:
            written = np.where(present & (off_day > t) & (off_day <= u), off, 0.0)
            flows[:, n_buckets + 1] += np.bincount(start, weights=written, minlength=n_buckets)
        amount_t, code_t = amount_u, code_u
    total = flows.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > TOLERANCE, flows / total, np.nan)
    return pd.DataFrame({"from_bucket": np.repeat(labels, n_dest), "to_bucket": np.tile(destinations, n_buckets),
                         "amount": flows.ravel(), "share": share.ravel()})


def roll_rate_matrix(flows: pd.DataFrame, values: str = "share") -> pd.DataFrame:
    """The table of :func:`roll_rates` as a matrix: from-buckets as rows, destinations as columns, in order.

    Examples
    --------
    >>> flows = pd.DataFrame({"from_bucket": ["current", "current"], "to_bucket": ["current", "collected"],
    ...                       "amount": [30.0, 70.0], "share": [0.3, 0.7]})
    >>> roll_rate_matrix(flows).to_dict("index")
    {'current': {'current': 0.3, 'collected': 0.7}}
    """
    missing = [c for c in ("from_bucket", "to_bucket", values) if c not in flows.columns]
    if missing:
        raise ValueError(f"flows: missing column(s) {missing}; pass the result of roll_rates()")
    wide = flows.pivot(index="from_bucket", columns="to_bucket", values=values)
    return wide.reindex(index=pd.unique(flows["from_bucket"]), columns=pd.unique(flows["to_bucket"]))
