"""Expected credit loss: the published provision matrix examples, a hand-worked ledger and its roll rates."""

from __future__ import annotations

import doctest
import logging

import numpy as np
import pandas as pd
import pytest

from portfolio_kit.credit import ecl
from portfolio_kit.credit.ecl import (customer_ecl, ecl_by_bucket, historical_loss_rates, loss_rates_from_profile,
                                      provision_matrix, roll_rate_matrix, roll_rates)

from .payments_ledgers import make_invoices

BUCKETS = ["current", "1-30", "31-60", "61-90", "91+"]
AS_OF = "2025-12-31"
# cohort: due in (2022-12-31, 2024-12-31], i.e. 24 months up to AS_OF - 365 days


# --------------------------------------------------------------------------------------------- published examples
def test_ifrscommunity_profile_gives_its_loss_rates_and_allowance():
    # IFRScommunity.com, "IFRS 9 example: lifetime ECL for trade receivables using a provision matrix": sales of
    # 100,000, paid on time 50,000, 1-30 days late 27,000, 31-60 15,000, 61-90 6,000, never 2,000
    rates = loss_rates_from_profile([50_000, 27_000, 15_000, 6_000, 0], 2_000)
    np.testing.assert_allclose(rates, [0.02, 0.04, 2_000 / 23_000, 0.25, 1.0])
    assert [round(r * 100, 1) for r in rates] == [2.0, 4.0, 8.7, 25.0, 100.0]
    matrix = provision_matrix([300_000, 140_000, 60_000, 23_000, 5_000], rates)
    assert matrix["bucket"].tolist() == BUCKETS
    assert matrix["ecl"].sum() == pytest.approx(27_567.39, abs=0.005)
    assert round(matrix["ecl"].sum()) == 27_567
    assert matrix["ecl"].round().tolist() == [6_000, 5_600, 5_217, 5_750, 5_000]


def test_ifrs9_illustrative_example_12_provision_matrix():
    # IFRS 9 Illustrative Examples, Example 12: 30 million of receivables by bucket
    matrix = provision_matrix([15_000_000, 7_500_000, 4_000_000, 2_500_000, 1_000_000],
                              [0.003, 0.016, 0.036, 0.066, 0.106])
    np.testing.assert_allclose(matrix["ecl"], [45_000, 120_000, 144_000, 165_000, 106_000], atol=1e-6)
    assert matrix["ecl"].sum() == pytest.approx(580_000, abs=1e-6)
    assert matrix["adjusted_loss_rate"].tolist() == matrix["loss_rate"].tolist()


def test_profile_keeps_the_bucket_labels_of_a_series():
    profile = pd.Series([50_000, 27_000, 15_000, 6_000, 0.0], index=BUCKETS)
    rates = loss_rates_from_profile(profile, 2_000)
    assert rates.name == "loss_rate" and rates.index.tolist() == BUCKETS
    # nothing reached a bucket: no rate
    assert np.isnan(loss_rates_from_profile([10.0, 0.0], 0.0)[1])


def test_provision_matrix_forward_adjustment_caps_at_one_and_aligns_series():
    receivables = pd.Series([100.0, 50.0], index=["b", "a"])
    rates = pd.Series({"a": 0.8, "b": 0.1})
    matrix = provision_matrix(receivables, rates, forward_adjustment=0.5)
    assert matrix["bucket"].tolist() == ["b", "a"]
    np.testing.assert_allclose(matrix["adjusted_loss_rate"], [0.15, 1.0])
    np.testing.assert_allclose(matrix["ecl"], [15.0, 50.0])
    # a net credit gets no allowance; a missing rate where nothing is owed is harmless
    matrix = provision_matrix([-100.0, 0.0], [0.5, np.nan], buckets=["x", "y"])
    assert matrix["ecl"].tolist() == [0.0, 0.0]


