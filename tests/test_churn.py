"""Tests of portfolio_kit.churn: labels on a hand-made history (every boundary), features by hand and against
per-customer loops, a leakage test (future rows appended, features unchanged), the BG/NBD no-purchase formula
against direct integration over the model's definition, Kaplan-Meier and cohorts by hand, the drivers as data and
in words (portfolio_kit.report.wording.churn), degenerate cases, the choice of the score that drives the at-risk
list (hand-made validation tables at the rule's boundaries, and the sentence that states it), and the sample client
in data/sample: the logit must beat the recency baseline on the later cut-off, the at-risk list carries the chosen
score's probability, and the notebook runs."""

from __future__ import annotations

import doctest
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import integrate, stats  # noqa: E402

from portfolio_kit import churn, clv  # noqa: E402
from portfolio_kit.churn import (AUC_TOLERANCE, ChurnModel, add_months, at_risk_customers,  # noqa: E402
                                 backtest_churn, choose_score, churn_features, churn_horizon, churn_labels,
                                 churn_scores, cohort_retention, no_purchase_probability, rank_scores, survival_at,
                                 tenure_survival)
from portfolio_kit.data import dates  # noqa: E402
from portfolio_kit.report.plots import churn as figures  # noqa: E402
from portfolio_kit.report.texts import Texts  # noqa: E402
from portfolio_kit.report.wording import churn as wording  # noqa: E402
from portfolio_kit.report.wording.churn import at_risk_in_words, chosen_score_in_words, drivers_in_words  # noqa: E402
from portfolio_kit.stats import regression  # noqa: E402
from .conftest import SAMPLE_DIR as SAMPLE

DAY = pd.Timedelta(days=1)


def make_tx(rows) -> pd.DataFrame:
    """Canonical transactions from (customer, date, amount) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def simulated_history(n: int = 300, seed: int = 7, stop_share: float = 0.5, size_classes=("Micro", "Small")):
    """Customers buying every ``gap`` days on average (own pace, 7-90) from a start in 2023; ``stop_share`` of
    them stop at a random date in 2023-2024, the others buy until 2024-12-31. Returns transactions, customers."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        gap = int(rng.integers(7, 91))
        start = pd.Timestamp("2023-01-01") + int(rng.integers(0, 300)) * DAY
        stop = (start + int(rng.integers(30, 700)) * DAY if rng.random() < stop_share else pd.Timestamp("2024-12-31"))
        day = start
        while day <= stop:
            rows.append((f"C{i:03d}", day, float(rng.gamma(2.0, 100.0))))
            day += int(1 + rng.exponential(gap)) * DAY                       # Poisson-like buying
    customers = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)], "name": [f"Firm {i}" for i in range(n)],
                              "size_class": rng.choice(list(size_classes), n)})
    return make_tx(rows), customers


# ------------------------------------------------------------------------------------------------ dates, horizon
def test_add_months_keeps_month_ends():
    assert add_months is dates.add_months                                       # the notebooks' churn.add_months
    assert add_months("2026-06-30", 4) == pd.Timestamp("2026-10-31")
    assert add_months("2026-10-31", -4) == pd.Timestamp("2026-06-30")
    assert add_months("2024-02-29", 12) == pd.Timestamp("2025-02-28")
    assert add_months("2026-03-15", -1) == pd.Timestamp("2026-02-15")


