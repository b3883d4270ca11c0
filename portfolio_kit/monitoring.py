"""Monitoring: what changed between two portfolio snapshots, how classes migrated, what needs action.

Three steps, each a function on plain per-customer tables:

:func:`diff_snapshots`
    Two tables with one row per customer (two business-information snapshots, or the per-customer outputs of
    two runs: segment, ABC class, CLV, P(alive), DSO, aging ...) -> a :class:`SnapshotDiff` with the added
    and removed customers, one row per changed field (before, after, delta) and summaries.
:func:`migration_matrix`
    Counts and row-normalised shares of customers moving between classes (ratings, segments, ABC classes),
    with ``new`` and ``gone`` margins and a mobility summary (upgraded / stable / downgraded).
:func:`evaluate_alerts`
    Configurable rules (:func:`parse_alert_rules`, :data:`DEFAULT_ALERT_RULES`) applied to a diff: one row
    per alert with its severity, the value at stake and a readable message.

Customers are matched on their key as text: surrounding blanks are ignored and, by default, numeric-looking
keys are compared as numbers, so ``123``, ``123.0``, ``"0123"`` and ``" 123 "`` are the same customer (an
export read as numbers loses leading zeros). Tables show the key as written in the ``after`` table (the
``before`` table for removed customers).

To diff against the previous run of a client, read that run's per-customer tables and pass them as
``before``; to let every rule see every column, join each run's tables on the key first (snapshot, CLV
table, aging by customer, exposure ...), e.g. ``snapshot.merge(clv_table, on="customer_id", how="left")``.

Examples
--------
>>> before = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "rating": ["A", "BBB", "AA"],
...                        "credit_limit": [100.0, 50.0, 80.0]})
>>> after = pd.DataFrame({"customer_id": ["C1", "C2", "C4"], "rating": ["A", "B", "A"],
...                       "credit_limit": [100.0, 30.0, 10.0]})
>>> diff = diff_snapshots(before, after)
>>> diff.changes[["customer_id", "field", "before", "after", "delta"]]
  customer_id         field before after  delta
0          C2        rating    BBB     B    NaN
1          C2  credit_limit   50.0  30.0  -20.0
>>> evaluate_alerts(diff)[["customer_id", "rule", "severity"]]
  customer_id              rule severity
0          C2  credit_limit_cut     high
1          C2  rating_downgrade     high
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from portfolio_kit.report.texts import Texts

__all__ = [
    "RATING_SCALE", "RFM_SEGMENT_ORDER", "SEVERITIES", "SnapshotDiff", "Migration", "AlertRuleError",
    "snapshot_pair", "diff_snapshots", "value_bridge", "migration_matrix", "parse_alert_rules",
    "evaluate_alerts", "DEFAULT_ALERT_RULES", "ALERT_RULE_KINDS",
]

log = logging.getLogger(__name__)

#: Default rating scale, best first.
RATING_SCALE: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
#: The 11 segments of the usual RFM segment map, best first (the default order of ``segment_worse``).
RFM_SEGMENT_ORDER: tuple[str, ...] = (
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "Can't Lose Them", "At Risk", "Hibernating", "Lost")
#: Alert severities, most severe first.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
NEW, GONE, MISSING = "new", "gone", "(missing)"


# --- matching customers ------------------------------------------------------------------------------------

def _key_text(values: pd.Series) -> pd.Series:
    """Keys as stripped text; integer-valued numbers written without a decimal part (``123.0`` -> ``"123"``)."""
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.dropna(), 1) == 0):
        values = values.astype("Int64")
    text = values.astype("str").str.strip()
    return text if pd.api.types.is_string_dtype(values) else text.str.replace(r"^(\d+)\.0*$", r"\1", regex=True)


def _match_form(text: pd.Series, numeric: bool) -> pd.Series:
    """What keys are compared on: the text, or all-digit keys without leading zeros (and ``.0``)."""
    return text.str.replace(r"^0*(\d+?)(?:\.0*)?$", r"\1", regex=True) if numeric else text


def _keyed(frame: pd.DataFrame, key: str, side: str) -> pd.DataFrame:
    """``frame`` with ``key`` as a text column (taken from the index when it is named ``key``)."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{side}: expected a DataFrame with one row per customer, got {type(frame).__name__}")
    if key not in frame.columns:
        if frame.index.name != key:
            raise ValueError(f"{side}: no key column {key!r}; the table has columns {list(frame.columns)}")
        frame = frame.reset_index()
    text = _key_text(frame[key])
    empty = text.isna() | text.eq("")
    if empty.any():
        rows = ", ".join(map(str, np.flatnonzero(empty.to_numpy())[:5]))
        raise ValueError(f"{side}: {int(empty.sum())} row(s) have an empty {key!r} (row positions {rows})")
    return frame.assign(**{key: text})


