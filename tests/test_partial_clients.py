"""Every client gets a report: the whole suite through the runner on clients with only some of the four tables.

Built from the sample client (its files, mapped by subsets of its config) and from the CDNOW purchases shipped
with lifetimes (sales lines only: customer, date, amount in dollars, no margin, no master). Each run asserts
which pages ran, which were not run and why (the manifest, the index and the summary say so), and that no page
holds a traceback. The client with all four tables is the sample itself (tests/test_suite.py).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from portfolio_kit.data import load_config
from portfolio_kit.data.datasets import load_cdnow
from portfolio_kit.data import check_portfolio
from portfolio_kit.runner.needs import NEEDS, unmet_need
from portfolio_kit.runner.suite import RunFailed, run_suite

from .conftest import SAMPLE_DIR

pytestmark = pytest.mark.slow

EVERY = ["data_overview", "segmentation", "abc_pareto", "clv", "payments", "churn", "monitoring", "actions", "credit",
         "products", "summary"]


def _sample_subset(folder: Path, name: str, tables: list[str]) -> Path:
    """A config of the sample client that maps only ``tables`` (the files stay where they are)."""
    config = yaml.safe_load((SAMPLE_DIR / "portfolio.yaml").read_text(encoding="utf-8"))
    config = copy.deepcopy(config) | {"client": name}
    config["tables"] = {t: config["tables"][t] | {"path": str(SAMPLE_DIR / config["tables"][t]["path"])}
                        for t in tables}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portfolio.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder / "portfolio.yaml"


def _cdnow_sales(folder: Path) -> Path:
    """CDNOW's 2,357-customer cohort as a sales export: comma-separated, ISO dates, no margin, no master."""
    folder.mkdir(parents=True, exist_ok=True)
    tx = load_cdnow()
    tx.rename(columns={"customer_id": "CustomerID", "date": "OrderDate", "amount": "Sales"})[
        ["CustomerID", "OrderDate", "Sales"]].to_csv(folder / "sales.csv", index=False, date_format="%Y-%m-%d")
    config = {"client": "cdnow", "as_of": "1998-06-30", "currency": "USD",
              "read": {"sep": ",", "decimal": ".", "date_format": "%Y-%m-%d"},
              "tables": {"transactions": {"path": "sales.csv", "columns": {
                  "CustomerID": "customer_id", "OrderDate": "date", "Sales": "amount"}}}}
    (folder / "portfolio.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder / "portfolio.yaml"


def _run(config: Path, reports: Path):
    """The run folder (kept as ``.failed`` too: the test then reports which notebook failed and why)."""
    try:
        return run_suite(load_config(config), reports=reports).run_dir
    except RunFailed as exc:
        pytest.fail(f"{exc}")


def _check(run: Path, ran: list[str], not_run: dict[str, str]) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    status = {nb["name"]: nb["status"] for nb in manifest["notebooks"]}
    assert {n for n, s in status.items() if s == "success"} == set(ran), status
    assert {nb["name"]: nb["reason"] for nb in manifest["notebooks"] if nb["status"] == "not_run"} == not_run
    index = (run / "index.html").read_text()
    for page in run.glob("*.html"):
        text = page.read_text()
        assert "Traceback" not in text and not re.search(r"\b\w+(Error|Exception): ", text), page.name
    for reason in not_run.values():
        assert "not run:" in index
    summary = (run / "99_summary.html").read_text()
    for notebook in not_run:
        assert "Not run for this client" in summary, notebook


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("reports")


def test_sales_only_cdnow(tmp_path, reports):
    run = _run(_cdnow_sales(tmp_path / "cdnow"), reports)
    _check(run, ["data_overview", "segmentation", "abc_pareto", "clv", "churn", "actions", "summary"],
           {"payments": "invoices", "monitoring": "snapshots_or_previous_run", "credit": "invoices",
            "products": "products"})


def test_sales_and_master(tmp_path, reports):
    run = _run(_sample_subset(tmp_path / "c", "sales-master", ["customers", "transactions"]), reports)
    _check(run, ["data_overview", "segmentation", "abc_pareto", "clv", "churn", "actions", "products", "summary"],
           {"payments": "invoices", "monitoring": "snapshots_or_previous_run", "credit": "invoices"})


def test_invoices_only(tmp_path, reports):
    run = _run(_sample_subset(tmp_path / "c", "invoices-only", ["invoices"]), reports)
    _check(run, ["data_overview", "segmentation", "abc_pareto", "clv", "payments", "churn", "actions", "credit",
                 "summary"],
           {"monitoring": "snapshots_or_previous_run", "products": "products"})
    assert "sales are the invoices" in (run / "00_data_overview.html").read_text()


def test_invoices_and_master_needs(tmp_path):
    """The pages a client with invoices and a master gets, from the needs alone (the runs of invoices only and of
    the whole sample execute them)."""
    config = load_config(_sample_subset(tmp_path / "c", "invoices-master", ["customers", "invoices"]))
    portfolio, report = check_portfolio(config)
    assert report.ok
    reasons = {name: unmet_need(name, portfolio, None) for name in [*NEEDS, "data_overview", "summary"]}
    assert {name for name, reason in reasons.items() if reason} == {"monitoring", "products"}
    assert reasons["monitoring"] == "snapshots_or_previous_run" and portfolio.sales_from == "invoices"


def test_master_and_snapshots_is_monitoring_only(tmp_path, reports):
    run = _run(_sample_subset(tmp_path / "c", "monitoring-only", ["customers", "snapshots"]), reports)
    _check(run, ["data_overview", "monitoring", "summary"],
           {"segmentation": "sales", "abc_pareto": "sales", "clv": "sales", "payments": "invoices", "churn": "sales",
            "credit": "invoices", "actions": "sales", "products": "sales"})
