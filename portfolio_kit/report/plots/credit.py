"""Figures of the credit policy; each takes a result table of :mod:`portfolio_kit.credit`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.report.plots.style import (MAX_POINTS, joint_legend, new_axes, number_axis, rate_axis,
                                              sample_points, shown_name, texts_or_english)
from portfolio_kit.report.texts import Texts

__all__ = ["provision_bars", "roll_rate_heatmap", "limits_scatter"]


def provision_bars(matrix: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Receivables and expected credit loss per aging bucket (bars), the loss rate on a second axis.

    Parameters
    ----------
    matrix : DataFrame
        :func:`portfolio_kit.credit.ecl_by_bucket` (``bucket``, ``receivables``, ``ecl``; per group or not:
        groups are added up, the rate drawn is the book's ``ecl / receivables``).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    matrix = matrix.groupby("bucket", sort=False)[["receivables", "ecl"]].sum().reset_index()
    matrix["adjusted_loss_rate"] = matrix["ecl"] / matrix["receivables"].where(matrix["receivables"] > 0)
    buckets = [shown_name(b, texts) for b in matrix["bucket"]]
    x = np.arange(len(buckets))
    ax.bar(x - 0.2, matrix["receivables"].clip(lower=0), width=0.4, color="C0", label=t("credit.figure.receivables"))
    ax.bar(x + 0.2, matrix["ecl"], width=0.4, color="C3", label=t("credit.figure.expected_credit_loss"))
    ax.set_xticks(x, buckets)
    ax.set(title=title or t("credit.plot.ecl_title"), xlabel="", ylabel=t("credit.plot.amount"))
    number_axis(ax, texts)
    rates = rate_axis(ax, t("credit.plot.loss_rate"), texts, 1.05)
    rates.plot(x, matrix["adjusted_loss_rate"], color="0.3", marker="o", label=t("credit.plot.loss_rate"))
    joint_legend(ax, rates, "upper center")
    return fig


def roll_rate_heatmap(matrix: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Heat-map of the roll-rate matrix: rows the bucket at a month end, columns where that amount is a month
    later (collected, a bucket, written off), cells the share of the row's amount, in %.

    Parameters
    ----------
    matrix : DataFrame
        The wide roll-rate matrix (:func:`portfolio_kit.credit.roll_rate_matrix`): shares, one row per
        from-bucket, one column per destination.
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    shares = matrix.astype(float)
    if texts is not None:
        shares = shares.rename(index=lambda c: shown_name(c, texts), columns=lambda c: shown_name(c, texts))
    written = shares.apply(t.percents)
    cells = shares.fillna(0).to_numpy()
    text = np.where(cells > 0, np.where(cells < 0.005, "<1%", written.to_numpy()), "")
    sns.heatmap(shares.fillna(0), annot=text, fmt="", cmap="Reds", vmin=0, vmax=1, cbar=False, linewidths=0.5, ax=ax)
    ax.set(title=title or t("credit.plot.roll_title"), xlabel=t("credit.plot.to_bucket"),
           ylabel=t("credit.plot.from_bucket"))
    ax.tick_params(axis="y", rotation=0)
    return fig


def limits_scatter(limits: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None,
                   max_points: int = MAX_POINTS, seed: int = 0):
    """Each customer's recommended credit limit against its current one (log scales), coloured by action,
    with the line recommended = current. Customers without a positive current and recommended limit are not
    drawn; above ``max_points`` customers, a seeded sample is.

    Parameters
    ----------
    limits : DataFrame
        :func:`portfolio_kit.credit.recommended_limits` (``credit_limit``, ``recommended_limit``,
        ``limit_action``).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    shown = sample_points(limits[(limits["credit_limit"] > 0) & (limits["recommended_limit"] > 0)], max_points, seed)
    shown = shown.assign(action=shown["limit_action"].astype(str).map(lambda a: shown_name(a, texts)))
    palette = {shown_name(a, texts): c for a, c in (("raise", "C2"), ("keep", "C0"), ("cut", "C3"), ("review", "C1"))}
    sns.scatterplot(data=shown, x="credit_limit", y="recommended_limit", hue="action", palette=palette, alpha=0.7,
                    ax=ax)
    if len(shown):
        lo = min(shown["credit_limit"].min(), shown["recommended_limit"].min())
        hi = max(shown["credit_limit"].max(), shown["recommended_limit"].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", linewidth=1)
    ax.set(xscale="log", yscale="log", title=title or t("credit.plot.limits_title"),
           xlabel=t("credit.plot.current_limit"), ylabel=t("credit.plot.recommended_limit"))
    number_axis(ax, texts, "x")
    number_axis(ax, texts, "y")
    if len(shown):
        ax.legend(fontsize="small")
    return fig
