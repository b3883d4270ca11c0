"""Figures of the probabilistic CLV analysis: each takes a table of :mod:`portfolio_kit.clv`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from .style import new_axes

__all__ = ["plot_repeat_count_fit", "plot_holdout_by_frequency", "plot_cumulative_tracking",
           "plot_frequency_recency", "plot_spend_frequency", "plot_value_vs_alive"]


def _long(table: pd.DataFrame, x: str, columns: list[str], names: list[str]) -> pd.DataFrame:
    wide = table[columns].set_axis(names, axis=1).rename_axis(x).reset_index()
    return wide.melt(id_vars=x, var_name="series", value_name="value")


def plot_repeat_count_fit(table: pd.DataFrame, ax=None, title: str = "Customers by repeat purchases"):
    """Bars of observed vs model-expected customers per repeat-purchase count
    (:func:`~portfolio_kit.clv.customers_by_repeat_count`)."""
    fig, ax = new_axes(ax)
    sns.barplot(data=_long(table, "repeat_purchases", ["observed", "expected"], ["observed", "model"]),
                x="repeat_purchases", y="value", hue="series", ax=ax)
    ax.set(title=title, xlabel="repeat purchases in the calibration period", ylabel="customers")
    ax.legend(title="")
    return fig


def plot_holdout_by_frequency(table: pd.DataFrame, ax=None,
                              title: str = "Holdout purchases by calibration frequency"):
    """Mean holdout purchases, actual vs predicted, per calibration frequency
    (:func:`~portfolio_kit.clv.holdout_by_frequency`; the ``all`` row goes in the title)."""
    fig, ax = new_axes(ax)
    rows = table.drop(index="all", errors="ignore")
    sns.lineplot(data=_long(rows, "frequency", ["actual", "predicted"], ["actual", "model"]), x="frequency",
                 y="value", hue="series", style="series", markers=True, sort=False, ax=ax)
    if "all" in table.index:
        total = table.loc["all"]
        title = f"{title}\nMAE {total['mae']:.2f}, bias {total['bias']:+.2f} purchases per customer"
    ax.set(title=title, xlabel="repeat purchases in the calibration period",
           ylabel="mean purchases in the holdout period")
    ax.legend(title="")
    return fig


def plot_cumulative_tracking(table: pd.DataFrame, ax=None, title: str = "Cumulative repeat purchases",
                             time_label: str = "time since the first purchase"):
    """Cumulative repeat purchases, actual vs expected (:func:`~portfolio_kit.clv.cumulative_repeat_purchases`),
    with the calibration end marked when the table has a ``holdout`` column."""
    fig, ax = new_axes(ax)
    sns.lineplot(data=_long(table.set_index("t"), "t", ["actual", "expected"], ["actual", "model"]), x="t",
                 y="value", hue="series", style="series", ax=ax)
    if "holdout" in table and table["holdout"].any() and not table["holdout"].all():
        ax.axvline(table.loc[~table["holdout"], "t"].max(), color="grey", linestyle=":",
                   label="end of calibration")
    ax.set(title=title, xlabel=time_label, ylabel="cumulative repeat purchases")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.legend(title="")
    return fig


def plot_frequency_recency(matrix: pd.DataFrame, ax=None, title: str = "P(alive) by frequency and recency",
                           label: str = "probability alive"):
    """Heat-map of a recency x frequency matrix (:func:`~portfolio_kit.clv.probability_alive_matrix` or
    :func:`~portfolio_kit.clv.expected_purchases_matrix`)."""
    fig, ax = new_axes(ax)
    sns.heatmap(matrix, cmap="viridis", ax=ax, cbar_kws={"label": label},
                xticklabels="auto", yticklabels="auto")
    ax.set(title=title, xlabel="frequency (repeat purchases)", ylabel="recency (age at last purchase)")
    return fig


def plot_spend_frequency(summary: pd.DataFrame, ax=None, title: str = "Spend per purchase vs frequency"):
    """Mean spend against frequency of repeat buyers, log scale, with a trend line: the Gamma-Gamma
    independence check (:func:`~portfolio_kit.clv.spend_frequency_correlation`)."""
    fig, ax = new_axes(ax)
    buyers = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    sns.regplot(data=buyers, x="frequency", y="monetary_value", ax=ax, x_jitter=0.15, logx=True,
                scatter_kws={"alpha": 0.3, "s": 12}, line_kws={"color": "black"})
    r = np.corrcoef(buyers["frequency"], buyers["monetary_value"])[0, 1] if len(buyers) > 1 else np.nan
    ax.set(title=f"{title} (Pearson r = {r:.2f})", xlabel="frequency (repeat purchases)",
           ylabel="mean spend per repeat purchase", yscale="log")
    return fig


def plot_value_vs_alive(values: pd.DataFrame, ax=None, title: str = "Customer value vs P(alive)"):
    """Each customer's CLV against P(alive) (:func:`~portfolio_kit.clv.customer_value`): valuable customers
    with a low P(alive) are the ones slipping away."""
    fig, ax = new_axes(ax)
    sns.scatterplot(data=values, x="probability_alive", y="clv", ax=ax, alpha=0.4, s=14, edgecolor=None)
    ax.set(title=title, xlabel="probability alive", ylabel="CLV (discounted expected margin)", xlim=(0, 1.02))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    return fig
