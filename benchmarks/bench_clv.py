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

Second case, "distinct rows": the purchase-model fits alone (BG/NBD, MBG/NBD, Pareto/NBD) on customers simulated
in continuous time (``make_distinct_summary``: first purchase at a uniform instant of the 52-week window, so
``T`` is continuous, and the purchase times of ``simulate_bgnbd`` are not floored to days), so that every
(frequency, recency, T) row is distinct and merging identical rows saves nothing. Timed per model and size, each
in its own single-threaded process: the kit, lifetimes (BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter)
and ``previous``, the kit's fit before the 2026-12-06 speed work (BFGS on a finite-difference Hessian start,
central-difference gradients for Pareto/NBD, rows merged by factorizing each column), kept below so that the
before figure is measured in the same run.

Run: ``python -m benchmarks.bench_clv`` (both cases; about 12 minutes, most of it lifetimes' Pareto/NBD at 1M
customers); ``--sizes 10000 100000`` for a quick run of the first case; ``--case-set distinct --distinct-sizes
100000`` for the second case only (``--models BG/NBD MBG/NBD`` to leave out Pareto/NBD).
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

from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln

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


# ------------------------------------------------------------------------------------ distinct rows
MODELS = ("BG/NBD", "MBG/NBD", "Pareto/NBD")


