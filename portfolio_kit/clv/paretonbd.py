"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie's notes 008/009.

Purchases while alive: Poisson with rate ``lambda ~ Gamma(r, alpha)``; lifetime exponential with rate
``mu ~ Gamma(s, beta)``. For ``x`` repeat purchases, the last at ``t_x``, observed until ``T``::

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [ (alpha + T)^-(r+x) (beta + T)^-s  +  s / (r + s + x) A0 ]
    A0 = 2F1(r+s+x, m; r+s+x+1; |alpha-beta| / (M + t_x)) / (M + t_x)^(r+s+x)
         - 2F1(r+s+x, m; r+s+x+1; |alpha-beta| / (M + T)) / (M + T)^(r+s+x)

with ``M = max(alpha, beta)`` and ``m = s + 1`` if ``alpha >= beta``, else ``r + x``; evaluated in log space.
Predictions: ``P(alive) = 1 / (1 + s / (r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)`` and
``E[X(T, T+t) | alive] = (r+x) (beta+T) / ((alpha+T) (s-1)) [1 - ((beta+T) / (beta+T+t))^(s-1)]``.
No analytic gradient: the fit uses central differences (``beta`` is weakly identified on CDNOW).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from portfolio_kit.clv.base import PurchaseModel, unique_rows, wsum

__all__ = ["ParetoNBD"]


def _expm1_ratio(u: np.ndarray, s1: float) -> np.ndarray:
    """``(1 - exp(s1 u)) / s1`` with its limit ``-u`` at ``s1 = 0``."""
    return -u if s1 == 0 else -np.expm1(s1 * u) / s1


class ParetoNBD(PurchaseModel):
    """Pareto/NBD model (parameters ``r``, ``alpha``, ``s``, ``beta``; ``alpha``, ``beta`` in time units).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> ParetoNBD().fit(load_cdnow_summary()).params_.round(3).tolist()
    [0.553, 10.578, 0.606, 11.668]
    """

    label = "Pareto/NBD"
    param_names = ("r", "alpha", "s", "beta")
    has_gradient = False

    def _prepare(self, arrays):
        x, tx, T = arrays["frequency"], arrays["recency"], arrays["T"]
        first, inverse = unique_rows(x, tx, T)
        return SimpleNamespace(x=x[first], tx=tx[first], T=T[first], w=np.bincount(inverse).astype(float),
                               inverse=inverse)

    def _initial_params(self, data):
        purchases = max(data.w @ data.x, 1.0)
        exposure = data.w @ np.maximum(data.tx, 1e-3 * max(data.T.max(), 1e-9))
        return np.array([1.0, max(exposure / purchases, 1e-6), 1.0, max(data.T.mean(), 1e-6)])

    @staticmethod
    def _log_a0_term(params, x, tx, T):
        """``log(s / (r+s+x) A0) + (r+x) log(alpha+T) + s log(beta+T)``: the log-odds of having died."""
        r, alpha, s, beta = params
        rsx = r + s + x
        big, m = (alpha, s + 1.0) if alpha >= beta else (beta, r + x)
        gap = abs(alpha - beta)
        first = np.log(hyp2f1(rsx, m, rsx + 1, gap / (big + tx))) - rsx * np.log(big + tx)
        second = np.log(hyp2f1(rsx, m, rsx + 1, gap / (big + T))) - rsx * np.log(big + T)
        with np.errstate(divide="ignore"):
            log_a0 = first + np.log(-np.expm1(second - first))  # -inf when t_x == T: no time to die unseen
        return np.log(s) - np.log(rsx) + log_a0 + (r + x) * np.log(alpha + T) + s * np.log(beta + T)

    def _loglik(self, params, d, how):
        r, alpha, s, beta = params
        log_odds = self._log_a0_term(params, d.x, d.tx, d.T)
        rows = (gammaln(r + d.x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                - (r + d.x) * np.log(alpha + d.T) - s * np.log(beta + d.T) + np.logaddexp(0.0, log_odds))
        return rows if how == "rows" else wsum(d.w, rows)

    def _alive(self, params, x, tx, T):
        return expit(-self._log_a0_term(params, x, tx, T))

    def _expected_if_alive(self, params, x, T, t):
        r, alpha, s, beta = params
        return (r + x) * (beta + T) / (alpha + T) * _expm1_ratio(np.log((beta + T) / (beta + T + t)), s - 1)

    def _expected_new(self, params, t):
        r, alpha, s, beta = params
        return r * beta / alpha * _expm1_ratio(np.log(beta / (beta + t)), s - 1)
