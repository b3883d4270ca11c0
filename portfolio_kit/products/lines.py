"""What each customer buys: one row per customer and product line, the product mix, and how the number of lines
a customer buys goes with its value, churn and payments.

A *line* is the transactions' ``product`` value. Exports that carry thousands of article codes are reduced to
their ``max_lines`` largest lines by revenue with :func:`main_lines` (the rest becomes :data:`OTHER_LINES`),
so that tables, grids and pairs stay readable; the page says how many were merged.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from portfolio_kit.segmentation import transactions_in_window

__all__ = ["customer_lines", "main_lines", "OTHER_LINES", "product_mix", "lines_per_customer",
           "breadth_outcomes", "bought_matrix", "LINE_BANDS"]

logger = logging.getLogger(__name__)

#: The line the tail of many small products is merged into by :func:`main_lines`.
OTHER_LINES = "Other lines"
#: Bands of the number of lines a customer buys, for :func:`breadth_outcomes` (upper bounds; the last is open).
LINE_BANDS = (1, 2, 3)


def customer_lines(transactions: pd.DataFrame, as_of=None, *, start=None) -> pd.DataFrame:
    """One row per customer and product line bought in ``[start, as_of]``.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions with a ``product`` column; rows without a product are left out (logged).
    as_of, start : date-like, optional
        The last date counted (default: the last transaction) and the first (default: all history).

    Returns
    -------
    DataFrame
        ``customer_id``, ``product``, ``revenue`` (net of returns), ``margin`` (net, when the rows have one),
        ``purchases`` (distinct days with a positive amount), ``first_purchase`` and ``last_purchase`` (days of
        those purchases; empty for a line only returned in the window); sorted by customer and product.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["A", "A", "A", "B"], "product": ["x", "x", "y", "x"],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-09", "2024-01-09", "2024-02-01"]),
    ...                    "amount": [10.0, 5.0, 7.0, 3.0]})
    >>> customer_lines(tx)[["customer_id", "product", "revenue", "purchases"]].to_dict("list")
    {'customer_id': ['A', 'A', 'B'], 'product': ['x', 'y', 'x'], 'revenue': [15.0, 7.0, 3.0], 'purchases': [2, 1, 1]}
    """
    if "product" not in transactions.columns:
        raise ValueError("transactions: no 'product' column; map the export's product or product-line column")
    tx, _ = transactions_in_window(transactions, as_of, start)
    known = tx["product"].notna()
    if not known.all():
        logger.info("transactions: %d of %d rows without a product left out", int((~known).sum()), len(tx))
    tx = tx[known]
    if tx.empty:
        raise ValueError("transactions: no row with a product in the window")
    keys = pd.MultiIndex.from_frame(tx[["customer_id", "product"]].astype({"product": str}))
    codes, pairs = pd.factorize(keys, sort=True)
    amount = tx["amount"].to_numpy(dtype=float)
    purchase = amount > 0
    day = tx["date"].to_numpy().astype("datetime64[D]")
    n = len(pairs)
    out = pd.DataFrame({"customer_id": pd.array(pairs.get_level_values(0), dtype=tx["customer_id"].dtype),
                        "product": pairs.get_level_values(1).astype(str)})
    out["revenue"] = np.bincount(codes, weights=amount, minlength=n)
    if "margin" in transactions.columns and transactions["margin"].notna().any():
        out["margin"] = np.bincount(codes, weights=tx["margin"].fillna(0).to_numpy(dtype=float), minlength=n)
    days = pd.DataFrame({"code": codes[purchase], "day": day[purchase]}).drop_duplicates()
    grouped = days.groupby("code")["day"]
    out["purchases"] = grouped.size().reindex(range(n), fill_value=0).to_numpy()
    out["first_purchase"] = grouped.min().reindex(range(n)).to_numpy().astype("datetime64[ns]")
    out["last_purchase"] = grouped.max().reindex(range(n)).to_numpy().astype("datetime64[ns]")
    return out


def main_lines(lines: pd.DataFrame, max_lines: int = 20, keep: Collection[str] | None = None) -> pd.DataFrame:
    """``lines`` (a :func:`customer_lines` table) with every product beyond the ``max_lines - 1`` largest by
    revenue (or outside ``keep``, the lines of another table to match) merged into :data:`OTHER_LINES` (sums
    added, first and last purchase the earliest and latest, ``purchases`` the largest of the merged rows: a
    lower bound of the distinct days). Unchanged when nothing is merged; ``attrs["merged"]`` = the number of
    products merged."""
    revenue = lines.groupby("product")["revenue"].sum().sort_values(ascending=False, kind="stable")
    if keep is None:
        keep = revenue.index if len(revenue) <= max_lines else revenue.index[:max_lines - 1]
    merged = ~revenue.index.isin(list(keep))
    if not merged.any():
        out = lines.copy()
        out.attrs["merged"] = 0
        return out
    product = lines["product"].where(lines["product"].isin(list(keep)), OTHER_LINES)
    sums = {c: "sum" for c in ("revenue", "margin") if c in lines.columns}
    out = (lines.assign(product=product)
           .groupby(["customer_id", "product"], sort=True, as_index=False)
           .agg(**{c: (c, how) for c, how in sums.items()}, purchases=("purchases", "max"),
                first_purchase=("first_purchase", "min"), last_purchase=("last_purchase", "max")))
    out.attrs["merged"] = int(merged.sum())
    return out


def bought_matrix(lines: pd.DataFrame) -> tuple[pd.Index, pd.Index, np.ndarray]:
    """Customers (sorted ids), lines (sorted) and the boolean matrix of who bought which line (a line bought at
    least once: ``purchases > 0``)."""
    bought = lines[lines["purchases"] > 0]
    customer, customers = pd.factorize(bought["customer_id"], sort=True)
    line, names = pd.factorize(bought["product"], sort=True)
    matrix = np.zeros((len(customers), len(names)), dtype=bool)
    matrix[customer, line] = True
    return pd.Index(customers, name="customer_id"), pd.Index(names, name="product"), matrix


def product_mix(lines: pd.DataFrame, groups: pd.Series | None = None) -> pd.DataFrame:
    """Revenue, margin, margin rate and buyers per product line, overall or per group of customers.

    ``groups`` maps ``customer_id`` to a group (segment, value class, account manager, region ...); customers
    without one are grouped as missing and left out. Columns: ``[group,] product, customers`` (who bought it),
    ``revenue``, ``revenue_share`` (of the group's), ``margin`` and ``margin_rate`` (when known); sorted by
    group and descending revenue.
    """
    frame = lines.assign(buyer=lines["purchases"] > 0)
    keys = ["product"]
    if groups is not None:
        frame = frame.assign(group=frame["customer_id"].map(groups)).dropna(subset=["group"])
        frame = frame.rename(columns={"group": groups.name or "group"})
        keys = [groups.name or "group", "product"]
    sums = {"customers": ("buyer", "sum"), "revenue": ("revenue", "sum")}
    if "margin" in frame.columns:
        sums["margin"] = ("margin", "sum")
    out = frame.groupby(keys, sort=True, as_index=False).agg(**sums)
    total = out.groupby(keys[:-1])["revenue"].transform("sum") if len(keys) > 1 else out["revenue"].sum()
    out.insert(out.columns.get_loc("revenue") + 1, "revenue_share", out["revenue"] / total)
    if "margin" in out.columns:
        out["margin_rate"] = out["margin"] / out["revenue"].where(out["revenue"] > 0)
    order = [*keys[:-1], "revenue"]
    return out.sort_values(order, ascending=[True] * (len(order) - 1) + [False], kind="stable", ignore_index=True)


def lines_per_customer(lines: pd.DataFrame) -> pd.Series:
    """Number of distinct lines each customer bought (``n_lines``, indexed by ``customer_id``)."""
    return lines[lines["purchases"] > 0].groupby("customer_id").size().rename("n_lines")


def breadth_outcomes(n_lines: pd.Series, outcomes: pd.DataFrame, bands: Sequence[int] = LINE_BANDS) -> pd.DataFrame:
    """Do customers who buy more lines stay longer, pay better, are worth more? Per band of ``n_lines``
    (``1``, ``2``, ``3``, ``4+`` by default): customers and the mean of each column of ``outcomes`` (indexed by
    ``customer_id``: CLV, P(alive), churn probability, payment index ... whatever the run measured), and in a
    last row ``spearman`` the rank correlation of ``n_lines`` with each outcome over all customers that have
    both (``attrs["p_values"]``: its two-sided p-values). Association, not cause: customers who buy more often
    also buy more lines.
    """
    from scipy.stats import spearmanr

    frame = outcomes.join(n_lines, how="inner")
    edges = [0, *bands, np.inf]
    names = [str(b) if b - a == 1 else f"{a + 1}-{b}" for a, b in zip(edges[:-2], edges[1:-1])] + [f"{bands[-1] + 1}+"]
    band = pd.cut(frame["n_lines"], edges, labels=names)
    columns = [c for c in outcomes.columns if pd.api.types.is_numeric_dtype(outcomes[c])]
    out = frame.groupby(band, observed=False)[columns].mean()
    out.insert(0, "customers", frame.groupby(band, observed=False).size())
    out.index = out.index.astype(str)
    rho, p = {}, {}
    for column in columns:
        both = frame[["n_lines", column]].dropna()
        if len(both) > 2 and both[column].nunique() > 1 and both["n_lines"].nunique() > 1:
            result = spearmanr(both["n_lines"], both[column])
            rho[column], p[column] = float(result.statistic), float(result.pvalue)
    out.loc["spearman"] = pd.Series(rho)
    out.index.name = "lines"
    out.attrs["p_values"] = p
    return out
