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

The bootstrap evaluates every draw exactly (no approximation): the expected purchases if alive (a
hypergeometric function per month) once per draw and distinct (x, T) pair of the whole summary, shared by the
groups of :func:`customer_value_by_group`; P(alive) once per draw and distinct (x, t_x, T) row; then, per
block of customers, all draws at once (customers x draws broadcast) and the two order statistics from a
sort of each customer's draws.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from portfolio_kit.clv.base import PurchaseModel, summary_arrays, unique_rows
from portfolio_kit.clv.gamma_gamma import GammaGamma, fit_gamma_gamma

__all__ = ["customer_value"]

_CHUNK = 262_144  # draws x distinct rows, or draws x customers, evaluated at once in the bootstrap (in cache)


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


def _discounted_draws(purchases: PurchaseModel, draws: np.ndarray, pairs: SimpleNamespace, steps,
                      discount) -> np.ndarray:
    """Discounted expected purchases if alive of each draw of the purchase parameters: distinct (x, T) pairs x
    draws (the hypergeometric functions of the expected purchases, once per draw, pair and month)."""
    table = np.empty((len(pairs.x2), len(draws)))
    for i, theta in enumerate(draws):
        table[:, i] = _future(purchases, theta, pairs, steps, discount)[1]
    return table


class _PooledPairs:
    """The bootstrap's discounted expected purchases on the distinct (x, T) pairs of a whole summary, computed
    on first use and shared by the groups of :func:`customer_value_by_group`: every group draws the same
    purchase parameters (same model, same seed), so each pair is evaluated once per draw, not once per group."""

    def __init__(self, x: np.ndarray, T: np.ndarray):
        first, self.pair = unique_rows(x, T)  # per row of the summary: its distinct (x, T) pair
        self.pairs = SimpleNamespace(x2=x[first], T2=T[first])
        self._key, self._table = None, None

    def discounted(self, purchases: PurchaseModel, draws: np.ndarray, steps, discount, d: SimpleNamespace,
                   rows: np.ndarray) -> np.ndarray:
        """The table of :func:`_discounted_draws` for the distinct pairs ``d`` of the summary rows ``rows``."""
        key = (id(purchases), draws.tobytes(), np.asarray(steps).tobytes(), np.asarray(discount).tobytes())
        if key != self._key:
            self._table = _discounted_draws(purchases, draws, self.pairs, steps, discount)
            self._key = key
        pair_of_row = d.inverse2[d.inverse]
        representative = np.empty(len(d.x2), dtype=np.int64)  # a row of each of the part's pairs
        representative[pair_of_row] = np.arange(len(pair_of_row))
        return self._table[self.pair[rows[representative]]]


def _alive_draws(purchases: PurchaseModel, draws: np.ndarray, x, tx, T) -> np.ndarray:
    """P(alive) of rows ``x, tx, T`` under each draw of the purchase parameters: rows x draws. All draws at once
    where the model's formula broadcasts (parameters as rows of draws), else draw by draw."""
    try:
        with np.errstate(all="ignore"):
            out = purchases._alive(draws.T[:, None, :], x[:, None], tx[:, None], T[:, None])
        if np.shape(out) == (len(x), len(draws)):
            return np.asarray(out, dtype=float)
    except (ValueError, TypeError):  # e.g. Pareto/NBD chooses its formula by comparing two parameters
        pass
    out = np.empty((len(x), len(draws)))
    for i, theta in enumerate(draws):
        out[:, i] = purchases._alive(theta, x, tx, T)
    return out