def test_provision_matrix_errors():
    with pytest.raises(ValueError, match="forward_adjustment: expected a number above -1"):
        provision_matrix([1.0] * 5, [0.1] * 5, forward_adjustment=-1)
    with pytest.raises(ValueError, match="loss_rates: expected rates between 0 and 1"):
        provision_matrix([1.0] * 5, [2.0] * 5)
    with pytest.raises(ValueError, match=r"loss_rates: expected 5 values"):
        provision_matrix([1.0] * 5, [0.1] * 4)
    with pytest.raises(ValueError, match=r"loss_rates: no rate for bucket\(s\) \['91\+'\]"):
        provision_matrix([1.0] * 5, [0.1, 0.1, 0.1, 0.1, np.nan])
    with pytest.raises(ValueError, match=r"loss_rates: no value for bucket\(s\) \['91\+'\]"):
        provision_matrix(pd.Series([1.0] * 5, index=BUCKETS), pd.Series([0.1] * 4, index=BUCKETS[:4]))


# --------------------------------------------------------------------------------------------- a hand-worked ledger
@pytest.fixture
def book():
    """As of 2025-12-31; the cohort (due 2023-01-01 .. 2024-12-31) and today's receivables, worked by hand."""
    invoices = make_invoices([
        # the cohort: every outcome known a year after the due date
        ("I1", "A", "2024-01-01", "2024-01-31", 1000.0, "2024-01-25", None),   # early: current 1000
        ("I2", "A", "2024-02-01", "2024-03-02", 500.0, "2024-03-20", None),    # 18 days late: 1-30 500
        ("I3", "B", "2024-04-01", "2024-04-30", 400.0, "2024-06-09", None),    # 40 days late: 31-60 400
        ("I4", "B", "2024-05-01", "2024-05-31", 300.0, "2024-08-19", None),    # 80 days late: 61-90 300
        ("I5", "C", "2024-06-01", "2024-06-30", 200.0, "2024-12-28", None),    # 181 days late: 91+ 200
        ("I6", "C", "2024-07-01", "2024-07-31", 800.0, "2024-08-10", 300.0),   # 10 late: 1-30 300, 500 never
        ("I9", "B", "2024-08-31", "2024-09-30", 250.0, None, None),            # written off: 250 never
        # left out of the cohort
        ("I7", "A", "2025-05-31", "2025-06-30", 600.0, None, None),            # open, due < 365 days ago
        ("I8", "C", "2024-03-01", "2024-03-01", -100.0, None, None),           # credit note
        ("I10", "A", "2024-10-01", "2024-10-31", 150.0, None, 150.0),          # paid on an unknown date
        ("I11", "C", "2022-10-31", "2022-11-30", 90.0, None, None),            # due before the lookback
        # today's book only
        ("I12", "A", "2025-12-01", "2025-12-31", 1000.0, None, None),          # current
        ("I13", "B", "2025-11-11", "2025-12-11", 300.0, None, None),           # 20 days past due
        ("I14", "B", "2025-12-20", "2025-12-20", -500.0, None, None),          # credit note, 11 days
        ("I15", "D", "2025-10-01", "2025-10-31", 700.0, None, None),           # 61 days past due
        ("I16", "C", "2025-10-16", "2025-11-15", 100.0, None, None),           # 46 days past due
    ])
    invoices["written_off"] = invoices["invoice_id"] == "I9"
    return invoices


@pytest.fixture
def segments():
    """A and B retail, C services, D not listed (-> "(unknown)")."""
    return pd.DataFrame({"customer_id": ["A", "B", "C"], "segment": ["Retail", "Retail", "Services"]})


def test_historical_loss_rates_by_hand(book, caplog):
    with caplog.at_level(logging.INFO, logger="portfolio_kit.credit.ecl"):
        rates = historical_loss_rates(book, AS_OF)
    assert "1 invoice(s) of the cohort paid on an unknown date are left out" in caplog.text
    assert rates.columns.tolist() == ["bucket", "collected", "reached", "never_collected", "loss_rate", "invoices",
                                      "source"]
    assert rates["bucket"].tolist() == BUCKETS
    # collected: current 1000 (I1); 1-30 500 (I2) + 300 (I6); 31-60 400 (I3); 61-90 300 (I4); 91+ 200 (I5)
    np.testing.assert_allclose(rates["collected"], [1000, 800, 400, 300, 200])
    # never: the rest of I6 (500) and the written-off I9 (250); reached = 750 + collected from the bucket on
    np.testing.assert_allclose(rates["never_collected"], 750)
    np.testing.assert_allclose(rates["reached"], [3450, 2450, 1650, 1250, 950])
    np.testing.assert_allclose(rates["loss_rate"], 750 / np.array([3450, 2450, 1650, 1250, 950]))
    assert rates["invoices"].tolist() == [7] * 5
    # the same, from the profile
    np.testing.assert_allclose(loss_rates_from_profile(rates["collected"], 750), rates["loss_rate"])


