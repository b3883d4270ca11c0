"""Segmentation and concentration on a portfolio of 1M customers (about 4M transaction lines).

Compares, in one run, each step of the kit with a reference doing the same job:

- per-customer summary: ``segmentation.customer_summary`` vs lifetimes' ``summary_data_from_transaction_data``
  (its RFM summary: repeat frequency, recency, T, mean repeat spend);
- RFM scores and segments: ``segmentation.rfm_table`` vs the usual pandas recipe (``groupby`` + ``qcut`` on
  ``rank(method="first")`` + a regex segment map), with the share of customers given the same M score;
- concentration (Gini, HHI, top 20% share, Lorenz curve, ABC classes): the kit vs plain numpy/pandas formulas
  (no input checks, no tie handling);
- the kit's whole customer table (``customer_segments``) and concentration by quarter, with no reference.

Each step runs in its own subprocess that first loads the same generated data (seeded) from a Parquet file;
the table gives wall-clock seconds of the step and its peak memory: the highest resident memory of the process
during the step (sampled every 2 ms from ``/proc/self/statm``, so Arrow and numpy buffers both count) minus the
resident memory before it.

Run: ``python -m benchmarks.bench_segmentation [--customers N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20241124
AS_OF = pd.Timestamp("2024-12-31")


def make_transactions(n_customers: int, seed: int = SEED) -> pd.DataFrame:
    """Synthetic B2B transactions: 1 + Poisson(3) lines per customer over three years, lognormal amounts,
    3% credit notes, margin 0-100% of the amount (Beta(2, 5)), 500 products, 4 channels."""
    rng = np.random.default_rng(seed)
    lines = 1 + rng.poisson(3, n_customers)
    codes = np.repeat(np.arange(n_customers), lines)
    m = codes.size
    ids = np.char.add("C", np.char.zfill(np.arange(n_customers).astype(str), 7))
    amount = rng.lognormal(6, 1.2, m)
    amount[rng.random(m) < 0.03] *= -0.5
    products = np.char.add("P", np.char.zfill(np.arange(500).astype(str), 3))
    return pd.DataFrame({
        "customer_id": ids[codes],
        "date": AS_OF - pd.to_timedelta(rng.integers(0, 3 * 365, m), unit="D"),
        "amount": amount,
        "margin": amount * rng.beta(2, 5, m),
        "product": products[rng.integers(0, 500, m)],
        "channel": np.array(["web", "agent", "phone", "edi"])[rng.integers(0, 4, m)],
    })


# --------------------------------------------------------------------------------------------- steps
def rfm_pandas(tx: pd.DataFrame) -> pd.DataFrame:
    """The usual recipe: groupby, qcut on first-ranks, segment by regex replace on the R x FM code."""
    from portfolio_kit.segmentation import RFM_SEGMENT_MAP

    purchases = tx[tx["amount"] > 0]
    g = purchases.groupby("customer_id")
    rfm = pd.DataFrame({"recency": (AS_OF - g["date"].max()).dt.days, "frequency": g["date"].nunique()})
    rfm["monetary"] = tx.groupby("customer_id")["amount"].sum().reindex(rfm.index)
    rfm["r"] = pd.qcut(rfm["recency"].rank(method="first", ascending=False), 5, labels=False) + 1
    rfm["f"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=False) + 1
    rfm["m"] = pd.qcut(rfm["monetary"].rank(method="first"), 5, labels=False) + 1
    code = rfm["r"].astype(str) + ((rfm["f"] + rfm["m"] + 1) // 2).astype(str)
    rfm["segment"] = code.replace({f"^{p}$": s for s, p in RFM_SEGMENT_MAP.items()}, regex=True)
    return rfm


def concentration_kit(values: pd.Series) -> object:
    from portfolio_kit import concentration as c

    return c.gini(values), c.hhi(values), c.top_share(values, fraction=0.2), c.lorenz_curve(values), \
        c.abc_classes(values)


def concentration_numpy(values: pd.Series) -> object:
    x = np.sort(values.clip(lower=0).to_numpy())
    n, total = x.size, x.sum()
    g = 2 * np.dot(np.arange(1, n + 1), x) / (n * total) - (n + 1) / n
    h = np.sum((x / total) ** 2)
    top20 = x[n - int(0.2 * n):].sum() / total
    lorenz = pd.DataFrame({"customer_share": np.arange(n + 1) / n, "value_share": np.r_[0, np.cumsum(x)] / total})
    ranked = values.sort_values(ascending=False)
    cumulative = ranked.clip(lower=0).cumsum() / total
    abc = pd.cut(cumulative, [-np.inf, 0.80, 0.95, np.inf], labels=["A", "B", "C"])
    return g, h, top20, lorenz, abc


def _step(name: str, tx: pd.DataFrame):
    """The step as a callable of no argument; its setup (data preparation) is done here, outside the timing."""
    from portfolio_kit import concentration, segmentation

    if name == "summary_kit":
        return lambda: segmentation.customer_summary(tx, as_of=AS_OF)
    if name == "summary_lifetimes":
        import warnings

        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data

        purchases = tx[tx["amount"] > 0]
        return (lambda: summary_data_from_transaction_data(purchases, "customer_id", "date", "amount",
                                                           observation_period_end=AS_OF))
    if name == "rfm_kit":
        return lambda: segmentation.rfm_table(tx, as_of=AS_OF)
    if name == "rfm_pandas":
        return lambda: rfm_pandas(tx)
    if name in ("concentration_kit", "concentration_numpy"):
        values = tx.groupby("customer_id")["amount"].sum()
        return lambda: globals()[name](values)
    if name == "segments_kit":
        return lambda: segmentation.customer_segments(tx, as_of=AS_OF)
    if name == "over_time_kit":
        return lambda: concentration.concentration_over_time(tx, freq="Q")
    raise ValueError(name)


def _resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class _PeakMemory(threading.Thread):
    """Samples the process' resident memory until stopped; ``peak_mb`` is the highest above the start."""

    def __init__(self):
        super().__init__(daemon=True)
        self.start_mb = self.peak_mb = _resident_mb()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.002):
            self.peak_mb = max(self.peak_mb, _resident_mb())

    def stop(self) -> float:
        self.done.set()
        self.join()
        return max(self.peak_mb, _resident_mb()) - self.start_mb


