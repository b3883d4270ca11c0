"""One-line notes a page shows where the client's data leave a section without its input (partial clients)."""

from __future__ import annotations

from portfolio_kit.report.texts import Markdown, Texts

__all__ = ["data_notes", "has_margin"]


def has_margin(transactions) -> bool:
    """True when the sales carry a margin (a ``margin`` column with at least one value)."""
    return "margin" in transactions.columns and bool(transactions["margin"].notna().any())


def data_notes(portfolio, t: Texts, *, master: bool = False, margin: bool = False,
               revenue_value: bool = False) -> Markdown | None:
    """The notes for a page on ``portfolio``: sales taken from the invoices, and when the page uses them, no
    customer master (``master``), no margin on the sales (``margin``), or customer values on revenue for want
    of a margin (``revenue_value``); None when there is nothing to say."""
    no_margin = portfolio.has("transactions") and not has_margin(portfolio.transactions)
    notes = [("sales_from_invoices", portfolio.sales_from == "invoices"),
             ("no_master", master and not portfolio.has("customers")),
             ("no_margin", margin and no_margin),
             ("revenue_as_value", revenue_value and no_margin)]
    shown = [t(f"common.{key}") for key, show in notes if show]
    return Markdown("\n\n".join(shown)) if shown else None
