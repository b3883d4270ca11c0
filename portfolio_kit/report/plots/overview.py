"""Figures of the data overview."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import (apply_style, date_axis, new_axes, number_axis, shown_name,
                                              texts_or_english)

__all__ = ["revenue_trend", "customer_mix"]


def revenue_trend(revenue, by: str | None = None, ax=None, title: str | None = None, texts: Texts | None = None):
    """Line chart of ``revenue_by_period`` output (one line per ``by`` value when given); ``title`` default
    "Net revenue by month"."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    sns.lineplot(data=revenue, x="period", y="revenue", hue=by, marker="o", ax=ax)
    ax.set(title=title or t("overview.plot.revenue_by_month"), xlabel="", ylabel=t("overview.plot.revenue"))
    number_axis(ax, texts)
    if pd.api.types.is_datetime64_any_dtype(revenue["period"]):
        date_axis(ax, texts)
    if by is not None and ax.get_legend() is not None:
        ax.legend(title=shown_name(by, texts))
    return fig


def customer_mix(mix, value: str = "customers", texts: Texts | None = None):
    """One bar panel per attribute of ``customer_mix`` output (``value``: customers or revenue)."""
    t = texts_or_english(texts)
    apply_style()
    if texts is not None:
        mix = mix.assign(attribute=mix["attribute"].map({a: t.column(a) for a in mix["attribute"].unique()}))
    grid = sns.catplot(data=mix, col="attribute", y="value", x=value, kind="bar", col_wrap=3, sharey=False,
                       height=2.8, aspect=1.3, color=sns.color_palette()[0])
    grid.set_titles("{col_name}").set_axis_labels(value if texts is None else t.column(value), "")
    for ax in grid.axes.flat:
        number_axis(ax, texts, "x")
    grid.figure.suptitle(t("overview.plot.mix_title", value=t.column(value)), y=1.02, fontweight="bold")
    return grid.figure
