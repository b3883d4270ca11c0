"""Monitoring: snapshot diffs, migration matrices, alert rules and their figures.

Expected values are computed in each test by an obvious, independent method (cell-by-cell comparison,
counting by hand) or planted in a fixture; the sample client's ``truth.json`` lists its planted changes.
"""

from __future__ import annotations

import doctest
import logging
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit import monitoring
from portfolio_kit.monitoring import (
    ALERT_RULE_KINDS, DEFAULT_ALERT_RULES, RATING_SCALE, RFM_SEGMENT_ORDER, AlertRuleError, diff_snapshots,
    evaluate_alerts, migration_matrix, parse_alert_rules, snapshot_pair, value_bridge)
from portfolio_kit.report.texts import Texts
from portfolio_kit.report.wording import monitoring as wording
from .conftest import SAMPLE_DIR as SAMPLE

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SNAPSHOT_FIELDS = ["rating", "failure_score", "delinquency_score", "credit_limit", "officers", "share_capital"]


# --- an independent, obvious diff: cell by cell over Python dicts ----------------------------------------

def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def naive_changes(before: pd.DataFrame, after: pd.DataFrame, tolerance: dict | None = None) -> set:
    """{(customer_id, field, before, after)} of every differing cell of customers in both tables."""
    tolerance = tolerance or {}
    b = {str(r["customer_id"]): r for r in before.to_dict("records")}
    a = {str(r["customer_id"]): r for r in after.to_dict("records")}
    fields = [c for c in after.columns if c in before.columns and c != "customer_id"]
    out = set()
    for cid in set(b) & set(a):
        for f in fields:
            vb, va = b[cid][f], a[cid][f]
            if _missing(vb) and _missing(va):
                continue
            if _missing(vb) or _missing(va):
                out.add((cid, f, None if _missing(vb) else vb, None if _missing(va) else va))
            elif isinstance(vb, str) or isinstance(va, str):
                if vb != va:
                    out.add((cid, f, vb, va))
            elif abs(va - vb) > tolerance.get(f, 0.0):
                out.add((cid, f, vb, va))
    return out


def found_changes(diff) -> set:
    return {(k, f, None if _missing(b) else b, None if _missing(a) else a)
            for k, f, b, a in diff.changes[["customer_id", "field", "before", "after"]].itertuples(index=False)}


def snapshot(ids, rng: np.random.Generator) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "customer_id": ids,
        "rating": rng.choice(RATING_SCALE[:7], n),
        "failure_score": rng.integers(1, 101, n).astype(float),
        "delinquency_score": rng.integers(1, 101, n).astype(float),
        "credit_limit": rng.integers(1, 200, n) * 1000.0,
        "officers": rng.choice(["Mario Rossi", "Anna Bianchi; Luca Verdi", "Sara Neri"], n),
        "share_capital": rng.choice([10_000.0, 50_000.0, 120_000.0], n),
    })


def planted_pair(seed: int = 7):
    """Two snapshots that differ only by planted changes (recorded like the sample's truth.json)."""
    rng = np.random.default_rng(seed)
    before = snapshot([f"C{i:06d}" for i in range(60)], rng)
    after = before.iloc[5:].copy()  # C000000..C000004 removed
    added = snapshot([f"C{i:06d}" for i in range(100, 103)], rng)
    after = pd.concat([after, added], ignore_index=True)
    planted = [("C000010", "rating", "BBB", "CCC"), ("C000011", "rating", "AA", "A"),
               ("C000012", "failure_score", 40.0, 55.0), ("C000013", "delinquency_score", 70.0, 52.0),
               ("C000014", "credit_limit", 100_000.0, 60_000.0), ("C000015", "officers", "Sara Neri", "Ugo Blu"),
               ("C000016", "share_capital", 10_000.0, 20_000.0), ("C000016", "rating", "B", "BB")]
    for cid, fld, b, a in planted:
        before.loc[before["customer_id"] == cid, fld] = b
        after.loc[after["customer_id"] == cid, fld] = a
    truth = {"planted_changes": [dict(zip(("customer_id", "field", "before", "after"), p)) for p in planted],
             "removed_customers": [f"C{i:06d}" for i in range(5)],
             "added_customers": list(added["customer_id"])}
    return before, after, truth


def assert_exact_match(diff, truth):
    """Every planted change is found with its values, and nothing else is reported."""
    expected = {(c["customer_id"], c["field"], c["before"], c["after"]) for c in truth["planted_changes"]}
    assert found_changes(diff) == expected
    assert set(diff.added["customer_id"]) == set(truth["added_customers"])
    assert set(diff.removed["customer_id"]) == set(truth["removed_customers"])
    summary = diff.summary.set_index("measure")["customers"]
    assert summary["changed"] == len({c["customer_id"] for c in truth["planted_changes"]})
    assert summary["unchanged"] == summary["in both"] - summary["changed"]


# --- diff_snapshots ----------------------------------------------------------------------------------------

def test_planted_changes_found_exactly_on_a_hand_made_pair():
    before, after, truth = planted_pair()
    diff = diff_snapshots(before, after)
    assert_exact_match(diff, truth)
    assert diff.compared == tuple(SNAPSHOT_FIELDS)
    row = diff.changes.set_index(["customer_id", "field"]).loc[("C000014", "credit_limit")]
    assert row["delta"] == -40_000.0


