"""Large clients: chunked validation into canonical Parquet gives exactly what the in-memory load gives
(tables, problems with their file lines, summary), and notebooks hold a seeded sample of customers' rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from portfolio_kit.data import staging
from portfolio_kit.data.config import load_config
from portfolio_kit.data import check_portfolio, load_portfolio
from .conftest import SAMPLE_DIR as SAMPLE



def _config(folder: Path, tmp_path: Path, **engine):
    cfg = load_config(folder / "portfolio.yaml")
    cfg.engine = cfg.engine.model_copy(update={"staging": tmp_path / "staged", **engine})
    return cfg


@pytest.fixture()
def small_chunks(monkeypatch):
    monkeypatch.setattr(staging, "CHUNK_ROWS", 2500)  # the sample's 11,941 lines in five chunks


def _messages(report):
    return [str(p) for p in report.problems]


def test_staged_load_equals_the_in_memory_load_on_the_sample(tmp_path, small_chunks):
    memory, memory_report = check_portfolio(_config(SAMPLE, tmp_path, name="pandas"))
    staged, staged_report = check_portfolio(_config(SAMPLE, tmp_path, name="duckdb"))
    assert staged.engine == "duckdb" and staged.sample_share == {"transactions": 1.0, "invoices": 1.0}
    for table in ("customers", "transactions", "invoices", "snapshots"):
        pd.testing.assert_frame_equal(getattr(staged, table), getattr(memory, table))
    assert _messages(staged_report) == _messages(memory_report)
    pd.testing.assert_frame_equal(pd.DataFrame(staged_report.summary), pd.DataFrame(memory_report.summary))
    files = staged.rows("transactions")
    assert len(files) == 5 and sum(pq.ParquetFile(f).metadata.num_rows for f in files) == len(memory.transactions)
    assert memory.rows("transactions") is memory.transactions
    unread, report = check_portfolio(_config(SAMPLE, tmp_path, name="duckdb"), rows=False)  # a run's check
    assert unread is None and report.ok and _messages(report) == _messages(memory_report)


def test_errors_in_later_chunks_keep_their_file_lines(tmp_path, small_chunks):
    client = tmp_path / "client"
    shutil.copytree(SAMPLE, client)
    lines = (client / "movimenti.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    for n in (100, 7000, 11800):  # file line n is lines[n - 1]; chunks hold 2,500 lines
        cells = lines[n - 1].split(";")
        lines[n - 1] = ";".join([cells[0], "32/13/2025", *cells[2:]])
    (client / "movimenti.csv").write_text("\ufeff" + "".join(lines), encoding="utf-8")
    invoices = (client / "fatture.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    rest = invoices[9000].split(";", 1)[1]
    invoices[9000] = invoices[20].split(";", 1)[0] + ";" + rest  # line 9001 repeats line 21's invoice number
    (client / "fatture.csv").write_text("\ufeff" + "".join(invoices), encoding="utf-8")
    _, memory_report = check_portfolio(_config(client, tmp_path, name="pandas"))
    staged, staged_report = check_portfolio(_config(client, tmp_path, name="duckdb"))
    assert staged is None and not memory_report.ok
    assert sorted(_messages(staged_report)) == sorted(_messages(memory_report))
    dates = [p for p in staged_report.errors if p.table == "transactions"]
    assert dates[0].rows == (100, 7000, 11800) and "32/13/2025" in dates[0].message
    duplicate = [p for p in staged_report.errors if "duplicate key" in p.message]
    assert duplicate[0].rows == (21, 9001)
    assert not list((tmp_path / "staged").glob("*/staged.json")), "a failed load must not be cached"


def test_staged_tables_are_cached_by_input_content(tmp_path):
    cfg = _config(SAMPLE, tmp_path, name="duckdb")
    first = load_portfolio(cfg)
    stamp = {f: f.stat().st_mtime_ns for f in first.files["transactions"]}
    again = load_portfolio(cfg)
    assert again.files == first.files and {f: f.stat().st_mtime_ns for f in again.files["transactions"]} == stamp
    client = tmp_path / "client"
    shutil.copytree(SAMPLE, client)
    with open(client / "movimenti.csv", "a", encoding="utf-8") as f:
        f.write("C000001;30/10/2026;1,00;0,10;Services;Direct;F2026-999999\n")
    changed = load_portfolio(_config(client, tmp_path, name="duckdb"))
    assert changed.files["transactions"][0].parent.parent != first.files["transactions"][0].parent.parent
    assert len(changed.transactions) == len(first.transactions) + 1


def test_notebooks_hold_a_seeded_sample_of_customers_within_the_limit(tmp_path):
    full = load_portfolio(_config(SAMPLE, tmp_path, name="duckdb"))
    limit = 3000
    sampled = load_portfolio(_config(SAMPLE, tmp_path, name="auto", raw_rows_limit=limit))
    assert sampled.engine == "duckdb" and sampled.sampled
    share = sampled.sample_share["transactions"]
    assert share == pytest.approx(limit / len(full.transactions))
    assert len(sampled.transactions) < 1.3 * limit
    kept = set(sampled.transactions["customer_id"])
    assert 0.15 < len(kept) / full.customers["customer_id"].nunique() < 0.35
    # every row of a kept customer, none of the others; invoices of the same customers
    expected = full.transactions[full.transactions["customer_id"].isin(kept)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sampled.transactions, expected)
    assert set(sampled.invoices["customer_id"]) == kept
    # the aggregations still see every row, and the customers and snapshots are whole
    assert sampled.files == full.files
    pd.testing.assert_frame_equal(sampled.customers, full.customers)
    again = load_portfolio(_config(SAMPLE, tmp_path, name="auto", raw_rows_limit=limit))
    pd.testing.assert_frame_equal(again.transactions, sampled.transactions)
    other = load_portfolio(_config(SAMPLE, tmp_path, name="auto", raw_rows_limit=limit, sample_seed=7))
    assert set(other.transactions["customer_id"]) != kept


def test_small_clients_stay_in_pandas_and_row_counts_are_cheap_estimates(tmp_path):
    cfg = _config(SAMPLE, tmp_path)
    assert staging.client_engine(cfg) == "pandas"
    assert staging.raw_row_count(cfg, "transactions") == pytest.approx(11941, rel=0.05)
    assert staging.client_engine(_config(SAMPLE, tmp_path, raw_rows_limit=10_000)) == "duckdb"
    assert staging.client_engine(_config(SAMPLE, tmp_path, name="pandas", raw_rows_limit=10)) == "pandas"
    assert staging.client_engine(_config(SAMPLE, tmp_path, name="spark")) == "spark"
    frame = pd.DataFrame({"customer_id": np.array(["C1"] * 7), "amount": np.ones(7)})
    frame.to_parquet(tmp_path / "t.parquet")
    cfg.tables["transactions"].path = tmp_path / "t.parquet"
    assert staging.raw_row_count(cfg, "transactions") == 7


def test_headline_figures_are_the_same_on_every_engine(tmp_path):
    """The data overview's figures from all rows: in pandas, and on DuckDB over the staged files with only a
    sample of rows in memory; checked against plain pandas sums over the sample client's canonical rows."""
    from portfolio_kit import engines, overview

    def figures(portfolio):
        summary = engines.customer_summary(portfolio.rows("transactions"), portfolio.customers, portfolio.as_of,
                                           engine=portfolio.engine)
        aging = engines.aging(portfolio.rows("invoices"), portfolio.as_of, engine=portfolio.engine)
        return overview.key_figures(portfolio, summary, aging).set_index("figure")["value"].to_dict()

    memory = load_portfolio(_config(SAMPLE, tmp_path, name="pandas"))
    staged = load_portfolio(_config(SAMPLE, tmp_path, name="auto", raw_rows_limit=3000))
    assert staged.engine == "duckdb" and staged.sampled
    expected = figures(memory)
    assert figures(staged) == expected
    tx, inv = memory.transactions, memory.invoices
    paid = inv["paid_amount"].fillna(inv["amount"].where(inv["paid_date"].notna(), 0.0))
    assert expected["transactions"] == len(tx) and expected["invoices"] == len(inv) == staged.count("invoices")
    assert expected["net_revenue"] == round(tx["amount"].sum(), 2)
    assert expected["credit_notes"] == int((tx["amount"] < 0).sum())
    assert expected["open_receivables"] == pytest.approx(round((inv["amount"] - paid).sum(), 2), abs=0.01)
