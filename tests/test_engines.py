"""Tests of portfolio_kit.engines: the DuckDB engine gives the pandas reference's tables, and the dispatch.

Every engine result is compared with the pandas reference function on the same rows (same index, columns,
dtypes and order; floats to 1e-9 relative): on the sample client's canonical frames written to Parquet (three
files per table, so row order across files matters), on CDNOW (master cohort, 69,659 rows), on a hand-made
ledger whose figures are worked out below, and on random rows (hypothesis). The published CDNOW figures of
domain.md are checked through the engine too.
"""

from __future__ import annotations

import sys
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_kit import clv, concentration, engines, overview, payments, products, segmentation
from portfolio_kit.data.datasets import (CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow,
                                         load_cdnow_summary)
from portfolio_kit.data import load_portfolio

SAMPLE_AS_OF = "2026-10-31"


def assert_same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-9)


def write_parts(frame: pd.DataFrame, folder, parts: int = 3) -> list:
    """``frame`` as ``parts`` Parquet files of consecutive rows (as the staged load writes them)."""
    folder.mkdir()
    bounds = np.linspace(0, len(frame), parts + 1).astype(int)
    paths = [folder / f"part-{i}.parquet" for i in range(parts)]
    for path, lo, hi in zip(paths, bounds[:-1], bounds[1:]):
        frame.iloc[lo:hi].to_parquet(path, index=False)
    return paths


@pytest.fixture(scope="module")
def sample():
    return load_portfolio("data/sample/portfolio.yaml")


