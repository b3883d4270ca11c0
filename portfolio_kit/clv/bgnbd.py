"""BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys as a Poisson process of rate ``lambda ~ Gamma(r, alpha)``; after each repeat
purchase they drop out with probability ``p ~ Beta(a, b)``. For a customer with ``x`` repeat purchases,
last at ``t_x``, observed until ``T`` (``k = x`` dropout opportunities; MBG/NBD adds one at time 0, ``k =
x + 1``)::

    L = B(a, b + k) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [ (alpha + T)^-(r+x)  +  1{k > 0} a / (b + k - 1) (alpha + t_x)^-(r+x) ]

evaluated in log space (``log L = A1 + A2 + logaddexp(A3, A4)``), so the Hardie note 027 case (x = 200)
does not overflow. Predictions (FHL 2005 eq. 10, Hardie note 021)::

    P(alive) = 1 / (1 + 1{k > 0} a / (b + k - 1) ((alpha + T) / (alpha + t_x))^(r+x))
    E[X(T, T+t) | alive] = (a + b + k - 1) / (a - 1)
                           * [1 - (1 - z)^(a-1) 2F1(a + b + k - 1 - r - x, a - 1; a + b + k - 1; z)],
    z = t / (alpha + T + t)

(the Euler transform of eq. 10's ``2F1(r + x, b + k; a + b + k - 1; z) (1 - z)^(r+x)``, whose arguments stay
small for any ``x``, so no overflow for heavy buyers).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, xlogy

from portfolio_kit.clv.base import PurchaseModel, unique_rows, wsum

__all__ = ["BetaGeo", "fit_bgnbd"]


class BetaGeo(PurchaseModel):
    """BG/NBD model (parameters ``r``, ``alpha``, ``a``, ``b``; ``alpha`` in the summary's time unit).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> model.params_.round(3).tolist()
    [0.243, 4.414, 0.793, 2.426]
    >>> round(model.log_likelihood_, 1)
    -9582.4
    >>> model.predict_purchases(39).head(2).round(3).tolist()
    [1.226, 0.203]
    """

    label = "BG/NBD"
    param_names = ("r", "alpha", "a", "b")
    #: Dropout opportunities before the first repeat purchase (0: BG/NBD, 1: MBG/NBD).
    _dropout_at_start = 0

    # --------------------------------------------------------------------------------------- likelihood
    def _prepare(self, arrays):
        x, tx, T = arrays["frequency"], arrays["recency"], arrays["T"]
        first, inverse = unique_rows(x, tx, T)
        w = np.bincount(inverse).astype(float)
        x, tx, T = x[first], tx[first], T[first]
        x_code, xs = pd.factorize(x)
        T_code, Ts = pd.factorize(T)
        return SimpleNamespace(
            x=x, tx=tx, w=w, inverse=inverse, x_code=x_code, xs=np.asarray(xs), T_code=T_code, Ts=np.asarray(Ts),
            w_x=np.bincount(x_code, w), w_T=np.bincount(T_code, w), wx_T=np.bincount(T_code, w * x))

    def _initial_params(self, data):
        # rate ~ repeat purchases per unit of time, with r = 1
        exposure = data.w @ np.maximum(data.tx, 1e-3 * max(data.Ts.max(), 1e-9))
        purchases = max(data.w @ data.x, 1.0)
        return np.array([1.0, max(exposure / purchases, 1e-6), 1.0, 1.0])

    def _loglik(self, params, d, how):
        r, alpha, a, b = params
        xs = d.xs
        k = xs + self._dropout_at_start
        # terms that depend on x only (per distinct x) and on T only (per distinct T)
        a12 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + k) - betaln(a, b)
        has_k = k > 0
        inv_bk = np.divide(1.0, b + k - 1, out=np.zeros_like(xs), where=has_k)
        c = np.where(has_k, np.log(a) + np.log(inv_bk, where=has_k, out=np.zeros_like(xs)), -np.inf)
        log_aT = np.log(alpha + d.Ts)
        # per row: A4 - A3 = c + (r + x) (log(alpha + T) - log(alpha + t_x))
        rx = r + d.x
        gap = log_aT[d.T_code] - np.log(alpha + d.tx)
        z = c[d.x_code] + rx * gap
        softplus = np.logaddexp(0.0, z)
        if how == "rows":
            return a12[d.x_code] - rx * log_aT[d.T_code] + softplus
        ll = d.w_x @ a12 - (r * d.w_T + d.wx_T) @ log_aT + wsum(d.w, softplus)
        if how == "sum":
            return ll
        w_pi = d.w * expit(z)  # weight of the "dropped out after t_x" branch
        pi_x = np.bincount(d.x_code, w_pi, minlength=len(xs))
        inv_aT = 1.0 / (alpha + d.Ts)
        w_pi_rx = w_pi * rx
        grad_r = d.w_x @ (digamma(r + xs) - digamma(r) + np.log(alpha)) - d.w_T @ log_aT + wsum(w_pi, gap)
        grad_alpha = (r * d.w_T.sum() / alpha - (r * d.w_T + d.wx_T) @ inv_aT
                      + wsum(w_pi_rx, inv_aT[d.T_code] - 1.0 / (alpha + d.tx)))
        dab = digamma(a + b) - digamma(a + b + k)
        grad_a = d.w_x @ dab + pi_x.sum() / a
        grad_b = d.w_x @ (dab + digamma(b + k) - digamma(b)) - pi_x @ inv_bk
        return ll, np.array([grad_r, grad_alpha, grad_a, grad_b])

    # --------------------------------------------------------------------------------------- predictions
    def _alive(self, params, x, tx, T):
        r, alpha, a, b = params
        k = x + self._dropout_at_start
        log_odds = np.log(a) - np.log(np.where(k > 0, b + k - 1, 1.0)) + (r + x) * (
            np.log(alpha + T) - np.log(alpha + tx))
        return np.where(k > 0, expit(-log_odds), 1.0)

    def _expected_if_alive(self, params, x, T, t):
        r, alpha, a, b = params
        c = a + b + x + self._dropout_at_start - 1
        z = t / (alpha + T + t)
        tail = np.exp(xlogy(a - 1, 1 - z)) * hyp2f1(c - r - x, a - 1, c, z)
        return c / (a - 1) * (1 - tail)

    def _expected_new(self, params, t):
        r, alpha, a, b = params
        k = self._dropout_at_start
        # a new customer survives the opening dropout opportunities with probability B(a, b + k) / B(a, b)
        survive = np.exp(betaln(a, b + k) - betaln(a, b))
        return survive * self._expected_if_alive(params, np.zeros_like(t), np.zeros_like(t), t)

    def probability_of_purchases(self, t, max_count: int) -> np.ndarray:
        """P(X(t) = n) for n = 0 ... ``max_count`` repeat purchases of a new customer observed ``t`` periods.

        FHL 2005 eq. 8 (MBG/NBD: Batislam et al. 2007), vectorised over ``t``.

        Returns
        -------
        ndarray of shape ``t.shape + (max_count + 1,)``.
        """
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)[..., None]
        n = np.arange(max_count + 1)
        k = n + self._dropout_at_start
        # negative binomial pmf of purchases while alive, and its cumulative sum below n
        log_nb = (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                  + xlogy(n, t / (alpha + t)))
        nb = np.exp(log_nb)
        below = np.cumsum(nb, axis=-1) - nb
        drop = np.exp(betaln(a + 1, np.maximum(b + k - 1, 1e-300)) - betaln(a, b))
        return np.exp(betaln(a, b + k) - betaln(a, b)) * nb + np.where(k > 0, drop * (1 - below), 0.0)


def fit_bgnbd(summary: pd.DataFrame, **fit_options) -> BetaGeo:
    """Fit the BG/NBD model to an RFM summary: ``BetaGeo().fit(summary, **fit_options)``.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> round(float(fit_bgnbd(load_cdnow_summary()).params_["alpha"]), 3)
    4.414
    """
    return BetaGeo().fit(summary, **fit_options)
