"""The sales network's view and the relationship: each account manager's (and region's) book, relationship
indicators, and retention and repeat purchase by cohort.

A *book* is the customers one account manager looks after (or one region holds). Per book: customers, revenue
of the last 12 months and its change on the 12 before, how concentrated the book is (share of its top 10
customers, Gini of its customers' revenue), CLV, value at risk of churn, overdue receivables, alerts and the
actions it owns (all but ``maintain``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from portfolio_kit.concentration import concentration_summary

__all__ = ["BOOK_COLUMNS", "books", "relationship_indicators", "retention_kpis"]

#: Columns a book may be formed on.
BOOK_COLUMNS = ("account_manager", "region")
_UNASSIGNED = "(none)"


def books(profile: pd.DataFrame, actions: pd.DataFrame | None = None, by: str = "account_manager") -> pd.DataFrame:
    """One row per book (``by`` = ``account_manager`` or ``region``), largest revenue first.

    Parameters
    ----------
    profile : DataFrame
        :func:`portfolio_kit.actions.customer_360`.
    actions : DataFrame, optional
        :func:`portfolio_kit.actions.next_actions` (``customer_id``, ``action``, ``priority``).
    by : str

    Returns
    -------
    DataFrame
        ``<by>`` (customers without one in ``"(none)"``), ``customers``, ``revenue_12m``, ``revenue_prev_12m``,
        ``revenue_change``, ``top_10_share``, ``gini`` (of the book's customers' revenue of the last 12 months),
        ``clv``, ``value_at_risk``, ``overdue`` (open more than 30 days past due), ``alerts``, ``actions`` (not
        ``maintain``) and ``high_priority_actions``; a measure the client lacks is NaN.
    """
    if by not in profile.columns:
        raise ValueError(f"books: the customer 360 has no {by!r} column (the master's column is not mapped)")
    p = profile.assign(**{by: profile[by].astype(object).where(profile[by].notna(), _UNASSIGNED).astype(str)})
    if actions is not None:
        owned = actions.set_index("customer_id")
        p = p.assign(_action=p["customer_id"].map(owned["action"]).ne("maintain") & p["customer_id"].isin(owned.index),
                     _high=p["customer_id"].map(owned["priority"]).astype(str).eq("high")
                     & p["customer_id"].map(owned["action"]).ne("maintain"))
    col = lambda name: p[name] if name in p.columns else pd.Series(np.nan, index=p.index)  # noqa: E731
    group = p[by]
    out = pd.DataFrame({"customers": group.value_counts()})
    for name, source in (("revenue_12m", "revenue_12m"), ("revenue_prev_12m", "revenue_prev_12m"), ("clv", "clv"),
                         ("value_at_risk", "value_at_risk"), ("overdue", "overdue_over_30"), ("alerts", "alerts")):
        out[name] = col(source).groupby(group).sum(min_count=1)
    out["revenue_change"] = out["revenue_12m"] / out["revenue_prev_12m"].where(out["revenue_prev_12m"] > 0) - 1
    if "revenue_12m" in p.columns:
        shape = {name: concentration_summary(part.fillna(0.0).clip(lower=0), top_n=(10,))
                 for name, part in col("revenue_12m").groupby(group) if part.clip(lower=0).sum() > 0}
        out["top_10_share"] = pd.Series({k: v["top_10_share"] for k, v in shape.items()}, dtype=float)
        out["gini"] = pd.Series({k: v["gini"] for k, v in shape.items()}, dtype=float)  # NaN: no sales in the book
    else:
        out["top_10_share"] = out["gini"] = np.nan
    if actions is not None:
        out["actions"] = p.groupby(by)["_action"].sum()
        out["high_priority_actions"] = p.groupby(by)["_high"].sum()
    out = out.rename_axis(by).reset_index()
    order = ["customers", "revenue_12m", "revenue_prev_12m", "revenue_change", "top_10_share", "gini", "clv",
             "value_at_risk", "overdue", "alerts", "actions", "high_priority_actions"]
    out = out[[by, *[c for c in order if c in out.columns]]]
    return out.sort_values(["revenue_12m", "customers"], ascending=False, na_position="last",
                           kind="stable").reset_index(drop=True)


def relationship_indicators(profile: pd.DataFrame, columns: Sequence[str],
                            by: str = "segment") -> dict[str, pd.DataFrame]:
    """Relationship indicators of the master (complaints, satisfaction, NPS ...): how they are spread, how they
    differ by ``by``, and how churn and late payment differ across their thirds.

    Returns
    -------
    dict
        ``distribution`` (count, mean, quartiles per indicator), ``by_group`` (mean per ``by`` group, when
        the profile has ``by``), ``relation`` (per indicator and third of its values, low to high: customers,
        mean churn probability and mean P(paid late), where the profile has them; thirds ``lowest third``,
        ``middle third``, ``highest third``).
    """
    values = {c: pd.to_numeric(profile[c], errors="coerce") for c in columns if c in profile.columns}
    values = {c: v for c, v in values.items() if v.notna().any()}
    if not values:
        return {}
    frame = pd.DataFrame(values)
    out = {"distribution": frame.describe().T[["count", "mean", "25%", "50%", "75%"]].rename_axis("indicator")
           .reset_index()}
    if by in profile.columns and profile[by].notna().any():
        out["by_group"] = frame.groupby(profile[by]).mean().rename_axis(by).reset_index()
    rows = []
    for c, v in values.items():
        ranks = v.rank(method="first")
        third = pd.cut(ranks, 3, labels=["lowest third", "middle third", "highest third"]) if v.notna().sum() >= 3 else None
        if third is None:
            continue
        part = pd.DataFrame({"third": third})
        for measure in ("churn_probability", "p_late"):
            part[measure] = profile[measure] if measure in profile.columns else np.nan
        g = part.groupby("third", observed=True)
        rows.append(pd.DataFrame({"indicator": c, "customers": g.size(), "churn_probability": g["churn_probability"]
                                  .mean(), "p_late": g["p_late"].mean()}).rename_axis("third").reset_index())
    if rows:
        out["relation"] = pd.concat(rows, ignore_index=True)[["indicator", "third", "customers", "churn_probability",
                                                              "p_late"]]
    return out


def retention_kpis(purchase_days: pd.DataFrame, as_of) -> pd.DataFrame:
    """Retention and repeat purchase, overall and per yearly cohort (the year of the first purchase).

    ``purchase_days``: one row per customer and day with a purchase (``customer_id``, ``date``).

    Returns
    -------
    DataFrame
        ``cohort`` (first-purchase year, then ``all``), ``customers``, ``repeat_purchase_rate`` (share who
        bought on two days or more), ``retention_rate`` (of those who bought in the 12 months before the last
        12, the share who bought again in the last 12; NaN for cohorts that start later).
    """
    end = pd.Timestamp(as_of)
    year_ago, two_years_ago = end - pd.DateOffset(years=1), end - pd.DateOffset(years=2)
    days = purchase_days[purchase_days["date"] <= end]
    g = days.groupby("customer_id")["date"]
    first, n_days = g.min(), g.nunique()
    before = days.loc[(days["date"] > two_years_ago) & (days["date"] <= year_ago), "customer_id"].unique()
    recent = set(days.loc[days["date"] > year_ago, "customer_id"].unique())
    per = pd.DataFrame({"cohort": first.dt.year.astype(str), "repeat": n_days >= 2})
    per["was_active"] = per.index.isin(before)
    per["retained"] = per["was_active"] & per.index.isin(list(recent))

    def kpis(part: pd.DataFrame) -> pd.Series:
        active = part["was_active"].sum()
        return pd.Series({"customers": len(part), "repeat_purchase_rate": part["repeat"].mean(),
                          "retention_rate": part["retained"].sum() / active if active else np.nan})

    rows = [kpis(part).rename(cohort) for cohort, part in per.groupby("cohort")]
    rows.append(kpis(per).rename("all"))
    out = pd.DataFrame(rows).rename_axis("cohort").reset_index()
    out["customers"] = out["customers"].astype(int)
    return out
