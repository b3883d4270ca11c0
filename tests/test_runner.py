"""The runner's mechanics on a tiny client and a two-notebook suite: versioned immutable runs, manifest,
HTML without code, tables, failures kept as ``.failed/``, parameter validation, escaping, pseudonyms, CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from portfolio_kit.runner.cli import main
from portfolio_kit.data.config import load_config
from portfolio_kit.runner.suite import ParameterError, RunFailed, list_runs, notebook_parameters, run_suite

from .clients import CUSTOMERS_IT, INVOICES_IT, PARAMS, TRANSACTIONS_IT, XSS, make_client, write_notebook

def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_lands_complete_with_manifest_html_and_tables(client, suite, tmp_path):
    cfg = load_config(client)
    before = _tree(client.parent)
    result = run_suite(cfg, reports=tmp_path / "reports", notebooks_dir=suite)
    run = result.run_dir
    assert run.parent == tmp_path / "reports" / "acme" / "2026-03-31"
    assert not list(run.parent.glob(".*partial"))
    assert {p.name for p in run.iterdir()} == {"index.html", "01_names.html", "02_check.html", "notebooks", "tables",
                                               "key_figures", "manifest.json", "not_run.json"}
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "success" and m["run_id"] == run.name and m["as_of"] == "2026-03-31"
    assert m["inputs"]["movimenti.csv"] == hashlib.sha256((client.parent / "movimenti.csv").read_bytes()).hexdigest()
    assert set(m["inputs"]) == {"portfolio.yaml", "clienti.csv", "movimenti.csv", "fatture.csv"}
    assert {"pandas", "papermill", "portfolio-kit", "python"} <= set(m["versions"])
    assert [nb["name"] for nb in m["notebooks"]] == ["names", "check"]
    assert all(nb["status"] == "success" and nb["seconds"] > 0 for nb in m["notebooks"])
    assert m["notebooks"][0]["parameters"]["top"] == 2 and m["notebooks"][1]["parameters"]["as_of"] == "2026-03-31"
    names = pd.read_csv(run / "tables" / "names.csv", dtype=str)
    assert names["customer_id"].tolist() == ["007", "C2"]
    assert pd.read_excel(run / "tables" / m["workbook"].split("/")[-1], sheet_name=None).keys() == {"contents", "names"}
    for page in run.glob("*.html"):
        text = page.read_text()
        assert "save_table(" not in text and "raise RuntimeError" not in text, f"code visible in {page.name}"
    index = (run / "index.html").read_text()
    assert 'href="01_names.html"' in index and "customers: <b>2</b>" in index and "Top: <b>2</b>" in index
    assert _tree(client.parent) == before  # inputs are never modified


def test_client_strings_are_escaped_in_every_page(client, suite, tmp_path):
    run = run_suite(load_config(client), reports=tmp_path / "r", notebooks_dir=suite).run_dir
    pages = "".join(p.read_text() for p in run.glob("*.html"))
    assert "<script>alert(1)</script>" not in pages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages


def test_pseudonymise_removes_names_from_all_outputs(client, suite, tmp_path):
    """Every produced file (pages, tables, workbook, key figures, manifest, executed notebooks, file names) is
    searched for every personal or free-text value of the client: names, the account manager (an extra master
    column), notes; pseudonyms are keyed by a secret beside the config, stable across runs, never in a report."""
    write_notebook(suite / "03_everything.ipynb", PARAMS, """
from portfolio_kit.data import load_portfolio
from portfolio_kit.report.tables import save_table
p = load_portfolio(config_path, as_of=as_of, pseudonymise_names=pseudonymise)
for table in ("customers", "transactions", "invoices"):
    save_table(getattr(p, table), f"all_{table}", output_dir)