@pytest.fixture(scope="module")
def sample_files(sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("staged")
    return {table: write_parts(getattr(sample, table), root / table) for table in ("transactions", "invoices")}


@pytest.fixture(scope="module")
def cdnow_master(tmp_path_factory):
    frame = load_cdnow("master")
    path = tmp_path_factory.mktemp("cdnow") / "master.parquet"
    frame.to_parquet(path, index=False)
    return frame, path


# --------------------------------------------------------------------------------------------- sample client
@pytest.mark.parametrize("period, calibration_end, options", [
    ("W", None, {}),
    ("W", "2026-03-29", {}),                                  # a Sunday: weeks Monday-Sunday
    ("D", "2026-03-31", {"period_multiplier": 7}),
    ("M", "2025-12-31", {"returns": "ignore"}),
    ("Q", "2025-12-31", {}),
])
def test_rfm_summary_equals_pandas_on_the_sample(sample, sample_files, period, calibration_end, options):
    ref = clv.rfm_summary(sample.transactions, SAMPLE_AS_OF, period, calibration_end, **options)
    got = engines.rfm_summary(sample_files["transactions"], SAMPLE_AS_OF, period, calibration_end, engine="duckdb",
                              **options)
    assert_same(got, ref)
    assert got.attrs == ref.attrs


@pytest.mark.parametrize("as_of, start", [(None, None), ("2026-06-30", "2025-01-01")])
def test_customer_summary_equals_pandas_on_the_sample(sample, sample_files, as_of, start):
    for customers in (None, sample.customers):
        ref = segmentation.customer_summary(sample.transactions, customers, as_of, start=start)
        got = engines.customer_summary(sample_files["transactions"], customers, as_of, start=start, engine="duckdb")
        assert_same(got, ref)


@pytest.mark.parametrize("as_of, start", [(None, None), ("2026-06-30", "2025-01-01")])
def test_customer_lines_equals_pandas_on_the_sample(sample, sample_files, as_of, start):
    ref = products.customer_lines(sample.transactions, as_of, start=start)
    assert_same(engines.customer_lines(sample_files["transactions"], as_of, start=start, engine="duckdb"), ref)
    assert_same(engines.customer_lines(sample.transactions.drop(columns="margin"), as_of, start=start,
                                       engine="duckdb"), ref.drop(columns="margin"))


def test_customer_lines_edge_cases_by_hand():
    tx = EDGE_TX.assign(product=["p", "p", "q", None, "p", "q", "q", "q", "p"])
    got = engines.customer_lines(tx, "2024-03-31", engine="duckdb")
    assert_same(got, products.customer_lines(tx, "2024-03-31"))
    # a: p 100 - 150 (one purchase day), q 30; b: p -20 only; c: q 0 + 50 - 10 (one purchase day, 17 Jan), p -5
    assert got[["customer_id", "product"]].values.tolist() == [["a", "p"], ["a", "q"], ["b", "p"], ["c", "p"],
                                                               ["c", "q"]]
    assert got["revenue"].tolist() == pytest.approx([-50.0, 30.0, -20.0, -5.0, 40.0])
    assert got["purchases"].tolist() == [1, 1, 0, 0, 1]
    with pytest.raises(ValueError, match="no 'product' column"):
        engines.customer_lines(EDGE_TX, engine="duckdb")


@pytest.mark.parametrize("freq, by", [("M", None), ("W", "channel"), ("Q", "sector"), ("Y", "size_class")])
def test_revenue_by_period_equals_pandas_on_the_sample(sample, sample_files, freq, by):
    ref = overview.revenue_by_period(sample.transactions, sample.customers, freq, by)
    assert_same(engines.revenue_by_period(sample_files["transactions"], sample.customers, freq, by, engine="duckdb"),
                ref)


@pytest.mark.parametrize("freq, value", [("Y", "amount"), ("Q", "margin"), ("M", "amount")])
def test_concentration_over_time_equals_pandas_on_the_sample(sample, sample_files, freq, value):
    ref = concentration.concentration_over_time(sample.transactions, freq, value, top_n=(1, 5))
    got = engines.concentration_over_time(sample_files["transactions"], freq, value, top_n=(1, 5), engine="duckdb")
    assert_same(got, ref)


@pytest.mark.parametrize("as_of, by, edges, origin", [
    (SAMPLE_AS_OF, None, (0, 30, 60, 90), "due"),
    (SAMPLE_AS_OF, "customer_id", (0, 30, 60, 90), "due"),     # ties of total keep the input order
    ("2025-06-30", "sector", (0, 15, 45), "due"),
    ("2025-06-30", "customer_id", (30, 60, 90, 180), "issue"),
])
def test_aging_equals_pandas_on_the_sample(sample, sample_files, as_of, by, edges, origin):
    ref = payments.aging(sample.invoices, as_of, by, sample.customers, edges, origin)
    got = engines.aging(sample_files["invoices"], as_of, by, sample.customers, edges, origin, engine="duckdb")
    assert_same(got, ref)


@pytest.mark.parametrize("as_of, options", [
    (SAMPLE_AS_OF, {}),
    (SAMPLE_AS_OF, {"months": None, "grace_days": 0}),
    ("2025-06-30", {"months": 6, "grace_days": 10, "min_invoices": 2, "occasional_share": 0.2,
                    "chronic_share": 0.6, "chronic_days": 20.0, "worsening_days": 5.0}),
])
def test_payment_profile_equals_pandas_on_the_sample(sample, sample_files, as_of, options):
    ref = payments.payment_profile(sample.invoices, as_of, **options)
    got = engines.payment_profile(sample_files["invoices"], as_of, engine="duckdb", **options)
    assert_same(got, ref)
    assert got["profile"].cat.ordered and list(got["profile"].cat.categories) == payments.PROFILES


def test_dataframe_and_files_give_the_same(sample, sample_files):
    tx, inv = sample.transactions, sample.invoices
    assert_same(engines.rfm_summary(tx, SAMPLE_AS_OF, "W", engine="duckdb"),
                engines.rfm_summary(sample_files["transactions"], SAMPLE_AS_OF, "W", engine="duckdb"))
    assert_same(engines.payment_profile(inv, SAMPLE_AS_OF, engine="duckdb"),
                engines.payment_profile(sample_files["invoices"], SAMPLE_AS_OF, engine="duckdb"))
    assert_same(engines.aging(inv, SAMPLE_AS_OF, "customer_id", engine="duckdb"),
                engines.aging(sample_files["invoices"][0].parent, SAMPLE_AS_OF, "customer_id", engine="duckdb"))


# --------------------------------------------------------------------------------------------- CDNOW
@pytest.mark.parametrize("period, calibration_end, multiplier", [
    ("D", CDNOW_CALIBRATION_END, 7), ("W", None, 1), ("M", CDNOW_CALIBRATION_END, 1)])
def test_rfm_summary_equals_pandas_on_cdnow_master(cdnow_master, period, calibration_end, multiplier):
    frame, path = cdnow_master
    ref = clv.rfm_summary(frame, CDNOW_OBSERVATION_END, period, calibration_end, period_multiplier=multiplier)
    assert len(ref) == 23_570
    got = engines.rfm_summary(path, CDNOW_OBSERVATION_END, period, calibration_end, period_multiplier=multiplier,
                              engine="duckdb")
    assert_same(got, ref)


def test_transaction_tables_equal_pandas_on_cdnow_master(cdnow_master):
    frame, path = cdnow_master
    assert_same(engines.customer_summary(path, as_of="1998-03-31", engine="duckdb"),
                segmentation.customer_summary(frame, as_of="1998-03-31"))
    assert_same(engines.revenue_by_period(path, freq="W", engine="duckdb"), overview.revenue_by_period(frame, freq="W"))
    assert_same(engines.concentration_over_time(path, "Q", engine="duckdb"),
                concentration.concentration_over_time(frame, "Q"))


def test_cdnow_published_figures_through_the_engine():
    """domain.md: the shipped 2,357-customer calibration summary (weeks 1-39, lifetimes' dataset, 2 decimals)
    and the 78-week spend concentration (Gini 0.6309, top 20% hold 67.4%)."""
    cdnow = load_cdnow()
    ours = engines.rfm_summary(cdnow, CDNOW_CALIBRATION_END, "D", period_multiplier=7, engine="duckdb")
    shipped = load_cdnow_summary()
    raw = pd.read_csv(resources.files("lifetimes.datasets").joinpath("CDNOW_sample.txt"), sep=r"\s+", header=None,
                      dtype=str)
    sequence = raw.drop_duplicates(0).set_index(0)[1].astype(int)  # shipped ID = CDNOW sample sequence number
    ours.index = sequence[ours.index].to_numpy()
    ours = ours.sort_index()
    assert (ours.index == shipped.index).all() and (ours["frequency"] == shipped["frequency"]).all()
    for col in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], shipped[col], atol=0.005 + 1e-9, rtol=0, err_msg=col)

    spend = engines.customer_summary(cdnow, as_of=CDNOW_OBSERVATION_END, engine="duckdb")["revenue"]
    assert len(spend) == 2357
    assert concentration.gini(spend) == pytest.approx(0.6309, abs=5e-5)
    assert concentration.top_share(spend, fraction=0.2) == pytest.approx(0.674, abs=5e-4)


