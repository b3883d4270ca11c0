"""The whole notebook suite through the runner on the committed sample client, as `make report` runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from portfolio_kit.runner.cli import main
from portfolio_kit.data.config import load_config
from portfolio_kit.runner.suite import NOTEBOOKS_DIR, discover_notebooks, notebook_parameters, run_suite
from .conftest import SAMPLE_CONFIG as SAMPLE



def _values(run, notebook: str) -> dict:
    """A notebook's key figures in a run: identifier -> value."""
    saved = json.loads((run / "key_figures" / f"{notebook}.json").read_text())
    return {figure: entry["value"] for figure, entry in saved.items()}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def earlier(reports):
    """A run one month earlier (only the analyses with per-customer tables), for the monthly comparison."""
    cfg = load_config(SAMPLE, as_of="2026-09-30")
    return run_suite(cfg, reports=reports, only=["segmentation", "abc_pareto", "payments"]).run_dir


@pytest.fixture(scope="module")
def run(reports, earlier):
    return run_suite(load_config(SAMPLE), reports=reports).run_dir


def test_every_notebook_runs_on_the_sample(run):
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "success"
    assert [nb["notebook"] for nb in manifest["notebooks"]] == [f"notebooks/{p.name}" for p in discover_notebooks()]
    for nb in manifest["notebooks"]:
        assert (run / nb["html"]).is_file() and (run / "key_figures" / f"{nb['name']}.json").is_file()


def test_index_links_resolve_and_pages_show_no_code(run):
    index = (run / "index.html").read_text()
    links = re.findall(r'href="([^"#]+)"', index)
    assert links and all((run / link).exists() for link in links)
    for page in run.glob("*.html"):
        assert "load_portfolio(" not in page.read_text(), f"code visible in {page.name}"


def test_data_overview_figures_match_the_sample(run):
    figures = _values(run, "data_overview")
    truth = json.loads((SAMPLE.parent / "truth.json").read_text())
    assert figures["customers"] == truth["n_customers"] == 2000
    raw = pd.read_csv(SAMPLE.parent / "movimenti.csv", sep=";", decimal=",", thousands=".", encoding="utf-8-sig")
    assert figures["transactions"] == len(raw)
    assert figures["net_revenue"] == pytest.approx(raw["Importo"].sum(), abs=0.01)
    assert figures["credit_notes"] == int((raw["Importo"] < 0).sum())


def test_tables_are_written_as_csv_and_one_workbook(run):
    csvs = sorted(p.stem for p in (run / "tables").glob("*.csv"))
    assert {"customer_mix", "revenue_by_month", "data_tables"} <= set(csvs)
    workbook = pd.read_excel(next((run / "tables").glob("*.xlsx")), sheet_name=None)
    owners = pd.read_csv(run / "tables" / "customers_actions.csv")["owner"].dropna().unique()
    assert sorted(workbook) == sorted(["contents"] + [name[:31] for name in csvs] + list(owners))
    for owner in owners:  # the hand-off to each account manager: that manager's customers only
        assert set(workbook[owner]["Owner"]) == {owner} and len(workbook[owner]) > 0  # headers in the language


