"""Tests of portfolio_kit.clv.rfm_summary.

References: lifetimes' ``summary_data_from_transaction_data`` (run side by side for days and weeks) and the
calibration summary shipped with lifetimes (``cdnow_customers_summary_with_transactions.csv``, 2,357 CDNOW
customers, weeks 1-39, two decimals). Holdout aggregates from domain.md / the issue: 2,457 repeat
transactions in the calibration weeks 1-39 and 1,882 in the holdout weeks 40-78. Months and quarters are
checked against a plain pandas computation with ``Series.dt.to_period``.
"""

from __future__ import annotations

import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit.clv import rfm_summary
from portfolio_kit.data.datasets import (CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow,
                                         load_cdnow_summary)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


def tx(rows, columns=("customer_id", "date", "amount")):
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def naive_summary(frame: pd.DataFrame, end, period: str) -> pd.DataFrame:
    """Frequency, recency and T by plain pandas periods (purchases only, one row per customer and period)."""
    buys = frame[(frame["amount"] >= 0) & (frame["date"] <= pd.Timestamp(end))]
    per = buys.assign(p=buys["date"].dt.to_period(period)).groupby(["customer_id", "p"])["amount"].sum()
    per = per.reset_index()
    end_p = pd.Timestamp(end).to_period(period)
    rows = {}
    for cid, g in per.groupby("customer_id"):
        first, last = g["p"].min(), g["p"].max()
        rows[cid] = {"frequency": len(g) - 1, "recency": float((last - first).n), "T": float((end_p - first).n),
                     "monetary_value": g.sort_values("p")["amount"].iloc[1:].mean() if len(g) > 1 else 0.0}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("customer_id")


def test_cdnow_reproduces_the_shipped_calibration_summary(cdnow):
    """Daily grid, 7-day multiplier: the 2,357-row summary shipped with lifetimes (2 decimals), row by row."""
    ours = rfm_summary(cdnow, CDNOW_CALIBRATION_END, period="D", period_multiplier=7)
    shipped = load_cdnow_summary()
    raw = pd.read_csv(resources.files("lifetimes.datasets").joinpath("CDNOW_sample.txt"), sep=r"\s+",
                      header=None, dtype=str)
    sequence = raw.drop_duplicates(0).set_index(0)[1].astype(int)  # shipped ID = CDNOW sample sequence number
    ours.index = sequence[ours.index].to_numpy()
    ours = ours.sort_index()
    assert len(ours) == 2357
    assert (ours.index == shipped.index).all()
    assert (ours["frequency"] == shipped["frequency"]).all()
    for col in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], shipped[col], atol=0.005 + 1e-9, rtol=0, err_msg=col)


@pytest.mark.parametrize("period, multiplier", [("D", 1), ("D", 7), ("W", 1)])
def test_cdnow_matches_lifetimes_exactly(cdnow, period, multiplier):
    """lifetimes' summary_data_from_transaction_data on the same data (days, weeks): identical values."""
    ours = rfm_summary(cdnow, CDNOW_OBSERVATION_END, period=period, period_multiplier=multiplier)
    ref = summary_data_from_transaction_data(cdnow, "customer_id", "date", monetary_value_col="amount",
                                             observation_period_end=CDNOW_OBSERVATION_END, freq=period,
                                             freq_multiplier=multiplier).sort_index()
    assert (ours.index == ref.index).all()
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-12, atol=1e-9, err_msg=col)


def test_cdnow_holdout_aggregates(cdnow):
    """Issue figures: 2,457 repeat transactions in calibration (weeks 1-39), 1,882 in the holdout (40-78)."""
    s = rfm_summary(cdnow, CDNOW_OBSERVATION_END, period="D", period_multiplier=7,
                    calibration_end=CDNOW_CALIBRATION_END)
    assert len(s) == 2357
    assert s["frequency"].sum() == 2457
    assert s["frequency_holdout"].sum() == 1882
    assert (s["duration_holdout"] == 39.0).all()
    assert s.attrs["periods_per_month"] == pytest.approx(365.25 / 12 / 7)


@pytest.mark.parametrize("period", ["M", "Q", "W", "D"])
def test_calendar_periods_match_pandas_periods(period):
    """Months and quarters (broken in lifetimes) as calendar periods, checked against dt.to_period."""
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame({"customer_id": rng.choice(list("abcdefghij"), n),
                          "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
                          "amount": rng.gamma(2.0, 50.0, n).round(2)})
    ours = rfm_summary(frame, "2024-06-15", period=period)
    expected = naive_summary(frame, "2024-06-15", period)
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_dtype=False)


def test_same_period_purchases_merge_and_hand_fixture():
    """Customer a: Jan 3 + Jan 4 (one January purchase, 15.0), Feb 20 (30.0); b: one purchase."""
    frame = tx([("a", "2024-01-03", 10.0), ("a", "2024-01-04", 5.0), ("a", "2024-02-20", 30.0),
                ("b", "2024-03-01", 8.0)])
    m = rfm_summary(frame, "2024-03-31", period="M")
    assert m.loc["a"].tolist() == [1, 1.0, 2.0, 30.0]
    assert m.loc["b"].tolist() == [0, 0.0, 0.0, 0.0]
    d = rfm_summary(frame, "2024-03-31", period="D")
    assert d.loc["a", "frequency"] == 2 and d.loc["a", "recency"] == 48 and d.loc["a", "T"] == 88
    assert d.loc["a", "monetary_value"] == pytest.approx((5.0 + 30.0) / 2)
    w = rfm_summary(frame, "2024-03-31", period="W")  # Jan 3 (Wed) and Jan 4 (Thu) share a Monday-Sunday week
    assert w.loc["a", "frequency"] == 1


