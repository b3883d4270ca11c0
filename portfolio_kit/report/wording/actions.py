"""Reasons of the next actions in words, with each customer's own numbers: ``valuable customer (EUR 41,200 of
margin in 12 months, top 20% from EUR 9,800) whose rating fell from BBB to B: review the credit limit of EUR
50,000 and the terms; exposure EUR 31,400``.

The sentences are the catalogue's ``actions.reason.<action>.<trigger>`` (``catalogue/actions.yaml``), in the
language of the :class:`~portfolio_kit.report.texts.Texts` given (English without).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.report.texts import Texts

__all__ = ["REASON_COLUMNS", "action_reasons", "lever_words"]

#: The customer 360 columns the reasons cite (kept beside the actions so that each reason can be checked).
REASON_COLUMNS = ("value_12m", "revenue_12m", "revenue_change", "rating_before", "rating", "payment_index", "p_late",
                  "exposure", "credit_limit", "probability_alive", "churn_probability", "days_since_purchase",
                  "revenue_prev_12m", "clv", "next_product", "next_product_score", "next_product_value")


def action_reasons(rows: pd.DataFrame, texts: Texts | None = None, *, margin: bool = True,
                   shares: dict[str, float] | None = None) -> pd.Series:
    """One sentence per row of :func:`portfolio_kit.actions.next_actions` joined with the customer 360's
    :data:`REASON_COLUMNS`, citing the values that triggered the action.

    ``margin``: whether ``value_12m`` is margin (else revenue); ``shares``: each action's top / bottom share
    (from its rule) for the words "top 20%".
    """
    t = texts if texts is not None else Texts("en")
    i = rows.index
    col = lambda name: rows[name] if name in rows.columns else pd.Series(np.nan, index=i)  # noqa: E731
    share = col("action").map(shares or {}).astype(float)
    fields = dict(
        value=t.moneys(col("value_12m")), kind=t("actions.margin" if margin else "actions.revenue"),
        share=t.percents(share), threshold=t.moneys(col("threshold")), stake=t.moneys(col("value_at_stake")),
        rating_before=col("rating_before").astype(object).fillna(t.number(np.nan)).astype(str),
        rating=col("rating").astype(object).fillna(t.number(np.nan)).astype(str),
        payment_index=t.numbers(col("payment_index"), 0), p_late=t.percents(col("p_late")),
        exposure=t.moneys(col("exposure")), limit=t.moneys(col("credit_limit")),
        p_alive=t.percents(col("probability_alive")),
        churn=t.percents(col("churn_probability")), days_since=t.numbers(col("days_since_purchase"), 0),
        revenue=t.moneys(col("revenue_12m")), change=t.numbers(col("revenue_change") * 100, 0, signed=True) + "%",
        days=t.numbers(col("threshold"), 0), clv=t.moneys(col("clv")),
        next_product=col("next_product").astype(object).fillna("").astype(str),
        next_chance=t.percents(col("next_product_score")), next_value=t.moneys(col("next_product_value")),
    )
    key = "actions.reason." + col("action").astype(str) + "." + col("trigger").astype(str)
    out = pd.Series("", index=i, dtype=object)
    for k in pd.unique(key):
        mask = (key == k).to_numpy()
        out[mask] = t.fill(t.template(k), i, **fields)[mask]
    return out


def lever_words(strategies: pd.DataFrame, texts: Texts | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.actions.segment_strategies` with each lever identifier in words (the catalogue's
    ``actions.lever.<id>``); a config's own text is kept as written."""
    t = texts if texts is not None else Texts("en")
    out = strategies.copy()
    for lever in ("discount_policy", "credit_terms", "focus"):
        if lever in out.columns:
            out[lever] = out[lever].map(lambda v: t(f"actions.lever.{v}") if isinstance(v, str)
                                        and t.has(f"actions.lever.{v}") else v)
    return out
