"""Who the customers are and which groups behave alike: per-customer summary, RFM scores and segments,
revenue bands and customer attributes, value classes, segment profiles and ranked lists per segment.

Everything starts from :func:`customer_summary` (one row per customer, computed once from the canonical
transactions); the other functions add columns to that table or group it. :func:`customer_segments` does all
of it in one call and gives the customer -> band, RFM segment, value class, ABC class table that goes to Excel.

Conventions
-----------
- A *purchase* is a transaction line with ``amount > 0``; lines with ``amount < 0`` are credit notes or
  returns. Recency, tenure and frequency use purchases only; revenue and margin are net (credit notes
  subtracted).
- Only transactions in ``[start, as_of]`` count; ``as_of`` defaults to the last transaction date.
- Optional columns (``margin``, ``product``, ``channel``) are used when present and not entirely empty.

Examples
--------
>>> from portfolio_kit.data.datasets import load_cdnow
>>> table = customer_segments(load_cdnow(), as_of="1998-06-30")
>>> segment_profile(table, by="segment")                     # doctest: +SKIP
>>> ranked_customers(table, by="segment")                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_kit.concentration import abc_classes
from portfolio_kit.data.schemas import key_figures_table

__all__ = [
    "RFM_SEGMENT_MAP",
    "REVENUE_BAND_EDGES",
    "ValueClassRules",
    "customer_summary",
    "transactions_in_window",
    "check_customers",
    "join_customers",
    "rfm_scores",
    "rfm_table",
    "revenue_bands",
    "value_classes",
    "segment_profile",
    "ranked_customers",
    "customer_segments",
    "key_figures",
    "AT_RISK_SEGMENTS",
    "segment_summary",
]

logger = logging.getLogger(__name__)

#: RFM segment map: segment -> regular expression over the two-digit cell code ``f"{r_score}{fm_score}"``.
#: The eleven segments are those of the widely used RFM map published by Putler, defined on the R score and the
#: FM score (its "Recent Customers" and "Customers Needing Attention" are called New Customers and Need
#: Attention here). Putler gives overlapping score ranges; this map gives each cell of the 5x5 grid one segment,
#: as the grid popularised with it does (e.g. Champions R 5 / FM 4-5, Loyal Customers R 3-4 / FM 4-5), with
#: Lost split from Hibernating as its R = 1 cells. First row = R 5, columns FM 1..5::
#:
#:     R5  New Customers   Potential Loyalist  Potential Loyalist  Champions        Champions
#:     R4  Promising       Potential Loyalist  Potential Loyalist  Loyal Customers  Loyal Customers
#:     R3  About to Sleep  About to Sleep      Need Attention      Loyal Customers  Loyal Customers
#:     R2  Hibernating     Hibernating         At Risk             At Risk          Can't Lose Them
#:     R1  Lost            Lost                At Risk             At Risk          Can't Lose Them
#:
#: A config may replace it with any dict of the same shape whose patterns cover the 25 cells exactly once.
RFM_SEGMENT_MAP: dict[str, str] = {
    "Champions": r"5[4-5]",
    "Loyal Customers": r"[3-4][4-5]",
    "Potential Loyalist": r"[4-5][2-3]",
    "New Customers": r"51",
    "Promising": r"41",
    "Need Attention": r"33",
    "About to Sleep": r"3[1-2]",
    "At Risk": r"[1-2][3-4]",
    "Can't Lose Them": r"[1-2]5",
    "Hibernating": r"2[1-2]",
    "Lost": r"1[1-2]",
}

#: Default revenue band edges (currency units): <= 0, 0-10k, 10k-50k, 50k-250k, 250k-1M, > 1M.
REVENUE_BAND_EDGES: tuple[float, ...] = (0, 10_000, 50_000, 250_000, 1_000_000)

_SCORES = 5  # RFM scores are quintiles: 1 (worst) .. 5 (best)


@dataclass(frozen=True)
class ValueClassRules:
    """Rules of the value classes (:func:`value_classes`); a config overrides them with a dict of these fields.

    Attributes
    ----------
    new_days : first purchase at most this many days before ``as_of`` -> *new*.
    recurring_purchases, active_days : at least this many purchase days and a purchase in the last
        ``active_days`` -> *recurring*.
    most_profitable_share : the top customers by margin (revenue when there is no margin) that together make
        this share of it, i.e. ABC class A with this threshold -> *most profitable*.
    complex_products, complex_channels, complex_credit_notes : at least this many distinct products, or
        channels, or credit notes (negative lines) -> *complex*.
    no_value_revenue, no_value_margin : net revenue, or margin when known, at or below this -> *no value*.
    priority : order in which the flags decide the single ``value_class``; customers with no flag are
        ``"other"``.
    """

    new_days: int = 365
    recurring_purchases: int = 3
    active_days: int = 365
    most_profitable_share: float = 0.5
    complex_products: int = 20
    complex_channels: int = 3
    complex_credit_notes: int = 3
    no_value_revenue: float = 0.0
    no_value_margin: float = 0.0
    priority: tuple[str, ...] = ("most profitable", "no value", "complex", "new", "recurring")


# --------------------------------------------------------------------------------------------- helpers
def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {missing}; available: {list(frame.columns)}")


def _present(frame: pd.DataFrame, column: str) -> bool:
    """An optional column that is there and not entirely empty."""
    return column in frame.columns and bool(frame[column].notna().any())


def transactions_in_window(transactions: pd.DataFrame, as_of=None, start=None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The checked transactions dated in ``[start, as_of]`` (``as_of`` default: the last date) and ``as_of``."""
    _require(transactions, ("customer_id", "date", "amount"), "transactions")
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise TypeError(f"transactions: column 'date' must be datetime64, got {transactions['date'].dtype}")
    if not pd.api.types.is_numeric_dtype(transactions["amount"]):
        raise TypeError(f"transactions: column 'amount' must be numeric, got {transactions['amount'].dtype}")
    for column in ("customer_id", "date", "amount"):
        missing = int(transactions[column].isna().sum())
        if missing:
            raise ValueError(f"transactions: column {column!r} has {missing} missing value(s)")
    if transactions.empty:
        raise ValueError("transactions: no rows")
    as_of = transactions["date"].max() if as_of is None else pd.Timestamp(as_of)
    keep = transactions["date"] <= as_of
    if start is not None:
        keep &= transactions["date"] >= pd.Timestamp(start)
    if not keep.all():
        logger.info("transactions: %d of %d rows outside [%s, %s] left out", (~keep).sum(), keep.size, start,
                    as_of.date())
    if not keep.any():
        raise ValueError(f"transactions: no rows between {start} and {as_of.date()}")
    return transactions[keep], as_of