def test_single_purchase_and_all_purchases_on_one_day():
    """One purchase, or several on one day: frequency 0, recency 0, T = age, monetary value 0."""
    frame = tx([("one", "2024-01-10", 100.0), ("day", "2024-02-05", 20.0), ("day", "2024-02-05", 30.0),
                ("day", "2024-02-05", 1.0)])
    s = rfm_summary(frame, "2024-03-04", period="W")
    assert s.loc["one"].tolist() == [0, 0.0, 8.0, 0.0]
    assert s.loc["day"].tolist() == [0, 0.0, 4.0, 0.0]


def test_returns_rule():
    """Returns never make a purchase period; 'net' subtracts them from the latest purchase period on or
    before them, 'ignore' drops them; a customer with returns only is left out."""
    frame = tx([("a", "2024-01-05", 100.0), ("a", "2024-02-10", 50.0), ("a", "2024-02-20", -20.0),
                ("a", "2024-03-15", -10.0), ("r", "2024-01-20", -40.0), ("b", "2024-03-01", 60.0),
                ("b", "2024-02-01", -5.0)])
    net = rfm_summary(frame, "2024-03-31", period="D")
    assert list(net.index) == ["a", "b"]  # r has returns only
    assert net.loc["a", "frequency"] == 1 and net.loc["a", "recency"] == 36  # the returns add no period
    assert net.loc["a", "monetary_value"] == pytest.approx(50.0 - 20.0 - 10.0)  # both net the Feb 10 purchase
    assert net.loc["b", "monetary_value"] == 0.0  # b's return precedes its first purchase: dropped
    ignore = rfm_summary(frame, "2024-03-31", period="D", returns="ignore")
    assert ignore.loc["a", "monetary_value"] == 50.0


def test_margin_rate_and_holdout_columns():
    frame = tx([("a", "2024-01-05", 100.0, 30.0), ("a", "2024-02-10", 50.0, 10.0), ("a", "2024-04-02", 80.0, 8.0),
                ("a", "2024-04-20", 20.0, 2.0), ("b", "2024-04-10", 10.0, 1.0)],
               columns=("customer_id", "date", "amount", "margin"))
    s = rfm_summary(frame, "2024-06-30", period="M", calibration_end="2024-03-31")
    assert list(s.index) == ["a"]  # b's first purchase is in the holdout
    assert s.loc["a", "margin_rate"] == pytest.approx(40.0 / 150.0)
    assert s.loc["a", "frequency_holdout"] == 1  # April purchases merge into one period
    assert s.loc["a", "monetary_value_holdout"] == 100.0
    assert s.loc["a", "duration_holdout"] == 3.0
    assert s.loc["a", "T"] == 2.0


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame(columns=["customer_id", "date", "amount"]).astype({"date": "datetime64[ns]"}), "empty"),
    (pd.DataFrame({"customer_id": ["a"], "amount": [1.0]}), "missing column"),
    (pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": [1.0]}), "must hold dates"),
    (pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime([None]), "amount": [1.0]}), "missing dates"),
    (pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-01-01"]), "amount": [np.nan]}),
     "missing values"),
    (pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2025-01-01"]), "amount": [1.0]}), "no purchase"),
])
def test_bad_input_gets_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        rfm_summary(bad, "2024-12-31")


def test_bad_parameters():
    frame = tx([("a", "2024-01-05", 1.0)])
    with pytest.raises(ValueError, match="period must be"):
        rfm_summary(frame, "2024-12-31", period="Y")
    with pytest.raises(ValueError, match="after observation_end"):
        rfm_summary(frame, "2024-06-30", calibration_end="2024-12-31")
    with pytest.raises(ValueError, match="returns must be"):
        rfm_summary(frame, "2024-12-31", returns="drop")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 400), st.floats(-50, 500, allow_nan=False)),
                min_size=1, max_size=40),
       st.sampled_from(["D", "W", "M", "Q"]))
def test_invariants(rows, period):
    """0 <= recency <= T; frequency <= recency in periods; frequency + 1 = distinct purchase periods."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["date"] = pd.Timestamp("2023-01-01") + pd.to_timedelta(frame["day"], "D")
    if not (frame["amount"] >= 0).any():
        with pytest.raises(ValueError, match="no purchase"):
            rfm_summary(frame, "2024-02-05", period=period)
        return
    s = rfm_summary(frame, "2024-02-05", period=period)
    assert (s["recency"] >= 0).all() and (s["recency"] <= s["T"]).all()
    assert (s["frequency"] <= s["recency"]).all()
    expected = naive_summary(frame, "2024-02-05", period)
    assert (s["frequency"] == expected["frequency"]).all()
    assert (s["T"] == expected["T"]).all()
