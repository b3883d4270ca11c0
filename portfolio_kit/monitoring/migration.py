"""Migrations: customers moving between classes (ratings, segments, ABC classes) from one table to the next."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from portfolio_kit.monitoring.keys import Alignment, align, keyed_table

__all__ = ["RATING_SCALE", "RFM_SEGMENT_ORDER", "Migration", "migration_matrix", "migration_of_aligned",
           "label_positions"]

log = logging.getLogger(__name__)

#: Default rating scale, best first.
RATING_SCALE: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
#: The 11 segments of the usual RFM segment map, best first (the default order of ``segment_worse``).
RFM_SEGMENT_ORDER: tuple[str, ...] = (
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "Can't Lose Them", "At Risk", "Hibernating", "Lost")
NEW, GONE, MISSING = "new", "gone", "(missing)"


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


def label_positions(values: pd.Series, labels: Sequence[str]) -> np.ndarray:
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
    codes = label_positions(values, classes).astype(np.int64)
    if (codes < 0).any():
        classes.append(MISSING)
        codes[codes < 0] = len(classes) - 1
    return codes, classes


def migration_of_aligned(before: pd.DataFrame, after: pd.DataFrame, al: Alignment, column: str,
                         order: Sequence[str] | None) -> Migration:
    """:func:`migration_matrix` of two keyed tables whose customers are already matched (``al``)."""
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
    before, after = keyed_table(before, key, "before"), keyed_table(after, key, "after")
    return migration_of_aligned(before, after, align(before, after, key, match_numeric_keys), column, order)