def worker(name: str, data: str) -> dict:
    tx = pd.read_parquet(data)
    run, info = _step(name, tx), {}
    memory = _PeakMemory()
    memory.start()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    peak_mb = memory.stop()
    if name == "rfm_pandas":  # agreement with the kit, outside the timing
        from portfolio_kit.segmentation import rfm_table

        kit = rfm_table(tx, as_of=AS_OF)
        info["same_m_score"] = float((kit["m_score"].astype(int) == result["m"].reindex(kit.index)).mean())
        info["same_segment"] = float((kit["segment"].astype(str) == result["segment"].reindex(kit.index)).mean())
    return {"step": name, "seconds": seconds, "peak_mb": peak_mb, **info}


# --------------------------------------------------------------------------------------------- driver
ROWS = [  # (label, kit step, reference step, reference name)
    ("customer summary", "summary_kit", "summary_lifetimes", "lifetimes summary_data_from_transaction_data"),
    ("RFM scores + segments", "rfm_kit", "rfm_pandas", "pandas groupby + qcut(rank) + regex map"),
    ("concentration (Gini, HHI, top 20%, Lorenz, ABC)", "concentration_kit", "concentration_numpy",
     "plain numpy/pandas formulas"),
    ("customer_segments (all tables)", "segments_kit", None, ""),
    ("concentration over time (quarters)", "over_time_kit", None, ""),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.data)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "transactions.parquet"
        tx = make_transactions(args.customers)
        tx.to_parquet(data)
        n_lines = len(tx)
        del tx
        results = {}
        for _, *steps, _ in ROWS:
            for step in filter(None, steps):
                out = subprocess.run([sys.executable, "-m", "benchmarks.bench_segmentation", "--worker", step,
                                      "--data", str(data)], capture_output=True, text=True, check=True)
                results[step] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"Segmentation and concentration, {args.customers:,} customers, {n_lines:,} transaction lines "
          f"(seed {SEED}); peak MB = highest resident memory during the step above the loaded data\n")
    print("| step | kit s | kit peak MB | reference | ref s | ref peak MB | time kit/ref | memory kit/ref |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for label, kit, ref, ref_name in ROWS:
        k = results[kit]
        if ref:
            r = results[ref]
            print(f"| {label} | {k['seconds']:.2f} | {k['peak_mb']:,.0f} | {ref_name} | {r['seconds']:.2f} | "
                  f"{r['peak_mb']:,.0f} | {k['seconds'] / r['seconds']:.2f} | "
                  f"{k['peak_mb'] / max(r['peak_mb'], 1):.2f} |")
        else:
            print(f"| {label} | {k['seconds']:.2f} | {k['peak_mb']:,.0f} | | | | | |")
    agreement = results["rfm_pandas"]
    print(f"\nRFM agreement with the pandas recipe: same M score for {agreement['same_m_score']:.2%} of customers, "
          f"same segment for {agreement['same_segment']:.2%} (they differ where ties are split by row order).")


if __name__ == "__main__":
    main()