def make_distinct_summary(n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` customers' (frequency, recency, T) in weeks, continuous time: all rows distinct."""
    from portfolio_kit.data.sample import simulate_bgnbd

    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 365.0, n) / 7.0  # first purchase at a uniform instant, not a whole day
    events, _ = simulate_bgnbd(T, **BGNBD, seed=rng)
    customer, t = events["customer"].to_numpy(), events["t"].to_numpy()
    last = np.zeros(n)
    np.maximum.at(last, customer, t)
    return pd.DataFrame({"frequency": np.bincount(customer, minlength=n) - 1, "recency": last, "T": T})


def _kit_class(model: str):
    from portfolio_kit.clv import BetaGeo, ModifiedBetaGeo, ParetoNBD

    return dict(zip(MODELS, (BetaGeo, ModifiedBetaGeo, ParetoNBD)))[model]


def _previous_unique_rows(*arrays):
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a in arrays:
        codes, uniques = pd.factorize(a)
        key, _ = pd.factorize(key * len(uniques) + codes)
    first = np.empty(key.max() + 1, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    return first, key


def _previous_prepare(model, a):
    """The previous ``_prepare`` of BG/NBD, MBG/NBD and Pareto/NBD."""
    from types import SimpleNamespace

    x, tx, T = a["frequency"], a["recency"], a["T"]
    first, inverse = _previous_unique_rows(x, tx, T)
    w = np.bincount(inverse).astype(float)
    x, tx, T = x[first], tx[first], T[first]
    if model.param_names[2] == "s":
        return SimpleNamespace(x=x, tx=tx, T=T, w=w, inverse=inverse)
    x_code, xs = pd.factorize(x)
    T_code, Ts = pd.factorize(T)
    return SimpleNamespace(x=x, tx=tx, w=w, inverse=inverse, x_code=x_code, xs=np.asarray(xs), T_code=T_code,
                           Ts=np.asarray(Ts), w_x=np.bincount(x_code, w), w_T=np.bincount(T_code, w),
                           wx_T=np.bincount(T_code, w * x))


def _previous_loglik(model, params, d, how):
    """The previous log-likelihood: BG/NBD and MBG/NBD with their analytic gradient (per distinct x and T,
    then per row), Pareto/NBD the value only (the kit's ``_log_a0_term``, unchanged)."""
    from scipy.special import betaln

    if model.param_names[2] == "s":
        r, alpha, s, beta = params
        log_odds = model._log_a0_term(params, d.x, d.tx, d.T)
        rows = (gammaln(r + d.x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                - (r + d.x) * np.log(alpha + d.T) - s * np.log(beta + d.T) + np.logaddexp(0.0, log_odds))
        return rows @ d.w
    r, alpha, a, b = params
    xs = d.xs
    k = xs + model._dropout_at_start
    a12 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + k) - betaln(a, b)
    has_k = k > 0
    inv_bk = np.divide(1.0, b + k - 1, out=np.zeros_like(xs), where=has_k)
    c = np.where(has_k, np.log(a) + np.log(inv_bk, where=has_k, out=np.zeros_like(xs)), -np.inf)
    log_aT = np.log(alpha + d.Ts)
    rx = r + d.x
    gap = log_aT[d.T_code] - np.log(alpha + d.tx)
    z = c[d.x_code] + rx * gap
    ll = d.w_x @ a12 - (r * d.w_T + d.wx_T) @ log_aT + np.einsum("i,i->", d.w, np.logaddexp(0.0, z))
    if how == "sum":
        return ll
    w_pi = d.w * expit(z)
    pi_x = np.bincount(d.x_code, w_pi, minlength=len(xs))
    inv_aT = 1.0 / (alpha + d.Ts)
    grad_r = d.w_x @ (digamma(r + xs) - digamma(r) + np.log(alpha)) - d.w_T @ log_aT + w_pi @ gap
    grad_alpha = (r * d.w_T.sum() / alpha - (r * d.w_T + d.wx_T) @ inv_aT
                  + (w_pi * rx) @ (inv_aT[d.T_code] - 1.0 / (alpha + d.tx)))
    dab = digamma(a + b) - digamma(a + b + k)
    grad_a = d.w_x @ dab + pi_x.sum() / a
    grad_b = d.w_x @ (dab + digamma(b + k) - digamma(b)) - pi_x @ inv_bk
    return ll, np.array([grad_r, grad_alpha, grad_a, grad_b])


def _previous_fit(model, summary: pd.DataFrame, warm_start_rows: int = 20_000):
    """The previous fit: BFGS from the inverse finite-difference Hessian at the start (a fit on every k-th
    customer above 20,000 distinct rows), then finite-difference Hessian and Newton polish; returns the
    parameters and the log-likelihood."""
    from portfolio_kit.clv.base import summary_arrays

    numeric = model.param_names[2] == "s"  # Pareto/NBD: central differences

    def objective(d):
        total = d.w.sum()

        def value(v):
            with np.errstate(all="ignore"):
                ll = _previous_loglik(model, np.exp(v), d, "sum")
            return -ll / total if np.isfinite(ll) else np.inf

        def both(v):
            if numeric:
                return value(v), np.array([(value(v + e) - value(v - e)) / 2e-6 for e in 1e-6 * np.eye(len(v))])
            with np.errstate(all="ignore"):
                ll, g = _previous_loglik(model, np.exp(v), d, "grad")
            if not (np.isfinite(ll) and np.isfinite(g).all()):
                return np.inf, np.zeros_like(v)
            return -ll / total, -g * np.exp(v) / total
        return both

    def hessian(grad, x, g0, h=1e-4):
        H = np.column_stack([(grad(x + e) - g0) / h for e in h * np.eye(len(x))])
        return (H + H.T) / 2

    def maximise(d, start):
        both = objective(d)
        options = {"maxiter": 1000, "gtol": 1e-7}
        H0 = hessian(lambda v: both(v)[1], start, both(start)[1])
        if np.isfinite(H0).all():
            lam, vec = np.linalg.eigh(H0)
            if lam.min() > 1e-10 * lam.max():
                inv = (vec / lam) @ vec.T
                options["hess_inv0"] = (inv + inv.T) / 2
        result = minimize(both, start, jac=True, method="BFGS", options=options)
        x, (fx, g) = result.x, both(result.x)
        H = hessian(lambda v: both(v)[1], x, g)
        for _ in range(4):  # Newton polish
            step = np.linalg.solve(H, g)
            if not np.isfinite(step).all() or g @ step <= 0:
                break
            fc, gc = both(x - step)
            if not fc <= fx + 1e-13 * abs(fx):
                break
            x, fx, g = x - step, fc, gc
            if np.max(np.abs(step)) < 1e-10:
                break
        return x, fx * d.w.sum()

    arrays = summary_arrays(summary, model.columns)
    data = _previous_prepare(model, arrays)
    start = np.log(model._initial_params(data))
    if len(data.w) > warm_start_rows:
        every = -(-len(data.inverse) // warm_start_rows)
        sub = _previous_prepare(model, {c: a[::every] for c, a in arrays.items()})
        start = maximise(sub, np.log(model._initial_params(sub)))[0]
    x, neg_ll = maximise(data, start)
    return np.exp(x), -neg_ll


def _fit_distinct(implementation: str, model: str, s: pd.DataFrame) -> tuple[list, float]:
    if implementation == "lifetimes":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

            fitter = dict(zip(MODELS, (BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter)))[model]()
            fitter.fit(s["frequency"], s["recency"], s["T"])
        return fitter.params_.tolist(), float("nan")
    if implementation == "previous":
        params, ll = _previous_fit(_kit_class(model)(), s)
        return params.tolist(), ll
    fitted = _kit_class(model)().fit(s)
    return fitted.params_.tolist(), fitted.log_likelihood_


def run_distinct(implementation: str, model: str, n: int) -> dict:
    """Time one implementation's fit of one model on the distinct-row data of size ``n`` (in this process)."""
    s = pd.read_parquet(DATA / f"clv_distinct_{n}.parquet")
    if implementation == "lifetimes":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes  # noqa: F401  (import outside the timed section)
    else:
        import portfolio_kit.clv  # noqa: F401
    start = time.perf_counter()
    params, ll = _fit_distinct(implementation, model, s)
    return {"seconds": time.perf_counter() - start, "params": params, "ll": ll}


def main_distinct(sizes: list[int], models=MODELS, implementations=("previous", "ours", "lifetimes")) -> str:
    DATA.mkdir(exist_ok=True)
    rows = []
    for n in sizes:
        s = make_distinct_summary(n)
        s.to_parquet(DATA / f"clv_distinct_{n}.parquet")
        distinct = len(s.drop_duplicates())
        for model in models:
            result = {}
            for implementation in implementations:
                proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_clv", "--distinct-case", implementation,
                                       model, str(n)], capture_output=True, text=True, check=True, env=SINGLE_THREAD)
                result[implementation] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"# {model} {n:,} {implementation}: {result[implementation]['seconds']:.2f} s", file=sys.stderr,
                      flush=True)
            ours, ref, before = result["ours"], result.get("lifetimes"), result.get("previous")
            row = {"model": model, "customers": f"{n:,}", "distinct rows": f"{distinct:,}",
                   "before s": f"{before['seconds']:.2f}" if before else "",
                   "kit s": f"{ours['seconds']:.2f}",
                   "kit vs before": f"{before['seconds'] / ours['seconds']:.1f}x" if before else "",
                   "lifetimes s": f"{ref['seconds']:.2f}" if ref else "",
                   "lifetimes / kit": f"{ref['seconds'] / ours['seconds']:.1f}x" if ref else ""}
            if ref:
                diff = np.max(np.abs(np.array(ours["params"]) / np.array(ref["params"]) - 1))
                row["max param rel. diff vs lifetimes"] = f"{diff:.1e}"
            if before:
                row["kit LL - before LL"] = f"{ours['ll'] - before['ll']:.1e}"
            rows.append(row)
    return markdown_table(rows, ("Purchase-model fit alone on continuous-time customers (every (x, t_x, T) row "
                                 "distinct), seconds per fit, each in its own single-threaded process; before = the "
                                 "kit's previous fit, timed in the same run."))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--distinct-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--case-set", choices=("daily", "distinct", "both"), default="both")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="distinct-rows case only")
    parser.add_argument("--case", nargs=2, metavar=("LIBRARY", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--distinct-case", nargs=3, metavar=("IMPLEMENTATION", "MODEL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]))))
    elif args.distinct_case:
        print(json.dumps(run_distinct(args.distinct_case[0], args.distinct_case[1], int(args.distinct_case[2]))))
    else:
        if args.case_set in ("daily", "both"):
            print(main(args.sizes))
        if args.case_set in ("distinct", "both"):
            print(main_distinct(args.distinct_sizes, args.models))
