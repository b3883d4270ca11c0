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
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, polygamma, xlogy

from portfolio_kit.clv.base import PurchaseModel, unique_rows, wsum

__all__ = ["BetaGeo", "fit_bgnbd"]

_BLOCK = 32_768  # rows per block of the log-likelihood (its temporaries stay in the CPU cache)


def _t_sums(alpha, Ts, w_T, wx_T, level, sums):
    """Add the terms in T alone of ``Ts`` to ``sums`` (positions 1, 2: ``sum w log(alpha+T)``, ``sum w x
    log(alpha+T)``; 5, 6 with ``1 / (alpha+T)``; 12, 13 with its square); ``wx_T`` None: x = 0."""
    log_aT = np.log(alpha + Ts)
    sums[1] += w_T @ log_aT
    if wx_T is not None:
        sums[2] += wx_T @ log_aT
    if level == 0:
        return
    inv_aT = 1.0 / (alpha + Ts)
    sums[5] += w_T @ inv_aT
    if wx_T is not None:
        sums[6] += wx_T @ inv_aT
    if level == 2:
        inv_aT *= inv_aT
        sums[12] += w_T @ inv_aT
        if wx_T is not None:
            sums[13] += wx_T @ inv_aT


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
    has_hessian = True
    #: Dropout opportunities before the first repeat purchase (0: BG/NBD, 1: MBG/NBD).
    _dropout_at_start = 0

    # --------------------------------------------------------------------------------------- likelihood
    def _prepare(self, arrays):
        x, tx, T = arrays["frequency"], arrays["recency"], arrays["T"]
        first, inverse = unique_rows(x, tx, T)
        if len(first) == len(x):  # all rows distinct (continuous time)
            w = np.ones(len(x))
        else:
            w = np.bincount(inverse).astype(float)
            x, tx, T = x[first], tx[first], T[first]
        # rows with a dropout opportunity (k > 0): only they have the "dropped out after t_x" branch; the
        # others have x = 0 and contribute through T alone
        dropout = x + self._dropout_at_start > 0
        everyone = bool(dropout.all())
        if not everyone:  # positions (take is much faster than boolean indexing)
            dropout, others = np.flatnonzero(dropout), np.flatnonzero(~dropout)
        px, ptx, pw = (x, tx, w) if everyone else (x.take(dropout), tx.take(dropout), w.take(dropout))
        x_int = x.astype(np.int64)
        if x_int.max() <= 4 * len(x) + 1000:  # distinct x as 0, 1, ... max (zero weights are harmless)
            x_code, xs = x_int, np.arange(x_int.max() + 1, dtype=float)
        else:
            x_code, xs = pd.factorize(x_int)
            xs = np.asarray(xs, dtype=float)
        # terms in T alone: per distinct T when T repeats (daily data), else per row, those with a dropout
        # opportunity first (so that the first n_dropout of log(alpha + Ts) are theirs)
        sample = T[::max(1, len(T) // 10_000)]
        if len(np.unique(sample)) > 0.5 * len(sample):
            T_code, pT_code = None, None
            if everyone:
                Ts, w_T = T, w
            else:
                Ts, w_T = np.concatenate((T.take(dropout), T.take(others))), np.concatenate((pw, w.take(others)))
            wx_T = np.zeros(len(Ts))
            np.multiply(pw, px, out=wx_T[:len(px)])  # x = 0 without a dropout opportunity
        else:
            T_code, Ts = pd.factorize(T)
            Ts = np.asarray(Ts)
            w_T, wx_T = np.bincount(T_code, w), np.bincount(T_code, w * x)
            pT_code = T_code if everyone else T_code.take(dropout)
        return SimpleNamespace(
            x=x, tx=tx, T=T, w=w, inverse=inverse, x_code=x_code, xs=xs, w_x=np.bincount(x_code, w, len(xs)),
            T_code=T_code, Ts=Ts, w_T=w_T, wx_T=wx_T, dropout=None if everyone else dropout,
            n_dropout=len(px), px=px, ptx=ptx, pw=pw, p_code=x_code if everyone else x_code.take(dropout),
            pT_code=pT_code)

    def _initial_params(self, data):
        # rate ~ repeat purchases per unit of time, with r = 1
        exposure = data.w @ np.maximum(data.tx, 1e-3 * max(data.Ts.max(), 1e-9))
        purchases = max(data.w @ data.x, 1.0)
        return np.array([1.0, max(exposure / purchases, 1e-6), 1.0, 1.0])

    def _loglik(self, params, d, how):
        """Log-likelihood (``how`` as in :class:`~portfolio_kit.clv.base.CustomerModel`). Per row with a
        dropout opportunity, ``z = log(a / (b + k - 1)) + (r + x) (log(alpha + T) - log(alpha + t_x))`` and
        ``log L = A(x) - (r + x) log(alpha + T) + softplus(z)``; ``pi = expit(z)`` (the weight of the
        "dropped out after t_x" branch) enters the gradient, ``pi (1 - pi)`` the Hessian. One ``exp``, one
        ``log1p`` and two ``log`` per such row, one ``log`` per row without; rows are taken in blocks of
        ``_BLOCK`` so that the temporaries stay in cache."""
        r, alpha, a, b = params
        xs = d.xs
        k = xs + self._dropout_at_start
        # terms that depend on x only (per distinct x)
        a12 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + k) - betaln(a, b)
        has_k = k > 0
        inv_bk = np.divide(1.0, b + k - 1, out=np.zeros_like(xs), where=has_k)
        c = np.where(has_k, np.log(a) + np.log(inv_bk, where=has_k, out=np.zeros_like(xs)), -np.inf)
        if how == "rows":
            rows = a12[d.x_code] - (r + d.x) * np.log(alpha + d.T)
            acc = SimpleNamespace(t_terms=None if d.T_code is None else (np.log(alpha + d.Ts), None))
            softplus = self._dropout_rows(r, alpha, c, d, 0, d.n_dropout, "rows", acc)
            if d.dropout is None:
                rows += softplus
            else:
                rows[d.dropout] += softplus
            return rows
        level = {"sum": 0, "grad": 1, "hess": 2}[how]
        acc = SimpleNamespace(sums=np.zeros(14), per_x=np.zeros((4, len(xs))))
        # per distinct T (daily data): log(alpha + T) and 1 / (alpha + T) once, gathered per row
        acc.t_terms = None if d.T_code is None else (np.log(alpha + d.Ts), 1.0 / (alpha + d.Ts))
        n = d.n_dropout
        for start in range(0, n, _BLOCK):
            self._dropout_rows(r, alpha, c, d, start, min(start + _BLOCK, n), level, acc)
        # terms in T alone: per distinct T, or per row (then the rows with a dropout opportunity, the first
        # n_dropout, were summed above)
        if d.T_code is None:
            for start in range(n, len(d.Ts), _BLOCK):
                _t_sums(alpha, d.Ts[start:start + _BLOCK], d.w_T[start:start + _BLOCK], None, level, acc.sums)
        else:
            _t_sums(alpha, d.Ts, d.w_T, d.wx_T, level, acc.sums)
        (s_sp, lt_w, lt_wx, pi_gap, piq_h, dt_w, dt_wx, v_gg, v_gqh, v_qhqh, pi_h, piq_dd, dt2_w, dt2_wx) = acc.sums
        ll = d.w_x @ a12 - (r * lt_w + lt_wx) + s_sp
        if how == "sum":
            return ll
        pi_x, v_x, vg_x, vq_x = acc.per_x
        total = d.w_x.sum()
        grad_r = d.w_x @ (digamma(r + xs) - digamma(r) + np.log(alpha)) - lt_w + pi_gap
        grad_alpha = r * total / alpha - (r * dt_w + dt_wx) + piq_h
        dab = digamma(a + b) - digamma(a + b + k)
        grad_a = d.w_x @ dab + pi_x.sum() / a
        grad_b = d.w_x @ (dab + digamma(b + k) - digamma(b)) - pi_x @ inv_bk
        grad = np.array([grad_r, grad_alpha, grad_a, grad_b])
        if how == "grad":
            return ll, grad
        # Hessian: d2 softplus(z) = pi (1 - pi) dz dz' + pi d2z, with dz = (gap, q h, 1/a, -1/(b+k-1))
        t1 = polygamma(1, a + b) - polygamma(1, a + b + k)
        H = np.empty((4, 4))
        H[0, 0] = d.w_x @ (polygamma(1, r + xs) - polygamma(1, r)) + v_gg
        H[0, 1] = total / alpha - dt_w + v_gqh + pi_h
        H[1, 1] = -r * total / alpha ** 2 + (r * dt2_w + dt2_wx) + v_qhqh + piq_dd
        H[0, 2] = vg_x.sum() / a
        H[0, 3] = -vg_x @ inv_bk
        H[1, 2] = vq_x.sum() / a
        H[1, 3] = -vq_x @ inv_bk
        H[2, 2] = d.w_x @ t1 + (v_x.sum() - pi_x.sum()) / a ** 2
        H[2, 3] = d.w_x @ t1 - (v_x @ inv_bk) / a
        H[3, 3] = d.w_x @ (t1 + polygamma(1, b + k) - polygamma(1, b)) + (v_x + pi_x) @ (inv_bk * inv_bk)
        H[np.tril_indices(4, -1)] = H.T[np.tril_indices(4, -1)]
        return ll, grad, H

    @staticmethod
    def _dropout_rows(r, alpha, c, d, i0, i1, level, acc):
        """Rows ``i0:i1`` of those with a dropout opportunity: their softplus(z) (``level == "rows"``), or
        their contributions added to ``acc`` (0: value, 1: and gradient, 2: and Hessian)."""
        w, x, code = d.pw[i0:i1], d.px[i0:i1], d.p_code[i0:i1]
        T_rows = d.pT_code is None
        t = d.Ts[i0:i1] if T_rows else None
        log_aT = np.log(alpha + t) if T_rows else acc.t_terms[0][d.pT_code[i0:i1]]
        gap = np.log(alpha + d.ptx[i0:i1])
        np.subtract(log_aT, gap, out=gap)
        q = r + x
        z = q * gap
        z += c[code]
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)
        softplus = np.log1p(e)
        softplus += np.maximum(z, 0.0)
        if level == "rows":
            return softplus
        sums = acc.sums
        sums[0] += w @ softplus
        wx = w * x
        if T_rows:
            sums[1] += w @ log_aT
            sums[2] += wx @ log_aT
        if level == 0:
            return None
        pi = np.where(z >= 0, 1.0, e)
        e += 1.0
        pi /= e
        w_pi = w * pi
        acc.per_x[0] += np.bincount(code, w_pi, minlength=acc.per_x.shape[1])
        inv_aT = 1.0 / (alpha + t) if T_rows else acc.t_terms[1][d.pT_code[i0:i1]]
        inv_at = 1.0 / (alpha + d.ptx[i0:i1])
        h = inv_aT - inv_at  # d gap / d alpha
        w_pi_q = w_pi * q
        sums[3] += w_pi @ gap
        sums[4] += w_pi_q @ h
        if T_rows:
            sums[5] += w @ inv_aT
            sums[6] += wx @ inv_aT
        if level == 1:
            return None
        w_v = w_pi * (1.0 - pi)
        qh = q * h
        w_v_gap = w_v * gap
        w_v_qh = w_v * qh
        acc.per_x[1] += np.bincount(code, w_v, minlength=acc.per_x.shape[1])
        acc.per_x[2] += np.bincount(code, w_v_gap, minlength=acc.per_x.shape[1])
        acc.per_x[3] += np.bincount(code, w_v_qh, minlength=acc.per_x.shape[1])
        sums[7] += w_v_gap @ gap
        sums[8] += w_v_gap @ qh
        sums[9] += w_v_qh @ qh
        sums[10] += w_pi @ h
        sums[11] += w_pi_q @ ((inv_at - inv_aT) * (inv_at + inv_aT))
        if T_rows:
            inv_aT *= inv_aT
            sums[12] += w @ inv_aT
            sums[13] += wx @ inv_aT
        return None

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
