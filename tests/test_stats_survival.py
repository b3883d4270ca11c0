"""Tests of portfolio_kit.stats.survival: the Kaplan-Meier curve on a 5-row example computed by hand (steps,
risk sets, Greenwood band), the flat run to the longest duration, curves without events, bad input."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from portfolio_kit.stats import survival
from portfolio_kit.stats.survival import CURVE_COLUMNS, kaplan_meier

# durations 2, 3, 3, 5, 8 with events at 2, 3 and 5; one of the two rows at 3 and the row at 8 are censored
DURATIONS, EVENTS = [2, 3, 3, 5, 8], [1, 1, 0, 1, 0]


def test_kaplan_meier_by_hand():
    curve = kaplan_meier(DURATIONS, EVENTS)
    assert tuple(curve.columns) == CURVE_COLUMNS
    assert curve["time"].tolist() == [0, 2, 3, 5]
    # S(2) = 4/5; S(3) = 4/5 x 3/4 (the censored row at 3 is still at risk at 3); S(5) = 0.6 x 1/2
    assert curve["survival"].tolist() == pytest.approx([1, 0.8, 0.6, 0.3])
    assert curve["at_risk"].tolist() == [5, 5, 4, 2] and curve["events"].tolist() == [0, 1, 1, 1]
    # Greenwood: se = S sqrt(sum d / (n (n - d)))
    se = np.array([0, 0.8 * np.sqrt(1 / 20), 0.6 * np.sqrt(1 / 20 + 1 / 12), 0.3 * np.sqrt(1 / 20 + 1 / 12 + 1 / 2)])
    assert curve["ci_low"].tolist() == pytest.approx(np.clip([1, 0.8, 0.6, 0.3] - 1.96 * se, 0, 1))
    assert curve["ci_high"].tolist() == pytest.approx(np.clip([1, 0.8, 0.6, 0.3] + 1.96 * se, 0, 1))
    assert curve["ci_low"].iloc[-1] == 0                                        # clipped at 0
    assert curve["at_risk"].dtype == curve["events"].dtype == np.int64


def test_the_curve_runs_on_to_the_longest_duration():
    curve = kaplan_meier(DURATIONS, EVENTS, to_longest=True)
    assert curve["time"].tolist() == [0, 2, 3, 5, 8]
    last = curve.iloc[-1]
    assert (last["survival"], last["at_risk"], last["events"]) == (pytest.approx(0.3), 1, 0)
    assert last["ci_high"] == curve["ci_high"].iloc[-2]                          # flat, band too
    ended = kaplan_meier([1, 2], [1, 1], to_longest=True)                        # the last row is an event
    assert ended["time"].tolist() == [0, 1, 2] and ended["survival"].iloc[-1] == 0


def test_without_events_the_curve_stays_at_one():
    assert kaplan_meier([4, 6], [0, 0])[["time", "survival", "at_risk"]].values.tolist() == [[0, 1, 2]]
    flat = kaplan_meier([4, 6], [False, False], to_longest=True)
    assert flat["time"].tolist() == [0, 6] and (flat["survival"] == 1).all()


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError, match="no rows"):
        kaplan_meier([], [])


def test_docstring_examples():
    assert doctest.testmod(survival).failed == 0
