"""What customers buy: product mix, penetration and white space, lines that go together, and the next line to
offer each customer.

==========================================  ================================================================
:func:`customer_lines`                      one row per customer and line bought (engine-backed in
                                            :func:`portfolio_kit.engines.customer_lines`)
:func:`main_lines`                          a long tail of products merged into :data:`OTHER_LINES`
:func:`product_mix`                         revenue, margin and buyers per line, overall or per group
:func:`breadth_outcomes`                    number of lines bought against CLV, churn and payments
:func:`penetration`, :func:`white_space`    share of each group buying each line; who does not yet, and
                                            what it would bring at the group's :func:`typical_spend`
:func:`line_associations`                   support, confidence, lift of line pairs, with a significance guard
:func:`next_products`                       the next line per customer, its score and expected margin
:func:`next_product_backtest`               hit rate on a later cut-off against the popularity baseline
==========================================  ================================================================

The reasons in words are in :mod:`portfolio_kit.report.wording.products`.
"""

from portfolio_kit.products.association import co_purchases, line_associations
from portfolio_kit.products.figures import key_figures
from portfolio_kit.products.lines import (LINE_BANDS, OTHER_LINES, breadth_outcomes, bought_matrix, customer_lines,
                                          lines_per_customer, main_lines, product_mix)
from portfolio_kit.products.next_product import (NEXT_PRODUCT_COLUMNS, next_product_backtest, next_products,
                                                 popular_products)
from portfolio_kit.products.penetration import ALL_CUSTOMERS, group_labels, penetration, typical_spend, white_space

__all__ = [
    "customer_lines", "main_lines", "OTHER_LINES", "product_mix", "lines_per_customer", "breadth_outcomes",
    "bought_matrix", "LINE_BANDS",
    "penetration", "typical_spend", "white_space", "ALL_CUSTOMERS", "group_labels",
    "co_purchases", "line_associations",
    "next_products", "next_product_backtest", "popular_products", "NEXT_PRODUCT_COLUMNS",
    "key_figures",
]
