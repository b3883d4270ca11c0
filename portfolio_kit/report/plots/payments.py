"""Figures of receivables and payment behaviour; each takes a result table of :mod:`portfolio_kit.payments`."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from portfolio_kit.payments import UNPAID_COLUMNS
from portfolio_kit.report.plots.style import (MAX_POINTS, calibration_chart, date_axis, new_axes, number_axis,
                                              sample_points, shown_name, survival_steps, texts_or_english)
from portfolio_kit.report.texts import Texts

__all__ = ["aging_history_bars", "dso_trend", "days_late_distribution", "survival_curves", "calibration_plot",
           "exposure_vs_limit"]

def aging_history_bars(history: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Stacked bars of open receivables per period end, one colour per aging bucket.

    Parameters
    ----------
    history : DataFrame
        :func:`portfolio_kit.payments.aging_history` without ``by``: ``period_end``, the bucket columns,
        ``total``.
    texts : Texts, optional
        Language of the labels and dates (English without it); ``title`` overrides the catalogue's.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    buckets = [c for c in history.columns if c not in ("period_end", "total")]
    labels = pd.to_datetime(history["period_end"]).map(t.date)
    stacked = history[buckets].clip(lower=0).cumsum(axis=1)
    colours = sns.color_palette("RdYlGn_r", len(buckets))
    for bucket, colour in reversed(list(zip(buckets, colours))):   # tallest first, shorter ones drawn on top
        sns.barplot(x=labels, y=stacked[bucket].to_numpy(), color=colour, label=shown_name(bucket, texts), ax=ax)
    ax.set(title=title or t("payments.plot.aging_title"), xlabel="", ylabel=t("payments.plot.open_amount"))
    number_axis(ax, texts)
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels.iloc[::step], rotation=45, ha="right")
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], title=t("payments.plot.days_past_due"), fontsize="small")
    return fig


def dso_trend(kpis: pd.DataFrame, measures=("dso", "dso_countback", "bpdso", "add"), ax=None,
              title: str | None = None, texts: Texts | None = None):
    """Lines of DSO, countback DSO, best possible DSO and average days delinquent over time.

    Parameters
    ----------
    kpis : DataFrame
        :func:`portfolio_kit.payments.receivables_kpis`.
    measures : sequence of str
        Columns to draw.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    long = kpis.melt(id_vars="period_end", value_vars=list(measures), var_name="measure", value_name="value")
    names = {m: t(f"payments.plot.kpi.{m}") if t.has(f"payments.plot.kpi.{m}") else m for m in measures}
    long["measure"] = long["measure"].map(names)
    sns.lineplot(data=long, x="period_end", y="value", hue="measure", marker="o", ax=ax)
    ax.set(title=title or t("payments.plot.dso_title"), xlabel="", ylabel=t("payments.plot.days"))
    date_axis(ax, texts)
    ax.legend(title="")
    return fig


def days_late_distribution(late: pd.DataFrame, by: str | None = None, clip: tuple[int, int] = (-30, 120),
                           ax=None, title: str | None = None, texts: Texts | None = None,
                           max_points: int = 10 * MAX_POINTS, seed: int = 0):
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
    max_points, seed : int
        Above ``max_points`` invoices the boxes describe a seeded random sample of them.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    late = sample_points(late, max_points, seed)
    sns.boxenplot(data=late, x="days_late", y=by, showfliers=False, ax=ax,
                order=sorted(late[by].unique()) if by else None, color=sns.color_palette()[0])
    for x, style in ((0, "-"), (30, "--")):
        ax.axvline(x, color="0.3", linestyle=style, linewidth=1)
    ylabel = (by if texts is None else t.column(by)) if by else ""
    ax.set(title=title or t("payments.plot.late_title"), xlabel=t("payments.plot.days_after_due"), ylabel=ylabel,
           xlim=clip)
    return fig


def survival_curves(curves: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Kaplan-Meier curves (step lines, 95% band) of the share unpaid by days since the invoice date, one per
    segment (:func:`~portfolio_kit.report.plots.style.survival_steps`).

    Parameters
    ----------
    curves : DataFrame
        :func:`portfolio_kit.payments.kaplan_meier`.
    """
    t = texts_or_english(texts)
    return survival_steps(curves, "days", "share_unpaid", UNPAID_COLUMNS, ax,
                          title=title or t("payments.plot.unpaid_title"), xlabel=t("payments.plot.days_since_issue"),
                          ylabel=t("payments.plot.share_unpaid"), texts=texts)


def calibration_plot(calibration: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Observed event rate (95% interval) against the mean predicted probability per bin, with the diagonal
    (:func:`~portfolio_kit.report.plots.style.calibration_chart`).

    Parameters
    ----------
    calibration : DataFrame
        :func:`portfolio_kit.stats.scoring.calibration_table`.
    """
    return calibration_chart(calibration, "payments.plot", ax, title, texts)


def exposure_vs_limit(exposure: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None,
                      max_points: int = MAX_POINTS, seed: int = 0):
    """Scatter of each customer's exposure against its credit limit (log scales), over-limit customers
    highlighted, with the line exposure = limit. Customers without a positive limit or exposure are not drawn;
    above ``max_points`` customers, a seeded sample is.

    Parameters
    ----------
    exposure : DataFrame
        :func:`portfolio_kit.payments.exposure`.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    shown = sample_points(exposure[(exposure["credit_limit"] > 0) & (exposure["exposure"] > 0)], max_points, seed)
    sns.scatterplot(data=shown, x="credit_limit", y="exposure", hue="over_limit", palette={False: "C0", True: "C3"},
                    alpha=0.7, ax=ax)
    if len(shown):
        lo = min(shown["credit_limit"].min(), shown["exposure"].min())
        hi = max(shown["credit_limit"].max(), shown["exposure"].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", linewidth=1, label=t("payments.plot.at_limit"))
    ax.set(xscale="log", yscale="log", title=title or t("payments.plot.exposure_title"),
           xlabel=t("payments.plot.credit_limit"), ylabel=t("payments.plot.exposure"))
    number_axis(ax, texts, "x")
    number_axis(ax, texts, "y")
    legend = ax.legend(title=t("payments.plot.over_limit"), fontsize="small")
    if texts is not None:  # the hue levels False/True as no/yes
        for text in legend.get_texts():
            text.set_text({"False": t("common.no"), "True": t("common.yes")}.get(text.get_text(), text.get_text()))
    return fig
