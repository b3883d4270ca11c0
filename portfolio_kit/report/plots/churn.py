"""Figures of the churn analysis; each takes a result table of :mod:`portfolio_kit.churn`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.churn import TENURE_COLUMNS
from portfolio_kit.report.plots.style import (calibration_chart, new_axes, percent_axis, shown_name, survival_steps,
                                              texts_or_english)
from portfolio_kit.report.texts import Texts

__all__ = ["gain_chart", "calibration_plot", "odds_ratio_plot", "tenure_curves", "cohort_heatmap"]


def gain_chart(lift: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Cumulative share of the churners caught against the share of customers contacted, highest scores
    first, one line per score, with the random-order diagonal.

    Parameters
    ----------
    lift : DataFrame
        ``ChurnBacktest.lift``: :func:`portfolio_kit.stats.scoring.lift_table` rows with a ``score`` column.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    shares = lift.groupby("score", sort=False)["n"].transform(lambda n: n.cumsum() / n.sum())
    start = pd.DataFrame({"score": lift["score"].unique(), "customers": 0.0, "churners": 0.0})
    points = pd.concat([start, pd.DataFrame({"score": lift["score"], "customers": shares,
                                             "churners": lift["cumulative_share_of_events"]})], ignore_index=True)
    points["score"] = points["score"].map(lambda s: str(shown_name(s, texts)))
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label=t("churn.plot.random_order"))
    sns.lineplot(data=points, x="customers", y="churners", hue="score", marker="o", sort=True, ax=ax)
    ax.set(title=title or t("churn.plot.gain_title"), xlabel=t("churn.plot.contacted"),
           ylabel=t("churn.plot.caught"), xlim=(0, 1), ylim=(0, 1.02))
    percent_axis(ax, texts, "x")
    percent_axis(ax, texts, "y")
    ax.legend(title="")
    return fig


def calibration_plot(calibration: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Observed churn rate (95% interval) against the mean predicted probability per bin, one line per score,
    with the diagonal of perfect calibration (:func:`~portfolio_kit.report.plots.style.calibration_chart`).

    Parameters
    ----------
    calibration : DataFrame
        ``ChurnBacktest.calibration``: :func:`portfolio_kit.stats.scoring.calibration_table` rows with ``score``.
    """
    return calibration_chart(calibration, "churn.plot", ax, title, texts)


def odds_ratio_plot(odds_ratios: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Forest plot of the logit's odds ratios with their 95% intervals (log scale), constant left out.

    Parameters
    ----------
    odds_ratios : DataFrame
        ``ChurnModel.odds_ratios_``.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    rows = odds_ratios[odds_ratios["term"] != "const"].iloc[::-1]
    y = np.arange(len(rows))
    ax.errorbar(rows["odds_ratio"], y, xerr=[rows["odds_ratio"] - rows["odds_ratio_low"],
                                             rows["odds_ratio_high"] - rows["odds_ratio"]],
                fmt="o", color=sns.color_palette()[0], ecolor="0.5", capsize=2)
    ax.axvline(1, color="0.3", linestyle="--", linewidth=1)
    terms = rows["term"] if texts is None else rows["term"].map(lambda term: term if "[" in term else t.column(term))
    labels = terms + ("  (" + rows["scale"] + ")" if "scale" in rows else "")
    ax.set_yticks(y, labels)
    ax.set(xscale="log", title=title or t("churn.plot.odds_title"), xlabel=t("churn.plot.odds_axis"), ylabel="")
    return fig


def tenure_curves(curves: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Kaplan-Meier step curves (95% band) of the share of customers still buying by months since their
    first purchase, one per segment (:func:`~portfolio_kit.report.plots.style.survival_steps`).

    Parameters
    ----------
    curves : DataFrame
        :func:`portfolio_kit.churn.tenure_survival`.
    """
    t = texts_or_english(texts)
    return survival_steps(curves, "tenure_months", "survival", TENURE_COLUMNS, ax,
                          title=title or t("churn.plot.tenure_title"), xlabel=t("churn.plot.months_since_first"),
                          ylabel=t("churn.plot.still_buying"), texts=texts)


def cohort_heatmap(retention: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Heat-map of the share of each cohort buying in each later period (rows: cohorts, oldest first).

    Parameters
    ----------
    retention : DataFrame
        :func:`portfolio_kit.churn.cohort_retention`.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    grid = retention.pivot(index="cohort", columns="period", values="retention").sort_index()
    cells = grid.apply(lambda column: t.numbers(column * 100) + "%").where(grid.notna(), "")
    sns.heatmap(grid, cmap="YlGnBu", vmin=0, vmax=1, annot=cells.to_numpy() if grid.shape[1] <= 16 else False,
                fmt="", annot_kws={"size": 7}, cbar_kws={"label": t("churn.plot.cohort_share")}, ax=ax)
    unit = "quarters" if grid.index.astype(str).str.contains("Q").any() else "months"
    ax.set(title=title or t("churn.plot.cohort_title"), xlabel=t(f"churn.plot.{unit}_since_first"),
           ylabel=t("churn.plot.cohort_axis"))
    return fig