def test_horizon_is_the_quantile_of_inter_purchase_times_in_months():
    # one customer with gaps of 10, 20, ..., 100 days: the 90th percentile is 91 days = 2.99 months -> 3
    days = np.cumsum([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    tx = make_tx([("a", pd.Timestamp("2024-01-01") + int(d) * DAY, 1.0) for d in days])
    assert np.quantile(np.arange(10, 101, 10), 0.9) == 91
    assert churn_horizon(tx) == 3
    assert churn_horizon(tx, quantile=0.5) == 2                                 # 55 days = 1.8 months
    with pytest.raises(ValueError, match="no customer has two purchase days"):
        churn_horizon(make_tx([("a", "2024-01-01", 1.0), ("b", "2024-01-01", 1.0)]))


# ------------------------------------------------------------------------------------------------ labels
HAND_HISTORY = make_tx([
    ("cutoff_day", "2024-06-30", 10),                          # bought on the cut-off day: history, so churned
    ("window_last", "2024-05-01", 10), ("window_last", "2024-08-31", 10),      # last day of the window counts
    ("window_first", "2024-05-01", 10), ("window_first", "2024-07-01", 10),    # first day of the window
    ("after_window", "2024-05-01", 10), ("after_window", "2024-09-01", 10),    # one day too late: churned
    ("too_old", "2024-03-31", 10), ("too_old", "2024-07-15", 10),  # exactly 3 months before: not active
    ("just_active", "2024-04-01", 10),                          # one day inside the activity window
    ("return_only", "2024-05-01", 10), ("return_only", "2024-07-15", -5),  # a return is not a purchase
    ("new", "2024-07-10", 10),                                  # first purchase after the cut-off: not active
])


def test_labels_on_a_hand_made_history():
    """Cut-off 2024-06-30, H = 2 months: window (2024-06-30, 2024-08-31]; active: (2024-03-31, 2024-06-30]."""
    labels = churn_labels(HAND_HISTORY, "2024-06-30", 2, as_of="2024-09-30", active_months=3)
    assert labels["churned"].to_dict() == {"after_window": 1, "cutoff_day": 1, "just_active": 1, "return_only": 1,
                                           "window_first": 0, "window_last": 0}
    assert labels.attrs["window_end"] == pd.Timestamp("2024-08-31")
    assert labels.loc["window_last", "next_purchase"] == pd.Timestamp("2024-08-31")
    assert labels.loc["cutoff_day", "last_purchase"] == pd.Timestamp("2024-06-30")
    everyone = churn_labels(HAND_HISTORY, "2024-06-30", 2, as_of="2024-09-30", active_months=None)
    assert "too_old" in everyone.index and everyone.loc["too_old", "churned"] == 0 and "new" not in everyone.index


def test_labels_need_the_whole_window_observed():
    with pytest.raises(ValueError, match="2024-10-31 is after the end of the data.*not known yet.*2024-05-31"):
        churn_labels(HAND_HISTORY, "2024-06-30", 4, as_of="2024-09-30")
    assert len(churn_labels(HAND_HISTORY, "2024-06-30", 3, as_of="2024-09-30", active_months=3)) == 6  # known
    with pytest.raises(ValueError, match="no customer active"):
        churn_labels(HAND_HISTORY, "2023-06-30", 2, as_of="2024-09-30")


def naive_labels(tx: pd.DataFrame, cutoff, horizon: int, active: int) -> dict[str, int]:
    cutoff = pd.Timestamp(cutoff)
    start, end = add_months(cutoff, -active), add_months(cutoff, horizon)
    out = {}
    for customer, rows in tx[tx["amount"] > 0].groupby("customer_id"):
        dates = list(rows["date"])
        if any(start < d <= cutoff for d in dates):
            out[customer] = int(not any(cutoff < d <= end for d in dates))
    return out


random_rows = st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 500),
                                 st.sampled_from([-20.0, 0.0, 15.0, 40.0])), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None)
@given(random_rows, st.integers(150, 300), st.integers(1, 6), st.integers(1, 12))
def test_labels_match_a_loop_over_customers(rows, cut_day, horizon, active):
    tx = make_tx([(c, pd.Timestamp("2024-01-01") + d * DAY, a) for c, d, a in rows])
    cutoff = pd.Timestamp("2024-01-01") + cut_day * DAY
    expected = naive_labels(tx, cutoff, horizon, active)
    if not expected:
        with pytest.raises(ValueError, match="no customer active"):
            churn_labels(tx, cutoff, horizon, as_of="2026-01-01", active_months=active)
        return
    labels = churn_labels(tx, cutoff, horizon, as_of="2026-01-01", active_months=active)
    assert labels["churned"].to_dict() == expected


# ------------------------------------------------------------------------------------------------ features
def test_features_by_hand():
    tx = make_tx([
        ("a", "2024-01-01", 100), ("a", "2024-01-31", 50), ("a", "2024-03-01", 80), ("a", "2024-03-01", 20),
        ("a", "2024-03-10", -30), ("a", "2024-06-15", 999),     # a return, then a purchase after the cut-off
        ("b", "2024-05-15", 40),
        ("c", "2024-02-01", 10), ("c", "2024-02-11", 10), ("c", "2024-03-12", 10),
    ])
    f = churn_features(tx, "2024-05-31", trend_months=2)
    a, b, c = f.loc["a"], f.loc["b"], f.loc["c"]
    assert (a["recency_days"], a["tenure_days"], a["frequency"]) == (91, 151, 3)  # same-day purchases merge
    assert a["mean_gap_days"] == 30 and a["gap_cv"] == 0 and a["overdue_ratio"] == pytest.approx(91 / 30)
    assert a["expected_orders_missed"] == pytest.approx(3 * np.log(181 / 90))  # 3 log((30 + 151) / (30 + 60))
    assert a["revenue"] == 220 and a["avg_order_value"] == pytest.approx(220 / 3)
    # trend periods (03-31, 05-31] and (01-31, 03-31]: 0 against 80 + 20 - 30 = 70 -> -1
    assert (a["revenue_recent"], a["revenue_previous"], a["spend_trend"]) == (0, 70, -1)
    assert b["one_purchase"] == 1 and np.isnan(b["mean_gap_days"]) and np.isnan(b["gap_cv"])
    assert b["expected_orders_missed"] == pytest.approx(np.log(46 / 30)) and b["spend_trend"] == 1
    assert c["gap_cv"] == pytest.approx(np.std([10, 30]) / 20)                # gaps 10 and 30 days


