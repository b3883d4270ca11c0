"""The kit's one look, set in one place: the seaborn theme, palette and sizes of every figure, the CSS of
every displayed table, and how numbers, amounts, percentages and dates are written in each report language.

Figure functions call :func:`new_axes`; tables are styled by :meth:`portfolio_kit.report.texts.Texts.table`; both
read their number formats from :data:`NUMBER_FORMATS` (through :class:`~portfolio_kit.report.texts.Texts`).
matplotlib and seaborn are imported only when a figure is drawn, so analysis modules that write sentences
do not pay for them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NumberFormat", "NUMBER_FORMATS", "PALETTE", "FIGSIZE", "TABLE_CLASS", "TABLE_CSS", "apply_style",
           "new_axes", "axis_formatter", "month_axis"]

#: seaborn palette of every figure (categorical series, classes, segments).
PALETTE = "deep"
#: default figure size in inches (width, height).
FIGSIZE = (8.0, 4.5)
#: the CSS class of every table the kit displays.
TABLE_CLASS = "pk-table"
#: the style of every displayed table: compact, numbers right-aligned in tabular figures, zebra rows.
TABLE_CSS = f"""
table.{TABLE_CLASS} {{ border-collapse: collapse; font-family: sans-serif; font-size: 0.9em; margin: 0.5em 0; }}
table.{TABLE_CLASS} th, table.{TABLE_CLASS} td {{ padding: 3px 8px; border-bottom: 1px solid #ddd; }}
table.{TABLE_CLASS} thead th {{ background: #f0f2f5; border-bottom: 2px solid #4c72b0; text-align: left;
  vertical-align: bottom; }}
table.{TABLE_CLASS} tbody th {{ text-align: left; font-weight: 600; }}
table.{TABLE_CLASS} td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.{TABLE_CLASS} td.neg {{ color: #b03a2e; }}
table.{TABLE_CLASS} tbody tr:nth-child(even) {{ background: #fafbfc; }}
""".strip()


@dataclass(frozen=True)
class NumberFormat:
    """How one language writes numbers: decimal and thousands marks, the missing-value mark, date pattern."""

    decimal: str
    thousands: str
    missing: str
    date: str  # strftime pattern
    month: str  # strftime pattern of a month (date axes)


#: Number formats by report language: ``en`` 1,234.56 and ISO dates; ``it`` 1.234,56 and 31/12/2026, 12/2026.
NUMBER_FORMATS: dict[str, NumberFormat] = {
    "en": NumberFormat(decimal=".", thousands=",", missing="n/a", date="%Y-%m-%d", month="%Y-%m"),
    "it": NumberFormat(decimal=",", thousands=".", missing="n.d.", date="%d/%m/%Y", month="%m/%Y"),
}


def apply_style() -> None:
    """Set the kit's seaborn theme (called by every figure function, cheap to call again)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE,
                  rc={"figure.figsize": FIGSIZE, "axes.titleweight": "bold"})


def new_axes(ax=None, figsize: tuple[float, float] | None = None):
    """Return ``(fig, ax)``: the given Axes and its Figure, or a new styled pair."""
    import matplotlib.pyplot as plt

    apply_style()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize or FIGSIZE)
    return fig, ax


def axis_formatter(write):
    """A matplotlib tick formatter that writes each tick with ``write(value)`` (e.g. ``texts.money``)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: write(value))


def month_axis(ax, pattern: str, axis: str = "x", max_ticks: int = 8) -> None:
    """Dates on ``axis`` as months written with ``pattern`` (``NumberFormat.month``), at most ``max_ticks``."""
    import matplotlib.dates as mdates

    target = getattr(ax, f"{axis}axis")
    target.set_major_locator(mdates.AutoDateLocator(maxticks=max_ticks))
    target.set_major_formatter(mdates.DateFormatter(pattern))