def test_validate_the_sample_from_the_cli(capsys):
    assert main(["validate", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "0 error(s)" in out and "transactions" in out


def test_notebooks_default_to_the_sample():
    for path in discover_notebooks(NOTEBOOKS_DIR):
        assert notebook_parameters(path)["config_path"].default == '"../data/sample/portfolio.yaml"', path.name


def test_monitoring_compares_with_the_previous_run(run, earlier):
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["previous_run"] == str(earlier)
    figures = _values(run, "monitoring")
    assert figures["compared_with_run"] == earlier.name
    alerts = pd.read_csv(run / "tables" / "alerts.csv")
    snapshot_rules = {"rating_downgrade", "score_change", "credit_limit_cut", "officers_change", "share_capital_change",
                      "field_drop", "flag_set"}
    run_rules = set(alerts["rule"]) - snapshot_rules
    assert run_rules, "the run-against-run diff raised no alert (segment moves, new overdue, exposure over limit)"
    assert run_rules <= {"segment_worse", "new_overdue", "exposure_over_limit", "p_alive_drop"}


def test_planted_snapshot_changes_reach_the_alerts(run):
    truth = json.loads((SAMPLE.parent / "truth.json").read_text())
    changes = pd.read_csv(run / "tables" / "snapshot_changes.csv", dtype={"customer_id": str})
    planted = {(c["customer_id"], c["field"]) for c in truth["planted_changes"]}
    assert set(zip(changes["customer_id"], changes["field"])) == planted


def test_monitoring_with_a_single_snapshot_says_so(tmp_path):
    """The first monthly run of a client has one snapshot: the notebook reports it instead of failing."""
    run = run_suite(load_config(SAMPLE, as_of="2026-09-30"), reports=tmp_path, only=["monitoring"]).run_dir
    figures = _values(run, "monitoring")
    assert figures["customers_added"] == 0 and figures["alerts_high"] == 0
    assert "Fewer than two snapshots" in (run / "06_monitoring.html").read_text()


def test_every_parameter_line_is_understood():
    """papermill skips a parameter line it cannot parse (only a warning): then the runner could not check it."""
    import nbformat

    for path in discover_notebooks(NOTEBOOKS_DIR):
        cell = next(c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        lines = [line for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert len(notebook_parameters(path)) == len(lines), path.name


def test_the_sample_config_spells_out_the_default_rules():
    from portfolio_kit.actions import DEFAULT_ACTION_RULES, parse_action_rules
    from portfolio_kit.monitoring import DEFAULT_ALERT_RULES, parse_alert_rules

    config = load_config(SAMPLE)
    rules = parse_alert_rules(config.alerts)
    assert rules[:len(DEFAULT_ALERT_RULES)] == DEFAULT_ALERT_RULES  # then the rules on the provider's extra fields
    assert [(r.name, r.field) for r in rules[len(DEFAULT_ALERT_RULES):]] == [("field_drop", "esg_score"),
                                                                           ("flag_set", "legal_event")]
    assert parse_action_rules(config.actions) == DEFAULT_ACTION_RULES


def test_index_titles_are_the_notebooks_headings(run):
    index = (run / "index.html").read_text()
    assert ">Customer lifetime value</a>" in index and ">Data overview</a>" in index


def test_the_summary_comes_first_and_links_to_the_notebook_pages(run):
    index = (run / "index.html").read_text()
    assert re.findall(r'<h2><a href="([^"]+)"', index)[0] == "99_summary.html"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["notebooks"][-1]["name"] == "summary"  # it runs last: it reads the others' tables
    page = (run / "99_summary.html").read_text()
    links = set(re.findall(r'href="([^"#]+)"', page))
    others = {nb["html"] for nb in manifest["notebooks"] if nb["name"] != "summary"}
    figures = pd.read_csv(run / "tables" / "summary.csv")
    assert links == set(figures["page"]) <= others and all((run / link).is_file() for link in links)
    assert figures["value"].notna().all(), figures[figures["value"].isna()]


def test_the_summary_shows_each_notebooks_own_figures_and_the_change(run, earlier):
    """Read from the tables, the summary's figures are the ones each notebook reports as its key figures."""
    kf = {p.stem: _values(run, p.stem) for p in (run / "key_figures").glob("*.json")}
    before = {p.stem: _values(earlier, p.stem) for p in (earlier / "key_figures").glob("*.json")}
    figures = pd.read_csv(run / "tables" / "summary.csv").set_index("figure")
    value, previous = figures["value"], figures["previous"]
    assert value["customers"] == kf["data_overview"]["customers"]
    assert value["gini"] == pytest.approx(kf["abc_pareto"]["gini"], abs=1e-4)
    assert value["top_10pct_share"] == pytest.approx(kf["abc_pareto"]["top_10pct_share"], abs=1e-4)
    assert value["a_class_customers"] == kf["abc_pareto"]["a_class_customers"]
    assert previous["a_class_customers"] == before["abc_pareto"]["a_class_customers"]
    assert value["clv_book"] == pytest.approx(kf["clv"]["clv_book"], abs=1)
    assert value["customers_at_risk"] == kf["churn"]["at_risk_customers"]
    assert value["value_at_risk"] == pytest.approx(kf["churn"]["value_at_risk"], abs=1)
    assert value["overdue_share"] == pytest.approx(kf["payments"]["overdue_share"], abs=1e-4)
    assert value["overdue_receivables"] / value["overdue_share"] == pytest.approx(kf["payments"]["open_receivables"])
    assert value["dso"] == pytest.approx(kf["payments"]["dso"], abs=0.05)
    assert previous["dso"] == pytest.approx(before["payments"]["dso"], abs=0.05)
    assert figures.at["dso", "change"] == pytest.approx(value["dso"] - previous["dso"])
    for severity in ("high", "medium", "low"):
        assert value[f"alerts_{severity}"] == kf["monitoring"][f"alerts_{severity}"]
    # the earlier run had no data overview nor monitoring: their changes are not available
    assert previous[["customers", "revenue_12m", "alerts_high"]].isna().all()
    assert "Changes are against the previous run, as of 2026-09-30" in (run / "99_summary.html").read_text()


#: The action each planted situation of the sample calls for (truth.json's "situations").
PLANTED_ACTIONS = {"valuable_rating_fall": "protect_credit", "valuable_stopped_buying": "retain",
                   "low_value_over_limit": "reduce_exposure", "chronic_late_payers": "collect",
                   "healthy_growers": "grow"}


def test_planted_situations_get_their_actions_and_every_reason_is_true_of_its_row(run):
    from portfolio_kit.report.texts import texts

    situations = json.loads((SAMPLE.parent / "truth.json").read_text())["situations"]
    todo = pd.read_csv(run / "tables" / "customers_actions.csv", dtype={"customer_id": str}).set_index("customer_id")
    for situation, action in PLANTED_ACTIONS.items():
        primary = todo.loc[situations[situation], "action"]
        assert (primary == action).mean() >= 0.8, (situation, primary.value_counts().to_dict())
    t = texts("en")
    for row in todo.itertuples():
        if row.action in ("protect_credit", "retain", "grow"):
            assert t.money(row.value_12m) in row.reason and t.money(row.threshold) in row.reason, row
        if row.action in ("protect_credit", "reduce_exposure"):
            assert t.money(row.exposure) in row.reason and t.money(row.credit_limit) in row.reason, row
        if row.action in ("collect", "reduce_exposure", "reactivate"):
            assert t.money(row.value_at_stake) in row.reason, row
        if row.action == "retain":
            assert t.number(row.days_since_purchase) in row.reason, row


def test_the_churn_page_uses_the_score_that_validated_best(run):
    from portfolio_kit.churn import choose_score

    tables = run / "tables"
    chosen = choose_score(pd.read_csv(tables / "churn_validation.csv"))
    customers_churn = pd.read_csv(tables / "customers_churn.csv")
    assert list(customers_churn.columns) == ["customer_id", "churn_probability", "value_at_risk", "churn_score"]
    assert set(customers_churn["churn_score"]) == {chosen}
    listed = pd.read_csv(tables / "churn_at_risk.csv").set_index("customer_id")["churn_probability"]
    assert listed.to_numpy() == pytest.approx(customers_churn.set_index("customer_id")["churn_probability"]
                                              .loc[listed.index].to_numpy())
    assert _values(run, "churn")["churn_score"] == chosen
    assert f"use the <em>{chosen}</em> score" in (run / "05_churn.html").read_text()
