"""The figures' look, kept where figure modules have always imported it: see :mod:`portfolio_kit.report.style`,
the one place where the theme, palette, sizes, table style and number formats are set; and the figures shared by
several analyses (:func:`calibration_chart`, :func:`survival_steps`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.report.style import FIGSIZE, PALETTE, apply_style, axis_formatter, month_axis, new_axes
from portfolio_kit.report.texts import Texts

__all__ = ["PALETTE", "FIGSIZE", "apply_style", "new_axes", "axis_formatter", "texts_or_english",
           "number_axis", "percent_axis", "shown_name", "MAX_POINTS", "sample_points", "calibration_chart",
           "survival_steps"]

#: Points a figure of raw rows or customers draws at most; above it, a seeded random sample.
MAX_POINTS = 20_000


def sample_points(frame, max_points: int = MAX_POINTS, seed: int = 0):
    """``frame`` itself, or a seeded random sample of ``max_points`` of its rows when longer: plots of raw
    distributions of millions of rows draw what the eye can read, the same sample at every run."""
    return frame if len(frame) <= max_points else frame.sample(n=max_points, random_state=seed).sort_index()


def texts_or_english(texts: Texts | None) -> Texts:
    """The texts a figure is labelled with: the given ones, else English."""
    return texts if texts is not None else Texts("en")


def number_axis(ax, texts: Texts | None, axis: str = "y") -> None:
    """Amounts or counts on ``axis`` written the language's way, whole units (``1,234`` / ``1.234``)."""
    t = texts_or_english(texts)
    getattr(ax, f"{axis}axis").set_major_formatter(axis_formatter(t.number))


def percent_axis(ax, texts: Texts | None, axis: str = "y", decimals: int = 0) -> None:
    """Shares (0.25) on ``axis`` as percentages the language's way (``25%``)."""
    t = texts_or_english(texts)
    getattr(ax, f"{axis}axis").set_major_formatter(axis_formatter(lambda v: t.percent(v, decimals)))


def rate_axis(ax, label: str, texts: Texts | None, top: float):
    """A second y axis on the right for a rate (0 to ``top``, in %), labelled, without grid: the axis to draw
    the rate on (then :func:`joint_legend`)."""
    rates = ax.twinx()
    rates.set_ylim(0, top)
    rates.set_ylabel(label)
    percent_axis(rates, texts)
    rates.grid(False)
    return rates


def joint_legend(ax, rates, loc: str) -> None:
    """One legend for ``ax`` and its :func:`rate_axis`."""
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = rates.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, fontsize="small", loc=loc)


def date_axis(ax, texts: Texts | None, axis: str = "x") -> None:
    """Dates on ``axis`` as months the language's way (``2026-10`` / ``10/2026``), a few ticks."""
    month_axis(ax, texts_or_english(texts).number_format.month, axis)


def shown_name(value, texts: Texts | None):
    """A category or column name as a figure shows it: as it is without ``texts`` (English figures keep
    the data's own names), else translated (``common.label.*``, then ``columns.*``)."""
    return value if texts is None else texts.label(value)


def calibration_chart(calibration: pd.DataFrame, keys: str, ax=None, title: str | None = None,
                      texts: Texts | None = None):
    """Observed event rate (95% interval) against the mean predicted probability per bin, with the diagonal of
    perfect calibration; one line per ``score`` when the table has that column (several scores side by side).

    Parameters
    ----------
    calibration : DataFrame
        :func:`portfolio_kit.stats.scoring.calibration_table` rows, optionally stacked with a ``score`` column.
    keys : str
        Catalogue prefix of the labels (``"churn.plot"``): its ``calibration_title``, ``perfect``,
        ``mean_predicted``, ``observed_rate`` and, for a single line, ``bins`` when there is one.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    hue = "score" if "score" in calibration.columns else None
    if hue and texts is not None:
        calibration = calibration.assign(score=calibration["score"].map(lambda s: str(shown_name(s, texts))))
    top = min(1.0, float(np.nanmax(calibration[["mean_predicted", "observed_high"]].to_numpy())) * 1.05)
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1, label=t(f"{keys}.perfect"))
    ax.errorbar(calibration["mean_predicted"], calibration["observed_rate"],
                yerr=[calibration["observed_rate"] - calibration["observed_low"],
                      calibration["observed_high"] - calibration["observed_rate"]],
                fmt="none", ecolor="0.6", elinewidth=1)
    if hue:
        sns.lineplot(data=calibration, x="mean_predicted", y="observed_rate", hue=hue, style=hue, markers=True,
                     dashes=False, sort=True, ax=ax)
    else:
        label = t(f"{keys}.bins") if t.has(f"{keys}.bins") else None
        sns.lineplot(data=calibration, x="mean_predicted", y="observed_rate", marker="o", sort=True, ax=ax,
                     label=label)
    ax.set(title=title or t(f"{keys}.calibration_title"), xlabel=t(f"{keys}.mean_predicted"),
           ylabel=t(f"{keys}.observed_rate"), xlim=(0, top), ylim=(0, top * 1.02))
    percent_axis(ax, texts, "x")
    percent_axis(ax, texts, "y")
    ax.legend(title="")
    return fig


def survival_steps(curves: pd.DataFrame, x: str, y: str, columns: Sequence[str], ax=None, *, title: str,
                   xlabel: str, ylabel: str, texts: Texts | None = None):
    """Kaplan-Meier step curves with their 95% band (``ci_low``, ``ci_high``) and the median line, one curve per
    value of the table's segment column when it has one.

    Parameters
    ----------
    curves : DataFrame
        :func:`portfolio_kit.stats.survival.kaplan_meier` curves as an analysis names them, stacked with a
        segment column or not.
    x, y : str
        Time and survival columns.
    columns : sequence of str
        The curve's own columns: any other one is the segment column.
    title, xlabel, ylabel : str
        Labels, already in the language of ``texts`` (which also names the segment in the legend).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    by = [c for c in curves.columns if c not in columns]
    hue = by[0] if by else None
    sns.lineplot(data=curves, x=x, y=y, hue=hue, drawstyle="steps-post", ax=ax)
    groups = list(curves.groupby(hue, sort=True)) if hue else [(None, curves)]
    for (_, part), colour in zip(groups, sns.color_palette(n_colors=len(groups))):
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], step="post", alpha=0.15, color=colour,
                        linewidth=0)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(0, 1.02))
    percent_axis(ax, texts, "y")
    if hue and texts is not None and ax.get_legend() is not None:
        ax.get_legend().set_title(t.column(hue))
    return fig
