"""MBG/NBD model (Batislam, Denizel & Filiztekin 2007): BG/NBD with a dropout opportunity at the first
purchase too, so customers without repeat purchases can be inactive (P(alive) < 1).

The likelihood and predictions are those of :mod:`.bgnbd` with ``k = x + 1`` dropout opportunities::

    L = B(a, b + x + 1) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [ (alpha + T)^-(r+x)  +  a / (b + x) (alpha + t_x)^-(r+x) ]
"""

from __future__ import annotations

from portfolio_kit.clv.bgnbd import BetaGeo

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD model (parameters ``r``, ``alpha``, ``a``, ``b``).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> ModifiedBetaGeo().fit(load_cdnow_summary()).params_.round(3).tolist()
    [0.525, 6.183, 0.891, 1.614]
    """

    label = "MBG/NBD"
    _dropout_at_start = 1
