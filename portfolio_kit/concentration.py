"""How concentrated value is across customers: ABC classes, Pareto table, Lorenz curve, Gini, HHI, top shares,
the revenue x margin-% matrix, and concentration over time.

Every measure takes ``values``: one number per customer (revenue, margin, exposure ... ), a pandas Series
indexed by ``customer_id`` or any 1-d array-like. Missing values are an error (say what a missing value means
before calling, e.g. ``fillna(0)``).

Negative values rule
--------------------
Values are *net* per customer (sales minus credit notes, or margin after losses). Concentration describes how
*positive* value is shared, so:

- customers with a value ``< 0`` are left out of the Lorenz curve, Gini, HHI and top shares (they are logged
  and counted in :func:`concentration_summary` as ``negative_customers`` / ``negative_value``);
- customers with a value ``== 0`` are kept: they are customers holding no share, and they raise concentration
  (CDNOW's published Gini 0.6309 counts its 8 customers with zero net spend);
- in :func:`pareto_table` and :func:`abc_classes` every customer keeps a row: shares are taken of the total of
  positive values, so negative customers show a negative ``share``, the ``cumulative_share`` stays at 1 after
  the last positive customer, and zero or negative customers fall in the last class.

Empty input (or no customer left after the rule) raises ``ValueError``; so does a zero total, where shares are
undefined. A single customer is fully concentrated: Gini 0 (its maximum, (n-1)/n), HHI 1, normalised HHI 1,
top-1 share 1.

Examples
--------
>>> import pandas as pd
>>> revenue = pd.Series([50.0, 30.0, 15.0, 5.0], index=["c1", "c2", "c3", "c4"])
>>> round(gini(revenue), 3)
0.375
>>> abc_classes(revenue)["abc_class"].tolist()
['A', 'A', 'B', 'C']
"""

from __future__ import annotations

import logging
import string
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from portfolio_kit.data.schemas import key_figures_table

__all__ = [
    "HHI",
    "gini",
    "hhi",
    "top_share",
    "lorenz_curve",
    "pareto_table",
    "abc_classes",
    "abc_summary",
    "concentration_summary",
    "concentration_over_time",
    "revenue_margin_classes",
    "revenue_margin_matrix",
    "key_figures",
]

logger = logging.getLogger(__name__)


class HHI(NamedTuple):
    """Herfindahl-Hirschman index of customer shares.

    Attributes
    ----------
    raw : float
        ``H = sum s_i**2`` with ``s_i = x_i / sum x``; from ``1/n`` (equal shares) to 1 (one customer).
    normalised : float
        ``(H - 1/n) / (1 - 1/n)``, from 0 to 1; 1 for a single customer.
    equivalent_customers : float
        ``1 / H``: the number of equal-sized customers that would give the same concentration.
    """

    raw: float
    normalised: float
    equivalent_customers: float


