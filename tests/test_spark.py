"""Tests of portfolio_kit.engines.spark: the Spark engine equals the pandas references (and the DuckDB engine).

References: the pandas functions themselves (``clv.rfm_summary``, ``segmentation.customer_summary``,
``overview.revenue_by_period``, ``concentration.concentration_over_time``, ``payments.aging``,
``payments.payment_profile``) on the sample client written to Parquet, compared with
``assert_frame_equal(check_exact=False, rtol=1e-9)`` (only summation order may differ); a hand-made edge-case
ledger whose expected figures are computed in the test by hand (week grids Monday-Sunday, netted returns,
partial and undated payments, a credit note, a payment after as_of, an invoice issued after it).

One local Spark session (``local[2]``) serves the whole module: starting it takes ~12 s.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

from portfolio_kit import engines  # noqa: E402
from portfolio_kit.clv import rfm_summary  # noqa: E402
from portfolio_kit.concentration import concentration_over_time  # noqa: E402
from portfolio_kit.engines import spark as engine  # noqa: E402
from portfolio_kit.data import load_portfolio  # noqa: E402
from portfolio_kit.overview import revenue_by_period  # noqa: E402
from portfolio_kit.payments import aging, payment_profile  # noqa: E402
from portfolio_kit.products import customer_lines  # noqa: E402
from portfolio_kit.segmentation import customer_summary  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")

NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    assert got.attrs == expected.attrs


@pytest.fixture(scope="module")
def spark():
    session = engine.local_session(2, shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duckdb_engine():
    """The DuckDB engine when it is there (compared too), else None."""
    try:
        from portfolio_kit.engines import duckdb as module
    except ImportError:
        return None
    return module


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample client: canonical frames, and their rows as Parquet (transactions: a list of two files,
    invoices: a folder of two files), written as the staging step writes them."""
    portfolio = load_portfolio(Path(__file__).parents[1] / "data" / "sample" / "portfolio.yaml")
    folder = tmp_path_factory.mktemp("sample")
    files = {}
    for table in ("transactions", "invoices"):
        frame = getattr(portfolio, table)
        (folder / table).mkdir()
        half = len(frame) // 2
        files[table] = [folder / table / f"part-{i:05d}.parquet" for i in range(2)]
        frame.iloc[:half].to_parquet(files[table][0], index=False)
        frame.iloc[half:].to_parquet(files[table][1], index=False)
    files["invoices"] = folder / "invoices"
    return portfolio, files


def check(function: str, reference, rows, parquet, duckdb_engine, spark, *args, **kwargs) -> pd.DataFrame:
    """Spark on the Parquet rows == pandas reference on the frame (== DuckDB on the Parquet rows, when present)."""
    expected = reference(rows, *args, **kwargs)
    got = getattr(engine, function)(parquet, *args, session=spark, **kwargs)
    assert_same(got, expected)
    if duckdb_engine is not None:
        assert_same(getattr(duckdb_engine, function)(parquet, *args, **kwargs), got)
    return got


# --------------------------------------------------------------------------------------------- sample client
@pytest.mark.parametrize("args, kwargs", [
    (("2026-10-31", "W", "2026-04-30"), {}),
    (("2026-10-31", "M"), {}),
    (("2026-10-31", "D", "2026-03-31"), {"period_multiplier": 7, "returns": "ignore"}),
])
def test_rfm_summary_equals_reference(sample, duckdb_engine, spark, args, kwargs):
    portfolio, files = sample
    got = check("rfm_summary", rfm_summary, portfolio.transactions, files["transactions"], duckdb_engine, spark,
                *args, **kwargs)
    assert got["frequency"].sum() > 0 and got.index.is_monotonic_increasing


@pytest.mark.parametrize("as_of, start", [("2026-10-31", None), (None, "2025-01-01")])
def test_customer_lines_equals_reference(sample, duckdb_engine, spark, as_of, start):
    portfolio, files = sample
    got = check("customer_lines", customer_lines, portfolio.transactions, files["transactions"], duckdb_engine, spark,
                as_of, start=start)
    assert got["purchases"].sum() > 0 and got["customer_id"].is_monotonic_increasing


@pytest.mark.parametrize("with_customers, as_of, start", [(True, "2026-10-31", None), (False, None, "2025-01-01")])
def test_customer_summary_equals_reference(sample, duckdb_engine, spark, with_customers, as_of, start):
    portfolio, files = sample
    customers = portfolio.customers if with_customers else None
    got = check("customer_summary", customer_summary, portfolio.transactions, files["transactions"], duckdb_engine,
                spark, customers, as_of, start=start)
    if with_customers:
        assert got.index.equals(pd.Index(sorted(portfolio.customers["customer_id"]), name="customer_id"))
    else:
        assert got["first_purchase"].min() >= pd.Timestamp(start)