def _distinct_per_customer(codes: np.ndarray, other, n: int) -> np.ndarray:
    """Number of distinct non-missing ``other`` values per customer code ``0..n-1`` (sort, not hashing)."""
    other_codes, uniques = pd.factorize(other)
    keep = other_codes >= 0
    width = max(len(uniques), 1)
    pairs = np.sort(codes[keep].astype(np.int64) * width + other_codes[keep])
    first = np.r_[True, pairs[1:] != pairs[:-1]][: pairs.size]
    return np.bincount(pairs[first] // width, minlength=n)


def _quintile_score(values: np.ndarray) -> np.ndarray:
    """Scores 1..5 from ranks: ``1 + floor(5 k / n)``, ``k`` the number of customers with a strictly smaller value.

    Without ties these are quintiles (``n / 5`` customers per score when ``n`` is a multiple of 5, as ``qcut``
    on ranks); equal values always share a score (the lowest their tie group reaches), so a large tie group,
    e.g. the many single-purchase customers, all score 1 and the other scores get fewer customers. It never
    fails, whatever the ties.
    """
    smaller = np.searchsorted(np.sort(values), values, side="left")
    return (1 + (_SCORES * smaller) // values.size).astype(np.int8)


def _on_buyers(values: np.ndarray, buyer: np.ndarray, fill) -> np.ndarray:
    """Values computed for the buyers, spread over all customers with ``fill`` elsewhere."""
    out = np.full(buyer.size, fill, dtype=values.dtype if fill is not None else object)
    out[buyer] = values
    return out


def _segment_lookup(segment_map: Mapping[str, str]) -> tuple[list[str], np.ndarray]:
    """Segment names and an array ``code -> segment index`` over ``10 * r + fm``; checks the map is a partition."""
    owners: dict[str, list[str]] = {f"{r}{fm}": [] for r in range(1, _SCORES + 1) for fm in range(1, _SCORES + 1)}
    for segment, pattern in segment_map.items():
        if not isinstance(pattern, str):
            raise TypeError(f"segment_map[{segment!r}]: expected a regular expression string, got {pattern!r}")
        for cell, cell_owners in owners.items():
            if re.fullmatch(pattern, cell):
                cell_owners.append(segment)
    uncovered = [cell for cell, o in owners.items() if not o]
    overlapping = {cell: o for cell, o in owners.items() if len(o) > 1}
    if uncovered or overlapping:
        raise ValueError(f"segment_map must cover each R x FM cell once: uncovered {uncovered}, "
                         f"claimed twice {overlapping}")
    names = list(segment_map)
    lookup = np.full(10 * _SCORES + _SCORES + 1, -1)
    for cell, (segment,) in owners.items():
        lookup[int(cell)] = names.index(segment)
    return names, lookup


def _compact(x: float) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:g}{suffix}"
    return f"{x:g}"


# --------------------------------------------------------------------------------------------- per customer
def customer_summary(transactions: pd.DataFrame, customers: pd.DataFrame | None = None, as_of=None, *,
                     start=None) -> pd.DataFrame:
    """One row per customer: dates, recency, frequency, net revenue and margin, credit notes, breadth.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions: ``customer_id``, ``date``, ``amount``, optional ``margin``, ``product``,
        ``channel``.
    customers : DataFrame, optional
        Canonical customers: their attributes (``sector``, ``region``, ``channel``, ``size_class`` ...) are
        joined in; customers without transactions get zero counts and revenue, and missing dates.
    as_of, start : date-like, optional
        The analysis date (default: last transaction) and the first date counted (default: all history).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: the customers' attributes, then ``first_purchase``, ``last_purchase``,
        ``recency`` (days from the last purchase to ``as_of``), ``tenure`` (days from the first purchase),
        ``frequency`` (number of distinct purchase days; unlike the CLV summary this counts the first one),
        ``revenue`` (net), ``margin`` (net, when known), ``lines``, ``credit_notes`` (lines with amount < 0),
        ``credit_amount`` (their total, positive), ``n_products`` and ``n_channels`` (when known).

    Raises
    ------
    ValueError
        Missing columns or values, or no transaction in the window.
    """
    tx, as_of = transactions_in_window(transactions, as_of, start)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    amount = tx["amount"].to_numpy(dtype=float)
    is_purchase, is_credit = amount > 0, amount < 0
    day = tx["date"].to_numpy().astype("datetime64[D]")
    dates = pd.DataFrame({"code": codes[is_purchase], "day": day[is_purchase]}).groupby("code")["day"]
    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    out["first_purchase"] = dates.min().reindex(range(n)).to_numpy().astype("datetime64[ns]")
    out["last_purchase"] = dates.max().reindex(range(n)).to_numpy().astype("datetime64[ns]")
    out["recency"] = (as_of - out["last_purchase"]).dt.days.astype(float)
    out["tenure"] = (as_of - out["first_purchase"]).dt.days.astype(float)
    out["frequency"] = _distinct_per_customer(codes[is_purchase], day[is_purchase], n)
    out["revenue"] = np.bincount(codes, weights=amount, minlength=n)
    if _present(tx, "margin"):
        out["margin"] = np.bincount(codes, weights=tx["margin"].fillna(0).to_numpy(dtype=float), minlength=n)
    out["lines"] = np.bincount(codes, minlength=n)
    out["credit_notes"] = np.bincount(codes[is_credit], minlength=n)
    out["credit_amount"] = -np.bincount(codes[is_credit], weights=amount[is_credit], minlength=n)
    for column in ("product", "channel"):
        if _present(tx, column):
            out[f"n_{column}s"] = _distinct_per_customer(codes, tx[column], n)
    return out if customers is None else join_customers(out, customers)


def check_customers(customers: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless the customer master has a ``customer_id`` column without duplicates."""
    _require(customers, ("customer_id",), "customers")
    if customers["customer_id"].duplicated().any():
        raise ValueError(f"customers: duplicated customer_id, e.g. "
                         f"{customers['customer_id'][customers['customer_id'].duplicated()].iloc[0]!r}")


def join_customers(summary: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The customers' attributes joined to a :func:`customer_summary` (indexed by ``customer_id``); customers
    without transactions get zero counts and amounts and missing dates (every engine ends with this)."""
    out = summary
    check_customers(customers)
    attributes = customers.set_index("customer_id")
    clash = attributes.columns.intersection(out.columns)
    if len(clash):
        raise ValueError(f"customers: column(s) {list(clash)} clash with the summary's; rename them")
    unknown = out.index.difference(attributes.index)
    if len(unknown):
        logger.info("customers: %d customer(s) with transactions are not in the customer master", len(unknown))
    out = attributes.join(out, how="outer")
    counts = [c for c in ("frequency", "revenue", "margin", "lines", "credit_notes", "credit_amount",
                          "n_products", "n_channels") if c in out.columns]
    out[counts] = out[counts].fillna(0)
    return out


def rfm_scores(summary: pd.DataFrame, segment_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Add RFM quintile scores, the RFM code and the named segment to a :func:`customer_summary` table.

    Scores (1 worst .. 5 best) rank the customers with at least one purchase: R on ``recency`` reversed (the
    most recent score 5), F on ``frequency``, M on ``revenue``. Ties share the lowest score their group reaches,
    ``score = 1 + floor(5 k / n)`` with ``k`` the number of customers with a strictly smaller value, so it never
    fails on ties (a lone customer scores 1 on each axis, segment Lost: scores are relative). FM is the
    mean of F and M rounded half up, ``(F + M + 1) // 2``; the segment is looked up in ``segment_map`` on the
    cell ``f"{R}{FM}"`` (default :data:`RFM_SEGMENT_MAP`: the 11 segments of Putler's RFM map).

    Returns
    -------
    DataFrame
        ``summary`` plus ``r_score``, ``f_score``, ``m_score``, ``fm_score`` (nullable Int8), ``rfm_code``
        (``"545"``) and ``segment`` (categorical in map order); customers without a purchase get missing values.
    """
    _require(summary, ("recency", "frequency", "revenue"), "summary")
    names, lookup = _segment_lookup(RFM_SEGMENT_MAP if segment_map is None else segment_map)
    buyer = summary["frequency"].to_numpy() > 0
    if not buyer.any():
        raise ValueError("summary: no customer with a purchase (frequency > 0) to score")
    r = _quintile_score(-summary["recency"].to_numpy()[buyer])
    f = _quintile_score(summary["frequency"].to_numpy()[buyer])
    m = _quintile_score(summary["revenue"].to_numpy()[buyer])
    fm = (f + m + 1) // 2
    out = summary.copy()
    for column, score in (("r_score", r), ("f_score", f), ("m_score", m), ("fm_score", fm)):
        out[column] = pd.arrays.IntegerArray(_on_buyers(score, buyer, 0), ~buyer)
    out["rfm_code"] = pd.array(_on_buyers((100 * r.astype(int) + 10 * f + m).astype(str), buyer, None), dtype="str")
    out["segment"] = pd.Categorical.from_codes(_on_buyers(lookup[10 * r + fm], buyer, -1), categories=names)
    return out


def rfm_table(transactions: pd.DataFrame, as_of=None, *, start=None,
              segment_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """RFM table of the customers with at least one purchase in ``[start, as_of]``.

    :func:`customer_summary` then :func:`rfm_scores`: ``recency`` (days), ``frequency`` (purchase days),
    ``revenue`` (the M, net), ``margin`` when known, the quintile scores, ``rfm_code`` and ``segment``.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow
    >>> rfm = rfm_table(load_cdnow(), as_of="1998-06-30")
    >>> rfm["segment"].value_counts().head(3)                   # doctest: +SKIP
    """
    summary = customer_summary(transactions, as_of=as_of, start=start)
    return rfm_scores(summary[summary["frequency"] > 0], segment_map)


def revenue_bands(values, edges: Sequence[float] = REVENUE_BAND_EDGES) -> pd.Series:
    """Revenue band of each customer: right-closed intervals ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    Parameters
    ----------
    values : Series
        One value per customer (e.g. ``summary["revenue"]``).
    edges : sequence of float
        Increasing band edges (default :data:`REVENUE_BAND_EDGES`).

    Returns
    -------
    Series
        ``revenue_band``, ordered categorical labelled like ``"<= 0"``, ``"0-10k"``, ``"> 1M"``.

    Examples
    --------
    >>> revenue_bands(pd.Series([-5.0, 10_000.0, 2e6]), edges=(0, 10_000)).tolist()
    ['<= 0', '0-10k', '> 10k']
    """
    edges = [float(e) for e in edges]
    if not edges or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges: expected increasing numbers, got {edges!r}")
    labels = [f"<= {_compact(edges[0])}"] + [f"{_compact(a)}-{_compact(b)}" for a, b in zip(edges, edges[1:])] \
        + [f"> {_compact(edges[-1])}"]
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.cut(series, [-np.inf, *edges, np.inf], labels=labels, right=True, ordered=True).rename("revenue_band")


def value_classes(summary: pd.DataFrame, rules: ValueClassRules | Mapping | None = None) -> pd.DataFrame:
    """The value classes of the field: new, recurring, most profitable, complex, no value.

    Each class is a flag (a customer may have several) and ``value_class`` keeps the first flag in
    ``rules.priority``; the rules are in :class:`ValueClassRules` (defaults in brackets):

    - *new*: ``tenure <= new_days`` (365);
    - *recurring*: ``frequency >= recurring_purchases`` (3) and ``recency <= active_days`` (365);
    - *most profitable*: ABC class A of margin (revenue if no margin) at ``most_profitable_share`` (0.5), i.e.
      the top customers making half of it;
    - *complex*: ``n_products >= complex_products`` (20) or ``n_channels >= complex_channels`` (3) or
      ``credit_notes >= complex_credit_notes`` (3);
    - *no value*: ``revenue <= no_value_revenue`` (0) or, when known, ``margin <= no_value_margin`` (0): the
      customers who cost more than they bring.

    Parameters
    ----------
    summary : DataFrame
        A :func:`customer_summary` table.
    rules : ValueClassRules or dict, optional
        Overrides of the defaults (a dict from the config is fine).

    Returns
    -------
    DataFrame
        Indexed like ``summary``: boolean ``new``, ``recurring``, ``most_profitable``, ``complex``,
        ``no_value`` and ``value_class`` (categorical: the priority order, then ``"other"``).
    """
    if rules is None:
        rules = ValueClassRules()
    elif isinstance(rules, Mapping):
        known = {f.name for f in dataclasses.fields(ValueClassRules)}
        if set(rules) - known:
            raise ValueError(f"rules: unknown key(s) {sorted(set(rules) - known)}; known: {sorted(known)}")
        rules = ValueClassRules(**{k: tuple(v) if k == "priority" else v for k, v in rules.items()})
    _require(summary, ("tenure", "recency", "frequency", "revenue", "credit_notes"), "summary")
    has_margin = "margin" in summary.columns
    basis = summary["margin" if has_margin else "revenue"]
    most_profitable = pd.Series(False, index=summary.index)
    if (basis > 0).any():
        top = abc_classes(basis.to_numpy(), thresholds=(rules.most_profitable_share,)).sort_index()
        most_profitable = pd.Series((top["abc_class"].eq("A") & top["value"].gt(0)).to_numpy(), index=summary.index)
    complex_ = summary["credit_notes"] >= rules.complex_credit_notes
    for column, limit in (("n_products", rules.complex_products), ("n_channels", rules.complex_channels)):
        if column in summary.columns:
            complex_ |= summary[column] >= limit
    no_value = summary["revenue"] <= rules.no_value_revenue
    if has_margin:
        no_value |= summary["margin"] <= rules.no_value_margin
    flags = pd.DataFrame({
        "new": summary["tenure"] <= rules.new_days,
        "recurring": (summary["frequency"] >= rules.recurring_purchases) & (summary["recency"] <= rules.active_days),
        "most_profitable": most_profitable,
        "complex": complex_,
        "no_value": no_value,
    }, index=summary.index)
    unknown = [p for p in rules.priority if p.replace(" ", "_") not in flags.columns]
    if unknown:
        raise ValueError(f"rules.priority: unknown class(es) {unknown}; known: {[c.replace('_', ' ') for c in flags]}")
    labels = list(rules.priority) + ["other"]
    codes = np.select([flags[p.replace(" ", "_")].to_numpy() for p in rules.priority],
                      list(range(len(rules.priority))), default=len(rules.priority))
    flags["value_class"] = pd.Categorical.from_codes(codes, categories=labels)
    return flags


# --------------------------------------------------------------------------------------------- per segment
def segment_profile(table: pd.DataFrame, by: str | Sequence[str] = "segment") -> pd.DataFrame:
    """Profile of each segment: size, value, shares, mean order value, frequency.

    Parameters
    ----------
    table : DataFrame
        One row per customer with ``revenue`` and ``frequency`` (a :func:`customer_summary`,
        :func:`rfm_table` or :func:`customer_segments` table), and the ``by`` column(s).
    by : str or list of str
        Segment column(s): ``"segment"``, ``"revenue_band"``, ``"value_class"``, ``"sector"``, ``"region"`` ...

    Returns
    -------
    DataFrame
        One row per segment (categorical segments in their order, others by revenue, largest first; missing
        attributes form their own row): ``customers``, ``customer_share``, ``revenue``, ``revenue_share``,
        ``margin``, ``margin_share``, ``margin_pct`` (when ``margin`` is known), ``mean_order_value``
        (revenue / purchase days), ``frequency`` (mean purchase days per customer), ``recency`` (mean days,
        when known).
    """
    keys = [by] if isinstance(by, str) else list(by)
    _require(table, [*keys, "revenue", "frequency"], "table")
    grouped = table.groupby(keys, observed=True, dropna=False)
    out = pd.DataFrame({"customers": grouped.size(), "revenue": grouped["revenue"].sum()})
    out.insert(1, "customer_share", out["customers"] / len(table))
    out["revenue_share"] = out["revenue"] / table["revenue"].sum()
    if "margin" in table.columns:
        out["margin"] = grouped["margin"].sum()
        out["margin_share"] = out["margin"] / table["margin"].sum()
        out["margin_pct"] = out["margin"] / out["revenue"]
    out["mean_order_value"] = out["revenue"] / grouped["frequency"].sum()
    out["frequency"] = grouped["frequency"].mean()
    if "recency" in table.columns:
        out["recency"] = grouped["recency"].mean()
    if not all(isinstance(table[k].dtype, pd.CategoricalDtype) for k in keys):
        out = out.sort_values("revenue", ascending=False, kind="stable")
    return out


def ranked_customers(table: pd.DataFrame, by: str | Sequence[str] = "segment",
                     rank_by: str = "revenue") -> pd.DataFrame:
    """Customers listed segment by segment, ranked within each segment by ``rank_by`` (largest first).

    The list for the sales team: the ``by`` column(s), then ``rank`` (1 = first to call), then the rest of
    ``table``'s columns.
    """
    keys = [by] if isinstance(by, str) else list(by)
    _require(table, [*keys, rank_by], "table")
    out = table.sort_values([*keys, rank_by], ascending=[True] * len(keys) + [False], kind="stable")
    rank = out.groupby(keys, observed=True, dropna=False).cumcount() + 1
    return pd.concat([out[keys], rank.rename("rank"), out.drop(columns=keys)], axis=1)


def customer_segments(transactions: pd.DataFrame, customers: pd.DataFrame | None = None, as_of=None, *,
                      start=None, band_edges: Sequence[float] = REVENUE_BAND_EDGES,
                      segment_map: Mapping[str, str] | None = None,
                      value_rules: ValueClassRules | Mapping | None = None,
                      abc_thresholds: Sequence[float] = (0.80, 0.95)) -> pd.DataFrame:
    """Every customer with its attributes, band, RFM scores and segment, value class and ABC class (revenue).

    :func:`customer_summary`, :func:`rfm_scores`, :func:`revenue_bands`, :func:`value_classes` and
    :func:`~portfolio_kit.concentration.abc_classes` in one call: the customer -> segment table of a report.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: the :func:`customer_summary` columns, the :func:`rfm_scores` columns,
        ``revenue_band``, the :func:`value_classes` columns and ``abc_class``.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow
    >>> table = customer_segments(load_cdnow(), as_of="1998-06-30")
    >>> table["abc_class"].value_counts().sort_index().tolist()
    [777, 804, 776]
    """
    return segment_summary(customer_summary(transactions, customers, as_of, start=start), band_edges=band_edges,
                           segment_map=segment_map, value_rules=value_rules, abc_thresholds=abc_thresholds)


def segment_summary(summary: pd.DataFrame, *, band_edges: Sequence[float] = REVENUE_BAND_EDGES,
                    segment_map: Mapping[str, str] | None = None,
                    value_rules: ValueClassRules | Mapping | None = None,
                    abc_thresholds: Sequence[float] = (0.80, 0.95)) -> pd.DataFrame:
    """:func:`customer_segments` from a ready :func:`customer_summary` (e.g. one computed by an engine of
    :mod:`portfolio_kit.engines` over millions of rows): RFM scores, band, value class and ABC class."""
    table = rfm_scores(summary, segment_map)
    table["revenue_band"] = revenue_bands(table["revenue"], band_edges)
    table = table.join(value_classes(table, value_rules))
    table["abc_class"] = abc_classes(table["revenue"].to_numpy(), abc_thresholds)["abc_class"].sort_index().array
    return table


#: The RFM segments of valuable customers who are slipping away (their revenue is "at risk").
AT_RISK_SEGMENTS = ("At Risk", "Can't Lose Them")


def key_figures(table: pd.DataFrame, by_segment: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers of the segmentation (:func:`~portfolio_kit.data.schemas.key_figures_table`):
    ``table`` is :func:`segment_summary`'s, ``by_segment`` its :func:`segment_profile` by ``segment``."""
    profile = by_segment.set_index("segment")
    at_risk = list(AT_RISK_SEGMENTS)
    return key_figures_table({
        "customers": (len(table), "count"),
        "champions": (int(profile.at["Champions", "customers"]) if "Champions" in profile.index else 0, "count"),
        "champions_revenue_share": (round(float(profile["revenue_share"].get("Champions", 0.0)), 4), "percent"),
        "at_risk_customers": (int(profile["customers"].reindex(at_risk).fillna(0).sum()), "count"),
        "revenue_at_risk": (round(float(profile["revenue"].reindex(at_risk).fillna(0).sum()), 2), "money"),
        "no_value_customers": (int((table["value_class"] == "no value").sum()), "count"),
    })
