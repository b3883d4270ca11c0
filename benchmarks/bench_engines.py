"""Benchmark: the weekly CLV summary (``rfm_summary``) from N transaction lines in Parquet, on the kit's DuckDB
engine, on its pandas path, and with lifetimes' ``summary_data_from_transaction_data``.

Input per size (``--rows``, default 1M, 5M and 20M lines), generated with a fixed seed and written as Parquet
files of at most 1M rows (as the staged load writes them), sorted by date: orders of about 4 lines (one
customer, one day) on uniform days over 2023-2024, one customer (``"C0000001"`` ...) per 20 lines on average,
amounts lognormal in cents, 3% of the lines returns (a negative amount).

Work timed, from the Parquet files to the summary in pandas:

- ``duckdb``: ``engines.rfm_summary(files, "2024-12-31", "W", calibration_end="2024-06-30", engine="duckdb")``
  (calibration and holdout columns; DuckDB uses both cores of this machine);
- ``pandas``: the same with ``engine="pandas"`` (``pd.read_parquet``, then ``clv.rfm_summary``);
- ``lifetimes``: ``pd.read_parquet``, then ``summary_data_from_transaction_data(freq="W")`` up to the calibration
  end (frequency, recency, T, monetary value: its ``calibration_and_holdout_data`` fails on pandas 3.1).

Check: lifetimes knows no returns (a negative line is a purchase to it), so the calibration columns are
compared on the customers without a return up to the calibration end: ``frequency``, ``recency`` and ``T``
must be identical and ``monetary_value`` equal to 1e-9; the table gives the customers compared and the rows
that differ. Each case runs in its own process; memory is its peak resident memory during the work (Linux
``VmHWM`` reset before) minus the resident memory before it.

Run: ``python -m benchmarks.bench_engines`` (about five minutes; ``--rows 1000000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import SINGLE_THREAD, markdown_table, timed

DATA = Path(__file__).resolve().parent / ".data"
SEED = 20_000_000
OBSERVATION_END, CALIBRATION_END = "2024-12-31", "2024-06-30"
LINES_PER_CUSTOMER = 20
LINES_PER_ORDER = 4
FILE_ROWS = 1_000_000
CASES = ("duckdb", "pandas", "lifetimes")


def write_transactions(n: int, folder: Path, seed: int = SEED) -> None:
    """``n`` canonical transaction lines as Parquet files of at most :data:`FILE_ROWS` rows in ``folder``.

    Lines come in orders (about :data:`LINES_PER_ORDER` lines each, same customer and day) sorted by day, as
    an ERP exports them; :data:`LINES_PER_CUSTOMER` lines per customer on average.
    """
    rng = np.random.default_rng(seed)
    n_customers = max(n // LINES_PER_CUSTOMER, 1)
    n_orders = max(n // LINES_PER_ORDER, 1)
    order_day = np.sort(rng.integers(0, 731, n_orders))
    order_customer = rng.integers(0, n_customers, n_orders)
    order = np.sort(rng.integers(0, n_orders, n))                     # the order of each line
    amount = np.round(rng.lognormal(4.0, 1.0, n), 2)
    amount[rng.random(n) < 0.03] *= -1.0                                # returns
    ids = pa.array(np.char.add("C", np.char.zfill(np.arange(1, n_customers + 1).astype(str), 7)))
    dates = np.datetime64("2023-01-01", "ns") + order_day[order].astype("timedelta64[D]")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for part, lo in enumerate(range(0, n, FILE_ROWS)):
        rows = slice(lo, min(lo + FILE_ROWS, n))
        table = pa.table({"customer_id": ids.take(pa.array(order_customer[order[rows]])), "date": dates[rows],
                          "amount": amount[rows], "is_return": amount[rows] < 0})
        pq.write_table(table, folder / f"part-{part:03d}.parquet")


def _files(n: int) -> list[Path]:
    return sorted((DATA / f"engines_{n}").glob("*.parquet"))


def _run(case: str, n: int) -> pd.DataFrame:
    files = _files(n)
    if case == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data

        frame = pd.concat([pd.read_parquet(f, columns=["customer_id", "date", "amount"]) for f in files],
                          ignore_index=True)
        return summary_data_from_transaction_data(frame, "customer_id", "date", monetary_value_col="amount",
                                                  observation_period_end=CALIBRATION_END, freq="W")
    from portfolio_kit import engines

    return engines.rfm_summary(files, OBSERVATION_END, "W", CALIBRATION_END, engine=case)


def run_case(case: str, n: int) -> dict:
    """Time one case on one size (in this process); keep its summary next to the data for the check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes.utils  # noqa: F401  (imports outside the timed section)

        from portfolio_kit import engines  # noqa: F401
        out, seconds, peak = timed(lambda: _run(case, n))
    columns = ["frequency", "recency", "T", "monetary_value"]
    kept = out[columns]
    kept.attrs = {}  # (the period and dates the kit records are not Parquet metadata)
    kept.to_parquet(DATA / f"engines_{n}_{case}.parquet")
    return {"seconds": seconds, "peak_mb": peak, "customers": len(out)}