def test_sample_client_planted_changes_found_exactly(truth, sample_portfolio):
    """data/sample/truth.json: all planted changes are found and nothing else is reported (snapshots loaded
    through the client's config, as a run does; its extra columns are read as text, the ESG score made a number
    here to compare with the truth)."""
    before, after = (snap.assign(esg_score=pd.to_numeric(snap["esg_score"]))
                     for snap in snapshot_pair(sample_portfolio.snapshots))
    diff = diff_snapshots(before, after)
    assert_exact_match(diff, truth)
    scale = truth["rating_scale"]
    downgraded = {c["customer_id"] for c in truth["planted_changes"] if c["field"] == "rating"
                  and scale.index(c["after"]) > scale.index(c["before"])}
    cuts = {c["customer_id"] for c in truth["planted_changes"] if c["field"] == "credit_limit"
            and (c["before"] - c["after"]) / c["before"] >= 0.2}
    alerts = evaluate_alerts(diff, [{"name": "rating_downgrade", "notches": 1, "severity": "high"},
                                    {"name": "credit_limit_cut", "min_cut": 0.2, "severity": "high"}], scale)
    assert set(alerts.loc[alerts["rule"] == "rating_downgrade", "customer_id"]) == downgraded
    assert set(alerts.loc[alerts["rule"] == "credit_limit_cut", "customer_id"]) == cuts


def test_sample_config_rules_catch_the_planted_esg_drops_and_legal_events(truth, sample_portfolio):
    """The sample config's own rules on its two snapshots: every planted ESG drop and new legal event raises
    its alert, and no customer without a planted event (those with an old one included) gets a legal-event
    alert."""
    rules = parse_alert_rules(sample_portfolio.config.alerts)
    generic = [r for r in rules if r.name in GENERIC_RULES]
    assert [(r.name, r.field) for r in generic] == [("field_drop", "esg_score"), ("flag_set", "legal_event")]
    alerts = evaluate_alerts(diff_snapshots(*snapshot_pair(sample_portfolio.snapshots)), rules,
                             truth["rating_scale"])
    planted = pd.DataFrame(truth["planted_changes"])
    drops = planted[planted["field"] == "esg_score"]
    events = planted[planted["field"] == "legal_event"]
    assert len(drops) == 10 and len(events) == 8
    found = alerts[alerts["rule"] == "field_drop"].set_index("customer_id")
    assert set(found.index) == set(drops["customer_id"])                     # no natural ESG move: only these
    assert (found["value"] <= -15 + 1e-9).all() and (found["severity"] == "medium").all()
    flagged = alerts[alerts["rule"] == "flag_set"].set_index("customer_id")
    assert set(flagged.index) == set(events["customer_id"])
    assert flagged["after"].to_dict() == events.set_index("customer_id")["after"].to_dict()
    assert not set(flagged.index) & set(truth["legal_events_existing"])      # events already there: no alert
    assert len(truth["legal_events_existing"]) == 8


def test_changes_match_a_cell_by_cell_comparison_with_missing_values():
    before = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "x": [1.0, np.nan, 3.0, np.nan],
                           "s": ["u", None, "w", "z"]})
    after = pd.DataFrame({"customer_id": ["d", "c", "b", "a"], "x": [np.nan, 3.0, 2.0, 1.5],
                          "s": ["z", None, None, "u"]})
    diff = diff_snapshots(before, after)
    assert found_changes(diff) == naive_changes(before, after) == {
        ("a", "x", 1.0, 1.5), ("b", "x", None, 2.0), ("c", "s", "w", None)}
    # rows follow the order of `after` (a is last there)
    assert list(diff.changes["customer_id"]) == ["c", "b", "a"]
    fs = diff.field_summary.set_index("field")
    assert fs.loc["x", ["changed", "increased", "decreased", "filled", "emptied"]].tolist() == [2, 1, 0, 1, 0]
    assert fs.loc["s", ["changed", "filled", "emptied"]].tolist() == [1, 0, 1]
    assert fs.loc["x", "share"] == pytest.approx(2 / 4)


def test_dates_change_with_delta_in_days():
    before = pd.DataFrame({"customer_id": ["1"], "since": pd.to_datetime(["2026-01-01"])})
    after = pd.DataFrame({"customer_id": ["1"], "since": pd.to_datetime(["2026-01-11"])})
    assert diff_snapshots(before, after).changes["delta"].tolist() == [10.0]


@pytest.mark.parametrize("after_value, tolerance, changed", [
    (10.5, 0.5, False),      # exactly at the absolute tolerance: unchanged
    (9.5, 0.5, False),
    (10.75, 0.5, True),      # beyond it
    (10.5, "5%", False),     # 5% of 10 = 0.5: at the boundary
    (10.5625, "5%", True),
    (10.0625, 0, True),      # no tolerance: any difference
    (10.0, 0, False),
])
def test_tolerance_boundaries(after_value, tolerance, changed):
    before = pd.DataFrame({"customer_id": ["1"], "clv": [10.0]})
    after = pd.DataFrame({"customer_id": ["1"], "clv": [after_value]})
    diff = diff_snapshots(before, after, tolerances={"clv": tolerance})
    assert (len(diff.changes) == 1) is changed


def test_tolerance_never_hides_a_value_that_appears_or_disappears():
    before = pd.DataFrame({"customer_id": ["1", "2"], "clv": [10.0, np.nan]})
    after = pd.DataFrame({"customer_id": ["1", "2"], "clv": [np.nan, 0.0]})
    assert len(diff_snapshots(before, after, tolerances={"clv": 1e9}).changes) == 2


@pytest.mark.parametrize("tolerances, message", [
    ({"nope": 1}, "'nope' is in neither table"),
    ({"clv": -1}, "expected a number >= 0"),
    ({"clv": "five%"}, "expected a number >= 0"),
    ({"segment": 1}, "tolerances['segment']: the column is not numeric"),
])
def test_bad_tolerances_are_clear_errors(tolerances, message):
    t = pd.DataFrame({"customer_id": ["1"], "clv": [1.0], "segment": ["Lost"]})
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        diff_snapshots(t, t, tolerances=tolerances)


