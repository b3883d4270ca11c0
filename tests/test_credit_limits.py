"""Recommended credit limits and risk-adjusted value: the method's rules at their boundaries, on hand-made rows
(every expected number worked out in the comments), and the reasons in words against their rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_kit import credit, payments
from portfolio_kit.credit.limits import CreditPolicy, credit_profile, defaulted_customers, recommended_limits
from portfolio_kit.credit.value import risk_adjusted_value
from portfolio_kit.report.texts import texts
from portfolio_kit.report.wording.credit import limit_reasons

from .payments_ledgers import make_invoices

WIDE = CreditPolicy(max_share=1.0)  # no cap unless a test wants one


def _rows(**columns) -> pd.DataFrame:
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    base = {"customer_id": [f"C{i}" for i in range(n)], "credit_limit": [10_000.0] * n,
            "monthly_purchases": [36_500 / 12] * n, "days_to_pay": [30.0] * n, "exposure": [1e9] * n}
    base.update(columns)
    return pd.DataFrame(base)


def test_need_is_a_month_of_purchases_for_its_days_to_pay_plus_the_buffer():
    # 36,500 a year = 100 a day; paid in 30 days -> 3,000 open on average; + 25% -> 3,750
    out = recommended_limits(_rows(days_to_pay=[30.0, 60.0]), WIDE)
    assert out["need"].tolist() == pytest.approx([3750.0, 7500.0])
    assert out["risk_factor"].tolist() == [0.5, 0.5]  # no signal: the policy's "unknown"
    assert out["risk_driver"].tolist() == ["unknown", "unknown"]


@pytest.mark.parametrize("signal, values, factors", [
    ("payment_index", [80.0, 79.99, 70.0, 69.9, 50.0, 49.9, np.nan], [1.0, 0.8, 0.8, 0.5, 0.5, 0.25, 0.5]),
    ("p_late", [0.0, 0.2499, 0.25, 0.4999, 0.5, 1.0], [1.0, 1.0, 0.75, 0.75, 0.5, 0.5]),
    ("ecl_rate", [0.0, 0.0499, 0.05, 0.10, 0.2499, 0.25], [1.0, 1.0, 0.75, 0.5, 0.5, 0.25]),
    ("rating", ["AAA", "bbb ", "bb", "B", "CCC", "C", "D", "ZZ"], [1.0, 1.0, 0.75, 0.5, 0.25, 0.25, 0.0, 0.5]),
    ("failure_score", [1.0, 69.9, 70.0, 84.9, 85.0, np.nan], [1.0, 1.0, 0.5, 0.5, 0.25, 0.5]),
])
def test_risk_factor_steps_at_their_boundaries(signal, values, factors):
    out = recommended_limits(_rows(**{signal: values}), WIDE)
    assert out["risk_factor"].tolist() == factors


def test_the_weakest_signal_sets_the_factor_and_names_the_driver():
    out = recommended_limits(_rows(payment_index=[85.0, 60.0, 60.0], p_late=[0.3, 0.1, 0.6],
                                   rating=["A", "A", "B"]), WIDE)
    assert out["risk_factor"].tolist() == [0.75, 0.5, 0.5]
    assert out["risk_driver"].tolist() == ["p_late", "payment_index", "payment_index"]  # ties: first in order


def test_rounding_band_and_minimum_step_decide_raise_keep_cut():
    # need 7,500 x factor 0.8 (index 75) = 6,000 exactly -> recommended 6,000 (not rounded up to 7,000)
    limits = [4800.0, 4700.0, 8000.0, 8100.0, 6000.0]
    out = recommended_limits(_rows(days_to_pay=[60.0] * 5, payment_index=[75.0] * 5, credit_limit=limits), WIDE)
    assert out["recommended_limit"].tolist() == [6000.0] * 5
    # 6,000 > 4,800 x 1.25 = 6,000 is false: keep; > 4,700 x 1.25: raise; < 8,000 x 0.75 = 6,000 false: keep
    assert out["limit_action"].astype(str).tolist() == ["keep", "raise", "keep", "cut", "keep"]
    assert out["limit_change"].tolist() == [1200.0, 1300.0, -2000.0, -2100.0, 0.0]
    # a 10x gap smaller than one rounding step is kept: recommended 1,000 against 100
    small = recommended_limits(_rows(monthly_purchases=[100.0], credit_limit=[100.0], payment_index=[90.0]), WIDE)
    assert small["recommended_limit"].item() == 1000.0 and small["limit_action"].item() == "keep"


def test_dormant_stop_no_limit_and_no_history_reasons():
    rows = _rows(monthly_purchases=[0.0, 3000.0, 3000.0, 3000.0, 0.0],
                 exposure=[0.0, 5000.0, 5000.0, 5000.0, 0.0],
                 credit_limit=[5000.0, 5000.0, np.nan, 5000.0, np.nan],
                 defaulted=[False, True, False, False, False],
                 observed=[True, True, True, False, True], payment_index=[90.0] * 5)
    out = recommended_limits(rows, WIDE)
    assert out["limit_reason"].tolist() == ["dormant", "stop", "no_limit", "no_history", "dormant"]
    assert out["limit_action"].astype(str).tolist() == ["cut", "cut", "review", "review", "keep"]
    assert out.loc[1, ["risk_factor", "recommended_limit"]].tolist() == [0.0, 0.0]
    assert out.loc[1, "risk_driver"] == "defaulted"


def test_no_customer_above_its_share_of_the_book():
    # book = 60,000 + 40,000 of exposure; 10% -> cap 10,000, rounded down
    rows = _rows(monthly_purchases=[1e6, 1000.0], exposure=[60_000.0, 40_000.0], payment_index=[90.0, 90.0])
    out = recommended_limits(rows, CreditPolicy())
    assert out["recommended_limit"].tolist() == [10_000.0, 2000.0]  # 1,000 x 30/30.42 x 1.25 = 1,233 -> 2,000


def test_policy_checks_its_parameters():
    with pytest.raises(ValueError, match="band"):
        CreditPolicy(band=1.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        CreditPolicy.from_parameters(bufer=0.1)
    assert CreditPolicy.from_parameters(round_to=500).round_to == 500


def test_profile_takes_observed_days_else_terms_plus_the_books_delay():
    habits = pd.DataFrame({"customer_id": ["A", "B", "C"], "sales_12m": [12_000.0, 24_000.0, 6000.0],
                           "monthly_sales": [1000.0, 2000.0, 500.0],
                           "terms_days": [30.0, 60.0, 90.0], "days_to_pay": [40.0, 75.0, np.nan],
                           "delay_days": [10.0, 15.0, np.nan], "paid_invoices": [4, 8, 0]})
    ecl = pd.DataFrame({"customer_id": ["A", "C"], "receivables": [1000.0, 500.0], "ecl": [10.0, 100.0],
                        "ecl_rate": [0.01, 0.2]})
    master = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "name": list("abcd"),
                           "credit_limit": [5000.0, np.nan, 1000.0, 2000.0], "payment_terms_days": [30, 60, 90, 45]})
    out = credit_profile(master, habits, ecl, defaulted=pd.Series({"C": True})).set_index("customer_id")
    # the book's delay: (12,000 x 10 + 24,000 x 15) / 36,000 = 13.33; C: 90 + 13.33; D: master's 45 + 13.33
    assert out["days_to_pay"].tolist() == pytest.approx([40.0, 75.0, 90 + 40 / 3, 45 + 40 / 3])
    assert out["observed"].tolist() == [True, True, False, False]
    assert out["monthly_purchases"].tolist() == [1000.0, 2000.0, 500.0, 0.0]
    assert out["exposure"].tolist() == [1000.0, 0.0, 500.0, 0.0]
    assert out["ecl_rate"].isna().tolist() == [False, True, False, True]
    assert out["defaulted"].tolist() == [False, False, True, False]


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_reason_cites_its_own_row(language):
    t = texts(language)
    rows = _rows(days_to_pay=[60.0, 45.0, 30.0], payment_index=[75.0, 40.0, np.nan], p_late=[0.1, 0.1, 0.6],
                 credit_limit=[2000.0, 50_000.0, 9000.0], monthly_purchases=[3000.0, 1000.0, 6000.0])
    out = recommended_limits(rows, WIDE)
    reasons = limit_reasons(out, t)
    for row, reason in zip(out.itertuples(), reasons):
        for amount in (row.monthly_purchases, row.need, row.recommended_limit, row.credit_limit):
            assert t.money(amount) in reason
        assert t.number(row.days_to_pay) in reason and t.number(row.risk_factor, 2) in reason
    assert ("payment index 75" if language == "en" else "indice di pagamento 75") in reasons[0]
    assert "60%" in reasons[2]  # the p_late driver


def test_risk_adjusted_value_subtracts_loss_and_carrying_cost():
    clv = pd.DataFrame({"customer_id": ["A", "B"], "clv": [1000.0, 900.0], "expected_revenue": [10_000.0, 1000.0]})
    prof = pd.DataFrame({"customer_id": ["A", "B"], "ecl": [50.0, 0.0], "days_to_pay": [73.0, 36.5]})
    out = risk_adjusted_value(clv, prof, pd.Series({"A": 0.01, "B": 0.02}), 0.10).set_index("customer_id")
    # A: 1,000 - 50 - 10,000 x 1% - 10,000 x 73/365 x 10% = 650; B: 900 - 0 - 20 - 1,000 x 0.1 x 0.1 = 870
    assert out["risk_adjusted_clv"].to_dict() == pytest.approx({"A": 650.0, "B": 870.0})
    assert out.loc["B", "risk_adjusted_rank"] == 1 and out.loc["A", "clv_rank"] == 1
    with pytest.raises(ValueError, match="cost_of_capital"):
        risk_adjusted_value(clv, prof, 0.0, 1.5)


def test_defaulted_means_an_invoice_left_wholly_unpaid_past_the_horizon():
    inv = make_invoices([
        ("F1", "A", "2024-01-01", "2024-01-31", 100.0, None, None),            # nothing paid, 395 days past due
        ("F2", "B", "2024-01-01", "2024-01-31", 100.0, "2024-02-05", 60.0),    # 40 short: a deduction, not a stop
        ("F3", "C", "2024-03-01", "2024-03-31", 100.0, None, None),            # nothing paid, 335 days: not yet
    ])
    assert sorted(defaulted_customers(inv, "2025-03-01", 365).index) == ["A"]
    assert sorted(defaulted_customers(inv, "2025-03-01", 300).index) == ["A", "C"]
    settled = pd.concat([inv, make_invoices([("N1", "A", "2024-01-01", "2024-01-01", -100.0, None, None)])])
    assert sorted(defaulted_customers(settled, "2025-03-01", 365).index) == []  # its open credit note settles it


def test_a_stop_signal_without_a_limit_on_record_is_for_review():
    p = _rows(credit_limit=[np.nan, 5000.0], defaulted=[True, True], exposure=[100.0, 100.0])
    assert recommended_limits(p, WIDE)["limit_action"].astype(str).tolist() == ["review", "cut"]


def test_planted_limits_far_from_need_are_found_on_the_sample(sample_portfolio, truth):
    p = sample_portfolio
    inv, end = p.invoices, p.as_of
    edges = (*payments.DEFAULT_EDGES, 365)
    ecl = credit.customer_ecl(inv, end, credit.historical_loss_rates(inv, end, edges=edges), edges=edges)
    latest = p.snapshots.sort_values("snapshot_date").groupby("customer_id").last()
    profile = credit.credit_profile(p.customers, credit.payment_habits(inv, end), ecl,
                                    defaulted=credit.defaulted_customers(inv, end), ratings=latest["rating"],
                                    failure_scores=latest["failure_score"],
                                    payment_index=payments.payment_index(inv, end).set_index("customer_id")[
                                        "payment_index"])
    action = recommended_limits(profile).set_index("customer_id")["limit_action"].astype(str)
    planted = truth["credit_limits"]
    assert (action[planted["far_above_need"]] == "cut").all()
    assert (action[planted["far_below_need"]] == "raise").all()
    assert len(planted["far_above_need"]) >= 8 and len(planted["far_below_need"]) >= 8