# --------------------------------------------------------------------------------------------- input checks
def _as_series(values, name: str = "values") -> pd.Series:
    """``values`` as a float Series (index kept, or a RangeIndex for array-likes); clear errors otherwise."""
    if isinstance(values, pd.DataFrame):
        raise TypeError(f"{name}: expected one value per customer (a Series or 1-d array), got a DataFrame; "
                        "pick a column, e.g. table['revenue']")
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values).ravel())
    try:
        series = series.astype(float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numbers, got dtype {series.dtype}") from None
    missing = int(series.isna().sum())
    if missing:
        raise ValueError(f"{name}: {missing} missing value(s), e.g. at {list(series.index[series.isna()][:3])}; "
                         "fill or drop them first")
    return series


def _ascending_nonnegative(values, name: str = "values") -> np.ndarray:
    """Sorted (ascending) values after the negative rule; raises on empty input or a zero total."""
    x = _as_series(values, name).to_numpy()
    if x.size == 0:
        raise ValueError(f"{name}: no customers")
    negative = x < 0
    if negative.any():
        logger.info("%s: %d customer(s) with negative value (total %.2f) left out of the concentration measures",
                    name, negative.sum(), x[negative].sum())
        x = x[~negative]
    if x.size == 0 or x.sum() <= 0:
        raise ValueError(f"{name}: no positive value, concentration is undefined")
    return np.sort(x)


def _gini(x: np.ndarray) -> float:
    n = x.size
    i = np.arange(1, n + 1)
    return float(2.0 * np.dot(i, x) / (n * x.sum()) - (n + 1) / n)


def _hhi(x: np.ndarray) -> HHI:
    n = x.size
    raw = float(np.sum((x / x.sum()) ** 2))
    normalised = 1.0 if n == 1 else (raw - 1.0 / n) / (1.0 - 1.0 / n)
    return HHI(raw, float(normalised), 1.0 / raw)


def _thresholds(thresholds: Sequence[float]) -> np.ndarray:
    limits = np.asarray(thresholds, dtype=float)
    if limits.ndim != 1 or not 0 < limits.size < 26 or np.any(np.diff(limits) <= 0) or limits[0] <= 0 \
            or limits[-1] > 1:
        raise ValueError(f"thresholds: expected increasing cumulative shares in (0, 1], got {tuple(thresholds)!r}")
    return limits


def _class_codes(descending: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Class code (0 = A) of values sorted descending: the positive share held by strictly larger values,
    located among the cumulative ``limits``."""
    cumulative = np.cumsum(np.clip(descending, 0, None))
    held_before = np.concatenate([[0.0], cumulative[:-1]]) / cumulative[-1]
    is_new_value = np.r_[True, descending[1:] != descending[:-1]]
    group_start = np.maximum.accumulate(np.where(is_new_value, np.arange(descending.size), 0))
    return np.searchsorted(limits, held_before[group_start], side="right")


def _top_cumulative(x: np.ndarray) -> np.ndarray:
    """``0`` then the cumulative sums of ascending ``x`` taken from the largest."""
    return np.concatenate([[0.0], np.cumsum(x[::-1])])


def _top_share(top_cumulative: np.ndarray, k: float) -> float:
    """Share of the ``k`` largest values; fractional ``k`` interpolates linearly (the Lorenz curve)."""
    return float(np.interp(k, np.arange(top_cumulative.size), top_cumulative) / top_cumulative[-1])


# --------------------------------------------------------------------------------------------- measures
def gini(values) -> float:
    """Gini coefficient of the customers' values.

    ``G = 2 sum_i i x_(i) / (n sum x) - (n + 1) / n`` with ``x`` sorted ascending and ``i = 1..n``, the same as
    the pairwise form ``sum_i sum_j |x_i - x_j| / (2 n sum x)``; 0 when all customers are equal, at most
    ``(n - 1) / n``. Negative values are left out (see the module's negative values rule).

    Parameters
    ----------
    values : Series or array-like
        One value per customer.

    Returns
    -------
    float

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 10])
    0.75
    """
    return _gini(_ascending_nonnegative(values))


def hhi(values) -> HHI:
    """Herfindahl-Hirschman index of the customers' shares, raw and normalised, and ``1/H``.

    ``H = sum s_i**2``, ``s_i = x_i / sum x``; normalised ``(H - 1/n) / (1 - 1/n)``; ``1/H`` is the equivalent
    number of equal customers. Negative values are left out (module's negative values rule).

    Examples
    --------
    >>> hhi([25, 25, 25, 25])
    HHI(raw=0.25, normalised=0.0, equivalent_customers=4.0)
    """
    return _hhi(_ascending_nonnegative(values))


def top_share(values, n: int | None = None, fraction: float | None = None) -> float:
    """Share of the total held by the ``n`` largest customers, or by the top ``fraction`` of customers.

    With ``fraction`` the share is read off the Lorenz curve, ``1 - L(1 - fraction)``, interpolating linearly
    when ``fraction * n_customers`` is not a whole number (CDNOW: the top 20% of 2,357 customers, 471.4
    customers, hold 67.4%). Negative values are left out (module's negative values rule).

    Parameters
    ----------
    values : Series or array-like
        One value per customer.
    n : int, optional
        Number of largest customers (more than there are gives 1.0).
    fraction : float, optional
        Fraction of customers in ``[0, 1]``. Give exactly one of ``n`` and ``fraction``.

    Examples
    --------
    >>> top_share([50, 30, 15, 5], n=1)
    0.5
    >>> top_share([50, 30, 15, 5], fraction=0.5)
    0.8
    """
    if (n is None) == (fraction is None):
        raise ValueError("top_share: give exactly one of n (number of customers) and fraction (share of customers)")
    if n is not None and (int(n) != n or n < 0):
        raise ValueError(f"top_share: n must be a whole number >= 0, got {n!r}")
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise ValueError(f"top_share: fraction must be in [0, 1], got {fraction!r}")
    x = _ascending_nonnegative(values)
    return _top_share(_top_cumulative(x), min(n, x.size) if n is not None else fraction * x.size)


def lorenz_curve(values) -> pd.DataFrame:
    """Points of the Lorenz curve: customers sorted by ascending value, from (0, 0) to (1, 1).

    Negative values are left out (module's negative values rule).

    Returns
    -------
    DataFrame
        ``n + 1`` rows: ``customer_share`` (``k / n``) and ``value_share`` (share of the total held by the ``k``
        smallest customers).

    Examples
    --------
    >>> lorenz_curve([3, 1]).round(2).to_dict("list")
    {'customer_share': [0.0, 0.5, 1.0], 'value_share': [0.0, 0.25, 1.0]}
    """
    x = _ascending_nonnegative(values)
    cumulative = np.concatenate([[0.0], np.cumsum(x)])
    return pd.DataFrame({"customer_share": np.arange(x.size + 1) / x.size, "value_share": cumulative / cumulative[-1]})


def pareto_table(values) -> pd.DataFrame:
    """Customers ranked by value, largest first, with their share and the cumulative shares.

    Ties keep the input order. Shares are of the total of positive values (module's negative values rule).

    Returns
    -------
    DataFrame
        Indexed like ``values`` (customer id): ``rank`` (1 = largest), ``value``, ``share``,
        ``cumulative_share`` (share of the positive total held by this customer and all above it) and
        ``customer_share`` (``rank / n``).

    Examples
    --------
    >>> pareto_table(pd.Series([5.0, 50.0], index=["c1", "c2"]))["cumulative_share"].round(3).tolist()
    [0.909, 1.0]
    """
    series = _as_series(values)
    if series.empty:
        raise ValueError("values: no customers")
    ranked = series.sort_values(ascending=False, kind="stable")
    cumulative = np.cumsum(ranked.clip(lower=0).to_numpy())
    if cumulative[-1] <= 0:
        raise ValueError("values: no positive value, shares are undefined")
    rank = np.arange(1, ranked.size + 1)
    return pd.DataFrame(
        {
            "rank": rank,
            "value": ranked.to_numpy(),
            "share": ranked.to_numpy() / cumulative[-1],
            "cumulative_share": cumulative / cumulative[-1],
            "customer_share": rank / ranked.size,
        },
        index=ranked.index,
    )


def abc_classes(values, thresholds: Sequence[float] = (0.80, 0.95)) -> pd.DataFrame:
    """ABC classes: A = the customers making the first 80% of the value, B the next 15%, C the rest.

    Customers are ranked by value, largest first. A customer's class is set by the share held by the customers
    *strictly larger* than it: below ``thresholds[0]`` -> A, below ``thresholds[1]`` -> B, otherwise C. So A is
    the smallest top group reaching 80% (the customer crossing the line is in A), equal values always get the
    same class, and zero or negative customers are in the last class. More thresholds give more classes
    (A, B, C, D ...); other conventions, e.g. ``(0.70, 0.90)``, are a parameter.

    Parameters
    ----------
    values : Series or array-like
        One value per customer: revenue, margin or any column.
    thresholds : sequence of float
        Increasing cumulative shares in ``(0, 1]``.

    Returns
    -------
    DataFrame
        :func:`pareto_table` plus ``abc_class`` (ordered categorical).

    Examples
    --------
    >>> abc_classes(pd.Series([70, 5, 5, 5, 5, 5, 5]))["abc_class"].tolist()
    ['A', 'A', 'A', 'A', 'A', 'A', 'A']
    """
    limits = _thresholds(thresholds)
    table = pareto_table(values)
    codes = _class_codes(table["value"].to_numpy(), limits)
    labels = list(string.ascii_uppercase[: limits.size + 1])
    table["abc_class"] = pd.Categorical.from_codes(codes, categories=labels, ordered=True)
    return table


def abc_summary(classes: pd.DataFrame) -> pd.DataFrame:
    """Per ABC class: ``customers``, ``customer_share``, ``value``, ``value_share`` (of the positive total).

    Parameters
    ----------
    classes : DataFrame
        The result of :func:`abc_classes`.
    """
    grouped = classes.groupby("abc_class", observed=False)
    out = pd.DataFrame({"customers": grouped.size(), "value": grouped["value"].sum(),
                        "value_share": grouped["share"].sum()})
    out.insert(1, "customer_share", out["customers"] / len(classes))
    return out


def concentration_summary(values, top_n: Sequence[int] = (1, 10), top_fractions: Sequence[float] = (0.01, 0.1, 0.2),
                          thresholds: Sequence[float] = (0.80, 0.95)) -> pd.Series:
    """The key concentration figures of one value per customer, in one Series (one line of a report).

    Returns
    -------
    Series
        ``customers`` (all), ``negative_customers`` and ``negative_value`` (left out by the negative values
        rule), ``total`` (of the values kept), ``gini``, ``hhi``, ``hhi_normalised``, ``equivalent_customers``,
        ``top_<n>_share`` for each ``top_n``, ``top_<p>pct_share`` for each of ``top_fractions``, and
        ``customers_for_<t>pct``: the number of customers in class A of ``abc_classes`` with threshold ``t``
        for each of ``thresholds``.
    """
    series = _as_series(values)
    x = _ascending_nonnegative(series)
    negative = series[series < 0]
    h = _hhi(x)
    out = {"customers": float(series.size), "negative_customers": float(negative.size),
           "negative_value": float(negative.sum()), "total": float(x.sum()), "gini": _gini(x), "hhi": h.raw,
           "hhi_normalised": h.normalised, "equivalent_customers": h.equivalent_customers}
    top_cumulative = _top_cumulative(x)
    out |= {f"top_{k}_share": _top_share(top_cumulative, min(k, x.size)) for k in top_n}
    out |= {f"top_{100 * p:g}pct_share": _top_share(top_cumulative, p * x.size) for p in top_fractions}
    limits = _thresholds(thresholds)
    codes = _class_codes(x[::-1], limits)
    out |= {f"customers_for_{100 * t:g}pct": float(np.sum(codes <= j)) for j, t in enumerate(limits)}
    return pd.Series(out, name="concentration")


def concentration_over_time(transactions: pd.DataFrame, freq: str = "Y", value: str = "amount",
                            **summary_options) -> pd.DataFrame:
    """:func:`concentration_summary` per period, to see whether dependence on few customers grows.

    Values are summed per customer and period (net of credit notes), then summarised period by period.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions: ``customer_id``, ``date`` and the ``value`` column.
    freq : str
        Period alias: ``"Y"`` (year), ``"Q"`` (quarter) or ``"M"`` (month).
    value : str
        Column to sum, e.g. ``"amount"`` or ``"margin"``.
    **summary_options
        Passed to :func:`concentration_summary`.

    Returns
    -------
    DataFrame
        One row per period (``period`` index) with the columns of :func:`concentration_summary`; periods
        without positive value are left out.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow
    >>> by_quarter = concentration_over_time(load_cdnow(), freq="Q")   # doctest: +SKIP
    """
    missing = [c for c in ("customer_id", "date", value) if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions: missing column(s) {missing}")
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise TypeError(f"transactions: column 'date' must be datetime64, got {transactions['date'].dtype}")
    period_code, periods = pd.factorize(transactions["date"].dt.to_period(freq), sort=True)
    customer_code = pd.factorize(transactions["customer_id"])[0].astype(np.int64)
    width = int(customer_code.max()) + 1 if customer_code.size else 1
    net = transactions[value].groupby(period_code * width + customer_code).sum()
    rows = {periods[p]: concentration_summary(v.to_numpy(), **summary_options)
            for p, v in net.groupby(net.index.to_numpy() // width) if (v > 0).any()}
    if not rows:
        raise ValueError(f"transactions: no period with positive {value!r}")
    return pd.DataFrame(rows).T.rename_axis("period")


# --------------------------------------------------------------------------------------------- revenue x margin
_CLASS_LABELS = {2: ["low", "high"], 3: ["low", "medium", "high"]}


def revenue_margin_classes(revenue, margin, revenue_quantiles: Sequence[float] = (0.5,),
                           margin_pct_edges: Sequence[float] | None = None) -> pd.DataFrame:
    """Revenue x margin-% classification of customers (a 2x2 or 3x3 grid).

    Revenue classes cut at quantiles of the customers' revenue (default: the median, so equal halves); margin
    classes cut at margin-% edges (default: the portfolio's own margin %, ``sum margin / sum revenue``). A
    value equal to an edge goes to the upper class. Margin % is ``margin / revenue``; customers with revenue
    ``<= 0`` have no margin % and no margin class (NaN).

    Parameters
    ----------
    revenue, margin : Series
        One value per customer, same index.
    revenue_quantiles : sequence of float
        One cut (2 classes: low, high) or two cuts (3 classes: low, medium, high), e.g. ``(1/3, 2/3)``.
    margin_pct_edges : sequence of float, optional
        One or two margin-% cuts, as fractions (``0.25`` = 25%).

    Returns
    -------
    DataFrame
        Indexed by customer: ``revenue``, ``margin``, ``margin_pct``, ``revenue_class``, ``margin_class``
        (ordered categoricals) and ``quadrant`` (categorical, e.g. ``"high revenue, low margin"``).

    Examples
    --------
    >>> rev = pd.Series([100.0, 80.0, 10.0, 5.0], index=list("abcd"))
    >>> mar = pd.Series([10.0, 40.0, 1.0, 3.0], index=list("abcd"))
    >>> revenue_margin_classes(rev, mar)["quadrant"].tolist()
    ['high revenue, low margin', 'high revenue, high margin', 'low revenue, low margin', 'low revenue, high margin']
    """
    revenue, margin = _as_series(revenue, "revenue"), _as_series(margin, "margin")
    if not revenue.index.equals(margin.index):
        margin = margin.reindex(revenue.index)
        if margin.isna().any():
            raise ValueError("margin: not indexed by the same customers as revenue")
    if revenue.empty:
        raise ValueError("revenue: no customers")
    if margin_pct_edges is None:
        margin_pct_edges = (margin.sum() / revenue.sum(),)
    cuts = {"revenue_quantiles": np.asarray(revenue_quantiles, float),
            "margin_pct_edges": np.asarray(margin_pct_edges, float)}
    for name, edges in cuts.items():
        if edges.size not in (1, 2) or np.any(np.diff(edges) <= 0):
            raise ValueError(f"{name}: expected one or two increasing cuts, got {tuple(edges)!r}")
    pct = (margin / revenue).where(revenue > 0)
    revenue_edges = np.quantile(revenue.to_numpy(), cuts["revenue_quantiles"])
    out = pd.DataFrame({"revenue": revenue, "margin": margin, "margin_pct": pct})
    codes = {}
    for column, x, edges in (("revenue_class", revenue, revenue_edges),
                             ("margin_class", pct, cuts["margin_pct_edges"])):
        codes[column] = np.where(x.isna(), -1, np.searchsorted(edges, x.to_numpy(), side="right"))
        out[column] = pd.Categorical.from_codes(codes[column], categories=_CLASS_LABELS[edges.size + 1], ordered=True)
    quadrants = [f"{r} revenue, {m} margin" for r in out["revenue_class"].cat.categories
                 for m in out["margin_class"].cat.categories]
    quadrant = codes["revenue_class"] * len(out["margin_class"].cat.categories) + codes["margin_class"]
    out["quadrant"] = pd.Categorical.from_codes(np.where(codes["margin_class"] < 0, -1, quadrant), categories=quadrants)
    return out


def revenue_margin_matrix(classes: pd.DataFrame, value: str = "customers") -> pd.DataFrame:
    """The revenue x margin grid: rows revenue class (high first), columns margin class (low to high).

    Parameters
    ----------
    classes : DataFrame
        The result of :func:`revenue_margin_classes`.
    value : {"customers", "revenue", "margin"}
        What each cell holds: the number of customers, or their summed revenue or margin.
    """
    if value not in ("customers", "revenue", "margin"):
        raise ValueError(f"value must be 'customers', 'revenue' or 'margin', got {value!r}")
    cells = classes.groupby(["revenue_class", "margin_class"], observed=False)
    counts = cells.size() if value == "customers" else cells[value].sum()
    return counts.unstack("margin_class").iloc[::-1]


def key_figures(measures: pd.Series, abc: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers of concentration (:func:`~portfolio_kit.data.schemas.key_figures_table`):
    ``measures`` is :func:`concentration_summary` of revenue, ``abc`` :func:`abc_classes` by revenue."""
    return key_figures_table({
        "gini": (round(float(measures["gini"]), 4), "ratio"),
        "top_10pct_share": (round(float(measures["top_10pct_share"]), 4), "percent"),
        "top_20pct_share": (round(float(measures["top_20pct_share"]), 4), "percent"),
        "a_class_customers": (int((abc["abc_class"] == "A").sum()), "count"),
        "customers_for_80pct": (int(measures["customers_for_80pct"]), "count"),
        "equivalent_customers": (round(float(measures["equivalent_customers"]), 1), "number.1"),
    })