def test_keys_that_changed_type_match():
    """Integers vs zero-padded strings vs integer-valued floats vs padded text: same customers."""
    before = pd.DataFrame({"customer_id": [7, 23, 100, 5], "rating": ["A", "BB", "B", "D"]})
    after = pd.DataFrame({"customer_id": ["007", " 023 ", "100.0", "C5"], "rating": ["A", "B", "B", "D"]})
    diff = diff_snapshots(before, after)
    assert list(diff.changes["customer_id"]) == ["023"]  # shown as written in `after`, stripped
    assert list(diff.added["customer_id"]) == ["C5"] and list(diff.removed["customer_id"]) == ["5"]
    floats = before.assign(customer_id=[7.0, 23.0, 100.0, 5.0])
    assert found_changes(diff_snapshots(floats, after)) == found_changes(diff)
    strict = diff_snapshots(before, after, match_numeric_keys=False)
    assert set(strict.added["customer_id"]) == {"007", "023", "100.0", "C5"}


def test_key_may_be_the_index():
    before = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    after = pd.DataFrame({"customer_id": ["a", "b"], "x": [1.0, 3.0]})
    assert found_changes(diff_snapshots(before, after)) == {("b", "x", 2.0, 3.0)}


@pytest.mark.parametrize("ids, message", [
    (["C1", "C2", "C1"], r"before: duplicate 'customer_id'.*'C1'"),
    (["7", "007", "8"], r"before: duplicate 'customer_id' \(numeric keys compared without leading zeros\)"),
    (["C1", None, "C3"], r"before: 1 row\(s\) have an empty 'customer_id' \(row positions 1\)"),
    (["C1", "  ", "C3"], r"before: 1 row\(s\) have an empty 'customer_id'"),
])
def test_bad_keys_are_clear_errors(ids, message):
    before = pd.DataFrame({"customer_id": ids, "x": [1.0, 2.0, 3.0]})
    after = pd.DataFrame({"customer_id": ["C1"], "x": [1.0]})
    with pytest.raises(ValueError, match=message):
        diff_snapshots(before, after)


def test_missing_key_column_and_duplicates_in_after_are_named():
    with pytest.raises(ValueError, match=r"after: no key column 'customer_id'; the table has columns \['id'"):
        diff_snapshots(pd.DataFrame({"customer_id": ["1"]}), pd.DataFrame({"id": ["1"]}))
    with pytest.raises(ValueError, match="after: duplicate 'customer_id'"):
        diff_snapshots(pd.DataFrame({"customer_id": ["1"]}), pd.DataFrame({"customer_id": ["1", "1"]}))


def test_snapshots_with_different_column_sets():
    before = pd.DataFrame({"customer_id": ["1", "2"], "rating": ["A", "B"], "officers": ["x", "y"]})
    after = pd.DataFrame({"customer_id": ["1", "2"], "rating": ["A", "C"], "segment": ["Lost", "Lost"]})
    diff = diff_snapshots(before, after)
    assert diff.compared == ("rating",)
    assert diff.only_before == ("officers",) and diff.only_after == ("segment",)
    assert found_changes(diff) == {("2", "rating", "B", "C")}
    assert diff.pair("segment")["before"].isna().all()
    with pytest.raises(ValueError, match=r"columns \['dso'\] are in neither table"):
        diff_snapshots(before, after, columns=["rating", "dso"])
    assert len(diff_snapshots(before, after, columns=["officers"]).changes) == 0  # in one table only


def test_numbers_read_as_text_on_one_side_compare_as_numbers():
    before = pd.DataFrame({"customer_id": ["1", "2"], "credit_limit": [1000.0, 2000.0]})
    after = pd.DataFrame({"customer_id": ["1", "2"], "credit_limit": ["1000", "1500.5"]})
    assert diff_snapshots(before, after).changes["delta"].tolist() == [-499.5]


def test_empty_and_single_customer_tables():
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype=str), "rating": pd.Series([], dtype=str)})
    diff = diff_snapshots(empty, empty)
    assert diff.summary["customers"].tolist() == [0] * 7 and diff.changes.empty and diff.n_unchanged == 0
    one = pd.DataFrame({"customer_id": ["1"], "rating": ["A"]})
    assert diff_snapshots(empty, one).added["customer_id"].tolist() == ["1"]
    assert diff_snapshots(one, one).n_unchanged == 1
    assert evaluate_alerts(diff_snapshots(empty, one)).empty


def test_snapshot_pair_picks_dates_from_the_stacked_table():
    rng = np.random.default_rng(1)
    stacked = pd.concat([snapshot(["1", "2"], rng).assign(snapshot_date=pd.Timestamp(d))
                         for d in ("2026-08-31", "2026-09-30", "2026-10-31")], ignore_index=True)
    before, after = snapshot_pair(stacked)
    assert before["snapshot_date"].unique().tolist() == [pd.Timestamp("2026-09-30")]
    assert after["snapshot_date"].unique().tolist() == [pd.Timestamp("2026-10-31")]
    before, _ = snapshot_pair(stacked, before="2026-08-31")
    assert before["snapshot_date"].iloc[0] == pd.Timestamp("2026-08-31")
    assert diff_snapshots(*snapshot_pair(stacked)).compared == tuple(SNAPSHOT_FIELDS)  # date ignored
    with pytest.raises(ValueError, match="no snapshot for before=None; dates present: \\['2026-08-31'\\]"):
        snapshot_pair(stacked[stacked["snapshot_date"] == "2026-08-31"])


frames = st.lists(st.tuples(st.integers(0, 12), st.sampled_from([1.0, 2.0, 2.25, np.nan]),
                            st.sampled_from(["A", "B", None])), max_size=10, unique_by=lambda t: t[0])


