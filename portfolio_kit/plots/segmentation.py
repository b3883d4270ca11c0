"""Figures of the segmentation: segment sizes and values, RFM heatmap."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from .style import new_axes

__all__ = ["segment_chart", "rfm_heatmap"]


def segment_chart(profile: pd.DataFrame, ax=None):
    """Share of customers next to share of revenue (and of margin, when known) of each segment.

    Parameters
    ----------
    profile : DataFrame
        :func:`~portfolio_kit.segmentation.segment_profile` output (one index level).

    Examples
    --------
    >>> fig = segment_chart(segment_profile(table, by="segment"))   # doctest: +SKIP
    """
    fig, ax = new_axes(ax, figsize=(8.0, 0.45 * len(profile) + 1.5))
    shares = [c for c in ("customer_share", "revenue_share", "margin_share") if c in profile.columns]
    long = (profile[shares].rename(columns=lambda c: c.removesuffix("_share").replace("customer", "customers"))
            .rename_axis("segment").reset_index().melt(id_vars="segment", var_name="share of", value_name="share"))
    long["segment"] = long["segment"].astype(str)
    sns.barplot(data=long, y="segment", x="share", hue="share of", orient="h", ax=ax)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    by = profile.index.name
    title = "Segments" if by in (None, "segment") else f"Segments by {by}"
    ax.set(title=f"{title}: customers and value", xlabel="share of total", ylabel="")
    return fig


def rfm_heatmap(rfm: pd.DataFrame, value: str = "revenue", ax=None):
    """Mean ``value`` per cell of recency score (rows, 5 on top) x frequency score (columns).

    Parameters
    ----------
    rfm : DataFrame
        :func:`~portfolio_kit.segmentation.rfm_table` or ``customer_segments`` output.
    value : str
        Column averaged in each cell (``"revenue"``, ``"margin"`` ...); cells without customers stay blank
        (ties can leave a score empty, e.g. no F = 2 when most customers bought once).
    """
    fig, ax = new_axes(ax, figsize=(7.0, 5.0))
    scored = rfm.dropna(subset=["r_score", "f_score"]).astype({"r_score": int, "f_score": int})
    grid = (scored.pivot_table(index="r_score", columns="f_score", values=value, aggfunc="mean")
            .reindex(index=range(5, 0, -1), columns=range(1, 6)))
    sns.heatmap(grid, annot=True, fmt=",.0f", cmap="viridis", cbar_kws={"label": f"mean {value}"}, ax=ax)
    ax.grid(False)
    ax.set(title=f"Mean {value} by recency and frequency score", xlabel="frequency score",
           ylabel="recency score")
    return fig
