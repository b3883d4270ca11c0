"""Seaborn figures, one module per analysis (``plots.concentration``, ``plots.clv`` ...).

Every figure function takes the analysis' result tables (never raw files), draws on a new or given
``matplotlib`` Axes and returns the Figure. The look of all figures is set once, in :mod:`portfolio_kit.report.style`.

Titles and axis labels come from the catalogue (:mod:`portfolio_kit.report.texts`): each function takes
``texts=None`` (English) or ``texts=texts.for_config(cfg)``; with texts, category names (segments, classes,
rules, columns) are translated too, and money and percentage ticks are written the language's way.
"""

from portfolio_kit.report.plots.style import apply_style, new_axes

__all__ = ["apply_style", "new_axes"]
