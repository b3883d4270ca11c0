"""Reasons of the next product to offer in words, with each customer's own numbers.

The phrases are the catalogue's ``products.reason.<basis>`` (``catalogue/products.yaml``), in the language of
the :class:`~portfolio_kit.report.texts.Texts` given (English without): ``52% of the customers who buy
Equipment also buy Spare parts (lift 3.0); a chance of 50% x EUR 310 typical margin a year = EUR 155``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.report.texts import Texts

__all__ = ["next_product_reasons"]


def next_product_reasons(suggestions: pd.DataFrame, texts: Texts | None = None, *, margin: bool = True) -> pd.Series:
    """One sentence per row of :func:`portfolio_kit.products.next_products`: who else buys the line (the peer
    group's share, or the share of the buyers of the customer's own line with its lift), and the expected value
    as score x typical yearly value, so that a reader can check it against the row (``margin``: the value is
    margin, else revenue)."""
    t = texts if texts is not None else Texts("en")
    i = suggestions.index
    value = suggestions["expected_margin" if margin else "expected_revenue"]
    score = suggestions["score"]
    fields = dict(
        product=suggestions["product"].astype(str), group=suggestions["peer_group"].astype(str),
        peer_share=t.percents(suggestions["peer_share"]), from_line=suggestions["from_line"].astype(object).fillna(""),
        confidence=t.percents(suggestions["confidence"]), lift=t.numbers(suggestions["lift"], 1),
        score=t.percents(score), typical=t.moneys(value / score.where(score > 0, np.nan)), value=t.moneys(value),
        kind=t("products.margin" if margin else "products.revenue"),
    )
    out = pd.Series("", index=i, dtype=object)
    for basis in pd.unique(suggestions["basis"]):
        mask = (suggestions["basis"] == basis).to_numpy()
        out[mask] = t.fill(t.template(f"products.reason.{basis}"), i, **fields)[mask]
    return out
