"""Snapshot diffs: customers added and removed, every changed field, and the value bridge between two tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from portfolio_kit.monitoring.keys import Alignment, align, keyed_table
from portfolio_kit.monitoring.migration import Migration, migration_of_aligned

__all__ = ["SnapshotDiff", "snapshot_pair", "diff_snapshots", "value_bridge", "compare_columns", "EXACT"]

log = logging.getLogger(__name__)

#: No tolerance: ``(absolute, relative)`` both 0, any difference is a change.
EXACT = (0.0, 0.0)


# --- comparing values --------------------------------------------------------------------------------------

def _tolerance(spec: float | str, column: str) -> tuple[float, float]:
    """``(absolute, relative)`` from ``0.5`` (absolute) or ``"5%"`` (relative to the before value)."""
    try:
        if isinstance(spec, str) and spec.strip().endswith("%"):
            value = (0.0, float(spec.strip()[:-1]) / 100)
        else:
            value = (float(spec), 0.0)
    except ValueError:
        value = (-1.0, -1.0)
    if min(value) < 0:
        raise ValueError(f"tolerances[{column!r}]: expected a number >= 0 or a percentage like '5%', got {spec!r}")
    return value


def _as_numbers(b: pd.Series, a: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Both sides as floats when both are numbers (or one is numbers, the other text holding only numbers),
    else ``None``."""
    numeric = [pd.api.types.is_numeric_dtype(s) for s in (b, a)]
    if not any(numeric) or any(pd.api.types.is_datetime64_any_dtype(s) for s in (b, a)):
        return None
    sides = []
    for s, is_number in zip((b, a), numeric):
        num = s if is_number else pd.to_numeric(s, errors="coerce")
        if not is_number and (num.isna() & s.notna()).any():
            return None
        sides.append(num.to_numpy(dtype=float, na_value=np.nan))
    return sides[0], sides[1]


