"""Tests of portfolio_kit.clv.customer_value.

Reference: lifetimes' ``GammaGammaFitter.customer_lifetime_value`` (monthly steps, ``freq="W"`` = 4.345
weeks a month) at the same parameters; the bootstrap interval against quantiles recomputed draw by draw with
models built from the same seeded parameter draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from portfolio_kit.clv import (BetaGeo, GammaGamma, ParetoNBD, customer_value, customer_value_by_group, fit_bgnbd,
                               fit_gamma_gamma, rfm_summary)
from portfolio_kit.data.datasets import load_cdnow_summary

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def models(cdnow):
    return fit_bgnbd(cdnow), fit_gamma_gamma(cdnow)


def test_clv_equals_lifetimes_customer_lifetime_value(cdnow, models):
    bg, gg = models
    ours = customer_value(bg, gg, cdnow, horizon_months=12, discount_rate=0.01, margin=1.0,
                          periods_per_month=4.345, n_draws=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin_bg, twin_gg = BetaGeoFitter(), GammaGammaFitter()
    twin_bg.params_ = bg.params_.copy()
    twin_bg.predict = twin_bg.conditional_expected_number_of_purchases_up_to_time
    twin_gg.params_ = pd.Series(gg.params_.to_numpy(), index=["p", "q", "v"])
    ref = twin_gg.customer_lifetime_value(twin_bg, cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                          cdnow["monetary_value"], time=12, discount_rate=0.01, freq="W")
    np.testing.assert_allclose(ours["clv"], ref, rtol=1e-10)
    np.testing.assert_allclose(ours["expected_purchases"], bg.predict_purchases(12 * 4.345, cdnow), rtol=1e-12)
    np.testing.assert_allclose(ours["probability_alive"], bg.probability_alive(cdnow), rtol=1e-12)


def test_hand_computed_single_customer():
    """One customer, 2 months, 10% a month: CLV = mu s P(alive) [G(c) / 1.1 + (G(2c) - G(c)) / 1.1^2]."""
    bg = BetaGeo.from_params(r=0.5, alpha=5.0, a=0.8, b=2.0)
    gg = GammaGamma.from_params(p=6.0, q=4.0, gamma=20.0)
    one = pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [30.0], "monetary_value": [40.0]})
    v = customer_value(bg, gg, one, horizon_months=2, discount_rate=0.1, margin=0.25, periods_per_month=4.0,
                       n_draws=0).iloc[0]
    g1, g2 = (bg.predict_purchases(t, one).iloc[0] for t in (4.0, 8.0))
    spend = (6.0 * 20.0 + 6.0 * 3 * 40.0) / (6.0 * 3 + 4.0 - 1)
    assert v["expected_spend"] == pytest.approx(spend)
    assert v["expected_purchases"] == pytest.approx(g2)
    assert v["clv"] == pytest.approx(0.25 * spend * (g1 / 1.1 + (g2 - g1) / 1.1 ** 2))
    assert v["expected_revenue"] == pytest.approx(v["clv"] / 0.25)


def test_bootstrap_interval_is_seeded_and_matches_draw_by_draw(cdnow, models):
    bg, gg = models
    part = cdnow.iloc[:200]
    v = customer_value(bg, gg, part, margin=0.3, periods_per_month=4.348, n_draws=40, seed=5)
    again = customer_value(bg, gg, part, margin=0.3, periods_per_month=4.348, n_draws=40, seed=5)
    pd.testing.assert_frame_equal(v, again)
    rng = np.random.default_rng(5)
    draws_bg, draws_gg = bg.sample_params(40, rng), gg.sample_params(40, rng)
    sims = np.array([customer_value(BetaGeo.from_params(**draws_bg.iloc[i]), GammaGamma.from_params(**draws_gg.iloc[i]),
                                    part, margin=0.3, periods_per_month=4.348, n_draws=0)["clv"] for i in range(40)])
    low, high = np.quantile(sims, [0.05, 0.95], axis=0, method="inverted_cdf")
    np.testing.assert_allclose(v["clv_low"], low, rtol=1e-10)
    np.testing.assert_allclose(v["clv_high"], high, rtol=1e-10)
    assert ((v["clv_low"] <= v["clv"]) & (v["clv"] <= v["clv_high"])).mean() > 0.95


def test_margin_from_the_data_and_periods_from_attrs():
    tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b", "c"],
                       "date": pd.to_datetime(["2024-01-02", "2024-02-10", "2024-03-20", "2024-01-15",
                                               "2024-03-01", "2024-02-01"]),
                       "amount": [100.0, 120.0, 80.0, 50.0, 70.0, 0.0], "margin": [30.0, 30.0, 20.0, 5.0, 7.0, 0.0]})
    s = rfm_summary(tx, "2024-04-30", period="W")
    bg = BetaGeo.from_params(r=0.5, alpha=5.0, a=0.8, b=2.0)
    gg = GammaGamma.from_params(p=6.0, q=4.0, gamma=20.0)
    v = customer_value(bg, gg, s, n_draws=0)
    assert v.loc["a", "margin_rate"] == pytest.approx(80.0 / 300.0)
    assert v.loc["c", "margin_rate"] == pytest.approx(np.median([80.0 / 300.0, 12.0 / 120.0]))  # no value: median
    ref = customer_value(bg, gg, s, n_draws=0, periods_per_month=365.25 / 12 / 7, margin=v["margin_rate"])
    pd.testing.assert_frame_equal(v, ref)


def test_pareto_nbd_works_as_purchase_model(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pnbd = ParetoNBD().fit(cdnow)
    v = customer_value(pnbd, fit_gamma_gamma(cdnow), cdnow, margin=0.3, periods_per_month=4.348, n_draws=20)
    assert v["clv"].notna().all() and (v["clv"] >= 0).all()


def test_spend_without_population_mean():
    """q <= 1: the population mean spend p gamma / (q - 1) does not exist; customers without repeat purchases
    get NaN, repeat buyers their finite posterior mean."""
    gg = GammaGamma.from_params(p=3.0, q=0.8, gamma=50.0)
    spend = gg.predict_spend(pd.DataFrame({"frequency": [0, 2], "monetary_value": [0.0, 40.0]}))
    assert np.isnan(spend.iloc[0])
    assert spend.iloc[1] == pytest.approx((3.0 * 50.0 + 3.0 * 2 * 40.0) / (3.0 * 2 + 0.8 - 1))


def test_bad_arguments(cdnow, models):
    bg, gg = models
    with pytest.raises(ValueError, match="periods_per_month"):
        customer_value(bg, gg, cdnow, margin=0.3)  # the shipped summary has no attrs
    with pytest.raises(ValueError, match="no margin"):
        customer_value(bg, gg, cdnow, periods_per_month=4.348)
    with pytest.raises(ValueError, match="horizon_months"):
        customer_value(bg, gg, cdnow, margin=0.3, periods_per_month=4.348, horizon_months=0)
    with pytest.raises(ValueError, match="missing column"):
        customer_value(bg, gg, cdnow.drop(columns="monetary_value"), margin=0.3, periods_per_month=4.348)


def test_value_by_group_fits_spend_per_group():
    """One group reproduces customer_value with the pooled spend model; two groups use their own fits."""
    s = load_cdnow_summary()
    bg = fit_bgnbd(s)
    opts = dict(margin=0.3, periods_per_month=4.348, n_draws=0)
    pooled = customer_value(bg, fit_gamma_gamma(s), s, **opts)
    one = customer_value_by_group(bg, s, pd.Series("all", index=s.index), **opts)
    pd.testing.assert_frame_equal(one.drop(columns="spend_group"), pooled)
    halves = pd.Series(np.where(s.index % 2 == 0, "even", "odd"), index=s.index)
    two = customer_value_by_group(bg, s, halves, **opts)
    even = s[halves == "even"]
    pd.testing.assert_frame_equal(two.loc[even.index].drop(columns="spend_group"),
                                  customer_value(bg, fit_gamma_gamma(even), even, **opts))
    assert two.index.equals(s.index) and set(two["spend_group"]) == {"even", "odd"}


def previous_interval(purchases, spend, summary, *, margin, periods_per_month, n_draws, seed, interval=0.9,
                      horizon_months=12, discount_rate=0.01):
    """The bootstrap before it was vectorised, kept as the slow reference: draw by draw over blocks of
    customers, ``np.quantile`` of the draws."""
    from portfolio_kit.clv import value
    from portfolio_kit.clv.base import summary_arrays

    a = summary_arrays(summary, ("frequency", "recency", "T", "monetary_value"))
    rate = value._margin_rate(summary, margin)
    months = np.arange(1, horizon_months + 1)
    steps, discount = months * float(periods_per_month), (1.0 + discount_rate) ** -months.astype(float)
    x, m, d = a["frequency"], a["monetary_value"], value._distinct(a)
    rng = np.random.default_rng(seed)
    draws_p = purchases.sample_params(n_draws, rng).to_numpy()
    draws_s = spend.sample_params(n_draws, rng).to_numpy()
    discounted = np.array([value._future(purchases, theta, d, steps, discount)[1] for theta in draws_p])
    sims = np.empty((n_draws, len(x)))
    for i in range(n_draws):
        alive_i = purchases._alive(draws_p[i], d.x[d.inverse], d.tx[d.inverse], d.T[d.inverse])
        spend_i = np.nan_to_num(GammaGamma._spend(draws_s[i], x, m), nan=np.inf)
        sims[i] = alive_i * discounted[i, d.inverse2[d.inverse]] * spend_i
    with np.errstate(invalid="ignore"):                                    # an infinite spend times a zero margin
        sims *= rate
    return np.quantile(sims, [(1 - interval) / 2, (1 + interval) / 2], axis=0, method="inverted_cdf")


@pytest.mark.parametrize("n_draws, interval", [(1000, 0.9), (201, 0.8), (7, 0.5)])
def test_vectorised_bootstrap_gives_the_draw_by_draw_interval(cdnow, models, n_draws, interval):
    """The vectorised bootstrap (all draws at once per block of customers, P(alive) per distinct row, a sort of
    each customer's draws) does the draw-by-draw loop's arithmetic on the same seeded draws, so its bounds are
    not merely within Monte Carlo error of the loop's: they are equal, to the last bit, for all 2,357 CDNOW
    customers, with margins of both signs and zero."""
    bg, gg = models
    margin = pd.Series(np.tile([0.3, 0.0, -0.1, 0.25], len(cdnow))[:len(cdnow)], index=cdnow.index)
    v = customer_value(bg, gg, cdnow, margin=margin, periods_per_month=4.348, n_draws=n_draws, seed=11,
                       interval=interval)
    low, high = previous_interval(bg, gg, cdnow, margin=margin, periods_per_month=4.348, n_draws=n_draws, seed=11,
                                  interval=interval)
    np.testing.assert_array_equal(v["clv_low"], low)
    np.testing.assert_array_equal(v["clv_high"], high)
    assert (v["clv_low"] < v["clv_high"]).mean() > 0.7                      # margins of 0 give 0 = 0


def test_vectorised_bootstrap_without_population_mean_spend(cdnow, models):
    """Draws with q <= 1 (infinite spend for customers without repeat purchases): infinite bounds, and NaN ones
    where that infinity meets a zero margin, as with np.quantile."""
    bg, _ = models
    gg = GammaGamma.from_params(p=3.0, q=1.05, gamma=50.0)
    gg.covariance_ = pd.DataFrame(np.diag([0.01, 0.05, 0.01]), index=list(GammaGamma.param_names),
                                  columns=list(GammaGamma.param_names))
    margin = pd.Series(np.where(np.arange(len(cdnow)) % 3 == 0, 0.0, 0.3), index=cdnow.index)
    v = customer_value(bg, gg, cdnow, margin=margin, periods_per_month=4.348, n_draws=300, seed=2)
    low, high = previous_interval(bg, gg, cdnow, margin=margin, periods_per_month=4.348, n_draws=300, seed=2)
    np.testing.assert_array_equal(v["clv_low"], low)
    np.testing.assert_array_equal(v["clv_high"], high)
    assert np.isinf(v["clv_high"]).any() and v["clv_high"].isna().any()


def test_bootstrap_by_group_shares_the_purchase_draws():
    """customer_value_by_group evaluates the expected purchases of each draw once for all groups; every group's
    interval is still the one customer_value gives the group alone."""
    s = load_cdnow_summary()
    bg = fit_bgnbd(s)
    groups = pd.Series(np.where(s["frequency"] > 2, "frequent", np.where(s.index % 2 == 0, "even", "odd")),
                       index=s.index)
    opts = dict(margin=0.3, periods_per_month=4.348, n_draws=150, seed=9)
    together = customer_value_by_group(bg, s, groups, **opts)
    for name in ("even", "frequent", "odd"):
        part = s[groups == name]
        pd.testing.assert_frame_equal(together.loc[part.index].drop(columns="spend_group"),
                                      customer_value(bg, fit_gamma_gamma(part), part, **opts), check_exact=True)
    other_seed = customer_value_by_group(bg, s, groups, **{**opts, "seed": 10})
    assert not np.array_equal(other_seed["clv_high"], together["clv_high"])
