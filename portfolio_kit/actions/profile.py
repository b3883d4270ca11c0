"""One row per customer: what every analysis of the run says about it, side by side (the *customer 360*).

The table joins, on ``customer_id``, whatever the run produced; a client without invoices has no payment
columns, one without snapshots no rating, and so on (each missing source is listed in ``attrs["missing"]``).

==========================  =================================================================================
from                        columns
==========================  =================================================================================
customer master             ``name``, ``account_manager``, ``region``, ``sector``, ``size_class``, ``channel``,
                            ``credit_limit`` (and any relationship column: complaints, satisfaction, NPS)
sales (last 24 months)      ``revenue_12m``, ``margin_12m``, ``revenue_prev_12m``, ``margin_prev_12m``,
                            ``revenue_change`` (share, NaN without sales the year before), ``last_purchase``,
                            ``days_since_purchase``, ``value_12m`` (margin, or revenue without margins)
segmentation, ABC           ``segment``, ``value_class``, ``revenue`` (lifetime), ``abc_class``
CLV                         ``clv``, ``clv_low``, ``clv_high``, ``probability_alive``, ``expected_revenue``
churn                       ``churn_probability``, ``value_at_risk``, ``churn_score``
payments                    ``exposure``, ``past_due``, ``overdue_over_30/60/90`` (open more than so many days
                            past due), ``utilisation``, ``headroom``, ``over_limit``, ``payment_index``, ``p_late``,
                            ``profile``, ``worsening``
credit                      ``recommended_limit``, ``limit_action``, ``ecl``, ``risk_adjusted_clv``
snapshots                   ``rating``, ``rating_before`` (the previous snapshot's), ``rating_change`` (notches:
                            negative = downgraded)
alerts                      ``alerts`` (count), ``alert_rules``, ``alert_severity`` (the most severe)
==========================  =================================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from portfolio_kit.monitoring import RATING_SCALE, SEVERITIES

__all__ = ["MASTER_COLUMNS", "RELATIONSHIP_NAMES", "SOURCES", "customer_360", "overdue_beyond", "rating_moves",
           "sales_years"]

#: Master columns carried into the table when the client has them.
MASTER_COLUMNS = ("name", "account_manager", "region", "sector", "size_class", "channel", "customer_type",
                  "credit_limit")
#: Master columns read as relationship indicators (compared in lower case).
RELATIONSHIP_NAMES = ("complaints", "satisfaction", "nps", "visits")
#: The per-customer tables the table reads, with the columns taken from each.
SOURCES: dict[str, tuple[str, ...]] = {
    "customers_segments": ("segment", "value_class", "revenue"),
    "customers_abc": ("abc_class",),
    "customers_clv": ("clv", "clv_low", "clv_high", "probability_alive", "expected_revenue"),
    "customers_churn": ("churn_probability", "value_at_risk", "churn_score"),
    "customers_payments": ("exposure", "past_due", "utilisation", "headroom", "over_limit", "payment_index", "p_late",
                           "profile", "worsening"),
    "customers_credit": ("recommended_limit", "limit_action", "ecl", "risk_adjusted_clv"),
    "customers_next_product": ("next_product", "next_product_score", "next_product_value"),
}
#: Columns of a source table renamed on the way in (the products page's names are its own table's).
RENAMED: dict[str, dict[str, str]] = {
    "customers_next_product": {"product": "next_product", "score": "next_product_score"},
}
_BUCKET = re.compile(r"^(\d+)(?:-(\d+)|\+)$")


def overdue_beyond(payments: pd.DataFrame, days: Sequence[int] = (30, 60, 90)) -> pd.DataFrame:
    """Per customer, the amount open more than ``d`` days past due for each ``d``, from the aging bucket
    columns of the payments table (``1-30``, ``31-60``, ``91+`` ...; a bucket counts when its first day is past
    ``d``): ``overdue_over_<d>`` columns, indexed like ``payments``."""
    buckets = {c: int(m.group(1)) for c in payments.columns if (m := _BUCKET.match(str(c)))}
    out = pd.DataFrame(index=payments.index)
    for d in days:
        cols = [c for c, first in buckets.items() if first > d]
        out[f"overdue_over_{d}"] = payments[cols].fillna(0).sum(axis=1) if cols else np.nan
    return out


def rating_moves(snapshots: pd.DataFrame, scale: Sequence[str] = RATING_SCALE) -> pd.DataFrame:
    """Per customer: its latest ``rating``, the one of its snapshot before (``rating_before``) and
    ``rating_change`` in notches (positions on ``scale``, best first; negative = downgraded, NaN when either is
    missing or off the scale). Each customer's own two latest rated snapshots count, whatever the others'."""
    if "rating" not in snapshots.columns or snapshots["rating"].isna().all():
        return pd.DataFrame(columns=["rating", "rating_before", "rating_change"]).rename_axis("customer_id")
    rated = snapshots.dropna(subset=["rating"]).sort_values("snapshot_date", kind="stable")
    by_customer = rated.groupby("customer_id")["rating"]
    latest = by_customer.nth(-1).set_axis(rated.loc[by_customer.nth(-1).index, "customer_id"])
    previous = by_customer.nth(-2)
    before = previous.set_axis(rated.loc[previous.index, "customer_id"])
    out = pd.DataFrame({"rating": latest, "rating_before": before.reindex(latest.index)})
    position = {r: i for i, r in enumerate(scale)}
    now = out["rating"].astype("string").str.strip().str.upper().map(position).astype(float)
    then = out["rating_before"].astype("string").str.strip().str.upper().map(position).astype(float)
    out["rating_change"] = then - now
    return out.rename_axis("customer_id")


def _by_customer(summary: pd.DataFrame) -> pd.DataFrame:
    return summary if summary.index.name == "customer_id" else summary.set_index("customer_id")


def sales_years(summary_now: pd.DataFrame | None, summary_before: pd.DataFrame | None) -> pd.DataFrame:
    """Revenue and margin of the last 12 months and of the 12 before, from two customer summaries
    (:func:`portfolio_kit.segmentation.customer_summary` with ``start`` a year apart, indexed by customer id or
    with a ``customer_id`` column; None for a year without sales), with the change."""
    if summary_now is None:
        summary_now = pd.DataFrame({"customer_id": pd.Series(dtype=object), "revenue": pd.Series(dtype=float)})
    now = _by_customer(summary_now)
    out = pd.DataFrame({"revenue_12m": now["revenue"], "margin_12m": now.get("margin")}, index=now.index)
    if summary_before is not None:
        before = _by_customer(summary_before)
        out = out.join(pd.DataFrame({"revenue_prev_12m": before["revenue"], "margin_prev_12m": before.get("margin")}),
                       how="outer")
    else:
        out[["revenue_prev_12m", "margin_prev_12m"]] = np.nan
    prev = out["revenue_prev_12m"]
    out["revenue_change"] = (out["revenue_12m"].fillna(0) / prev.where(prev > 0)) - 1
    return out


def customer_360(customers: pd.DataFrame, tables: Mapping[str, pd.DataFrame | None], *, as_of,
                 sales: pd.DataFrame | None = None, last_purchase: pd.Series | None = None,
                 ratings: pd.DataFrame | None = None, alerts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The customer 360 (the module's table) from the master, the run's per-customer tables and the rest.

    Parameters
    ----------
    customers : DataFrame
        The canonical customer master (every customer of the client; the master's relationship columns,
        e.g. ``complaints``, ``satisfaction``, ``nps``, are carried along when present).
    tables : mapping of table name to DataFrame or None
        The run's per-customer tables (:data:`SOURCES`); a missing one leaves its columns out.
    as_of : date-like
    sales : DataFrame, optional
        :func:`sales_years`.
    last_purchase : Series, optional
        Last purchase date by customer id.
    ratings : DataFrame, optional
        :func:`rating_moves`.
    alerts : DataFrame, optional
        The monitoring alerts (``customer_id``, ``rule``, ``severity``).
    """
    master = customers.drop_duplicates("customer_id").set_index("customer_id")
    keep = [c for c in MASTER_COLUMNS if c in master.columns and master[c].notna().any()]
    extra = [c for c in master.columns if c not in keep and c.lower() in RELATIONSHIP_NAMES]
    out = master[keep + extra].copy()
    if "name" not in out.columns:  # the tables built on it always have a name column, empty without a master
        out.insert(0, "name", np.nan)
    missing = []
    for name, columns in SOURCES.items():
        table = tables.get(name)
        if table is None:
            missing.append(name)
            continue
        t = table.drop_duplicates("customer_id").set_index("customer_id").rename(columns=RENAMED.get(name, {}))
        if name == "customers_next_product":  # its value: expected margin, or revenue for a client without margins
            t["next_product_value"] = t["expected_margin"].fillna(t["expected_revenue"])
        out = out.join(t[[c for c in columns if c in t.columns]], how="outer")
        if name == "customers_payments":
            out = out.join(overdue_beyond(t), how="left")
    for name, part in (("sales", sales), ("ratings", ratings)):
        if part is None:
            missing.append(name)
        else:
            out = out.join(part, how="outer" if name == "sales" else "left")
    if last_purchase is not None:
        out["last_purchase"] = last_purchase.reindex(out.index)
        out["days_since_purchase"] = (pd.Timestamp(as_of) - pd.to_datetime(out["last_purchase"])).dt.days
    if "revenue_12m" in out.columns:
        margin = out["margin_12m"] if "margin_12m" in out.columns else None
        has_margin = margin is not None and margin.notna().any()
        out["value_12m"] = (margin if has_margin else out["revenue_12m"]).fillna(0.0)
    if alerts is None:
        missing.append("alerts")
    else:
        out = out.join(_alerts_per_customer(alerts), how="left")
        out["alerts"] = out["alerts"].fillna(0).astype(int)
    out = out.rename_axis("customer_id").reset_index()
    out.attrs["missing"] = missing
    return out


def _alerts_per_customer(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return pd.DataFrame(columns=["alerts", "alert_rules", "alert_severity"]).rename_axis("customer_id")
    severity = pd.Categorical(alerts["severity"].astype(str), categories=SEVERITIES, ordered=True)
    a = alerts.assign(severity=severity)
    grouped = a.groupby("customer_id", observed=True)
    return pd.DataFrame({"alerts": grouped.size(),
                         "alert_rules": grouped["rule"].agg(lambda r: ", ".join(sorted(set(map(str, r))))),
                         "alert_severity": grouped["severity"].min().astype(str)})

