"""Benchmark: churn labels and features, the BG/NBD churn score, the logit with drivers, tenure survival and
cohort retention on a large client, portfolio_kit.churn against the references.

Input (1M customers by default), generated with a fixed seed: each customer starts in the three years before
:data:`AS_OF`, buys at a gamma-distributed rate (about one order a month on average) for an exponential
lifetime, on uniformly spread days; amounts lognormal, 2% returns. Work timed, at the cut-off
``AS_OF - 6 months`` with a 6-month horizon:

- ``labels + features``: :func:`churn_labels` and :func:`churn_features` (RFM, gaps, regularity, spend trend)
  vs the pandas an analyst would write (``groupby`` per customer, ``diff`` of purchase days, masks per
  window); the largest difference over the common columns is reported;
- ``BG/NBD no-purchase probability``: :func:`no_purchase_probability` vs lifetimes
  (``summary_data_from_transaction_data`` with ``freq="D", freq_multiplier=7``, ``BetaGeoFitter``,
  ``conditional_probability_alive`` and the same closed form);
- ``logit + drivers`` (fit on the features above, then every customer's reasons in words), ``tenure
  survival`` (Kaplan-Meier, one curve) and ``cohort retention``: the kit, the last against ``to_period`` +
  ``groupby`` + ``nunique``.

Each case runs in its own single-threaded process after reading the data (Parquet in ``benchmarks/.data``,
removed afterwards); memory is the peak resident memory added by the work (Linux ``VmHWM`` after resetting
it, minus the resident memory before).

Run: ``python -m benchmarks.bench_churn`` (a few minutes; ``--customers 100000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import SINGLE_THREAD, markdown_table, timed

DATA = Path(__file__).resolve().parent / ".data"
SEED = 2005
AS_OF = pd.Timestamp("2024-12-31")
CUTOFF = pd.Timestamp("2024-06-30")
HORIZON = 6
SIX_MONTHS_BACK, YEAR_BACK = pd.Timestamp("2023-12-31"), pd.Timestamp("2023-06-30")  # calendar month ends
FEATURES = ["recency_days", "tenure_days", "frequency", "mean_gap_days", "gap_cv", "revenue", "spend_trend"]


def make_transactions(n: int, seed: int = SEED) -> pd.DataFrame:
    """Transactions of ``n`` customers over three years up to :data:`AS_OF` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    span = 3 * 365
    start = rng.integers(0, span, n)
    life = np.minimum(rng.exponential(400, n).astype(np.int64) + 1, span - start)
    rate = rng.gamma(0.8, 1 / 24, n)                                       # orders per day, mean 1 a month
    orders = 1 + rng.poisson(rate * life)
    code = np.repeat(np.arange(n), orders)
    day = start[code] + (rng.random(code.size) * life[code]).astype(np.int64)
    day[np.r_[0, np.cumsum(orders)[:-1]]] = start                           # the first order on the first day
    amount = np.round(rng.lognormal(6.0, 1.0, code.size), 2)
    returns = rng.random(code.size) < 0.02
    amount[returns] *= -0.5
    first = AS_OF.to_datetime64().astype("datetime64[D]") - span
    return pd.DataFrame({"customer_id": pd.Series(code).map("C{:07d}".format),
                         "date": (first + day.astype("timedelta64[D]")).astype("datetime64[ns]"), "amount": amount})


