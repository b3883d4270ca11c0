"""Payment terms: early-payment discount costs (textbook figures) and a terms what-if on a hand-worked ledger."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from portfolio_kit.credit import terms
from portfolio_kit.credit.terms import (break_even_discount, discount_offers, early_payment_discount_cost,
                                        parse_offer, payment_habits, terms_what_if)

from .payments_ledgers import make_invoices

AS_OF = "2024-12-31"   # window of 12 months: invoices issued 2024-01-01 .. 2024-12-31


# --------------------------------------------------------------------------------------------- discounts
def test_two_ten_net_thirty_costs_the_textbook_rates():
    # 2/10 net 30 (e.g. Brealey, Myers and Allen): 2/98 x 360/20 = 36.73%, x 365/20 = 37.24%
    assert early_payment_discount_cost(0.02, 10, 30) == pytest.approx(0.02 / 0.98 * 18)
    assert round(early_payment_discount_cost(0.02, 10, 30) * 100, 2) == 36.73
    assert round(early_payment_discount_cost(0.02, 10, 30, year_days=365) * 100, 2) == 37.24
    # compounded: (1 + 2/98) ** (365/20) - 1 = 44.6%
    assert round(early_payment_discount_cost(0.02, 10, 30, 365, compound=True), 3) == 0.446


def test_discount_cost_is_vectorised_and_checked():
    costs = early_payment_discount_cost(np.array([0.01, 0.02]), 10, np.array([30, 60]))
    np.testing.assert_allclose(costs, [0.01 / 0.99 * 18, 0.02 / 0.98 * 7.2])
    with pytest.raises(ValueError, match=r"discount: expected a fraction between 0 and 1 \(0.02 for 2%\)"):
        early_payment_discount_cost(2, 10, 30)
    with pytest.raises(ValueError, match="discount: expected a fraction"):
        early_payment_discount_cost(0.0, 10, 30)
    with pytest.raises(ValueError, match="net_days: expected more days than discount_days"):
        early_payment_discount_cost(0.02, 30, 30)


def test_break_even_discount_round_trip():
    costs = np.array([0.02, 0.08, 0.15])
    for year in (360, 365):
        d = break_even_discount(costs, 10, np.array([30, 45, 90]), year)
        np.testing.assert_allclose(early_payment_discount_cost(d, 10, np.array([30, 45, 90]), year), costs)
    # 8% a year over 20 days on 360: x = 0.08 x 20/360, d = x / (1 + x)
    assert break_even_discount(0.08, 10, 30) == pytest.approx((0.08 / 18) / (1 + 0.08 / 18))
    with pytest.raises(ValueError, match="cost_of_capital"):
        break_even_discount(-0.1, 10, 30)


def test_offers_are_parsed_and_compared_with_the_cost_of_capital():
    assert parse_offer("2/10 net 30") == (0.02, 10, 30)
    assert parse_offer("2/10, n/30") == (0.02, 10, 30)
    assert parse_offer("1.5/15 net 60") == (0.015, 15, 60)
    table = discount_offers(["2/10 net 30", "2/10, n/30", "1.5/15 net 60", (0.005, 10, 60)], cost_of_capital=0.08)
    assert table.columns.tolist() == ["offer", "discount", "discount_days", "net_days", "annual_cost_360",
                                      "annual_cost_365", "break_even_discount", "cheaper_than_capital"]
    assert table["offer"].tolist() == ["2/10 net 30", "2/10, n/30", "1.5/15 net 60", "0.5/10 net 60"]
    np.testing.assert_allclose(table["annual_cost_360"].iloc[:2], 0.02 / 0.98 * 18)
    np.testing.assert_allclose(table["annual_cost_365"].iloc[2], 0.015 / 0.985 * 365 / 45)
    # 0.5/10 net 60: 0.005/0.995 x 360/50 = 3.6% < 8%: cheaper than financing the receivable
    assert table["cheaper_than_capital"].tolist() == [False, False, False, True]
    np.testing.assert_allclose(table["break_even_discount"].iloc[3], (0.08 * 50 / 360) / (1 + 0.08 * 50 / 360))
    for bad in ("2 10 30", "2/10 net", "0/10 net 30", "2/30 net 10"):
        with pytest.raises(ValueError, match=f"offers: .*{bad!r}"):
            discount_offers([bad], 0.08)


# --------------------------------------------------------------------------------------------- the ledger
@pytest.fixture
def book():
    """X on 90-day terms pays 10 and 20 days late, Y on 30 days pays 5 days late, Z on 60 days has paid nothing."""
    return make_invoices([
        ("X0", "X", "2023-06-01", "2023-08-30", 1000.0, "2023-12-01", None),   # before the window
        ("X1", "X", "2024-01-01", "2024-03-31", 1000.0, "2024-04-10", None),   # 90 days terms, paid in 100
        ("X2", "X", "2024-06-01", "2024-08-30", 2000.0, "2024-09-19", None),   # 90 days terms, paid in 110
        ("X3", "X", "2024-11-01", "2025-01-30", 650.0, None, None),            # 90 days terms, open
        ("Y1", "Y", "2024-03-01", "2024-03-31", 730.0, "2024-04-05", None),    # 30 days terms, paid in 35
        ("Z1", "Z", "2024-12-01", "2025-01-30", 365.0, None, None),            # 60 days terms, open
    ])


@pytest.fixture
def segments():
    return pd.DataFrame({"customer_id": ["X", "Y", "Z"], "segment": ["Retail", "Services", "Retail"]})


def test_payment_habits_by_hand(book):
    habits = payment_habits(book, AS_OF).set_index("customer_id")
    assert habits.columns.tolist() == ["sales_12m", "months_buying", "monthly_sales", "terms_days", "days_to_pay",
                                       "delay_days", "paid_invoices"]
    assert habits.index.tolist() == ["X", "Y", "Z"]
    # X bought before the window: 12 months; Y since 2024-03-01 (305 days); Z since 2024-12-01 (30 days: 1 month)
    assert habits["months_buying"].tolist() == pytest.approx([12, 305 / (365 / 12), 1])
    assert habits["monthly_sales"].tolist() == pytest.approx([3650 / 12, 730 / (305 / (365 / 12)), 365])
    habits = habits.drop(columns=["months_buying", "monthly_sales"])
    # X: sales 1000 + 2000 + 650; paid: (1000 x 100 + 2000 x 110) / 3000 days, (1000 x 10 + 2000 x 20) / 3000 late
    assert habits.loc["X"].to_dict() == pytest.approx({"sales_12m": 3650, "terms_days": 90, "days_to_pay": 320 / 3,
                                                       "delay_days": 50 / 3, "paid_invoices": 1 + 1})
    assert habits.loc["Y"].to_dict() == pytest.approx({"sales_12m": 730, "terms_days": 30, "days_to_pay": 35,
                                                       "delay_days": 5, "paid_invoices": 1})
    assert habits.loc["Z", "terms_days"] == 60 and np.isnan(habits.loc["Z", "days_to_pay"])
    assert np.isnan(habits.loc["Z", "delay_days"]) and habits.loc["Z", "paid_invoices"] == 0


def test_capping_retail_terms_at_sixty_days(book, segments):
    result = terms_what_if(book, segments, AS_OF, 60, by="segment", segment="Retail", cost_of_capital=0.08)
    rows = result.per_customer.set_index("customer_id")
    # X: 90 -> 60 days, keeps its 50/3 days of delay: 320/3 -> 60 + 50/3 days to pay; sales 3650 / 365 = 10 a day
    assert rows.loc["X", "changed"] and rows.loc["X", "new_terms_days"] == 60
    assert rows.loc["X", "new_days_to_pay"] == pytest.approx(60 + 50 / 3)
    assert rows.loc["X", "cash_released"] == pytest.approx(10 * (320 / 3 - 230 / 3))
    assert rows.loc["X", "carrying_cost_saved"] == pytest.approx(300 * 0.08)
    # Z (Retail, 60 days, nothing paid) is not above the cap; it pays at terms + Retail's delay (X's 50/3)
    assert not rows.loc["Z", "changed"] and rows.loc["Z", "delay_source"] == "group"
    assert rows.loc["Z", "days_to_pay"] == pytest.approx(60 + 50 / 3) and rows.loc["Z", "cash_released"] == 0
    # Y is in Services: unchanged
    assert not rows.loc["Y", "changed"] and rows.loc["Y", "receivables_now"] == pytest.approx(730 / 365 * 35)
    summary = result.summary.set_index("segment")
    assert summary.columns.tolist() == ["customers", "changed", "sales_12m", "dso_now", "dso_new", "cash_released",
                                        "carrying_cost_saved"]
    assert summary.index.tolist() == ["Retail", "Services", "(all)"]
    # Retail: receivables 1066.67 + 76.67 now, 766.67 + 76.67 new, on sales of 4015 = 11 a day
    assert summary.loc["Retail"].to_dict() == pytest.approx({
        "customers": 2, "changed": 1, "sales_12m": 4015, "dso_now": (3200 / 3 + 230 / 3) / 11,
        "dso_new": (2300 / 3 + 230 / 3) / 11, "cash_released": 300, "carrying_cost_saved": 24})
    assert summary.loc["(all)", "cash_released"] == pytest.approx(300)
    assert summary.loc["(all)", "dso_now"] == pytest.approx((3430 / 3 + 70) / 13)


def test_setting_terms_for_everyone(book):
    # everyone to 45 days; Z takes the delay of all paid invoices: (10 x 1000 + 20 x 2000 + 5 x 730) / 3730
    pooled = (10 * 1000 + 20 * 2000 + 5 * 730) / 3730
    rows = terms_what_if(book, None, AS_OF, 45, mode="set").per_customer.set_index("customer_id")
    assert rows["changed"].all()
    # X: 10 a day x (90 - 45) days; Y: 2 a day x (30 - 45) days, longer terms; Z: 1 a day x (60 - 45)
    assert rows["cash_released"].to_dict() == pytest.approx({"X": 450, "Y": -30, "Z": 15})
    assert rows.loc["Z", "delay_days"] == pytest.approx(pooled)
    assert rows.loc["Z", "new_days_to_pay"] == pytest.approx(45 + pooled)
    # "cap" leaves Y's shorter terms alone
    capped = terms_what_if(book, None, AS_OF, 45, mode="cap")
    assert capped.per_customer.set_index("customer_id")["changed"].to_dict() == {"X": True, "Z": True, "Y": False}
    assert capped.summary.columns[0] == "customers" and len(capped.summary) == 1
    assert capped.summary.loc[0, "cash_released"] == pytest.approx(465)
    assert capped.summary.loc[0, "carrying_cost_saved"] == pytest.approx(465 * 0.08)


def test_what_if_errors(book, segments):
    with pytest.raises(ValueError, match=r"segment: 'Wholesale' is not a value of 'segment'; "
                                         r"known: \['Retail', 'Services'\]"):
        terms_what_if(book, segments, AS_OF, 60, by="segment", segment="Wholesale")
    with pytest.raises(ValueError, match="segment='Retail': pass by="):
        terms_what_if(book, segments, AS_OF, 60, segment="Retail")
    with pytest.raises(ValueError, match=r"mode: expected one of \['cap', 'set'\]"):
        terms_what_if(book, segments, AS_OF, 60, mode="floor")
    with pytest.raises(ValueError, match="new_terms_days: expected days >= 0"):
        terms_what_if(book, segments, AS_OF, -5)
    with pytest.raises(ValueError, match="months: expected a whole number of months >= 1"):
        payment_habits(book, AS_OF, months=0)


def test_docstring_examples_run():
    assert doctest.testmod(terms, optionflags=doctest.ELLIPSIS).failed == 0


def test_days_to_pay_move_by_the_change_of_terms():
    # C1: one 30-day invoice paid 10 days late (40 days), two 120-day invoices open: terms 90 (amount-weighted),
    # days to pay 40 observed; capped at 60 the terms fall by 30 days, so the days to pay fall to 10, never rise
    inv = make_invoices([("A1", "C1", "2024-10-01", "2024-10-31", 100.0, "2024-11-10", None),
                         ("A2", "C1", "2024-11-01", "2025-03-01", 100.0, None, None),
                         ("A3", "C1", "2024-11-15", "2025-03-15", 100.0, None, None)])
    row = terms_what_if(inv, None, "2024-12-31", 60).per_customer.iloc[0]
    assert row["terms_days"] == pytest.approx(90.0) and row["days_to_pay"] == pytest.approx(40.0)
    assert row["new_days_to_pay"] == pytest.approx(10.0) and row["cash_released"] > 0