def test_payment_features_use_the_ledger_as_known_at_the_cutoff():
    tx = make_tx([("a", "2024-03-01", 100), ("b", "2024-03-01", 100)])
    invoices = pd.DataFrame({
        "invoice_id": ["F1", "F2", "F3", "F4"], "customer_id": ["a", "a", "a", "a"],
        "issue_date": pd.to_datetime(["2024-03-01", "2024-04-01", "2024-04-10", "2024-05-20"]),
        "due_date": pd.to_datetime(["2024-04-01", "2024-05-01", "2024-05-10", "2024-06-19"]),
        "amount": [100.0, 300.0, 200.0, 50.0],
        "paid_date": pd.to_datetime(["2024-04-11", "2024-05-01", "2024-06-20", "2024-06-01"]),
    })
    f = churn_features(tx, "2024-05-31", invoices=invoices)
    # F1 10 days late, F2 on time, F3 unpaid at the cut-off: 21 days past due so far; F4 not yet due
    assert f.loc["a", "avg_days_late"] == pytest.approx((100 * 10 + 300 * 0 + 200 * 21) / 600)
    assert f.loc["a", "share_late"] == pytest.approx(2 / 3)
    assert np.isnan(f.loc["b", "avg_days_late"])                              # no invoice: no evidence
    for none in (invoices.iloc[:0], invoices.iloc[[3]]):                      # no invoice, none due yet
        assert churn_features(tx, "2024-05-31", invoices=none)["avg_days_late"].isna().all()


def test_no_feature_uses_information_after_the_cutoff(sample):
    """Features and the BG/NBD score from the data cut at the cut-off equal those from the full data with
    extra future rows appended (new purchases, returns, a new customer, future invoices and payments)."""
    tx, customers, invoices, _ = sample
    cutoff = pd.Timestamp("2026-03-31")
    known_tx = tx[tx["date"] <= cutoff]
    known_inv = invoices[invoices["issue_date"] <= cutoff].copy()
    later = known_inv["paid_date"] > cutoff
    known_inv.loc[later, "paid_date"] = pd.NaT
    known_inv.loc[later, "paid_amount"] = np.nan
    some = tx["customer_id"].drop_duplicates().head(50).tolist()
    future_tx = make_tx([(c, cutoff + (i % 90 + 1) * DAY, 50.0 if i % 3 else -20.0) for i, c in enumerate(some)]
                        + [("NEW", cutoff + DAY, 10.0)]).assign(margin=5.0)
    future_inv = invoices.head(1).assign(invoice_id="FUTURE", issue_date=cutoff + DAY, due_date=cutoff + 30 * DAY,
                                         paid_date=cutoff + 2 * DAY)
    full_tx = pd.concat([tx, future_tx.astype({"customer_id": tx["customer_id"].dtype})], ignore_index=True)
    full_inv = pd.concat([invoices, future_inv], ignore_index=True)
    before = churn_features(known_tx, cutoff, customers, known_inv)
    after = churn_features(full_tx, cutoff, customers, full_inv)
    pd.testing.assert_frame_equal(before, after)
    assert {"avg_days_late", "size_class", "expected_orders_missed"} <= set(after.columns)
    pd.testing.assert_frame_equal(no_purchase_probability(known_tx, cutoff, 5),
                                  no_purchase_probability(full_tx, cutoff, 5), rtol=1e-6)