def test_historical_loss_rates_lookback_and_written_off_amounts(book):
    # without a lookback limit I11 (due 2022-11-30, 90 open) joins the never collected
    rates = historical_loss_rates(book, AS_OF, lookback_months=None)
    np.testing.assert_allclose(rates["never_collected"], 840)
    assert rates["invoices"].iloc[0] == 8
    # a written-off amount rather than a flag: the same as long as it is what is open
    amounts = book.assign(written_off=np.where(book["invoice_id"] == "I9", 250.0, np.nan))
    pd.testing.assert_frame_equal(historical_loss_rates(amounts, AS_OF), historical_loss_rates(book, AS_OF))


def test_historical_loss_rates_by_segment_fall_back_to_overall(book, segments):
    rates = historical_loss_rates(book, AS_OF, by="segment", customers=segments)
    assert rates.columns.tolist() == ["segment", "bucket", "collected", "reached", "never_collected", "loss_rate",
                                      "invoices", "source"]
    table = rates.set_index(["segment", "bucket"])
    # Retail (A, B): collected 1000 / 500 / 400 / 300 / 0, never 250 (I9)
    np.testing.assert_allclose(table.loc["Retail", "reached"], [2450, 1450, 950, 550, 250])
    np.testing.assert_allclose(table.loc["Retail", "loss_rate"], 250 / np.array([2450, 1450, 950, 550, 250]))
    # Services (C): collected 0 / 300 / 0 / 0 / 200, never 500 (rest of I6)
    np.testing.assert_allclose(table.loc["Services", "reached"], [1000, 1000, 700, 700, 700])
    assert table.loc["Services", "invoices"].tolist() == [2] * 5
    # D has no cohort: nothing reached its buckets, it takes the overall rates
    overall = 750 / np.array([3450, 2450, 1650, 1250, 950])
    np.testing.assert_allclose(table.loc["(unknown)", "loss_rate"], overall)
    assert set(table.loc["(unknown)", "source"]) == {"overall"} and set(table.loc["Retail", "source"]) == {"own"}
    # with a minimum of 600 reached, Retail's 61-90 (550) and 91+ (250) take the overall rates
    rates = historical_loss_rates(book, AS_OF, by="segment", customers=segments, min_reached=600)
    retail = rates[rates["segment"] == "Retail"]
    assert retail["source"].tolist() == ["own", "own", "own", "overall", "overall"]
    np.testing.assert_allclose(retail["loss_rate"].iloc[3:], overall[3:])


def test_customer_ecl_by_hand_sums_to_the_matrix(book):
    rates = [0.01, 0.05, 0.10, 0.20, 0.50]
    table = customer_ecl(book, AS_OF, rates)
    assert table.columns.tolist() == ["customer_id", *BUCKETS, "receivables", "credit_balance", "ecl", "ecl_rate"]
    rows = table.set_index("customer_id")
    # A: current 1000 (I12) + 91+ 600 (I7) -> 10 + 300
    # C: 31-60 100 (I16) + 91+ 500 (rest of I6) - 100 (I8) + 90 (I11) = 490 -> 10 + 245
    # D: 61-90 700 (I15) -> 140
    # B: I9 written off; 1-30 300 (I13) - 500 (I14) = -200: a credit balance, no allowance
    assert rows["ecl"].to_dict() == pytest.approx({"A": 310.0, "C": 255.0, "D": 140.0, "B": 0.0})
    assert rows.loc["C", BUCKETS].tolist() == [0, 0, 100, 0, 490]
    assert rows.loc["B", "credit_balance"] == -200 and rows.loc["B", "receivables"] == 0
    assert np.isnan(rows.loc["B", "ecl_rate"]) and rows.loc["A", "ecl_rate"] == pytest.approx(310 / 1600)
    matrix = ecl_by_bucket(book, AS_OF, rates)
    assert matrix.columns.tolist() == ["bucket", "receivables", "loss_rate", "adjusted_loss_rate", "ecl"]
    np.testing.assert_allclose(matrix["receivables"], [1000, 0, 100, 700, 1090])
    np.testing.assert_allclose(matrix["ecl"], [10, 0, 10, 140, 545])
    assert table["ecl"].sum() == pytest.approx(matrix["ecl"].sum(), abs=1e-6)
    pd.testing.assert_frame_equal(matrix, provision_matrix(matrix["receivables"], rates))
    # forward-looking: every rate 10% higher
    adjusted = customer_ecl(book, AS_OF, rates, forward_adjustment=0.1)
    assert adjusted["ecl"].sum() == pytest.approx(705 * 1.1)


