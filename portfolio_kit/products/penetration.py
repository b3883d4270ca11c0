"""Who buys each line, group by group, and the white space: customers who do not yet buy a line most of their
peers buy, with what it would bring at the peers' typical spend.

Penetration of a line in a group = the group's customers who bought the line / the group's customers who bought
anything (in the window of the ``lines`` table). The typical spend of a line in a group is the median revenue
(and margin) of the line over the group's buyers in the ``lines`` given (the last 12 months on the page); a
cell with fewer than ``min_buyers`` buyers takes the line's median over all buyers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_kit.products.lines import bought_matrix

__all__ = ["penetration", "typical_spend", "white_space", "ALL_CUSTOMERS", "group_labels"]

#: The group of a table computed over every customer (no grouping column).
ALL_CUSTOMERS = "All customers"


def group_labels(attributes: pd.DataFrame, columns: Sequence[str]) -> pd.Series | None:
    """Each customer's group from the ``columns`` of ``attributes`` (indexed by ``customer_id``) that it has,
    joined by " / " (e.g. ``Champions / Retail``); None when it has none of them. A customer missing a value has
    no group."""
    present = [c for c in columns if c in attributes.columns and attributes[c].notna().any()]
    if not present:
        return None
    parts = [attributes[c].astype("string") for c in present]
    label = parts[0].str.cat(parts[1:], sep=" / ") if len(parts) > 1 else parts[0]  # missing if any part is
    return label.astype(object).where(label.notna(), None).rename(" / ".join(present))


def _groups_of(customers: pd.Index, groups: pd.Series | None) -> pd.Series:
    if groups is None:
        return pd.Series(ALL_CUSTOMERS, index=customers, name="group")
    return groups.reindex(customers).rename(groups.name or "group")


def penetration(lines: pd.DataFrame, groups: pd.Series | None = None) -> pd.DataFrame:
    """Share of each group's buying customers who bought each line.

    ``groups`` maps ``customer_id`` to a group (sector, segment ...); customers without one are left out
    (``None``: one group, :data:`ALL_CUSTOMERS`). Columns: ``<group>``, ``product``, ``customers`` (of the group
    who bought anything), ``buyers`` (of the line), ``penetration``; every group x line, lines sorted by name.

    Examples
    --------
    >>> lines = pd.DataFrame({"customer_id": ["A", "A", "B", "C"], "product": ["x", "y", "x", "y"],
    ...                       "purchases": [1, 2, 1, 1]})
    >>> penetration(lines, pd.Series({"A": "s", "B": "s", "C": "t"}, name="sector"))["penetration"].tolist()
    [1.0, 0.5, 0.0, 1.0]
    """
    customers, names, matrix = bought_matrix(lines)
    group = _groups_of(customers, groups)
    known = group.notna().to_numpy()
    frame = pd.DataFrame(matrix[known], columns=names, index=pd.Index(group[known].to_numpy(), name=group.name))
    buyers = frame.groupby(level=0, sort=True).sum()
    size = frame.groupby(level=0, sort=True).size()
    out = buyers.stack().rename("buyers").reset_index()
    out.insert(2, "customers", out[group.name].map(size).to_numpy())
    out["penetration"] = out["buyers"] / out["customers"]
    return out


def typical_spend(lines: pd.DataFrame, groups: pd.Series | None = None, min_buyers: int = 5) -> pd.DataFrame:
    """The median revenue and margin of each line per buyer, per group (``<group>``, ``product``,
    ``typical_revenue``, ``typical_margin`` when known, ``buyers``, ``basis``: ``group`` or ``all`` when the
    cell had fewer than ``min_buyers`` buyers and took the line's overall median)."""
    bought = lines[lines["purchases"] > 0]
    values = [c for c in ("revenue", "margin") if c in bought.columns]
    overall = bought.groupby("product")[values].median().add_prefix("typical_")
    group = _groups_of(pd.Index(bought["customer_id"].unique()), groups)
    frame = bought.assign(group=bought["customer_id"].map(group)).dropna(subset=["group"])
    per_group = frame.groupby(["group", "product"])[values].median().add_prefix("typical_")
    buyers = frame.groupby(["group", "product"]).size()
    grid = pd.MultiIndex.from_product([sorted(frame["group"].unique()), overall.index], names=["group", "product"])
    out = per_group.reindex(grid)
    out["buyers"] = buyers.reindex(grid, fill_value=0)
    few = out["buyers"] < min_buyers
    fallback = overall.reindex(grid.get_level_values("product")).to_numpy()
    out.loc[few, overall.columns] = fallback[few.to_numpy()]
    out["basis"] = np.where(few, "all", "group")
    return out.reset_index().rename(columns={"group": group.name})


def white_space(shares: pd.DataFrame, spend: pd.DataFrame, min_penetration: float = 0.5,
                min_customers: int = 20) -> pd.DataFrame:
    """The cells of a :func:`penetration` table where most of a group buys a line (``penetration >=
    min_penetration``, a group of at least ``min_customers``) and some of its customers do not: ``non_buyers``,
    and what they would bring at the group's typical spend (:func:`typical_spend`): ``potential_revenue``
    and ``potential_margin`` = non-buyers x typical spend, an upper bound (every non-buyer converting).
    Sorted by potential margin (revenue without margins), largest first."""
    group = shares.columns[0]
    cells = shares[(shares["penetration"] >= min_penetration) & (shares["customers"] >= min_customers)
                   & (shares["buyers"] < shares["customers"])]
    out = cells.merge(spend.drop(columns="buyers"), on=[group, "product"], how="left")
    out.insert(out.columns.get_loc("penetration") + 1, "non_buyers", out["customers"] - out["buyers"])
    out["potential_revenue"] = out["non_buyers"] * out["typical_revenue"]
    key = "potential_revenue"
    if "typical_margin" in out.columns:
        out["potential_margin"] = out["non_buyers"] * out["typical_margin"]
        key = "potential_margin"
    return out.sort_values(key, ascending=False, kind="stable", ignore_index=True)
