"""Figures of what customers buy; each takes a result table of :mod:`portfolio_kit.products`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.report.plots.style import (joint_legend, new_axes, number_axis, percent_axis, rate_axis, shown_name,
                                              texts_or_english)
from portfolio_kit.report.texts import Texts

__all__ = ["mix_bars", "penetration_heatmap", "lift_heatmap", "backtest_bars"]


def mix_bars(mix: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Revenue per product line (bars, largest first) and its margin rate (points, second axis, when known).

    ``mix`` is :func:`portfolio_kit.products.product_mix` without groups.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    x = np.arange(len(mix))
    ax.bar(x, mix["revenue"], color="C0", label=t("products.plot.revenue"))
    ax.set_xticks(x, [shown_name(p, texts) for p in mix["product"]], rotation=30, ha="right")
    ax.set(title=title or t("products.plot.mix_title"), xlabel="", ylabel=t("products.plot.revenue"))
    number_axis(ax, texts)
    if "margin_rate" in mix.columns:
        top = max(0.05, float(np.nanmax(mix["margin_rate"].to_numpy(dtype=float), initial=0)) * 1.2)
        rates = rate_axis(ax, t("products.plot.margin_rate"), texts, top)
        rates.plot(x, mix["margin_rate"], color="C3", marker="o", linestyle="", label=t("products.plot.margin_rate"))
        joint_legend(ax, rates, "upper right")
    return fig


def penetration_heatmap(shares: pd.DataFrame, space: pd.DataFrame | None = None, ax=None, title: str | None = None,
                        texts: Texts | None = None):
    """Heat-map of penetration, groups x lines (share of the group's customers buying the line, in %); the
    white-space cells (:func:`portfolio_kit.products.white_space`) are framed.

    ``shares`` is :func:`portfolio_kit.products.penetration` (its first column is the group).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    group = shares.columns[0]
    grid = shares.pivot(index=group, columns="product", values="penetration").astype(float)
    shown = grid.rename(index=lambda c: shown_name(c, texts), columns=lambda c: shown_name(c, texts))
    sns.heatmap(shown, annot=grid.apply(t.percents).to_numpy(), fmt="", cmap="Blues", vmin=0, vmax=1, cbar=False,
                linewidths=0.5, ax=ax)
    if space is not None:
        rows, columns = list(grid.index), list(grid.columns)
        for g, line in zip(space[group], space["product"]):
            if g in rows and line in columns:
                ax.add_patch(_frame(columns.index(line), rows.index(g)))
    ax.set(title=title or t("products.plot.penetration_title"), xlabel="", ylabel=t.column(group))
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=30)
    return fig


def _frame(x: int, y: int):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 1, 1, fill=False, edgecolor="C3", linewidth=2.5)


def lift_heatmap(rules: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Heat-map of the lift between every two lines; a cell shows its lift when the pair is significant
    (:func:`portfolio_kit.products.line_associations`), else stays blank. Colours centred on 1 (independence)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    lift = rules.pivot(index="antecedent", columns="consequent", values="lift").astype(float)
    significant = rules.pivot(index="antecedent", columns="consequent", values="significant").reindex_like(lift)
    text = np.where(significant.fillna(False).to_numpy(bool), lift.apply(lambda c: t.numbers(c, 1)).to_numpy(), "")
    shown = lift.rename(index=lambda c: shown_name(c, texts), columns=lambda c: shown_name(c, texts))
    top = max(2.0, float(np.nanmax(lift.to_numpy(), initial=1.0)))
    sns.heatmap(shown, annot=text, fmt="", cmap="RdBu_r", center=1.0, vmin=0, vmax=top, cbar=False, linewidths=0.5,
                ax=ax)
    ax.set(title=title or t("products.plot.lift_title"), xlabel=t("products.plot.consequent"),
           ylabel=t("products.plot.antecedent"))
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=30)
    return fig


def backtest_bars(backtest: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Hit rate of each way of choosing the next line on the later cut-off
    (:func:`portfolio_kit.products.next_product_backtest`), the popularity baseline last."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    names = [t(f"products.method.{m}") for m in backtest["method"]]
    colours = ["0.6" if m == "popularity" else "C0" for m in backtest["method"]]
    ax.bar(names, backtest["hit_rate"], color=colours)
    for i, rate in enumerate(backtest["hit_rate"]):
        ax.annotate(t.percent(rate, 0), (i, rate), ha="center", va="bottom", fontsize="small")
    ax.set(title=title or t("products.plot.backtest_title"), xlabel="", ylabel=t("products.plot.hit_rate"))
    percent_axis(ax, texts)
    return fig
