"""Tests of portfolio_kit.concentration and its figures.

Fixtures are computed in the tests by an independent, obvious method (pairwise sums, loops over a handful of
customers); published figures come from the CDNOW data set (``domain.md``: 78-week spend per customer of the
2,357-customer cohort, Gini 0.6309 and top 20% share 67.4%).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from portfolio_kit.concentration import (  # noqa: E402
    HHI,
    abc_classes,
    abc_summary,
    concentration_over_time,
    concentration_summary,
    gini,
    hhi,
    lorenz_curve,
    pareto_table,
    revenue_margin_classes,
    revenue_margin_matrix,
    top_share,
)
from portfolio_kit.data.datasets import load_cdnow  # noqa: E402
from portfolio_kit.report.plots.concentration import (concentration_trend, lorenz_chart, pareto_chart,
                                                      revenue_margin_scatter)

# non-negative values with at least one positive one: the domain of the measures
values_strategy = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60).filter(lambda v: sum(v) > 0)
mixed_strategy = st.lists(st.integers(-50, 1000), min_size=1, max_size=40).filter(lambda v: any(x > 0 for x in v))


def pairwise_gini(values) -> float:
    """Gini by its definition: mean absolute difference over all pairs, ``sum |xi - xj| / (2 n sum x)``."""
    x = np.asarray(values, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size * x.sum()))


def abc_by_loop(values, thresholds=(0.80, 0.95)) -> list[str]:
    """ABC class of each customer by brute force: the positive share held by strictly larger customers."""
    total = sum(v for v in values if v > 0)
    out = []
    for v in values:
        held_above = sum(w for w in values if w > v and w > 0) / total
        out.append("ABCDE"[sum(held_above >= t for t in thresholds)])
    return out


@pytest.fixture(scope="module")
def cdnow_spend() -> pd.Series:
    tx = load_cdnow("sample")
    return tx.groupby("customer_id")["amount"].sum()


# --------------------------------------------------------------------------------------------- published figures
def test_cdnow_gini_matches_published_figure(cdnow_spend):
    # domain.md: CDNOW 78-week spend per customer, 2,357 customers: Gini 0.6309
    assert len(cdnow_spend) == 2357
    assert gini(cdnow_spend) == pytest.approx(0.6309, abs=5e-5)


def test_cdnow_top_20_percent_share_matches_published_figure(cdnow_spend):
    # domain.md: CDNOW 78-week spend per customer, the top 20% of customers hold 67.4%
    assert round(top_share(cdnow_spend, fraction=0.2), 3) == 0.674


# --------------------------------------------------------------------------------------------- gini
def test_gini_of_known_vectors():
    # [1, 2, 3, 4]: sum |xi - xj| = 2 * (1+2+3+1+2+1) = 20, / (2 * 4 * 10) = 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    # one customer holds everything: the maximum (n - 1) / n
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    assert gini(pd.Series([7.0], index=["only"])) == 0.0


@given(values_strategy)
def test_gini_ascending_and_pairwise_forms_agree(values):
    assert gini(values) == pytest.approx(pairwise_gini(values), abs=1e-9)


@given(values_strategy)
def test_gini_bounds_and_invariances(values):
    g, n = gini(values), len(values)
    assert -1e-12 <= g <= (n - 1) / n + 1e-12
    assert gini(list(reversed(values))) == pytest.approx(g, abs=1e-9)
    assert gini([3.5 * v for v in values]) == pytest.approx(g, abs=1e-9)


# --------------------------------------------------------------------------------------------- hhi, top share
def test_hhi_of_equal_shares_is_one_over_n():
    for n in (1, 2, 7, 100):
        h = hhi(np.full(n, 12.5))
        assert isinstance(h, HHI)
        assert h.raw == pytest.approx(1 / n)
        assert h.equivalent_customers == pytest.approx(n)
        assert h.normalised == pytest.approx(0.0 if n > 1 else 1.0)


def test_hhi_of_known_shares():
    # shares 0.5, 0.3, 0.2: H = 0.25 + 0.09 + 0.04 = 0.38; normalised (0.38 - 1/3) / (2/3) = 0.07
    h = hhi(pd.Series([50, 30, 20], index=["a", "b", "c"]))
    assert h.raw == pytest.approx(0.38)
    assert h.normalised == pytest.approx(0.07)
    assert h.equivalent_customers == pytest.approx(1 / 0.38)


@given(values_strategy)
def test_hhi_bounds(values):
    h, n = hhi(values), len(values)
    assert 1 / n - 1e-12 <= h.raw <= 1 + 1e-12
    assert 1 - 1e-9 <= h.equivalent_customers <= n + 1e-9


def test_top_share_counts_and_fractions():
    values = [5, 50, 15, 30]
    assert top_share(values, n=1) == pytest.approx(0.50)
    assert top_share(values, n=2) == pytest.approx(0.80)
    assert top_share(values, n=10) == pytest.approx(1.0)
    assert top_share(values, n=0) == 0.0
    assert top_share(values, fraction=0.5) == pytest.approx(0.80)
    # 30% of 4 customers = 1.2 customers: the largest plus 0.2 of the second, (50 + 0.2 * 30) / 100
    assert top_share(values, fraction=0.3) == pytest.approx(0.56)
    with pytest.raises(ValueError, match="exactly one"):
        top_share(values)
    with pytest.raises(ValueError, match="exactly one"):
        top_share(values, n=1, fraction=0.1)
    with pytest.raises(ValueError, match="fraction"):
        top_share(values, fraction=1.5)


@given(values_strategy, st.integers(0, 70))
def test_top_share_is_the_sum_of_the_largest(values, n):
    expected = sum(sorted(values, reverse=True)[:n]) / sum(values)
    assert top_share(values, n=n) == pytest.approx(expected, abs=1e-9)
    assert top_share(values, fraction=1.0) == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------- lorenz, pareto
def test_lorenz_curve_of_known_vector():
    curve = lorenz_curve([3, 1])
    assert curve.to_dict("list") == {"customer_share": [0.0, 0.5, 1.0], "value_share": [0.0, 0.25, 1.0]}


@given(values_strategy)
def test_lorenz_curve_is_monotone_convex_from_origin_to_one(values):
    curve = lorenz_curve(values)
    x, y = curve["customer_share"].to_numpy(), curve["value_share"].to_numpy()
    assert len(curve) == len(values) + 1
    assert (x[0], y[0]) == (0.0, 0.0)
    assert x[-1] == pytest.approx(1.0) and y[-1] == pytest.approx(1.0)
    steps = np.diff(y)
    assert np.all(steps >= -1e-12)
    assert np.all(np.diff(steps) >= -1e-9)  # convex: the customers come smallest first
    assert np.all(y <= x + 1e-9)


def test_pareto_table_ranks_and_cumulates():
    table = pareto_table(pd.Series([5.0, 50.0, 15.0, 30.0], index=["d", "a", "c", "b"]))
    assert list(table.index) == ["a", "b", "c", "d"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["share"].tolist() == pytest.approx([0.50, 0.30, 0.15, 0.05])
    assert table["cumulative_share"].tolist() == pytest.approx([0.50, 0.80, 0.95, 1.00])
    assert table["customer_share"].tolist() == pytest.approx([0.25, 0.50, 0.75, 1.00])


# --------------------------------------------------------------------------------------------- abc classes
def test_abc_boundaries():
    # shares held above each customer: 0, 0.50, 0.80, 0.95 -> A, A (crosses 80%), B, C
    classes = abc_classes(pd.Series([50, 30, 15, 5], index=list("abcd")))
    assert classes["abc_class"].tolist() == ["A", "A", "B", "C"]
    assert abc_classes([50, 30, 15, 5], thresholds=(0.70, 0.90))["abc_class"].tolist() == ["A", "A", "B", "C"]
    assert abc_classes([50, 30, 15, 5], thresholds=(0.5, 0.8, 0.95))["abc_class"].tolist() == ["A", "B", "C", "D"]


def test_abc_ties_get_the_same_class():
    # six customers of 5 start at 70% held above them: all A, although ranking one by one would give
    # held-above shares 0.70 .. 0.95 and split them A, A, B, B, B, C
    assert abc_classes([70, 5, 5, 5, 5, 5, 5])["abc_class"].tolist() == ["A"] * 7
    # the two customers of 10 both start at 80%: both B
    assert abc_classes([60, 20, 10, 10])["abc_class"].tolist() == ["A", "A", "B", "B"]
    assert abc_classes(np.ones(10))["abc_class"].tolist() == ["A"] * 10


def test_abc_zero_and_negative_customers_fall_in_the_last_class():
    classes = abc_classes(pd.Series([80.0, 0.0, -10.0, 20.0], index=["a", "zero", "credit", "b"]))
    assert classes.loc[["zero", "credit"], "abc_class"].tolist() == ["C", "C"]
    assert classes.loc["credit", "share"] == pytest.approx(-0.10)  # of the positive total, 100
    assert classes["cumulative_share"].tolist() == pytest.approx([0.8, 1.0, 1.0, 1.0])


@given(mixed_strategy)
def test_abc_classes_partition_customers_and_match_brute_force(values):
    classes = abc_classes(pd.Series(values, index=[f"c{i}" for i in range(len(values))]))
    assert sorted(classes.index) == sorted(f"c{i}" for i in range(len(values)))
    assert classes["abc_class"].notna().all()
    assert classes.sort_index(key=lambda i: i.str[1:].astype(int))["abc_class"].tolist() == abc_by_loop(values)
    a_share = classes.loc[classes["abc_class"] == "A", "share"].sum()
    assert a_share >= 0.80 - 1e-9
    summary = abc_summary(classes)
    assert summary["customers"].sum() == len(values)


def test_abc_rejects_bad_thresholds():
    for bad in [(0.95, 0.80), (0.0, 0.5), (0.8, 1.2), ()]:
        with pytest.raises(ValueError, match="thresholds"):
            abc_classes([1, 2, 3], thresholds=bad)


# --------------------------------------------------------------------------------------------- edge cases and rule
def test_empty_zero_and_missing_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="no customers"):
        gini([])
    with pytest.raises(ValueError, match="no customers"):
        abc_classes(pd.Series([], dtype=float))
    with pytest.raises(ValueError, match="no positive value"):
        hhi([0, 0])
    with pytest.raises(ValueError, match="no positive value"):
        pareto_table([-1.0, 0.0])
    with pytest.raises(ValueError, match="1 missing"):
        lorenz_curve([1.0, np.nan])
    with pytest.raises(TypeError, match="DataFrame"):
        gini(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(TypeError, match="numbers"):
        gini(["a", "b"])


def test_single_customer_is_fully_concentrated():
    one = pd.Series([42.0], index=["only"])
    assert gini(one) == 0.0
    assert hhi(one) == HHI(1.0, 1.0, 1.0)
    assert top_share(one, fraction=0.2) == pytest.approx(0.2)  # a fifth of one customer, read off the line
    assert top_share(one, n=1) == 1.0
    assert abc_classes(one)["abc_class"].tolist() == ["A"]
    assert lorenz_curve(one).to_dict("list") == {"customer_share": [0.0, 1.0], "value_share": [0.0, 1.0]}


def test_negative_values_are_left_out_and_reported():
    # module rule: customers with net value < 0 are left out of the measures, zeros kept
    with_credit = pd.Series([-5.0, 0.0, 10.0, 30.0])
    kept = [0.0, 10.0, 30.0]
    assert gini(with_credit) == pytest.approx(pairwise_gini(kept))
    assert hhi(with_credit) == pytest.approx(hhi(kept))
    assert lorenz_curve(with_credit).equals(lorenz_curve(kept))
    summary = concentration_summary(with_credit)
    assert summary["customers"] == 4
    assert summary["negative_customers"] == 1
    assert summary["negative_value"] == -5.0
    assert summary["total"] == 40.0


def test_concentration_summary_agrees_with_the_single_measures(cdnow_spend):
    summary = concentration_summary(cdnow_spend)
    assert summary["gini"] == pytest.approx(gini(cdnow_spend))
    assert summary["hhi"] == pytest.approx(hhi(cdnow_spend).raw)
    assert summary["top_20pct_share"] == pytest.approx(top_share(cdnow_spend, fraction=0.2))
    assert summary["top_10_share"] == pytest.approx(top_share(cdnow_spend, n=10))
    counts = abc_classes(cdnow_spend)["abc_class"].value_counts()
    assert summary["customers_for_80pct"] == counts["A"]
    assert summary["customers_for_95pct"] == counts["A"] + counts["B"]


def test_concentration_over_time_by_year():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "a", "b", "b"],
        "date": pd.to_datetime(["2023-01-05", "2023-06-01", "2023-03-01", "2023-09-09",
                                "2024-02-02", "2024-05-05", "2024-07-07"]),
        "amount": [60.0, 20.0, 15.0, 5.0, 10.0, 50.0, -20.0],
    })
    by_year = concentration_over_time(tx, freq="Y")
    assert [str(p) for p in by_year.index] == ["2023", "2024"]
    # 2023 net per customer: a 80, b 15, c 5; 2024: a 10, b 30 (credit note netted)
    assert by_year.loc[pd.Period("2023"), "gini"] == pytest.approx(pairwise_gini([80, 15, 5]))
    assert by_year.loc[pd.Period("2024"), "gini"] == pytest.approx(pairwise_gini([10, 30]))
    assert by_year.loc[pd.Period("2024"), "top_1_share"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="missing column"):
        concentration_over_time(tx.drop(columns="amount"))


# --------------------------------------------------------------------------------------------- revenue x margin
def test_revenue_margin_classes_and_matrix():
    revenue = pd.Series([100.0, 80.0, 10.0, 5.0, 0.0], index=list("abcde"))
    margin = pd.Series([10.0, 40.0, 1.0, 3.0, -2.0], index=list("abcde"))
    classes = revenue_margin_classes(revenue, margin)
    # median revenue 10 -> c is "high" (edges go up); portfolio margin % = 52 / 195 = 26.7%
    assert classes["revenue_class"].tolist() == ["high", "high", "high", "low", "low"]
    assert classes["margin_pct"].iloc[:4].tolist() == pytest.approx([0.10, 0.50, 0.10, 0.60])
    assert classes["margin_class"].tolist()[:4] == ["low", "high", "low", "high"]
    assert pd.isna(classes.loc["e", "margin_class"]) and pd.isna(classes.loc["e", "quadrant"])
    assert classes.loc["b", "quadrant"] == "high revenue, high margin"
    matrix = revenue_margin_matrix(classes)
    assert list(matrix.index) == ["high", "low"] and list(matrix.columns) == ["low", "high"]
    assert matrix.loc["high", "low"] == 2 and matrix.loc["low", "high"] == 1 and matrix.to_numpy().sum() == 4
    assert revenue_margin_matrix(classes, "revenue").loc["high", "low"] == 110.0


def test_revenue_margin_three_by_three():
    revenue = pd.Series(np.arange(1.0, 10.0))
    margin = revenue * np.array([0.1, 0.3, 0.5] * 3)
    classes = revenue_margin_classes(revenue, margin, revenue_quantiles=(1 / 3, 2 / 3), margin_pct_edges=(0.2, 0.4))
    assert classes["revenue_class"].value_counts().to_dict() == {"low": 3, "medium": 3, "high": 3}
    assert classes["margin_class"].tolist() == ["low", "medium", "high"] * 3
    assert revenue_margin_matrix(classes).shape == (3, 3)
    with pytest.raises(ValueError, match="revenue_quantiles"):
        revenue_margin_classes(revenue, margin, revenue_quantiles=(0.2, 0.4, 0.6))


# --------------------------------------------------------------------------------------------- figures
@pytest.fixture()
def close_figures():
    yield
    plt.close("all")


def test_pareto_chart(close_figures, cdnow_spend):
    fig = pareto_chart(abc_classes(cdnow_spend))
    ax = fig.axes[0]
    assert ax.get_title() == "Pareto: 33% of customers make 80% of the value"
    assert ax.get_xlabel().startswith("share of customers")
    assert len(ax.get_legend().get_texts()) == 3


def test_lorenz_chart_shows_the_gini(close_figures, cdnow_spend):
    fig = lorenz_chart(lorenz_curve(cdnow_spend))
    assert fig.axes[0].get_title() == f"Lorenz curve (Gini {gini(cdnow_spend):.3f})" == "Lorenz curve (Gini 0.631)"


def test_revenue_margin_scatter(close_figures):
    rng = np.random.default_rng(3)
    revenue = pd.Series(rng.lognormal(5, 1, 300))
    classes = revenue_margin_classes(revenue, revenue * rng.uniform(0, 0.5, 300))
    ax = revenue_margin_scatter(classes).axes[0]
    assert ax.get_title() == "Revenue x margin %"
    assert ax.get_xscale() == "log"
    assert sum(line.get_linestyle() == "--" for line in ax.lines) == 2  # one revenue, one margin boundary


def test_concentration_trend(close_figures):
    tx = load_cdnow("sample")
    ax = concentration_trend(concentration_over_time(tx, freq="Q")).axes[0]
    assert ax.get_title() == "Concentration over time"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gini", "top_20pct_share"]
