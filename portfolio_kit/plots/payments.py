"""Figures of receivables and payment behaviour; each takes a result table of :mod:`portfolio_kit.payments`."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns

from .style import new_axes

__all__ = ["aging_history_bars", "dso_trend", "days_late_distribution", "survival_curves", "calibration_plot",
           "exposure_vs_limit"]

_KPI_LABELS = {"dso": "DSO", "dso_countback": "DSO (countback)", "bpdso": "Best possible DSO",
               "add": "Average days delinquent"}


def _money(ax, axis: str = "y") -> None:
    getattr(ax, f"{axis}axis").set_major_formatter(lambda v, _: f"{v:,.0f}")


def aging_history_bars(history: pd.DataFrame, ax=None, title: str = "Open receivables by age"):
    """Stacked bars of open receivables per period end, one colour per aging bucket.

    Parameters
    ----------
    history : DataFrame
        :func:`portfolio_kit.payments.aging_history` without ``by``: ``period_end``, the bucket columns,
        ``total``.
    """
    fig, ax = new_axes(ax)
    buckets = [c for c in history.columns if c not in ("period_end", "total")]
    labels = pd.to_datetime(history["period_end"]).dt.strftime("%Y-%m-%d")
    stacked = history[buckets].clip(lower=0).cumsum(axis=1)
    colours = sns.color_palette("RdYlGn_r", len(buckets))
    for bucket, colour in reversed(list(zip(buckets, colours))):   # tallest first, shorter ones drawn on top
        sns.barplot(x=labels, y=stacked[bucket].to_numpy(), color=colour, label=bucket, ax=ax)
    ax.set(title=title, xlabel="", ylabel="open amount")
    _money(ax)
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels.iloc[::step], rotation=45, ha="right")
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], title="days past due", fontsize="small")
    return fig


def dso_trend(kpis: pd.DataFrame, measures=("dso", "dso_countback", "bpdso", "add"), ax=None,
              title: str = "Days sales outstanding"):
    """Lines of DSO, countback DSO, best possible DSO and average days delinquent over time.

    Parameters
    ----------
    kpis : DataFrame
        :func:`portfolio_kit.payments.receivables_kpis`.
    measures : sequence of str
        Columns to draw.
    """
    fig, ax = new_axes(ax)
    long = kpis.melt(id_vars="period_end", value_vars=list(measures), var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(lambda m: _KPI_LABELS.get(m, m))
    sns.lineplot(data=long, x="period_end", y="value", hue="measure", marker="o", ax=ax)
    ax.set(title=title, xlabel="", ylabel="days")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(title="")
    return fig


def days_late_distribution(late: pd.DataFrame, by: str | None = None, clip: tuple[int, int] = (-30, 120),
                           ax=None, title: str = "Days late of paid invoices"):
    """Letter-value plots (boxes at the median, quartiles, octiles ... so the late tail shows) of days late per
    segment, with the due date (0) and 30 days late marked.

    Parameters
    ----------
    late : DataFrame
        :func:`portfolio_kit.payments.days_late`, with the ``by`` column when given.
    by : str, optional
        Segment column (one box per value).
    clip : (int, int)
        Days shown (outliers are not drawn).
    """
    fig, ax = new_axes(ax)
    sns.boxenplot(data=late, x="days_late", y=by, showfliers=False, ax=ax,
                order=sorted(late[by].unique()) if by else None, color=sns.color_palette()[0])
    for x, style in ((0, "-"), (30, "--")):
        ax.axvline(x, color="0.3", linestyle=style, linewidth=1)
    ax.set(title=title, xlabel="days after the due date (negative: early)", ylabel=by or "", xlim=clip)
    return fig


def survival_curves(curves: pd.DataFrame, ax=None, title: str = "Share of invoices still unpaid"):
    """Kaplan-Meier curves (step lines, 95% band) of the share unpaid by days since the invoice date.

    Parameters
    ----------
    curves : DataFrame
        :func:`portfolio_kit.payments.kaplan_meier`.
    """
    fig, ax = new_axes(ax)
    by = [c for c in curves.columns if c not in ("days", "share_unpaid", "ci_low", "ci_high", "at_risk", "paid")]
    hue = by[0] if by else None
    sns.lineplot(data=curves, x="days", y="share_unpaid", hue=hue, drawstyle="steps-post", ax=ax)
    groups = curves.groupby(hue) if hue else [(None, curves)]
    colours = dict(zip([g for g, _ in groups], sns.color_palette(n_colors=len(groups))))
    for name, part in groups:
        ax.fill_between(part["days"], part["ci_low"], part["ci_high"], step="post", alpha=0.15,
                        color=colours[name], linewidth=0)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set(title=title, xlabel="days since the invoice date", ylabel="share unpaid", ylim=(0, 1.02))
    return fig


def calibration_plot(calibration: pd.DataFrame, ax=None, title: str = "Calibration: predicted vs observed"):
    """Observed event rate (95% interval) against the mean predicted probability per bin, with the diagonal.

    Parameters
    ----------
    calibration : DataFrame
        :func:`portfolio_kit.scoring.calibration_table`.
    """
    fig, ax = new_axes(ax)
    top = float(np.nanmax(calibration[["mean_predicted", "observed_high"]].to_numpy())) * 1.05
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
    ax.errorbar(calibration["mean_predicted"], calibration["observed_rate"],
                yerr=[calibration["observed_rate"] - calibration["observed_low"],
                      calibration["observed_high"] - calibration["observed_rate"]],
                fmt="none", ecolor="0.6", elinewidth=1)
    sns.scatterplot(data=calibration, x="mean_predicted", y="observed_rate", size="n", legend=False, ax=ax,
                    label="bins")
    ax.set(title=title, xlabel="mean predicted probability", ylabel="observed rate", xlim=(0, top), ylim=(0, top))
    ax.legend()
    return fig


def exposure_vs_limit(exposure: pd.DataFrame, ax=None, title: str = "Exposure vs credit limit"):
    """Scatter of each customer's exposure against its credit limit (log scales), over-limit customers
    highlighted, with the line exposure = limit. Customers without a positive limit or exposure are not drawn.

    Parameters
    ----------
    exposure : DataFrame
        :func:`portfolio_kit.payments.exposure`.
    """
    fig, ax = new_axes(ax)
    shown = exposure[(exposure["credit_limit"] > 0) & (exposure["exposure"] > 0)]
    sns.scatterplot(data=shown, x="credit_limit", y="exposure", hue="over_limit", palette={False: "C0", True: "C3"},
                    alpha=0.7, ax=ax)
    if len(shown):
        lo = min(shown["credit_limit"].min(), shown["exposure"].min())
        hi = max(shown["credit_limit"].max(), shown["exposure"].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", linewidth=1, label="exposure = limit")
    ax.set(xscale="log", yscale="log", title=title, xlabel="credit limit", ylabel="exposure (open receivables)")
    _money(ax, "x")
    _money(ax, "y")
    ax.legend(title="over limit", fontsize="small")
    return fig