@pytest.mark.parametrize("freq, by", [("Q", "sector"), ("W", "product")])
def test_revenue_by_period_equals_reference(sample, duckdb_engine, spark, freq, by):
    portfolio, files = sample
    got = check("revenue_by_period", revenue_by_period, portfolio.transactions, files["transactions"],
                duckdb_engine, spark, portfolio.customers, freq, by)
    assert got["transactions"].sum() == len(portfolio.transactions)


@pytest.mark.parametrize("freq, value, options", [("Q", "margin", {"top_n": (1, 5)})])
def test_concentration_over_time_equals_reference(sample, duckdb_engine, spark, freq, value, options):
    portfolio, files = sample
    check("concentration_over_time", concentration_over_time, portfolio.transactions, files["transactions"],
          duckdb_engine, spark, freq, value, **options)


@pytest.mark.parametrize("as_of, by, edges, origin", [
    ("2026-10-31", "customer_id", (0, 30, 60, 90), "due"),
    ("2026-06-30", "sector", (30, 60, 90), "issue"),
])
def test_aging_equals_reference(sample, duckdb_engine, spark, as_of, by, edges, origin):
    portfolio, files = sample
    got = check("aging", aging, portfolio.invoices, files["invoices"], duckdb_engine, spark, as_of, by,
                portfolio.customers, edges, origin)
    assert got["total"].sum() > 0


def test_payment_profile_equals_reference(sample, duckdb_engine, spark):
    """The order of customers tied on profile and avg_days_late (hundreds here) is the reference's."""
    portfolio, files = sample
    got = check("payment_profile", payment_profile, portfolio.invoices, files["invoices"], duckdb_engine, spark,
                "2026-10-31", 12, 3, min_invoices=2, worsening_days=5.0)
    assert got.duplicated(["profile", "avg_days_late"]).sum() > 100


def test_dispatch_runs_spark_with_the_given_session(sample, spark):
    """Through :mod:`portfolio_kit.engines`: the total aging row and yearly concentration of the amount."""
    portfolio, files = sample
    got = engines.aging(files["invoices"], "2026-10-31", engine="spark", session=spark)
    assert_same(got, aging(portfolio.invoices, "2026-10-31"))
    got = engines.concentration_over_time(files["transactions"], engine="spark", session=spark)
    assert_same(got, concentration_over_time(portfolio.transactions))
    assert spark.conf.get(NANOS_AS_LONG, None) in (None, "false")  # the session's setting is restored


# --------------------------------------------------------------------------------------------- edge cases
@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """Hand-made rows (pandas 3 writes these timestamps as microseconds: Spark reads them as TIMESTAMP_NTZ)."""
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c", "c", "d", "d", "e", "e"],
        "date": pd.to_datetime(["2024-01-07 10:00", "2024-01-08 00:00", "2024-01-09 23:59", "2024-01-03 00:00",
                                "2023-12-31 00:00", "2024-01-01 00:00", "1969-12-29 00:00", "2024-02-05 00:00",
                                "2024-01-31 08:00", "2024-01-31 18:00"]),
        "amount": [100.0, 50.0, -80.0, -20.0, 30.0, -45.0, 10.0, 5.0, 7.0, 0.0],
        "margin": [10.0, 5.0, -8.0, -2.0, 3.0, -4.5, 1.0, 0.5, 0.7, 0.0],
    })
    inv = pd.DataFrame({
        "invoice_id": ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8"],
        "customer_id": ["a", "a", "b", "b", "c", "c", "d", "e"],
        "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15", "2024-03-01", "2024-01-10",
                                      "2024-02-10", "2024-04-01", "2024-01-05"]),
        "due_date": pd.to_datetime(["2024-01-31", "2024-03-02", "2024-02-14", "2024-03-31", "2024-02-09",
                                    "2024-03-11", "2024-05-01", "2024-02-04"]),
        "amount": [100.0, 200.0, 50.0, -30.0, 80.0, 80.0, 60.0, 40.0],
        "paid_date": pd.to_datetime(["2024-02-20", "2024-03-01", None, None, "2024-05-10", None, None, "2024-02-04"]),
        "paid_amount": [100.0, 120.0, 20.0, np.nan, 80.0, np.nan, np.nan, 40.0],
    })
    folder = tmp_path_factory.mktemp("ledger")
    tx.to_parquet(folder / "tx.parquet", index=False)
    inv.to_parquet(folder / "inv.parquet", index=False)
    return tx, inv, folder / "tx.parquet", folder / "inv.parquet"