@dataclass(frozen=True)
class _Alignment:
    """Which rows of ``before`` and ``after`` hold the same customer (positions, not labels)."""

    common_before: np.ndarray
    common_after: np.ndarray
    removed: np.ndarray  # bool over before rows
    added: np.ndarray  # bool over after rows


def _align(before: pd.DataFrame, after: pd.DataFrame, key: str, numeric: bool) -> _Alignment:
    forms = (_match_form(before[key], numeric), _match_form(after[key], numeric))
    codes, uniques = pd.factorize(pd.concat(forms, ignore_index=True))
    code_b, code_a = codes[: len(before)], codes[len(before):]
    for side, frame, code in (("before", before, code_b), ("after", after, code_a)):
        dup = np.bincount(code, minlength=len(uniques))[code] > 1
        if dup.any():
            shown = ", ".join(repr(k) for k in pd.unique(frame[key].to_numpy()[dup])[:5])
            how = " (numeric keys compared without leading zeros)" if numeric else ""
            raise ValueError(f"{side}: duplicate {key!r}{how}: {shown}; {int(dup.sum())} rows share a key, "
                             "each customer must appear once")
    where_after = np.full(len(uniques), -1)
    where_after[code_a] = np.arange(len(after))
    pos = where_after[code_b]
    found = pos >= 0
    added = np.ones(len(after), dtype=bool)
    added[pos[found]] = False
    return _Alignment(np.flatnonzero(found), pos[found], ~found, added)


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


