"""Benchmark: BG/NBD + Gamma-Gamma fit and 12-month CLV prediction, portfolio_kit.clv vs lifetimes.

Input per size (10k, 100k, 1M customers), generated with a fixed seed: first purchases on a uniform day of a
52-week window, purchases from the BG/NBD process exactly (``portfolio_kit.data.sample.simulate_bgnbd``, CDNOW's
published parameters r 0.243, alpha 4.414, a 0.793, b 2.426) recorded at daily resolution in weeks (as
``rfm_summary(period="D", period_multiplier=7)`` would; same-day purchases merged), and mean repeat spend
from Gamma-Gamma (p 6.25, q 3.74, gamma 15.44).

Work timed, the same for both libraries: fit BG/NBD, fit Gamma-Gamma on the repeat buyers, then per customer
P(alive), expected purchases and the 12-month CLV (1% a month, 4.345 weeks a month as in lifetimes).
Each case runs in its own single-threaded process; memory is the peak resident memory added by the work (Linux
``VmHWM`` after resetting it, minus the resident memory before). pymc-marketing is not installed in the
project environment and is not benchmarked.

Run: ``python -m benchmarks.bench_clv`` (about two minutes; ``--sizes 10000 100000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import SINGLE_THREAD, markdown_table, timed

DATA = Path(__file__).resolve().parent / ".data"
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SEED = 2005


def make_summary(n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` customers' summaries (weeks, daily resolution) from the BG/NBD and Gamma-Gamma processes."""
    from portfolio_kit.data.sample import simulate_bgnbd

    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, 365, n)
    events, _ = simulate_bgnbd(age_days / 7.0, **BGNBD, seed=rng)
    customer = events["customer"].to_numpy()
    day = np.minimum(np.floor(events["t"].to_numpy() * 7.0).astype(np.int64), age_days[customer])
    key = np.unique(customer * 1000 + day)  # one purchase per customer and day, sorted
    customer, day = key // 1000, key % 1000
    frequency = np.bincount(customer, minlength=n) - 1
    last = np.zeros(n, dtype=np.int64)
    last[customer] = day  # sorted: the last write is the latest day
    repeat = np.maximum(frequency, 1)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], n)
    monetary = np.where(frequency > 0, rng.gamma(GAMMA_GAMMA["p"] * repeat, 1.0 / nu) / repeat, 0.0)
    return pd.DataFrame({"frequency": frequency, "recency": last / 7.0, "T": age_days / 7.0,
                         "monetary_value": monetary})


def _run_ours(s: pd.DataFrame) -> dict:
    from portfolio_kit.clv import customer_value, fit_bgnbd, fit_gamma_gamma

    start = time.perf_counter()
    bg = fit_bgnbd(s)
    gg = fit_gamma_gamma(s)
    fitted = time.perf_counter()
    v = customer_value(bg, gg, s, margin=1.0, horizon_months=12, discount_rate=0.01, periods_per_month=4.345,
                       n_draws=0)
    return {"fit": fitted - start, "bgnbd": bg.params_.tolist(), "gamma_gamma": gg.params_.tolist(),
            "clv": v["clv"].to_numpy(), "alive": v["probability_alive"].to_numpy()}


def _run_lifetimes(s: pd.DataFrame) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        start = time.perf_counter()
        bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        repeat = s[s["frequency"] > 0]
        gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        fitted = time.perf_counter()
        alive = bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        bg.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, s["frequency"], s["recency"], s["T"])
        clv = gg.customer_lifetime_value(bg, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12,
                                         discount_rate=0.01, freq="W")
    return {"fit": fitted - start, "bgnbd": bg.params_.tolist(), "gamma_gamma": gg.params_.tolist(),
            "clv": clv.to_numpy(), "alive": np.asarray(alive)}


def run_case(library: str, n: int) -> dict:
    """Time one library on one size (in this process); write its predictions next to the data."""
    s = pd.read_parquet(DATA / f"clv_{n}.parquet")
    work = {"ours": _run_ours, "lifetimes": _run_lifetimes}[library]
    if library == "lifetimes":
        import lifetimes  # noqa: F401  (import outside the timed section)
    else:
        import portfolio_kit.clv  # noqa: F401
    out, seconds, peak = timed(lambda: work(s))
    np.savez(DATA / f"clv_{n}_{library}.npz", clv=out["clv"], alive=out["alive"])
    return {"seconds": seconds, "fit": out["fit"], "peak_mb": peak, "bgnbd": out["bgnbd"],
            "gamma_gamma": out["gamma_gamma"]}


def main(sizes: list[int]) -> str:
    DATA.mkdir(exist_ok=True)
    rows = []
    for n in sizes:
        s = make_summary(n)
        s.to_parquet(DATA / f"clv_{n}.parquet")
        distinct = len(s[["frequency", "recency", "T"]].drop_duplicates())
        result = {}
        for library in ("ours", "lifetimes"):
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_clv", "--case", library, str(n)],
                                  capture_output=True, text=True, check=True, env=SINGLE_THREAD)
            result[library] = json.loads(proc.stdout.strip().splitlines()[-1])
        ours, ref = result["ours"], result["lifetimes"]
        params = np.r_[ours["bgnbd"], ours["gamma_gamma"]] / np.r_[ref["bgnbd"], ref["gamma_gamma"]] - 1
        a, b = (np.load(DATA / f"clv_{n}_{lib}.npz") for lib in ("ours", "lifetimes"))
        clv_diff = np.nanmax(np.abs(a["clv"] - b["clv"]) / np.maximum(np.abs(b["clv"]), 1e-9))
        rows.append({"customers": f"{n:,}", "distinct rows": f"{distinct:,}",
                     "lifetimes s (fit)": f"{ref['seconds']:.2f} ({ref['fit']:.2f})",
                     "ours s (fit)": f"{ours['seconds']:.2f} ({ours['fit']:.2f})",
                     "speed-up (fit)": f"{ref['seconds'] / ours['seconds']:.0f}x ({ref['fit'] / ours['fit']:.0f}x)",
                     "lifetimes MB": f"{ref['peak_mb']:.0f}", "ours MB": f"{ours['peak_mb']:.0f}",
                     "memory ratio": f"{ref['peak_mb'] / max(ours['peak_mb'], 1e-9):.1f}x",
                     "max param rel. diff": f"{np.max(np.abs(params)):.1e}", "max CLV rel. diff": f"{clv_diff:.1e}"})
    return markdown_table(rows, ("BG/NBD + Gamma-Gamma fit and 12-month CLV per customer (P(alive), expected purchases, CLV): total "
            "seconds (in brackets: fitting both models) and peak added memory per library, each in its own "
            "single-threaded process. pymc-marketing: not installed, not run."))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--case", nargs=2, metavar=("LIBRARY", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]))))
    else:
        print(main(args.sizes))