def compare_columns(b: pd.Series, a: pd.Series, tol: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Changed mask and delta (after - before; days for dates, NaN for text) of two aligned columns.

    Numbers count as changed when ``|after - before| > max(absolute, relative x |before|)``; a value that
    appears or disappears is always a change; two missing values are equal.
    """
    na_b, na_a = b.isna().to_numpy(), a.isna().to_numpy()
    both = ~na_b & ~na_a
    delta = np.full(len(b), np.nan)
    numbers = _as_numbers(b, a)
    if numbers is not None:
        delta = numbers[1] - numbers[0]
        with np.errstate(invalid="ignore"):
            ne = np.abs(delta) > np.maximum(tol[0], tol[1] * np.abs(numbers[0]))
    elif pd.api.types.is_datetime64_any_dtype(b) and pd.api.types.is_datetime64_any_dtype(a):
        delta = ((a.to_numpy() - b.to_numpy()) / np.timedelta64(1, "D")).astype(float)
        ne = b.to_numpy() != a.to_numpy()
    else:
        ne = (b.astype("str").reset_index(drop=True) != a.astype("str").reset_index(drop=True)).to_numpy(bool)
    return (both & ne) | (na_b != na_a), delta


# --- the diff ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SnapshotDiff:
    """What changed between two per-customer tables (the result of :func:`diff_snapshots`).

    Attributes
    ----------
    key : str
        The customer key column.
    before, after : DataFrame
        The two tables as given, with the key as text.
    added, removed : DataFrame
        Rows of ``after`` whose customer is not in ``before``, rows of ``before`` not in ``after``.
    changes : DataFrame
        One row per changed field of a customer in both: ``<key>``, ``field``, ``before``, ``after``,
        ``delta`` (after - before for numbers, days for dates, NaN for text), in the order of ``after``.
    compared : tuple of str
        The columns compared; ``only_before`` / ``only_after``: columns in one table only (not compared).
    summary : DataFrame
        ``measure``, ``customers``: customers before, after, added, removed, in both, changed, unchanged.
    field_summary : DataFrame
        Per compared column: ``changed`` customers, their ``share`` of customers in both, ``increased``,
        ``decreased``, ``filled`` (missing -> value), ``emptied`` (value -> missing).
    alignment : Alignment
        Which rows of ``before`` and ``after`` hold the same customer.
    """

    key: str
    before: pd.DataFrame = field(repr=False)
    after: pd.DataFrame = field(repr=False)
    added: pd.DataFrame = field(repr=False)
    removed: pd.DataFrame = field(repr=False)
    changes: pd.DataFrame = field(repr=False)
    compared: tuple[str, ...]
    only_before: tuple[str, ...]
    only_after: tuple[str, ...]
    summary: pd.DataFrame = field(repr=False)
    field_summary: pd.DataFrame = field(repr=False)
    alignment: Alignment = field(repr=False)

    @property
    def n_unchanged(self) -> int:
        """Customers in both tables with no changed field."""
        return int(self.summary.set_index("measure").at["unchanged", "customers"])

    def has(self, column: str) -> bool:
        """Whether ``column`` is in either table."""
        return column in self.before.columns or column in self.after.columns

    @cached_property
    def _pair_rows(self) -> dict[bool, tuple[np.ndarray, pd.Index]]:
        """Rows of ``after`` and their keys: customers in both, then (with ``True``) the added ones too."""
        al = self.alignment
        out = {}
        for added in (False, True):
            rows = np.concatenate([al.common_after, np.flatnonzero(al.added)]) if added else al.common_after
            out[added] = rows, pd.Index(self.after[self.key].take(rows), name=self.key)
        return out

    def pair(self, column: str, added: bool = False) -> pd.DataFrame:
        """``before`` and ``after`` values of ``column`` for customers in both tables (and, with ``added``,
        the added customers, whose ``before`` is missing), indexed by the key in the order of ``after``.
        A column absent from one table is all missing on that side."""
        rows_after, keys = self._pair_rows[added]

        def side(frame: pd.DataFrame, rows: np.ndarray) -> pd.Series:
            if column not in frame.columns:
                return pd.Series(np.nan, index=keys)
            values = frame[column].take(rows).reset_index(drop=True)
            return (values.reindex(range(len(keys))) if len(rows) < len(keys) else values).set_axis(keys)

        return pd.DataFrame({"before": side(self.before, self.alignment.common_before),
                             "after": side(self.after, rows_after)})

    def migration(self, column: str, order: Sequence[str] | None = None) -> Migration:
        """The :func:`migration_matrix` of ``column`` between the two tables of this diff."""
        return migration_of_aligned(self.before, self.after, self.alignment, column, order)


def snapshot_pair(snapshots: pd.DataFrame, before: str | pd.Timestamp | None = None,
                  after: str | pd.Timestamp | None = None,
                  date_column: str = "snapshot_date") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two snapshots to compare from the stacked canonical ``snapshots`` table.

    Parameters
    ----------
    snapshots : DataFrame
        Canonical snapshots (one frame per date stacked, ``date_column`` telling them apart).
    before, after : date, optional
        The dates to compare; by default the last two dates (``after`` alone: the date before it).

    Returns
    -------
    (before, after) : the rows of each date, index reset.
    """
    if date_column not in snapshots.columns:
        raise ValueError(f"snapshots: no {date_column!r} column; the table has {list(snapshots.columns)}")
    dates = pd.to_datetime(snapshots[date_column])
    known = pd.DatetimeIndex(dates.dropna().unique()).sort_values()
    after = pd.Timestamp(after) if after is not None else (known[-1] if len(known) else None)
    if before is None:
        earlier = known[known < after] if after is not None else known
        before = earlier[-1] if len(earlier) else None
    before = pd.Timestamp(before) if before is not None else None
    for name, date in (("before", before), ("after", after)):
        if date is None or date not in known:
            raise ValueError(f"snapshots: no snapshot for {name}={date}; dates present: "
                             f"{[str(d.date()) for d in known]} (two dates are needed)")
    return (snapshots[dates.eq(before)].reset_index(drop=True), snapshots[dates.eq(after)].reset_index(drop=True))


def diff_snapshots(before: pd.DataFrame, after: pd.DataFrame, key: str = "customer_id",
                   tolerances: Mapping[str, float | str] | None = None, columns: Sequence[str] | None = None,
                   ignore: Sequence[str] = ("snapshot_date",), match_numeric_keys: bool = True) -> SnapshotDiff:
    """Customers added and removed, and every changed field, between two per-customer tables.

    Parameters
    ----------
    before, after : DataFrame
        One row per customer (``key`` as a column or as the index name): snapshots in canonical columns
        (``rating``, ``failure_score``, ``delinquency_score``, ``credit_limit``, ``officers``,
        ``share_capital``) or the per-customer tables of two runs (``segment``, ``abc_class``, ``clv``,
        ``p_alive``, ``dso`` ...). Either may be empty.
    key : str
        Customer key column. Keys are matched as text; see ``match_numeric_keys``.
    tolerances : mapping, optional
        Per numeric column, the change still counted as unchanged: a number (absolute, e.g. ``0.5``) or a
        percentage of the before value (``"5%"``). A column changes when
        ``|after - before| > max(absolute, relative x |before|)``; default 0 (any difference). A value that
        appears or disappears is always a change.
    columns : sequence of str, optional
        Columns to compare (default: every column in both tables except ``key`` and ``ignore``).
    ignore : sequence of str
        Columns never compared (the snapshot date differs by construction).
    match_numeric_keys : bool
        Compare all-digit keys as numbers: ``123``, ``123.0`` and ``"00123"`` are the same customer.

    Returns
    -------
    SnapshotDiff
        ``added``, ``removed``, ``changes`` (one row per changed field), ``summary``, ``field_summary``.

    Raises
    ------
    ValueError
        Missing or empty key, duplicate keys in a table (naming the table and keys), a tolerance for an
        unknown or non-numeric column, or a requested column absent from both tables.

    Examples
    --------
    >>> b = pd.DataFrame({"customer_id": [1, 2], "clv": [100.0, 50.0]})
    >>> a = pd.DataFrame({"customer_id": ["001", "002"], "clv": [100.4, 40.0]})
    >>> diff_snapshots(b, a, tolerances={"clv": 0.5}).changes
      customer_id field before after  delta
    0         002   clv   50.0  40.0  -10.0
    """
    before, after = keyed_table(before, key, "before"), keyed_table(after, key, "after")
    al = align(before, after, key, match_numeric_keys)
    skip = {key, *ignore}
    shared = [c for c in after.columns if c in before.columns and c not in skip]
    if columns is not None:
        absent = [c for c in columns if c not in before.columns and c not in after.columns]
        if absent:
            raise ValueError(f"columns {absent} are in neither table; before has {list(before.columns)}, "
                             f"after has {list(after.columns)}")
        shared = [c for c in columns if c in shared]
    only_before = tuple(c for c in before.columns if c not in after.columns and c not in skip)
    only_after = tuple(c for c in after.columns if c not in before.columns and c not in skip)
    if only_before or only_after:
        log.info("not compared (in one table only): before %s, after %s", list(only_before), list(only_after))
    tols = {}
    for col, spec in (tolerances or {}).items():
        if col not in before.columns and col not in after.columns:
            raise ValueError(f"tolerances: column {col!r} is in neither table")
        tols[col] = _tolerance(spec, col)
    parts, per_field = [], []
    for i, col in enumerate(shared):
        b = before[col].iloc[al.common_before].reset_index(drop=True)
        a = after[col].iloc[al.common_after].reset_index(drop=True)
        if tols.get(col, EXACT) != EXACT and _as_numbers(b, a) is None:
            raise ValueError(f"tolerances[{col!r}]: the column is not numeric (dtypes {b.dtype} / {a.dtype})")
        changed, delta = compare_columns(b, a, tols.get(col, EXACT))
        rows = np.flatnonzero(changed)
        bb, aa = b.take(rows), a.take(rows)
        parts.append(pd.DataFrame({"_row": al.common_after[rows], "_field": i,
                                   key: after[key].take(al.common_after[rows]).to_numpy(), "field": col,
                                   "before": bb.to_numpy(dtype=object), "after": aa.to_numpy(dtype=object),
                                   "delta": delta[rows]}))
        d = delta[rows]
        per_field.append({"field": col, "changed": len(rows), "increased": int((d > 0).sum()),
                          "decreased": int((d < 0).sum()), "filled": int((bb.isna() & aa.notna()).sum()),
                          "emptied": int((bb.notna() & aa.isna()).sum())})
    columns_out = [key, "field", "before", "after", "delta"]
    changes = (pd.concat(parts, ignore_index=True).sort_values(["_row", "_field"], kind="stable")[columns_out]
               .reset_index(drop=True) if parts else pd.DataFrame(columns=columns_out))
    n_both = len(al.common_before)
    n_changed = int(pd.unique(changes[key]).size) if len(changes) else 0
    summary = pd.DataFrame({
        "measure": ["customers before", "customers after", "added", "removed", "in both", "changed", "unchanged"],
        "customers": [len(before), len(after), int(al.added.sum()), int(al.removed.sum()), n_both, n_changed,
                      n_both - n_changed]})
    field_summary = pd.DataFrame(per_field, columns=["field", "changed", "increased", "decreased", "filled",
                                                     "emptied"])
    field_summary.insert(2, "share", field_summary["changed"] / n_both if n_both else np.nan)
    return SnapshotDiff(key=key, before=before, after=after, added=after[al.added].reset_index(drop=True),
                        removed=before[al.removed].reset_index(drop=True), changes=changes,
                        compared=tuple(shared), only_before=only_before, only_after=only_after,
                        summary=summary, field_summary=field_summary, alignment=al)


def value_bridge(diff: SnapshotDiff, column: str) -> pd.DataFrame:
    """From the portfolio's total ``column`` before to after: removed, added, increases and decreases.

    ``before + removed + added + increases + decreases = after`` (removed and decreases are negative;
    missing values count as 0; increases and decreases are over customers in both tables).

    Returns
    -------
    DataFrame with ``step`` (before, removed, added, increases, decreases, after), ``amount``, ``customers``
    and ``kind`` (``total`` or ``change``).
    """
    if not diff.has(column):
        raise ValueError(f"value_bridge: column {column!r} is in neither table")

    def values(frame: pd.DataFrame) -> pd.Series:
        if column not in frame.columns:
            return pd.Series(0.0, index=frame.index)
        number = pd.to_numeric(frame[column], errors="coerce")
        if (number.isna() & frame[column].notna()).any():
            raise ValueError(f"value_bridge: column {column!r} is not numeric")
        return number.fillna(0.0).astype(float)

    b, a = values(diff.before), values(diff.after)
    al = diff.alignment
    moved = a.to_numpy()[al.common_after] - b.to_numpy()[al.common_before]
    up, down = moved > 0, moved < 0
    removed, added = b[al.removed], a[al.added]
    return pd.DataFrame({
        "step": ["before", "removed", "added", "increases", "decreases", "after"],
        "amount": [b.sum(), -removed.sum(), added.sum(), moved[up].sum(), moved[down].sum(), a.sum()],
        "customers": [len(b), len(removed), len(added), int(up.sum()), int(down.sum()), len(a)],
        "kind": ["total", "change", "change", "change", "change", "total"]})
