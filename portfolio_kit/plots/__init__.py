"""Seaborn figures, one module per analysis (``plots.concentration``, ``plots.clv`` ...).

Every figure function takes the analysis' result tables (never raw files), draws on a new or given
``matplotlib`` Axes and returns the Figure. The look of all figures is set once, in :mod:`.style`.
"""

from .style import apply_style, new_axes

__all__ = ["apply_style", "new_axes"]
