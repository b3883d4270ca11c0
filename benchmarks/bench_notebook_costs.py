"""Benchmark: the costliest model steps of the CLV and payments notebooks, previous code against the current one.

Input: a client's ``portfolio.yaml`` (default: the 1M-customer client made by ``portfolio-kit sample --customers
1000000 --format parquet --lines-per-invoice 4 --years 2.25 --out /tmp/big1m``), loaded as the notebooks load it
(above ``raw_rows_limit`` a seeded sample of customers' rows: about 2M invoices at 1M customers). Steps, as the
notebooks call them:

- ``clv interval``: ``customer_value_by_group`` by size class with the 200-draw bootstrap (notebook 03), minus
  the same call without draws (the point estimates);
- ``late-payment backtest``: ``backtest_late_payment`` 9 months before ``as_of`` (notebook 04);
- ``late-payment model``: ``LatePaymentModel().fit`` at ``as_of``;
- ``Cox model``: ``PaymentTimeModel().fit`` at ``as_of``; ``expected collections``: its 30/60/90-day forecast.

"previous" is the code before this change, kept reachable here: the CLV bootstrap looping over draws with
``np.quantile`` (a copy below), and the payment models fitted on every invoice with the customers' columns
mapped per invoice and scoring features computed for every invoice, then filtered; the current
ones fit a stratified sample of 250,000 invoices above that many (``payments.models.fit_sample``). Both run in the same
process, one after the other, single-threaded BLAS (``python -m benchmarks.bench_notebook_costs`` sets it). The
script checks that the CLV intervals are identical and prints, per payment model, how far the estimates on
the sample are from those on every invoice, in standard errors of the sampled fit.

Run: ``python -m benchmarks.bench_notebook_costs --config /tmp/big1m/portfolio.yaml`` (about 10 minutes at 1M
customers, 3 GB); ``--only clv`` or ``--only payments`` for one half.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.common import markdown_table  # noqa: E402


# ------------------------------------------------------------------------------------------------ CLV previous
def previous_customer_value(purchases, spend, summary, *, horizon_months=12, discount_rate=0.01, margin=None,
                            periods_per_month=None, interval=0.9, n_draws=200, seed=0):
    """``customer_value`` before the vectorised bootstrap: a loop over draws per block of customers."""
    from portfolio_kit.clv import value
    from portfolio_kit.clv.base import summary_arrays
    from portfolio_kit.clv.gamma_gamma import GammaGamma

    out = value.customer_value(purchases, spend, summary, horizon_months=horizon_months,
                               discount_rate=discount_rate, margin=margin, periods_per_month=periods_per_month,
                               interval=interval, n_draws=0, seed=seed)
    if n_draws == 0:
        return out
    a = summary_arrays(summary, ("frequency", "recency", "T", "monetary_value"))
    periods_per_month = periods_per_month or summary.attrs["periods_per_month"]
    rate = out["margin_rate"].to_numpy()
    months = np.arange(1, horizon_months + 1)
    steps = months * float(periods_per_month)
    discount = (1.0 + discount_rate) ** -months.astype(float)
    x, m = a["frequency"], a["monetary_value"]
    d = value._distinct(a)
    rng = np.random.default_rng(seed)
    draws_p = purchases.sample_params(n_draws, rng).to_numpy()
    draws_s = spend.sample_params(n_draws, rng).to_numpy()
    discounted = np.array([value._future(purchases, theta, d, steps, discount)[1] for theta in draws_p])
    low, high = np.empty(len(out)), np.empty(len(out))
    block = max(1, 5_000_000 // n_draws)
    for start in range(0, len(out), block):
        part = slice(start, start + block)
        rows = d.inverse[part]
        sims = np.empty((n_draws, len(rows)))
        for i in range(n_draws):
            alive_i = purchases._alive(draws_p[i], d.x[rows], d.tx[rows], d.T[rows])
            spend_i = np.nan_to_num(GammaGamma._spend(draws_s[i], x[part], m[part]), nan=np.inf)
            sims[i] = alive_i * discounted[i, d.inverse2[rows]] * spend_i
        sims *= rate[part]
        low[part], high[part] = np.quantile(sims, [(1 - interval) / 2, (1 + interval) / 2], axis=0,
                                            method="inverted_cdf")
    out["clv_low"], out["clv_high"] = low, high
    return out


def previous_customer_value_by_group(purchases, summary, groups, **options):
    from portfolio_kit.clv import fit_gamma_gamma

    labels = groups.reindex(summary.index).astype("string").fillna("(unknown)")
    parts = [previous_customer_value(purchases, fit_gamma_gamma(part), part, **options).assign(spend_group=name)
             for name, part in summary.groupby(labels.to_numpy(), sort=True)]
    return pd.concat(parts).reindex(summary.index)


# ------------------------------------------------------------------------------------------- payments previous
@contextlib.contextmanager
def previous_payments():
    """The payment models as before: every invoice fitted (``max_rows=None`` is passed by the caller), the
    customers' columns mapped per invoice, scoring features computed for every invoice and then filtered."""
    from portfolio_kit.payments import models

    columns, features = models._customer_columns, models._features

    def per_invoice_columns(frame, customers, categorical, book=None, code=None, labels=None):
        return columns(frame, customers, categorical)

    def all_then_filter(invoices, customers, as_of, threshold=30, categorical=("size_class", "sector"),
                        issued_after=None, open_only=False, sample=None, labels=None):
        out = features(invoices, customers, as_of, threshold, categorical, sample=sample)
        if open_only:
            out = out[~out["paid"]].reset_index(drop=True)
        if issued_after is not None:
            out = out[out["issue_date"] > pd.Timestamp(issued_after)].reset_index(drop=True)
        return out

    models._customer_columns, models._features = per_invoice_columns, all_then_filter
    try:
        yield
    finally:
        models._customer_columns, models._features = columns, features