# --------------------------------------------------------------------------------------------- hand-made edge cases
def transactions(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


EDGE_TX = transactions([
    ("a", "2024-01-02", 100.0),   # Tue, week of Jan 1
    ("a", "2024-01-10", -150.0),  # return bigger than the purchase: nets week of Jan 1 to -50
    ("a", "2024-01-20", 30.0),    # Sat, week of Jan 15
    ("a", "2024-02-14", 40.0),    # week of Feb 12
    ("b", "2024-01-05", -20.0),   # only a credit note
    ("c", "2024-01-03", 0.0),     # zero line: a purchase period for the CLV summary, not a purchase day
    ("c", "2024-01-17", 50.0),    # Wed, week of Jan 15
    ("c", "2024-01-15", -10.0),   # Mon of the same week, before the purchase: still nets that week
    ("c", "2024-02-01", -5.0),    # holdout return without a holdout purchase: dropped there
])


def test_rfm_summary_edge_cases_by_hand():
    got = engines.rfm_summary(EDGE_TX, "2024-03-31", "W", engine="duckdb")
    assert_same(got, clv.rfm_summary(EDGE_TX, "2024-03-31", "W"))
    # a: weeks Jan 1 (100 - 150), Jan 15 (30), Feb 12 (40); Mar 31 is in the week of Mar 25 (12 weeks on)
    # c: weeks Jan 1 (0), Jan 15 (50 - 10 - 5); b never bought
    assert list(got.index) == ["a", "c"]
    assert got["frequency"].tolist() == [2, 1]
    assert got["recency"].tolist() == [6.0, 2.0] and got["T"].tolist() == [12.0, 12.0]
    assert got["monetary_value"].tolist() == pytest.approx([35.0, 35.0])

    split = engines.rfm_summary(EDGE_TX, "2024-03-31", "W", "2024-01-21", engine="duckdb")
    assert_same(split, clv.rfm_summary(EDGE_TX, "2024-03-31", "W", "2024-01-21"))
    assert split["T"].tolist() == [2.0, 2.0] and split["monetary_value"].tolist() == pytest.approx([30.0, 40.0])
    assert split["frequency_holdout"].tolist() == [1, 0]
    assert split["monetary_value_holdout"].tolist() == pytest.approx([40.0, 0.0])
    assert split["duration_holdout"].tolist() == [10.0, 10.0]


def test_customer_summary_edge_cases_by_hand():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "sector": ["x", "y", "x", "y"]})
    got = engines.customer_summary(EDGE_TX, customers, "2024-03-31", engine="duckdb")
    assert_same(got, segmentation.customer_summary(EDGE_TX, customers, "2024-03-31"))
    assert got["frequency"].tolist() == [3, 0, 1, 0]             # d: in the master, no transaction
    assert got["revenue"].tolist() == pytest.approx([20.0, -20.0, 35.0, 0.0])
    assert got["credit_amount"].tolist() == pytest.approx([150.0, 20.0, 15.0, 0.0])
    assert got.loc["a", "recency"] == 46 and got.loc["a", "tenure"] == 89  # Feb 14 / Jan 2 -> Mar 31 (leap year)
    assert got.loc[["b", "d"], "first_purchase"].isna().all()


