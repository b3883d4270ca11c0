"""End to end: two notebooks of the sample client run in Italian through the runner (as ``portfolio-kit run
CONFIG --language it`` does) and their pages speak Italian: headings, amounts as ``EUR 1.234,56``, alerts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portfolio_kit.runner import cli
from portfolio_kit.data.config import load_config
from portfolio_kit.runner.suite import ParameterError, run_suite
from .conftest import SAMPLE_CONFIG as SAMPLE

#: An amount in the Italian way: currency, dots between thousands, a decimal comma (EUR 1.234,56).
ITALIAN_AMOUNT = re.compile(r"EUR -?\d{1,3}(?:\.\d{3})+,\d{2}\b")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = load_config(SAMPLE)
    assert cfg.language == "en"  # the sample's own language: the override must win
    return run_suite(cfg, reports=tmp_path_factory.mktemp("reports"), only=["abc_pareto", "monitoring"],
                     language="it").run_dir


def test_the_manifest_records_the_language(run):
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "success" and manifest["language"] == "it"
    assert {nb["parameters"]["language"] for nb in manifest["notebooks"]} == {"it"}


def test_headings_and_index_are_italian(run):
    manifest = json.loads((run / "manifest.json").read_text())
    assert [nb["title"] for nb in manifest["notebooks"]] == [
        "ABC, Pareto e concentrazione", "Monitoraggio: cosa è cambiato e cosa richiede un intervento"]
    assert ">ABC, Pareto e concentrazione</a>" in (run / "index.html").read_text()
    page = (run / "02_abc_pareto.html").read_text()
    for heading in ("Classi ABC", "Concentrazione di fatturato e margine", "Concentrazione nel tempo"):
        assert heading in page
    assert "Indice di Gini" in page and "Quota del primo 10% dei clienti" in page
    assert "How concentrated revenue" not in page  # no English narrative left


def test_amounts_are_written_the_italian_way(run):
    page = (run / "02_abc_pareto.html").read_text()
    assert ITALIAN_AMOUNT.search(page), "no EUR amount with a decimal comma"
    assert not re.search(r"EUR \d{1,3}(?:,\d{3})+\.\d{2}\b", page), "an amount written the English way"
    assert re.search(r"\b\d{1,2},\d%", page)  # shares such as 78,9%


def test_alert_messages_are_italian(run):
    page = (run / "06_monitoring.html").read_text()
    assert "rating declassato da" in page and "fido ridotto del" in page
    assert "rating downgraded" not in page
    assert "Migrazione dei rating" in page and "Elaborazione contro" in page
    # the saved tables stay data: canonical column names, raw numbers
    header = (run / "tables" / "alerts.csv").read_text().splitlines()[0]
    assert header.startswith("customer_id,rule,severity,field,before,after,value,threshold,value_at_stake,message")


def test_the_cli_passes_the_language(monkeypatch, tmp_path):
    seen = {}

    def fake_run_suite(cfg, **kwargs):
        seen.update(kwargs)
        raise ParameterError("stop here")

    monkeypatch.setattr(cli, "run_suite", fake_run_suite)
    cli.main(["run", str(SAMPLE), "--language", "it", "--reports", str(tmp_path)])
    assert seen["language"] == "it"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", str(SAMPLE), "--language", "fr"])


def test_an_unknown_language_is_refused_before_running(tmp_path):
    with pytest.raises(ParameterError, match="language"):
        run_suite(load_config(SAMPLE), reports=tmp_path, only=["abc_pareto"], language="fr")