# ------------------------------------------------------------------------------------------------ BTYD score
def direct_no_purchase(params: dict, x: int, tx: float, T: float, t: float, dropout_at_start: int) -> float:
    """P(no purchase in (T, T + t] | x, tx, T) by integrating the model's definition over the Beta(a, b)
    dropout and Gamma(r, alpha) rate priors: alive paths need no event in (tx, T + t], dead ones dropped
    right after the last purchase (k = x + dropout_at_start opportunities)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    k = x + dropout_at_start
    p_stay = integrate.quad(lambda p: (1 - p) ** k * stats.beta.pdf(p, a, b), 0, 1)[0]
    p_drop = integrate.quad(lambda p: p * (1 - p) ** (k - 1) * stats.beta.pdf(p, a, b), 0, 1)[0] if k else 0.0

    def rate(s):  # E[lambda^x exp(-lambda s)] under the gamma prior
        return integrate.quad(lambda lam: lam**x * np.exp(-lam * s) * stats.gamma.pdf(lam, r, scale=1 / alpha),
                              0, np.inf)[0]

    return (p_stay * rate(T + t) + p_drop * rate(tx)) / (p_stay * rate(T) + p_drop * rate(tx))


@pytest.mark.parametrize("Model, start", [(clv.BetaGeo, 0), (clv.ModifiedBetaGeo, 1)])
def test_no_purchase_probability_against_the_model_definition(Model, start):
    params = dict(r=0.25, alpha=4.0, a=0.8, b=2.5)
    first = pd.Timestamp("2024-01-01")
    tx = make_tx([("rep", first, 10), ("rep", first + 14 * DAY, 10), ("rep", first + 70 * DAY, 10),
                  ("one", first + 28 * DAY, 10), ("busy", first, 10)]
                 + [("busy", first + 7 * i * DAY, 10) for i in range(1, 16)])
    cutoff = first + 140 * DAY                                                     # T = 20 weeks
    out = no_purchase_probability(tx, cutoff, 3, Model.from_params(**params))
    t = 3 * 365.25 / 12 / 7                                                        # 3 months in weeks
    cases = {"rep": (2, 10, 20), "one": (0, 0, 16), "busy": (15, 15, 20)}
    for customer, (x, tx_, T) in cases.items():
        assert out.loc[customer, "no_purchase_probability"] == pytest.approx(
            direct_no_purchase(params, x, tx_, T, t, start), rel=1e-6), customer


# ------------------------------------------------------------------------------------------------ model
@pytest.fixture(scope="module")
def simulated():
    tx, customers = simulated_history()
    cutoff, horizon = pd.Timestamp("2024-06-30"), 3
    features = churn_features(tx, cutoff, customers)
    labels = churn_labels(tx, cutoff, horizon, as_of="2024-12-31")
    return tx, customers, features, labels


def test_model_odds_ratios_and_contributions_add_up(simulated):
    _, _, features, labels = simulated
    model = ChurnModel(numeric=["recency_days", "frequency", "expected_orders_missed"], categorical=["size_class"])
    model.fit(features, labels)
    table = model.odds_ratios_.set_index("term")
    reference = features.loc[labels.index, "size_class"].value_counts().idxmax()   # the more frequent level
    other = ({"Micro", "Small"} - {reference}).pop()
    assert list(table.index) == ["const", "recency_days", "frequency", "expected_orders_missed",
                                 f"size_class[{other}]"]
    assert table.loc[f"size_class[{other}]", "scale"] == f"vs {reference}"
    assert table.loc["expected_orders_missed", "odds_ratio"] > 1                # longer silence, more churn
    # the log-odds = constant + b . mean + the per-topic contributions
    p = model.predict(features)
    coef = model.result_.params
    base = coef["const"] + (coef.drop("const") * model.centre_).sum()
    ok = p.between(1e-9, 1 - 1e-9).to_numpy()                                # logit(p) is finite and exact
    assert np.log(p / (1 - p)).to_numpy()[ok] == pytest.approx(
        base + model.contributions(features).sum(axis=1).to_numpy()[ok])


def test_coefficient_table_matches_statsmodels(simulated):
    _, _, features, labels = simulated
    model = ChurnModel(numeric=["recency_days"], categorical=()).fit(features, labels)
    low, high = np.exp(model.result_.conf_int()).T.to_numpy()
    table = regression.coefficient_table(model.result_)
    assert table["odds_ratio"].to_numpy() == pytest.approx(np.exp(model.result_.params.to_numpy()))
    assert table["odds_ratio_low"].to_numpy() == pytest.approx(low)
    assert table["odds_ratio_high"].to_numpy() == pytest.approx(high)


def test_drivers_are_topics_then_words(simulated):
    _, _, features, labels = simulated
    model = ChurnModel(numeric={"recency_days": "log", "frequency": "log", "expected_orders_missed": "linear"},
                       categorical=()).fit(features, labels)
    row = features.iloc[[0]].copy()
    row[["recency_days", "frequency", "mean_gap_days", "tenure_days"]] = [150.0, 10, 30.0, 420.0]
    row["expected_orders_missed"] = 10 * np.log(450 / 300)
    drivers = model.drivers(row)
    assert list(drivers.columns) == ["driver_1", "driver_2"] and drivers.iloc[0, 0] == "silence"  # two topics
    assert drivers_in_words(drivers, row).iloc[0].startswith("no order for 5 months, usually orders monthly")
    fresh = row.assign(recency_days=1.0, expected_orders_missed=0.0)
    assert "silence" not in model.drivers(fresh).iloc[0].tolist()
    assert "no order" not in drivers_in_words(model.drivers(fresh), fresh).iloc[0]
    with pytest.raises(ValueError, match="top: expected a whole number"):
        model.drivers(row, top=0)


def test_driver_sentence_of_a_known_row_in_english_and_italian():
    """The sentences of the at-risk list, as the model wrote them before the wording moved to the report."""
    index = pd.Index(["C1"], name="customer_id")
    row = pd.DataFrame({"recency_days": 150.0, "frequency": 10, "mean_gap_days": 30.0, "tenure_days": 420.0,
                        "gap_cv": 0.7, "revenue_recent": 400.0, "revenue_previous": 1000.0,
                        "avg_order_value": 1234.4, "avg_days_late": 12.4, "size_class": "Micro"}, index=index)
    row.attrs["trend_months"] = 6
    drivers = pd.DataFrame([["silence", "trend", "spend", "payment", "size_class", "regularity", "orders", None]],
                           index=index, columns=[f"driver_{k}" for k in range(1, 9)])
    assert drivers_in_words(drivers, row, Texts("en")).iloc[0].split("; ") == [
        "no order for 5 months, usually orders monthly", "spend down 60% (the last 6 months vs the 6 before)",
        "average order EUR 1,234", "pays 12 days late on average", "size class Micro", "fairly irregular ordering",
        "only 10 orders in 14 months"]
    assert drivers_in_words(drivers, row, Texts("it")).iloc[0].split("; ")[:4] == [
        "nessun ordine da 5 mesi, di solito ordina ogni mese",
        "spesa in calo del 60% (ultimi 6 mesi sui 6 precedenti)", "ordine medio EUR 1.234",
        "paga in media con 12 giorni di ritardo"]
    assert drivers_in_words(drivers, row).equals(drivers_in_words(drivers, row, Texts("en")))  # English default
    assert drivers_in_words(drivers.assign(driver_1=None, driver_2=None).iloc[:, :2], row).iloc[0] == ""


def test_at_risk_list_ranks_by_value_at_risk(simulated):
    _, customers, features, labels = simulated
    model = ChurnModel(categorical=()).fit(features, labels)
    stake = pd.Series(np.random.default_rng(1).gamma(2, 500, len(features)), index=features.index)
    stake.iloc[0] = np.nan                                                        # no value: ranked last
    risk = at_risk_customers(model, features, stake, customers)
    expected = (model.predict(features) * stake).loc[risk["customer_id"]]
    assert risk["value_at_risk"].to_numpy() == pytest.approx(expected.to_numpy(), nan_ok=True)
    assert risk["value_at_risk"].iloc[:-1].is_monotonic_decreasing and risk["customer_id"].iloc[-1] == features.index[0]
    assert risk["risk_rank"].tolist() == list(range(1, len(features) + 1))
    assert risk.set_index("customer_id").loc["C001", "name"] == "Firm 1"
    assert at_risk_customers(model, features)["churn_probability"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="value_at_stake: expected a numeric Series"):
        at_risk_customers(model, features, stake.to_frame())
    # the topics in data, then in words in their place: the list's columns as it is saved
    assert list(risk.columns) == ["risk_rank", "customer_id", "name", "churn_probability", "value_at_stake",
                                  "value_at_risk", "driver_1", "driver_2", "driver_3", "recency_days", "frequency",
                                  "mean_gap_days"]
    worded = at_risk_in_words(risk, features)
    assert list(worded.columns) == ["risk_rank", "customer_id", "name", "churn_probability", "value_at_stake",
                                    "value_at_risk", "drivers", "recency_days", "frequency", "mean_gap_days"]
    expected = drivers_in_words(model.drivers(features), features).loc[risk["customer_id"]]
    assert worded["drivers"].tolist() == expected.tolist()
    with pytest.raises(ValueError, match="expected the table of churn.at_risk_customers"):
        at_risk_in_words(risk.drop(columns=["driver_1", "driver_2", "driver_3"]), features)


# ------------------------------------------------------------------------------------------------ degenerate
def test_all_churned_or_none_churned_gives_a_clear_message():
    tx, _ = simulated_history(n=40, stop_share=1.0)
    stopped = tx[tx["date"] <= "2024-03-31"]                                     # nobody buys after the cut-off
    features, labels = churn_features(stopped, "2024-03-31"), churn_labels(stopped, "2024-03-31", 3,
                                                                             as_of="2024-12-31")
    with pytest.raises(ValueError, match="all of the .* churned"):
        ChurnModel().fit(features, labels)
    with pytest.raises(ValueError, match="all of the .* active at test_cutoff 2024-06-30 churned"):
        backtest_churn(tx.assign(amount=tx["amount"].where(tx["date"] <= "2024-06-30", -1.0)), "2024-03-31",
                       "2024-06-30", 3, as_of="2024-12-31")
    weekly = make_tx([(c, pd.Timestamp("2024-01-01") + 7 * i * DAY, 10.0) for c in "abc" for i in range(52)])
    with pytest.raises(ValueError, match="none of the 3 .* churned"):
        ChurnModel().fit(churn_features(weekly, "2024-06-30"), churn_labels(weekly, "2024-06-30", 2))


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")  # 117 customers:
@pytest.mark.filterwarnings("ignore::portfolio_kit.clv.ConvergenceWarning")               # weak fits expected
def test_one_segment_is_left_out_not_a_crash():
    tx, customers = simulated_history(n=120, size_classes=("Micro",))
    bt = backtest_churn(tx, "2024-03-31", "2024-06-30", 3, customers, as_of="2024-12-31")
    assert not bt.model.odds_ratios_["term"].str.startswith("size_class").any()
    assert set(bt.metrics["score"]) == {"logit model", "recency only", "BG/NBD"}
    curves = tenure_survival(tx, "2024-12-31", 3, customers, by="size_class")
    assert set(curves["size_class"]) == {"Micro"}


def test_tiny_and_bad_inputs():
    one = make_tx([("a", "2024-01-01", 10.0)])
    assert churn_labels(one, "2024-01-31", 1, as_of="2024-03-31")["churned"].tolist() == [1]
    with pytest.raises(ValueError, match="needs both churned and retained"):
        ChurnModel().fit(churn_features(one, "2024-01-31"), churn_labels(one, "2024-01-31", 1, as_of="2024-03-31"))
    with pytest.raises(ValueError, match="no purchase on or before cutoff 2023-12-31"):
        churn_features(one, "2023-12-31")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['amount'\]"):
        churn_labels(one.drop(columns="amount"), "2024-01-31", 1)
    with pytest.raises(ValueError, match="'date' must hold dates"):
        churn_features(one.assign(date="2024-01-01"), "2024-01-31")
    with pytest.raises(ValueError, match="horizon_months: expected a whole number"):
        churn_labels(one, "2024-01-31", 0)
    with pytest.raises(ValueError, match="no customer active"):
        churn_features(one, "2025-06-30")
    with pytest.raises(ValueError, match="would not be known at the test cut-off"):
        backtest_churn(one, "2024-01-31", "2024-02-29", 3)


# ------------------------------------------------------------------------------------------------ retention
def naive_kaplan_meier(durations, events) -> dict[float, float]:
    """S at each distinct event time: product of (1 - deaths / at risk), loops only."""
    s, out = 1.0, {}
    for t in sorted(set(d for d, e in zip(durations, events) if e)):
        at_risk = sum(1 for d in durations if d >= t)
        deaths = sum(1 for d, e in zip(durations, events) if e and d == t)
        s *= 1 - deaths / at_risk
        out[t] = s
    return out


def test_tenure_survival_by_hand():
    """as_of 2024-12-31, H = 3: a tenure has ended when the last purchase is on or before 2024-09-30."""
    tx = make_tx([("A", "2024-01-01", 1), ("A", "2024-03-01", 1),      # 60 days, ended
                  ("B", "2024-02-01", 1),                              # 0 days, ended
                  ("C", "2024-01-01", 1), ("C", "2024-12-01", 1),      # 335 days, running
                  ("D", "2024-06-01", 1), ("D", "2024-09-30", 1),      # 121 days, ended (boundary)
                  ("E", "2024-06-01", 1), ("E", "2024-10-01", 1)])     # 122 days, running
    curves = tenure_survival(tx, "2024-12-31", 3)
    expected = naive_kaplan_meier([60, 0, 335, 121, 122], [1, 1, 0, 1, 0])
    assert list(expected.values()) == pytest.approx([0.8, 0.6, 0.4])
    steps = curves.drop_duplicates("tenure_months", keep="last").set_index("tenure_months")["survival"]
    for days, s in expected.items():
        assert steps[days / (365.25 / 12)] == pytest.approx(s)
    assert curves["survival"].iloc[0] == 1 and curves["at_risk"].iloc[0] == 5
    table = survival_at(curves, months=(1, 3, 4, 12))
    assert table.iloc[0, 2:].tolist() == pytest.approx([0.8, 0.6, 0.4, np.nan], nan_ok=True)  # 12 > 11 months seen


def naive_cohorts(tx: pd.DataFrame, as_of, freq: str) -> dict[tuple[str, int], float]:
    buys = tx[(tx["amount"] > 0) & (tx["date"] <= as_of)]
    last_complete = pd.Period(pd.Timestamp(as_of) + DAY, freq) - 1
    periods = {c: {pd.Period(d, freq) for d in rows["date"]} for c, rows in buys.groupby("customer_id")}
    cohorts: dict[pd.Period, list[set]] = {}
    for seen in periods.values():
        cohorts.setdefault(min(seen), []).append(seen)
    out = {}
    for start, members in cohorts.items():
        for k in range(0, 40):
            if start + k > last_complete:
                break
            label = str(start) if freq == "Q" else start.strftime("%Y-%m")
            out[(label, k)] = sum(start + k in seen for seen in members) / len(members)
    return {key: v for key, v in out.items() if v > 0 or key[1] == 0}


@settings(max_examples=30, deadline=None)
@given(random_rows, st.sampled_from(["Q", "M"]))
def test_cohort_retention_matches_loops(rows, freq):
    tx = make_tx([(c, pd.Timestamp("2024-01-01") + d * DAY, a) for c, d, a in rows])
    as_of = pd.Timestamp("2025-03-31")
    expected = naive_cohorts(tx, as_of, freq)
    if not expected:
        with pytest.raises(ValueError, match="no complete"):
            cohort_retention(tx, as_of, freq)
        return
    table = cohort_retention(tx, as_of, freq)
    got = dict(zip(zip(table["cohort"], table["period"]), table["retention"]))
    assert got == pytest.approx(expected)


# ------------------------------------------------------------------------------------------------ score choice
def validation(*rows) -> pd.DataFrame:
    """A validation table as backtest_churn's metrics: (score, auc, brier) rows."""
    return pd.DataFrame(rows, columns=["score", "auc", "brier"])


