"""Tests of portfolio_kit.clv.diagnostics and portfolio_kit.report.plots.clv.

Published figures (the issue, domain.md; FHL 2005 on CDNOW, weeks 1-39 calibration, 40-78 holdout): 2,457
repeat transactions in calibration and 1,882 in the holdout, 4,339 by week 78; BG/NBD with the published
parameters (r 0.243, alpha 4.414, a 0.793, b 2.426) expects about 4,166 by week 78 (about 4% under).
Observed counts are recounted in the tests by plain pandas.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from portfolio_kit import clv  # noqa: E402
from portfolio_kit.data.datasets import (CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow,
                                         load_cdnow_summary)
from portfolio_kit.report.plots import clv as plots  # noqa: E402

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow_tx():
    return load_cdnow()


@pytest.fixture(scope="module")
def cal(cdnow_tx):
    return clv.rfm_summary(cdnow_tx, CDNOW_OBSERVATION_END, period="D", period_multiplier=7,
                           calibration_end=CDNOW_CALIBRATION_END)


@pytest.fixture(scope="module")
def model(cal):
    return clv.fit_bgnbd(cal)


@pytest.fixture(scope="module")
def tracking(cdnow_tx):
    return clv.cumulative_repeat_purchases(clv.BetaGeo.from_params(**PUBLISHED), cdnow_tx, CDNOW_OBSERVATION_END,
                                           period="D", period_multiplier=7, calibration_end=CDNOW_CALIBRATION_END)


def test_cumulative_tracking_published_cdnow(tracking, cdnow_tx):
    """Week 39: 2,457 actual; week 78: 4,339 actual and about 4,166 expected (4% under)."""
    assert len(tracking) == 78 and tracking["t"].tolist() == list(range(1, 79))
    week39, week78 = tracking.iloc[38], tracking.iloc[77]
    assert week39["period_end"] == CDNOW_CALIBRATION_END and not week39["holdout"]
    assert week39["actual"] == 2457 and week78["actual"] == 4339
    assert week78["expected"] == pytest.approx(4166, abs=1)
    assert week78["expected"] / week78["actual"] - 1 == pytest.approx(-0.04, abs=0.005)
    assert week78["period_end"] == CDNOW_OBSERVATION_END and week78["holdout"]
    # actual by week recounted by hand: distinct purchase days after each customer's first one
    days = cdnow_tx.drop_duplicates(["customer_id", "date"]).sort_values("date")
    repeat = days[days.duplicated("customer_id")]
    week = (repeat["date"] - pd.Timestamp("1997-01-01")).dt.days // 7 + 1
    np.testing.assert_array_equal(tracking["actual"], week.value_counts().sort_index().reindex(range(1, 79),
                                                                                          fill_value=0).cumsum())
    assert tracking["expected"].is_monotonic_increasing


def test_expected_tracking_by_hand(tracking, cdnow_tx):
    """Expected at week 10 = sum over customers of E[X(age)], age = (day 69 - first day) / 7, by a loop over
    the first-purchase days."""
    m = clv.BetaGeo.from_params(**PUBLISHED)
    first = cdnow_tx.groupby("customer_id")["date"].min()
    age = ((pd.Timestamp("1997-01-01") + pd.Timedelta(days=69) - first).dt.days / 7).clip(lower=0)
    expected = sum(m.expected_purchases(a) * n for a, n in age.value_counts().items())
    assert tracking.iloc[9]["expected"] == pytest.approx(expected, rel=1e-12)


def test_repeat_count_table(model, cal):
    table = clv.customers_by_repeat_count(model, cal, max_count=7)
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    counts = cal["frequency"].clip(upper=7).value_counts().sort_index()
    assert table["observed"].tolist() == counts.tolist()
    assert table["observed"].sum() == 2357 and table["expected"].sum() == pytest.approx(2357)
    # expected zeros by hand: sum_i P(X(T_i) = 0) = sum_i B(a, b) / B(a, b) (alpha / (alpha + T_i))^r
    r, alpha = model.params_[["r", "alpha"]]
    assert table.loc["0", "expected"] == pytest.approx(((alpha / (alpha + cal["T"])) ** r).sum())
    with pytest.raises(TypeError, match="purchase-count"):
        clv.customers_by_repeat_count(clv.ParetoNBD.from_params(r=1, alpha=1, s=1, beta=1), cal)


def test_holdout_table(model, cal):
    """Standard BTYD holdout table: group means by calibration frequency, bias and MAE recomputed by hand."""
    table = clv.holdout_by_frequency(model, cal, max_frequency=7)
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    predicted = model.predict_purchases(39.0, cal)
    assert table.loc["all", "customers"] == 2357
    assert table.loc["all", "actual"] == pytest.approx(1882 / 2357)
    assert table.loc["all", "bias"] == pytest.approx((predicted - cal["frequency_holdout"]).mean())
    assert table.loc["all", "mae"] == pytest.approx((predicted - cal["frequency_holdout"]).abs().mean())
    ones = cal["frequency"] == 1
    assert table.loc["1", "customers"] == ones.sum()
    assert table.loc["1", "predicted"] == pytest.approx(predicted[ones].mean())
    assert table.loc["1", "actual"] == pytest.approx(cal.loc[ones, "frequency_holdout"].mean())


def test_frequency_recency_matrices(model):
    alive = clv.probability_alive_matrix(model, T=39, max_frequency=10)
    assert alive.shape == (40, 11) and alive.index[0] == 39 and alive.index[-1] == 0
    assert np.isnan(alive.loc[0.0, 5]) and (alive[0] == 1).all()  # BG/NBD: no repeat purchase -> alive
    ref = model.probability_alive(pd.DataFrame({"frequency": [4], "recency": [20.0], "T": [39.0]})).iloc[0]
    assert alive.loc[20.0, 4] == pytest.approx(ref)
    assert (alive.iloc[:-1].diff(axis=0).iloc[1:] <= 1e-12).all().all()  # more recent -> more alive
    expected = clv.expected_purchases_matrix(model, 10, T=39, max_frequency=10)
    assert expected.loc[39.0, 10] > expected.loc[39.0, 1] > 0


def test_spend_frequency_correlation_and_warning():
    table = clv.spend_frequency_correlation(load_cdnow_summary())
    assert table.loc["pearson", "correlation"] == pytest.approx(0.1139, abs=1e-4)  # lifetimes' docs: 0.11
    assert table.loc["pearson", "customers"] == 946
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, 300)
    with pytest.warns(UserWarning, match="correlated"):
        clv.spend_frequency_correlation(pd.DataFrame({"frequency": x, "monetary_value": 10.0 * x + rng.random(300)}))


def test_compare_models(cal, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = clv.compare_models({"BG/NBD": model, "MBG/NBD": clv.ModifiedBetaGeo().fit(cal)})
    assert table.loc["BG/NBD", "aic"] == pytest.approx(8 - 2 * model.log_likelihood_)
    assert table.loc["BG/NBD", "bic"] == pytest.approx(4 * np.log(2357) - 2 * model.log_likelihood_)


def test_figures(model, cal, tracking):
    values = clv.customer_value(model, clv.fit_gamma_gamma(cal), cal, margin=0.3, n_draws=0)
    cases = [
        (plots.plot_repeat_count_fit(clv.customers_by_repeat_count(model)), "Customers by repeat purchases",
         "customers"),
        (plots.plot_holdout_by_frequency(clv.holdout_by_frequency(model, cal)), "Holdout purchases",
         "mean purchases in the holdout period"),
        (plots.plot_cumulative_tracking(tracking), "Cumulative repeat purchases", "cumulative repeat purchases"),
        (plots.plot_frequency_recency(clv.probability_alive_matrix(model)), "P(alive)",
         "recency (age at last purchase)"),
        (plots.plot_spend_frequency(cal), "Spend per purchase vs frequency", "mean spend per repeat purchase"),
        (plots.plot_value_vs_alive(values), "Customer value vs P(alive)", "CLV (discounted expected margin)"),
    ]
    for fig, title, ylabel in cases:
        ax = fig.axes[0]
        assert ax.get_title().startswith(title) and ax.get_ylabel() == ylabel
        plt.close(fig)
    fig, ax = plt.subplots()
    assert plots.plot_cumulative_tracking(tracking, ax=ax) is fig  # draws on a given Axes
    assert any(line.get_linestyle() == ":" for line in ax.get_lines())  # calibration end marked
    plt.close(fig)


def test_tracking_bad_step(cdnow_tx):
    with pytest.raises(ValueError, match="whole number of periods"):
        clv.cumulative_repeat_purchases(clv.BetaGeo.from_params(**PUBLISHED), cdnow_tx, CDNOW_OBSERVATION_END,
                                        period="D", period_multiplier=7, step=0.5)