def _spend_draws(draws: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Gamma-Gamma expected spend of customers ``x, m`` under each draw (customers x draws), an infinite spend
    where a draw has no population mean (``q <= 1``, customers without repeat purchases); the operations of
    :meth:`GammaGamma._spend <portfolio_kit.clv.gamma_gamma.GammaGamma._spend>`, in place."""
    p, q, gamma = draws.T
    if not (q > 1).all():
        return np.nan_to_num(GammaGamma._spend(draws.T[:, None, :], x[:, None], m[:, None]), nan=np.inf)
    px = p * x[:, None]  # with q > 1 every denominator p x + q - 1 is positive: no NaN to replace
    spend = px * m[:, None]
    spend += p * gamma
    px += q
    px -= 1
    spend /= px
    return spend


def _interval(purchases: PurchaseModel, draws_p: np.ndarray, draws_s: np.ndarray, d: SimpleNamespace,
              discounted: np.ndarray, x: np.ndarray, m: np.ndarray, rate: np.ndarray,
              interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the bootstrap interval of each customer's CLV.

    Per block of distinct (x, t_x, T) rows, P(alive) times the discounted expected purchases of every draw;
    then per chunk of the customers of those rows, all draws at once (customers x draws: that product times
    the spend, times the margin rate: the operations of a draw-by-draw loop, so the same numbers) and the
    bounds, the ``inverted_cdf`` order statistics of each customer's draws (as ``np.quantile``), from a sort
    of each customer's draws. A positive margin rate scales every draw of a customer alike (rounding is monotone), so it is
    applied to the two bounds only; a customer with a NaN draw gets NaN bounds, as from ``np.quantile``.
    """
    n = len(draws_p)
    k_low, k_high = np.quantile(np.arange(n), [(1 - interval) / 2, (1 + interval) / 2],
                                method="inverted_cdf").astype(np.int64)
    low, high = np.empty(len(x)), np.empty(len(x))
    order = np.argsort(d.inverse, kind="stable")  # customers by distinct row
    starts = np.concatenate([[0], np.cumsum(np.bincount(d.inverse, minlength=len(d.x)))])
    per_block = max(1, _CHUNK // n)  # distinct rows, or customers, at a time
    for u0 in range(0, len(d.x), per_block):
        u1 = min(u0 + per_block, len(d.x))
        per_row = _alive_draws(purchases, draws_p, d.x[u0:u1], d.tx[u0:u1], d.T[u0:u1])
        per_row *= discounted[d.inverse2[u0:u1]]  # P(alive) x discounted expected purchases, rows x draws
        for c0 in range(starts[u0], starts[u1], per_block):
            who = order[c0:min(c0 + per_block, starts[u1])]
            sims = _spend_draws(draws_s, x[who], m[who])
            np.multiply(per_row[d.inverse[who] - u0], sims, out=sims)
            positive = rate[who] > 0
            if not positive.all():
                with np.errstate(invalid="ignore"):  # an infinite spend times a zero margin: NaN, as documented
                    sims[~positive] *= rate[who][~positive, None]
            sims.sort(axis=1)  # NaN last; a vectorised sort of short rows beats a partial sort (np.partition)
            nan = np.isnan(sims[:, n - 1])
            low[who] = np.where(nan, np.nan, sims[:, k_low])
            high[who] = np.where(nan, np.nan, sims[:, k_high])
            low[who[positive]] *= rate[who[positive]]
            high[who[positive]] *= rate[who[positive]]
    return low, high


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
        Seed of the bootstrap: the same inputs and seed give the same numbers.

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
    return _customer_value(purchases, spend, summary, horizon_months=horizon_months, discount_rate=discount_rate,
                           margin=margin, periods_per_month=periods_per_month, interval=interval, n_draws=n_draws,
                           seed=seed)


def _customer_value(purchases: PurchaseModel, spend: GammaGamma, summary: pd.DataFrame | None = None, *,
                    horizon_months: int = 12, discount_rate: float = 0.01, margin=None,
                    periods_per_month: float | None = None, interval: float = 0.9, n_draws: int = 200,
                    seed: int = 0, pooled: _PooledPairs | None = None, rows: np.ndarray | None = None
                    ) -> pd.DataFrame:
    """:func:`customer_value`; ``pooled`` (from :func:`customer_value_by_group`) holds the bootstrap's expected
    purchases on the distinct (x, T) pairs of the whole summary, ``rows`` the positions of ``summary``'s rows
    there."""
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
        if pooled is None:
            discounted = _discounted_draws(purchases, draws_p, d, steps, discount)  # distinct (x, T) x draws
        else:
            discounted = pooled.discounted(purchases, draws_p, steps, discount, d, rows)
        low, high = _interval(purchases, draws_p, draws_s, d, discounted, x, m, rate, interval)
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
    codes, names = pd.factorize(labels.to_numpy(), sort=True)
    by_group = np.argsort(codes, kind="stable")  # the rows of each group, in their order
    bounds = np.searchsorted(codes[by_group], np.arange(len(names) + 1))
    pooled = None
    if options.get("n_draws", 200) > 0:  # the bootstrap's expected purchases: once for all groups
        a = summary_arrays(summary, ("frequency", "T"))
        pooled = _PooledPairs(a["frequency"], a["T"])
    parts = []
    for j, name in enumerate(names):
        rows = by_group[bounds[j]:bounds[j + 1]]
        part = summary.iloc[rows]
        parts.append(_customer_value(purchases, fit_gamma_gamma(part), part, pooled=pooled, rows=rows, **options)
                     .assign(spend_group=name))
    return pd.concat(parts).reindex(summary.index)
