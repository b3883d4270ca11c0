"""The sample client generator: BG/NBD simulation against lifetimes' generator, and whole clients up to the
large-client path (``--customers 1000000 --format parquet``).

Every case runs in its own subprocess so its peak memory (``ru_maxrss``) is its own; "above imports"
subtracts the peak measured right after the imports. The BG/NBD comparison draws ``--bgnbd`` customers
observed 52 weeks with the Small segment's parameters; lifetimes'
``generate_data.beta_geometric_nbd_model`` loops over customers in Python (and is biased; ours is exact).

Run: ``python -m benchmarks.bench_sample [--customers 1000000] [--bgnbd 100000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from portfolio_kit.data.sample import SEGMENTS, generate_sample, make_sample, simulate_bgnbd


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(case: str, n: int, seed: int, folder: Path) -> None:
    params = SEGMENTS["Small"]["bgnbd"]
    if case == "lifetimes":
        warnings.simplefilter("ignore")
        from lifetimes.generate_data import beta_geometric_nbd_model
    base = _peak_mb()
    start = time.perf_counter()
    if case == "simulate_bgnbd":
        _, latent = simulate_bgnbd(np.full(n, 52.0), **params, seed=seed)
        rows = int(latent["n_repeat"].sum())
    elif case == "lifetimes":
        np.random.seed(seed)
        rows = int(beta_geometric_nbd_model(52.0, *params.values(), size=n)["frequency"].sum())
    elif case == "generate_sample":
        rows = len(generate_sample(n, seed=seed).transactions)
    elif case in ("make_sample csv", "make_sample parquet"):
        fmt = case.split()[1]
        make_sample(folder / fmt, n_customers=n, seed=seed, fmt=fmt)
        rows = sum(p.stat().st_size for p in (folder / fmt).rglob("*") if p.is_file()) // 2**20
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(), "base_mb": base,
                      "rows": rows}))


def _run(case: str, n: int, seed: int, folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_sample", "--child", case, "--n", str(n),
                           "--seed", str(seed), "--folder", str(folder)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--bgnbd", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child")
    parser.add_argument("--n", type=int)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.n, args.seed, args.folder)
        return
    cases = [("simulate_bgnbd", args.bgnbd, "repeat purchases"),
             ("lifetimes", args.bgnbd, "repeat purchases (distinct weeks)"),
             ("generate_sample", 2_000, "transactions"), ("make_sample csv", 2_000, "MB written"),
             ("generate_sample", args.customers // 10, "transactions"),
             ("generate_sample", args.customers, "transactions"),
             ("make_sample parquet", args.customers, "MB written")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(case, n, unit, _run(case, n, args.seed, Path(tmp))) for case, n, unit in cases]
    ours, ref = rows[0][3], rows[1][3]
    print(f"Sample client generator (seed {args.seed}); BG/NBD: {args.bgnbd:,} customers, T = 52 weeks, "
          f"Small segment parameters\n")
    print("| case | customers | output | seconds | peak RSS (MB) | above imports (MB) | time vs lifetimes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case, n, unit, r in rows:
        ratio = f"{r['seconds'] / ref['seconds']:.4f}" if case in ("simulate_bgnbd", "lifetimes") else ""
        print(f"| {case} | {n:,} | {r['rows']:,} {unit} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | "
              f"{r['peak_mb'] - r['base_mb']:.0f} | {ratio} |")
    print(f"\nsimulate_bgnbd is {ref['seconds'] / ours['seconds']:.0f}x faster than lifetimes' generator.")


if __name__ == "__main__":
    main()
