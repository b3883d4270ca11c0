"""Figures of the segmentation: segment sizes and values, RFM heatmap."""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import new_axes, percent_axis, shown_name, texts_or_english

__all__ = ["segment_chart", "rfm_heatmap"]


def segment_chart(profile: pd.DataFrame, ax=None, texts: Texts | None = None):
    """Share of customers next to share of revenue (and of margin, when known) of each segment.

    Parameters
    ----------
    profile : DataFrame
        :func:`~portfolio_kit.segmentation.segment_profile` output (one index level).
    texts : Texts, optional
        Language of the labels (English without it).

    Examples
    --------
    >>> fig = segment_chart(segment_profile(table, by="segment"))   # doctest: +SKIP
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax, figsize=(8.0, 0.45 * len(profile) + 1.5))
    shares = [c for c in ("customer_share", "revenue_share", "margin_share") if c in profile.columns]
    series = {"customer_share": t("segmentation.plot.customers"), "revenue_share": t("segmentation.plot.revenue"),
              "margin_share": t("segmentation.plot.margin")}
    share_of, share = t("segmentation.plot.share_of"), t("segmentation.plot.share")
    long = (profile[shares].rename(columns=series).rename_axis("segment").reset_index()
            .melt(id_vars="segment", var_name=share_of, value_name=share))
    long["segment"] = long["segment"].astype(str).map(lambda s: str(shown_name(s, texts)))
    sns.barplot(data=long, y="segment", x=share, hue=share_of, orient="h", ax=ax)
    percent_axis(ax, texts, "x")
    by = profile.index.name
    title = (t("segmentation.plot.segments") if by in (None, "segment")
             else t("segmentation.plot.segments_by", by=by if texts is None else t.column(by)))
    ax.set(title=t("segmentation.plot.title", segments=title), xlabel=t("segmentation.plot.share_of_total"),
           ylabel="")
    return fig


def rfm_heatmap(rfm: pd.DataFrame, value: str = "revenue", ax=None, texts: Texts | None = None):
    """Mean ``value`` per cell of recency score (rows, 5 on top) x frequency score (columns).

    Parameters
    ----------
    rfm : DataFrame
        :func:`~portfolio_kit.segmentation.rfm_table` or ``customer_segments`` output.
    value : str
        Column averaged in each cell (``"revenue"``, ``"margin"`` ...); cells without customers stay blank
        (ties can leave a score empty, e.g. no F = 2 when most customers bought once).
    texts : Texts, optional
        Language of the labels and of the numbers in the cells (English without it).
    """
    t = texts_or_english(texts)
    fig, ax = new_axes(ax, figsize=(7.0, 5.0))
    scored = rfm.dropna(subset=["r_score", "f_score"]).astype({"r_score": int, "f_score": int})
    grid = (scored.pivot_table(index="r_score", columns="f_score", values=value, aggfunc="mean")
            .reindex(index=range(5, 0, -1), columns=range(1, 6)))
    cells = grid.apply(lambda column: t.numbers(column)).where(grid.notna(), "")
    name = value if texts is None else t.column(value).lower()
    sns.heatmap(grid, annot=cells.to_numpy(), fmt="", cmap="viridis",
                cbar_kws={"label": t("segmentation.plot.mean_of", value=name)}, ax=ax)
    ax.grid(False)
    ax.set(title=t("segmentation.plot.heatmap_title", value=name), xlabel=t("segmentation.plot.f_score"),
           ylabel=t("segmentation.plot.r_score"))
    return fig
