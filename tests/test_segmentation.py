"""Tests of portfolio_kit.segmentation and its figures.

The small transaction fixture below is worked out by hand in the comments; the CDNOW checks tie the
segmentation to the concentration module's published figures (``domain.md``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from portfolio_kit.concentration import abc_classes  # noqa: E402
from portfolio_kit.data.datasets import load_cdnow  # noqa: E402
from portfolio_kit.report.plots.segmentation import rfm_heatmap, segment_chart  # noqa: E402
from portfolio_kit.segmentation import (  # noqa: E402
    RFM_SEGMENT_MAP,
    ValueClassRules,
    customer_segments,
    customer_summary,
    ranked_customers,
    revenue_bands,
    rfm_scores,
    rfm_table,
    segment_profile,
    value_classes,
)

AS_OF = pd.Timestamp("2024-12-31")


@pytest.fixture()
def transactions() -> pd.DataFrame:
    """Four customers; comments give what the summary must find."""
    rows = [
        # a: three purchase days (two lines on 2024-03-01), one credit note, two products, two channels
        ("a", "2024-01-10", 100.0, 30.0, "p1", "web"),
        ("a", "2024-03-01", 50.0, 10.0, "p2", "web"),
        ("a", "2024-03-01", 25.0, 5.0, "p1", "agent"),
        ("a", "2024-06-30", 80.0, 20.0, "p1", "web"),
        ("a", "2024-07-15", -40.0, -12.0, "p1", "web"),
        # b: one purchase long ago, then a credit note larger than it -> net revenue -10
        ("b", "2022-05-01", 30.0, 6.0, "p3", "agent"),
        ("b", "2023-01-01", -40.0, -8.0, "p3", "agent"),
        # c: one recent purchase with a loss-making margin
        ("c", "2024-12-01", 500.0, -5.0, "p2", "edi"),
        # d: only a transaction after as_of -> not in the summary
        ("d", "2025-02-01", 70.0, 7.0, "p1", "web"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "margin", "product", "channel"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# --------------------------------------------------------------------------------------------- summary
def test_customer_summary_by_hand(transactions):
    s = customer_summary(transactions, as_of=AS_OF)
    assert list(s.index) == ["a", "b", "c"]
    assert s.loc["a", "first_purchase"] == pd.Timestamp("2024-01-10")
    assert s.loc["a", "last_purchase"] == pd.Timestamp("2024-06-30")  # the credit note is not a purchase
    assert s.loc["a", "recency"] == (AS_OF - pd.Timestamp("2024-06-30")).days == 184
    assert s.loc["a", "tenure"] == (AS_OF - pd.Timestamp("2024-01-10")).days
    assert s["frequency"].tolist() == [3, 1, 1]
    assert s["revenue"].tolist() == pytest.approx([215.0, -10.0, 500.0])
    assert s["margin"].tolist() == pytest.approx([53.0, -2.0, -5.0])
    assert s["lines"].tolist() == [5, 2, 1]
    assert s["credit_notes"].tolist() == [1, 1, 0]
    assert s["credit_amount"].tolist() == pytest.approx([40.0, 40.0, 0.0])
    assert s["n_products"].tolist() == [2, 1, 1]
    assert s["n_channels"].tolist() == [2, 1, 1]


def test_customer_summary_window_and_optional_columns(transactions):
    s = customer_summary(transactions, as_of=AS_OF, start="2024-01-01")
    assert list(s.index) == ["a", "c"]  # b has nothing in 2024
    bare = transactions[["customer_id", "date", "amount"]].assign(margin=np.nan)  # optional column added empty
    s = customer_summary(bare, as_of=AS_OF)
    assert not {"margin", "n_products", "n_channels"} & set(s.columns)
    assert customer_summary(transactions)["recency"].min() == 0  # as_of defaults to the last date: d bought then


def test_customer_summary_joins_the_customer_master(transactions):
    customers = pd.DataFrame({"customer_id": ["a", "b", "e"], "sector": ["food", "steel", "food"],
                              "region": ["north", "south", "north"]})
    s = customer_summary(transactions, customers, as_of=AS_OF)
    assert list(s.index) == ["a", "b", "c", "e"]
    assert s.loc["e", ["frequency", "revenue", "lines"]].tolist() == [0, 0, 0]  # no transactions: zeros
    assert pd.isna(s.loc["e", "last_purchase"]) and pd.isna(s.loc["c", "sector"])
    assert s.loc["a", "sector"] == "food"
    with pytest.raises(ValueError, match="duplicated customer_id"):
        customer_summary(transactions, pd.concat([customers, customers]), as_of=AS_OF)
    with pytest.raises(ValueError, match="clash"):
        customer_summary(transactions, customers.assign(revenue=1.0), as_of=AS_OF)


def test_bad_transactions_are_clear_errors(transactions):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['amount'\]"):
        customer_summary(transactions.drop(columns="amount"))
    with pytest.raises(TypeError, match="'date' must be datetime64"):
        customer_summary(transactions.assign(date=transactions["date"].astype(str)))
    with pytest.raises(ValueError, match="'amount' has 1 missing"):
        customer_summary(transactions.assign(amount=transactions["amount"].where(transactions.index != 0)))
    with pytest.raises(ValueError, match="no rows"):
        customer_summary(transactions.iloc[:0])
    with pytest.raises(ValueError, match="no rows between"):
        customer_summary(transactions, as_of="2000-01-01")


# --------------------------------------------------------------------------------------------- rfm
def test_rfm_scores_are_quintiles_without_ties():
    n = 10
    summary = pd.DataFrame({"recency": np.arange(n, 0, -1) * 10.0, "frequency": np.arange(1, n + 1),
                            "revenue": np.linspace(100, 1000, n)}, index=[f"c{i}" for i in range(n)])
    rfm = rfm_scores(summary)
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # two customers per quintile, worst first
    assert rfm["r_score"].tolist() == expected  # recency reversed: c9 bought most recently
    assert rfm["f_score"].tolist() == expected
    assert rfm["m_score"].tolist() == expected
    assert rfm["rfm_code"].tolist()[-1] == "555"
    assert rfm["segment"].tolist()[0] == "Lost" and rfm["segment"].tolist()[-1] == "Champions"


def test_rfm_scores_on_ties_never_fail_and_tied_values_share_a_score():
    # 6 single buyers (k = 0 -> score 1), two with 2 purchases (k = 6 -> 1 + 30 // 10 = 4), 3 and 4 (k = 8, 9 -> 5)
    frequency = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4]
    summary = pd.DataFrame({"recency": [5.0] * 10, "frequency": frequency, "revenue": [10.0] * 10})
    rfm = rfm_scores(summary)
    assert rfm["f_score"].tolist() == [1] * 6 + [4, 4, 5, 5]
    assert rfm["r_score"].tolist() == [1] * 10 and rfm["m_score"].tolist() == [1] * 10
    # pd.qcut on the raw values would fail here ("Bin edges must be unique")
    with pytest.raises(ValueError):
        pd.qcut(pd.Series(frequency), 5)


@given(st.lists(st.integers(-3, 30), min_size=1, max_size=80))
def test_rfm_score_invariants(values):
    summary = pd.DataFrame({"recency": [1.0] * len(values), "frequency": [1] * len(values), "revenue": values})
    m = rfm_scores(summary)["m_score"].to_numpy(dtype=int)
    assert m.min() == 1 and m.max() <= 5
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(m[order]) >= 0)  # a larger value never scores lower
    for v in set(values):
        assert len(set(m[np.asarray(values) == v])) == 1  # equal values, equal score


@given(st.integers(1, 40).map(lambda k: 5 * k), st.randoms(use_true_random=False))
def test_rfm_scores_match_qcut_on_ranks_without_ties(n, rnd):
    revenue = pd.Series(rnd.sample(range(10 * n), n), dtype=float)
    summary = pd.DataFrame({"recency": 1.0, "frequency": 1, "revenue": revenue})
    reference = pd.qcut(revenue.rank(method="first"), 5, labels=False) + 1
    assert rfm_scores(summary)["m_score"].tolist() == reference.tolist()


def test_default_segment_map_is_a_partition_of_the_grid():
    import re

    for r in range(1, 6):
        for fm in range(1, 6):
            owners = [s for s, p in RFM_SEGMENT_MAP.items() if re.fullmatch(p, f"{r}{fm}")]
            assert len(owners) == 1, (r, fm, owners)
    assert len(RFM_SEGMENT_MAP) == 11


def test_segment_lookup_uses_r_and_fm():
    from portfolio_kit.segmentation import _segment_lookup

    # (R, F, M) -> FM = (F + M + 1) // 2 -> the segment of cell R, FM in the map's grid
    cases = {(5, 5, 4): "Champions", (5, 1, 1): "New Customers", (4, 1, 1): "Promising", (3, 3, 3): "Need Attention",
             (2, 5, 5): "Can't Lose Them", (1, 3, 4): "At Risk", (1, 1, 2): "Lost", (2, 2, 1): "Hibernating",
             (4, 1, 2): "Potential Loyalist", (3, 4, 5): "Loyal Customers", (3, 1, 2): "About to Sleep"}
    names, lookup = _segment_lookup(RFM_SEGMENT_MAP)
    for (r, f, m), segment in cases.items():
        assert names[lookup[10 * r + (f + m + 1) // 2]] == segment


def test_custom_segment_map_and_invalid_maps():
    summary = pd.DataFrame({"recency": np.arange(10.0), "frequency": 1, "revenue": np.arange(10.0)})
    simple = {"recent": r"[4-5][1-5]", "middle": r"3[1-5]", "old": r"[1-2][1-5]"}
    rfm = rfm_scores(summary, simple)
    assert list(rfm["segment"].cat.categories) == ["recent", "middle", "old"]
    assert rfm["segment"].tolist() == ["recent"] * 4 + ["middle"] * 2 + ["old"] * 4
    with pytest.raises(ValueError, match=r"uncovered \['11'"):
        rfm_scores(summary, {"recent": r"[2-5][1-5]"})
    with pytest.raises(ValueError, match="claimed twice"):
        rfm_scores(summary, {**simple, "also": r"55"})


def test_rfm_table_on_cdnow():
    rfm = rfm_table(load_cdnow("sample"), as_of="1998-06-30")
    assert len(rfm) == 2349  # 2,357 customers less the 8 whose only purchases were $0
    assert rfm["segment"].notna().all() and rfm["r_score"].notna().all()
    codes = rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
    assert (codes == rfm["rfm_code"]).all()
    # recency has few ties: each R score holds about a fifth of the customers
    assert rfm["r_score"].value_counts().between(0.18 * 2349, 0.22 * 2349).all()


def test_single_customer_and_no_purchase():
    one = pd.DataFrame({"customer_id": ["x"], "date": pd.to_datetime(["2024-05-01"]), "amount": [10.0]})
    table = customer_segments(one)
    assert table["rfm_code"].tolist() == ["111"] and table["segment"].tolist() == ["Lost"]
    assert table["abc_class"].tolist() == ["A"]
    credit_only = one.assign(amount=[-10.0])
    with pytest.raises(ValueError, match="no customer with a purchase"):
        rfm_table(credit_only)


# --------------------------------------------------------------------------------------------- bands, classes
def test_revenue_bands():
    bands = revenue_bands(pd.Series([-5.0, 0.0, 1.0, 10_000.0, 10_000.01, 2e6]))
    assert bands.tolist() == ["<= 0", "<= 0", "0-10k", "0-10k", "10k-50k", "> 1M"]
    assert bands.name == "revenue_band" and bands.cat.ordered
    assert revenue_bands([500.0, 2_500.0], edges=(1_000, 2_500))[1] == "1k-2.5k"
    with pytest.raises(ValueError, match="increasing"):
        revenue_bands([1.0], edges=(10, 5))


def test_value_classes_by_hand(transactions):
    s = customer_summary(transactions, as_of=AS_OF)
    classes = value_classes(s)
    # a: tenure 356 <= 365 -> new; 3 purchase days, last 184 days ago -> recurring; margin 53 of the positive 53
    #    -> most profitable. b: revenue -10 -> no value. c: margin -5 -> no value; first purchase 30 days ago -> new
    assert classes["new"].tolist() == [True, False, True]
    assert classes["recurring"].tolist() == [True, False, False]
    assert classes["most_profitable"].tolist() == [True, False, False]
    assert classes["no_value"].tolist() == [False, True, True]
    assert classes["complex"].tolist() == [False, False, False]
    assert classes["value_class"].tolist() == ["most profitable", "no value", "no value"]
    # overrides from a config dict: two channels make a customer complex, and complexity comes first
    custom = value_classes(s, {"complex_channels": 2, "priority": ["complex", "no value", "new"]})
    assert custom["value_class"].tolist() == ["complex", "no value", "no value"]
    assert list(custom["value_class"].cat.categories) == ["complex", "no value", "new", "other"]
    with pytest.raises(ValueError, match="unknown key"):
        value_classes(s, {"complex_chanels": 2})
    with pytest.raises(ValueError, match="unknown class"):
        value_classes(s, ValueClassRules(priority=("vip",)))


def test_most_profitable_uses_revenue_without_margin():
    summary = pd.DataFrame({"tenure": 900.0, "recency": 10.0, "frequency": 5, "credit_notes": 0,
                            "revenue": [60.0, 30.0, 10.0]}, index=list("xyz"))
    # ABC at 50%: x alone holds 60% -> only x is most profitable
    assert value_classes(summary)["most_profitable"].tolist() == [True, False, False]
    assert value_classes(summary)["value_class"].tolist() == ["most profitable", "recurring", "recurring"]


# --------------------------------------------------------------------------------------------- profiles, lists
def test_segment_profile_by_hand():
    table = pd.DataFrame({
        "segment": pd.Categorical(["B", "A", "A", "B"], categories=["A", "B", "C"]),
        "region": ["n", "s", "n", None],
        "revenue": [100.0, 50.0, 30.0, 20.0], "margin": [10.0, 5.0, 15.0, 10.0],
        "frequency": [4, 1, 2, 3], "recency": [10.0, 20.0, 30.0, 40.0],
    })
    p = segment_profile(table)
    assert list(p.index) == ["A", "B"]  # categorical order kept, empty segment left out
    assert p["customers"].tolist() == [2, 2] and p["customer_share"].tolist() == [0.5, 0.5]
    assert p["revenue"].tolist() == [80.0, 120.0] and p["revenue_share"].tolist() == pytest.approx([0.4, 0.6])
    assert p["margin_pct"].tolist() == pytest.approx([20 / 80, 20 / 120])
    assert p["mean_order_value"].tolist() == pytest.approx([80 / 3, 120 / 7])
    assert p["frequency"].tolist() == [1.5, 3.5] and p["recency"].tolist() == [25.0, 25.0]
    by_region = segment_profile(table, by="region")
    assert by_region["revenue"].tolist() == [130.0, 50.0, 20.0]  # n, s, missing: largest revenue first
    assert pd.isna(by_region.index[-1])
    assert segment_profile(table, by=["segment", "region"])["customers"].sum() == 4


def test_ranked_customers():
    table = pd.DataFrame({"segment": ["x", "y", "x", "x"], "revenue": [5.0, 7.0, 9.0, 1.0]}, index=list("abcd"))
    ranked = ranked_customers(table)
    assert list(ranked.index) == ["c", "a", "d", "b"]
    assert ranked["rank"].tolist() == [1, 2, 3, 1]
    assert list(ranked.columns) == ["segment", "rank", "revenue"]


def test_customer_segments_on_cdnow():
    tx = load_cdnow("sample")
    table = customer_segments(tx, as_of="1998-06-30")
    assert len(table) == 2357 and table.index.is_unique
    expected = abc_classes(tx.groupby("customer_id")["amount"].sum())["abc_class"]
    assert table["abc_class"].equals(expected.reindex(table.index))
    for column in ("segment", "revenue_band", "value_class", "abc_class", "r_score", "new"):
        assert column in table.columns
    assert segment_profile(table, by="value_class")["customers"].sum() == 2357


# --------------------------------------------------------------------------------------------- figures
@pytest.fixture()
def close_figures():
    yield
    plt.close("all")


def test_segment_chart(close_figures, transactions):
    table = customer_segments(transactions, as_of=AS_OF)
    ax = segment_chart(segment_profile(table, by="value_class")).axes[0]
    assert ax.get_title() == "Segments by value_class: customers and value"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["customers", "revenue", "margin"]


def test_rfm_heatmap(close_figures):
    rfm = rfm_table(load_cdnow("sample"), as_of="1998-06-30")
    ax = rfm_heatmap(rfm).axes[0]
    assert ax.get_title() == "Mean revenue by recency and frequency score"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "4", "3", "2", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]