def invoices(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount",
                                        "paid_date", "paid_amount"])
    for column in ("issue_date", "due_date", "paid_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["paid_amount"] = frame["paid_amount"].astype(float)
    return frame


EDGE_INVOICES = invoices([
    ("F1", "c1", "2024-01-01", "2024-01-31", 100.0, "2024-02-10", None),    # paid 10 days late
    ("F2", "c1", "2024-02-01", "2024-03-02", 200.0, "2024-02-20", 50.0),    # partial, 11 days early: 150 open
    ("F3", "c2", "2024-02-15", "2024-02-15", -40.0, None, None),            # open credit note, 45 days past due
    ("F4", "c2", "2024-01-10", "2024-02-09", 80.0, "2024-04-15", None),     # paid after as_of: open, 51 days
    ("F5", "c3", "2024-01-05", "2024-02-04", 60.0, None, 60.0),             # paid in full on an unknown date
    ("F6", "c3", "2024-02-10", "2024-03-15", 90.0, None, 30.0),             # 30 on account: 60 open, 16 days
    ("F7", "c4", "2024-04-05", "2024-05-05", 70.0, None, None),             # issued after as_of
    ("F8", "c5", "2024-03-01", "2024-03-01", -25.0, "2024-03-10", -25.0),   # settled credit note
])


def test_aging_edge_cases_by_hand():
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "sector": ["x", "y", "x"]})
    for by, edges, origin in ((None, (0, 30, 60, 90), "due"), ("customer_id", (0, 30, 60, 90), "due"),
                              ("sector", (0, 30, 60, 90), "due"), (None, (30, 60, 90), "issue")):
        assert_same(engines.aging(EDGE_INVOICES, "2024-03-31", by, customers, edges, origin, engine="duckdb"),
                    payments.aging(EDGE_INVOICES, "2024-03-31", by, customers, edges, origin))
    total = engines.aging(EDGE_INVOICES, "2024-03-31", engine="duckdb")
    # 1-30: F2 150 (29 days) + F6 60 (16 days); 31-60: F4 80 (51 days) + F3 -40 (45 days)
    assert total.iloc[0].tolist() == pytest.approx([0.0, 210.0, 40.0, 0.0, 0.0, 250.0])
    per_customer = engines.aging(EDGE_INVOICES, "2024-03-31", "customer_id", engine="duckdb")
    assert per_customer["customer_id"].tolist() == ["c1", "c3", "c2"]
    assert per_customer["total"].tolist() == pytest.approx([150.0, 60.0, 40.0])
    # by issue date: F2 59 and F3 45 and F6 50 days (31-60), F4 81 days (61-90)
    by_issue = engines.aging(EDGE_INVOICES, "2024-03-31", edges=(30, 60, 90), origin="issue", engine="duckdb")
    assert by_issue.iloc[0].tolist() == pytest.approx([0.0, 170.0, 80.0, 0.0, 250.0])


