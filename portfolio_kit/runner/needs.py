"""What each notebook of the suite needs from a client's data, in one place the runner reads before it
starts any kernel.

A client is any non-empty subset of the four tables (see :class:`~portfolio_kit.data.portfolio.Portfolio`).
A notebook whose needs are not met is not run: the run's manifest, index and summary show it as *not run*
with the reason in the report's language and what to export to get the page (catalogue keys
``common.not_run.<reason>``). A notebook not listed here needs nothing.

=================  =========================================================================================
notebook           needs
=================  =========================================================================================
segmentation       sales: sales lines, or invoices taken as sales
abc_pareto         sales
clv                sales, with customers who bought on at least two different days
payments           invoices (the open-items ledger)
churn              sales covering at least two churn horizons (about a year)
monitoring         two business-information snapshots, or a previous run of the client to compare with
credit             invoices (the open-items ledger); it reads the CLV and payments tables of the same run
actions            sales; it reads every per-customer table of the same run, the alerts and the credit limits
products           sales with a product column; it reads the segments, CLV, churn and payments tables of the run
=================  =========================================================================================
"""

from __future__ import annotations

import pandas as pd

__all__ = ["NEEDS", "READS_FROM", "unmet_need"]

#: Notebook name -> the checks it needs, in order; the first one that fails is the reason it is not run.
NEEDS: dict[str, tuple[str, ...]] = {
    "segmentation": ("sales",),
    "abc_pareto": ("sales",),
    "clv": ("sales", "repeat_buyers"),
    "payments": ("invoices",),
    "churn": ("sales", "sales_history"),
    "monitoring": ("snapshots_or_previous_run",),
    "credit": ("invoices",),
    "actions": ("sales",),
    "products": ("sales", "products"),
}

#: The notebooks whose tables a notebook reads in the same run: it starts once they are done (those of them that
#: run). Monitoring compares every per-customer table with the previous run's; credit reads the CLV and payments
#: tables; products the segments, CLV, churn and payments; actions all of them, the alerts, credit limits and next
#: products. The summary always runs last. The others depend on nothing and start first.
READS_FROM: dict[str, tuple[str, ...]] = {
    "monitoring": ("segmentation", "abc_pareto", "clv", "payments", "churn"),
    "credit": ("clv", "payments"),
    "products": ("segmentation", "clv", "churn", "payments"),
    "actions": ("segmentation", "abc_pareto", "clv", "payments", "churn", "monitoring", "credit", "products"),
}

#: Months of sales history the churn page needs: a horizon to learn on and one to check (short horizons).
CHURN_HISTORY_MONTHS = 12


def _repeat_buyers(transactions: pd.DataFrame) -> int:
    buys = transactions.loc[transactions["amount"] > 0, ["customer_id", "date"]].drop_duplicates()
    return int((buys.groupby("customer_id").size() >= 2).sum())


def unmet_need(notebook: str, portfolio, previous_run: str | None) -> str | None:
    """The first need of ``notebook`` that the client's data do not meet (a catalogue key under
    ``common.not_run``), or None when it can run.

    ``portfolio`` is the loaded :class:`~portfolio_kit.data.portfolio.Portfolio`; its in-memory rows may be a
    sample for large clients, which is enough to tell whether a table is there and has history.
    """
    for need in NEEDS.get(notebook, ()):
        tx = portfolio.transactions
        met = {
            "sales": lambda: portfolio.has("transactions") and len(tx) > 0,
            "repeat_buyers": lambda: _repeat_buyers(tx) > 0,
            "sales_history": lambda: (tx["date"].max() - tx["date"].min()).days >= CHURN_HISTORY_MONTHS * 30,
            "invoices": lambda: portfolio.has("invoices") and len(portfolio.invoices) > 0,
            "products": lambda: "product" in tx.columns and bool(tx["product"].notna().any()),
            "snapshots_or_previous_run": lambda: (portfolio.has("snapshots") and len(portfolio.snapshots) > 0)
                                                 or bool(previous_run),
        }[need]
        if not met():
            return need
    return None
