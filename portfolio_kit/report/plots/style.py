"""The figures' look, kept where figure modules have always imported it: see :mod:`portfolio_kit.report.style`,
the one place where the theme, palette, sizes, table style and number formats are set."""

from __future__ import annotations

from portfolio_kit.report.style import FIGSIZE, PALETTE, apply_style, axis_formatter, month_axis, new_axes
from portfolio_kit.report.texts import Texts

__all__ = ["PALETTE", "FIGSIZE", "apply_style", "new_axes", "axis_formatter", "texts_or_english",
           "number_axis", "percent_axis", "shown_name", "MAX_POINTS", "sample_points"]

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


def date_axis(ax, texts: Texts | None, axis: str = "x") -> None:
    """Dates on ``axis`` as months the language's way (``2026-10`` / ``10/2026``), a few ticks."""
    month_axis(ax, texts_or_english(texts).number_format.month, axis)


def shown_name(value, texts: Texts | None):
    """A category or column name as a figure shows it: as it is without ``texts`` (English figures keep
    the data's own names), else translated (``common.label.*``, then ``columns.*``)."""
    return value if texts is None else texts.label(value)
