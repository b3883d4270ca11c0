"""Strategies per segment: each RFM segment and value class measured, with the levers the policy sets for it.

The levers (:data:`DEFAULT_LEVERS`, overridable by the config's ``levers`` mapping) are the seed articles'
targeted strategies: the discount policy, the credit terms, the visits per month and the commercial focus.
Each lever value is an identifier the report words (``loyalty_rebate`` -> "loyalty rebate on yearly volume");
a config may write its own text instead, shown as written.

The kit's defaults, in short: reward and develop the best (Champions, Loyal: service and rebates, standard
terms, frequent visits, upsell and cross-sell); convert the promising (New, Promising, Potential Loyalist:
welcome and trial offers, short terms until a few invoices are paid on time, cross-sell); win back the valuable
who slip (At Risk, Can't Lose Them: personal offers and visits, review credit before extending it); serve the
dormant and lost at the lowest cost (no discount, prepayment or short terms, no visits).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["LEVERS", "DEFAULT_LEVERS", "check_levers", "segment_strategies"]

#: The levers of a strategy.
LEVERS = ("discount_policy", "credit_terms", "visits_per_month", "focus")

_L = dict  # a row of the lever table
#: The kit's lever table, by RFM segment and by value class.
DEFAULT_LEVERS: dict[str, dict[str, object]] = {
    "Champions": _L(discount_policy="no_discount_service", credit_terms="standard_raise_on_request",
                    visits_per_month=2.0, focus="upsell"),
    "Loyal Customers": _L(discount_policy="loyalty_rebate", credit_terms="standard", visits_per_month=1.0,
                          focus="cross_sell"),
    "Potential Loyalist": _L(discount_policy="volume_discount", credit_terms="standard", visits_per_month=1.0,
                             focus="cross_sell"),
    "New Customers": _L(discount_policy="welcome_offer", credit_terms="short_until_paid", visits_per_month=1.0,
                        focus="onboarding"),
    "Promising": _L(discount_policy="trial_offer", credit_terms="short_until_paid", visits_per_month=0.5,
                    focus="cross_sell"),
    "Need Attention": _L(discount_policy="limited_time_offer", credit_terms="standard", visits_per_month=1.0,
                         focus="reactivation"),
    "About to Sleep": _L(discount_policy="reactivation_offer", credit_terms="short", visits_per_month=0.5,
                         focus="reactivation"),
    "At Risk": _L(discount_policy="personal_offer", credit_terms="review_before_extending", visits_per_month=2.0,
                  focus="retention"),
    "Can't Lose Them": _L(discount_policy="personal_offer", credit_terms="review_before_extending",
                          visits_per_month=2.0, focus="retention"),
    "Hibernating": _L(discount_policy="no_discount", credit_terms="short", visits_per_month=0.0,
                      focus="lower_cost_to_serve"),
    "Lost": _L(discount_policy="no_discount", credit_terms="prepayment", visits_per_month=0.0,
               focus="lower_cost_to_serve"),
    "most profitable": _L(discount_policy="no_discount_service", credit_terms="standard_raise_on_request",
                          visits_per_month=2.0, focus="upsell"),
    "recurring": _L(discount_policy="loyalty_rebate", credit_terms="standard", visits_per_month=1.0,
                    focus="cross_sell"),
    "complex": _L(discount_policy="volume_discount", credit_terms="standard", visits_per_month=1.0,
                  focus="cross_sell"),
    "new": _L(discount_policy="welcome_offer", credit_terms="short_until_paid", visits_per_month=1.0,
              focus="onboarding"),
    "no value": _L(discount_policy="no_discount", credit_terms="short", visits_per_month=0.0,
                   focus="lower_cost_to_serve"),
    "other": _L(discount_policy="limited_time_offer", credit_terms="standard", visits_per_month=0.5,
                focus="cross_sell"),
}


def check_levers(levers: Mapping[str, Mapping[str, object]] | None) -> dict[str, dict[str, object]]:
    """The lever table: the config's ``levers`` (group -> some of :data:`LEVERS`) over the defaults.

    Raises ``ValueError`` naming the group and the lever for an unknown lever or a visit frequency that is not
    a number of visits a month >= 0.
    """
    table = {group: dict(row) for group, row in DEFAULT_LEVERS.items()}
    for group, row in (levers or {}).items():
        if not isinstance(row, Mapping):
            raise ValueError(f"levers: {group!r}: expected a mapping of {list(LEVERS)}, got {row!r}")
        unknown = sorted(set(row) - set(LEVERS))
        if unknown:
            raise ValueError(f"levers: {group!r}: unknown lever(s) {unknown}; expected some of {list(LEVERS)}")
        visits = row.get("visits_per_month", 0.0)
        if isinstance(visits, bool) or not isinstance(visits, (int, float)) or not visits >= 0:
            raise ValueError(f"levers: {group!r}: visits_per_month must be a number of visits a month >= 0, "
                             f"got {visits!r}")
        table[str(group)] = {**table.get(str(group), dict.fromkeys(LEVERS)), **row}
    return table


def segment_strategies(profile: pd.DataFrame, levers: Mapping[str, Mapping[str, object]] | None = None,
                       late_probability: float = 0.5) -> pd.DataFrame:
    """Per RFM segment and per value class: what the group is, and the levers the policy sets for it.

    Parameters
    ----------
    profile : DataFrame
        :func:`portfolio_kit.actions.customer_360` (``segment`` and/or ``value_class``; the measures it has).
    levers : mapping, optional
        The config's ``levers`` (see :func:`check_levers`).
    late_probability : float
        P(paid late) from which a customer counts as a late payer.

    Returns
    -------
    DataFrame
        ``group_by`` (segment or value_class), ``group``, ``customers``, ``customer_share``, ``revenue_12m``,
        ``revenue_share``, ``clv``, ``clv_share``, ``churn_probability`` (mean), ``late_payer_share``,
        ``exposure``, then the levers; measures the profile lacks are NaN. Groups in the order of the lever
        table, then any other.
    """
    table = check_levers(levers)
    rows = []
    for by in ("segment", "value_class"):
        if by not in profile.columns or profile[by].isna().all():
            continue
        p = profile[profile[by].notna()]
        g = p.groupby(by, sort=False)
        col = lambda name: p[name] if name in p.columns else pd.Series(np.nan, index=p.index)  # noqa: E731
        frame = pd.DataFrame({
            "customers": g.size(),
            "revenue_12m": col("revenue_12m").groupby(p[by]).sum(min_count=1),
            "clv": col("clv").groupby(p[by]).sum(min_count=1),
            "churn_probability": col("churn_probability").groupby(p[by]).mean(),
            "late_payer_share": (col("p_late") >= late_probability).where(col("p_late").notna()).groupby(
                p[by]).mean(),
            "exposure": col("exposure").groupby(p[by]).sum(min_count=1),
        })
        frame["customer_share"] = frame["customers"] / frame["customers"].sum()
        for measure in ("revenue_12m", "clv"):
            total = frame[measure].sum(min_count=1)
            frame[f"{'revenue' if measure == 'revenue_12m' else measure}_share"] = frame[measure] / total \
                if pd.notna(total) and total else np.nan
        order = [k for k in table if k in frame.index] + sorted(k for k in frame.index if k not in table)
        frame = frame.loc[order].rename_axis("group").reset_index()
        frame.insert(0, "group_by", by)
        for lever in LEVERS:
            frame[lever] = [table.get(str(group), {}).get(lever) for group in frame["group"]]
        rows.append(frame)
    columns = ["group_by", "group", "customers", "customer_share", "revenue_12m", "revenue_share", "clv",
               "clv_share", "churn_probability", "late_payer_share", "exposure", *LEVERS]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)
