"""Each payments figure is drawn from its result table and returns a Figure with the expected title/axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from portfolio_kit import payments  # noqa: E402
from portfolio_kit.report.plots import payments as figures  # noqa: E402
from portfolio_kit.report.plots import style  # noqa: E402
from portfolio_kit.stats import scoring  # noqa: E402


AS_OF = pd.Timestamp("2024-03-31")


@pytest.fixture
def drawn():
    figs = []
    yield figs
    for fig in figs:
        plt.close(fig)


def check(fig, drawn, title, xlabel=None, ylabel=None):
    drawn.append(fig)
    ax = fig.axes[0]
    assert isinstance(fig, matplotlib.figure.Figure) and ax.get_title() == title
    if xlabel is not None:
        assert ax.get_xlabel() == xlabel
    if ylabel is not None:
        assert ax.get_ylabel() == ylabel
    return ax


def test_aging_history_bars(ledger, drawn):  # noqa: F811
    history = payments.aging_history(ledger, AS_OF)
    ax = check(figures.aging_history_bars(history), drawn, "Open receivables by age", "", "open amount")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["current", "1-30", "31-60", "61-90", "91+"]


def test_dso_trend(ledger, drawn):  # noqa: F811
    ax = check(figures.dso_trend(payments.receivables_kpis(ledger, AS_OF, window=1)), drawn, "Days sales outstanding",
               ylabel="days")
    assert len(ax.get_legend().get_texts()) == 4


def test_days_late_distribution(ledger, customers, drawn):  # noqa: F811
    late = payments.days_late(ledger, AS_OF, customers, by="sector")
    check(figures.days_late_distribution(late, by="sector"), drawn, "Days late of paid invoices", ylabel="sector")


def test_survival_curves(ledger, customers, drawn):  # noqa: F811
    curves = payments.kaplan_meier(ledger, AS_OF, customers, by="sector")
    check(figures.survival_curves(curves), drawn, "Share of invoices still unpaid", "days since the invoice date",
          "share unpaid")


def test_calibration_plot(drawn):
    table = scoring.calibration_table([0, 0, 1, 1, 0, 1], [0.1, 0.2, 0.6, 0.8, 0.3, 0.7], bins=3)
    ax = check(figures.calibration_plot(table), drawn, "Calibration: predicted vs observed",
               "mean predicted probability", "observed rate")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["perfect calibration", "bins"]


def test_one_calibration_chart_for_one_score_or_several(drawn):
    """The churn and payments calibration figures are the same chart: a line per ``score`` when stacked."""
    table = scoring.calibration_table([0, 0, 1, 1, 0, 1], [0.1, 0.2, 0.6, 0.8, 0.3, 0.7], bins=3)
    stacked = pd.concat([table.assign(score="logit model"), table.assign(score="recency only")])
    ax = check(style.calibration_chart(stacked, "churn.plot"), drawn, "Calibration: predicted vs observed churn",
               "mean predicted churn probability", "observed churn rate")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["perfect calibration", "logit model",
                                                                   "recency only"]
    assert ax.get_xlim()[1] <= 1 and ax.xaxis.get_major_formatter()(0.5) == "50%"


def test_exposure_vs_limit(ledger, customers, drawn):  # noqa: F811
    table = payments.exposure(ledger, customers, AS_OF)
    ax = check(figures.exposure_vs_limit(table), drawn, "Exposure vs credit limit", "credit limit")
    assert ax.get_xscale() == "log"


def test_scatter_of_many_customers_draws_the_same_seeded_sample():
    """Plots of raw distributions draw at most MAX_POINTS points, a seeded sample: the same at every run."""
    import numpy as np

    from portfolio_kit.report.plots.style import MAX_POINTS

    rng = np.random.default_rng(3)
    n = MAX_POINTS + 5_000
    exposure = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "credit_limit": rng.uniform(1, 10, n),
                             "exposure": rng.uniform(1, 10, n), "over_limit": rng.random(n) < 0.1})
    drawn = []
    for _ in range(2):
        fig = figures.exposure_vs_limit(exposure)
        drawn.append(np.concatenate([c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())]))
        plt.close(fig)
    assert len(drawn[0]) == MAX_POINTS and np.array_equal(drawn[0], drawn[1])
