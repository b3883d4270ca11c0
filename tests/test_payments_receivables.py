"""Tests of the receivables side of portfolio_kit.payments: ledger rules and input checks, aging, DSO
(standard, countback, best possible), ADD, CEI, exposure.

Fixtures: the countback example of the Credit Research Foundation quoted in ``domain.md`` (73.7 days), and a
seven-invoice ledger whose figures are worked out by hand below; property-based tests compare the vectorised
code with a plain loop over invoices and dates.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit import payments
from portfolio_kit.payments import (aging, aging_history, aging_labels, check_invoices, collection_effectiveness_index,
                                    dso_countback, dso_standard, exposure, exposure_concentration, open_invoices,
                                    receivables_kpis)

from .payments_ledgers import make_invoices

AS_OF = pd.Timestamp("2024-03-31")
BUCKETS = ["current", "1-30", "31-60", "61-90", "91+"]


# --------------------------------------------------------------------------------------------- published figure
def test_countback_matches_the_crf_example_in_domain_md():
    # domain.md (Credit Research Foundation): AR 212,000; sales 100,000 / 80,000 / 70,000 (newest first) in
    # 30-day months -> 30 + 30 + 30 x 32,000 / 70,000 = 73.7 days
    assert dso_countback(212_000, [100_000, 80_000, 70_000], 30) == pytest.approx(30 + 30 + 30 * 32_000 / 70_000)
    assert round(dso_countback(212_000, [100_000, 80_000, 70_000], 30), 1) == 73.7


def test_countback_edge_cases_and_vectorised_rows():
    assert dso_countback(50, [100, 100], 30) == pytest.approx(15.0)          # inside the newest month
    assert dso_countback(0, [100], 30) == 0.0                                 # nothing outstanding
    assert np.isnan(dso_countback(500, [100, 100], 30))                       # history too short
    rows = dso_countback([212_000, 50], [[100_000, 80_000, 70_000], [100, 0, 0]], [[30, 31, 28], [30, 31, 28]])
    np.testing.assert_allclose(rows, [30 + 31 + 28 * 32_000 / 70_000, 15.0])
    with pytest.raises(ValueError, match="one row of periods per ending AR"):
        dso_countback([1, 2], [[1, 2]], 30)


def test_formula_functions_by_hand():
    assert dso_standard(1600, 500, 31) == pytest.approx(1600 / 500 * 31)
    assert np.isnan(dso_standard(10, 0, 30))
    # CEI = (B + S/N - E) / (B + S/N - Ec) x 100
    assert collection_effectiveness_index(1900, 500, 1600, 600, 1) == pytest.approx(800 / 1800 * 100)
    assert collection_effectiveness_index(200, 3200, 1600, 600, 3) == pytest.approx(
        (200 + 3200 / 3 - 1600) / (200 + 3200 / 3 - 600) * 100)


# --------------------------------------------------------------------------------------------- hand ledger
def test_aging_of_the_hand_ledger(ledger, customers):
    # at 2024-03-31: F5 not yet due (600); F3 rest 500 (29 days), F4 400 (15 days) and the credit note F6
    # -100 (11 days) in 1-30; F7 200 at 91 days (Dec 31 -> Mar 31 = 31 + 29 + 31) in 91+
    total = aging(ledger, AS_OF)
    assert list(total.columns) == BUCKETS + ["total"]
    assert total.iloc[0].tolist() == [600.0, 800.0, 0.0, 0.0, 200.0, 1600.0]

    per_customer = aging(ledger, AS_OF, by="customer_id").set_index("customer_id")
    assert per_customer.index.tolist() == ["C2", "C3"]                       # C1 has nothing open
    assert per_customer.loc["C2"].tolist() == [0.0, 900.0, 0.0, 0.0, 0.0, 900.0]
    assert per_customer.loc["C3"].tolist() == [600.0, -100.0, 0.0, 0.0, 200.0, 700.0]

    per_sector = aging(ledger, AS_OF, by="sector", customers=customers).set_index("sector")
    assert per_sector["total"].to_dict() == {"Retail": 900.0, "Services": 700.0}


def test_aging_from_the_invoice_date_and_custom_edges(ledger):
    # ages from issue at 03-31: F7 121, F3 59, F4 45, F5 26, F6 11 days
    by_issue = aging(ledger, AS_OF, edges=(30, 60, 90), origin="issue")
    assert list(by_issue.columns) == ["0-30", "31-60", "61-90", "91+", "total"]
    assert by_issue.iloc[0].tolist() == [500.0, 900.0, 0.0, 200.0, 1600.0]
    assert aging_labels((0, 15), "due") == ["current", "1-15", "16+"]
    with pytest.raises(ValueError, match="edges"):
        aging(ledger, AS_OF, edges=(30, 10))
    with pytest.raises(ValueError, match="origin"):
        aging(ledger, AS_OF, origin="paid")


def test_kpis_of_the_hand_ledger(ledger):
    # sales per month: Dec 200, Jan 1500, Feb 1200, Mar 600 - 100 = 500
    # AR: Dec 31 200; Jan 31 1700 (F7, F1, F2); Feb 29 1900 (F7, F2, F3, F4); Mar 31 1600 (the aging total)
    # current AR (not past due): Dec 31 200 (F7 due that day); Jan 31 1500; Feb 29 1200 (F3, F4); Mar 31 600
    k = receivables_kpis(ledger, AS_OF, window=1).set_index("period_end")
    assert k.index.tolist() == list(pd.to_datetime(["2023-12-31", "2024-01-31", "2024-02-29", "2024-03-31"]))
    assert k["days"].tolist() == [31, 31, 29, 31]
    assert k["sales"].tolist() == [200, 1500, 1200, 500]
    assert k["ar"].tolist() == [200, 1700, 1900, 1600]
    assert k["current_ar"].tolist() == [200, 1500, 1200, 600]
    mar, feb = k.loc["2024-03-31"], k.loc["2024-02-29"]
    assert mar["dso"] == pytest.approx(1600 / 500 * 31)                       # 99.2
    assert mar["bpdso"] == pytest.approx(600 / 500 * 31)                      # 37.2
    assert mar["add"] == pytest.approx(1600 / 500 * 31 - 600 / 500 * 31)     # 62.0
    assert mar["dso_countback"] == pytest.approx(31 + 29 * 1100 / 1200)      # March absorbs 500, Feb 1100/1200
    assert mar["cei"] == pytest.approx((1900 + 500 - 1600) / (1900 + 500 - 600) * 100)
    assert feb["dso"] == pytest.approx(1900 / 1200 * 29)
    assert feb["dso_countback"] == pytest.approx(29 + 31 * 700 / 1500)
    assert feb["cei"] == pytest.approx((1700 + 1200 - 1900) / (1700 + 1200 - 1200) * 100)
    first = k.iloc[0]
    assert np.isnan(first["cei"])                     # (0 + 200 - 200) / (0 + 200 - 200): nothing collectable
    assert first["dso_countback"] == pytest.approx(31.0)                      # AR = the whole first month

    k3 = receivables_kpis(ledger, AS_OF, window=3).set_index("period_end")
    assert k3["dso"].isna().tolist() == [True, True, False, False]            # no full window before Feb
    assert k3.loc["2024-03-31", "dso"] == pytest.approx(1600 / 3200 * 91)    # Jan-Mar sales 3200 in 91 days
    assert k3.loc["2024-03-31", "cei"] == pytest.approx((200 + 3200 / 3 - 1600) / (200 + 3200 / 3 - 600) * 100)


def test_as_of_inside_a_month_closes_a_partial_period(ledger):
    # as of 2024-03-10: F3's partial payment (that day) is in, F2's (03-15) not; F5 issued, F6 not yet
    k = receivables_kpis(ledger, "2024-03-10", window=1)
    last = k.iloc[-1]
    assert last["period_end"] == pd.Timestamp("2024-03-10") and last["days"] == 10
    assert last["sales"] == 600                                                # F5 only
    assert last["ar"] == 200 + 500 + 500 + 400 + 600                           # F7, F2, F3 rest, F4, F5


def test_open_invoices_and_the_as_of_cut(ledger):
    table = open_invoices(ledger, AS_OF).set_index("invoice_id")
    assert sorted(table.index) == ["F3", "F4", "F5", "F6", "F7"]
    assert table.loc["F3", "open_amount"] == 500.0
    assert table.loc["F7", "days_past_due"] == 91
    # a payment after as_of has not been made yet: F2 (paid 03-15) is open on 03-14
    assert "F2" in open_invoices(ledger, "2024-03-14")["invoice_id"].tolist()
    # invoices issued after as_of do not exist yet
    assert "F6" not in open_invoices(ledger, "2024-03-19")["invoice_id"].tolist()


def test_undated_payment_on_account_counts_from_as_of_only():
    inv = make_invoices([("F1", "C1", "2024-01-01", "2024-01-31", 1000.0, None, 400.0)])
    assert aging(inv, "2024-03-31")["total"].item() == 600.0
    history = aging_history(inv, "2024-03-31")
    assert history["total"].tolist() == [1000.0, 1000.0, 600.0]               # Jan, Feb: date unknown


# --------------------------------------------------------------------------------------------- exposure
def test_exposure_against_limits(ledger, customers):
    table = exposure(ledger, customers, AS_OF).set_index("customer_id")
    assert table.loc["C2", "exposure"] == 900.0 and table.loc["C2", "past_due"] == 900.0
    assert table.loc["C2", "utilisation"] == pytest.approx(1.8) and table.loc["C2", "over_limit"]
    assert table.loc["C2", "headroom"] == -400.0
    assert table.loc["C3", "exposure"] == 700.0 and table.loc["C3", "past_due"] == 100.0   # F7 200 + F6 -100
    assert np.isnan(table.loc["C3", "utilisation"]) and not table.loc["C3", "over_limit"]  # no limit
    assert table.loc["C1", "exposure"] == 0.0 and not table.loc["C1", "over_limit"]
    assert table.loc["C4", "exposure"] == 0.0 and not table.loc["C4", "over_limit"]        # no invoices

    summary = exposure_concentration(table.reset_index())
    # exposures 900, 700, 0, 0: HHI = (900/1600)^2 + (700/1600)^2; top customer 900/1600
    assert summary["hhi"] == pytest.approx((900 / 1600) ** 2 + (700 / 1600) ** 2)
    assert summary["top_1_share"] == pytest.approx(900 / 1600)
    assert summary["customers_over_limit"] == 1 and summary["amount_over_limit"] == 400.0


def test_zero_limit_with_exposure_is_infinitely_used():
    inv = make_invoices([("F1", "C1", "2024-01-01", "2024-01-31", 100.0, None, None)])
    table = exposure(inv, pd.DataFrame({"customer_id": ["C1"], "credit_limit": [0.0]}), "2024-02-01")
    assert np.isinf(table["utilisation"].item()) and table["over_limit"].item()


# --------------------------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("change, message", [
    (lambda f: f.assign(due_date=f["due_date"].where(f["invoice_id"] != "F4")), "'due_date' is empty .*'F4'"),
    (lambda f: f.assign(paid_date=f["paid_date"].where(f["invoice_id"] != "F1", pd.Timestamp("2024-01-01"))),
     "'paid_date' is before 'issue_date' .*'F1'"),
    (lambda f: f.assign(paid_amount=f["paid_amount"].where(f["invoice_id"] != "F3", 900.0)),
     "'paid_amount' is above 'amount' .*'F3'"),
    (lambda f: f.assign(paid_amount=f["paid_amount"].where(f["invoice_id"] != "F3", -300.0)), "opposite sign"),
    (lambda f: f.assign(due_date=f["due_date"].where(f["invoice_id"] != "F5", pd.Timestamp("2024-01-01"))),
     "'due_date' is before 'issue_date' .*'F5'"),
    (lambda f: f.drop(columns="due_date"), r"missing column\(s\) \['due_date'\]"),
    (lambda f: f.assign(issue_date=f["issue_date"].dt.strftime("%d/%m/%Y")), "'issue_date' has dtype .*expected dates"),
    (lambda f: f.assign(amount=f["amount"].astype(str)), "'amount' has dtype .*expected numbers"),
    (lambda f: f.assign(customer_id=f["customer_id"].where(f["invoice_id"] != "F2")), "'customer_id' is empty"),
])
def test_bad_invoices_get_a_clear_error(ledger, change, message):
    with pytest.raises(ValueError, match=message):
        check_invoices(change(ledger))
    with pytest.raises(ValueError, match=message):
        aging(change(ledger), AS_OF)


def test_empty_and_tiny_ledgers(ledger):
    with pytest.raises(ValueError, match="none issued on or before as_of"):
        aging(ledger.iloc[:0], AS_OF)
    with pytest.raises(ValueError, match="none issued on or before as_of"):
        receivables_kpis(ledger, "2023-11-30")
    with pytest.raises(TypeError, match="expected a DataFrame"):
        aging(ledger.to_dict(), AS_OF)
    settled = ledger[ledger["invoice_id"] == "F1"]                             # nothing open at as_of
    assert aging(settled, AS_OF).iloc[0].tolist() == [0.0] * 6
    assert aging(settled, AS_OF, by="customer_id").empty
    one = ledger[ledger["invoice_id"] == "F5"]                                 # one customer, one invoice
    assert aging(one, AS_OF)["total"].item() == 600.0
    k = receivables_kpis(one, AS_OF, window=1)
    assert len(k) == 1 and k["dso"].item() == pytest.approx(31.0)             # AR = the month's sales


def test_missing_paid_columns_mean_everything_is_open(ledger):
    bare = ledger.drop(columns=["paid_date", "paid_amount"])
    assert aging(bare, AS_OF)["total"].item() == ledger["amount"].sum()


# --------------------------------------------------------------------------------------------- properties
def naive_open(inv: pd.DataFrame, t: pd.Timestamp, as_of: pd.Timestamp) -> list[tuple[float, int]]:
    """(open amount, days past due) of every invoice at day ``t``, by a plain loop and the documented rules."""
    out = []
    for r in inv.itertuples():
        if r.issue_date > t:
            continue
        received = 0.0
        if pd.notna(r.paid_date) and r.paid_date <= min(t, as_of):
            received = r.amount if np.isnan(r.paid_amount) else r.paid_amount
        elif pd.isna(r.paid_date) and not np.isnan(r.paid_amount) and t >= as_of:
            received = r.paid_amount                                          # undated: known at as_of
        out.append((r.amount - received, (t - r.due_date).days))
    return out


@st.composite
def ledgers(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        issue = draw(st.integers(0, 200))
        due = issue + draw(st.integers(0, 95))
        amount = draw(st.sampled_from([-1.0, 1.0, 1.0, 1.0])) * draw(st.integers(1, 1000))
        kind = draw(st.sampled_from(["open", "paid", "partial", "undated"]))
        pay = issue + draw(st.integers(0, 300)) if kind in ("paid", "partial") else None
        paid = {"open": None, "paid": None, "partial": amount * draw(st.sampled_from([0.25, 0.5])),
                "undated": amount / 2}[kind]
        day = pd.Timestamp("2024-01-01")
        rows.append((f"F{i}", f"C{draw(st.integers(0, 3))}", day + pd.Timedelta(days=issue),
                     day + pd.Timedelta(days=due), amount, None if pay is None else day + pd.Timedelta(days=pay), paid))
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 400)))
    return make_invoices(rows), as_of


def bucket_of(days_past_due: int) -> str:
    return BUCKETS[sum(days_past_due > e for e in (0, 30, 60, 90))]


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_aging_history_equals_a_loop_over_invoices_and_dates(case):
    inv, as_of = case
    if (inv["issue_date"] > as_of).all():
        return
    history = aging_history(inv, as_of)
    assert history["period_end"].iloc[-1] == as_of
    for row in history.itertuples(index=False):
        expected = dict.fromkeys(BUCKETS, 0.0)
        for amount, past_due in naive_open(inv, row.period_end, as_of):
            expected[bucket_of(past_due)] += amount
        got = dict(zip(BUCKETS, row[1:6]))
        assert got == pytest.approx(expected, abs=1e-6)
        assert row.total == pytest.approx(sum(expected.values()), abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(ledgers())
def test_aging_at_as_of_is_the_last_row_of_the_history_and_the_sum_of_customers(case):
    inv, as_of = case
    if (inv["issue_date"] > as_of).all():
        return
    total = aging(inv, as_of)
    last = aging_history(inv, as_of).iloc[[-1]].drop(columns="period_end").reset_index(drop=True)
    pd.testing.assert_frame_equal(total, last)
    per_customer = aging(inv, as_of, by="customer_id")
    np.testing.assert_allclose(per_customer[BUCKETS + ["total"]].sum().to_numpy(), total.iloc[0].to_numpy(), atol=1e-6)
    kpis = receivables_kpis(inv, as_of, window=1)
    np.testing.assert_allclose(kpis["ar"].iloc[-1], total["total"].item(), atol=1e-6)
    np.testing.assert_allclose(kpis["current_ar"].iloc[-1], total["current"].item(), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1, 1e6), min_size=1, max_size=12), st.floats(0, 1), st.integers(28, 31))
def test_countback_counts_whole_months_of_steady_sales(sales, fraction, days):
    # with constant monthly sales s, an AR of k.f x s is k.f months of sales: countback = k.f x days
    s = sales[0]
    months = len(sales)
    ar = s * (months - 1 + fraction)
    assert dso_countback(ar, [s] * months, days) == pytest.approx((months - 1 + fraction) * days, rel=1e-9, abs=1e-9)


def test_docstring_examples_run():
    for module in (payments.ledger, payments.receivables):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_cash_collected_by_hand(ledger):
    # C1: 1,000 on 5 Feb + 500 on 15 Mar; C2: 300 of F3 on 10 Mar (F4 open); C3: nothing (open, credit note)
    cash = payments.cash_collected(ledger, "2024-03-31")
    assert cash.to_dict() == {"C1": 1500.0, "C2": 300.0, "C3": 0.0}
    assert payments.cash_collected(ledger, "2024-03-31", start="2024-03-01").to_dict() == {"C1": 500.0, "C2": 300.0,
                                                                                          "C3": 0.0}
    assert payments.cash_collected(ledger, "2024-03-01").to_dict() == {"C1": 1000.0, "C2": 0.0, "C3": 0.0}
