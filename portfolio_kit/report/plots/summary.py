"""Figures of the executive summary: four small panels (revenue and margin, DSO, CLV by segment, alerts by
severity) and the dashboard that puts them on one figure. Each takes :mod:`portfolio_kit.report.summary`'s tables;
labels come from the catalogue in the language of ``texts`` (English by default).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from portfolio_kit.monitoring import SEVERITIES
from portfolio_kit.report.style import axis_formatter, month_axis
from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import apply_style, new_axes, texts_or_english

__all__ = ["revenue_margin_trend", "dso_trend", "clv_segments", "alerts_by_severity", "dashboard"]

_SEVERITY_COLOURS = dict(zip(SEVERITIES, sns.color_palette("Reds_r", 4)[:3]))


def _not_available(ax, t: Texts) -> None:
    ax.text(0.5, 0.5, t("summary.plot.not_available"), ha="center", va="center", transform=ax.transAxes,
            color="grey")
    ax.set(xticks=[], yticks=[])


def _thousands(axis, t: Texts) -> str:
    """Ticks of an amount axis in thousands (short enough for a small panel); returns the axis label."""
    axis.set_major_formatter(axis_formatter(lambda v: t.number(v / 1000)))
    return t("summary.plot.thousands", currency=t.currency)


def _months(ax, t: Texts) -> None:
    month_axis(ax, t.number_format.month, max_ticks=6)
    ax.set_xlabel("")


def _trend_lines(trend: pd.DataFrame, measures: dict[str, str], title: str, ax, t: Texts):
    """Monthly lines of ``trend``'s ``measures`` (column -> legend label); the axes, or ``None`` when empty."""
    ax.set_title(title)
    lines = trend.dropna(subset=[next(iter(measures))]) if len(trend) else trend
    if lines.empty:
        _not_available(ax, t)
        return None
    long = lines.melt(id_vars="month", value_vars=list(measures), var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(measures)
    sns.lineplot(data=long, x="month", y="value", hue="measure", marker="o", markersize=4, ax=ax)
    ax.legend(title="", fontsize="small")
    _months(ax, t)
    return ax


def revenue_margin_trend(trend: pd.DataFrame, ax=None, texts: Texts | None = None):
    """Lines of net revenue and margin by month (:func:`~portfolio_kit.report.summary.monthly_trend`)."""
    fig, ax = new_axes(ax)
    t = texts_or_english(texts)
    measures = {"revenue": t("summary.plot.revenue"), "margin": t("summary.plot.margin")}
    if _trend_lines(trend, measures, t("summary.plot.revenue_margin"), ax, t):
        ax.set_ylabel(_thousands(ax.yaxis, t))
    return fig


def dso_trend(trend: pd.DataFrame, ax=None, texts: Texts | None = None):
    """Lines of DSO and best possible DSO by month (:func:`~portfolio_kit.report.summary.monthly_trend`)."""
    fig, ax = new_axes(ax)
    t = texts_or_english(texts)
    if _trend_lines(trend, {"dso": "DSO", "bpdso": t("summary.plot.bpdso")}, t("summary.plot.dso"), ax, t):
        ax.yaxis.set_major_formatter(axis_formatter(t.number))
        ax.set_ylabel(t("summary.plot.days"))
    return fig


def clv_segments(by_segment: pd.DataFrame, ax=None, texts: Texts | None = None, top: int = 5):
    """Horizontal bars of CLV by segment (:func:`~portfolio_kit.report.summary.clv_by_segment`): the ``top``
    segments, the rest summed as one bar."""
    fig, ax = new_axes(ax)
    t = texts_or_english(texts)
    ax.set_title(t("summary.plot.clv_segments"))
    if by_segment.empty:
        _not_available(ax, t)
        return fig
    bars = by_segment[["segment", "clv"]].head(top)
    rest = by_segment["clv"].iloc[top:].sum()
    if len(by_segment) > top:
        bars = pd.concat([bars, pd.DataFrame({"segment": [t("summary.plot.others")], "clv": [rest]})])
    sns.barplot(data=bars, y="segment", x="clv", color=sns.color_palette()[0], ax=ax)
    ax.set(xlabel=_thousands(ax.xaxis, t), ylabel="")
    return fig


def alerts_by_severity(figures: pd.DataFrame, ax=None, texts: Texts | None = None):
    """Bars of alerts per severity, this run against the previous run, from
    :func:`~portfolio_kit.report.summary.headline_figures` (rows ``alerts_<severity>``)."""
    fig, ax = new_axes(ax)
    t = texts_or_english(texts)
    ax.set_title(t("summary.plot.alerts"))
    rows = figures.set_index("figure").reindex([f"alerts_{s}" for s in SEVERITIES])
    if rows["value"].isna().all():
        _not_available(ax, t)
        return fig
    runs = {"value": t("summary.columns.value"), "previous": t("summary.columns.previous")}
    counts = (rows[list(runs)].rename(columns=runs).assign(severity=[t(f"summary.severity.{s}") for s in SEVERITIES])
              .melt(id_vars="severity", var_name="run", value_name="alerts").dropna())
    sns.barplot(data=counts, x="severity", y="alerts", hue="run",
                palette=dict(zip(runs.values(), ("#b03a2e", "#d5d8dc"))), ax=ax)
    ax.set(xlabel="", ylabel=t("summary.plot.alerts_axis"))
    ax.legend(title="", fontsize="small")
    return fig


def dashboard(figures: pd.DataFrame, trend: pd.DataFrame, by_segment: pd.DataFrame,
              texts: Texts | None = None):
    """The summary's one figure: revenue and margin, DSO, CLV by segment and alerts by severity, two by two.

    Unlike the single panels it takes no ``ax``: it lays out its own grid of four.
    """
    apply_style()
    t = texts_or_english(texts)
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.0))
    revenue_margin_trend(trend, ax=axes[0, 0], texts=t)
    dso_trend(trend, ax=axes[0, 1], texts=t)
    clv_segments(by_segment, ax=axes[1, 0], texts=t)
    alerts_by_severity(figures, ax=axes[1, 1], texts=t)
    fig.suptitle(t("summary.plot.dashboard"), fontweight="bold")
    fig.tight_layout()
    return fig