@settings(max_examples=80, deadline=None)
@given(frames, frames, st.sampled_from([0.0, 0.25, 1.0]))
def test_property_diff_agrees_with_cell_by_cell_comparison(rows_b, rows_a, tol):
    def frame(rows):
        return pd.DataFrame(rows, columns=["customer_id", "x", "s"]).astype({"customer_id": str, "x": float})

    before, after = frame(rows_b), frame(rows_a)
    diff = diff_snapshots(before, after, tolerances={"x": tol})
    assert found_changes(diff) == naive_changes(before, after, {"x": tol})
    ids_b, ids_a = set(before["customer_id"]), set(after["customer_id"])
    assert set(diff.added["customer_id"]) == ids_a - ids_b and set(diff.removed["customer_id"]) == ids_b - ids_a
    changed = {c[0] for c in diff.changes.itertuples(index=False)}
    assert diff.n_unchanged == len(ids_a & ids_b) - len(changed)
    bridge = value_bridge(diff, "x").set_index("step")["amount"]
    assert bridge[["before", "removed", "added", "increases", "decreases"]].sum() == pytest.approx(bridge["after"])


# --- value bridge ------------------------------------------------------------------------------------------

def test_value_bridge_by_hand():
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv": [100.0, 50.0, 30.0]})
    after = pd.DataFrame({"customer_id": ["a", "b", "d"], "clv": [120.0, np.nan, 5.0]})
    bridge = value_bridge(diff_snapshots(before, after), "clv")
    # before 180; c removed -30; d added +5; a +20; b 50 -> missing (0) -50; after 125
    assert bridge["amount"].tolist() == [180.0, -30.0, 5.0, 20.0, -50.0, 125.0]
    assert bridge["customers"].tolist() == [3, 1, 1, 1, 1, 3]
    with pytest.raises(ValueError, match="'dso' is in neither table"):
        value_bridge(diff_snapshots(before, after), "dso")


# --- migration matrices ------------------------------------------------------------------------------------

def test_rating_migration_by_hand():
    before = pd.DataFrame({"customer_id": list("abcdef"), "rating": ["AA", "AA", "BBB", "BBB", "B", "NR"]})
    after = pd.DataFrame({"customer_id": list("abcdg"), "rating": ["AA", "BBB", "A", "BBB", "AA"]})
    m = migration_matrix(before, after, "rating", order=RATING_SCALE)
    c = m.counts
    assert list(c.index) == [*RATING_SCALE, "NR", "new"] and list(c.columns) == [*RATING_SCALE, "NR", "gone"]
    assert c.loc["AA", "AA"] == 1 and c.loc["AA", "BBB"] == 1 and c.loc["BBB", "A"] == 1
    assert c.loc["BBB", "BBB"] == 1 and c.loc["B", "gone"] == 1 and c.loc["NR", "gone"] == 1
    assert c.loc["new", "AA"] == 1 and c.to_numpy().sum() == 7
    assert m.shares.loc["AA", "BBB"] == 0.5 and m.shares.loc["BBB", "A"] == 0.5
    assert np.isnan(m.shares.loc["AAA"]).all()  # empty rows
    mob = m.mobility.set_index("movement")
    # in both: a stable, b AA->BBB down 2, c BBB->A up 1, d stable
    assert mob["customers"].to_dict() == {"stable": 2, "upgraded": 1, "downgraded": 1, "unranked": 0, "new": 1,
                                          "gone": 2}
    assert mob.loc["downgraded", "share"] == 0.25 and np.isnan(mob.loc["new", "share"])
    assert m.notches.set_index("notches")["customers"].to_dict() == {-2: 1, 0: 2, 1: 1}


def test_unordered_segments_missing_classes_and_the_diff_shortcut():
    before = pd.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["Lost", "Champions", None]})
    after = pd.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["Champions", "Champions", "Lost"]})
    m = migration_matrix(before, after, "segment")
    assert list(m.counts.index) == ["Champions", "Lost", "(missing)", "new"]
    assert m.counts.loc["(missing)", "Lost"] == 1
    assert m.mobility.set_index("movement")["customers"].to_dict() == {"stable": 1, "changed": 2, "new": 0,
                                                                        "gone": 0}
    assert m.notches.empty
    via_diff = diff_snapshots(before, after).migration("segment")
    pd.testing.assert_frame_equal(via_diff.counts, m.counts)
    with pytest.raises(ValueError, match="before has no column 'abc_class'"):
        migration_matrix(before, after, "abc_class")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["A", "B", "C"])), max_size=8, unique_by=lambda t: t[0]),
       st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["A", "B", "C"])), max_size=8, unique_by=lambda t: t[0]))
def test_property_migration_margins_are_the_class_counts(rows_b, rows_a):
    before = pd.DataFrame(rows_b, columns=["customer_id", "abc"]).astype({"customer_id": str})
    after = pd.DataFrame(rows_a, columns=["customer_id", "abc"]).astype({"customer_id": str})
    m = migration_matrix(before, after, "abc", order=["A", "B", "C"])
    row_totals = m.counts.drop(index="new").sum(axis=1)
    col_totals = m.counts.drop(columns="gone").sum(axis=0)
    assert row_totals.to_dict() == {k: int((before["abc"] == k).sum()) for k in "ABC"}
    assert col_totals.to_dict() == {k: int((after["abc"] == k).sum()) for k in "ABC"}
    assert np.allclose(m.shares.dropna().sum(axis=1), 1.0)
    mob = m.mobility.set_index("movement")["customers"]
    in_both = set(before["customer_id"]) & set(after["customer_id"])
    assert mob[["stable", "upgraded", "downgraded"]].sum() == len(in_both)


# --- alert rules -------------------------------------------------------------------------------------------

GENERIC_RULES = {"field_change", "field_drop", "field_rise", "flag_set"}  # need a column name: no defaults