def test_payment_profile_edge_cases_by_hand():
    got = engines.payment_profile(EDGE_INVOICES, "2024-03-31", min_invoices=1, engine="duckdb")
    assert_same(got, payments.payment_profile(EDGE_INVOICES, "2024-03-31", min_invoices=1))
    # c1: F1 10 days late, F2 paid early; c2: F4 open 51 days; c3: F6 open 16 days (F5 has no known date)
    assert got["customer_id"].tolist() == ["c2", "c3", "c1"]     # all chronically late, worst average first
    assert got["invoices"].tolist() == [1, 1, 2] and got["invoices_late"].tolist() == [1, 1, 1]
    assert got["avg_days_late"].tolist() == pytest.approx([51.0, 16.0, 100 * 10 / 300])
    # index points: 10 days late -> 80 - 10 x 10/15; 11 days early -> 100 - 9
    assert got["payment_index"].iloc[2] == pytest.approx((100 * (80 - 100 / 15) + 200 * 91) / 300)


# --------------------------------------------------------------------------------------------- random rows
def random_transactions(draw_rows) -> pd.DataFrame:
    frame = pd.DataFrame(draw_rows, columns=["customer_id", "day", "amount", "margin"])
    frame["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame


tx_rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 180),
                             st.integers(-60, 100).map(float), st.integers(-20, 40).map(float)), min_size=1,
                   max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tx_rows, period=st.sampled_from(["D", "W", "M", "Q"]), split=st.integers(0, 180),
       returns=st.sampled_from(["net", "ignore"]))
def test_random_transactions_give_the_reference_tables(rows, period, split, returns):
    tx = random_transactions(rows)
    calibration_end = pd.Timestamp("2024-01-01") + pd.Timedelta(days=split)
    try:
        ref = clv.rfm_summary(tx, "2024-06-30", period, calibration_end, returns=returns)
    except ValueError as exc:                                     # e.g. no purchase before calibration_end
        with pytest.raises(ValueError, match=str(exc)[:20]):
            engines.rfm_summary(tx, "2024-06-30", period, calibration_end, returns=returns, engine="duckdb")
    else:
        assert_same(engines.rfm_summary(tx, "2024-06-30", period, calibration_end, returns=returns,
                                        engine="duckdb"), ref)
    assert_same(engines.customer_summary(tx, engine="duckdb"), segmentation.customer_summary(tx))
    assert_same(engines.revenue_by_period(tx, freq="W", engine="duckdb"), overview.revenue_by_period(tx, freq="W"))


invoice_rows = st.lists(st.tuples(
    st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 120), st.integers(0, 60),    # customer, issue, terms
    st.integers(-50, 200).filter(bool).map(float),                                   # amount (not 0)
    st.one_of(st.none(), st.integers(0, 150)),                                       # days to pay, or open
    st.sampled_from([None, 1.0, 0.5, 0.0])), min_size=1, max_size=30)               # paid share of amount


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=invoice_rows, as_of=st.integers(30, 200), by=st.sampled_from([None, "customer_id", "sector"]))
def test_random_invoices_give_the_reference_tables(rows, as_of, by):
    start = pd.Timestamp("2024-01-01")
    inv = invoices([(f"F{i}", c, start + pd.Timedelta(days=issue), start + pd.Timedelta(days=issue + terms), amount,
                     None if pay is None else start + pd.Timedelta(days=issue + pay),
                     None if share is None else share * amount)
                    for i, (c, issue, terms, amount, pay, share) in enumerate(rows)])
    as_of = start + pd.Timedelta(days=as_of)
    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "sector": ["x", "y"]})  # c3: "(unknown)"
    try:
        ref = payments.aging(inv, as_of, by, customers)
    except ValueError:                                            # nothing issued by as_of
        with pytest.raises(ValueError, match="none issued"):
            engines.aging(inv, as_of, by, customers, engine="duckdb")
        return
    assert_same(engines.aging(inv, as_of, by, customers, engine="duckdb"), ref)
    try:
        ref = payments.payment_profile(inv, as_of, months=3, min_invoices=2)
    except ValueError:
        with pytest.raises(ValueError, match="no invoice with a known lateness"):
            engines.payment_profile(inv, as_of, months=3, min_invoices=2, engine="duckdb")
    else:
        assert_same(engines.payment_profile(inv, as_of, months=3, min_invoices=2, engine="duckdb"), ref)


