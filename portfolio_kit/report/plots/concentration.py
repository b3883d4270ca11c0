"""Figures of the concentration analysis: Pareto chart, Lorenz curve, revenue x margin scatter, trend.

Tables with many customers are thinned to evenly spaced rows before drawing (a curve of a million points has
the shape of the same curve at two thousand); figures stay quick and files small.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import new_axes, percent_axis, shown_name, texts_or_english

__all__ = ["pareto_chart", "lorenz_chart", "revenue_margin_scatter", "concentration_trend"]


def _thin(table: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Evenly spaced rows of ``table``, first and last kept."""
    if len(table) <= max_points:
        return table
    return table.iloc[np.unique(np.linspace(0, len(table) - 1, max_points).round().astype(int))]


def _customers_for(pareto: pd.DataFrame, share: float) -> float:
    """Share of customers, largest first, needed to reach ``share`` of the value."""
    i = np.searchsorted(pareto["cumulative_share"].to_numpy(), share - 1e-12)
    return float(pareto["customer_share"].iloc[min(i, len(pareto) - 1)])


def pareto_chart(pareto: pd.DataFrame, thresholds=(0.80, 0.95), ax=None, max_points: int = 2000,
                 texts: Texts | None = None):
    """Cumulative share of value against share of customers, largest first, with the ABC lines.

    Parameters
    ----------
    pareto : DataFrame
        :func:`~portfolio_kit.concentration.abc_classes` output (areas coloured by ``abc_class``) or
        :func:`~portfolio_kit.concentration.pareto_table` output.
    thresholds : sequence of float
        Cumulative shares drawn as dashed lines (80% and 95%).
    ax : matplotlib Axes, optional
    max_points : int
        Most points drawn per line.
    texts : Texts, optional
        Language of the labels (English without it).

    Examples
    --------
    >>> from portfolio_kit.concentration import abc_classes
    >>> fig = pareto_chart(abc_classes(table["revenue"]))          # doctest: +SKIP
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    origin = pd.DataFrame({"customer_share": [0.0], "cumulative_share": [0.0]})
    curve = _thin(pd.concat([origin, pareto[["customer_share", "cumulative_share"]]], ignore_index=True), max_points)
    ax.plot(curve["customer_share"], curve["cumulative_share"], color="black", linewidth=1.5)
    if "abc_class" in pareto.columns:
        for colour, (label, part) in zip(sns.color_palette(), pareto.groupby("abc_class", observed=True)):
            shown = _thin(part, max_points)
            ax.fill_between(shown["customer_share"], shown["cumulative_share"], color=colour, alpha=0.35,
                            label=t("concentration.plot.class_customers", abc_class=label, n=len(part)))
        ax.legend(loc="lower right")
    for level in thresholds:
        needed = _customers_for(pareto, level)
        ax.axhline(level, color="grey", linestyle="--", linewidth=1)
        ax.axvline(needed, color="grey", linestyle=":", linewidth=1)
        ax.annotate(t("concentration.plot.customers_make", customers=needed, share=level), (needed, level),
                    xytext=(4, -14), textcoords="offset points", fontsize=9)
    ax.set(title=t("concentration.plot.pareto_title", customers=_customers_for(pareto, thresholds[0]),
                   share=thresholds[0]),
           xlabel=t("concentration.plot.share_largest_first"), ylabel=t("concentration.plot.cumulative_share"),
           xlim=(0, 1), ylim=(0, 1.02))
    percent_axis(ax, texts, "x")
    percent_axis(ax, texts, "y")
    return fig


def lorenz_chart(lorenz: pd.DataFrame | Mapping[str, pd.DataFrame], ax=None, max_points: int = 2000,
                 texts: Texts | None = None):
    """Lorenz curve(s) against the line of equality, with the Gini coefficient in the title (one curve) or in
    the legend (several: revenue, margin, cash ...).

    The Gini is read from the curve itself, ``G = 1 - sum_k (x_k - x_(k-1)) (L_k + L_(k-1))`` (twice the area
    between the curve and the diagonal), which equals :func:`~portfolio_kit.concentration.gini` on the full
    table.

    Parameters
    ----------
    lorenz : DataFrame or mapping of name to DataFrame
        :func:`~portfolio_kit.concentration.lorenz_curve` output, or one per measure (named by column).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    curves = {None: lorenz} if isinstance(lorenz, pd.DataFrame) else dict(lorenz)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label=t("concentration.plot.equality"))
    for name, curve in curves.items():
        x, y = curve["customer_share"].to_numpy(), curve["value_share"].to_numpy()
        gini = 1.0 - float(np.sum(np.diff(x) * (y[1:] + y[:-1])))
        shown = _thin(curve, max_points)
        label = (t("concentration.plot.lorenz") if name is None
                 else t("concentration.plot.lorenz_of", by=t.column(name), gini=gini))
        ax.plot(shown["customer_share"], shown["value_share"], linewidth=2, label=label)
        if len(curves) == 1:
            ax.fill_between(shown["customer_share"], shown["value_share"], shown["customer_share"], alpha=0.2)
    title = (t("concentration.plot.lorenz_title", gini=gini) if None in curves
             else t("concentration.plot.lorenz_title_many"))
    ax.set(title=title, xlabel=t("concentration.plot.share_smallest_first"),
           ylabel=t("concentration.plot.cumulative_share"), xlim=(0, 1), ylim=(0, 1))
    percent_axis(ax, texts, "x")
    percent_axis(ax, texts, "y")
    ax.legend(loc="upper left")
    return fig