def _check(n: int) -> tuple[int, int]:
    """Customers without a return up to the calibration end, and how many of them differ from lifetimes."""
    kit = pd.read_parquet(DATA / f"engines_{n}_duckdb.parquet")
    ref = pd.read_parquet(DATA / f"engines_{n}_lifetimes.parquet")
    pandas_path = pd.read_parquet(DATA / f"engines_{n}_pandas.parquet")
    pd.testing.assert_frame_equal(kit, pandas_path, check_exact=False, rtol=1e-9)  # the engine's promise
    returned = set()
    for f in _files(n):
        t = pq.read_table(f, columns=["customer_id", "date", "amount"]).to_pandas()
        returned.update(t.loc[(t["amount"] < 0) & (t["date"] <= CALIBRATION_END), "customer_id"])
    ids = kit.index.difference(pd.Index(list(returned), dtype=kit.index.dtype))
    a, b = kit.loc[ids], ref.loc[ids]
    same = np.isclose(a["monetary_value"], b["monetary_value"], rtol=1e-9, atol=0)
    for column in ("frequency", "recency", "T"):
        same &= a[column].to_numpy() == b[column].to_numpy()
    return len(ids), int((~same).sum())


def main(sizes: list[int]) -> str:
    DATA.mkdir(exist_ok=True)
    rows = []
    for n in sizes:
        write_transactions(n, DATA / f"engines_{n}")
        result = {}
        for case in CASES:
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_engines", "--case", case, str(n)],
                                  capture_output=True, text=True, check=True, env=SINGLE_THREAD)
            result[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        compared, differing = _check(n)
        duck, pandas_path, ref = result["duckdb"], result["pandas"], result["lifetimes"]
        rows.append({
            "lines": f"{n:,}", "customers": f"{duck['customers']:,}",
            "duckdb s": f"{duck['seconds']:.1f}", "pandas s": f"{pandas_path['seconds']:.1f}",
            "lifetimes s": f"{ref['seconds']:.1f}",
            "lifetimes / duckdb": f"{ref['seconds'] / duck['seconds']:.0f}x",
            "pandas / duckdb": f"{pandas_path['seconds'] / duck['seconds']:.1f}x",
            "duckdb MB": f"{duck['peak_mb']:.0f}", "pandas MB": f"{pandas_path['peak_mb']:.0f}",
            "lifetimes MB": f"{ref['peak_mb']:.0f}",
            "compared / differing": f"{compared:,} / {differing}"})
    return markdown_table(rows, (
        "Weekly CLV summary from Parquet files to pandas: wall-clock seconds and peak added resident memory, each "
        "case in its own process; duckdb and pandas compute the calibration (to 2024-06-30) and holdout columns, "
        "lifetimes the calibration columns only. Compared: customers without a return by the calibration end, "
        "whose frequency, recency, T and monetary value must equal lifetimes'; differing: how many do not."))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--case", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]))))
    else:
        print(main(args.rows))
