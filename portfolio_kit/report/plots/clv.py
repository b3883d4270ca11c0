"""Figures of the probabilistic CLV analysis: each takes a table of :mod:`portfolio_kit.clv`.

``texts`` sets the language of titles and labels (English without it); a ``title`` given overrides the
catalogue's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import MAX_POINTS, new_axes, number_axis, sample_points, texts_or_english

__all__ = ["plot_repeat_count_fit", "plot_holdout_by_frequency", "plot_cumulative_tracking",
           "plot_frequency_recency", "plot_spend_frequency", "plot_value_vs_alive"]


def _long(table: pd.DataFrame, x: str, columns: list[str], names: list[str]) -> pd.DataFrame:
    wide = table[columns].set_axis(names, axis=1).rename_axis(x).reset_index()
    return wide.melt(id_vars=x, var_name="series", value_name="value")


def plot_repeat_count_fit(table: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Bars of observed vs model-expected customers per repeat-purchase count
    (:func:`~portfolio_kit.clv.customers_by_repeat_count`)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    names = [t("clv.plot.observed"), t("clv.plot.model")]
    sns.barplot(data=_long(table, "repeat_purchases", ["observed", "expected"], names),
                x="repeat_purchases", y="value", hue="series", ax=ax)
    ax.set(title=title or t("clv.plot.repeat_title"), xlabel=t("clv.plot.repeat_calibration"),
           ylabel=t("clv.plot.customers"))
    ax.legend(title="")
    return fig


def plot_holdout_by_frequency(table: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Mean holdout purchases, actual vs predicted, per calibration frequency
    (:func:`~portfolio_kit.clv.holdout_by_frequency`; the ``all`` row goes in the title)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    rows = table.drop(index="all", errors="ignore")
    names = [t("clv.plot.actual"), t("clv.plot.model")]
    sns.lineplot(data=_long(rows, "frequency", ["actual", "predicted"], names), x="frequency",
                 y="value", hue="series", style="series", markers=True, sort=False, ax=ax)
    title = title or t("clv.plot.holdout_title")
    if "all" in table.index:
        total = table.loc["all"]
        title = f"{title}\n" + t("clv.plot.holdout_errors", mae=float(total["mae"]), bias=float(total["bias"]))
    ax.set(title=title, xlabel=t("clv.plot.repeat_calibration"), ylabel=t("clv.plot.holdout_mean"))
    ax.legend(title="")
    return fig


def plot_cumulative_tracking(table: pd.DataFrame, ax=None, title: str | None = None,
                             time_label: str | None = None, texts: Texts | None = None):
    """Cumulative repeat purchases, actual vs expected (:func:`~portfolio_kit.clv.cumulative_repeat_purchases`),
    with the calibration end marked when the table has a ``holdout`` column."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    names = [t("clv.plot.actual"), t("clv.plot.model")]
    sns.lineplot(data=_long(table.set_index("t"), "t", ["actual", "expected"], names), x="t",
                 y="value", hue="series", style="series", ax=ax)
    if "holdout" in table and table["holdout"].any() and not table["holdout"].all():
        ax.axvline(table.loc[~table["holdout"], "t"].max(), color="grey", linestyle=":",
                   label=t("clv.plot.calibration_end"))
    ax.set(title=title or t("clv.plot.tracking_title"), xlabel=time_label or t("clv.plot.time_since_first"),
           ylabel=t("clv.plot.cumulative_repeat"))
    number_axis(ax, texts)
    ax.legend(title="")
    return fig


def plot_frequency_recency(matrix: pd.DataFrame, ax=None, title: str | None = None, label: str | None = None,
                           texts: Texts | None = None):
    """Heat-map of a recency x frequency matrix (:func:`~portfolio_kit.clv.probability_alive_matrix` or
    :func:`~portfolio_kit.clv.expected_purchases_matrix`)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    sns.heatmap(matrix, cmap="viridis", ax=ax, cbar_kws={"label": label or t("clv.plot.probability_alive")},
                xticklabels="auto", yticklabels="auto")
    ax.set(title=title or t("clv.plot.alive_title"), xlabel=t("clv.plot.frequency_repeat"),
           ylabel=t("clv.plot.recency_age"))
    return fig


def plot_spend_frequency(summary: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None,
                         max_points: int = MAX_POINTS, seed: int = 0):
    """Mean spend against frequency of repeat buyers, log scale, with a trend line: the Gamma-Gamma
    independence check (:func:`~portfolio_kit.clv.spend_frequency_correlation`). The correlation uses every
    buyer; above ``max_points`` buyers the points and the line are a seeded sample."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    buyers = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    sns.regplot(data=sample_points(buyers, max_points, seed), x="frequency", y="monetary_value", ax=ax,
                x_jitter=0.15, logx=True, scatter_kws={"alpha": 0.3, "s": 12}, line_kws={"color": "black"})
    r = np.corrcoef(buyers["frequency"], buyers["monetary_value"])[0, 1] if len(buyers) > 1 else np.nan
    ax.set(title=t("clv.plot.spend_title", title=title or t("clv.plot.spend_default"), r=t.number(r, 2)),
           xlabel=t("clv.plot.frequency_repeat"), ylabel=t("clv.plot.mean_spend"), yscale="log")
    return fig


def plot_value_vs_alive(values: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None,
                        max_points: int = MAX_POINTS, seed: int = 0):
    """Each customer's CLV against P(alive) (:func:`~portfolio_kit.clv.customer_value`): valuable customers
    with a low P(alive) are the ones slipping away. Above ``max_points`` customers, a seeded sample."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    sns.scatterplot(data=sample_points(values, max_points, seed), x="probability_alive", y="clv", ax=ax,
                    alpha=0.4, s=14, edgecolor=None)
    ax.set(title=title or t("clv.plot.value_title"), xlabel=t("clv.plot.probability_alive"),
           ylabel=t("clv.plot.clv_label"), xlim=(0, 1.02))
    number_axis(ax, texts)
    return fig