def test_the_highest_auc_wins_beyond_the_tolerance():
    metrics = validation(("logit model", 0.85, 0.20), ("recency only", 0.80, 0.15), ("BG/NBD", 0.83, 0.10))
    assert AUC_TOLERANCE == 0.01
    assert choose_score(metrics) == "logit model"                 # 0.02 ahead: the worse Brier score does not matter


def test_an_auc_difference_exactly_at_the_tolerance_is_within_it():
    # 0.80 - 0.79 is 0.010000000000000009 in binary: still exactly the tolerance, so the lower Brier score wins
    at = validation(("logit model", 0.80, 0.20), ("recency only", 0.79, 0.15))
    assert choose_score(at) == "recency only"
    beyond = validation(("logit model", 0.80, 0.20), ("recency only", 0.7899, 0.15))
    assert choose_score(beyond) == "logit model"
    # the CDNOW client: AUCs 0.788 and 0.787, the lower Brier score decides
    cdnow = validation(("logit model", 0.787, 0.142), ("recency only", 0.788, 0.162), ("BG/NBD", 0.75, 0.17))
    assert choose_score(cdnow) == "logit model"


def test_the_tolerance_is_measured_from_the_highest_auc():
    # 0.789 is within 0.01 of 0.795 but not of 0.80: its low Brier score does not bring it in
    metrics = validation(("logit model", 0.80, 0.20), ("BG/NBD", 0.795, 0.19), ("recency only", 0.789, 0.10))
    ranking = rank_scores(metrics)
    assert ranking["score"].tolist() == ["BG/NBD", "logit model", "recency only"]
    assert ranking["rank"].tolist() == [1, 2, 3] and ranking["within_tolerance"].tolist() == [True, True, False]


