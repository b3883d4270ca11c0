"""Data overview: what the portfolio holds, revenue over time, customers by attribute."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.data.schemas import key_figures_table

__all__ = ["revenue_by_period", "customer_mix", "key_figures", "REVENUE_PERIODS"]

#: Periods of :func:`revenue_by_period` (``freq``) and the pandas period each stands for.
REVENUE_PERIODS = {"M": "M", "Q": "Q", "Y": "Y", "W": "W"}


def revenue_by_period(transactions: pd.DataFrame, customers: pd.DataFrame | None = None, freq: str = "M",
                      by: str | None = None) -> pd.DataFrame:
    """Net revenue, margin, returns, active customers and transactions per calendar period.

    Parameters
    ----------
    transactions : canonical transactions (``customer_id``, ``date``, ``amount``, optional ``margin``).
    customers : canonical customers, needed when ``by`` names a customer attribute (e.g. ``sector``).
    freq : ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    by : optional column of ``transactions`` or ``customers`` to split by.

    Returns
    -------
    DataFrame with ``period`` (period start date), [``by``], ``revenue`` (net of returns), ``returns``
    (sum of negative amounts, <= 0), ``margin``, ``customers`` (distinct buyers) and ``transactions``.
    """
    if freq not in REVENUE_PERIODS:
        raise ValueError(f"freq must be one of {sorted(REVENUE_PERIODS)}, got {freq!r}")
    tx = transactions
    if by is not None and by not in tx.columns:
        if customers is None or by not in customers.columns:
            raise ValueError(f"column {by!r} is in neither the transactions nor the customers table")
        tx = tx.merge(customers[["customer_id", by]], on="customer_id", how="left")
        tx[by] = tx[by].fillna("(unknown)")
    keys = [tx["date"].dt.to_period(REVENUE_PERIODS[freq]).dt.start_time.rename("period")] + ([tx[by]] if by else [])
    margin = tx["margin"] if "margin" in tx else pd.Series(float("nan"), index=tx.index)
    frame = pd.DataFrame({"revenue": tx["amount"], "returns": tx["amount"].clip(upper=0), "margin": margin,
                          "customer_id": tx["customer_id"]})
    out = frame.groupby(keys, observed=True).agg(revenue=("revenue", "sum"), returns=("returns", "sum"),
                                                 margin=("margin", "sum"), customers=("customer_id", "nunique"),
                                                 transactions=("revenue", "size"))
    return out.reset_index()


def customer_mix(customers: pd.DataFrame, attributes: list[str],
                 transactions: pd.DataFrame | None = None, revenue: pd.Series | None = None) -> pd.DataFrame:
    """Customers per value of each attribute (long table), with their share and, when transactions (or the
    net ``revenue`` per customer id, e.g. from an engine's customer summary) are given, their net revenue and
    its share. Missing values count as ``(unknown)``; absent or empty attributes are skipped.

    Returns
    -------
    DataFrame with ``attribute``, ``value``, ``customers``, ``share`` [, ``revenue``, ``revenue_share``].
    """
    if revenue is None and transactions is not None:
        revenue = transactions.groupby("customer_id")["amount"].sum()
    parts = []
    for attribute in (a for a in attributes if a in customers.columns and customers[a].notna().any()):
        groups = customers[attribute].astype("string").fillna("(unknown)").to_numpy()
        part = customers.groupby(groups).size().rename("customers").to_frame()
        part["share"] = part["customers"] / part["customers"].sum()
        if revenue is not None:
            part["revenue"] = customers["customer_id"].map(revenue).fillna(0.0).groupby(groups).sum()
            part["revenue_share"] = part["revenue"] / part["revenue"].sum()
        parts.append(part.sort_values("customers", ascending=False).rename_axis("value").reset_index()
                     .assign(attribute=attribute))
    if not parts:
        raise ValueError(f"customers have none of the columns {attributes}")
    out = pd.concat(parts, ignore_index=True)
    return out[["attribute", "value"] + [c for c in out.columns if c not in ("attribute", "value")]]


def key_figures(portfolio, summary: pd.DataFrame | None, aging_total: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline numbers of a loaded :class:`~portfolio_kit.data.portfolio.Portfolio`, as
    :func:`~portfolio_kit.data.schemas.key_figures_table`.

    ``summary`` is the customer summary over all transaction rows
    (:func:`portfolio_kit.engines.customer_summary`; None for a client without sales) and ``aging_total`` the
    total open receivables (:func:`portfolio_kit.engines.aging` without ``by``; None without invoices), so the
    figures hold for large clients too, whose raw rows in memory are only a sample.
    """
    if summary is None:  # a client without sales
        summary = pd.DataFrame({c: pd.Series(dtype=float) for c in ("lines", "revenue", "credit_notes")})
    bought = bool(summary["lines"].sum())
    return key_figures_table({
        "customers": (int(portfolio.customers["customer_id"].nunique()), "count"),
        "buying_customers": (int((summary["lines"] > 0).sum()), "count"),
        "transactions": (int(summary["lines"].sum()), "count"),
        "first_purchase": (str(summary["first_purchase"].min().date()) if bought else "", "date"),
        "last_purchase": (str(summary["last_purchase"].max().date()) if bought else "", "date"),
        "net_revenue": (round(float(summary["revenue"].sum()), 2), "money"),
        "credit_notes": (int(summary["credit_notes"].sum()), "count"),
        "invoices": (portfolio.count("invoices"), "count"),
        "open_receivables": (round(float(aging_total["total"].sum()), 2) if aging_total is not None else "",
                             "money"),
        "data_warnings": (len(portfolio.report.warnings), "count"),
    })
