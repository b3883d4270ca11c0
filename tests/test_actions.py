"""Next actions: the rules at their boundaries on hand-made customer 360 rows (every expected value worked out in
the comments), the order and secondary actions, config errors, the reasons against their rows, the strategies,
the books and the retention figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_kit import actions
from portfolio_kit.report.texts import texts
from portfolio_kit.report.wording.actions import REASON_COLUMNS, action_reasons, lever_words


def _profile(n: int = 10, **columns) -> pd.DataFrame:
    """n customers; value_12m 100, 200 ... (the top 20% are the last two: 900 and 1000, threshold 920)."""
    base = {"customer_id": [f"C{i:02d}" for i in range(n)], "value_12m": [100.0 * (i + 1) for i in range(n)],
            "revenue_12m": [1000.0 * (i + 1) for i in range(n)], "account_manager": ["Ann", "Bob"] * (n // 2)}
    base.update(columns)
    return pd.DataFrame(base)


def _action(profile, rules) -> pd.Series:
    return actions.next_actions(profile, rules).set_index("customer_id")["action"].sort_index()


def test_protect_credit_catches_valuable_customers_whose_rating_fell_or_payments_worsen():
    # top 20% of 100..1000: quantile(0.8) = 820 -> C08 (900) and C09 (1000) are valuable
    p = _profile(rating_change=[-1.0] * 8 + [-1.0, 0.0], worsening=[False] * 9 + [True], exposure=500.0)
    out = actions.next_actions(p, [{"name": "protect_credit", "priority": "high"}]).set_index("customer_id")
    assert out.loc["C08", ["action", "trigger"]].tolist() == ["protect_credit", "rating_fell"]
    assert out.loc["C09", ["action", "trigger"]].tolist() == ["protect_credit", "payments_worsening"]
    assert out.loc["C07", "action"] == "maintain"  # rating fell, but not valuable (800 < 820)
    assert out.loc["C08", "threshold"] == pytest.approx(820.0) and out.loc["C08", "value_at_stake"] == 500.0
    two = _action(p, [{"name": "protect_credit", "min_notches": 2, "priority": "high"}])
    assert two["C08"] == "maintain" and two["C09"] == "protect_credit"


def test_reduce_exposure_needs_low_value_risk_and_an_exposure_over_the_limit():
    # bottom 50% of 100..1000: quantile(0.5) = 550 -> C00..C04
    p = _profile(p_late=[0.5, 0.49, 0.9, 0.9, 0.9, 0.9] + [0.1] * 4, payment_index=[90.0] * 10,
                 exposure=[200.0, 200.0, 100.0, 200.0, 200.0, 200.0] + [0.0] * 4, credit_limit=100.0)
    out = actions.next_actions(p, [{"name": "reduce_exposure", "priority": "high"}]).set_index("customer_id").sort_index()
    assert out["action"].head(6).tolist() == ["reduce_exposure", "maintain", "maintain", "reduce_exposure",
                                              "reduce_exposure", "maintain"]  # C02 at its limit, C05 not low
    assert out.loc["C00", ["trigger", "value_at_stake"]].tolist() == ["p_late", 100.0]


def test_collect_on_the_amount_past_the_chosen_days():
    p = _profile(overdue_over_30=[50.0, 0.0] + [0.0] * 8, overdue_over_60=[0.0, 0.0] + [0.0] * 8)
    assert _action(p, [{"name": "collect", "priority": "high"}])["C00"] == "maintain"      # 60 days by default
    out = actions.next_actions(p, [{"name": "collect", "min_days": 30, "priority": "high"}]).set_index("customer_id")
    assert out.loc["C00", ["action", "value_at_stake", "threshold"]].tolist() == ["collect", 50.0, 30.0]
    with pytest.raises(actions.ActionRuleError, match=r"action rule #1 \(collect\): min_days"):
        actions.parse_action_rules([{"name": "collect", "min_days": 45, "priority": "high"}])


def test_retain_valuable_customers_still_buying_who_slip():
    p = _profile(probability_alive=[0.9] * 8 + [0.49, 0.5], churn_probability=[0.1] * 9 + [0.51],
                 days_since_purchase=[10.0] * 10, clv=5000.0)
    out = actions.next_actions(p, [{"name": "retain", "priority": "high"}]).set_index("customer_id")
    assert out.loc["C08", ["action", "trigger"]].tolist() == ["retain", "p_alive"]
    assert out.loc["C09", ["action", "trigger"]].tolist() == ["retain", "churn"]      # P(alive) 0.5 is not < 0.5
    lapsed = p.assign(days_since_purchase=[10.0] * 8 + [365.0, 364.0])
    assert _action(lapsed, [{"name": "retain", "priority": "high"}]).tail(2).tolist() == ["maintain", "retain"]


def test_grow_needs_every_sign_of_health():
    p = _profile(probability_alive=0.9, payment_index=[80.0] * 9 + [79.9], revenue_change=[0.0] * 8 + [0.0, 0.1],
                 credit_limit=[np.nan] * 8 + [1000.0, 1000.0], exposure=[0.0] * 8 + [999.0, 0.0])
    out = _action(p, [{"name": "grow", "priority": "medium"}])
    assert out["C08"] == "grow" and out["C09"] == "maintain"                         # payment index 79.9
    full = p.assign(exposure=[0.0] * 8 + [1000.0, 0.0])                               # no headroom left
    assert _action(full, [{"name": "grow", "priority": "medium"}])["C08"] == "maintain"
    raised = full.assign(limit_action=["keep"] * 8 + ["raise", "keep"])               # unless the limit is raised
    assert _action(raised, [{"name": "grow", "priority": "medium"}])["C08"] == "grow"
    falling = p.assign(revenue_change=[0.0] * 8 + [-0.01, 0.0])
    assert _action(falling, [{"name": "grow", "priority": "medium"}])["C08"] == "maintain"


def test_reactivate_and_serve_at_lower_cost():
    p = _profile(days_since_purchase=[400.0] * 10, revenue_prev_12m=[10.0 * i for i in range(10)])
    out = _action(p, [{"name": "reactivate", "priority": "medium"}])
    assert out[out == "reactivate"].index.tolist() == ["C08", "C09"]
    low = _profile(value_12m=[-5.0, 0.0] + [100.0 * i for i in range(2, 10)], revenue_12m=[0.0] + [1000.0] * 9)
    out = _action(low, [{"name": "serve_at_lower_cost", "priority": "low"}])
    # C00 does not buy; C01 buys at no margin; of the positive values 200 .. 900 the bottom 30% is up to
    # quantile(0.3) = 410: C02..C04
    assert out[out == "serve_at_lower_cost"].index.tolist() == ["C01", "C02", "C03", "C04"]


def test_first_rule_wins_others_are_secondary_and_missing_data_skips_a_rule():
    p = _profile(rating_change=[0.0] * 9 + [-2.0], exposure=1000.0, overdue_over_30=[0.0] * 9 + [300.0],
                 overdue_over_60=[0.0] * 9 + [300.0])
    out = actions.next_actions(p).set_index("customer_id")
    assert out.loc["C09", ["action", "secondary_actions", "owner"]].tolist() == ["protect_credit", "collect", "Bob"]
    assert out.attrs["skipped"]["retain"] == ["probability_alive or churn_probability"]
    assert "maintain" in set(out["action"])
    assert out.index[0] == "C09"  # high priority first
    reordered = actions.next_actions(p, [{"name": "collect", "min_days": 30, "priority": "high"},
                                         {"name": "protect_credit", "priority": "medium"}]).set_index("customer_id")
    assert reordered.loc["C09", ["action", "secondary_actions"]].tolist() == ["collect", "protect_credit"]


def test_config_errors_name_the_rule():
    with pytest.raises(actions.ActionRuleError, match=r"action rule #2: unknown rule name 'upsell'"):
        actions.parse_action_rules([{"name": "grow", "priority": "low"}, {"name": "upsell", "priority": "low"}])
    with pytest.raises(actions.ActionRuleError, match=r"#1 \(grow\): unknown field\(s\) \['min_pindex'\]"):
        actions.parse_action_rules([{"name": "grow", "priority": "low", "min_pindex": 3}])
    with pytest.raises(actions.ActionRuleError, match=r"#1 \(retain\): priority: Field required"):
        actions.parse_action_rules([{"name": "retain"}])
    with pytest.raises(ValueError, match=r"levers: 'Champions': unknown lever\(s\) \['discount'\]"):
        actions.check_levers({"Champions": {"discount": "none"}})


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_reason_cites_the_numbers_of_its_row(language):
    t = texts(language)
    p = _profile(rating_change=[0.0] * 9 + [-2.0], rating_before=["A"] * 10, rating=["A"] * 9 + ["BB"],
                 exposure=[100.0 * i for i in range(10)], credit_limit=5000.0, probability_alive=0.9,
                 payment_index=[85.0] * 10, revenue_change=0.05, churn_probability=0.1,
                 days_since_purchase=[20.0] * 10, clv=[1000.0 * i for i in range(10)])
    todo = actions.next_actions(p)
    rows = todo.merge(p[["customer_id", *[c for c in REASON_COLUMNS if c in p.columns]]], on="customer_id")
    shares = {"protect_credit": 0.2, "grow": 0.2, "serve_at_lower_cost": 0.3}
    reasons = action_reasons(rows, t, margin=True, shares=shares)
    for row, reason in zip(rows.itertuples(), reasons):
        if row.action == "protect_credit":
            assert f"{row.rating_before}" in reason and f"{row.rating}" in reason
            assert t.money(row.credit_limit) in reason and t.money(row.exposure) in reason
        if row.action in ("protect_credit", "grow"):
            assert t.money(row.value_12m) in reason and t.money(row.threshold) in reason and "20%" in reason
        if row.action == "grow":
            assert t.number(row.payment_index) in reason and "+5%" in reason and "90%" in reason
        if row.action == "maintain":
            assert t.money(row.value_at_stake) in reason
    assert set(todo["action"]) >= {"protect_credit", "grow", "maintain", "serve_at_lower_cost"}


def test_strategies_measure_each_group_and_carry_its_levers():
    p = _profile(segment=["Champions", "Lost"] * 5, value_class=["no value"] * 10, clv=100.0,
                 churn_probability=[0.2, 0.8] * 5, p_late=[0.6, 0.1, 0.1, 0.1, np.nan] * 2, exposure=10.0)
    s = actions.segment_strategies(p, {"Lost": {"visits_per_month": 0.25, "focus": "call twice a year"}})
    champions = s[(s["group_by"] == "segment") & (s["group"] == "Champions")].iloc[0]
    # Champions: C00, C02 .. C08: revenue 1000 + 3000 + 5000 + 7000 + 9000 = 25,000 of 55,000
    assert champions["customers"] == 5 and champions["revenue_share"] == pytest.approx(25 / 55)
    assert champions["late_payer_share"] == pytest.approx(1 / 4)  # p_late 0.6, 0.1, nan, 0.1, 0.1: one of four known
    lost = s[s["group"] == "Lost"].iloc[0]
    assert lost[["visits_per_month", "focus", "discount_policy"]].tolist() == [0.25, "call twice a year", "no_discount"]
    assert s[s["group_by"] == "value_class"]["group"].tolist() == ["no value"]
    worded = lever_words(s, texts("it"))
    assert worded.loc[s["group"] == "Lost", "discount_policy"].item() == "nessuno sconto"
    assert worded.loc[s["group"] == "Lost", "focus"].item() == "call twice a year"  # the config's own text


def test_books_per_account_manager():
    p = _profile(revenue_prev_12m=1000.0, clv=10.0, value_at_risk=1.0, overdue_over_30=[5.0, 0.0] * 5, alerts=1)
    todo = pd.DataFrame({"customer_id": p["customer_id"], "action": ["collect"] + ["maintain"] * 9,
                         "priority": ["high"] + ["low"] * 9})
    b = actions.books(p, todo).set_index("account_manager")
    # Ann: C00, C02 .. C08 -> revenue 1000 + 3000 + ... + 9000 = 25,000 on 5,000 the year before
    assert b.loc["Ann", ["customers", "revenue_12m", "revenue_change", "overdue", "actions"]].tolist() == [
        5, 25_000.0, 4.0, 25.0, 1]
    assert b.loc["Ann", "top_10_share"] == 1.0 and b.index.tolist() == ["Bob", "Ann"]
    with pytest.raises(ValueError, match="no 'region' column"):
        actions.books(p, todo, by="region")


def test_retention_and_repeat_purchase_by_cohort():
    days = pd.DataFrame({"customer_id": ["A", "A", "B", "C", "C"],
                         "date": pd.to_datetime(["2024-03-01", "2025-11-01", "2025-01-10", "2025-02-01",
                                                 "2025-03-01"])})
    k = actions.retention_kpis(days, "2025-12-31").set_index("cohort")
    # active 2024-01-01 .. 2024-12-31: A only, who bought again in 2025 -> 100%; repeat: A and C of 3
    assert k.loc["all", ["customers", "repeat_purchase_rate", "retention_rate"]].tolist() == pytest.approx([3, 2 / 3, 1])
    assert np.isnan(k.loc["2025", "retention_rate"]) and k.loc["2025", "customers"] == 2


def test_customer_360_joins_what_the_run_has():
    master = pd.DataFrame({"customer_id": ["A", "B"], "name": ["a", "b"], "account_manager": ["Ann", None],
                           "nps": [9, 3]})
    payments = pd.DataFrame({"customer_id": ["A"], "exposure": [100.0], "1-30": [10.0], "31-60": [20.0],
                             "91+": [5.0], "p_late": [0.2]})
    snapshots = pd.DataFrame({"customer_id": ["A", "A", "B"], "rating": ["A", "BBB", "B"],
                              "snapshot_date": pd.to_datetime(["2026-09-30", "2026-10-31", "2026-10-31"])})
    alerts = pd.DataFrame({"customer_id": ["A", "A"], "rule": ["x", "y"], "severity": ["low", "high"]})
    p = actions.customer_360(master, {"customers_payments": payments}, as_of="2026-10-31",
                             ratings=actions.rating_moves(snapshots), alerts=alerts).set_index("customer_id")
    assert p.loc["A", ["overdue_over_30", "overdue_over_60", "overdue_over_90"]].tolist() == [25.0, 5.0, 5.0]
    assert p.loc["A", ["rating_before", "rating", "rating_change"]].tolist() == ["A", "BBB", -1.0]
    assert p.loc["A", ["alerts", "alert_rules", "alert_severity"]].tolist() == [2, "x, y", "high"]
    assert p.loc["B", "alerts"] == 0 and p.loc["A", "nps"] == 9
    assert "customers_clv" in p.attrs["missing"] and "sales" in p.attrs["missing"]


def test_relationship_indicators_against_churn_and_late_payment():
    p = _profile(n=6, segment=["A", "A", "B", "B", "B", "A"], nps=[1, 2, 5, 6, 9, 10],
                 churn_probability=[0.9, 0.7, 0.5, 0.5, 0.1, 0.3], p_late=[0.6, 0.4, 0.2, 0.2, 0.1, 0.1])
    out = actions.relationship_indicators(p, ["nps", "missing"])
    assert out["distribution"].set_index("indicator").loc["nps", "mean"] == pytest.approx(5.5)
    assert out["by_group"].set_index("segment")["nps"].to_dict() == pytest.approx({"A": 13 / 3, "B": 20 / 3})
    # thirds of NPS: 1, 2 | 5, 6 | 9, 10 -> mean churn 0.8, 0.5, 0.2
    relation = out["relation"].set_index("third")
    assert relation["churn_probability"].tolist() == pytest.approx([0.8, 0.5, 0.2])
    assert relation["p_late"].tolist() == pytest.approx([0.5, 0.2, 0.1])
    assert actions.relationship_indicators(p, ["missing"]) == {}


def test_books_without_sales_and_ratings_per_customer():
    p = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "account_manager": ["A", "A", None],
                      "revenue_12m": [np.nan, np.nan, 100.0]})
    b = actions.books(p).set_index("account_manager")
    assert np.isnan(b.loc["A", "gini"]) and b.loc["(none)", "top_10_share"] == 1.0  # a book with no sales: n/a
    snapshots = pd.DataFrame({"customer_id": ["C1", "C1", "C2", "C2"], "rating": ["A", "BBB", "A", "B"],
                              "snapshot_date": pd.to_datetime(["2026-11-30", "2026-12-31", "2026-11-30",
                                                               "2026-12-15"])})
    moves = actions.rating_moves(snapshots)  # each customer's own two latest snapshots
    assert moves["rating_change"].to_dict() == {"C1": -1.0, "C2": -3.0}
    assert actions.sales_years(None, None)["revenue_12m"].empty