def revenue_margin_scatter(classes: pd.DataFrame, ax=None, max_points: int = 20_000, texts: Texts | None = None):
    """Revenue (log scale) against margin %, coloured by quadrant, with the class boundaries.

    Parameters
    ----------
    classes : DataFrame
        :func:`~portfolio_kit.concentration.revenue_margin_classes` output; customers without a margin % are
        not drawn. Above ``max_points`` customers, evenly spaced customers by revenue are drawn.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    shown = _thin(classes.dropna(subset=["margin_pct"]).sort_values("revenue"), max_points)
    if texts is not None:
        quadrant = shown["quadrant"].astype("category")
        shown = shown.assign(quadrant=quadrant.cat.rename_categories(lambda q: str(shown_name(q, texts))))
    sns.scatterplot(data=shown, x="revenue", y="margin_pct", hue="quadrant", s=12, alpha=0.6, linewidth=0, ax=ax)
    for column, draw in (("revenue", ax.axvline), ("margin_pct", ax.axhline)):
        klass = "revenue_class" if column == "revenue" else "margin_class"
        lowest = classes.groupby(klass, observed=True)[column].min()
        for boundary in lowest.iloc[1:]:
            draw(boundary, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    percent_axis(ax, texts, "y")
    ax.set(title=t("concentration.plot.grid_title"), xlabel=t("concentration.plot.revenue_log"),
           ylabel=t("concentration.plot.margin_pct"))
    ax.legend(title="", fontsize=8, loc="best")
    return fig


def concentration_trend(over_time: pd.DataFrame, measures=("gini", "top_20pct_share"), ax=None,
                        texts: Texts | None = None):
    """Concentration measures period by period: is dependence on few customers growing?

    Parameters
    ----------
    over_time : DataFrame
        :func:`~portfolio_kit.concentration.concentration_over_time` output.
    measures : sequence of str
        Its columns to draw (shares and Gini, all between 0 and 1).
    texts : Texts, optional
        Language of the labels and measure names (English, the columns' names, without it).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    long = (over_time[list(measures)].rename(columns=lambda c: shown_name(c, texts)).rename_axis("period")
            .reset_index().melt(id_vars="period", var_name="measure", value_name="value"))
    long["period"] = long["period"].astype(str)
    sns.lineplot(data=long, x="period", y="value", hue="measure", marker="o", ax=ax)
    percent_axis(ax, texts, "y")
    ax.set(title=t("concentration.plot.trend_title"), xlabel="", ylabel="", ylim=(0, 1))
    ax.legend(title="")
    return fig
