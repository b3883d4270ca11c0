"""Figures of the data overview."""

from __future__ import annotations

import seaborn as sns

from .style import apply_style, new_axes

__all__ = ["revenue_trend", "customer_mix"]


def revenue_trend(revenue, by: str | None = None, ax=None, title: str = "Net revenue by month"):
    """Line chart of ``revenue_by_period`` output (one line per ``by`` value when given)."""
    fig, ax = new_axes(ax)
    sns.lineplot(data=revenue, x="period", y="revenue", hue=by, marker="o", ax=ax)
    ax.set(title=title, xlabel="", ylabel="revenue")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    return fig


def customer_mix(mix, value: str = "customers"):
    """One bar panel per attribute of ``customer_mix`` output (``value``: customers or revenue)."""
    apply_style()
    grid = sns.catplot(data=mix, col="attribute", y="value", x=value, kind="bar", col_wrap=3, sharey=False,
                       height=2.8, aspect=1.3, color=sns.color_palette()[0])
    grid.set_titles("{col_name}").set_axis_labels(value, "")
    grid.figure.suptitle(f"{value.capitalize()} by customer attribute", y=1.02, fontweight="bold")
    return grid.figure