def _clock(work):
    start = time.perf_counter()
    out = work()
    return out, time.perf_counter() - start


def _in_standard_errors(sampled: pd.DataFrame, full: pd.DataFrame) -> tuple[float, float]:
    """Largest and mean |sampled - full| / sampled std_err over the terms."""
    z = ((sampled["coef"] - full["coef"]).abs() / sampled["std_err"]).to_numpy()
    return float(z.max()), float(z.mean())


def bench_clv(portfolio) -> list[dict]:
    from portfolio_kit import clv, engines

    end = portfolio.as_of
    summary = engines.rfm_summary(portfolio.rows("transactions"), end, period="D", period_multiplier=7,
                                  engine=portfolio.engine)
    purchases = clv.purchase_model("bgnbd").fit(summary)
    groups = portfolio.customers.set_index("customer_id")["size_class"]
    options = dict(horizon_months=12, discount_rate=0.01, margin=None, interval=0.9, seed=42)
    _, point = _clock(lambda: clv.customer_value_by_group(purchases, summary, groups, n_draws=0, **options))
    before, t_before = _clock(lambda: previous_customer_value_by_group(purchases, summary, groups, n_draws=200,
                                                                      **options))
    after, t_after = _clock(lambda: clv.customer_value_by_group(purchases, summary, groups, n_draws=200, **options))
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    print(f"clv: {len(summary):,} customers; point estimates {point:.2f} s; with 200 draws previous "
          f"{t_before:.2f} s, now {t_after:.2f} s; intervals identical", flush=True)
    return [{"step": "clv interval (200 draws, by size class)", "rows": f"{len(summary):,} customers",
             "previous s": f"{t_before - point:.2f}", "now s": f"{t_after - point:.2f}",
             "speed-up": f"{(t_before - point) / (t_after - point):.1f}x", "check": "identical intervals"}]


def bench_payments(portfolio, months: int = 9) -> list[dict]:
    from portfolio_kit import payments as pay

    invoices, customers, end = portfolio.invoices, portfolio.customers, portfolio.as_of
    split = end - pd.DateOffset(months=months)
    rows = []

    def row(step, t_before, t_after, check):
        rows.append({"step": step, "rows": f"{len(invoices):,} invoices", "previous s": f"{t_before:.2f}",
                     "now s": f"{t_after:.2f}", "speed-up": f"{t_before / t_after:.1f}x", "check": check})
        print(rows[-1], flush=True)

    def both(step):
        """``step(**options)`` with the previous code and every invoice, then the current one: results, seconds."""
        with previous_payments():
            before, t_before = _clock(lambda: step(max_rows=None))
        after, t_after = _clock(step)
        return before, after, t_before, t_after

    bt_before, bt_after, t_before, t_after = both(
        lambda **o: pay.backtest_late_payment(invoices, customers, split, end, **o))
    worst, mean = _in_standard_errors(bt_after.model.coefficients_, bt_before.model.coefficients_)
    auc = bt_before.metrics["auc"].item(), bt_after.metrics["auc"].item()
    row("late-payment backtest", t_before, t_after,
        f"{len(bt_after.scored):,} scored; AUC {auc[0]:.4f} -> {auc[1]:.4f}; coefficients within {worst:.2f} se "
        f"(mean {mean:.2f}); sample {bt_after.model.sample_share_:.1%} of the invoices")

    late_before, late_after, t_before, t_after = both(
        lambda **o: pay.LatePaymentModel(**o).fit(invoices, customers, end))
    worst, mean = _in_standard_errors(late_after.coefficients_, late_before.coefficients_)
    row("late-payment model", t_before, t_after,
        f"{late_before.n_train_:,} -> {late_after.n_train_:,} fitted; within {worst:.2f} se (mean {mean:.2f})")

    cox_before, cox_after, t_before, t_after = both(
        lambda **o: pay.PaymentTimeModel(**o).fit(invoices, customers, end))
    worst, mean = _in_standard_errors(cox_after.hazard_ratios_, cox_before.hazard_ratios_)
    row("Cox model of time to payment", t_before, t_after,
        f"sample {cox_after.sample_share_:.1%} of the invoices; within {worst:.2f} se (mean {mean:.2f})")

    with previous_payments():
        cash_before, t_before = _clock(lambda: cox_before.expected_collections(invoices, customers, end))
    cash_after, t_after = _clock(lambda: cox_after.expected_collections(invoices, customers, end))
    change = (cash_after["expected_collection"] / cash_before["expected_collection"] - 1).abs().max()
    row("expected collections (30/60/90 days)", t_before, t_after,
        f"forecast within {change:.2%} of the full-data model's")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="/tmp/big1m/portfolio.yaml")
    parser.add_argument("--only", choices=("clv", "payments"))
    args = parser.parse_args(argv)
    from portfolio_kit.data import load_portfolio

    portfolio, load = _clock(lambda: load_portfolio(args.config))
    print(f"loaded {args.config} in {load:.1f} s", flush=True)
    rows = []
    if args.only in (None, "clv"):
        rows += bench_clv(portfolio)
    if args.only in (None, "payments"):
        rows += bench_payments(portfolio)
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
