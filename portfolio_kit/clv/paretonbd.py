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
Gradient: with ``I = A0 / (r+s+x)`` the integral ``int_{t_x}^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` (so the
bracket is ``H + s I``, ``H = (alpha+T)^-(r+x) (beta+T)^-s``), integrating by parts gives the ``alpha`` and
``beta`` derivatives of ``I`` in closed form from ``I`` itself::

    (r+x) (alpha-beta) J_alpha = [(alpha+u)^-(r+x) (beta+u)^-s]_{t_x}^T + (r+s+x) I,   dI/dalpha = -(r+x) J_alpha
    (s+1) (beta-alpha) J_beta = [(alpha+u)^(1-r-x) (beta+u)^-(s+1)]_{t_x}^T + (r+s+x) I, dI/dbeta = -(s+1) J_beta

(``alpha = beta`` exactly, where these divide by zero, falls back to central differences). ``r`` and ``s``
also enter the hypergeometric function's parameters, whose derivatives have no closed form: those two come
from central differences of ``log 2F1`` alone (step ``1e-5 (r+s+x)``; scipy's ``hyp2f1`` is accurate to about
1e-14, so forward differences would leave errors of 1e-7); everything else is analytic. A gradient
evaluation thus costs ten ``hyp2f1`` calls per distinct row (two for the value), instead of the eighteen of
central differences of the whole log-likelihood.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

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

    def _prepare(self, arrays):
        x, tx, T = arrays["frequency"], arrays["recency"], arrays["T"]
        first, inverse = unique_rows(x, tx, T)
        if len(first) == len(x):  # all rows distinct (continuous time)
            w = np.ones(len(x))
        else:
            x, tx, T, w = x[first], tx[first], T[first], np.bincount(inverse).astype(float)
        # rows with x = 0 and t_x = 0 (no repeat purchase) share 2F1(r+s, m; r+s+1; |alpha-beta| / M) at t_x
        return SimpleNamespace(x=x, tx=tx, T=T, w=w, inverse=inverse, moved=np.flatnonzero((tx > 0) | (x > 0)))

    def _initial_params(self, data):
        purchases = max(data.w @ data.x, 1.0)
        exposure = data.w @ np.maximum(data.tx, 1e-3 * max(data.T.max(), 1e-9))
        return np.array([1.0, max(exposure / purchases, 1e-6), 1.0, max(data.T.mean(), 1e-6)])

    @staticmethod
    def _log_a0_term(params, x, tx, T, d=None):
        """``log(s / (r+s+x) A0) + (r+x) log(alpha+T) + s log(beta+T)``: the log-odds of having died (``d``:
        the prepared data these rows are, to share the hypergeometric term of the rows without purchases)."""
        r, alpha, s, beta = params
        rsx = r + s + x
        big, m = (alpha, s + 1.0) if alpha >= beta else (beta, r + x)
        gap = abs(alpha - beta)
        if d is None:
            first = np.log(hyp2f1(rsx, m, rsx + 1, gap / (big + tx))) - rsx * np.log(big + tx)
        else:
            first = ParetoNBD._log_hyp_tx(rsx, m, gap / (big + tx), d) - rsx * np.log(big + tx)
        second = np.log(hyp2f1(rsx, m, rsx + 1, gap / (big + T))) - rsx * np.log(big + T)
        with np.errstate(divide="ignore"):
            log_a0 = first + np.log(-np.expm1(second - first))  # -inf when t_x == T: no time to die unseen
        return np.log(s) - np.log(rsx) + log_a0 + (r + x) * np.log(alpha + T) + s * np.log(beta + T)

    def _loglik(self, params, d, how):
        r, alpha, s, beta = params
        if how == "grad":
            if abs(alpha - beta) < 1e-6 * max(alpha, beta):  # the closed-form alpha, beta derivatives divide
                log_theta = np.log(params)                       # by alpha - beta: central differences
                total = lambda v: self._loglik(np.exp(v), d, "sum")  # noqa: E731
                grad = np.array([(total(log_theta + e) - total(log_theta - e)) / 2e-6 for e in 1e-6 * np.eye(4)])
                return self._loglik(params, d, "sum"), grad / params
            return self._gradient(params, d)
        log_odds = self._log_a0_term(params, d.x, d.tx, d.T, d)
        rows = (gammaln(r + d.x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                - (r + d.x) * np.log(alpha + d.T) - s * np.log(beta + d.T) + np.logaddexp(0.0, log_odds))
        return rows if how == "rows" else wsum(d.w, rows)

    @staticmethod
    def _log_hyp_tx(a, m, z, d):
        """``log 2F1(a, m; a+1; z)`` at t_x: once for all rows with t_x = 0 (there ``a`` and ``m`` may differ
        only with x, which is 0), per row for the others."""
        if len(d.moved) > 0.5 * len(d.x):
            return np.log(hyp2f1(a, m, a + 1, z))
        out = np.empty(len(d.x))
        still = np.ones(len(d.x), dtype=bool)
        still[d.moved] = False
        i = int(np.argmax(still))  # a row with t_x = 0 (x = 0): all such rows have the same arguments
        m0 = m if np.ndim(m) == 0 else m[i]
        out[:] = np.log(hyp2f1(a[i], m0, a[i] + 1, z[i]))
        mm = m if np.ndim(m) == 0 else m.take(d.moved)
        am = a.take(d.moved)
        out[d.moved] = np.log(hyp2f1(am, mm, am + 1, z.take(d.moved)))
        return out

    @staticmethod
    def _gradient(params, d):
        """Total log-likelihood and its gradient (see the module notes)."""
        r, alpha, s, beta = params
        x, tx, T, w = d.x, d.tx, d.T, d.w
        p, rsx = r + x, r + s + x
        alpha_big = alpha >= beta
        big, m = (alpha, s + 1.0) if alpha_big else (beta, p)
        gap = abs(alpha - beta)
        z1, z2 = gap / (big + tx), gap / (big + T)
        log_big_tx, log_big_T = np.log(big + tx), np.log(big + T)
        log_f1, log_f2 = ParetoNBD._log_hyp_tx(rsx, m, z1, d), np.log(hyp2f1(rsx, m, rsx + 1, z2))
        log_d1, log_d2 = log_f1 - rsx * log_big_tx, log_f2 - rsx * log_big_T  # I = (D1 - D2) / (r+s+x)
        with np.errstate(divide="ignore"):
            log_a0 = log_d1 + np.log(-np.expm1(log_d2 - log_d1))  # -inf when t_x == T
        log_aT, log_bT = np.log(alpha + T), np.log(beta + T)
        log_h = -p * log_aT - s * log_bT
        log_odds = np.log(s) - np.log(rsx) + log_a0 - log_h  # log(s I / H)
        softplus = np.logaddexp(0.0, log_odds)
        ll = wsum(w, gammaln(p) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + log_h + softplus)
        pi = expit(log_odds)  # s I / (H + s I)
        log_n = log_h + softplus  # log(H + s I)
        e_tx = np.exp(-p * np.log(alpha + tx) - s * np.log(beta + tx) - log_n)  # H(t_x) / (H + s I)
        # pi d log(s I) / d alpha, beta (closed form)
        g_alpha = -s * ((1 - pi) - e_tx + rsx * pi / s) / (alpha - beta)
        g_beta = -s * ((1 - pi) * (alpha + T) / (beta + T) - e_tx * (alpha + tx) / (beta + tx) + rsx * pi / s) / (
            beta - alpha)
        # pi d log(s I) / d r, s: d log D_i = d log 2F1_i - log(M + u_i) (each moves r+s+x by one), and
        # 2F1's second parameter moves with r (alpha < beta) or with s (alpha >= beta)
        h = 1e-5 * rsx
        d_log_f = {}
        for name, moves_m in (("r", not alpha_big), ("s", alpha_big)):
            m_h = h if moves_m else 0.0
            d_log_f[name] = ((ParetoNBD._log_hyp_tx(rsx + h, m + m_h, z1, d)
                              - ParetoNBD._log_hyp_tx(rsx - h, m - m_h, z1, d)) / (2 * h),
                             (np.log(hyp2f1(rsx + h, m + m_h, rsx + 1 + h, z2))
                              - np.log(hyp2f1(rsx - h, m - m_h, rsx + 1 - h, z2))) / (2 * h))
        share1, share2 = np.exp(log_d1 - log_n), np.exp(log_d2 - log_n)  # D_i / (H + s I)
        base = -pi / rsx
        g_r = base + s / rsx * (share1 * (d_log_f["r"][0] - log_big_tx) - share2 * (d_log_f["r"][1] - log_big_T))
        g_s = base + pi / s + s / rsx * (share1 * (d_log_f["s"][0] - log_big_tx)
                                         - share2 * (d_log_f["s"][1] - log_big_T))
        not_pi = 1 - pi
        grad = np.array([
            wsum(w, digamma(p) - digamma(r) + np.log(alpha) - not_pi * log_aT + g_r),
            wsum(w, r / alpha - not_pi * p / (alpha + T) + g_alpha),
            wsum(w, np.log(beta) - not_pi * log_bT + g_s),
            wsum(w, s / beta - not_pi * s / (beta + T) + g_beta)])
        return ll, grad

    def _alive(self, params, x, tx, T):
        return expit(-self._log_a0_term(params, x, tx, T))

    def _expected_if_alive(self, params, x, T, t):
        r, alpha, s, beta = params
        return (r + x) * (beta + T) / (alpha + T) * _expm1_ratio(np.log((beta + T) / (beta + T + t)), s - 1)

    def _expected_new(self, params, t):
        r, alpha, s, beta = params
        return r * beta / alpha * _expm1_ratio(np.log(beta / (beta + t)), s - 1)