def test_default_rules_cover_every_kind_and_the_rfm_segments():
    assert {r.name for r in DEFAULT_ALERT_RULES} == set(ALERT_RULE_KINDS) - GENERIC_RULES
    from portfolio_kit.segmentation import RFM_SEGMENT_MAP
    assert set(RFM_SEGMENT_ORDER) == set(RFM_SEGMENT_MAP)


def test_rules_round_trip_through_config_mappings():
    dumped = yaml.safe_dump([r.model_dump(by_alias=True, exclude_none=True) for r in DEFAULT_ALERT_RULES])
    assert parse_alert_rules(yaml.safe_load(dumped)) == DEFAULT_ALERT_RULES


def test_rules_from_yaml():
    rules = parse_alert_rules(yaml.safe_load("""
        - {name: rating_downgrade, notches: 3, severity: high, message: "{customer} fell {value} notches"}
        - {name: score_change, points: 15, columns: [failure_score], direction: down, severity: low}
        - {name: segment_worse, column: abc_class, order: [A, B, C], severity: medium}
    """))
    assert [r.severity for r in rules] == ["high", "low", "medium"]
    assert rules[0].notches == 3 and rules[1].columns() == ["failure_score"] and rules[2].order == ["A", "B", "C"]


@pytest.mark.parametrize("rule, message", [
    ({"name": "rating_drop", "severity": "high"}, r"alert rule #2: unknown rule name 'rating_drop'; known: "
                                                  r"rating_downgrade, score_change"),
    ({"name": "rating_downgrade", "notch": 2, "severity": "high"},
     r"alert rule #2 \(rating_downgrade\): unknown field\(s\) \['notch'\]; allowed: \[.*'notches'"),
    ({"name": "credit_limit_cut", "min_cut": 0.2}, r"alert rule #2 \(credit_limit_cut\): severity: Field required"),
    ({"name": "credit_limit_cut", "severity": "urgent"}, r"#2 \(credit_limit_cut\): severity: Input should be 'high'"),
    ({"name": "credit_limit_cut", "min_cut": 20, "severity": "high"}, r"min_cut: Input should be less than or equal"),
    ({"name": "officers_change", "severity": "low", "message": "{customer} {who}"}, r"unknown placeholder \{who\}"),
    ({"name": "officers_change", "severity": "low", "message": "{value:.2f}"}, r"\{value\} has a format"),
    ("rating_downgrade", r"alert rule #2: expected a mapping"),
])
def test_bad_rules_are_errors_naming_the_rule(rule, message):
    with pytest.raises(AlertRuleError, match=message):
        parse_alert_rules([{"name": "officers_change", "severity": "low"}, rule])


def alert_tables():
    """Before/after per-customer tables (snapshot joined with the runs' outputs), one trigger per customer."""
    cols = ["customer_id", "name", "rating", "failure_score", "delinquency_score", "credit_limit", "officers",
            "share_capital", "exposure", "31-60", "61-90", "91+", "p_alive", "abc_class", "segment"]
    base = ["", "Base S.r.l.", "A", 50.0, 50.0, 1000.0, "Rossi", 10_000.0, 100.0, 0.0, 0.0, 0.0, 0.9, "A",
            "Champions"]
    rows_b, rows_a = {}, {}
    changes = {  # customer: {field: (before, after)}
        "down1": {"rating": ("A", "BBB")},                      # 1 notch -> medium
        "down3": {"rating": ("AA", "BB")},                      # 3 notches -> high (not also medium)
        "up": {"rating": ("BBB", "A")},                         # upgrade: nothing
        "score": {"failure_score": (50.0, 60.0), "delinquency_score": (50.0, 41.0)},  # 10 yes, -9 no
        "cut20": {"credit_limit": (1000.0, 800.0)},             # exactly 20%: alert
        "cut19": {"credit_limit": (1000.0, 810.0)},             # 19%: none
        "over": {"exposure": (900.0, 1500.0)},                  # newly over the 1000 limit
        "still_over": {"exposure": (1200.0, 1300.0)},           # over before too: none
        "overdue": {"31-60": (0.0, 40.0), "91+": (10.0, 15.0)},  # +45
        "officers": {"officers": ("Rossi", "Bianchi")},
        "capital": {"share_capital": (10_000.0, 5_000.0)},
        "palive": {"p_alive": (0.6, 0.3)},                      # A class, fell below 0.5
        "palive_b": {"p_alive": (0.6, 0.3), "abc_class": ("B", "B")},  # not a top customer: none
        "segment": {"segment": ("Champions", "At Risk")},
    }
    for cid, fields in changes.items():
        b = dict(zip(cols, [cid, *base[1:]]))
        a = dict(b)
        for f, (vb, va) in fields.items():
            b[f], a[f] = vb, va
        rows_b[cid], rows_a[cid] = b, a
    rows_b["off_scale"] = dict(zip(cols, ["off_scale", *base[1:]]), rating="NR")
    rows_a["off_scale"] = dict(zip(cols, ["off_scale", *base[1:]]), rating="D")
    rows_a["new_over"] = dict(zip(cols, ["new_over", *base[1:]]), exposure=2000.0, name="")  # added, over limit
    rows_b["over"]["exposure"] = 900.0
    return pd.DataFrame(rows_b.values()), pd.DataFrame(rows_a.values())


