"""The products page's headline numbers."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.data.schemas import key_figures_table

__all__ = ["key_figures"]


def key_figures(mix: pd.DataFrame, n_lines: pd.Series, rules: pd.DataFrame, suggestions: pd.DataFrame,
                space: pd.DataFrame | None = None, backtest: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline numbers of the products page (:func:`~portfolio_kit.data.schemas.key_figures_table`).

    ``mix`` is :func:`~portfolio_kit.products.product_mix` overall, ``n_lines``
    :func:`~portfolio_kit.products.lines_per_customer`, ``rules`` :func:`~portfolio_kit.products.line_associations`,
    ``suggestions`` :func:`~portfolio_kit.products.next_products`, ``space``
    :func:`~portfolio_kit.products.white_space` and ``backtest`` :func:`~portfolio_kit.products.next_product_backtest`.
    """
    top = mix.iloc[0] if len(mix) else None
    best = rules[rules["significant"]].iloc[0] if rules["significant"].any() else None
    kit = backtest.set_index("method") if backtest is not None else None
    value = "expected_margin" if suggestions["expected_margin"].notna().any() else "expected_revenue"
    potential = ("potential_margin" if space is not None and "potential_margin" in space.columns
                 else "potential_revenue")
    return key_figures_table({
        "product_lines": (int(len(mix)), "count"),
        "top_line": (str(top["product"]) if top is not None else "", "text"),
        "top_line_share": (round(float(top["revenue_share"]), 4) if top is not None else "", "percent"),
        "multi_line_customers": (round(float((n_lines > 1).mean()), 4) if len(n_lines) else "", "percent"),
        "significant_pairs": (int(rules["significant"].sum() // 2), "count"),
        "top_pair": (f"{best['antecedent']} + {best['consequent']}" if best is not None else "", "text"),
        "top_pair_lift": (round(float(best["lift"]), 2) if best is not None else "", "number.2"),
        "white_space_value": (round(float(space[potential].sum()), 0) if space is not None and len(space) else "",
                              "money.0"),
        "next_product_value": (round(float(suggestions[value].sum()), 0) if len(suggestions) else "", "money.0"),
        "next_product_hit_rate": (round(float(kit.loc["expected", "hit_rate"]), 4)
                                  if kit is not None and pd.notna(kit.loc["expected", "hit_rate"]) else "", "percent"),
        "next_product_lift": (round(float(kit.loc["expected", "lift"]), 2)
                              if kit is not None and pd.notna(kit.loc["expected", "lift"]) else "", "number.2"),
    })
