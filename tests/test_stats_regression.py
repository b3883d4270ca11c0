"""Tests of portfolio_kit.stats.regression: the design matrix (transforms, standardisation on the training rows,
treatment dummies against the reference level, unseen and missing levels, features without variation), the logit
fit against statsmodels, and the coefficient table."""

from __future__ import annotations

import doctest
import logging

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from portfolio_kit.stats import regression
from portfolio_kit.stats.regression import Design, coefficient_table, fit_logit

TRAIN = pd.DataFrame({"amount": [1.0, 3.0, np.nan, 4.0], "orders": [0.0, 2.0, 6.0, -5.0], "new": [1.0, 0.0, 0.0, 1.0],
                      "sector": ["Retail", "Food", "Retail", None], "size": ["S", "S", "S", "S"]})


def test_dummies_against_the_most_frequent_level_the_others_sorted():
    design = Design([], ["sector"]).fit(TRAIN)
    assert design.levels_ == {"sector": ["Retail", "(unknown)", "Food"]}
    X = design.matrix(TRAIN)
    assert list(X.columns) == ["const", "sector[(unknown)]", "sector[Food]"]
    assert X["sector[Food]"].tolist() == [0, 1, 0, 0] and X["sector[(unknown)]"].tolist() == [0, 0, 0, 1]
    chosen = Design([], ["sector"], reference={"sector": "Food"}).fit(TRAIN)
    assert chosen.levels_["sector"] == ["Food", "(unknown)", "Retail"]
    assert chosen.scales() == {"sector[(unknown)]": "vs Food", "sector[Retail]": "vs Food"}


def test_an_unseen_level_scores_as_the_reference(caplog):
    design = Design([], ["sector"]).fit(TRAIN)
    with caplog.at_level(logging.WARNING, logger="portfolio_kit.stats.regression"):
        X = design.matrix(pd.DataFrame({"sector": ["Mining", "Food"]}), constant=False)
    assert X.values.tolist() == [[0, 0], [0, 1]]
    assert "1 row(s) with levels not seen in training (['Mining']) scored as 'Retail'" in caplog.text


def test_numeric_transforms_use_the_training_rows():
    design = Design({"amount": "linear", "orders": "log", "new": "flag"}).fit(TRAIN)
    amount = np.array([1.0, 3.0, 4.0])
    logged = np.log1p(np.array([0.0, 2.0, 6.0, 0.0]))                            # negatives count as 0
    assert design.scale_["amount"] == pytest.approx((amount.mean(), amount.std()))
    assert design.scale_["orders"] == pytest.approx((logged.mean(), logged.std()))
    assert design.scale_["new"] == (0.0, 1.0)
    X = design.matrix(pd.DataFrame({"amount": [np.nan, 5.0], "orders": [2.0, 0.0], "new": [np.nan, 1.0]}))
    assert X["amount"].tolist() == pytest.approx([0.0, (5 - amount.mean()) / amount.std()])   # missing: the mean
    assert X["orders"].iloc[0] == pytest.approx((np.log(3) - logged.mean()) / logged.std())
    assert X["new"].tolist() == [0.0, 1.0]
    assert design.scales() == {"amount": "per SD", "orders": "per SD of log(1 + x)", "new": "yes vs no"}
    raw = Design(["amount", "orders"]).fit(TRAIN).matrix(TRAIN, constant=False)  # a sequence: as they are
    pd.testing.assert_frame_equal(raw, TRAIN[["amount", "orders"]])


def test_features_without_variation_are_left_out_when_asked(caplog):
    train = TRAIN.assign(flat=2.0)
    kept = Design(["flat"], ["size"]).fit(train)
    assert list(kept.matrix(train).columns) == ["const", "flat"] and kept.levels_ == {"size": ["S"]}
    with caplog.at_level(logging.INFO, logger="portfolio_kit.stats.regression"):
        dropped = Design({"flat": "linear", "amount": "linear"}, ["size"], drop_constant=True, name="M").fit(train)
    assert list(dropped.matrix(train).columns) == ["const", "amount"]
    assert "M: 'flat' has no variation" in caplog.text and "M: 'size' has a single level (S)" in caplog.text


def test_design_input_errors():
    with pytest.raises(ValueError, match="transforms must be one of"):
        Design({"amount": "square"})
    with pytest.raises(ValueError, match="reference: \\['region'\\] not among the categorical"):
        Design([], ["sector"], reference={"region": "North"})
    with pytest.raises(ValueError, match="'Mining' is not a level of 'sector'"):
        Design([], ["sector"], reference={"sector": "Mining"}).fit(TRAIN)
    with pytest.raises(ValueError, match="missing column\\(s\\) \\['region'\\] of the model"):
        Design([], ["region"]).fit(TRAIN)
    with pytest.raises(ValueError, match="call fit"):
        Design(["amount"]).matrix(TRAIN)
    with pytest.raises(ValueError, match="missing column\\(s\\) \\['amount'\\]"):
        Design(["amount"]).fit(TRAIN).matrix(TRAIN.drop(columns="amount"))


def test_fit_logit_is_statsmodels_logit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = (rng.random(200) < 1 / (1 + np.exp(-(0.5 + x)))).astype(float)
    X = pd.DataFrame({"const": 1.0, "x": x})
    result = fit_logit(y, X)
    expected = sm.Logit(y, X).fit(disp=0)
    assert result.params.to_numpy() == pytest.approx(expected.params.to_numpy())
    table = coefficient_table(result)
    low, high = np.exp(expected.conf_int()).T.to_numpy()
    assert table["term"].tolist() == ["const", "x"]
    assert table["odds_ratio_low"].to_numpy() == pytest.approx(low)
    assert table["odds_ratio_high"].to_numpy() == pytest.approx(high)
    assert list(coefficient_table(result, "hazard_ratio").columns)[-3:] == ["hazard_ratio", "hazard_ratio_low",
                                                                            "hazard_ratio_high"]
    with pytest.raises(ValueError, match="M: the features \\['x', 'x2'\\] are collinear"):
        fit_logit(y, X.assign(x2=2 * X["x"]), name="M")


def test_docstring_examples():
    assert doctest.testmod(regression).failed == 0