def test_customer_ecl_with_rates_per_segment(book, segments):
    rates = historical_loss_rates(book, AS_OF, by="segment", customers=segments)
    table = customer_ecl(book, AS_OF, rates, by="segment", customers=segments).set_index("customer_id")
    assert table["segment"].to_dict() == {"A": "Retail", "C": "Services", "D": "(unknown)", "B": "Retail"}
    # A (Retail): 1000 x 250/2450 + 600 x 250/250; C (Services): 590 x 500/700; D: 700 x overall 750/1250
    expected = {"A": 1000 * 250 / 2450 + 600, "C": 590 * 500 / 700, "D": 700 * 0.6, "B": 0.0}
    assert table["ecl"].to_dict() == pytest.approx(expected)
    matrix = ecl_by_bucket(book, AS_OF, rates, by="segment", customers=segments)
    assert matrix.columns[0] == "segment" and len(matrix) == 15
    assert matrix["ecl"].sum() == pytest.approx(table["ecl"].sum(), abs=1e-6)
    with pytest.raises(ValueError, match=r"loss_rates: with by='segment' expected a table"):
        customer_ecl(book, AS_OF, [0.1] * 5, by="segment", customers=segments)
    with pytest.raises(ValueError, match=r"several rows per bucket"):
        customer_ecl(book, AS_OF, rates)


def test_empty_cohort_and_bad_parameters(book):
    with pytest.raises(ValueError, match=r"invoices due at least default_days=365 days before as_of 2023-06-30; "
                                         r"the earliest due date found is 2022-11-30"):
        historical_loss_rates(book, "2023-06-30")
    with pytest.raises(ValueError, match="edges: expected increasing whole numbers"):
        historical_loss_rates(book, AS_OF, edges=(0, 60, 30))
    with pytest.raises(ValueError, match="edges: expected increasing whole numbers"):
        roll_rates(book, AS_OF, edges=(0, 30.5))
    with pytest.raises(ValueError, match=r"default_days: expected at least the last bucket edge \(90\)"):
        historical_loss_rates(book, AS_OF, default_days=60)
    with pytest.raises(ValueError, match="forward_adjustment: expected a number above -1"):
        customer_ecl(book, AS_OF, [0.1] * 5, forward_adjustment=-1.5)
    with pytest.raises(ValueError, match="months: expected a whole number >= 1"):
        roll_rates(book, AS_OF, months=0)
    with pytest.raises(ValueError, match=r"invoices: column 'written_off' is negative"):
        historical_loss_rates(book.assign(written_off=-1.0), AS_OF)


def test_rates_without_history_for_a_bucket_held_today(book):
    # a history where nothing was lost nor paid more than 30 days late: no rate from 31-60 on, which hold
    # 100 + 700 + 1090 today
    # 100 + 700 + 1090 today: they take the rate of 1-30, the last bucket reached, and say so
    rates = historical_loss_rates(book[book["invoice_id"].isin(["I1", "I2"])], AS_OF)
    assert rates["loss_rate"].tolist() == [0, 0, 0, 0, 0]
    assert rates["source"].tolist() == ["own", "own", "previous bucket", "previous bucket", "previous bucket"]
    rates.loc[2:, "loss_rate"] = np.nan  # rates given without one: an error naming the buckets, not a silent 0
    with pytest.raises(ValueError, match=r"loss_rates: no rate for bucket\(s\) \['31-60', '61-90', '91\+'\]"):
        customer_ecl(book, AS_OF, rates)