def test_equal_auc_and_brier_keep_the_simpler_score():
    tied = [("logit model", 0.8, 0.15), ("BG/NBD", 0.8, 0.15), ("recency only", 0.8, 0.15)]
    assert rank_scores(validation(*tied))["score"].tolist() == ["recency only", "BG/NBD", "logit model"]
    assert choose_score(validation(tied[0], ("MBG/NBD", 0.8, 0.15))) == "MBG/NBD"
    assert choose_score(validation(("other", 0.8, 0.15), tied[0])) == "logit model"  # unknown names after
    assert choose_score(validation(("logit model", 0.8, np.nan), ("BG/NBD", 0.8, 0.3))) == "BG/NBD"  # no Brier: worst


def test_a_score_without_an_auc_is_never_chosen():
    metrics = validation(("logit model", np.nan, 0.05), ("recency only", 0.70, 0.20), ("BG/NBD", 0.65, 0.18))
    assert choose_score(metrics) == "recency only"
    ranking = rank_scores(metrics)
    assert ranking["score"].tolist() == ["recency only", "BG/NBD", "logit model"]
    assert ranking["within_tolerance"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="no score has an AUC"):
        choose_score(validation(("logit model", np.nan, 0.05), ("BG/NBD", np.nan, 0.1)))


def test_a_single_score_and_bad_tables():
    assert choose_score(validation(("BG/NBD", 0.6, 0.3))) == "BG/NBD"
    with pytest.raises(ValueError, match="no score has an AUC"):
        choose_score(validation(("BG/NBD", np.nan, 0.3)))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['brier'\]"):
        choose_score(validation(("BG/NBD", 0.6, 0.3)).drop(columns="brier"))
    with pytest.raises(ValueError, match="one row per score"):
        choose_score(validation(("BG/NBD", 0.6, 0.3), ("BG/NBD", 0.7, 0.3)))
    with pytest.raises(ValueError, match="one row per score"):
        choose_score(validation())