def _compare(b: pd.Series, a: pd.Series, tol: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
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
    alignment: _Alignment = field(repr=False)

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

    def migration(self, column: str, order: Sequence[str] | None = None) -> "Migration":
        """The :func:`migration_matrix` of ``column`` between the two tables of this diff."""
        return _migration(self.before, self.after, self.alignment, column, order)


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
    before, after = _keyed(before, key, "before"), _keyed(after, key, "after")
    al = _align(before, after, key, match_numeric_keys)
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
        if tols.get(col, _EXACT) != _EXACT and _as_numbers(b, a) is None:
            raise ValueError(f"tolerances[{col!r}]: the column is not numeric (dtypes {b.dtype} / {a.dtype})")
        changed, delta = _compare(b, a, tols.get(col, _EXACT))
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


# --- migrations --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Migration:
    """Customers moving between classes (the result of :func:`migration_matrix`).

    Attributes
    ----------
    counts : DataFrame
        Rows = class before (plus ``new``), columns = class after (plus ``gone``); customers.
    shares : DataFrame
        ``counts`` divided by each row's total (rows sum to 1; empty rows are NaN).
    mobility : DataFrame
        ``movement`` (stable, upgraded, downgraded, unranked, new, gone), ``customers``, ``share`` (of the
        customers in both tables; NaN for new and gone). Without an order, moves are ``changed``.
    notches : DataFrame
        ``notches`` (positions moved, positive = upgrade towards the first class of ``order``),
        ``customers``, ``share``; empty without an order.
    """

    column: str
    order: tuple[str, ...] | None
    counts: pd.DataFrame = field(repr=False)
    shares: pd.DataFrame = field(repr=False)
    mobility: pd.DataFrame = field(repr=False)
    notches: pd.DataFrame = field(repr=False)


def _lookup(values: pd.Series, labels: Sequence[str]) -> np.ndarray:
    """Position of each value (blanks stripped) in ``labels``; -1 when missing or not listed."""
    codes, uniques = pd.factorize(values)
    where = pd.Index(list(labels), dtype=object).get_indexer(pd.Index(uniques).astype("str").str.strip())
    return np.where(codes >= 0, where[codes], -1)


def _classes(values: pd.Series, order: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """Codes into a class list: ``order`` first, then unlisted values (sorted), then ``(missing)``."""
    seen = pd.Index(pd.unique(values.dropna())).astype("str").str.strip()
    extra = sorted(set(seen) - set(order or ()))
    if order is not None and extra:
        log.info("%s: values not in the order, listed after it and left out of up/down: %s", values.name, extra)
    classes = list(order or ()) + extra
    codes = _lookup(values, classes).astype(np.int64)
    if (codes < 0).any():
        classes.append(MISSING)
        codes[codes < 0] = len(classes) - 1
    return codes, classes


def _migration(before: pd.DataFrame, after: pd.DataFrame, al: _Alignment, column: str,
               order: Sequence[str] | None) -> Migration:
    for side, frame in (("before", before), ("after", after)):
        if column not in frame.columns:
            raise ValueError(f"migration_matrix: {side} has no column {column!r}; it has {list(frame.columns)}")
    order = tuple(order) if order is not None else None
    if order is not None and len(set(order)) != len(order):
        raise ValueError(f"migration_matrix: order has repeated classes: {list(order)}")
    code_b, cls = _classes(pd.concat([before[column], after[column]], ignore_index=True).rename(column), order)
    code_b, code_a = code_b[: len(before)], code_b[len(before):]
    k = len(cls)
    rows = np.concatenate([code_b, np.full(int(al.added.sum()), k)])
    after_of_before = np.full(len(before), k)
    after_of_before[al.common_before] = code_a[al.common_after]
    cols = np.concatenate([after_of_before, code_a[al.added]])
    counts = np.bincount(rows * (k + 1) + cols, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)
    counts = pd.DataFrame(counts, index=pd.Index(cls + [NEW], name=f"{column} before"),
                          columns=pd.Index(cls + [GONE], name=f"{column} after"))
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0)
    b, a = code_b[al.common_before], code_a[al.common_after]
    n_both = len(b)
    ranked = np.full(n_both, order is not None) & (b < len(order or ())) & (a < len(order or ()))
    moved = b - a  # positive: towards the first class
    movements = {"stable": int((b == a).sum())}
    if order is not None:
        movements |= {"upgraded": int((ranked & (moved > 0)).sum()), "downgraded": int((ranked & (moved < 0)).sum()),
                      "unranked": int((~ranked & (b != a)).sum())}
    else:
        movements["changed"] = int((b != a).sum())
    mobility = pd.DataFrame({"movement": list(movements) + [NEW, GONE],
                             "customers": list(movements.values()) + [int(al.added.sum()), int(al.removed.sum())]})
    mobility["share"] = (mobility["customers"] / n_both if n_both else np.nan)
    mobility.loc[mobility["movement"].isin([NEW, GONE]), "share"] = np.nan
    steps = pd.Series(moved[ranked]).value_counts().sort_index()
    notches = pd.DataFrame({"notches": steps.index.astype(int), "customers": steps.to_numpy(dtype=int)})
    notches["share"] = notches["customers"] / max(int(ranked.sum()), 1)
    return Migration(column=column, order=order, counts=counts, shares=shares, mobility=mobility, notches=notches)


def migration_matrix(before: pd.DataFrame, after: pd.DataFrame, column: str, order: Sequence[str] | None = None,
                     key: str = "customer_id", match_numeric_keys: bool = True) -> Migration:
    """Transition counts and row shares of ``column`` between two per-customer tables.

    Rows are the class before (plus ``new`` for added customers), columns the class after (plus ``gone``
    for removed customers); ``shares[i, j] = counts[i, j] / sum_j counts[i, j]``. With an ``order`` (best
    first, e.g. :data:`RATING_SCALE` or ``["A", "B", "C"]``) a move towards the first class is an upgrade
    and ``notches`` counts the positions moved; classes outside the order come after it, and a missing
    class is ``(missing)``; both are left out of up/down ("unranked").

    Examples
    --------
    >>> b = pd.DataFrame({"customer_id": ["1", "2", "3"], "rating": ["A", "BBB", "A"]})
    >>> a = pd.DataFrame({"customer_id": ["1", "2", "4"], "rating": ["BBB", "BBB", "A"]})
    >>> m = migration_matrix(b, a, "rating", order=["A", "BBB"])
    >>> m.counts  # doctest: +NORMALIZE_WHITESPACE
    rating after  A  BBB  gone
    rating before
    A             0    1     1
    BBB           0    1     0
    new           1    0     0
    """
    before, after = _keyed(before, key, "before"), _keyed(after, key, "after")
    return _migration(before, after, _align(before, after, key, match_numeric_keys), column, order)


# --- alert rules -------------------------------------------------------------------------------------------

class AlertRuleError(ValueError):
    """An alert rule of the config is unknown or malformed (the message names the rule)."""


_EXACT = (0.0, 0.0)
_TEMPLATE_FIELDS = ("customer", "customer_id", "rule", "severity", "field", "before", "after", "value",
                    "threshold")


class _Rule(BaseModel):
    """Fields every rule has; subclasses add their thresholds and implement :meth:`find`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    severity: Literal["high", "medium", "low"]
    message: str | None = None

    #: Whether every column of :meth:`columns` is needed (else: at least one).
    NEEDS_ALL: ClassVar[bool] = True
    #: How ``before``, ``after``, ``value``, ``threshold`` are written in messages: text, number, signed,
    #: percent, amount (whole currency units).
    FORMATS: ClassVar[dict[str, str]] = {}

    @field_validator("message")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            parts = list(string.Formatter().parse(v))
        except ValueError as exc:
            raise ValueError(f"message template is not valid: {exc}") from None
        for _, name, spec, conv in parts:
            if name is not None and name not in _TEMPLATE_FIELDS:
                raise ValueError(f"message template: unknown placeholder {{{name}}}; "
                                 f"use some of {', '.join('{' + f + '}' for f in _TEMPLATE_FIELDS)}")
            if spec or conv:
                raise ValueError(f"message template: {{{name}}} has a format; values are written ready-made")
        return v

    def columns(self) -> list[str]:
        """Columns the rule needs (it is skipped when one is in neither table)."""
        return [getattr(self, "column")]

    def find(self, diff: SnapshotDiff, rating_scale: Sequence[str]) -> pd.DataFrame:
        """The customers the rule flags: index = key; ``field``, ``before``, ``after``, ``value``,
        ``threshold``."""
        raise NotImplementedError


def _hits(pair: pd.DataFrame, mask: np.ndarray, field: str, value, threshold) -> pd.DataFrame:
    out = pair[mask].assign(field=field)
    out["value"] = np.asarray(value, dtype=float)[mask] if np.ndim(value) else float(value)
    out["threshold"] = np.asarray(threshold, dtype=float)[mask] if np.ndim(threshold) else float(threshold)
    return out


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _positions(values: pd.Series, order: Sequence[str], what: str) -> np.ndarray:
    """Position of each value in ``order`` (NaN when missing or not listed; the latter is logged)."""
    codes = _lookup(values, order).astype(float)
    off = (codes < 0) & values.notna().to_numpy()
    if off.any():
        log.info("%s: %d value(s) not on the scale ignored: %s", what, int(off.sum()),
                 sorted(pd.unique(values[off].astype(str)))[:5])
    codes[codes < 0] = np.nan
    return codes


class RatingDowngrade(_Rule):
    """Rating moved ``notches`` or more positions down the scale (``scale`` or the evaluation's scale)."""

    name: Literal["rating_downgrade"]
    notches: int = Field(1, ge=1)
    column: str = "rating"
    scale: list[str] | None = None
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        scale = self.scale or rating_scale
        down = (_positions(pair["after"], scale, self.column) - _positions(pair["before"], scale, self.column))
        with np.errstate(invalid="ignore"):
            return _hits(pair, down >= self.notches, self.column, down, self.notches)


class ScoreChange(_Rule):
    """Failure or delinquency score moved by ``points`` or more (``direction``: any, up or down)."""

    name: Literal["score_change"]
    points: float = Field(10.0, gt=0)
    columns_: list[str] = Field(["failure_score", "delinquency_score"], alias="columns", min_length=1)
    direction: Literal["any", "up", "down"] = "any"
    NEEDS_ALL = False
    FORMATS = {"before": "number", "after": "number", "value": "signed", "threshold": "number"}

    def columns(self):
        return list(self.columns_)

    def find(self, diff, rating_scale):
        found = []
        for col in self.columns_:
            if not diff.has(col):
                log.info("score_change: column %r not in the tables, not checked", col)
                continue
            pair = diff.pair(col)
            delta = _numbers(pair["after"]) - _numbers(pair["before"])
            moved = {"any": np.abs(delta), "up": delta, "down": -delta}[self.direction]
            with np.errstate(invalid="ignore"):
                found.append(_hits(pair, moved >= self.points, col, delta, self.points))
        return pd.concat(found) if found else None


class CreditLimitCut(_Rule):
    """Credit limit reduced by ``min_cut`` (a share, 0.2 = 20%) or more of a positive previous limit."""

    name: Literal["credit_limit_cut"]
    min_cut: float = Field(0.2, gt=0, le=1)
    column: str = "credit_limit"
    FORMATS = {"before": "amount", "after": "amount", "value": "percent", "threshold": "percent"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        with np.errstate(invalid="ignore", divide="ignore"):
            cut = np.where(b > 0, (b - a) / b, np.nan)
            return _hits(pair, cut >= self.min_cut - 1e-12, self.column, cut, self.min_cut)


class ExposureOverLimit(_Rule):
    """Exposure above the credit limit by more than ``min_excess`` (a share of the limit); with ``new_only``
    only customers not above their limit before (added customers included). ``threshold`` = the limit."""

    name: Literal["exposure_over_limit"]
    exposure_column: str = "exposure"
    limit_column: str = "credit_limit"
    min_excess: float = Field(0.0, ge=0)
    new_only: bool = True
    FORMATS = {"before": "amount", "after": "amount", "value": "amount", "threshold": "amount"}

    def columns(self):
        return [self.exposure_column, self.limit_column]

    def find(self, diff, rating_scale):
        exposure, limit = diff.pair(self.exposure_column, added=True), diff.pair(self.limit_column, added=True)
        with np.errstate(invalid="ignore"):
            over = {side: _numbers(exposure[side]) > _numbers(limit[side]) * (1 + self.min_excess)
                    for side in ("before", "after")}
            excess = _numbers(exposure["after"]) - _numbers(limit["after"])
        mask = over["after"] & ~over["before"] if self.new_only else over["after"]
        return _hits(exposure, mask, self.exposure_column, excess, _numbers(limit["after"]))


class NewOverdue(_Rule):
    """Amount overdue more than 30 days (the sum of ``columns``) grew by more than ``min_amount``
    (missing before, e.g. an added customer, counts as 0)."""

    name: Literal["new_overdue"]
    columns_: list[str] = Field(["31-60", "61-90", "91+"], alias="columns", min_length=1)
    min_amount: float = Field(0.0, ge=0)
    FORMATS = {"before": "amount", "after": "amount", "value": "amount", "threshold": "amount"}

    def columns(self):
        return list(self.columns_)

    def find(self, diff, rating_scale):
        pairs = [diff.pair(c, added=True) for c in self.columns_]
        total = pd.DataFrame({side: sum(np.nan_to_num(_numbers(p[side])) for p in pairs)
                              for side in ("before", "after")}, index=pairs[0].index)
        rise = total["after"].to_numpy() - total["before"].to_numpy()
        return _hits(total, rise > self.min_amount, " + ".join(self.columns_), rise, self.min_amount)


class OfficersChange(_Rule):
    """The officers changed (any difference in the text)."""

    name: Literal["officers_change"]
    column: str = "officers"
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        changed, _ = _compare(pair["before"], pair["after"], _EXACT)
        return _hits(pair, changed, self.column, np.nan, np.nan)


class ShareCapitalChange(_Rule):
    """Share capital changed by more than ``min_change`` (a share of the previous capital; 0 = any change)."""

    name: Literal["share_capital_change"]
    column: str = "share_capital"
    min_change: float = Field(0.0, ge=0)
    FORMATS = {"before": "amount", "after": "amount", "value": "signed percent", "threshold": "percent"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(b != 0, (a - b) / np.abs(b), np.inf * np.sign(a))
            return _hits(pair, (a != b) & ~np.isnan(a) & ~np.isnan(b) & (np.abs(rel) > self.min_change),
                         self.column, rel, self.min_change)


class PAliveDrop(_Rule):
    """A customer of ``classes`` (in either run) whose P(alive) fell from at least ``threshold`` to below."""

    name: Literal["p_alive_drop"]
    threshold: float = Field(0.5, gt=0, le=1)
    p_alive_column: str = "p_alive"
    class_column: str = "abc_class"
    classes: list[str] = ["A"]
    FORMATS = {"before": "percent", "after": "percent", "value": "signed percent", "threshold": "percent"}

    def columns(self):
        return [self.p_alive_column, self.class_column]

    def find(self, diff, rating_scale):
        pair, cls = diff.pair(self.p_alive_column), diff.pair(self.class_column)
        top = (cls["before"].astype("str").isin(self.classes) | cls["after"].astype("str").isin(self.classes))
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        fell = top.to_numpy() & (b >= self.threshold) & (a < self.threshold)
        return _hits(pair, fell, self.p_alive_column, a - b, self.threshold)


class SegmentWorse(_Rule):
    """Moved ``min_steps`` or more positions down ``order`` (best first; default the RFM segment map)."""

    name: Literal["segment_worse"]
    column: str = "segment"
    order: list[str] = list(RFM_SEGMENT_ORDER)
    min_steps: int = Field(1, ge=1)
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        steps = _positions(pair["after"], self.order, self.column) - _positions(pair["before"], self.order,
                                                                               self.column)
        with np.errstate(invalid="ignore"):
            return _hits(pair, steps >= self.min_steps, self.column, steps, self.min_steps)


#: Rule kinds by the ``name`` used in the config.
ALERT_RULE_KINDS: dict[str, type[_Rule]] = {
    get_args(cls.model_fields["name"].annotation)[0]: cls
    for cls in (RatingDowngrade, ScoreChange, CreditLimitCut, ExposureOverLimit, NewOverdue, OfficersChange,
                ShareCapitalChange, PAliveDrop, SegmentWorse)}


def parse_alert_rules(rules: Sequence[Mapping[str, Any] | _Rule]) -> tuple[_Rule, ...]:
    """Check the ``alerts`` list of the config and turn it into rules.

    Each rule is a mapping with ``name`` (one of :data:`ALERT_RULE_KINDS`), ``severity`` (high, medium,
    low), an optional ``message`` template (placeholders ``{customer}`` (name and id), ``{customer_id}``,
    ``{rule}``, ``{severity}``, ``{field}``, ``{before}``, ``{after}``, ``{value}``, ``{threshold}``) and the
    kind's own fields:

    ========================  ==============================================================================
    rating_downgrade          ``notches`` (1), ``column`` (rating), ``scale`` (the evaluation's scale)
    score_change              ``points`` (10), ``columns`` ([failure_score, delinquency_score]),
                              ``direction`` (any / up / down)
    credit_limit_cut          ``min_cut`` (0.2 = 20%), ``column`` (credit_limit)
    exposure_over_limit       ``exposure_column`` (exposure), ``limit_column`` (credit_limit),
                              ``min_excess`` (0.0, share of the limit), ``new_only`` (true)
    new_overdue               ``columns`` ([31-60, 61-90, 91+], the aging buckets; summed),
                              ``min_amount`` (0)
    officers_change           ``column`` (officers)
    share_capital_change      ``column`` (share_capital), ``min_change`` (0.0 = any change)
    p_alive_drop              ``threshold`` (0.5), ``p_alive_column`` (p_alive), ``class_column``
                              (abc_class), ``classes`` ([A])
    segment_worse             ``column`` (segment), ``order`` (the RFM segment map, best first),
                              ``min_steps`` (1)
    ========================  ==============================================================================

    Raises
    ------
    AlertRuleError
        Naming the rule (position and name): unknown name, unknown field, missing severity, bad value.

    Examples
    --------
    >>> parse_alert_rules([{"name": "rating_downgrade", "notches": 2, "severity": "high"}])[0].notches
    2

    Rules back to config mappings (e.g. to write the defaults into a ``portfolio.yaml``):

    >>> [r.model_dump(by_alias=True, exclude_none=True) for r in DEFAULT_ALERT_RULES][0]
    {'name': 'rating_downgrade', 'severity': 'high', 'notches': 2, 'column': 'rating'}
    """
    parsed = []
    for i, rule in enumerate(rules, start=1):
        if isinstance(rule, _Rule):
            parsed.append(rule)
            continue
        if not isinstance(rule, Mapping):
            raise AlertRuleError(f"alert rule #{i}: expected a mapping with 'name' and 'severity', got {rule!r}")
        name = rule.get("name")
        if name not in ALERT_RULE_KINDS:
            raise AlertRuleError(f"alert rule #{i}: unknown rule name {name!r}; known: {', '.join(ALERT_RULE_KINDS)}")
        kind = ALERT_RULE_KINDS[name]
        allowed = {f.alias or n for n, f in kind.model_fields.items()}
        unknown = sorted(set(rule) - allowed)
        if unknown:
            raise AlertRuleError(f"alert rule #{i} ({name}): unknown field(s) {unknown}; "
                                 f"allowed: {sorted(allowed)}")
        try:
            parsed.append(kind.model_validate(dict(rule)))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}"
                                 for e in exc.errors(include_url=False))
            raise AlertRuleError(f"alert rule #{i} ({name}): {problems}") from None
    return tuple(parsed)


#: The rules of the monitoring issue with default thresholds (two tiers for rating downgrades).
DEFAULT_ALERT_RULES: tuple[_Rule, ...] = parse_alert_rules([
    {"name": "rating_downgrade", "notches": 2, "severity": "high"},
    {"name": "rating_downgrade", "notches": 1, "severity": "medium"},
    {"name": "score_change", "points": 10, "severity": "medium"},
    {"name": "credit_limit_cut", "min_cut": 0.2, "severity": "high"},
    {"name": "exposure_over_limit", "min_excess": 0.0, "severity": "high"},
    {"name": "new_overdue", "min_amount": 0.0, "severity": "medium"},
    {"name": "officers_change", "severity": "low"},
    {"name": "share_capital_change", "min_change": 0.0, "severity": "low"},
    {"name": "p_alive_drop", "threshold": 0.5, "severity": "high"},
    {"name": "segment_worse", "min_steps": 1, "severity": "medium"},
])

_ALERT_COLUMNS = ["rule", "severity", "field", "before", "after", "value", "threshold", "value_at_stake",
                  "message"]
_STAKE_COLUMNS = ("exposure", "clv", "credit_limit")


def _written(values: pd.Series, how: str, texts: Texts | None = None) -> pd.Series:
    """Values as message text, vectorised; missing -> ``n/a``.

    Without ``texts`` plainly (``1000``, ``20%``, ``-50%``); with it the language's way: amounts with the
    currency and thousands separators (``EUR 1.000``), decimal marks, category labels translated."""
    x = pd.Series(values, copy=False)
    if texts is not None:
        return _written_in(x, how, texts)
    if how == "text":
        out = x.astype("str")
    else:
        num = _numbers(x)
        fmt = {"number": "%.10g", "signed": "%+.10g", "amount": "%.0f", "percent": "%.0f%%",
               "signed percent": "%+.0f%%"}[how]
        out = pd.Series(np.strings.mod(fmt, num * 100 if "percent" in how else num), index=x.index, dtype="str")
        out = out.mask(np.isnan(num))
    return out.fillna("n/a")


def _written_in(x: pd.Series, how: str, texts: Texts) -> pd.Series:
    """:func:`_written` in ``texts``' language."""
    if how == "text":
        text = x.astype("str")
        out = text.map(_labels(text.dropna(), texts.label)).astype(object)
        return out.where(out.notna(), texts("common.not_available"))
    num = _numbers(x)
    if how in ("number", "signed"):
        out = pd.Series(np.strings.mod("%+.10g" if how == "signed" else "%.10g", num), index=x.index, dtype=object)
        out = out.str.replace(".", texts.number_format.decimal, regex=False).mask(np.isnan(num))
    elif how == "amount":
        out = texts.currency + " " + texts.numbers(pd.Series(num, index=x.index)).mask(np.isnan(num))
    else:  # percent, signed percent
        out = texts.numbers(pd.Series(num * 100, index=x.index), signed=how == "signed percent") + "%"
        out = out.mask(np.isnan(num))
    return out.fillna(texts("common.not_available"))


def _labels(values: pd.Series, translate) -> dict[str, str]:
    """``{value: translated}`` over the distinct values (category labels repeat across many rows)."""
    return {v: str(translate(v)) for v in pd.unique(values)}


def _render(rule: _Rule, found: pd.DataFrame, key: str, customer: pd.Series, texts: Texts | None = None
            ) -> pd.Series:
    """The rule's message for every row of ``found``, by concatenating whole columns: the rule's own
    ``message`` or the catalogue's ``monitoring.alert_message.<rule>`` in the language of ``texts``
    (English without it)."""
    fields = found["field"].astype("str")
    values = {"customer": customer, "customer_id": pd.Series(found[key], dtype="str"),
              "rule": rule.name, "severity": rule.severity,
              "field": fields if texts is None else fields.map(_labels(fields, texts.column))}
    values |= {c: _written(found[c], rule.FORMATS.get(c, "number"), texts)
               for c in ("before", "after", "value", "threshold")}
    t = texts or Texts("en")
    if texts is not None:
        values |= {"rule": t.label(rule.name), "severity": t.label(rule.severity)}
    return t.fill(rule.message or t.template(f"monitoring.alert_message.{rule.name}"), found.index, **values)


def evaluate_alerts(diff: SnapshotDiff, rules: Sequence[Mapping[str, Any] | _Rule] | None = DEFAULT_ALERT_RULES,
                    rating_scale: Sequence[str] = RATING_SCALE, value_column: str | None = None,
                    texts: Texts | None = None) -> pd.DataFrame:
    """Apply alert rules to a diff: one row per alert, most severe and most valuable first.

    Rules whose columns are in neither table are skipped with a logged note. A customer flagged by several
    rules of the same name on the same field (tiers, e.g. downgrade >= 1 medium, >= 2 high) keeps only the
    most severe alert.

    Parameters
    ----------
    diff : SnapshotDiff
        From :func:`diff_snapshots`, on tables holding the columns the rules read (join the snapshot and
        the runs' per-customer tables on the key first to use them all).
    rules : sequence of mappings or parsed rules
        The config's ``alerts`` list (see :func:`parse_alert_rules`); ``None`` (no ``alerts`` in the config)
        means :data:`DEFAULT_ALERT_RULES`.
    rating_scale : sequence of str
        Rating classes, best first (used by ``rating_downgrade`` rules without their own ``scale``).
    value_column : str, optional
        Per-customer amount at stake, used to rank alerts; default the first of ``exposure``, ``clv``,
        ``credit_limit`` present (after value, else before).
    texts : Texts, optional
        The report language of the messages (``texts.for_config(cfg)``): the catalogue's templates
        (``monitoring.alert_message.<rule>``) in that language, amounts with the currency and thousands
        separators, fields and categories translated. Without it messages are in English with values
        written plainly (``from 1000 to 800``), as rules' own ``message`` templates expect.

    Returns
    -------
    DataFrame with ``<key>``, ``rule``, ``severity`` (ordered categorical high > medium > low), ``field``,
    ``before``, ``after``, ``value`` (notches, points, share cut, amount ... per rule), ``threshold``,
    ``value_at_stake``, ``message``; sorted by severity, value at stake (descending), rule and key.

    Examples
    --------
    >>> b = pd.DataFrame({"customer_id": ["1"], "rating": ["A"], "credit_limit": [100.0]})
    >>> a = pd.DataFrame({"customer_id": ["1"], "rating": ["BB"], "credit_limit": [100.0]})
    >>> evaluate_alerts(diff_snapshots(b, a)).loc[0, "message"]
    '1: rating downgraded from A to BB (notches: 2)'
    """
    rules = parse_alert_rules(DEFAULT_ALERT_RULES if rules is None else rules)
    key = diff.key
    if value_column is not None and not diff.has(value_column):
        raise ValueError(f"value_column {value_column!r} is in neither table")
    stake_col = value_column or next((c for c in _STAKE_COLUMNS if diff.has(c)), None)
    stake = None
    if stake_col:
        pair = diff.pair(stake_col, added=True)
        stake = pd.Series(_numbers(pair["after"]), index=pair.index).fillna(pd.Series(_numbers(pair["before"]),
                                                                                     index=pair.index))
    names = diff.pair("name", added=True)["after"] if "name" in diff.after.columns else None
    found_all = []
    for rule in rules:
        missing = [c for c in rule.columns() if not diff.has(c)]
        if missing and (rule.NEEDS_ALL or len(missing) == len(rule.columns())):
            log.info("alert rule %s skipped: column(s) %s not in the tables", rule.name, missing)
            continue
        found = rule.find(diff, rating_scale)
        if found is None or found.empty:
            continue
        found = found.rename_axis(key).reset_index()
        ids = found[key].astype("str")
        customer = ids
        if names is not None:
            name = names.reindex(found[key]).astype("str").str.strip().set_axis(found.index)
            customer = (name + " (" + ids + ")").where(name.fillna("").str.len() > 0, ids)
        found["message"] = _render(rule, found, key, customer, texts)
        found["rule"], found["severity"] = rule.name, rule.severity
        found["value_at_stake"] = np.nan if stake is None else stake.reindex(found[key]).to_numpy()
        found_all.append(found)
    if not found_all:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [key, *_ALERT_COLUMNS]}).astype(
            {"severity": pd.CategoricalDtype(SEVERITIES, ordered=True)})
    alerts = pd.concat(found_all, ignore_index=True)[[key, *_ALERT_COLUMNS]]
    alerts["severity"] = pd.Categorical(alerts["severity"], categories=SEVERITIES, ordered=True)
    alerts = (alerts.sort_values("severity", kind="stable")
              .drop_duplicates([key, "rule", "field"])
              .sort_values(["severity", "value_at_stake", "rule", key], ascending=[True, False, True, True],
                           na_position="last", kind="stable"))
    return alerts.reset_index(drop=True)