def test_each_rule_flags_exactly_the_planted_customers():
    before, after = alert_tables()
    alerts = evaluate_alerts(diff_snapshots(before, after))
    got = set(alerts[["customer_id", "rule", "severity", "field"]].itertuples(index=False, name=None))
    assert got == {
        ("down1", "rating_downgrade", "medium", "rating"), ("down3", "rating_downgrade", "high", "rating"),
        ("score", "score_change", "medium", "failure_score"), ("cut20", "credit_limit_cut", "high", "credit_limit"),
        ("over", "exposure_over_limit", "high", "exposure"), ("new_over", "exposure_over_limit", "high", "exposure"),
        ("overdue", "new_overdue", "medium", "31-60 + 61-90 + 91+"), ("officers", "officers_change", "low", "officers"),
        ("capital", "share_capital_change", "low", "share_capital"), ("palive", "p_alive_drop", "high", "p_alive"),
        ("segment", "segment_worse", "medium", "segment")}
    values = alerts.set_index("customer_id")["value"]
    assert values["down3"] == 3 and values["cut20"] == pytest.approx(0.2) and values["over"] == 500
    assert values["new_over"] == 1000 and values["overdue"] == 45 and values["capital"] == -0.5
    assert values["palive"] == pytest.approx(-0.3) and values["score"] == 10
    assert values["segment"] == RFM_SEGMENT_ORDER.index("At Risk")  # Champions (0) -> At Risk


def test_alerts_sorted_by_severity_then_value_at_stake_and_readable():
    before, after = alert_tables()
    alerts = evaluate_alerts(diff_snapshots(before, after))
    assert alerts["severity"].tolist() == sorted(alerts["severity"].tolist(), key=["high", "medium", "low"].index)
    high = alerts[alerts["severity"] == "high"]
    assert high["value_at_stake"].is_monotonic_decreasing  # exposure is the value at stake
    assert high.iloc[0]["customer_id"] == "new_over" and high.iloc[0]["value_at_stake"] == 2000.0
    messages = wording.alert_messages(alerts).set_axis(alerts["customer_id"])
    assert messages["down3"] == "Base S.r.l. (down3): rating downgraded from AA to BB (notches: 3)"
    assert messages["cut20"] == "Base S.r.l. (cut20): credit limit cut by 20%, from 1000 to 800"
    assert messages["new_over"] == "new_over: exposure 2000 exceeds the credit limit 1000 by 1000"
    assert messages["capital"] == "Base S.r.l. (capital): share capital changed from 10000 to 5000 (-50%)"
    custom = evaluate_alerts(diff_snapshots(before, after), [
        {"name": "p_alive_drop", "severity": "high", "message": "{customer_id} {before}->{after} [{rule}]"}])
    assert custom["message_template"].tolist() == ["{customer_id} {before}->{after} [{rule}]"]
    assert wording.alert_messages(custom).tolist() == ["palive 60%->30% [p_alive_drop]"]


def test_alert_messages_in_english_and_italian():
    """The report writes an alert as the analysis used to: the catalogue's template in the language."""
    before, after = alert_tables()
    alerts = evaluate_alerts(diff_snapshots(before, after), [{"name": "credit_limit_cut", "severity": "high"}])
    assert "message" not in alerts and alerts["customer_name"].tolist() == ["Base S.r.l."]
    english = wording.alerts_with_messages(alerts, Texts("en"))
    assert english.columns.tolist() == ["customer_id", "rule", "severity", "field", "before", "after", "value",
                                        "threshold", "value_at_stake", "message"]
    assert english["message"].tolist() == ["Base S.r.l. (cut20): credit limit cut by 20%, from EUR 1,000 to EUR 800"]
    italian = wording.alert_messages(alerts, Texts("it"))
    assert italian.tolist() == ["Base S.r.l. (cut20): fido ridotto del 20%, da EUR 1.000 a EUR 800"]
    empty = wording.alerts_with_messages(evaluate_alerts(diff_snapshots(before, before)))
    assert empty.empty and empty.columns[-1] == "message"


# --- generic rules on any column ------------------------------------------------------------------------

def generic_tables():
    """An ESG score (numbers, text numbers, missing), a compliance flag and a legal-event column, one case per
    customer; ``new`` is only in the after table."""
    rows = {  # customer: (esg before, esg after, flag before, flag after, event before, event after)
        "drop15": (80.0, 65.0, None, None, None, None),          # exactly 15 down
        "drop14": (80.0, 65.1, None, None, None, None),          # 14.9 down
        "text": ("70", "50", None, None, None, None),            # numbers written as text: 20 down
        "nan_b": (np.nan, 10.0, None, None, None, None),         # no previous value: no move
        "nan_a": (60.0, np.nan, None, None, None, None),         # value gone: no move
        "rise": (30.0, 40.0, None, None, None, None),
        "flat": (50.0, 50.0, None, None, None, None),
        "yes": (50.0, 50.0, "no", "Yes", None, None),            # flag set
        "si": (50.0, 50.0, "", " sì ", None, None),
        "x": (50.0, 50.0, None, "X", None, None),
        "one": (50.0, 50.0, 0, 1, None, None),
        "bool": (50.0, 50.0, False, True, None, None),
        "still": (50.0, 50.0, "true", "y", None, None),          # set before too: nothing new
        "unset": (50.0, 50.0, "yes", "no", None, None),          # cleared: not an alert
        "falsy": (50.0, 50.0, None, "false", None, None),        # false / 0 / empty are not set
        "zero": (50.0, 50.0, None, "0", None, None),
        "protest": (50.0, 50.0, None, None, None, "protest"),    # a first event
        "kept": (50.0, 50.0, None, None, "protest", "Protest"),  # same event (case ignored)
        "more": (50.0, 50.0, None, None, "protest", "protest; seizure"),
        "two": (50.0, 50.0, None, None, "", "insolvency proceedings, protest"),
        "gone": (50.0, 50.0, None, None, "seizure", None),       # event cleared: not an alert
    }
    cols = ["esg_score", "compliance_flag", "legal_event"]
    before = pd.DataFrame([(k, *v[0::2]) for k, v in rows.items()], columns=["customer_id", *cols])
    after = pd.DataFrame([(k, *v[1::2]) for k, v in rows.items()], columns=["customer_id", *cols])
    after.loc[len(after)] = ["new", 90.0, "yes", "seizure"]
    after.loc[len(after)] = ["new_clean", 90.0, "no", None]
    return before, after


