"""Which lines go together: association rules between product lines over customers, with a guard against the
noise of rare lines.

For lines A and B over the N customers of a ``lines`` table: support(A, B) = customers buying both / N;
confidence(A -> B) = support(A, B) / support(A); lift = confidence(A -> B) / support(B), the same both ways
(1 = independent). With a handful of buyers a lift is noise, so every pair is tested: under independence the
number of customers buying both is hypergeometric (N customers, n_B buyers of B, n_A draws), the one-sided p-value
is P(X >= n_AB) (Fisher's exact test), and the p-values of all pairs are adjusted for multiple testing
(Benjamini-Hochberg false discovery rate, ``q_value``). A rule is ``significant`` when its pair has at least
``min_customers`` buying both, a support of at least ``min_support``, a lift above 1 and ``q_value <= alpha``.

Why not mlxtend's apriori/association_rules: product *lines* are a few dozen at most (:func:`~portfolio_kit.products.main_lines`),
so every pair's counts are one product of the customers x lines matrix with itself, exact and fast for millions
of customers, without the one-hot frame apriori needs in memory; longer itemsets add little for cross-selling
one line at a time; and the significance guard, which mlxtend does not have, is the part that matters here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.products.lines import bought_matrix

__all__ = ["line_associations", "co_purchases"]


def co_purchases(matrix: np.ndarray) -> np.ndarray:
    """Customers buying both lines, for every pair (lines x lines; the diagonal is each line's buyers)."""
    exact = np.float32 if len(matrix) < 2 ** 24 else np.float64  # counts stay exact integers
    ones = matrix.astype(exact)
    return np.rint(ones.T @ ones).astype(np.int64)


def line_associations(lines: pd.DataFrame, min_support: float = 0.01, min_customers: int = 10,
                      alpha: float = 0.05) -> pd.DataFrame:
    """Association rules A -> B between every two lines of a :func:`~portfolio_kit.products.customer_lines`
    table.

    Returns
    -------
    DataFrame
        One row per ordered pair: ``antecedent``, ``consequent``, ``customers_antecedent``,
        ``customers_consequent``, ``customers_both``, ``support``, ``confidence``, ``lift``, ``p_value``,
        ``q_value``, ``significant``; significant rules first, then by descending lift. ``attrs["customers"]``
        = N.

    Examples
    --------
    >>> lines = pd.DataFrame({"customer_id": list("AABBCD"), "product": list("xyxyzz"), "purchases": 1})
    >>> rules = line_associations(lines, min_customers=1)
    >>> rules.loc[0, ["antecedent", "consequent", "support", "confidence", "lift"]].tolist()
    ['x', 'y', 0.5, 1.0, 2.0]
    """
    from scipy.stats import false_discovery_control, hypergeom

    _, names, matrix = bought_matrix(lines)
    n = len(matrix)
    both = co_purchases(matrix)
    buyers = np.diag(both).copy()
    a, b = (x.ravel() for x in np.meshgrid(np.arange(len(names)), np.arange(len(names)), indexing="ij"))
    pair = a != b
    a, b = a[pair], b[pair]
    k = both[a, b]
    out = pd.DataFrame({"antecedent": names[a], "consequent": names[b], "customers_antecedent": buyers[a],
                        "customers_consequent": buyers[b], "customers_both": k})
    out["support"] = k / n
    out["confidence"] = k / buyers[a]
    out["lift"] = out["confidence"] / (buyers[b] / n)
    out["p_value"] = hypergeom.sf(k - 1, n, buyers[b], buyers[a])
    once = a < b  # one test per unordered pair: the p-value is the same both ways
    q = np.empty(len(out))
    if once.any():
        adjusted = false_discovery_control(out.loc[once, "p_value"].to_numpy(), method="bh")
        q_of = dict(zip(zip(a[once], b[once]), adjusted))
        q = np.array([q_of[(min(i, j), max(i, j))] for i, j in zip(a, b)])
    out["q_value"] = q
    out["significant"] = ((k >= min_customers) & (out["support"] >= min_support) & (out["lift"] > 1)
                          & (out["q_value"] <= alpha))
    out = out.sort_values(["significant", "lift", "customers_both"], ascending=[False, False, False],
                          kind="stable", ignore_index=True)
    out.attrs["customers"] = n
    return out
