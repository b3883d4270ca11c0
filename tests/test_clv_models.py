"""Tests of the CLV models: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma.

Published figures (domain.md), on the CDNOW calibration summary shipped with lifetimes (2,357 customers,
weeks 1-39):
- BG/NBD (Fader, Hardie & Lee 2005): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4;
- MBG/NBD: r 0.525, alpha 6.183, a 0.891, b 1.614;
- Pareto/NBD: r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0 (beta weakly identified);
- Gamma-Gamma (Fader & Hardie 2013, 946 repeat buyers): p 6.25, q 3.74, gamma 15.44, LL -4055.92;
- Hardie note 027 (BG/NBD stability): a 0.80, b 2.50, r 0.25, alpha 4.00, T 40: per-customer LL
  -0.59947382 at (x 0, t_x 0) and 100.7957 at (x 200, t_x 38).
Predictions are compared with lifetimes' formulas evaluated at the same parameters.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from portfolio_kit.clv import (BetaGeo, ConvergenceWarning, GammaGamma, ModifiedBetaGeo, ParetoNBD, fit_bgnbd,
                               fit_gamma_gamma)
from portfolio_kit.data.datasets import load_cdnow_summary
from portfolio_kit.data.sample import simulate_bgnbd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

LIFETIMES = {BetaGeo: BetaGeoFitter, ModifiedBetaGeo: ModifiedBetaGeoFitter, ParetoNBD: ParetoNBDFitter}


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # every CDNOW fit must converge silently
        return {m: m().fit(cdnow) for m in (BetaGeo, ModifiedBetaGeo, ParetoNBD, GammaGamma)}


def lifetimes_twin(model):
    twin = LIFETIMES[type(model)]()
    names = ["r", "alpha", "s", "beta"] if isinstance(model, ParetoNBD) else ["r", "alpha", "a", "b"]
    twin.params_ = pd.Series(model.params_.to_numpy(), index=names)
    return twin


def test_bgnbd_published_cdnow(fitted):
    """FHL 2005 (domain.md): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4."""
    m = fitted[BetaGeo]
    assert m.params_.round(3).tolist() == [0.243, 4.414, 0.793, 2.426]
    assert round(m.log_likelihood_, 1) == -9582.4
    assert m.converged_ and m.n_customers_ == 2357


def test_mbgnbd_published_cdnow(fitted):
    """domain.md: MBG/NBD r 0.525, alpha 6.183, a 0.891, b 1.614."""
    assert fitted[ModifiedBetaGeo].params_.round(3).tolist() == [0.525, 6.183, 0.891, 1.614]


def test_paretonbd_published_cdnow(fitted, cdnow):
    """domain.md: r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0. beta is weakly identified: the
    maximum is at beta = 11.6679 (the likelihood is checked against quadrature below), where the LL is
    flat to 1e-8 over the third decimal; the published parameters give the published LL."""
    m = fitted[ParetoNBD]
    assert m.params_.round(3).tolist()[:3] == [0.553, 10.578, 0.606]
    assert m.params_["beta"] == pytest.approx(11.669, abs=2e-3)
    assert round(m.log_likelihood_, 1) == -9595.0
    published = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    assert round(published.individual_log_likelihood(cdnow).sum(), 1) == -9595.0


def test_paretonbd_likelihood_against_quadrature(fitted, cdnow):
    """log L = log Gamma(r+x) - log Gamma(r) + r log alpha + s log beta
    + log[(alpha+T)^-(r+x) (beta+T)^-s + s int_{t_x}^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du], by quadrature."""
    r, alpha, s, beta = fitted[ParetoNBD].params_
    rows = cdnow.iloc[::97]
    ref = []
    for x, tx, T in rows[["frequency", "recency", "T"]].to_numpy():
        tail = integrate.quad(lambda u: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), tx, T, epsrel=1e-12)[0]
        head = (alpha + T) ** -(r + x) * (beta + T) ** -s
        ref.append(math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
                   + math.log(head + s * tail))
    np.testing.assert_allclose(fitted[ParetoNBD].individual_log_likelihood(rows), ref, rtol=1e-10)


def test_gamma_gamma_published_cdnow(fitted):
    """Fader & Hardie 2013 (domain.md): p 6.25, q 3.74, gamma 15.44 (two decimals), LL -4055.92. gamma is
    flat: the maximum is 15.4477 (lifetimes agrees), within 0.01 of the published value."""
    m = fitted[GammaGamma]
    np.testing.assert_allclose(m.params_.to_numpy(), [6.25, 3.74, 15.44], atol=0.01)
    assert round(m.log_likelihood_, 2) == -4055.92
    assert m.n_customers_ == 946


def test_note_027_stability():
    """Hardie note 027: per-customer LL -0.59947382 (x 0) and 100.7957 (x 200, t_x 38), no overflow."""
    m = BetaGeo.from_params(r=0.25, alpha=4.0, a=0.80, b=2.50)
    history = pd.DataFrame({"frequency": [0, 200], "recency": [0.0, 38.0], "T": [40.0, 40.0]})
    with np.errstate(over="raise", invalid="raise"):
        ll = m.individual_log_likelihood(history).to_numpy()
        heavy = m.predict_purchases(10, history).to_numpy()
    assert ll[0] == pytest.approx(-0.59947382, abs=1e-8)
    assert ll[1] == pytest.approx(100.7957, abs=1e-4)
    assert np.isfinite(heavy).all()


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_predictions_match_lifetimes(fitted, cdnow, model_class):
    """Conditional expected purchases, P(alive) and a new customer's expected purchases equal lifetimes'
    formulas at the same parameters."""
    m, twin = fitted[model_class], lifetimes_twin(fitted[model_class])
    x, tx, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    for t in (1.0, 39.0, 100.0):
        ref = twin.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
        np.testing.assert_allclose(m.predict_purchases(t), ref, rtol=1e-9)
    np.testing.assert_allclose(m.probability_alive(), twin.conditional_probability_alive(x, tx, T), rtol=1e-9)
    t = np.array([0.5, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(m.expected_purchases(t), twin.expected_number_of_purchases_up_to_time(t), rtol=1e-9)


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo])
def test_purchase_count_probabilities_match_lifetimes(fitted, model_class):
    m, twin = fitted[model_class], lifetimes_twin(fitted[model_class])
    probs = m.probability_of_purchases(np.array([5.0, 39.0]), 10)
    ref = [[twin.probability_of_n_purchases_up_to_time(t, n) for n in range(11)] for t in (5.0, 39.0)]
    np.testing.assert_allclose(probs, ref, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo, GammaGamma])
def test_fit_and_standard_errors_match_lifetimes(fitted, cdnow, model_class):
    """lifetimes' fitters on the same data: parameters within 1e-4 relative, standard errors within 1e-3."""
    m = fitted[model_class]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model_class is GammaGamma:
            rep = cdnow[cdnow["frequency"] > 0]
            ref = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
        else:
            ref = LIFETIMES[model_class]().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(m.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(m.standard_errors_.to_numpy(), ref.standard_errors_.to_numpy(), rtol=1e-3)


def test_gamma_gamma_spend_formula(fitted, cdnow):
    """E[spend] = (p gamma + p x m) / (p x + q - 1), by hand for two customers, and lifetimes for all."""
    m = fitted[GammaGamma]
    p, q, g = m.params_
    spend = m.predict_spend(cdnow)
    assert spend.iloc[0] == pytest.approx((p * g + p * 2 * 22.35) / (p * 2 + q - 1))
    assert spend.loc[3] == pytest.approx(p * g / (q - 1))  # no repeat purchase: the population mean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin = GammaGammaFitter()
    twin.params_ = pd.Series(m.params_.to_numpy(), index=["p", "q", "v"])
    np.testing.assert_allclose(spend, twin.conditional_expected_average_profit(cdnow["frequency"],
                                                                               cdnow["monetary_value"]), rtol=1e-12)


def test_summary_table_and_bootstrap(fitted):
    m = fitted[BetaGeo]
    table = m.summary()
    assert list(table.columns) == ["estimate", "std_error", "lower_95", "upper_95"]
    assert (table["lower_95"] < table["estimate"]).all() and (table["estimate"] < table["upper_95"]).all()
    draws = m.sample_params(4000, seed=1)
    assert draws.equals(m.sample_params(4000, seed=1))  # seeded
    log_sd = np.log(draws).std()
    np.testing.assert_allclose(log_sd, m.standard_errors_ / m.params_, rtol=0.05)


def test_non_convergence_warns_with_the_optimiser_message(cdnow):
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        m = BetaGeo().fit(cdnow, maxiter=2, initial_params={"r": 5, "alpha": 0.5, "a": 5, "b": 0.2})
    assert not m.converged_


def test_recovery_from_the_bgnbd_process():
    """20,000 customers simulated exactly (portfolio_kit.data.sample.simulate_bgnbd): the truth lies in the 99%
    joint confidence region of the estimates."""
    truth = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 3.0}
    rng = np.random.default_rng(11)
    T = rng.integers(4, 104, 20_000).astype(float)
    events, _ = simulate_bgnbd(T, **truth, seed=rng)
    g = events.groupby("customer")["t"]
    summary = pd.DataFrame({"frequency": g.size() - 1, "recency": g.max(), "T": T})
    m = fit_bgnbd(summary)
    d = np.log(m.params_.to_numpy()) - np.log(list(truth.values()))
    assert d @ np.linalg.solve(m.covariance_.to_numpy(), d) < stats.chi2.ppf(0.99, 4)


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame({"frequency": [], "recency": [], "T": []}), "empty"),
    (pd.DataFrame({"frequency": [1], "T": [3.0]}), "missing column"),
    (pd.DataFrame({"frequency": [1.5], "recency": [1.0], "T": [3.0]}), "whole numbers"),
    (pd.DataFrame({"frequency": [1], "recency": [4.0], "T": [3.0]}), "larger than 'T'"),
    (pd.DataFrame({"frequency": [1], "recency": [np.nan], "T": [3.0]}), "missing or infinite"),
])
def test_bad_summary_gets_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        fit_bgnbd(bad)


