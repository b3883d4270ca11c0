"""What customers buy: every figure of the products package on hand-made ledgers (each expected value worked out
in the comments), the pair tests against scipy's Fisher test and statsmodels' Benjamini-Hochberg, the reasons
against their rows, and the product structure planted in the sample client found again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact, spearmanr
from statsmodels.stats.multitest import multipletests

from portfolio_kit import products
from portfolio_kit.report.texts import texts
from portfolio_kit.report.wording.products import next_product_reasons


def _tx(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount", "margin", "product"]).assign(
        date=lambda d: pd.to_datetime(d["date"]))


@pytest.fixture
def ledger() -> pd.DataFrame:
    return _tx([
        ("A", "2024-01-05", 100.0, 20.0, "x"),
        ("A", "2024-01-05", 50.0, 10.0, "x"),      # same day, same line: one purchase day
        ("A", "2024-03-01", 40.0, 8.0, "x"),
        ("A", "2024-03-10", -30.0, -6.0, "x"),     # a return
        ("A", "2024-02-01", 70.0, 35.0, "y"),
        ("B", "2024-02-15", 10.0, 1.0, "y"),
        ("B", "2024-04-01", -10.0, -1.0, "z"),     # a line only returned
        ("B", "2024-04-02", 99.0, 9.0, None),      # no product: left out
        ("C", "2025-01-01", 500.0, 50.0, "x"),     # after the window of the tests below
    ])


def test_customer_lines_by_hand(ledger):
    out = products.customer_lines(ledger, as_of="2024-12-31")
    assert out[["customer_id", "product"]].values.tolist() == [["A", "x"], ["A", "y"], ["B", "y"], ["B", "z"]]
    assert out["revenue"].tolist() == [160.0, 70.0, 10.0, -10.0]          # 100 + 50 + 40 - 30
    assert out["margin"].tolist() == [32.0, 35.0, 1.0, -1.0]
    assert out["purchases"].tolist() == [2, 1, 1, 0]                      # 5 Jan and 1 Mar; z never bought
    assert out["first_purchase"].tolist()[:3] == list(pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-15"]))
    assert out["last_purchase"].iloc[0] == pd.Timestamp("2024-03-01") and pd.isna(out["last_purchase"].iloc[3])
    window = products.customer_lines(ledger, as_of="2024-12-31", start="2024-02-01")
    assert window.loc[window["product"].eq("x"), "revenue"].tolist() == [10.0]   # 40 - 30
    assert products.lines_per_customer(out).to_dict() == {"A": 2, "B": 1}
    with pytest.raises(ValueError, match="no 'product' column"):
        products.customer_lines(ledger.drop(columns="product"))


def test_main_lines_merge_the_tail_and_keep_another_tables_lines(ledger):
    out = products.customer_lines(ledger)                   # x 660, y 80, z -10
    merged = products.main_lines(out, max_lines=2)
    assert merged.attrs["merged"] == 2 and set(merged["product"]) == {"x", products.OTHER_LINES}
    other = merged.set_index(["customer_id", "product"]).loc[("B", products.OTHER_LINES)]
    assert other["revenue"] == 0.0 and other["purchases"] == 1   # y 10 + z -10; the largest purchases of the two
    assert products.main_lines(out, max_lines=3).attrs["merged"] == 0
    matched = products.main_lines(out, keep=["x", "y"])
    assert set(matched["product"]) == {"x", "y", products.OTHER_LINES} and matched.attrs["merged"] == 1


def test_product_mix_overall_and_by_group(ledger):
    lines = products.customer_lines(ledger)
    mix = products.product_mix(lines)
    assert mix["product"].tolist() == ["x", "y", "z"]
    x = mix.iloc[0]
    assert (x["customers"], x["revenue"], x["margin"]) == (2, 660.0, 82.0)        # A 160 + C 500
    assert x["revenue_share"] == pytest.approx(660 / 730) and x["margin_rate"] == pytest.approx(82 / 660)
    assert mix.iloc[2]["customers"] == 0 and np.isnan(mix.iloc[2]["margin_rate"])  # z: returned only
    by = products.product_mix(lines, pd.Series({"A": "g", "B": "g", "C": "h"}, name="sector"))
    g = by[by["sector"].eq("g")].set_index("product")
    assert g["revenue_share"].to_dict() == pytest.approx({"x": 160 / 230, "y": 80 / 230, "z": -10 / 230})


def _bought(pairs) -> pd.DataFrame:
    return pd.DataFrame([(c, p, 1) for c, p in pairs], columns=["customer_id", "product", "purchases"])


def test_penetration_typical_spend_and_white_space_by_hand():
    # group g: 4 customers, 3 buy x (75%); group h: 2 customers, none buys x
    lines = pd.DataFrame({"customer_id": ["1", "2", "3", "4", "4", "5", "6"],
                          "product": ["x", "x", "x", "y", "y2", "y", "y"],
                          "purchases": 1, "revenue": [100.0, 200.0, 300.0, 50.0, 5.0, 60.0, 70.0],
                          "margin": [10.0, 20.0, 30.0, 5.0, 1.0, 6.0, 7.0]})
    groups = pd.Series(["g", "g", "g", "g", "h", "h"], index=list("123456"), name="sector")
    shares = products.penetration(lines, groups).set_index(["sector", "product"])
    assert shares.loc[("g", "x"), ["customers", "buyers", "penetration"]].tolist() == [4, 3, 0.75]
    assert shares.loc[("h", "x"), "penetration"] == 0.0 and shares.loc[("h", "y"), "penetration"] == 1.0
    spend = products.typical_spend(lines, groups, min_buyers=2).set_index(["sector", "product"])
    assert spend.loc[("g", "x"), ["typical_revenue", "basis"]].tolist() == [200.0, "group"]      # median 100/200/300
    assert spend.loc[("g", "y"), ["typical_revenue", "basis"]].tolist() == [60.0, "all"]         # 1 buyer: all y's
    space = products.white_space(shares.reset_index(), spend.reset_index(), min_penetration=0.7, min_customers=2)
    assert space[["sector", "product", "non_buyers"]].values.tolist() == [["g", "x", 1]]
    assert space["potential_revenue"].tolist() == [200.0] and space["potential_margin"].tolist() == [20.0]
    assert products.white_space(shares.reset_index(), spend.reset_index(), min_customers=5).empty


def test_line_associations_by_hand_and_against_fisher_and_benjamini_hochberg():
    # 10 customers: 4 buy x and y, 1 only x, 1 only y, 4 buy z
    pairs = [(c, p) for c in "0123" for p in "xy"] + [("4", "x"), ("5", "y")] + [(c, "z") for c in "6789"]
    rules = products.line_associations(_bought(pairs), min_support=0.1, min_customers=3, alpha=0.05)
    xy = rules.set_index(["antecedent", "consequent"]).loc[("x", "y")]
    assert (xy["customers_antecedent"], xy["customers_consequent"], xy["customers_both"]) == (5, 5, 4)
    assert xy["support"] == 0.4 and xy["confidence"] == 0.8 and xy["lift"] == pytest.approx(1.6)   # 0.8 / 0.5
    assert xy["p_value"] == pytest.approx(fisher_exact([[4, 1], [1, 4]], alternative="greater").pvalue)
    once = rules[rules["antecedent"] < rules["consequent"]].sort_values(["antecedent", "consequent"])
    expected_q = multipletests(once["p_value"], method="fdr_bh")[1]
    assert once["q_value"].to_numpy() == pytest.approx(expected_q)
    assert rules.iloc[0][["antecedent", "consequent"]].tolist() == ["x", "y"]   # the largest lift (both ways)
    assert not rules.loc[rules["lift"] <= 1, "significant"].any()
    # 40 customers with the same pattern: the pair becomes significant
    many = [(f"{k}{c}", p) for k in range(4) for c, p in pairs]
    big = products.line_associations(_bought(many), min_support=0.1, min_customers=3)
    assert big.loc[big["significant"], ["antecedent", "consequent"]].values.tolist() == [["x", "y"], ["y", "x"]]


def test_next_products_scores_by_hand():
    # 6 customers, one group; x and y bought together by 1, 2 (and 3 buys x only, 4 buys y only)
    lines = _bought([("1", "x"), ("1", "y"), ("2", "x"), ("2", "y"), ("3", "x"), ("4", "y"), ("5", "z"), ("6", "z")])
    spend = pd.DataFrame({"group": ["All customers"] * 3, "product": ["x", "y", "z"],
                          "typical_revenue": [100.0, 300.0, 50.0], "typical_margin": [10.0, 30.0, 5.0]})
    rules = products.line_associations(lines, min_support=0.0, min_customers=1, alpha=1.0)
    out = products.next_products(lines, None, spend, prior=2.0, rules=rules)
    row = out.set_index("customer_id")
    # customer 3 (buys x): peers: y bought by 3 of 6 -> (3 + 2 x 0.5) / (6 + 2) = 0.5; pair x->y: (2 + 2 x 0.5)
    # / (3 + 2) = 0.6 (x, y significant at alpha 1); z: (2 + 2 x 1/3) / 8 = 1/3 -> y: 0.6 x 30 = 18 margin
    assert row.loc["3", ["product", "basis", "from_line"]].tolist() == ["y", "pair", "x"]
    assert row.loc["3", "score"] == pytest.approx(0.6) and row.loc["3", "expected_margin"] == pytest.approx(18.0)
    assert row.loc["3", "confidence"] == pytest.approx(2 / 3) and row.loc["3", "lift"] == pytest.approx((2 / 3) / 0.5)
    # customer 5 (buys z): no pair with z; peers: x 3/6 -> 0.5 x 10 = 5, y 0.5 x 30 = 15 -> y by peers
    assert row.loc["5", ["product", "basis"]].tolist() == ["y", "peers"] and row.loc["5", "peer_share"] == 0.5
    by_score = products.next_products(lines, None, spend, prior=2.0, rank_by="score").set_index("customer_id")
    assert by_score.loc["5", "score"] == pytest.approx(0.5)
    assert "1" not in row.index or row.loc["1", "product"] == "z"   # 1 buys x and y: only z left
    assert products.popular_products(lines).set_index("customer_id").loc["5", "product"] == "x"  # x, y tie: first


def test_next_products_never_suggest_other_lines_or_bought_lines():
    lines = _bought([("1", "a"), ("2", "a"), ("2", products.OTHER_LINES), ("3", products.OTHER_LINES)])
    out = products.next_products(lines)
    assert products.OTHER_LINES not in set(out["product"]) and set(out["customer_id"]) == {"3"}


def test_backtest_counts_hits_on_lines_started_after_the_cutoff():
    day = pd.Timestamp("2024-06-30")
    before, after = day - pd.Timedelta(days=30), day + pd.Timedelta(days=30)
    rows = []
    for k in range(10):  # 10 customers buy x then y; 10 buy w before
        rows += [(f"a{k}", "x", before), (f"a{k}", "y", before), (f"b{k}", "w", before)]
    rows += [("new1", "x", before), ("new1", "y", after),   # x -> y: the pair is right
             ("new2", "w", before), ("new2", "y", after)]   # w -> x (11 buyers of 22 before, y 10): a miss
    lines = pd.DataFrame(rows, columns=["customer_id", "product", "first_purchase"]).assign(purchases=1)
    table = products.next_product_backtest(lines, day, min_support=0.0, min_customers=1).set_index("method")
    assert table.loc["expected", "customers"] == 2 and table.attrs["new_lines"] == 2
    assert table.loc["expected", "hits"] == 1 and table.loc["expected", "hit_rate"] == 0.5
    # popularity: new1 lacks y (10 buyers) and w (11): w, a miss; new2 lacks x (11) and y: x, a miss
    assert table.loc["popularity", "hits"] == 0 and np.isnan(table.loc["expected", "lift"])


def test_breadth_outcomes_bands_and_spearman():
    n_lines = pd.Series([1, 1, 2, 3, 5], index=list("abcde"), name="n_lines")
    outcomes = pd.DataFrame({"clv": [10.0, 20.0, 30.0, 40.0, 100.0]}, index=list("abcde"))
    out = products.breadth_outcomes(n_lines, outcomes)
    assert out.index.tolist() == ["1", "2", "3", "4+", "spearman"]
    assert out.loc["1", ["customers", "clv"]].tolist() == [2, 15.0] and out.loc["4+", "clv"] == 100.0
    expected = spearmanr(n_lines, outcomes["clv"])
    assert out.loc["spearman", "clv"] == pytest.approx(expected.statistic)
    assert out.attrs["p_values"]["clv"] == pytest.approx(expected.pvalue)


def test_reasons_cite_the_rows_numbers_in_both_languages():
    rows = pd.DataFrame({"customer_id": ["1", "2"], "product": ["Spare parts", "Tools"], "score": [0.5, 0.25],
                         "expected_margin": [150.0, 50.0], "expected_revenue": [1000.0, 400.0], "basis": ["pair", "peers"],
                         "peer_group": ["Retail", "Retail"], "peer_share": [0.3, 0.26], "from_line": ["Equipment", None],
                         "confidence": [0.52, np.nan], "lift": [3.02, np.nan]})
    en = next_product_reasons(rows, texts("en"))
    assert en[0] == ("52% of the customers who buy Equipment also buy Spare parts (lift 3.0); a chance of 50% x "
                     "EUR 300 of typical margin a year = EUR 150")
    assert en[1].startswith("26% of the customers of the group Retail buy Tools") and "EUR 200" in en[1]
    it = next_product_reasons(rows, texts("it"), margin=False)
    assert it[0].startswith("il 52% dei clienti che acquistano Equipment") and "EUR 2.000 di fatturato" in it[0]


def test_planted_product_structure_is_found(sample_portfolio, truth):
    """The sample plants two pairs of lines and a typical line per sector (truth["products"]): the pairs have the
    highest lifts, the sector lines are the white space, and the next product beats popularity on a cut-off."""
    planted = truth["products"]
    tx, end = sample_portfolio.transactions, sample_portfolio.as_of
    lines = products.customer_lines(tx, as_of=end)
    rules = products.line_associations(lines)
    top = rules.head(2 * len(planted["pairs"]))
    assert {frozenset(p) for p in zip(top["antecedent"], top["consequent"])} == {frozenset(p) for p in planted["pairs"]}
    assert top["significant"].all() and rules["significant"].sum() == 2 * len(planted["pairs"])
    sector = sample_portfolio.customers.set_index("customer_id")["sector"]
    shares = products.penetration(lines, sector)
    year = products.customer_lines(tx, as_of=end, start=end - pd.DateOffset(years=1))
    space = products.white_space(shares, products.typical_spend(year, sector))
    assert set(zip(space["sector"], space["product"])) == set(planted["sector_lines"].items())
    cutoff = end - pd.DateOffset(months=6)
    before = products.customer_lines(tx, as_of=cutoff, start=cutoff - pd.DateOffset(years=1))
    table = products.next_product_backtest(lines, cutoff, sector, products.typical_spend(before, sector))
    rate = table.set_index("method")["hit_rate"]
    assert table["customers"].iloc[0] >= 50
    assert rate["expected"] > 2 * rate["popularity"] and rate["score"] > 2 * rate["popularity"]
    # the margin offsets planted per line are recovered in the mix (within 2 points)
    mix = products.product_mix(lines).set_index("product")["margin_rate"]
    spread = mix - mix.mean()
    offsets = pd.Series(planted["margin_offset"])
    assert (spread - (offsets - offsets.mean())).reindex(mix.index).abs().max() < 0.03
