"""One visual style for every figure of the kit: theme, palette, sizes."""

from __future__ import annotations


import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "deep"
FIGSIZE = (8.0, 4.5)


def apply_style() -> None:
    """Set the kit's seaborn theme (called by every figure function, cheap to call again)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, rc={"figure.figsize": FIGSIZE,
                                                                           "axes.titleweight": "bold"})


def new_axes(ax=None, figsize: tuple[float, float] | None = None):
    """Return ``(fig, ax)``: the given Axes and its Figure, or a new styled pair."""
    apply_style()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize or FIGSIZE)
    return fig, ax