def test_tiny_inputs():
    """One customer fits without error (a flat likelihood: a warning, not a crash); Gamma-Gamma without
    repeat buyers is a clear error; predictions need parameters."""
    one = pd.DataFrame({"frequency": [2], "recency": [5.0], "T": [8.0], "monetary_value": [10.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = fit_bgnbd(one)
    assert np.isfinite(m.log_likelihood_)
    with pytest.raises(ValueError, match="repeat buyers"):
        fit_gamma_gamma(one.assign(frequency=0))
    with pytest.raises(ValueError, match="no parameters"):
        BetaGeo().probability_alive(one)
    with pytest.raises(ValueError, match="exactly the parameters"):
        BetaGeo.from_params(r=1, alpha=1, a=1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.floats(0, 1), st.floats(0.1, 200)), min_size=1, max_size=30),
       st.sampled_from([BetaGeo, ModifiedBetaGeo, ParetoNBD]))
def test_prediction_invariants(rows, model_class):
    """P(alive) in [0, 1]; expected purchases >= 0 and increasing in t; BG/NBD: P(alive) = 1 at x = 0."""
    frame = pd.DataFrame(rows, columns=["frequency", "share", "T"])
    frame["recency"] = np.where(frame["frequency"] > 0, frame["share"] * frame["T"], 0.0)
    names = ("r", "alpha", "s", "beta") if model_class is ParetoNBD else ("r", "alpha", "a", "b")
    m = model_class.from_params(**dict(zip(names, (0.5, 6.0, 0.9, 2.5))))
    alive = m.probability_alive(frame)
    assert ((alive >= 0) & (alive <= 1)).all()
    if model_class is BetaGeo:
        assert (alive[frame["frequency"] == 0] == 1).all()
    e1, e2 = m.predict_purchases(5.0, frame), m.predict_purchases(50.0, frame)
    assert (e1 >= 0).all() and (e2 >= e1 - 1e-12).all()


@pytest.fixture(scope="module")
def continuous_summary():
    """5,000 customers simulated in continuous time (no daily resolution): every (x, t_x, T) row distinct."""
    rng = np.random.default_rng(7)
    T = rng.uniform(1.0, 365.0, 5_000) / 7.0
    events, _ = simulate_bgnbd(T, r=0.243, alpha=4.414, a=0.793, b=2.426, seed=rng)
    g = events.groupby("customer")["t"]
    summary = pd.DataFrame({"frequency": g.size() - 1, "recency": g.max(), "T": T})
    assert not summary.duplicated().any()
    return summary


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_fit_on_distinct_rows_reaches_the_lifetimes_maximum(continuous_summary, model_class):
    """Continuous-time data (no two customers alike, so no row merging): the kit's Newton / BFGS fit and
    lifetimes' fitters (BFGS; Nelder-Mead for Pareto/NBD) find the same maximum, parameters within 1e-4."""
    s = continuous_summary
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = model_class().fit(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # lifetimes' default tol (1e-4) stops Nelder-Mead early on Pareto/NBD's flat (s, beta) ridge, at a point
        # that floating-point summation order decides: a tight tol makes the reference its maximum
        tight = {"tol": 1e-8} if model_class is ParetoNBD else {}
        ref = LIFETIMES[model_class]().fit(s["frequency"], s["recency"], s["T"], **tight)
    np.testing.assert_allclose(m.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-4)
    assert m.converged_ and m.n_customers_ == len(s)
    # the kit's maximum is at least as high as lifetimes' (same log-likelihood definition)
    twin = model_class.from_params(**dict(zip(model_class.param_names, ref.params_.to_numpy())))
    assert m.log_likelihood_ >= twin.individual_log_likelihood(s).sum() - 1e-6


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_analytic_derivatives_match_finite_differences(continuous_summary, cdnow, model_class):
    """The fits' gradients (and BG/MBG Hessians) equal Richardson finite differences of the log-likelihood,
    on distinct continuous-time rows and on CDNOW's repeated rows; Pareto/NBD also with alpha < beta."""
    from portfolio_kit.clv.base import summary_arrays
    points = ([[0.55, 10.5, 0.6, 11.7], [0.3, 2.0, 1.5, 30.0], [0.5, 12.0, 0.8, 3.0]] if model_class is ParetoNBD
              else [[0.3, 4.0, 0.8, 2.4], [0.6, 7.0, 1.2, 1.5]])
    m = model_class()
    for summary in (continuous_summary.iloc[:1500], cdnow):
        d = m._prepare(summary_arrays(summary, m.columns))
        for theta in np.array(points):
            out = m._loglik(theta, d, "hess" if m.has_hessian else "grad")

            def fd(f, rel):
                steps = np.diag(theta * rel)
                return np.array([(8 * (f(theta + e) - f(theta - e)) - (f(theta + 2 * e) - f(theta - 2 * e)))
                                 / (12 * e.sum()) for e in steps]).T
            grad = fd(lambda t: m._loglik(t, d, "sum"), 1e-3)
            np.testing.assert_allclose(out[1], grad, atol=1e-7 * np.abs(grad).max())
            assert m._loglik(theta, d, "rows") @ d.w == pytest.approx(out[0], rel=1e-12)
            if m.has_hessian:
                hess = fd(lambda t: m._loglik(t, d, "grad")[1], 1e-4)
                np.testing.assert_allclose(out[2], hess, atol=1e-7 * np.abs(hess).max())


def test_unique_rows_fast_paths_agree_with_factorizing():
    """Row hashing (all-distinct shortcut, hashed factorize) gives the same grouping as factorizing each
    column, including -0.0 == 0.0."""
    from portfolio_kit.clv.base import unique_rows, unique_rows_exact_first
    rng = np.random.default_rng(3)
    for trial in range(50):
        n = int(rng.integers(1, 400))
        x = rng.integers(0, 3, n).astype(float)
        y = rng.uniform(size=n) if trial % 2 else rng.integers(0, 4, n) * 0.5
        z = rng.choice([0.0, -0.0, 1.0], n)
        first, inverse = unique_rows(x, y, z)
        ref_first, ref_inverse = unique_rows_exact_first((x, y, z))
        np.testing.assert_array_equal(first, ref_first)
        np.testing.assert_array_equal(inverse, ref_inverse)
