"""Gamma-Gamma model of spend per purchase (Fader & Hardie 2013, note 025).

Each purchase of a customer is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)`` across customers. For a
customer with ``x`` repeat purchases of mean value ``m``::

    log L = log Gamma(p x + q) - log Gamma(p x) - log Gamma(q) + q log gamma + p x log x
            + (p x - 1) log m - (p x + q) log(gamma + m x)

    E[spend | x, m] = (p gamma + p x m) / (p x + q - 1)    (population mean p gamma / (q - 1) when x = 0)

Only repeat buyers with a positive mean spend enter the fit (``frequency > 0`` and ``monetary_value > 0``);
the model assumes spend independent of frequency: check
:func:`~portfolio_kit.clv.spend_frequency_correlation` first.
"""

from __future__ import annotations

import logging
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from portfolio_kit.clv.base import CustomerModel, wsum

__all__ = ["GammaGamma", "fit_gamma_gamma"]

logger = logging.getLogger(__name__)


class GammaGamma(CustomerModel):
    """Gamma-Gamma spend model (parameters ``p``, ``q``, ``gamma``).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> model = GammaGamma().fit(load_cdnow_summary())
    >>> model.params_.round(2).tolist(), round(model.log_likelihood_, 2)
    ([6.25, 3.74, 15.45], -4055.92)
    """

    label = "Gamma-Gamma"
    param_names = ("p", "q", "gamma")
    columns = ("frequency", "monetary_value")

    def fit(self, summary: pd.DataFrame, **fit_options):
        """Fit on the repeat buyers with positive spend of ``summary`` (see :meth:`CustomerModel.fit`)."""
        super().fit(summary, **fit_options)
        p, q, gamma = self.params_
        if q <= 1:
            warnings.warn(f"Gamma-Gamma q = {q:.3g} <= 1: the population mean spend is infinite, so customers "
                          f"without repeat purchases get no expected spend (NaN); spend is too heterogeneous, "
                          f"fit per segment", UserWarning, stacklevel=2)
        return self

    def _prepare(self, arrays):
        x, m = arrays["frequency"], arrays["monetary_value"]
        used = (x > 0) & (m > 0)
        if not used.any():
            raise ValueError("Gamma-Gamma needs repeat buyers (frequency > 0) with monetary_value > 0; found none")
        if ((x > 0) & (m <= 0)).any():
            logger.info("Gamma-Gamma: %d repeat buyers with net spend <= 0 left out", ((x > 0) & (m <= 0)).sum())
        inverse = np.full(len(x), -1)
        inverse[used] = np.arange(used.sum())
        x, m = x[used], m[used]
        x_code, xs = pd.factorize(x)
        xs = np.asarray(xs)
        w = np.ones(len(x))
        return SimpleNamespace(x=x, m=m, mx=m * x, w=w, inverse=inverse, x_code=x_code, xs=xs,
                               w_x=np.bincount(x_code, w), log_m=np.log(m), sum_xlogm=wsum(x, np.log(m)),
                               sum_logm=np.log(m).sum())

    def _initial_params(self, data):
        return np.array([1.0, 2.0, float(np.mean(data.m))])  # population mean p gamma / (q - 1) = mean spend

    def _loglik(self, params, d, how):
        p, q, gamma = params
        px = p * d.xs
        per_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + px * np.log(d.xs)
        log_gm = np.log(gamma + d.mx)
        if how == "rows":
            rows = per_x[d.x_code] + (p * d.x - 1) * d.log_m - (p * d.x + q) * log_gm
            return np.append(rows, np.nan)  # inverse -1: customers left out of the fit
        x_log_gm, sum_log_gm = wsum(d.x, log_gm), log_gm.sum()
        ll = d.w_x @ per_x + p * d.sum_xlogm - d.sum_logm - p * x_log_gm - q * sum_log_gm
        if how == "sum":
            return ll
        n = len(d.x)
        inv_gm = 1.0 / (gamma + d.mx)
        grad_p = d.w_x @ (d.xs * (digamma(px + q) - digamma(px) + np.log(d.xs))) + d.sum_xlogm - x_log_gm
        grad_q = d.w_x @ (digamma(px + q) - digamma(q)) + n * np.log(gamma) - sum_log_gm
        grad_gamma = n * q / gamma - p * wsum(d.x, inv_gm) - q * inv_gm.sum()
        return ll, np.array([grad_p, grad_q, grad_gamma])

    def predict_spend(self, summary: pd.DataFrame | None = None) -> pd.Series:
        """Expected mean spend per future purchase of each customer (population mean for ``frequency = 0``;
        NaN where it does not exist, ``p x + q <= 1``)."""
        a, index = self._arrays(summary)
        return pd.Series(self._spend(self._theta(), a["frequency"], a["monetary_value"]), index=index,
                         name="expected_spend")

    @staticmethod
    def _spend(params, x, m):
        p, q, gamma = params
        denominator = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator > 0, (p * gamma + p * x * m) / denominator, np.nan)  # else: infinite mean


def fit_gamma_gamma(summary: pd.DataFrame, **fit_options) -> GammaGamma:
    """Fit the Gamma-Gamma spend model to an RFM summary: ``GammaGamma().fit(summary, **fit_options)``.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> round(float(fit_gamma_gamma(load_cdnow_summary()).params_["q"]), 2)
    3.74
    """
    return GammaGamma().fit(summary, **fit_options)
