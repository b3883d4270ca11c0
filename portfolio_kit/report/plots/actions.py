"""Figures of the next actions and of the sales network; each takes a result table of
:mod:`portfolio_kit.actions`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.report.plots.style import new_axes, number_axis, shown_name, texts_or_english
from portfolio_kit.report.texts import Texts

__all__ = ["action_counts", "book_comparison"]


def action_counts(actions: pd.DataFrame, order=None, ax=None, title: str | None = None, texts: Texts | None = None):
    """Horizontal bars: customers per action (bars) and their value at stake (written at each bar's end).

    ``actions``: :func:`portfolio_kit.actions.next_actions`; ``order``: the actions in the order shown.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    g = actions.groupby("action")
    table = pd.DataFrame({"customers": g.size(), "value": g["value_at_stake"].sum()})
    order = [a for a in (order or table.index) if a in table.index]
    table = table.loc[order[::-1]]
    y = np.arange(len(table))
    ax.barh(y, table["customers"], color="C0")
    ax.set_yticks(y, [shown_name(a, texts) for a in table.index])
    for k, (n, value) in enumerate(zip(table["customers"], table["value"])):
        ax.text(n, k, f"  {t.money(value)}", va="center", fontsize="small")
    ax.set(title=title or t("actions.plot.counts_title"), xlabel=t("actions.plot.customers"), ylabel="")
    ax.set_xlim(0, table["customers"].max() * 1.35 if len(table) else 1)
    number_axis(ax, texts, "x")
    return fig


def book_comparison(books: pd.DataFrame, by: str = "account_manager", ax=None, title: str | None = None,
                    texts: Texts | None = None):
    """Grouped bars per book: revenue of the last 12 months, CLV and value at risk of churn (those the table
    has). ``books``: :func:`portfolio_kit.actions.books`."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    measures = [m for m in ("revenue_12m", "clv", "value_at_risk") if m in books.columns and books[m].notna().any()]
    x = np.arange(len(books))
    width = 0.8 / max(len(measures), 1)
    for k, measure in enumerate(measures):
        ax.bar(x + (k - (len(measures) - 1) / 2) * width, books[measure].fillna(0), width=width,
               label=t.column(measure), color=f"C{k}")
    ax.set_xticks(x, [shown_name(b, texts) for b in books[by]], rotation=30, ha="right")
    ax.set(title=title or t("actions.plot.books_title"), xlabel="", ylabel=t("actions.plot.amount"))
    number_axis(ax, texts)
    if measures:
        ax.legend(fontsize="small")
    return fig
