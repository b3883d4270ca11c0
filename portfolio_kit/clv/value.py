"""Customer lifetime value: expected purchases, spend and margin over a horizon, discounted monthly.

For customer ``i`` with P(alive) ``pi_i``, expected purchases if alive ``G_i(t)`` in the next ``t`` periods
(purchase model), expected spend per purchase ``s_i`` (Gamma-Gamma) and margin rate ``mu_i``::

    CLV_i = mu_i s_i pi_i sum_{m=1..H} [G_i(m c) - G_i((m - 1) c)] / (1 + d)^m

with ``H`` the horizon in months, ``c`` periods per month and ``d`` the monthly discount rate (lifetimes'
``customer_lifetime_value`` with ``mu = 1``). Intervals come from a parametric bootstrap: parameter vectors
of both models are drawn from their estimates' asymptotic distribution (``sample_params``) and the CLV is
recomputed per draw; they express the uncertainty of the estimated parameters, not the randomness of the
customer's future purchases. The bounds are order statistics of the draws; a draw with Gamma-Gamma
``q <= 1`` has no population mean spend, which counts as an infinite spend for customers without repeat
purchases (their point estimate is then NaN and their upper bound may be infinite).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from portfolio_kit.clv.base import PurchaseModel, summary_arrays, unique_rows
from portfolio_kit.clv.gamma_gamma import GammaGamma, fit_gamma_gamma

__all__ = ["customer_value"]

_BLOCK = 5_000_000  # draws x customers evaluated at once in the bootstrap (memory bound)


def _distinct(a: dict[str, np.ndarray]) -> SimpleNamespace:
    """Distinct (frequency, recency, T) rows, and their distinct (frequency, T) pairs: P(alive) depends on
    the first, expected purchases if alive on the second only."""
    first, inverse = unique_rows(a["frequency"], a["recency"], a["T"])
    x, tx, T = a["frequency"][first], a["recency"][first], a["T"][first]
    first2, inverse2 = unique_rows(x, T)
    return SimpleNamespace(x=x, tx=tx, T=T, inverse=inverse, x2=x[first2], T2=T[first2], inverse2=inverse2)


def _future(purchases: PurchaseModel, theta, d: SimpleNamespace, steps, discount) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases if alive over the horizon, undiscounted and discounted, per distinct (x, T)."""
    g = purchases._expected_if_alive(theta, d.x2, d.T2, steps[:, None])  # months x distinct (x, T)
    return g[-1], np.einsum("m,mu->u", discount, np.diff(g, axis=0, prepend=0.0))