# --------------------------------------------------------------------------------------------- references
def pandas_features(tx: pd.DataFrame) -> pd.DataFrame:
    """Labels and features the straightforward way: one groupby per quantity."""
    history, buys = tx[tx["date"] <= CUTOFF], tx[tx["amount"] > 0]
    past = buys[buys["date"] <= CUTOFF]
    g = past.groupby("customer_id")["date"]
    out = pd.DataFrame({"first": g.min(), "last": g.max(), "frequency": g.nunique()})
    out = out[out["last"] > YEAR_BACK]
    out["recency_days"] = (CUTOFF - out["last"]).dt.days.astype(float)
    out["tenure_days"] = (CUTOFF - out["first"]).dt.days.astype(float)
    out["mean_gap_days"] = (out["last"] - out["first"]).dt.days / (out["frequency"] - 1).where(out["frequency"] > 1)
    days = past[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"])
    days["gap"] = days.groupby("customer_id")["date"].diff().dt.days
    gaps = days.dropna().groupby("customer_id")["gap"]
    out["gap_cv"] = (gaps.std(ddof=0) / gaps.mean()).where(gaps.count() >= 2)
    out["revenue"] = history.groupby("customer_id")["amount"].sum()

    def window(a, b):
        part = history[(history["date"] > a) & (history["date"] <= b)]
        return part.groupby("customer_id")["amount"].sum().reindex(out.index, fill_value=0.0).clip(lower=0)
    recent, previous = window(SIX_MONTHS_BACK, CUTOFF), window(YEAR_BACK, SIX_MONTHS_BACK)
    out["spend_trend"] = ((recent - previous) / (recent + previous)).fillna(0.0)
    later = buys[(buys["date"] > CUTOFF) & (buys["date"] <= AS_OF)]                # the 6-month window
    out["churned"] = (~out.index.isin(later["customer_id"].unique())).astype(int)
    return out


def lifetimes_no_purchase(tx: pd.DataFrame) -> pd.Series:
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    buys = tx[(tx["amount"] > 0) & (tx["date"] <= CUTOFF)]
    s = summary_data_from_transaction_data(buys, "customer_id", "date", observation_period_end=CUTOFF, freq="D",
                                           freq_multiplier=7)
    model = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    alive = model.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    r, alpha = model.params_["r"], model.params_["alpha"]
    t = HORIZON * 365.25 / 12 / 7
    quiet = ((alpha + s["T"]) / (alpha + s["T"] + t)) ** (r + s["frequency"])
    return pd.Series(1 - alive * (1 - quiet), index=s.index)


def pandas_cohorts(tx: pd.DataFrame) -> pd.DataFrame:
    buys = tx[tx["amount"] > 0]
    period = buys["date"].dt.to_period("Q")
    cohort = period.groupby(buys["customer_id"]).transform("min")
    k = (period - cohort).map(lambda offset: offset.n)
    table = buys.groupby([cohort, k])["customer_id"].nunique()
    return table / table.xs(0, level=1).reindex(table.index.get_level_values(0)).to_numpy()


# --------------------------------------------------------------------------------------------- ours
def ours_features(tx):
    from portfolio_kit import churn
    labels = churn.churn_labels(tx, CUTOFF, HORIZON, as_of=AS_OF)
    return churn.churn_features(tx, CUTOFF).join(labels["churned"])


def ours_no_purchase(tx):
    from portfolio_kit import churn
    return churn.no_purchase_probability(tx, CUTOFF, HORIZON, "bgnbd")["no_purchase_probability"]


def ours_model(features):
    from portfolio_kit import churn
    from portfolio_kit.report.wording.churn import drivers_in_words
    model = churn.ChurnModel(categorical=()).fit(features, features["churned"])
    return drivers_in_words(model.drivers(features), features)


def ours_survival(tx):
    from portfolio_kit import churn
    return churn.tenure_survival(tx, AS_OF, HORIZON)


def ours_cohorts(tx):
    from portfolio_kit import churn
    return churn.cohort_retention(tx, AS_OF)


WORK = {("ours", "labels + features"): ours_features, ("pandas", "labels + features"): pandas_features,
        ("ours", "BG/NBD no-purchase probability"): ours_no_purchase,
        ("lifetimes", "BG/NBD no-purchase probability"): lifetimes_no_purchase,
        ("ours", "logit + drivers"): ours_model, ("ours", "tenure survival"): ours_survival,
        ("ours", "cohort retention"): ours_cohorts, ("pandas", "cohort retention"): pandas_cohorts}
SETUP = {"logit + drivers": ours_features}  # input prepared before the timing (default: the transactions)
REFERENCE = {"labels + features": "pandas groupby per quantity",
             "BG/NBD no-purchase probability": "lifetimes BetaGeoFitter", "cohort retention": "pandas to_period"}


def _difference(task: str, ours, ref) -> float:
    if task == "labels + features":
        cols = FEATURES + ["churned"]
        ref = ref.reindex(ours.index)
        return float(np.nanmax(np.abs(ours[cols].to_numpy(float) - ref[cols].to_numpy(float))))
    if task == "BG/NBD no-purchase probability":
        return float(np.max(np.abs(ours.to_numpy() - ref.reindex(ours.index).to_numpy())))
    got = ours.set_index(["cohort", "period"])["retention"]
    labels = [f"{p.year}Q{p.quarter}" for p in ref.index.get_level_values(0)]
    want = ref.set_axis(pd.MultiIndex.from_arrays([labels, ref.index.get_level_values(1)]))
    return float(np.max(np.abs(got.to_numpy() - want.reindex(got.index).fillna(0).to_numpy())))


def run_case(library: str, task: str, n: int) -> dict:
    """Time one implementation of one task in this process; keep the result for the comparison."""
    tx = pd.read_parquet(DATA / f"churn_{n}.parquet")
    import portfolio_kit.churn  # noqa: F401  (imports outside the timed section)
    data = SETUP.get(task, lambda frame: frame)(tx)
    out, seconds, peak = timed(lambda: WORK[(library, task)](data))
    result = {"seconds": seconds, "peak_mb": peak}
    if task in REFERENCE:
        pd.to_pickle(out, DATA / f"churn_{n}_{task.replace(' ', '_').replace('/', '')}_{library}.pkl")
    return result


def main(n: int) -> str:
    DATA.mkdir(exist_ok=True)
    data = DATA / f"churn_{n}.parquet"
    tx = make_transactions(n)
    tx.to_parquet(data)
    lines = len(tx)
    del tx
    rows = []
    try:
        for task in dict.fromkeys(t for _, t in WORK):
            results = {}
            for library in [lib for lib, t in WORK if t == task]:
                out = subprocess.run([sys.executable, "-m", "benchmarks.bench_churn", "--case", library, task,
                                      "--customers", str(n)], capture_output=True, text=True, check=True,
                                     env=SINGLE_THREAD)
                results[library] = json.loads(out.stdout.strip().splitlines()[-1])
            ours, ref = results["ours"], next((v for k, v in results.items() if k != "ours"), None)
            row = {"task": task, "kit s": f"{ours['seconds']:.2f}", "kit peak MB": f"{ours['peak_mb']:,.0f}",
                   "reference": REFERENCE.get(task, ""), "ref s": "", "ref peak MB": "", "time kit/ref": "",
                   "memory kit/ref": "", "max difference": ""}
            if ref is not None:
                name = task.replace(" ", "_").replace("/", "")
                library = next(k for k in results if k != "ours")
                diff = _difference(task, pd.read_pickle(DATA / f"churn_{n}_{name}_ours.pkl"),
                                   pd.read_pickle(DATA / f"churn_{n}_{name}_{library}.pkl"))
                row.update({"ref s": f"{ref['seconds']:.2f}", "ref peak MB": f"{ref['peak_mb']:,.0f}",
                            "time kit/ref": f"{ours['seconds'] / ref['seconds']:.2f}",
                            "memory kit/ref": f"{ours['peak_mb'] / max(ref['peak_mb'], 1):.2f}",
                            "max difference": f"{diff:.2g}"})
            rows.append(row)
    finally:
        for path in DATA.glob(f"churn_{n}*"):
            path.unlink()
    return (f"Churn, {n:,} customers, {lines:,} transaction lines (seed {SEED}), cut-off {CUTOFF.date()}, "
            f"horizon {HORIZON} months\n\n" + markdown_table(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--case", nargs=2, metavar=("LIBRARY", "TASK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, args.customers)))
    else:
        print(main(args.customers))