# --------------------------------------------------------------------------------------------- checks and dispatch
def test_bad_rows_get_the_reference_errors(tmp_path):
    bad = EDGE_INVOICES.copy()
    bad.loc[bad["invoice_id"].isin(["F2", "F6"]), "due_date"] = pd.Timestamp("2023-12-01")
    with pytest.raises(ValueError) as ref:
        payments.check_invoices(bad)
    assert "'due_date' is before 'issue_date' for 2 invoice(s) ('F2', 'F6')" in str(ref.value)
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    for rows in (bad, tmp_path / "bad.parquet"):
        with pytest.raises(ValueError) as got:
            engines.aging(rows, "2024-03-31", engine="duckdb")
        assert str(got.value) == str(ref.value)

    with pytest.raises(ValueError, match=r"missing column\(s\) \['amount'\]"):
        engines.rfm_summary(EDGE_TX.drop(columns="amount"), "2024-03-31", engine="duckdb")
    with pytest.raises(TypeError, match="'date' must be datetime64"):
        engines.customer_summary(EDGE_TX.assign(date=EDGE_TX["date"].astype(str)), engine="duckdb")
    with pytest.raises(ValueError, match="'amount' has 1 missing value"):
        engines.customer_summary(EDGE_TX.assign(amount=EDGE_TX["amount"].where(EDGE_TX.index > 0)), engine="duckdb")
    with pytest.raises(ValueError, match="period must be one of"):
        engines.rfm_summary(EDGE_TX, "2024-03-31", "Y", engine="duckdb")
    with pytest.raises(ValueError, match="edges"):
        engines.aging(EDGE_INVOICES, "2024-03-31", edges=(30, 10), engine="duckdb")
    with pytest.raises(ValueError, match="Parquet path not found"):
        engines.rfm_summary(tmp_path / "missing.parquet", "2024-03-31", engine="duckdb")


def test_choose_engine_rules(sample_files, truth):
    files = sample_files["transactions"]
    rows = engines.row_count(files)
    assert rows == truth["counts"]["transactions"]               # Parquet metadata, no rows read
    assert engines.choose_engine(pd.DataFrame()) == "pandas"      # a DataFrame is already in memory
    assert engines.choose_engine(files) == "pandas"               # few rows
    assert engines.choose_engine(files, max_rows=rows) == "pandas"
    assert engines.choose_engine(files, max_rows=rows - 1) == "duckdb"
    assert engines.choose_engine(files[0].parent, max_rows=10) == "duckdb"   # a folder of Parquet files
    assert engines.choose_engine(pd.DataFrame(), engine="duckdb") == "duckdb"  # explicit wins
    with pytest.raises(ValueError, match="'auto', 'pandas', 'duckdb', 'spark'"):
        engines.choose_engine(files, engine="polars")


def test_dispatch_pandas_reads_files_and_session_is_spark_only(sample, sample_files):
    files = sample_files["transactions"]
    assert_same(engines.rfm_summary(files, SAMPLE_AS_OF, "M"), clv.rfm_summary(sample.transactions, SAMPLE_AS_OF, "M"))
    with pytest.raises(ValueError, match="session is a SparkSession for engine='spark' only"):
        engines.rfm_summary(files, SAMPLE_AS_OF, engine="duckdb", session=object())


def test_spark_without_pyspark_says_how_to_install(monkeypatch, sample_files):
    monkeypatch.setitem(sys.modules, "pyspark", None)             # as if pyspark were not installed
    with pytest.raises(ImportError, match=r"pip install portfolio-kit\[spark\]"):
        engines.rfm_summary(sample_files["transactions"], SAMPLE_AS_OF, engine="spark")


def test_module_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import doctest
        results = doctest.testmod(engines, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.failed == 0
