"""Benchmark: aging, aging history and DSO/CEI trend on large ledgers, portfolio_kit.payments vs plain pandas.

Input per size (1M and 10M invoices by default), generated with a fixed seed: 200,000 customers, invoices
issued over two years, terms of 30/60/90 days, payment after the due date plus a gamma-distributed delay
(some early), 3% partial payments, 2% credit notes, invoices paid after the as-of date open.

Work timed, the same for both implementations, as of the last day:

- ``aging by customer``: open amount per customer in the buckets current, 1-30, 31-60, 61-90, 91+;
- ``aging history``: total open amount per bucket at each of the 24 month ends;
- ``DSO trend``: per month end, AR, current AR, standard DSO (3 months), best possible DSO, ADD, CEI and
  countback DSO.

The reference is the straightforward pandas code an analyst would write (``pd.cut`` + ``pivot_table``; a loop
over month ends filtering the frame; a loop walking back months for the countback). Both results are compared
(largest absolute difference, in currency or days). Each case runs in its own single-threaded process, after
reading the data; memory is the peak resident memory added by the work (Linux ``VmHWM`` after resetting it,
minus the resident memory before). The data are written to ``benchmarks/.data`` and removed afterwards.

Run: ``python -m benchmarks.bench_payments`` (about five minutes; ``--sizes 1000000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import SINGLE_THREAD, markdown_table, timed

DATA = Path(__file__).resolve().parent / ".data"
SEED = 2011
AS_OF = pd.Timestamp("2025-12-31")
START = pd.Timestamp("2024-01-01")
BUCKETS = ["current", "1-30", "31-60", "61-90", "91+"]
TASKS = ("aging by customer", "aging history", "DSO trend")


def make_invoices(n: int, seed: int = SEED, customers: int = 200_000) -> pd.DataFrame:
    """``n`` canonical invoices of ``customers`` customers over two years up to :data:`AS_OF`."""
    rng = np.random.default_rng(seed)
    span = (AS_OF - START).days + 1
    issue = START.to_datetime64() + rng.integers(0, span, n).astype("timedelta64[D]")
    terms = rng.choice(np.array([30, 60, 90]), n, p=[0.5, 0.3, 0.2])
    due = issue + terms.astype("timedelta64[D]")
    delay = np.floor(rng.gamma(0.8, 15.0, n) - 5).astype(np.int64)
    paid = np.maximum(due + delay.astype("timedelta64[D]"), issue)
    amount = np.round(rng.lognormal(7.0, 1.2, n), 2)
    credit = rng.random(n) < 0.02
    amount[credit] *= -0.2
    paid[credit] = issue[credit]                                            # credit notes applied on issue
    paid_amount = np.where(rng.random(n) < 0.03, np.round(amount * rng.uniform(0.3, 0.95, n), 2), amount)
    open_ = paid > AS_OF.to_datetime64()
    return pd.DataFrame({
        "invoice_id": pd.Series(np.arange(n)).map("F{:09d}".format),
        "customer_id": pd.Series(rng.integers(0, customers, n)).map("C{:07d}".format),
        "issue_date": issue.astype("datetime64[ns]"), "due_date": due.astype("datetime64[ns]"), "amount": amount,
        "paid_date": pd.Series(paid.astype("datetime64[ns]")).mask(open_),
        "paid_amount": pd.Series(paid_amount).mask(open_),
    })


# --------------------------------------------------------------------------------------------- the reference
def _received(inv: pd.DataFrame, t: pd.Timestamp) -> pd.Series:
    return inv["paid_amount"].fillna(inv["amount"]).where(inv["paid_date"] <= t, 0.0)


def _buckets(days_past_due: pd.Series) -> pd.Series:
    return pd.cut(days_past_due, [-np.inf, 0, 30, 60, 90, np.inf], labels=BUCKETS)


def pandas_aging(inv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    inv = inv[inv["issue_date"] <= as_of]
    table = pd.DataFrame({"customer_id": inv["customer_id"], "open": inv["amount"] - _received(inv, as_of),
                          "bucket": _buckets((as_of - inv["due_date"]).dt.days)})
    table = table[table["open"] != 0]
    out = table.pivot_table(index="customer_id", columns="bucket", values="open", aggfunc="sum", fill_value=0.0,
                            observed=False)
    return out[BUCKETS]


def _month_ends(inv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(inv["issue_date"].min(), as_of, freq="ME").union([as_of])


def pandas_aging_history(inv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    rows = {}
    for t in _month_ends(inv, as_of):
        part = inv[inv["issue_date"] <= t]
        open_ = part["amount"] - _received(part, t)
        rows[t] = open_.groupby(_buckets((t - part["due_date"]).dt.days), observed=False).sum()
    return pd.DataFrame(rows).T[BUCKETS]


def pandas_dso_trend(inv: pd.DataFrame, as_of: pd.Timestamp, window: int = 3) -> pd.DataFrame:
    ends = _month_ends(inv, as_of)
    rows = []
    for t in ends:
        part = inv[inv["issue_date"] <= t]
        open_ = part["amount"] - _received(part, t)
        rows.append({"period_end": t, "ar": open_.sum(), "current_ar": open_[part["due_date"] >= t].sum()})
    k = pd.DataFrame(rows)
    month = inv["issue_date"].dt.to_period("M")
    k["sales"] = inv.groupby(month)["amount"].sum().reindex(k["period_end"].dt.to_period("M"), fill_value=0).to_numpy()
    k["days"] = k["period_end"].dt.day
    window_sales = k["sales"].rolling(window).sum()
    window_days = k["days"].rolling(window).sum()
    k["dso"] = k["ar"] / window_sales * window_days
    k["bpdso"] = k["current_ar"] / window_sales * window_days
    k["add"] = k["dso"] - k["bpdso"]
    begin = k["ar"].shift(window, fill_value=0.0)
    k["cei"] = (begin + window_sales / window - k["ar"]) / (begin + window_sales / window - k["current_ar"]) * 100
    countback = []
    for i, ar in enumerate(k["ar"]):
        left, days = ar, 0.0
        for j in range(i, -1, -1):
            sales, d = k["sales"].iloc[j], k["days"].iloc[j]
            if left <= sales:
                days += d * left / sales
                break
            left -= sales
            days += d
        else:
            days = np.nan
        countback.append(days)
    k["dso_countback"] = countback
    return k


# --------------------------------------------------------------------------------------------- ours
def ours_aging(inv, as_of):
    from portfolio_kit.payments import aging
    return aging(inv, as_of, by="customer_id").set_index("customer_id")[BUCKETS]


def ours_aging_history(inv, as_of):
    from portfolio_kit.payments import aging_history
    return aging_history(inv, as_of).set_index("period_end")[BUCKETS]


def ours_dso_trend(inv, as_of):
    from portfolio_kit.payments import receivables_kpis
    return receivables_kpis(inv, as_of, window=3)


WORK = {("ours", "aging by customer"): ours_aging, ("pandas", "aging by customer"): pandas_aging,
        ("ours", "aging history"): ours_aging_history, ("pandas", "aging history"): pandas_aging_history,
        ("ours", "DSO trend"): ours_dso_trend, ("pandas", "DSO trend"): pandas_dso_trend}
COMPARED = {"aging by customer": BUCKETS, "aging history": BUCKETS,
            "DSO trend": ["ar", "current_ar", "dso", "bpdso", "add", "cei", "dso_countback"]}


def run_case(library: str, task: str, n: int) -> dict:
    """Time one implementation on one task and size (in this process); save its result next to the data."""
    inv = pd.read_parquet(DATA / f"payments_{n}.parquet")
    import portfolio_kit.payments  # noqa: F401  (import outside the timed section)
    out, seconds, peak = timed(lambda: WORK[(library, task)](inv, AS_OF))
    out.reset_index(drop=task == "DSO trend").to_parquet(DATA / f"payments_{n}_{task.replace(' ', '_')}_{library}.parquet")
    return {"seconds": seconds, "peak_mb": peak}


def _difference(task: str, n: int) -> float:
    name = task.replace(" ", "_")
    ours, ref = (pd.read_parquet(DATA / f"payments_{n}_{name}_{lib}.parquet") for lib in ("ours", "pandas"))
    key = ours.columns[0] if task != "DSO trend" else None
    if key is not None:
        ours, ref = ours.set_index(key), ref.set_index(ref.columns[0])
        ours, ref = ours.sort_index(), ref.sort_index()
    cols = COMPARED[task]
    a, b = ours[cols].to_numpy(float), ref[cols].to_numpy(float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.nanmax(np.abs(a - b)))


def main(sizes: list[int]) -> str:
    DATA.mkdir(exist_ok=True)
    rows = []
    for n in sizes:
        make_invoices(n).to_parquet(DATA / f"payments_{n}.parquet")
        for task in TASKS:
            result = {}
            for library in ("ours", "pandas"):
                proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_payments", "--case", library, task,
                                       str(n)], capture_output=True, text=True, check=True, env=SINGLE_THREAD)
                result[library] = json.loads(proc.stdout.strip().splitlines()[-1])
            ours, ref = result["ours"], result["pandas"]
            rows.append({"invoices": f"{n:,}", "task": task, "pandas s": f"{ref['seconds']:.2f}",
                         "ours s": f"{ours['seconds']:.2f}", "speed-up": f"{ref['seconds'] / ours['seconds']:.1f}x",
                         "pandas MB": f"{ref['peak_mb']:.0f}", "ours MB": f"{ours['peak_mb']:.0f}",
                         "memory ratio": f"{ref['peak_mb'] / max(ours['peak_mb'], 1e-9):.1f}x",
                         "max abs. diff": f"{_difference(task, n):.1e}"})
        for path in DATA.glob(f"payments_{n}*.parquet"):   # hundreds of MB at 10M invoices
            path.unlink()
    return markdown_table(rows, ("As of 2025-12-31, 24 month ends, 200,000 customers; seconds and peak added memory per implementation, "
            "each in its own single-threaded process after reading the data. Reference: plain pandas "
            "(pd.cut + pivot_table, a loop over month ends, a loop for the countback)."))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--case", nargs=3, metavar=("LIBRARY", "TASK", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        library, task, n = args.case
        print(json.dumps(run_case(library, task, int(n))))
    else:
        print(main(args.sizes))