print(p.customers.to_string())""")
    runs = [run_suite(load_config(client), reports=tmp_path / "r", notebooks_dir=suite, pseudonymise=True,
                      overrides={"rate": rate}).run_dir for rate in ("0.1", "0.2")]
    secret = (client.parent / ".portfolio-kit-key").read_text().strip()
    real = ["Rossi", "Verdi", "alert(1)", "Bianchi", "Neri", "nota di credito", secret]
    for run in runs:
        for path in run.rglob("*"):
            if path.is_dir():
                continue
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as book:
                    text = "".join(book.read(n).decode("utf-8", "ignore") for n in book.namelist())
            else:
                text = path.read_text(errors="ignore")
            found = [v for v in real if v in text or v in str(path.relative_to(run))]
            assert not found, f"{found} in {path.relative_to(run)}"
    first, second = (pd.read_csv(run / "tables" / "all_customers.csv", dtype=str).set_index("customer_id")
                     for run in runs)
    assert first.loc["007", "name"].startswith("Customer ") and first.loc["007", "Agente"].startswith("Agente ")
    assert first.equals(second)  # the same pseudonyms in every run of the client


def test_two_runs_sit_side_by_side_and_a_failure_touches_neither(client, suite, tmp_path):
    reports = tmp_path / "reports"
    first = run_suite(load_config(client), reports=reports, notebooks_dir=suite).run_dir
    second = run_suite(load_config(client), reports=reports, notebooks_dir=suite, overrides={"rate": "0.2"}).run_dir
    assert first != second and first.name < second.name
    assert first.name.split("-")[-1] != second.name.split("-")[-1]  # the parameters are in the hash
    snapshot = {run: _tree(run) for run in (first, second)}
    with pytest.raises(RunFailed) as exc:
        run_suite(load_config(client), reports=reports, notebooks_dir=suite, overrides={"fail": "true"})
    assert "notebook 02_check.ipynb failed in cell" in str(exc.value) and "failing on purpose" in str(exc.value)
    failed = exc.value.run_dir
    assert failed.name.endswith(".failed") and failed.parent == first.parent
    executed = nbformat.read(failed / "notebooks" / "02_check.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in executed.cells for o in c.get("outputs", []))
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    assert {run: _tree(run) for run in (first, second)} == snapshot
    assert [r["status"] for r in list_runs(reports)] == ["success", "success", "failed"]


def test_a_failing_notebook_does_not_stop_the_others(client, suite, tmp_path):
    """The notebooks after a failure still run; the run is kept as .failed with every page that succeeded, and
    the index names the failure and its cell."""
    write_notebook(suite / "03_after.ipynb", PARAMS, 'print("after the failure")')
    with pytest.raises(RunFailed) as exc:
        run_suite(load_config(client), reports=tmp_path / "reports", notebooks_dir=suite, overrides={"fail": "true"})
    failed = exc.value.run_dir
    status = {nb["name"]: nb["status"] for nb in json.loads((failed / "manifest.json").read_text())["notebooks"]}
    assert status == {"names": "success", "check": "failed", "after": "success"}
    assert (failed / "01_names.html").is_file() and (failed / "03_after.html").is_file()
    assert "02_check.ipynb failed in cell" in (failed / "index.html").read_text()


def test_parameters_are_checked_before_anything_runs(client, suite, tmp_path):
    reports = tmp_path / "reports"
    cfg = load_config(client)
    with pytest.raises(ParameterError, match=r"-p tpo: no selected notebook \(check, names\) takes it"):
        run_suite(cfg, reports=reports, notebooks_dir=suite, overrides={"tpo": "3"})
    with pytest.raises(ParameterError, match=r"notebook 02_check.ipynb, parameter 'rate': expected float, got 'abc'"):
        run_suite(cfg, reports=reports, notebooks_dir=suite, overrides={"rate": "abc"})
    cfg.parameters = {"names": {"top": "many"}}
    with pytest.raises(ParameterError, match=r"notebook 01_names.ipynb, parameter 'top': expected int"):
        run_suite(cfg, reports=reports, notebooks_dir=suite)
    cfg.parameters = {"names": {"colour": 1}}
    with pytest.raises(ParameterError, match=r"notebook 01_names.ipynb: unknown parameter 'colour'"):
        run_suite(cfg, reports=reports, notebooks_dir=suite)
    cfg.parameters = {"nosuch": {"x": 1}}
    with pytest.raises(ParameterError, match=r"parameters for unknown notebook\(s\) \['nosuch'\]"):
        run_suite(cfg, reports=reports, notebooks_dir=suite)
    assert not reports.exists() or not list(reports.rglob("manifest.json"))


def test_notebook_parameters_are_read_with_types_and_help(suite):
    params = notebook_parameters(suite / "02_check.ipynb")
    assert params["rate"].type == "float" and params["rate"].default == "0.1" and params["rate"].help == "a rate"


def test_cli_exit_codes_and_messages(client, suite, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("portfolio_kit.runner.cli.run_suite",
                        lambda cfg, **kw: run_suite(cfg, notebooks_dir=suite, **kw))
    reports = str(tmp_path / "reports")
    assert main(["run", str(client), "--reports", reports, "--quiet", "--only", "names"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("index.html") and Path(out).is_file()
    assert main(["run", str(client), "--reports", reports, "-p", "fail=yes", "--quiet"]) == 1
    assert "02_check.ipynb failed in cell" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "config file not found" in err and "Traceback" not in err
    assert main(["run", str(client), "--reports", reports, "--only", "nosuch"]) == 2
    assert "unknown notebook(s) ['nosuch']" in capsys.readouterr().err
    assert main(["runs", "--reports", reports]) == 0
    assert "success" in capsys.readouterr().out
    (client.parent / "movimenti.csv").write_text("Codice Cliente;Data;Importo\n007;xx;1\n")
    assert main(["validate", str(client)]) == 2
    assert "expected a date" in capsys.readouterr().out
    assert main(["run", str(client), "--reports", reports, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "2 data errors found" in err and "not in the file: 'Margine'" in err and "Traceback" not in err


def test_warnings_stay_in_the_notebook_not_on_the_page(client, tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    write_notebook(folder / "01_warn.ipynb", PARAMS, 'import warnings\nwarnings.warn("internal detail for the analyst")')
    run = run_suite(load_config(client), reports=tmp_path / "r", notebooks_dir=folder).run_dir
    assert "internal detail" in (run / "notebooks" / "01_warn.ipynb").read_text()
    assert "internal detail" not in (run / "01_warn.html").read_text()


def test_alert_rules_of_the_config_are_checked_before_anything_runs(client, suite, tmp_path):
    from portfolio_kit.monitoring import AlertRuleError

    cfg = load_config(client)
    cfg.alerts = [{"name": "rating_downgrade", "notches": 2, "severity": "high"},
                  {"name": "rating_slump", "severity": "high"}]
    with pytest.raises(AlertRuleError, match="rating_slump"):
        run_suite(cfg, reports=tmp_path / "r", notebooks_dir=suite)
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("manifest.json"))


def test_workbook_keeps_long_tables_as_csv_only(tmp_path):
    from portfolio_kit.report.tables import write_workbook

    pd.DataFrame({"customer_id": ["a", "b", "c"], "x": [1, 2, 3]}).to_csv(tmp_path / "customers_x.csv", index=False)
    pd.DataFrame({"measure": ["gini"], "value": [0.5]}).to_csv(tmp_path / "concentration.csv", index=False)
    book = pd.read_excel(write_workbook(tmp_path, tmp_path / "book.xlsx", max_rows=2), sheet_name=None)
    assert list(book) == ["contents", "concentration"]
    assert book["contents"].to_dict("list") == {
        "table": ["concentration", "customers_x"], "rows": [1, 3],
        "where": ["tables/concentration.csv", "tables/customers_x.csv only (too long for a sheet)"]}


def test_a_reports_folder_that_cannot_be_written_is_one_sentence(client, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    assert main(["run", str(client), "--reports", str(tmp_path / "a-file" / "reports"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err and "--reports" in err and "Traceback" not in err


def test_validate_checks_alert_rules_and_parameters_as_run_does(client, capsys):
    config = yaml.safe_load(client.read_text())
    client.write_text(yaml.safe_dump(config | {"alerts": [{"name": "no_such_rule"}]}))
    assert main(["validate", str(client)]) == 2
    assert "no_such_rule" in capsys.readouterr().err
    client.write_text(yaml.safe_dump(config | {"parameters": {"clv": {"horizon_months": "soon"}}}))
    assert main(["validate", str(client)]) == 2
    assert "horizon_months" in capsys.readouterr().err
    client.write_text(yaml.safe_dump(config | {"actions": [{"name": "grow", "priority": "soon"}]}))
    assert main(["validate", str(client)]) == 2
    assert "action rule #1 (grow): priority" in capsys.readouterr().err
    client.write_text(yaml.safe_dump(config | {"levers": {"Champions": {"visits": 3}}}))
    assert main(["validate", str(client)]) == 2
    assert "levers: 'Champions': unknown lever(s) ['visits']" in capsys.readouterr().err


def test_runs_started_together_both_complete_and_a_killed_run_is_listed_and_removable(client, suite, tmp_path):
    """Two runs of the same client at once (one cron line per client) both land; a run killed mid-way leaves the
    earlier runs intact, shows as interrupted, is removed on request, and the next run works."""
    reports = tmp_path / "reports"
    start = ("import sys; from pathlib import Path; from portfolio_kit.data import load_config; "
             "from portfolio_kit.runner.suite import run_suite; "
             "run_suite(load_config(sys.argv[1]), reports=sys.argv[2], notebooks_dir=Path(sys.argv[3]), "
             "overrides=dict(a.split('=') for a in sys.argv[4:]))")
    together = [subprocess.Popen([sys.executable, "-c", start, str(client), str(reports), str(suite), f"rate=0.{i}"])
                for i in (1, 2)]
    assert [p.wait(timeout=120) for p in together] == [0, 0]
    assert [r["status"] for r in list_runs(reports)] == ["success", "success"]
    before = {r["path"]: _tree(r["path"]) for r in list_runs(reports)}
    write_notebook(suite / "03_slow.ipynb", PARAMS, "import time\ntime.sleep(60)")
    slow = subprocess.Popen([sys.executable, "-c", start, str(client), str(reports), str(suite), "rate=0.3"])
    deadline = time.monotonic() + 60
    while not any(r["status"] == "running" for r in list_runs(reports)) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)
    slow.kill()
    slow.wait(timeout=30)
    statuses = {r["status"] for r in list_runs(reports)}
    assert statuses == {"success", "interrupted"}
    assert {p: _tree(p) for p in before} == before  # the finished runs are untouched
    assert main(["runs", "--reports", str(reports), "--remove-interrupted"]) == 0
    assert [r["status"] for r in list_runs(reports)] == ["success", "success"]
    (suite / "03_slow.ipynb").unlink()
    assert run_suite(load_config(client), reports=reports, notebooks_dir=suite).run_dir.is_dir()


def test_parameter_values_outside_their_limits_stop_the_run_before_it_starts(tmp_path, capsys):
    """papermill checks neither types nor values: a bad value would fail inside a notebook, after a minute."""
    cfg = tmp_path / "sample"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample", cfg)
    for bad, said in (("discount_rate=-5", "from 0.0 to 1.0"), ("discount_rate=nan", "a finite number"),
                      ("model=foo", "one of ['bgnbd', 'mbgnbd']")):
        assert main(["run", str(cfg / "portfolio.yaml"), "--only", "clv", "-p", bad, "--reports",
                     str(tmp_path / "reports"), "--quiet"]) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").rglob("manifest.json"))


def test_notebooks_start_once_the_notebooks_whose_tables_they_read_are_done():
    from types import SimpleNamespace

    from portfolio_kit.runner.suite import depends_on, run_order, run_scheduled

    names = ["data_overview", "clv", "payments", "monitoring", "actions", "products", "credit", "summary", "churn"]
    plans = [SimpleNamespace(name=n) for n in names]
    present = set(names)
    assert depends_on(plans[6], present) == {"clv", "payments"}                        # credit
    assert depends_on(plans[7], present) == present - {"summary"}
    # the notebooks more others wait for start first: clv and payments (credit, products, monitoring,
    # actions and the summary wait for them), then churn ...; reading order among equals
    assert [p.name for p in run_order(plans)][:3] == ["clv", "payments", "churn"]
    started, finished = [], []

    def execute(plan):
        started.append((plan.name, set(finished)))
        finished.append(plan.name)
        return {"name": plan.name}

    assert set(run_scheduled(plans, execute, workers=2)) == present
    for name, done in started:
        assert depends_on(next(p for p in plans if p.name == name), present) <= done, name
    assert started[-1][0] == "summary"
