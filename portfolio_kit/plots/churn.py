"""Figures of the churn analysis; each takes a result table of :mod:`portfolio_kit.churn`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from .style import new_axes

__all__ = ["gain_chart", "calibration_plot", "odds_ratio_plot", "tenure_curves", "cohort_heatmap"]

_CURVE_COLUMNS = ("tenure_months", "survival", "ci_low", "ci_high", "at_risk", "churned")


def gain_chart(lift: pd.DataFrame, ax=None, title: str = "Gain: churners found contacting the riskiest first"):
    """Cumulative share of the churners caught against the share of customers contacted, highest scores
    first, one line per score, with the random-order diagonal.

    Parameters
    ----------
    lift : DataFrame
        ``ChurnBacktest.lift``: :func:`portfolio_kit.scoring.lift_table` rows with a ``score`` column.
    """
    fig, ax = new_axes(ax)
    shares = lift.groupby("score", sort=False)["n"].transform(lambda n: n.cumsum() / n.sum())
    start = pd.DataFrame({"score": lift["score"].unique(), "customers": 0.0, "churners": 0.0})
    points = pd.concat([start, pd.DataFrame({"score": lift["score"], "customers": shares,
                                             "churners": lift["cumulative_share_of_events"]})], ignore_index=True)
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="random order")
    sns.lineplot(data=points, x="customers", y="churners", hue="score", marker="o", sort=True, ax=ax)
    ax.set(title=title, xlabel="share of customers contacted (highest score first)",
           ylabel="share of churners caught", xlim=(0, 1), ylim=(0, 1.02))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(title="")
    return fig


def calibration_plot(calibration: pd.DataFrame, ax=None, title: str = "Calibration: predicted vs observed churn"):
    """Observed churn rate against the mean predicted probability per bin, one line per score, with the
    diagonal of perfect calibration.

    Parameters
    ----------
    calibration : DataFrame
        ``ChurnBacktest.calibration``: :func:`portfolio_kit.scoring.calibration_table` rows with ``score``.
    """
    fig, ax = new_axes(ax)
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
    sns.lineplot(data=calibration, x="mean_predicted", y="observed_rate", hue="score", style="score",
                 markers=True, dashes=False, sort=True, ax=ax)
    ax.set(title=title, xlabel="mean predicted churn probability", ylabel="observed churn rate", xlim=(0, 1),
           ylim=(0, 1.02))
    ax.legend(title="")
    return fig


def odds_ratio_plot(odds_ratios: pd.DataFrame, ax=None, title: str = "What drives churn: odds ratios (95% CI)"):
    """Forest plot of the logit's odds ratios with their 95% intervals (log scale), constant left out.

    Parameters
    ----------
    odds_ratios : DataFrame
        ``ChurnModel.odds_ratios_``.
    """
    fig, ax = new_axes(ax)
    rows = odds_ratios[odds_ratios["term"] != "const"].iloc[::-1]
    y = np.arange(len(rows))
    ax.errorbar(rows["odds_ratio"], y, xerr=[rows["odds_ratio"] - rows["odds_ratio_low"],
                                             rows["odds_ratio_high"] - rows["odds_ratio"]],
                fmt="o", color=sns.color_palette()[0], ecolor="0.5", capsize=2)
    ax.axvline(1, color="0.3", linestyle="--", linewidth=1)
    labels = rows["term"] + ("  (" + rows["scale"] + ")" if "scale" in rows else "")
    ax.set_yticks(y, labels)
    ax.set(xscale="log", title=title, xlabel="odds ratio of churn (> 1: more churn)", ylabel="")
    return fig


def tenure_curves(curves: pd.DataFrame, ax=None, title: str = "Customers still buying, by tenure"):
    """Kaplan-Meier step curves (95% band) of the share of customers still buying by months since their
    first purchase, one per segment.

    Parameters
    ----------
    curves : DataFrame
        :func:`portfolio_kit.churn.tenure_survival`.
    """
    fig, ax = new_axes(ax)
    by = [c for c in curves.columns if c not in _CURVE_COLUMNS]
    hue = by[0] if by else None
    sns.lineplot(data=curves, x="tenure_months", y="survival", hue=hue, drawstyle="steps-post", ax=ax)
    groups = list(curves.groupby(hue, sort=True)) if hue else [(None, curves)]
    for (name, part), colour in zip(groups, sns.color_palette(n_colors=len(groups))):
        ax.fill_between(part["tenure_months"], part["ci_low"], part["ci_high"], step="post", alpha=0.15,
                        color=colour, linewidth=0)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set(title=title, xlabel="months since the first purchase", ylabel="share still buying", ylim=(0, 1.02))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    return fig


def cohort_heatmap(retention: pd.DataFrame, ax=None, title: str = "Retention by first-purchase cohort"):
    """Heat-map of the share of each cohort buying in each later period (rows: cohorts, oldest first).

    Parameters
    ----------
    retention : DataFrame
        :func:`portfolio_kit.churn.cohort_retention`.
    """
    fig, ax = new_axes(ax)
    grid = retention.pivot(index="cohort", columns="period", values="retention").sort_index()
    sns.heatmap(grid, cmap="YlGnBu", vmin=0, vmax=1, annot=grid.shape[1] <= 16, fmt=".0%", annot_kws={"size": 7},
                cbar_kws={"label": "share of the cohort buying"}, ax=ax)
    unit = "quarters" if grid.index.astype(str).str.contains("Q").any() else "months"
    ax.set(title=title, xlabel=f"{unit} since the first purchase", ylabel="cohort (first purchase)")
    return fig