def flagged(before, after, rule):
    alerts = evaluate_alerts(diff_snapshots(before, after), [{"severity": "medium", **rule}])
    assert (alerts["rule"] == rule["name"]).all()
    return alerts.set_index("customer_id")


def test_field_drop_and_rise_at_the_threshold_with_missing_and_text_numbers():
    before, after = generic_tables()
    drops = flagged(before, after, {"name": "field_drop", "field": "esg_score", "min_change": 15})
    assert set(drops.index) == {"drop15", "text"}
    assert drops.loc["drop15", ["value", "threshold", "field"]].tolist() == [-15.0, 15.0, "esg_score"]
    assert drops.loc["text", "value"] == -20.0
    any_drop = flagged(before, after, {"name": "field_drop", "field": "esg_score"})   # min_change 0: any fall
    assert set(any_drop.index) == {"drop15", "drop14", "text"}
    relative = flagged(before, after, {"name": "field_drop", "field": "esg_score", "min_relative": 0.25})
    assert set(relative.index) == {"text"}                                         # 20/70 >= 25%; 15/80 is not
    assert relative.loc["text", "threshold"] == pytest.approx(17.5)
    both = flagged(before, after, {"name": "field_drop", "field": "esg_score", "min_change": 18.75,
                                   "min_relative": 0.1})
    assert set(both.index) == {"text"}                                             # 20 >= max(18.75, 7)
    rises = flagged(before, after, {"name": "field_rise", "field": "esg_score", "min_change": 10})
    assert set(rises.index) == {"rise"} and rises.loc["rise", "value"] == 10.0     # exactly 10; added: no
    assert flagged(before, after, {"name": "field_rise", "field": "esg_score", "min_relative": 0.34}).empty


def test_field_change_on_text_and_numbers():
    before, after = generic_tables()
    events = flagged(before, after, {"name": "field_change", "field": "legal_event"})
    assert set(events.index) == {"protest", "kept", "more", "two", "gone"}         # any difference, case too
    scores = flagged(before, after, {"name": "field_change", "field": "esg_score"})
    assert set(scores.index) == {"drop15", "drop14", "text", "nan_b", "nan_a", "rise"}
    assert scores.loc["rise", "value"] == 10.0 and np.isnan(scores.loc["nan_b", "value"])


def test_flag_set_on_flags_and_new_event_values():
    before, after = generic_tables()
    flags = flagged(before, after, {"name": "flag_set", "field": "compliance_flag"})
    assert set(flags.index) == {"yes", "si", "x", "one", "bool", "new"}            # added customers count
    events = flagged(before, after, {"name": "flag_set", "field": "legal_event", "severity": "high"})
    assert set(events.index) == {"protest", "more", "two", "new"}
    assert events["severity"].eq("high").all() and events.loc["two", "value"] == 2   # two new events
    assert events.loc["more", ["before", "after"]].tolist() == ["protest", "protest; seizure"]
    only = flagged(before, after, {"name": "flag_set", "field": "legal_event", "values": ["Seizure"]})
    assert set(only.index) == {"more", "new"}
    yes = flagged(before, after, {"name": "flag_set", "field": "compliance_flag", "values": ["Yes"]})
    assert set(yes.index) == set(flags.index)                                      # any way of writing "set"


@pytest.mark.parametrize("rule, message", [
    ({"name": "field_drop", "min_change": 10, "severity": "high"}, r"#2 \(field_drop\): field: Field required"),
    ({"name": "flag_set", "severity": "high"}, r"#2 \(flag_set\): field: Field required"),
    ({"name": "field_change", "field": "", "severity": "low"}, r"#2 \(field_change\): field: String should have"),
    ({"name": "field_rise", "field": "esg", "min_change": -1, "severity": "low"}, r"min_change: Input should be gr"),
    ({"name": "field_rise", "field": "esg", "min_relative": 0, "severity": "low"}, r"min_relative: Input should"),
    ({"name": "field_drop", "field": "esg", "column": "esg", "severity": "low"}, r"unknown field\(s\) \['column'\]"),
    ({"name": "flag_set", "field": "legal_event", "values": [], "severity": "low"}, r"values: List should have"),
    ({"name": "flag_set", "field": "legal_event", "values": "protest", "severity": "low"}, r"values: Input should"),
    ({"name": "field_change", "field": "esg"}, r"#2 \(field_change\): severity: Field required"),
])
def test_bad_generic_rules_are_errors_naming_the_rule(rule, message):
    with pytest.raises(AlertRuleError, match=message):
        parse_alert_rules([{"name": "field_change", "field": "esg", "severity": "low"}, rule])


def test_generic_rules_on_unknown_columns_are_skipped_with_a_note(caplog):
    before, after = generic_tables()
    rules = [{"name": "field_drop", "field": "esg_rating", "severity": "high"},
             {"name": "flag_set", "field": "legal_event", "severity": "high"}]
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(before, after), rules)
    assert "alert rule field_drop skipped: column(s) ['esg_rating'] not in the tables" in caplog.text
    assert set(alerts["rule"]) == {"flag_set"}
    only_after = before.drop(columns="legal_event")                                # a column new in the after table
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(only_after, after), rules[1:])
    assert "flag_set: column 'legal_event' is not in the before table" in caplog.text
    assert set(alerts["customer_id"]) == {"protest", "kept", "more", "two", "new"}


