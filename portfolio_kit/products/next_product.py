"""The next product line to offer each customer, and how well that choice would have done on a later cut-off.

For a customer c and a line L it does not buy, two estimates of the chance that c buys L, each shrunk towards
the line's share of all customers p_L with a prior of ``prior`` customers (so a line bought by 2 of 3 peers does
not outrank one bought by 600 of 1,000):

- *peers*: the share of c's peer group (same segment and sector, or any grouping given) buying L,
  ``(n_gL + prior p_L) / (n_g + prior)``;
- *pair*: for each line A that c buys and that goes with L (a significant pair of
  :func:`~portfolio_kit.products.line_associations`), the share of A's buyers who also buy L,
  ``(n_AL + prior p_L) / (n_A + prior)``, the best A kept.

The ``score`` is the larger of the two (its ``basis`` says which); the ``expected_margin`` is the score times the
line's typical yearly margin per buyer in c's group (:func:`~portfolio_kit.products.typical_spend`), and each
customer's suggestion is the line with the largest expected margin (revenue when the client has no margins).

:func:`next_product_backtest` hides what happened after a cut-off: it builds the suggestions from the lines
customers had bought by then (and the spend of the 12 months before), and counts how often the suggested line
is one the customer then starts buying, against the popularity baseline (the most bought line the customer does
not have).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.products.association import co_purchases, line_associations
from portfolio_kit.products.lines import OTHER_LINES, bought_matrix
from portfolio_kit.products.penetration import ALL_CUSTOMERS

__all__ = ["next_products", "next_product_backtest", "popular_products", "NEXT_PRODUCT_COLUMNS"]

#: Columns of :func:`next_products`, in order (the reason in words is added by the report layer).
NEXT_PRODUCT_COLUMNS = ("customer_id", "product", "score", "expected_margin", "expected_revenue", "basis",
                        "peer_group", "peer_share", "from_line", "confidence", "lift")
_CHUNK = 100_000  # customers scored at a time: bounded memory for millions


def _spend_grid(spend: pd.DataFrame | None, group_names: pd.Index, names: pd.Index, column: str) -> np.ndarray:
    """Typical spend as groups x lines (NaN where unknown)."""
    if spend is None or column not in spend.columns:
        return np.full((len(group_names), len(names)), np.nan)
    key = spend.columns[0]
    grid = spend.pivot_table(index=key, columns="product", values=column, aggfunc="first", dropna=False)
    overall = spend.groupby("product")[column].median()
    out = grid.reindex(index=group_names, columns=names)
    return out.fillna(overall.reindex(names)).to_numpy(dtype=float)


def next_products(lines: pd.DataFrame, groups: pd.Series | None = None, spend: pd.DataFrame | None = None, *,
                  prior: float = 20.0, rank_by: str = "expected", rules: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """The next line to offer each customer of ``lines`` (see the module docstring).

    Parameters
    ----------
    lines : DataFrame
        :func:`~portfolio_kit.products.customer_lines`: who bought which line.
    groups : Series, optional
        Peer group by ``customer_id`` (e.g. segment and sector joined); customers without one, and ``None``,
        have every customer as peers.
    spend : DataFrame, optional
        :func:`~portfolio_kit.products.typical_spend` with the same grouping; without it the expected values are
        missing and the suggestion is the most likely line.
    prior : float
        Weight, in customers, of the shrinkage towards each line's overall share.
    rank_by : {"expected", "score"}
        Rank a customer's lines by expected margin (revenue without margins), or by score alone.
    rules : DataFrame, optional
        :func:`~portfolio_kit.products.line_associations` of ``lines``, whose significant pairs count (default:
        computed with its default guard).

    Returns
    -------
    DataFrame
        :data:`NEXT_PRODUCT_COLUMNS`, one row per customer that does not already buy every line:
        ``peer_share`` is the raw share of the peer group buying the line, ``from_line``, ``confidence`` and
        ``lift`` the raw figures of the best pair (empty when the customer's lines say nothing of it).
        :data:`~portfolio_kit.products.OTHER_LINES` is never suggested.
    """
    if rank_by not in ("expected", "score"):
        raise ValueError(f"rank_by must be 'expected' or 'score', got {rank_by!r}")
    customers, names, matrix = bought_matrix(lines)
    n, m = matrix.shape
    group = (groups.reindex(customers) if groups is not None else pd.Series(np.nan, index=customers))
    group = group.astype(object).where(group.notna(), ALL_CUSTOMERS)
    code, group_names = pd.factorize(group, sort=True)
    group_names = pd.Index(group_names)
    share = matrix.mean(axis=0)
    sizes = np.bincount(code, minlength=len(group_names)).astype(float)
    in_group = np.zeros((len(group_names), m))
    np.add.at(in_group, code, matrix)
    if ALL_CUSTOMERS in group_names:  # customers without a group have everyone as peers
        in_group[group_names.get_loc(ALL_CUSTOMERS)] = matrix.sum(axis=0)
        sizes[group_names.get_loc(ALL_CUSTOMERS)] = n
    peer_raw = in_group / sizes[:, None]
    peer = (in_group + prior * share) / (sizes[:, None] + prior)
    both = co_purchases(matrix).astype(float)
    buyers = np.diag(both).copy()
    pair = (both + prior * share) / (buyers[:, None] + prior)
    rules = line_associations(lines) if rules is None else rules
    significant = pd.crosstab(rules["antecedent"], rules["consequent"], values=rules["significant"], aggfunc="any")
    pair[~significant.reindex(index=names, columns=names).fillna(False).to_numpy(bool)] = 0.0
    has_margin = spend is not None and "typical_margin" in spend.columns
    margin = _spend_grid(spend, group_names, names, "typical_margin")
    revenue = _spend_grid(spend, group_names, names, "typical_revenue")
    candidate = np.ones(m, bool)
    candidate[names == OTHER_LINES] = False

    rows = []
    for lo in range(0, n, _CHUNK):
        b, g = matrix[lo:lo + _CHUNK], code[lo:lo + _CHUNK]
        best_pair, best_from = np.zeros((len(b), m)), np.full((len(b), m), -1)
        for a in range(m):  # over lines (a few dozen), not customers
            value = np.where(b[:, a:a + 1], pair[a], 0.0)
            better = value > best_pair
            best_pair[better], best_from[better] = value[better], a
        score = np.maximum(peer[g], best_pair)
        score[b | ~candidate] = np.nan
        value = margin[g] if has_margin else revenue[g]
        expected = score * value
        key = np.where(np.isnan(score), -np.inf, score if rank_by == "score" or np.isnan(expected).all()
                       else np.where(np.isnan(expected), -np.inf, expected) + 1e-9 * score)
        pick = key.argmax(axis=1)
        ok = np.isfinite(key[np.arange(len(b)), pick])
        i, j = np.flatnonzero(ok), pick[ok]
        from_line = best_from[i, j]
        use_pair = best_pair[i, j] > peer[g[i], j]
        rows.append(pd.DataFrame({
            "customer_id": customers[lo + i], "product": names[j], "score": score[i, j],
            "expected_margin": (margin[g[i], j] * score[i, j]) if has_margin else np.nan,
            "expected_revenue": revenue[g[i], j] * score[i, j],
            "basis": np.where(use_pair, "pair", "peers"),
            "peer_group": group_names[g[i]], "peer_share": peer_raw[g[i], j],
            "from_line": np.where(use_pair, names.to_numpy()[np.maximum(from_line, 0)], None),
            "confidence": np.where(use_pair, both[np.maximum(from_line, 0), j] / buyers[np.maximum(from_line, 0)],
                                   np.nan),
            "lift": np.where(use_pair, both[np.maximum(from_line, 0), j] / buyers[np.maximum(from_line, 0)]
                             / share[j], np.nan),
        }))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(NEXT_PRODUCT_COLUMNS))
    return out[list(NEXT_PRODUCT_COLUMNS)]


def popular_products(lines: pd.DataFrame) -> pd.DataFrame:
    """The popularity baseline: for each customer, the line most customers buy among those it does not
    (``customer_id``, ``product``)."""
    customers, names, matrix = bought_matrix(lines)
    order = np.argsort(-matrix.sum(axis=0), kind="stable")
    order = order[names[order] != OTHER_LINES]
    missing = ~matrix[:, order]
    has = missing.any(axis=1)
    return pd.DataFrame({"customer_id": customers[has], "product": names[order[missing[has].argmax(axis=1)]]})


def next_product_backtest(lines: pd.DataFrame, cutoff, groups: pd.Series | None = None,
                          spend: pd.DataFrame | None = None, *, prior: float = 20.0, **guard) -> pd.DataFrame:
    """How often the suggestion made at ``cutoff`` is a line the customer starts buying after it.

    Parameters
    ----------
    lines : DataFrame
        :func:`~portfolio_kit.products.customer_lines` over a window that runs past ``cutoff`` (its
        ``first_purchase`` tells what was bought by then).
    cutoff : date-like
    groups : Series, optional
        Peer groups, as in :func:`next_products`.
    spend : DataFrame, optional
        :func:`~portfolio_kit.products.typical_spend` of the months before ``cutoff``.
    prior : float
        As in :func:`next_products`.
    **guard
        ``min_support``, ``min_customers``, ``alpha`` of :func:`~portfolio_kit.products.line_associations`: the
        pairs (among the lines bought by the cut-off) that count.

    Returns
    -------
    DataFrame
        One row per method (``expected``: the kit's suggestion; ``score``: the most likely line;
        ``popularity``: the baseline): ``customers`` (who bought a line before the cut-off and started a new
        one after it), ``hits`` (the suggested line is one of those new lines), ``hit_rate`` and ``lift`` (hit
        rate over the baseline's). ``attrs``: ``cutoff``, ``new_lines`` (customer-lines started after it).
    """
    cutoff = pd.Timestamp(cutoff)
    first = lines["first_purchase"]
    before = lines[first <= cutoff]
    started = lines[(first > cutoff) & lines["customer_id"].isin(before["customer_id"])]
    new = started.groupby("customer_id")["product"].agg(set)
    rules = line_associations(before, **guard)
    methods = {"expected": next_products(before, groups, spend, prior=prior, rank_by="expected", rules=rules),
               "score": next_products(before, groups, spend, prior=prior, rank_by="score", rules=rules),
               "popularity": popular_products(before)}
    out = []
    for method, picks in methods.items():
        tested = picks[picks["customer_id"].isin(new.index)]
        hits = sum(product in new[customer] for customer, product in zip(tested["customer_id"], tested["product"]))
        out.append({"method": method, "customers": len(tested), "hits": hits,
                    "hit_rate": hits / len(tested) if len(tested) else np.nan})
    table = pd.DataFrame(out)
    baseline = table.loc[table["method"] == "popularity", "hit_rate"].iloc[0]
    table["lift"] = table["hit_rate"] / baseline if baseline > 0 else np.nan
    table.attrs.update(cutoff=cutoff, new_lines=len(started))
    return table
