"""``portfolio-kit init``: a commented draft ``portfolio.yaml`` from a folder of exports, on copies of the sample
client (Italian headers, then renamed ones), a public-style receivables file (m/d/yyyy dates), whitespace text,
a header-less file and an Excel workbook; never over an existing file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from portfolio_kit.data import check_portfolio, exports
from portfolio_kit.data.config import load_config
from portfolio_kit.data.draft import SYNONYMS, detect_marks, draft_config, normalise
from portfolio_kit.runner.cli import EXIT_BAD_INPUT, EXIT_OK, main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _copy_sample(folder: Path) -> Path:
    folder.mkdir()
    for name in ("clienti.csv", "movimenti.csv", "fatture.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    shutil.copytree(SAMPLE / "snapshots", folder / "snapshots")
    return folder


def _rename_header(path: Path, header: str) -> None:
    raw = path.read_text(encoding="utf-8-sig")
    path.write_text("\ufeff" + header + raw[raw.index("\n"):], encoding="utf-8")


@pytest.mark.parametrize("name, canonical", [
    ("Codice Cliente", "customer_id"), ("Cod. Cliente", "customer_id"), ("Cliente", "customer_id"),
    ("customerID", "customer_id"), ("Customer ID", "customer_id"), ("CustomerNo", "customer_id"),
    ("Ragione Sociale", "name"), ("Customer Name", "name"), ("Data Documento", "date"), ("Order Date", "date"),
    ("InvoiceDate", "issue_date"), ("Totale", "amount"), ("Sales", "amount"), ("InvoiceAmount", "amount"),
    ("Scadenza", "due_date"), ("DueDate", "due_date"), ("Data Incasso", "paid_date"), ("SettledDate", "paid_date"),
    ("Incassato", "paid_amount"), ("Credit Limit", "credit_limit"), ("Payment Terms", "payment_terms_days"),
    ("N. Documento", "invoice_id"), ("Invoice No", "invoice_id"), ("Gross Profit", "margin"), ("Linea", "product"),
    ("Industry", "sector"), ("Customer Type", "customer_type"), ("Size", "size_class"),
    ("Customer Since", "since"), ("Capitale Sociale", "share_capital"), ("Agente", "account_manager"),
    ("Agent", "account_manager"), ("Sales rep", "account_manager"), ("Account manager", "account_manager"),
    ("Venditore", "account_manager"), ("Commerciale", "account_manager"), ("Responsabile", "account_manager"),
])
def test_synonyms_cover_the_usual_headers(name, canonical):
    names = {normalise(n) for names in SYNONYMS.get(canonical, {}).values() for n in names} | {normalise(canonical)}
    assert normalise(name) in names


def test_marks_are_voted_by_the_number_cells():
    assert detect_marks(["1.234,56", "360,29", "12"]) == {"decimal": ",", "thousands": "."}
    assert detect_marks(["1,234.56", "40.0"]) == {"decimal": ".", "thousands": ","}
    assert detect_marks(["40.0", "8000.0"]) == {"decimal": ".", "thousands": None}
    assert detect_marks(["1.000", "12"], sep=";") == {"decimal": ",", "thousands": "."}  # no vote: the default


def test_init_on_the_sample_reproduces_its_config_and_validates(tmp_path, capsys):
    folder = _copy_sample(tmp_path / "acme")
    assert main(["init", str(folder)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"wrote {folder / 'portfolio.yaml'}" in out and f"portfolio-kit validate {folder / 'portfolio.yaml'}" in out
    assert "checks to do (lines marked CHECK): 0" in out
    assert "columns unmapped (kept as they are): transactions: Rif. Fattura;" in out  # Agente is account_manager
    draft, ref = load_config(folder / "portfolio.yaml"), load_config(SAMPLE / "portfolio.yaml")
    assert draft.client == "acme" and str(draft.as_of) == "2026-10-31" and draft.language == "it"
    assert list(draft.tables) == list(ref.tables)
    for table, t in ref.tables.items():
        mine = draft.tables[table]
        assert mine.path.relative_to(folder) == t.path.relative_to(SAMPLE), table
        assert mine.columns == t.columns, table
        assert mine.snapshot_date_from_filename == t.snapshot_date_from_filename, table
        assert draft.read_options(table) == ref.read_options(table), table
    assert draft.read == ref.read  # the options every table shares, and the snapshots' own
    _, report = check_portfolio(draft, rows=False)
    assert report.errors == []


def test_renamed_headers_map_what_they_can(tmp_path):
    folder = _copy_sample(tmp_path / "renamed")
    _rename_header(folder / "clienti.csv", "CustomerID;Name;Customer Type;Industry;Region;Channel;Size;Credit Limit;"
                                           "Payment Terms;Customer Since;Sales Rep")
    _rename_header(folder / "movimenti.csv", "Cod. Cliente;Data Documento;Totale;Utile;Linea;Canale;Data Ordine")
    _rename_header(folder / "fatture.csv", "Numero Fattura;Cliente;Data;Data Documento;Importo;Data Incasso;"
                                           "Incassato;Note")
    draft = draft_config(folder)
    cfg = yaml.safe_load(draft.text)["tables"]
    assert cfg["customers"]["columns"] == {
        "CustomerID": "customer_id", "Name": "name", "Customer Type": "customer_type", "Industry": "sector",
        "Region": "region", "Channel": "channel", "Size": "size_class", "Credit Limit": "credit_limit",
        "Payment Terms": "payment_terms_days", "Customer Since": "since", "Sales Rep": "account_manager"}
    assert cfg["transactions"]["columns"] == {"Cod. Cliente": "customer_id", "Data Documento": "date",
                                              "Totale": "amount", "Linea": "product", "Canale": "channel"}
    assert cfg["invoices"]["columns"] == {"Numero Fattura": "invoice_id", "Cliente": "customer_id",
                                          "Data Documento": "issue_date", "Importo": "amount",
                                          "Data Incasso": "paid_date", "Incassato": "paid_amount"}
    assert draft.unmapped == {"transactions": ["Utile", "Data Ordine"], "invoices": ["Data", "Note"],
                              "snapshots": ["legal_form", "esg_score", "legal_event"]}
    assert draft.checks == [
        "transactions: 'Data Ordine' is named like date, but its cells are not all dates (e.g. 'F2023-000001'): "
        "kept as it is",
        "invoices: 'Data' could also be issue_date (mapped: 'Data Documento'); kept as it is"]
    assert draft.missing == ["invoices.due_date"]
    assert "# MISSING: due_date (required): add the client's column under columns as `<name>: due_date` " \
           "('Data' holds dates)" in draft.text
    assert load_config(_write(folder, draft.text)).language == "en"


def _write(folder: Path, text: str) -> Path:
    path = folder / "portfolio.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_public_receivables_file_gives_invoices_only_with_month_first_dates(tmp_path, capsys):
    folder = tmp_path / "ar"
    folder.mkdir()
    rows = ["countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,"
            "SettledDate,PaperlessBill,DaysToSettle,DaysLate"]
    for i in range(20):
        issue = pd.Timestamp("2013-01-03") + pd.Timedelta(days=9 * i)
        due, settled = issue + pd.Timedelta(days=30), issue + pd.Timedelta(days=25 + i % 9)
        rows.append(f"391,{i % 7:04d}-XLQIV,{issue:%-m/%-d/%Y},{611365 + i},{issue:%-m/%-d/%Y},{due:%-m/%-d/%Y},"
                    f"{40 + 3.17 * i:.2f},{'Yes' if i % 5 == 0 else 'No'},{settled:%-m/%-d/%Y},Paper,"
                    f"{25 + i % 9},{max(0, i % 9 - 5)}")
    (folder / "accounts_receivable.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["init", str(folder)]) == EXIT_OK
    assert "tables found: invoices (accounts_receivable.csv)" in capsys.readouterr().out
    text = (folder / "portfolio.yaml").read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    assert list(cfg["tables"]) == ["invoices"]
    assert cfg["read"] == {"sep": ",", "decimal": ".", "thousands": None, "encoding": "utf-8",
                           "date_format": "%m/%d/%Y"}
    assert cfg["tables"]["invoices"]["columns"] == {
        "invoiceNumber": "invoice_id", "customerID": "customer_id", "InvoiceDate": "issue_date",
        "DueDate": "due_date", "InvoiceAmount": "amount", "SettledDate": "paid_date"}
    assert cfg["language"] == "en" and str(cfg["as_of"]) == "2013-07-19"  # the last settlement
    assert "MISSING:" not in text and "CHECK:" not in text.replace("CHECK: not detected", "")
    _, report = check_portfolio(load_config(folder / "portfolio.yaml"), rows=False)
    assert report.errors == []


def test_whitespace_text_and_a_header_less_file(tmp_path, capsys):
    folder = tmp_path / "plain text"
    folder.mkdir()
    lines = ["customer_id   date         amount"] + [f"C{i % 4:03d}  2024-0{1 + i % 9}-1{i % 10}  {100 + i}.50"
                                                     for i in range(12)]
    (folder / "sales.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "fatture.csv").write_text("F1;C000;Caffè Srl;31/01/2024;100,00\nF2;C001;Città Spa;01/02/2024;50,00\n",
                                        encoding="cp1252")
    out_path = tmp_path / "configs" / "portfolio.yaml"
    assert main(["init", str(folder), "--out", str(out_path), "--as-of", "2024-12-31"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "not placed: fatture.csv: separator ';', encoding 'cp1252'; no header: the first line is data" in printed
    cfg = load_config(out_path)
    assert cfg.client == "plain-text" and str(cfg.as_of) == "2024-12-31" and list(cfg.tables) == ["transactions"]
    assert cfg.tables["transactions"].path.resolve() == folder / "sales.txt"
    assert cfg.read_options("transactions").sep == r"\s+"
    assert cfg.read_options("transactions").date_format == "%Y-%m-%d"
    _, report = check_portfolio(cfg, rows=False)
    assert report.errors == []


def test_an_excel_workbook_with_two_sheets(tmp_path):
    folder = tmp_path / "xl"
    folder.mkdir()
    customers = pd.DataFrame({"Codice Cliente": ["C1", "C2", "C3"], "Ragione Sociale": ["Alfa", "Beta", "Gamma"],
                              "Fido": [1000.0, 2500.0, 500.0]})
    sales = pd.DataFrame({"Cliente": ["C1", "C2", "C1", "C3"], "Data": pd.to_datetime(
        ["2025-01-15", "2025-02-03", "2025-03-20", "2025-03-31"]), "Importo": [120.5, 80.0, 99.9, 10.0]})
    with pd.ExcelWriter(folder / "export.xlsx") as book:
        customers.to_excel(book, sheet_name="Anagrafica", index=False)
        sales.to_excel(book, sheet_name="Vendite", index=False)
    draft = draft_config(folder)
    cfg = load_config(_write(folder, draft.text))
    assert {t: (c.path.name, c.sheet) for t, c in cfg.tables.items()} == {
        "customers": ("export.xlsx", "Anagrafica"), "transactions": ("export.xlsx", "Vendite")}
    assert cfg.tables["transactions"].columns == {"Cliente": "customer_id", "Data": "date", "Importo": "amount"}
    assert str(cfg.as_of) == "2025-03-31"
    _, report = check_portfolio(cfg, rows=False)
    assert report.errors == []


def test_errors_are_one_sentence_and_nothing_is_overwritten(tmp_path, capsys):
    folder = _copy_sample(tmp_path / "acme")
    existing = folder / "portfolio.yaml"
    existing.write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(folder)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"portfolio-kit init: {existing} already exists") and err.count("\n") == 1
    assert existing.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_bytes(b"%PDF")
    assert main(["init", str(tmp_path / "empty")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "no such folder" in err and "no readable export" in err and "Traceback" not in err
