"""Tests of portfolio_kit.stats.scoring against brute-force definitions (all pairs for the AUC, loops for the
tables) and the Wilson interval of statsmodels."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from portfolio_kit.stats import scoring
from portfolio_kit.stats.scoring import auc, brier_score, calibration_table, classification_metrics, lift_table


def pairwise_auc(y, p) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2, over all pairs."""
    pos = [s for s, t in zip(p, y) if t == 1]
    neg = [s for s, t in zip(p, y) if t == 0]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0])),
                min_size=2, max_size=40).filter(lambda r: 0 < sum(t for t, _ in r) < len(r)))
def test_auc_equals_the_pairwise_definition(rows):
    y, p = zip(*rows)
    assert auc(y, p) == pytest.approx(pairwise_auc(y, p))


def test_brier_and_metrics_by_hand():
    y, p = [0, 1, 1, 0], [0.1, 0.8, 0.4, 0.5]
    assert brier_score(y, p) == pytest.approx((0.01 + 0.04 + 0.36 + 0.25) / 4)
    m = classification_metrics(y, p).iloc[0]
    assert m["n"] == 4 and m["events"] == 2 and m["event_rate"] == 0.5
    assert m["auc"] == pytest.approx(0.75)                                    # 3 of 4 pairs ordered right
    assert m["brier_skill"] == pytest.approx(1 - 0.165 / 0.25)


def test_calibration_table_by_hand():
    y = [0, 0, 1, 0, 1, 1, 1, 0]
    p = [0.05, 0.15, 0.15, 0.55, 0.6, 0.65, 0.95, 0.9]
    table = calibration_table(y, p, bins=2, strategy="uniform")               # [0, 0.5] and (0.5, 1]
    assert table["n"].tolist() == [3, 5]
    assert table["mean_predicted"].tolist() == pytest.approx([(0.05 + 0.15 + 0.15) / 3, (0.55 + 0.6 + 0.65 + 0.95 + 0.9) / 5])
    assert table["observed_rate"].tolist() == pytest.approx([1 / 3, 3 / 5])
    low, high = proportion_confint(3, 5, alpha=0.05, method="wilson")
    assert (table.loc[1, "observed_low"], table.loc[1, "observed_high"]) == pytest.approx((low, high))
    quantile = calibration_table(y, p, bins=4)
    assert quantile["n"].sum() == 8 and quantile["mean_predicted"].is_monotonic_increasing


def test_lift_table_by_hand():
    y = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    table = lift_table(y, p, groups=5)                                        # pairs by descending score
    assert table["events"].tolist() == [1, 1, 0, 1, 0]
    assert table["lift"].tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.3, 0, 0.5 / 0.3, 0])
    assert table["cumulative_share_of_events"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1, 1])


@pytest.mark.parametrize("y, p, message", [
    ([0, 1], [0.5], "same length"),
    ([0, 2], [0.5, 0.5], "0/1 outcomes"),
    ([0, 1], [0.5, 1.5], "probabilities"),
    ([0, np.nan], [0.5, 0.5], "missing values"),
    ([], [], "no observations"),
])
def test_bad_inputs(y, p, message):
    with pytest.raises(ValueError, match=message):
        brier_score(y, p)


def test_auc_needs_both_outcomes():
    with pytest.raises(ValueError, match="both outcomes"):
        auc([1, 1], [0.2, 0.3])
    assert np.isnan(classification_metrics([1, 1], [0.2, 0.3])["auc"].item())


def test_docstring_examples_run():
    assert doctest.testmod(scoring).failed == 0
