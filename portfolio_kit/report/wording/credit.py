"""Reasons of the recommended credit limits in words, with each customer's own numbers.

The phrases are the catalogue's ``credit.reason.*`` and ``credit.driver.*`` (``catalogue/credit.yaml``), in the
language of the :class:`~portfolio_kit.report.texts.Texts` given (English without): ``buys about EUR 4,100 a
month and pays in 63 days: needs about EUR 10,700 of credit; payment index 74 (risk factor 0.8); recommended
EUR 9,000 against a limit of EUR 40,000``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.report.texts import Texts

__all__ = ["limit_reasons"]


def limit_reasons(limits: pd.DataFrame, texts: Texts | None = None, default_days: int = 365) -> pd.Series:
    """One sentence per customer of :func:`portfolio_kit.credit.recommended_limits` saying why its action.

    The sentence cites the row's own values (monthly purchases, days to pay, need, the risk driver's value
    and factor, recommended and current limit, exposure), so a reader can check it against the table.
    """
    t = texts if texts is not None else Texts("en")
    i = limits.index
    col = lambda name: limits[name] if name in limits.columns else pd.Series(np.nan, index=i)  # noqa: E731
    factor = t.numbers(col("risk_factor"), 2)
    driver = col("risk_driver").astype(object).fillna("unknown")
    say = lambda key, **f: t.fill(t.template(key), i, **f)  # noqa: E731
    values = {
        "payment_index": t.numbers(col("payment_index"), 0),
        "p_late": t.percents(col("p_late")),
        "rating": col("rating").astype(object).fillna(t.number(np.nan)).astype(str),
        "failure_score": t.numbers(col("failure_score"), 0),
        "ecl_rate": t.percents(col("ecl_rate"), 1),
        "unknown": pd.Series("", index=i),
        "defaulted": t.numbers(pd.Series(float(default_days), index=i), 0),
    }
    risk = pd.Series("", index=i, dtype=object)
    for name, value in values.items():
        mask = driver.eq(name).to_numpy()
        if mask.any():
            risk[mask] = say(f"credit.driver.{name}", value=value, factor=factor)[mask]
    fields = dict(monthly=t.moneys(col("monthly_purchases")), days=t.numbers(col("days_to_pay"), 0),
                  need=t.moneys(col("need")), risk=risk, recommended=t.moneys(col("recommended_limit")),
                  limit=t.moneys(col("credit_limit")), exposure=t.moneys(col("exposure")))
    reason = col("limit_reason").astype(object).fillna("need")
    out = pd.Series("", index=i, dtype=object)
    for key in ("need", "dormant", "stop", "no_limit", "no_history"):
        mask = reason.eq(key).to_numpy()
        if mask.any():
            out[mask] = say(f"credit.reason.{key}", **fields)[mask]
    return out