# --------------------------------------------------------------------------------------------- roll rates
def test_roll_rates_on_three_invoices():
    # month ends 2024-01-31, 2024-02-29, 2024-03-31
    invoices = make_invoices([
        ("R1", "A", "2023-12-01", "2023-12-31", 100.0, None, None),            # 31 / 60 / 91 days past due
        ("R2", "A", "2024-01-10", "2024-02-09", 200.0, "2024-02-20", None),    # current at Jan 31, then paid
        ("R3", "B", "2024-02-10", "2024-03-11", 300.0, "2024-03-20", 100.0),   # issued after Jan 31
    ])
    flows = roll_rates(invoices, "2024-03-31", months=2)
    assert flows.columns.tolist() == ["from_bucket", "to_bucket", "amount", "share"]
    matrix = roll_rate_matrix(flows, "amount")
    assert matrix.index.tolist() == BUCKETS and matrix.columns.tolist() == BUCKETS + ["collected"]
    # current: R2 200 -> collected (Jan -> Feb); R3 300 (Feb) -> 100 collected, 200 in 1-30 (20 days, Mar)
    assert matrix.loc["current"].to_dict() == {"current": 0, "1-30": 200, "31-60": 0, "61-90": 0, "91+": 0,
                                               "collected": 300}
    # 31-60: R1 stays in 31-60 (60 days at Feb 29), then reaches 91+ (91 days at Mar 31)
    assert matrix.loc["31-60", ["31-60", "91+"]].tolist() == [100, 100]
    assert matrix.drop(index=["current", "31-60"]).to_numpy().sum() == 0
    shares = roll_rate_matrix(flows)
    assert shares.loc["current", ["1-30", "collected"]].tolist() == pytest.approx([0.4, 0.6])
    assert shares.loc["31-60", ["31-60", "91+"]].tolist() == pytest.approx([0.5, 0.5])
    assert shares.loc["1-30"].isna().all()
    # a write-off dated 2024-03-15 takes R1 out of 31-60 instead of into 91+; credit notes are left out:
    # 200 + 100 open at Jan 31, 300 + 100 at Feb 29
    credit = make_invoices([("R4", "B", "2024-01-05", "2024-01-05", -50.0, None, None)])
    written = pd.concat([invoices, credit], ignore_index=True).assign(
        written_off=[100.0, 0.0, 0.0, 0.0], written_off_date=pd.to_datetime(["2024-03-15", None, None, None]))
    matrix = roll_rate_matrix(roll_rates(written, "2024-03-31", months=2), "amount")
    assert matrix.columns[-1] == "written_off"
    assert matrix.loc["31-60", ["31-60", "91+", "written_off"]].tolist() == [100, 0, 100]
    assert matrix.loc["current", "collected"] == 300 and matrix.to_numpy().sum() == 700


def test_sample_client_sanity(sample_portfolio):
    invoices, as_of = sample_portfolio.invoices, sample_portfolio.as_of
    rates = historical_loss_rates(invoices, as_of, lookback_months=None)
    assert rates["loss_rate"].dropna().between(0, 1).all()
    assert rates["reached"].is_monotonic_decreasing
    rates = rates.assign(loss_rate=rates["loss_rate"].ffill())
    per_customer = customer_ecl(invoices, as_of, rates)
    matrix = ecl_by_bucket(invoices, as_of, rates)
    assert per_customer["ecl"].sum() == pytest.approx(matrix["ecl"].sum(), abs=1e-6)
    flows = roll_rates(invoices, as_of)
    totals = flows.groupby("from_bucket")["share"].sum(min_count=1).dropna()
    np.testing.assert_allclose(totals, 1.0)


def test_docstring_examples_run():
    assert doctest.testmod(ecl, optionflags=doctest.ELLIPSIS).failed == 0
