"""Monitoring at 1M customers: ``diff_snapshots`` against a naive pandas merge-and-compare, plus the
migration matrix and the default alert rules on the same diff.

Two snapshots of ``--customers`` customers (canonical columns) are generated with a seed: 1% of the
customers removed, 1% added, 2% of the values of each field changed, ``after`` in shuffled order. Each
method runs in its own subprocess (reading the snapshots from Parquet); "extra memory" is the peak resident
memory during the step (sampled every 2 ms) above the resident memory at its start, "process peak" the
subprocess' ``ru_maxrss`` (reading the data included). Times are the best of ``--repeat`` runs. Rows out:
changed fields (diffs), customers counted (migration), alerts.

Run: ``python -m benchmarks.bench_monitoring [--customers 1000000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_kit.monitoring import RATING_SCALE, diff_snapshots, evaluate_alerts, migration_matrix
from portfolio_kit.report.wording.monitoring import alerts_with_messages

FIELDS = ["rating", "failure_score", "delinquency_score", "credit_limit", "officers", "share_capital"]


def make_snapshots(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("C", np.char.zfill(np.arange(n + n // 100).astype(str), 7))
    officers = np.array([f"Officer {i}; Officer {i + 1}" for i in range(500)])

    def draw(m: int) -> dict:
        return {"rating": np.asarray(RATING_SCALE)[rng.integers(0, 10, m)],
                "failure_score": rng.integers(1, 101, m).astype(float),
                "delinquency_score": rng.integers(1, 101, m).astype(float),
                "credit_limit": rng.integers(1, 500, m) * 1000.0,
                "officers": officers[rng.integers(0, len(officers), m)],
                "share_capital": rng.choice([10_000.0, 50_000.0, 120_000.0, 1e6], m)}

    before = pd.DataFrame({"customer_id": ids[:n], **draw(n)})
    kept = before[rng.random(n) >= 0.01]
    new = draw(len(kept))
    after = kept.copy()
    for col in FIELDS:  # 2% of the values of each field change
        hit = rng.random(len(kept)) < 0.02
        after.loc[hit, col] = new[col][hit]
    added = pd.DataFrame({"customer_id": ids[n:], **draw(n // 100)})
    after = pd.concat([after, added], ignore_index=True)
    return before, after.iloc[rng.permutation(len(after))].reset_index(drop=True)


def naive_diff(before: pd.DataFrame, after: pd.DataFrame, key: str = "customer_id") -> dict:
    """The obvious way: outer merge with an indicator, then compare each column pair."""
    merged = before.merge(after, on=key, how="outer", suffixes=("_before", "_after"), indicator=True)
    added = merged[merged["_merge"] == "right_only"]
    removed = merged[merged["_merge"] == "left_only"]
    both = merged[merged["_merge"] == "both"]
    parts = []
    for col in FIELDS:
        b, a = both[f"{col}_before"], both[f"{col}_after"]
        ne = (b != a) & ~(b.isna() & a.isna())
        delta = (a[ne] - b[ne]) if pd.api.types.is_numeric_dtype(b) else np.nan
        parts.append(pd.DataFrame({key: both.loc[ne, key], "field": col, "before": b[ne], "after": a[ne],
                                   "delta": delta}))
    return {"added": added, "removed": removed, "changes": pd.concat(parts, ignore_index=True)}


def _child(method: str, folder: Path, repeat: int) -> None:
    before = pd.read_parquet(folder / "before.parquet")
    after = pd.read_parquet(folder / "after.parquet")
    steps = {
        "load": lambda: 0,
        "naive": lambda: len(naive_diff(before, after)["changes"]),
        "diff_snapshots": lambda: len(diff_snapshots(before, after).changes),
        "migration_matrix": lambda: int(migration_matrix(before, after, "rating", RATING_SCALE).counts.sum().sum()),
        "diff + alerts": lambda: len(alerts_with_messages(evaluate_alerts(diff_snapshots(before, after)))),
    }
    seconds, extra = [], []
    for _ in range(repeat):  # best of `repeat`: the machine may be shared
        gc.collect()
        with _PeakRSS() as rss:
            start = time.perf_counter()
            rows = steps[method]()
            seconds.append(time.perf_counter() - start)
        extra.append(rss.peak - rss.start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": min(seconds), "peak_mb": peak, "extra_mb": max(extra)}))


class _PeakRSS:
    """Context manager sampling this process' resident memory every 2 ms: ``start`` and ``peak`` in MB."""

    def __enter__(self):
        self.start = self.peak = _rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run(method: str, folder: Path, repeat: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_monitoring", "--child", method,
                           "--folder", str(folder), "--repeat", str(repeat)], check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs per step; the best time is kept")
    parser.add_argument("--child")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.folder, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        before, after = make_snapshots(args.customers, args.seed)
        before.to_parquet(folder / "before.parquet")
        after.to_parquet(folder / "after.parquet")
        del before, after
        load = _run("load", folder, 1)
        rows = {m: _run(m, folder, args.repeat)
                for m in ("naive", "diff_snapshots", "migration_matrix", "diff + alerts")}
    if rows["naive"]["rows"] != rows["diff_snapshots"]["rows"]:
        raise SystemExit(f"changes differ: naive {rows['naive']['rows']}, ours {rows['diff_snapshots']['rows']}")
    ref = rows["naive"]
    print(f"Monitoring, {args.customers:,} customers (1% added, 1% removed, 2% of each of {len(FIELDS)} fields "
          f"changed; seed {args.seed}); reading the data alone peaks at {load['peak_mb']:.0f} MB\n")
    print("| step | rows out | seconds | extra memory (MB) | process peak RSS (MB) | time vs naive | "
          "extra memory vs naive |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, r in rows.items():
        print(f"| {method} | {r['rows']:,} | {r['seconds']:.2f} | {r['extra_mb']:.0f} | {r['peak_mb']:.0f} | "
              f"{r['seconds'] / ref['seconds']:.2f} | {r['extra_mb'] / ref['extra_mb']:.2f} |")


if __name__ == "__main__":
    main()