def test_the_chosen_score_in_words():
    by_auc = validation(("logit model", 0.790298, 0.182603), ("recency only", 0.773, 0.197),
                        ("BG/NBD", 0.801395, 0.179))
    assert chosen_score_in_words(by_auc).split() == (
        "The at-risk list and the actions use the *BG/NBD* score: on the later cut-off it ranked the customers best, "
        "with an AUC of 0.801 against 0.790 for *logit model*, more than 0.01 apart; its Brier score was 0.179 against "
        "0.183. The drivers shown for each customer still come from the logit model: they say what raises the risk, "
        "while the probability is that of the *BG/NBD* score.").split()
    by_brier = validation(("logit model", 0.787, 0.142), ("recency only", 0.788, 0.162))
    english = chosen_score_in_words(by_brier, Texts("en"))
    assert "its AUC was 0.787 against 0.788 for *recency only*, within 0.01, so the lower Brier score" in " ".join(
        english.split()) and "drivers" not in english                    # the logit gives the probability itself
    italian = " ".join(chosen_score_in_words(by_brier[::-1], Texts("it")).split())
    assert italian.startswith("La lista dei clienti a rischio e le azioni usano il punteggio *modello logit*: "
                              "alla data di taglio successiva il suo AUC è stato 0,787 contro 0,788 di "
                              "*solo recency*, entro 0,01, quindi ha deciso l'indice di Brier più basso: 0,142 "
                              "contro 0,162.")
    tied = " ".join(chosen_score_in_words(validation(("logit model", 0.8, 0.15), ("recency only", 0.8, 0.15))).split())
    assert "the Brier scores were equal (0.150 and 0.150), so the simpler score was kept" in tied
    only = " ".join(chosen_score_in_words(validation(("recency only", 0.7, 0.2), ("BG/NBD", np.nan, 0.1))).split())
    assert only.startswith("The at-risk list and the actions use the *recency only* score, the only one validated")
    assert doctest.testmod(wording, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0



# ------------------------------------------------------------------------------------------------ sample client
@pytest.fixture(scope="module")
def sample(sample_portfolio, truth):
    portfolio = sample_portfolio
    return portfolio.transactions, portfolio.customers, portfolio.invoices, portfolio.as_of


@pytest.fixture(scope="module")
def sample_backtest(sample):
    tx, customers, invoices, as_of = sample
    horizon = churn_horizon(tx, as_of)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clv.ConvergenceWarning)
        return backtest_churn(tx, add_months(as_of, -2 * horizon), add_months(as_of, -horizon), horizon, customers,
                              invoices, as_of=as_of)