def test_rfm_weeks_run_monday_to_sunday_and_returns_net_to_the_latest_purchase_week(ledger, spark):
    tx, _, path, _ = ledger
    got = engine.rfm_summary(path, "2024-03-31", "W", "2024-01-31", session=spark)
    assert_same(got, rfm_summary(tx, "2024-03-31", "W", "2024-01-31"))

    def monday(day: str) -> dt.date:
        d = dt.date.fromisoformat(day)
        return d - dt.timedelta(days=d.weekday())

    def weeks(a: str, b: str) -> float:
        return (monday(b) - monday(a)).days / 7

    # a: Sunday 7 Jan and Monday 8 Jan are two weeks; the return of the 9th (-80) nets into the second one
    assert got.loc["a", ["frequency", "recency", "T"]].tolist() == [1, 1.0, weeks("2024-01-07", "2024-01-31")]
    assert got.loc["a", "monetary_value"] == pytest.approx(50.0 - 80.0)
    assert got.loc["a", "margin_rate"] == pytest.approx((10 + 5 - 8) / (100 + 50 - 80))
    # c: the Monday return nets into the previous Sunday's week: -15 net, so no margin rate
    assert got.loc["c", "frequency"] == 0 and np.isnan(got.loc["c", "margin_rate"])
    # d: a purchase before 1970, the next one in the holdout; b (a return only) has no row
    assert got.loc["d", "T"] == weeks("1969-12-29", "2024-01-31")
    assert got.loc["d", ["frequency_holdout", "monetary_value_holdout"]].tolist() == [1, 5.0]
    assert "b" not in got.index


def test_rfm_quarters_on_the_edge_cases(ledger, spark):
    tx, _, path, _ = ledger
    assert_same(engine.rfm_summary(path, "2024-03-31", "Q", session=spark), rfm_summary(tx, "2024-03-31", "Q"))


def test_aging_per_customer_by_hand(ledger, spark):
    """At 15 Mar 2024: F2 has 80 of 200 open (13 days past due); F3 30 of 50 (a payment of unknown date, 30
    days); the credit note F4 is current; F5 is paid only in May (open, 35 days) and F6 is open (4 days); F7 is
    issued after as_of. Largest total first; b nets to 0 but has open items."""
    _, inv, _, path = ledger
    got = engine.aging(path, "2024-03-15", "customer_id", session=spark)
    assert_same(got, aging(inv, "2024-03-15", "customer_id"))
    expected = pd.DataFrame({"customer_id": ["c", "a", "b"], "current": [0.0, 0.0, -30.0],
                             "1-30": [80.0, 80.0, 30.0], "31-60": [80.0, 0.0, 0.0], "61-90": 0.0, "91+": 0.0,
                             "total": [160.0, 80.0, 0.0]})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_payment_profile_by_hand(ledger, spark):
    """Customer a at 30 Jun 2024: F1 paid 20 days late, F2 partly paid a day early; amount-weighted days late
    (100 x 20 + 200 x 0) / 300; index points 70 - 5 x 10/7 and 81 on the scale, amount-weighted."""
    _, inv, _, path = ledger
    got = engine.payment_profile(path, "2024-06-30", None, 0, 1, session=spark)
    assert_same(got, payment_profile(inv, "2024-06-30", None, 0, 1))
    a = got.set_index("customer_id").loc["a"]
    assert (a["invoices"], a["invoices_late"], a["max_days_late"]) == (2, 1, 20.0)
    assert a["avg_days_late"] == pytest.approx(2000 / 300)
    assert a["payment_index"] == pytest.approx((100 * (70 - 50 / 7) + 200 * 81) / 300)
    assert a["profile"] == "chronically late"


def test_inputs_give_the_same_result_and_time_zone_does_not_matter(ledger, spark):
    """A Parquet file, the pandas frame, and a Spark DataFrame of TIMESTAMP instants read in a session at UTC+14
    (wall clock in the session's zone, as Spark shows them)."""
    tx, _, path, _ = ledger
    expected = customer_summary(tx, as_of="2024-01-31 12:00")
    assert_same(engine.customer_summary(path, as_of="2024-01-31 12:00", session=spark), expected)
    assert_same(engine.customer_summary(tx, as_of="2024-01-31 12:00", session=spark), expected)
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Pacific/Kiritimati")
    try:
        instants = spark.read.parquet(str(path)).withColumn("date", F.col("date").cast("timestamp"))
        assert_same(engine.customer_summary(instants, as_of="2024-01-31 12:00", session=spark), expected)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert expected.loc["e", "lines"] == 1  # the 18:00 line is after as_of (12:00)


def test_bad_input_is_named(ledger, spark):
    tx, inv, _, _ = ledger
    with pytest.raises(ValueError, match="period must be one of"):
        engine.rfm_summary(tx, "2024-03-31", "Y", session=spark)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['amount'\]"):
        engine.revenue_by_period(tx.drop(columns="amount"), session=spark)
    with pytest.raises(ValueError, match="column 'amount' has 1 missing values"):
        engine.rfm_summary(tx.assign(amount=tx["amount"].where(tx.index != 3)), "2024-03-31", session=spark)
    late_due = inv.assign(due_date=inv["due_date"].where(inv["invoice_id"] != "F6", pd.Timestamp("2024-01-01")))
    with pytest.raises(ValueError, match="'due_date' is before 'issue_date' for 1 invoice.*'F6'"):
        engine.aging(late_due, "2024-03-31", session=spark)
