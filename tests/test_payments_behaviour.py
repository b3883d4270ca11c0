"""Tests of payment behaviour in portfolio_kit.payments: days late, late shares per month (with open invoices
censored), payment index and payment profiles.

Fixtures are small ledgers whose figures are worked out by hand below, and plain loops over invoices.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit import payments
from portfolio_kit.payments import PROFILES, days_late, late_payment_shares, payment_index, payment_profile

from .payments_ledgers import make_invoices

AS_OF = pd.Timestamp("2024-03-31")


def test_days_late_of_paid_invoices_only(ledger, customers):  # noqa: F811
    # F1 paid 02-05, due 02-09: -4; F2 paid 03-15, due 02-19: 25; F3 partly paid 03-10, due 03-02: 8 (its
    # payment is the event); F4, F5, F7 are open (never counted as paid); F6 is a credit note
    table = days_late(ledger, AS_OF, customers, by="sector").set_index("invoice_id")
    assert sorted(table.index) == ["F1", "F2", "F3"]
    assert table["days_late"].to_dict() == {"F1": -4, "F2": 25, "F3": 8}
    assert table["days_to_pay"].to_dict() == {"F1": 26, "F2": 55, "F3": 38}
    assert table["sector"].to_dict() == {"F1": "Retail", "F2": "Retail", "F3": "Retail"}
    # as of 03-14, F2's payment has not happened yet
    assert "F2" not in days_late(ledger, "2024-03-14")["invoice_id"].tolist()


def test_late_shares_count_open_invoices_only_once_their_answer_is_known(ledger):  # noqa: F811
    # threshold 30 at 03-31: only invoices due by 03-01 count: F7 (due 12-31, open 91 days -> late),
    # F1 (-4) and F2 (25) not late. F3 (due 03-02) and later are left out, paid or not.
    shares = late_payment_shares(ledger, AS_OF).set_index("period_end")
    assert shares.index.tolist() == list(pd.to_datetime(["2023-12-31", "2024-01-31", "2024-02-29", "2024-03-01"]))
    assert shares["invoices"].tolist() == [1, 0, 2, 0]
    assert shares["invoices_late"].tolist() == [1, 0, 0, 0]
    assert shares.loc["2023-12-31", "share_invoices_late"] == 1.0
    assert shares.loc["2024-02-29", "share_invoices_late"] == 0.0
    assert np.isnan(shares.loc["2024-01-31", "share_invoices_late"])         # nothing due that month
    assert shares.loc["2024-02-29", "amount"] == 1500 and shares.loc["2024-02-29", "customers"] == 1


def test_late_shares_by_hand_with_several_customers():
    inv = make_invoices([
        ("A1", "A", "2024-01-01", "2024-01-31", 100.0, "2024-03-15", None),   # 44 days late
        ("A2", "A", "2024-01-05", "2024-01-20", 300.0, "2024-01-25", None),   # 5 days late
        ("B1", "B", "2024-01-02", "2024-01-10", 600.0, "2024-02-10", None),   # 31 days late
        ("C1", "C", "2024-01-03", "2024-01-15", 200.0, None, None),           # open since 01-15: late
        ("D1", "D", "2024-01-03", "2024-01-15", 800.0, "2024-02-14", None),   # exactly 30 days: not late
    ])
    row = late_payment_shares(inv, "2024-04-30").iloc[0]
    assert row["invoices"] == 5 and row["invoices_late"] == 3                 # A1, B1, C1
    assert row["share_invoices_late"] == pytest.approx(3 / 5)
    assert row["share_amount_late"] == pytest.approx((100 + 600 + 200) / 2000)
    assert row["customers_late"] == 3 and row["share_customers_late"] == pytest.approx(3 / 4)
    # with a 60-day threshold only C1 (open 106 days) is late
    assert late_payment_shares(inv, "2024-04-30", threshold=60).iloc[0]["invoices_late"] == 1


def test_payment_index_by_hand(ledger):  # noqa: F811
    # points on the scale: -4 days -> 84, 25 -> 56.25, 8 -> 74.67, open F4 15 days so far -> 70, open F7 91 -> 29.67;
    # F5 is not yet due and left out
    table = payment_index(ledger, AS_OF, months=None).set_index("customer_id")
    assert table.loc["C1", "payment_index"] == pytest.approx((1000 * 84 + 500 * 56.25) / 1500)
    assert table.loc["C2", "payment_index"] == pytest.approx((800 * (80 - 10 * 8 / 15) + 400 * 70) / 1200)
    assert table.loc["C3", "payment_index"] == pytest.approx(30 - 10 / 30)
    assert table["invoices"].to_dict() == {"C1": 2, "C2": 2, "C3": 1}
    # a 1-month window (due after 02-29) keeps F3 and F4 only
    assert payment_index(ledger, AS_OF, months=1)["customer_id"].tolist() == ["C2"]


@settings(max_examples=50, deadline=None)
@given(st.floats(-60, 400))
def test_payment_index_scale_is_bounded_and_never_rises_with_lateness(days):
    points = payments.behaviour._index_points(np.array([days, days + 1.0]))
    assert 1 <= points[1] <= points[0] <= 100


def profile_ledger(pattern: dict[str, list[int]]) -> pd.DataFrame:
    """Monthly 100-euro invoices per customer, due 30 days after issue, paid ``d`` days after the due date
    (``None``: still open)."""
    rows = []
    for customer, delays in pattern.items():
        for i, d in enumerate(delays):
            issue = pd.Timestamp("2024-01-01") + pd.DateOffset(months=i)
            due = issue + pd.Timedelta(days=30)
            paid = None if d is None else due + pd.Timedelta(days=d)
            rows.append((f"{customer}{i}", customer, issue, due, 100.0, paid, None))
    return make_invoices(rows)


def test_payment_profile_rules():
    inv = profile_ledger({
        "ontime": [0, -3, 5, 2, 0, 1, 0, 0, 0, 0],       # no invoice more than 5 days late
        "occasional": [0, 0, 12, 0, 0, 0, 0, 9, 0, 0],   # 2 of 10 late: above 10%, below 50%
        "chronic": [40, 0, 35, 50, 0, 0, 0, 0, 0, 0],    # 3 of 10 late but 12.5 days on average... see below
        "halflate": [6, 6, 6, 6, 6, 0, 0, 0, 0, 0],      # 5 of 10 late: the 50% line
        "newcomer": [0, 60],                              # 2 invoices: too few to tell
        "worsening": [0, 3, 6, 10, 14, 18, 25, 30, 35, 40],
    })
    table = payment_profile(inv, "2024-12-31", months=None, min_invoices=3, chronic_days=12).set_index("customer_id")
    profile = table["profile"].astype(str).to_dict()
    assert profile["ontime"] == "on time"
    assert profile["occasional"] == "occasionally late"
    assert table.loc["chronic", "avg_days_late"] == pytest.approx(12.5)       # (40 + 35 + 50) / 10 > 12
    assert profile["chronic"] == "chronically late"
    assert profile["halflate"] == "chronically late"                           # share 0.5 >= 0.5
    assert profile["newcomer"] == "insufficient history"
    assert table.loc["occasional", "share_late"] == pytest.approx(0.2)
    assert table.loc["ontime", "max_days_late"] == 5
    assert list(table["profile"].cat.categories) == PROFILES
    # the least-squares slope of days late on the due date, in days per year, by a direct fit
    worse = inv[inv["customer_id"] == "worsening"]
    x = (worse["due_date"] - pd.Timestamp("2024-12-31")).dt.days / 365.25
    y = (worse["paid_date"] - worse["due_date"]).dt.days
    assert table.loc["worsening", "days_late_trend"] == pytest.approx(np.polyfit(x, y, 1)[0])
    assert table.loc["worsening", "worsening"] and not table.loc["ontime", "worsening"]
    assert np.isnan(table.loc["newcomer", "days_late_trend"])


def test_payment_profile_counts_long_open_invoices_as_late():
    # 3 invoices, two unpaid for months: never counted as paid, but late beyond doubt
    inv = profile_ledger({"stuck": [0, None, None]})
    row = payment_profile(inv, "2024-12-31", months=None).iloc[0]
    assert row["invoices"] == 3 and row["invoices_late"] == 2
    assert row["profile"] == "chronically late"


def test_behaviour_needs_some_known_lateness(ledger):  # noqa: F811
    with pytest.raises(ValueError, match="not known yet"):
        late_payment_shares(ledger, "2024-01-15")
    with pytest.raises(ValueError, match="widen months"):
        payment_profile(ledger, "2024-01-02")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 120), st.integers(0, 60),
                          st.one_of(st.none(), st.integers(0, 150)), st.integers(1, 500)), min_size=1, max_size=15))
def test_late_shares_equal_a_loop_over_invoices(rows):
    day = pd.Timestamp("2024-01-01")
    inv = make_invoices([(f"F{i}", f"C{c}", day + pd.Timedelta(days=s), day + pd.Timedelta(days=s + t), float(a),
                          None if p is None else day + pd.Timedelta(days=s + p), None)
                         for i, (c, s, t, p, a) in enumerate(rows)])
    as_of = day + pd.Timedelta(days=200)
    cutoff = as_of - pd.Timedelta(days=30)
    known = inv[inv["due_date"] <= cutoff]                  # open at as_of if paid later: lateness so far
    if known.empty:
        return
    shares = late_payment_shares(inv, as_of)
    late_days = (known["paid_date"].where(known["paid_date"] <= as_of, as_of) - known["due_date"]).dt.days
    assert shares["invoices"].sum() == len(known)
    assert shares["invoices_late"].sum() == int((late_days > 30).sum())
    assert shares["amount_late"].sum() == pytest.approx(known.loc[late_days > 30, "amount"].sum())


def test_docstring_examples_run():
    assert doctest.testmod(payments.behaviour, optionflags=doctest.ELLIPSIS).failed == 0