def test_numbers_a_rule_cannot_read_are_logged(caplog):
    before = pd.DataFrame({"customer_id": ["1", "2", "3"], "esg_score": ["31,5", "40.0", ""]})
    after = pd.DataFrame({"customer_id": ["1", "2", "3"], "esg_score": ["10,0", "20.0", None]})
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(before, after), [{"name": "field_drop", "field": "esg_score",
                                                                  "severity": "low"}])
    assert alerts["customer_id"].tolist() == ["2"]                                  # text numbers read; 31,5 not
    assert "field_drop: 1 value(s) of 'esg_score' are not numbers, ignored: ['31,5']" in caplog.text


def test_generic_rule_messages_in_english_and_italian():
    before = pd.DataFrame({"customer_id": ["1", "2"], "name": ["Alfa S.r.l.", "Beta S.p.A."],
                           "esg_score": [72.5, 40.0], "legal_event": [None, "protest"]})
    after = before.assign(esg_score=[55.0, 41.0], legal_event=["seizure", "protest"])
    alerts = evaluate_alerts(diff_snapshots(before, after), [
        {"name": "field_drop", "field": "esg_score", "min_change": 10, "severity": "medium"},
        {"name": "field_rise", "field": "esg_score", "severity": "low"},
        {"name": "flag_set", "field": "legal_event", "severity": "high"},
        {"name": "field_change", "field": "legal_event", "severity": "low"}])
    rules = alerts["rule"]
    english = wording.alert_messages(alerts, Texts("en")).set_axis(rules)
    assert english.to_dict() == {
        "flag_set": "Alfa S.r.l. (1): Legal event now 'seizure' (before: 'n/a')",
        "field_drop": "Alfa S.r.l. (1): ESG score fell from 72.5 to 55 (-17.5)",
        "field_change": "Alfa S.r.l. (1): Legal event changed from 'n/a' to 'seizure'",
        "field_rise": "Beta S.p.A. (2): ESG score rose from 40 to 41 (+1)"}
    italian = wording.alert_messages(alerts, Texts("it")).set_axis(rules)
    assert italian["field_drop"] == "Alfa S.r.l. (1): Punteggio ESG sceso da 72,5 a 55 (-17,5)"
    assert italian["field_rise"] == "Beta S.p.A. (2): Punteggio ESG salito da 40 a 41 (+1)"
    assert italian["flag_set"] == "Alfa S.r.l. (1): Evento pregiudizievole ora 'seizure' (prima: 'n.d.')"
    assert italian["field_change"] == "Alfa S.r.l. (1): Evento pregiudizievole cambiato da 'n.d.' a 'seizure'"
    plain = wording.alert_messages(alerts).set_axis(rules)                         # no language: values plainly
    assert plain["field_drop"] == "Alfa S.r.l. (1): esg_score fell from 72.5 to 55 (-17.5)"


def test_rules_without_their_columns_are_skipped_with_a_note(caplog):
    before, after, _ = planted_pair()
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(before, after))
    assert "alert rule p_alive_drop skipped: column(s) ['p_alive', 'abc_class'] not in the tables" in caplog.text
    assert "alert rule new_overdue skipped" in caplog.text
    assert "rating: 0 value" not in caplog.text
    # the snapshot-only rules still run: the planted downgrades, score moves >= 10, the 40% cut ...
    assert set(alerts["customer_id"]) == {"C000010", "C000011", "C000012", "C000013", "C000014", "C000015",
                                          "C000016"}
    assert set(alerts.loc[alerts["customer_id"] == "C000016", "rule"]) == {"share_capital_change"}  # upgrade


def test_score_rule_runs_on_the_scores_present_and_none_means_the_defaults(caplog):
    before = pd.DataFrame({"customer_id": ["1", "2"], "failure_score": [50.0, 50.0]})
    after = pd.DataFrame({"customer_id": ["1", "2"], "failure_score": [39.0, 41.0]})
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(before, after), None)
    assert alerts[["customer_id", "rule", "value"]].values.tolist() == [["1", "score_change", -11.0]]
    assert "score_change: column 'delinquency_score' not in the tables, not checked" in caplog.text


def test_ratings_off_the_scale_are_logged_and_ignored(caplog):
    before, after = alert_tables()
    with caplog.at_level(logging.INFO, logger="portfolio_kit.monitoring"):
        alerts = evaluate_alerts(diff_snapshots(before, after), [{"name": "rating_downgrade", "severity": "low"}])
    assert "off_scale" not in set(alerts["customer_id"])
    assert "rating: 1 value(s) not on the scale ignored: ['NR']" in caplog.text


def test_docstring_examples():
    modules = [monitoring, monitoring.keys, monitoring.diff, monitoring.migration, monitoring.alerts, wording]
    assert all(doctest.testmod(m, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0 for m in modules)


# --- figures -----------------------------------------------------------------------------------------------

@pytest.fixture
def alert_diff():
    before, after = alert_tables()
    return diff_snapshots(before, after)


def test_migration_heatmap():
    from portfolio_kit.report.plots.monitoring import migration_heatmap
    before, after, _ = planted_pair()
    fig = migration_heatmap(migration_matrix(before, after, "rating", RATING_SCALE))
    ax = fig.axes[0]
    assert ax.get_title() == "Migration of rating (shares)" and ax.get_ylabel() == "rating before"
    assert "gone" in [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)


def test_alert_counts(alert_diff):
    from portfolio_kit.report.plots.monitoring import alert_counts
    fig = alert_counts(evaluate_alerts(alert_diff))
    ax = fig.axes[0]
    assert ax.get_title() == "Alerts by rule and severity" and ax.get_xlabel() == "alerts"
    assert "exposure_over_limit" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)


def test_value_waterfall(alert_diff):
    from portfolio_kit.report.plots.monitoring import value_waterfall
    bridge = value_bridge(alert_diff, "exposure")
    fig = value_waterfall(bridge)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == bridge["step"].tolist()
    assert ax.patches[-1].get_height() == pytest.approx(bridge["amount"].iloc[-1])
    plt.close(fig)