def test_sample_logit_beats_recency_on_the_later_cutoff(sample_backtest):
    """Trained at as_of - 2H, tested at as_of - H on the sample client (H = 5 months)."""
    bt = sample_backtest
    assert bt.horizon_months == 5 and bt.test_cutoff == pd.Timestamp("2026-05-31")
    metrics = bt.metrics.set_index("score")
    assert metrics.loc["logit model", "auc"] > metrics.loc["recency only", "auc"]
    assert metrics.loc["logit model", "brier"] < metrics.loc["recency only", "brier"]
    assert metrics.loc["BG/NBD", "auc"] > 0.7
    # the BG/NBD probability is of the same event as the label: calibrated on the whole
    assert metrics.loc["BG/NBD", "mean_predicted"] == pytest.approx(metrics.loc["BG/NBD", "event_rate"], abs=0.05)
    assert (bt.lift.groupby("score")["n"].sum().reindex(metrics.index) == metrics["n"]).all()


def test_figures(sample_backtest, sample):
    tx, customers, _, as_of = sample
    bt = sample_backtest
    drawn = [
        (figures.gain_chart(bt.lift), "Gain: churners found contacting the riskiest first",
         "share of customers contacted (highest score first)"),
        (figures.calibration_plot(bt.calibration), "Calibration: predicted vs observed churn",
         "mean predicted churn probability"),
        (figures.odds_ratio_plot(bt.model.odds_ratios_), "What drives churn: odds ratios (95% CI)",
         "odds ratio of churn (> 1: more churn)"),
        (figures.tenure_curves(tenure_survival(tx, as_of, 5, customers, by="size_class")),
         "Customers still buying, by tenure", "months since the first purchase"),
        (figures.cohort_heatmap(cohort_retention(tx, as_of)), "Retention by first-purchase cohort",
         "quarters since the first purchase"),
    ]
    try:
        for fig, title, xlabel in drawn:
            assert isinstance(fig, matplotlib.figure.Figure)
            assert (fig.axes[0].get_title(), fig.axes[0].get_xlabel()) == (title, xlabel)
        legend = [t.get_text() for t in drawn[0][0].axes[0].get_legend().get_texts()]
        assert legend == ["random order", "logit model", "recency only", "BG/NBD"]
    finally:
        for fig, *_ in drawn:
            plt.close(fig)


@pytest.fixture(scope="module")
def sample_today(sample, sample_backtest):
    """The three scores of the sample's active customers at as_of, the logits fitted at as_of - H."""
    tx, customers, invoices, as_of = sample
    horizon = sample_backtest.horizon_months
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clv.ConvergenceWarning)
        return churn_scores(tx, add_months(as_of, -horizon), as_of, horizon, customers, invoices)


def test_sample_at_risk_list_uses_the_chosen_score(sample, sample_backtest, sample_today):
    tx, customers, invoices, as_of = sample
    today, horizon = sample_today, sample_backtest.horizon_months
    chosen = choose_score(sample_backtest.metrics)
    assert list(today.probabilities.columns) == list(sample_backtest.metrics["score"])   # the validated scores
    assert today.probabilities.index.equals(today.features.index) and today.probabilities.notna().all().all()
    assert today.features.attrs["cutoff"] == as_of and today.train_cutoff == add_months(as_of, -horizon)
    # the chosen score, computed here the direct way: the same numbers
    last = add_months(as_of, -horizon)
    direct = {
        "logit model": lambda: ChurnModel().fit(churn_features(tx, last, customers, invoices),
                                                churn_labels(tx, last, horizon, as_of=as_of)).predict(today.features),
        "recency only": lambda: ChurnModel.recency_only().fit(churn_features(tx, last),
                                                              churn_labels(tx, last, horizon, as_of=as_of)
                                                              ).predict(today.features),
        "BG/NBD": lambda: no_purchase_probability(tx, as_of, horizon)["no_purchase_probability"],
    }
    expected = direct[chosen]().reindex(today.features.index)
    assert today.probabilities[chosen].to_numpy() == pytest.approx(expected.to_numpy())
    risk = at_risk_customers(today.model, today.features, customers=customers, probability=today.probabilities[chosen])
    got = risk.set_index("customer_id")["churn_probability"]
    assert got.to_numpy() == pytest.approx(today.probabilities[chosen].loc[got.index].to_numpy())
    assert got.is_monotonic_decreasing and risk["driver_1"].notna().any()               # drivers: the logit's
    survival = pd.DataFrame({churn.survival_column(12): [0.4]})
    figures = churn.key_figures(horizon, sample_backtest.metrics, risk.assign(value_at_risk=1.0), survival)
    assert figures.set_index("figure").loc["churn_score", ["value", "kind"]].tolist() == [chosen, "text"]
    with pytest.raises(ValueError, match="probability: no value for 1 customer"):
        at_risk_customers(today.model, today.features, probability=today.probabilities[chosen].iloc[1:])
    with pytest.raises(ValueError, match="probability: expected a numeric Series"):
        at_risk_customers(today.model, today.features, probability=today.probabilities)
    with pytest.raises(ValueError, match="would not be known when scoring"):
        churn_scores(tx, add_months(as_of, -horizon + 1), as_of, horizon)


@pytest.mark.parametrize("module", ["labels", "features", "model", "scores", "backtest", "at_risk", "survival"])
def test_docstring_examples(module):
    assert doctest.testmod(getattr(churn, module)).failed == 0