def customer_value(purchases: PurchaseModel, spend: GammaGamma, summary: pd.DataFrame | None = None, *,
                   horizon_months: int = 12, discount_rate: float = 0.01, margin=None,
                   periods_per_month: float | None = None, interval: float = 0.9, n_draws: int = 200,
                   seed: int = 0) -> pd.DataFrame:
    """Expected purchases, revenue and margin (CLV) per customer over a horizon, with P(alive) and intervals.

    Parameters
    ----------
    purchases : BetaGeo, ModifiedBetaGeo or ParetoNBD
        Fitted purchase model.
    spend : GammaGamma
        Fitted spend model.
    summary : DataFrame, optional
        RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value`` and, if ``margin`` is None,
        ``margin_rate``); default: the one ``purchases`` was fitted on.
    horizon_months : int
        Months ahead.
    discount_rate : float
        Monthly discount rate (0.01 = 1% a month).
    margin : float or Series, optional
        Margin as a share of revenue (one rate, or one per customer). Default: the summary's
        ``margin_rate`` (from the transactions' margin column); customers without one get the median rate.
    periods_per_month : float, optional
        Summary time units per month; default ``summary.attrs["periods_per_month"]`` set by
        :func:`~portfolio_kit.clv.rfm_summary` (4.348 for weeks).
    interval : float
        Probability covered by ``clv_low`` - ``clv_high``.
    n_draws : int
        Bootstrap draws (0: no interval columns).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    DataFrame indexed like ``summary``: ``probability_alive``, ``expected_purchases`` (undiscounted, over
    the horizon), ``expected_spend`` (per purchase), ``margin_rate``, ``expected_revenue`` (discounted),
    ``clv`` (discounted expected margin) and, with ``n_draws > 0``, ``clv_low``, ``clv_high``. Spend and
    value are NaN for customers without repeat purchases when the spend model has ``q <= 1`` (no population
    mean: fit the spend model per segment).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> from portfolio_kit.clv import fit_bgnbd, fit_gamma_gamma
    >>> s = load_cdnow_summary()
    >>> v = customer_value(fit_bgnbd(s), fit_gamma_gamma(s), s, margin=0.3, periods_per_month=4.348)
    >>> int(v.sort_values("clv", ascending=False).index[0])
    509
    """
    if summary is None:
        summary = purchases.data_
        if summary is None:
            raise ValueError("pass the summary: the purchase model was not fitted on data")
    a = summary_arrays(summary, ("frequency", "recency", "T", "monetary_value"))
    if not (isinstance(horizon_months, (int, np.integer)) and horizon_months >= 1):
        raise ValueError(f"horizon_months must be a whole number >= 1, got {horizon_months!r}")
    if not discount_rate > -1:
        raise ValueError(f"discount_rate must be > -1 (a monthly rate), got {discount_rate!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be between 0 and 1, got {interval!r}")
    if periods_per_month is None:
        periods_per_month = summary.attrs.get("periods_per_month")
        if periods_per_month is None:
            raise ValueError("periods_per_month is unknown (the summary does not come from rfm_summary): "
                             "pass it, e.g. 4.348 for weekly summaries")
    rate = _margin_rate(summary, margin)

    months = np.arange(1, horizon_months + 1)
    steps = months * float(periods_per_month)
    discount = (1.0 + discount_rate) ** -months.astype(float)
    x, m = a["frequency"], a["monetary_value"]
    d = _distinct(a)
    theta_p = purchases._theta()
    alive = purchases._alive(theta_p, d.x, d.tx, d.T)
    g_end, g_discounted = _future(purchases, theta_p, d, steps, discount)
    unit_spend = GammaGamma._spend(spend._theta(), x, m)
    revenue = unit_spend * (alive * g_discounted[d.inverse2])[d.inverse]
    out = pd.DataFrame({"probability_alive": alive[d.inverse],
                        "expected_purchases": (alive * g_end[d.inverse2])[d.inverse],
                        "expected_spend": unit_spend, "margin_rate": rate, "expected_revenue": revenue,
                        "clv": rate * revenue}, index=summary.index)
    if n_draws > 0:
        rng = np.random.default_rng(seed)
        draws_p = purchases.sample_params(n_draws, rng).to_numpy()
        draws_s = spend.sample_params(n_draws, rng).to_numpy()
        discounted = np.array([_future(purchases, theta, d, steps, discount)[1] for theta in draws_p])
        low, high = np.empty(len(out)), np.empty(len(out))
        block = max(1, _BLOCK // n_draws)
        for start in range(0, len(out), block):  # blocks of customers bound the memory
            part = slice(start, start + block)
            rows = d.inverse[part]
            sims = np.empty((n_draws, len(rows)))
            for i in range(n_draws):  # loop over draws, vectorised over customers
                alive_i = purchases._alive(draws_p[i], d.x[rows], d.tx[rows], d.T[rows])
                spend_i = np.nan_to_num(GammaGamma._spend(draws_s[i], x[part], m[part]), nan=np.inf)
                sims[i] = alive_i * discounted[i, d.inverse2[rows]] * spend_i
            sims *= rate[part]
            low[part], high[part] = np.quantile(sims, [(1 - interval) / 2, (1 + interval) / 2], axis=0,
                                                method="inverted_cdf")
        out["clv_low"], out["clv_high"] = low, high
    return out


def _margin_rate(summary: pd.DataFrame, margin) -> np.ndarray:
    if margin is None:
        if "margin_rate" not in summary.columns:
            raise ValueError("no margin: pass margin= (share of revenue, e.g. 0.3) or build the summary from "
                             "transactions with a 'margin' column")
        rate = summary["margin_rate"].to_numpy(dtype=float)
        fill = np.nanmedian(rate) if np.isfinite(rate).any() else np.nan
        if not np.isfinite(fill):
            raise ValueError("summary column 'margin_rate' has no values: pass margin=")
        return np.where(np.isfinite(rate), rate, fill)
    if isinstance(margin, pd.Series):
        rate = margin.reindex(summary.index).to_numpy(dtype=float)
    else:
        rate = np.full(len(summary), float(margin))
    if not np.isfinite(rate).all():
        raise ValueError("margin must be a finite number, or a Series with a value for every customer")
    return rate


def customer_value_by_group(purchases: PurchaseModel, summary: pd.DataFrame, groups: pd.Series,
                            **options) -> pd.DataFrame:
    """:func:`customer_value` with one Gamma-Gamma spend model per group (e.g. size class).

    Use it when spend per purchase differs by segment, so that pooled spend correlates with frequency
    (:func:`~portfolio_kit.clv.spend_frequency_correlation` warns) or a pooled fit has ``q <= 1``.

    Parameters
    ----------
    groups : Series
        Group of each customer, indexed like ``summary`` (missing: ``"(unknown)"``).
    **options
        Passed to :func:`customer_value` (horizon, discount rate, margin, interval, seed ...).

    Returns
    -------
    The :func:`customer_value` columns plus ``spend_group``, indexed like ``summary``.
    """
    labels = groups.reindex(summary.index).astype("string").fillna("(unknown)")
    parts = [customer_value(purchases, fit_gamma_gamma(part), part, **options).assign(spend_group=name)
             for name, part in summary.groupby(labels.to_numpy(), sort=True)]
    return pd.concat(parts).reindex(summary.index)
