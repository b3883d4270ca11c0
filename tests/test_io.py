"""Loading and validating client exports: formats, detection, the column map, and every error message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from portfolio_kit.data.config import ConfigError, load_config
from portfolio_kit.data import DataValidationError, check_portfolio, load_portfolio

from .clients import COLUMNS, CUSTOMERS_IT, INVOICES_IT, TRANSACTIONS_IT, make_client

@pytest.fixture
def italian(tmp_path):
    return make_client(tmp_path / "client", {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT,
                                             "fatture.csv": INVOICES_IT})


def errors_of(config_path) -> list[str]:
    _, report = check_portfolio(load_config(config_path))
    return [str(p) for p in report.errors]


def test_italian_csv_is_detected_and_parsed(italian):
    # nothing in the config says ';', decimal comma, thousands '.', UTF-8 BOM or dd/mm/yyyy
    p = load_portfolio(italian)
    tx = p.transactions
    assert tx["amount"].tolist() == [1234.56, -100.0, 99.90]
    assert tx["date"].tolist() == [pd.Timestamp("2026-01-03"), pd.Timestamp("2026-02-15"), pd.Timestamp("2026-02-28")]
    assert tx["is_return"].tolist() == [False, True, False]
    assert p.customers.set_index("customer_id").loc["007", "credit_limit"] == 10000.50  # leading zeros kept
    assert p.customers["Agente"].tolist() == ["Bianchi", "Neri"]  # extra client columns survive
    assert p.invoices["Note"].tolist()[1] == "nota di credito"
    assert p.invoices["paid_date"].isna().tolist() == [False, True, True]
    assert p.customers["name"].tolist() == ["Rossi & Figli S.r.l.", "Società Verdi"]


def test_latin1_export_is_read_with_a_warning(tmp_path):
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT}, encoding="cp1252")
    p = load_portfolio(cfg)
    assert p.customers["name"].tolist()[1] == "Società Verdi"
    assert any("read as cp1252" in str(w) for w in p.report.warnings)


def test_wrong_encoding_named_in_config_is_an_error(tmp_path):
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT},
                      encoding="cp1252", read={"encoding": "utf-8"})
    (msg,) = errors_of(cfg)
    assert msg.startswith("clienti.csv: cannot be read as utf-8 (first bad byte on line 3)")


def test_excel_and_parquet_give_the_same_tables(tmp_path, italian):
    ref = load_portfolio(italian)
    out = tmp_path / "typed"
    out.mkdir()
    ref.transactions.drop(columns="is_return").to_excel(out / "movimenti.xlsx", index=False)
    ref.customers.to_parquet(out / "clienti.parquet")
    config = {"client": "acme", "as_of": "2026-03-31",
              "tables": {"transactions": {"path": "movimenti.xlsx"}, "customers": {"path": "clienti.parquet"}}}
    (out / "portfolio.yaml").write_text(yaml.safe_dump(config))
    got = load_portfolio(out / "portfolio.yaml")
    pd.testing.assert_frame_equal(got.transactions, ref.transactions, check_dtype=False)
    pd.testing.assert_frame_equal(got.customers, ref.customers, check_dtype=False)


def test_paths_are_relative_to_the_config_so_a_folder_can_move(italian, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere"
    italian.parent.rename(moved)
    monkeypatch.chdir(tmp_path)
    assert len(load_portfolio(moved / "portfolio.yaml").transactions) == 3


def test_missing_file(tmp_path):
    cfg = make_client(tmp_path, {"movimenti.csv": TRANSACTIONS_IT})
    (tmp_path / "movimenti.csv").unlink()
    assert errors_of(cfg) == ["movimenti.csv: file not found"]


def test_empty_file(tmp_path):
    cfg = make_client(tmp_path, {"movimenti.csv": ""})
    assert errors_of(cfg) == ["movimenti.csv: file is empty: expected a header line and data rows"]


def test_missing_required_column_names_the_column_and_the_map(tmp_path):
    cfg = make_client(tmp_path, {"movimenti.csv": TRANSACTIONS_IT.replace("Importo", "Totale")})
    (msg,) = errors_of(cfg)
    assert "missing required column(s) 'amount'" in msg
    assert "Totale" in msg and "tables.transactions.columns" in msg


def test_unparseable_date_and_number_name_file_line_column_and_value(tmp_path):
    bad = TRANSACTIONS_IT.replace("15/02/2026", "31/02/2026").replace("99,90", "abc")
    cfg = make_client(tmp_path, {"movimenti.csv": bad})
    msgs = errors_of(cfg)
    assert "movimenti.csv, line 3, column 'Data' -> 'date': expected a date in the format '%d/%m/%Y', " \
           "got '31/02/2026'" in msgs
    assert "movimenti.csv, line 4, column 'Importo' -> 'amount': expected a number with decimal mark ',', " \
           "got 'abc'" in msgs


def test_duplicate_key(tmp_path):
    dup = CUSTOMERS_IT + "007;Altra Rossi;Retail;1;30;X\n"
    cfg = make_client(tmp_path, {"clienti.csv": dup, "movimenti.csv": TRANSACTIONS_IT})
    (msg,) = errors_of(cfg)
    assert msg == "clienti.csv, lines 2, 4, column 'customer_id': duplicate key customer_id: '007'; each must appear once"


def test_unknown_reference_is_an_error_for_invoices_and_a_warning_for_transactions(tmp_path):
    tx = TRANSACTIONS_IT + "C9;01/03/2026;10,00;1,00;Pumps\n"
    inv = INVOICES_IT + "F4;C9;01/03/2026;31/03/2026;10,00;;\n"
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": tx, "fatture.csv": inv})
    _, report = check_portfolio(load_config(cfg))
    assert [str(p) for p in report.errors] == [
        "fatture.csv, line 5, column 'customer_id': customer_id not in the customers table (e.g. 'C9'); "
        "every row must refer to a known customer"]
    assert any(str(w).startswith("movimenti.csv, line 5, column 'customer_id'") for w in report.warnings)


def test_all_problems_are_listed_at_once(tmp_path):
    bad_tx = TRANSACTIONS_IT.replace("15/02/2026", "x").replace("99,90", "y")
    bad_inv = INVOICES_IT.replace("04/03/2026;1.234,56;10/03/2026", "04/03/2026;1.234,56;01/01/2026")
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": bad_tx, "fatture.csv": bad_inv})
    with pytest.raises(DataValidationError) as exc:
        load_portfolio(cfg)
    text = str(exc.value)
    assert text.startswith("3 data errors found:")
    assert "'Data' -> 'date'" in text and "'Importo' -> 'amount'" in text
    assert "fatture.csv, line 2, column 'paid_date': paid before the invoice was issued" in text


def test_invoice_checks_and_documented_handling(tmp_path):
    inv = INVOICES_IT.replace("F3;C2;28/02/2026;30/03/2026", "F3;C2;28/02/2026;")  # no due date: terms fill it
    inv += "F5;C2;01/03/2026;01/02/2026;5,00;;\n"  # due before issue
    inv += "F6;007;01/03/2026;01/04/2026;5,00;02/03/2026;\n"
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT, "fatture.csv": inv},
                      invoices_extra={})
    _, report = check_portfolio(load_config(cfg))
    assert [str(p) for p in report.errors] == ["fatture.csv, line 5, column 'due_date': due date before issue date"]
    assert "fatture.csv, line 4, column 'due_date': no due date: set to issue date + the customer's payment terms" \
        in [str(w) for w in report.warnings]


def test_paid_amount_above_amount_is_an_error(tmp_path):
    inv = INVOICES_IT.replace("Data Pagamento;Note", "Data Pagamento;Pagato;Note").replace(
        "10/03/2026;", "10/03/2026;2000;").replace(";;nota", ";;;nota").replace("99,90;;", "99,90;;;")
    cfg = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT, "fatture.csv": inv},
                      invoices_extra={"columns": COLUMNS["invoices"] | {"Pagato": "paid_amount"}})
    assert errors_of(cfg) == ["fatture.csv, line 2, column 'paid_amount': paid amount above the invoice amount"]


def test_as_of_sets_later_rows_aside_and_reopens_later_payments(italian):
    p = load_portfolio(italian, as_of="2026-03-05")
    assert len(p.transactions) == 3
    assert p.invoices.set_index("invoice_id").loc["F1", "paid_date"] is pd.NaT  # paid on 10/03, after as-of
    p = load_portfolio(italian, as_of="2026-02-01")
    assert p.transactions["date"].max() == pd.Timestamp("2026-01-03")
    assert p.invoices["invoice_id"].tolist() == ["F1"]
    assert any("after the as-of date 2026-02-01" in str(w) for w in p.report.warnings)


def test_pseudonyms_are_stable_and_hide_names(italian):
    a = load_portfolio(italian, pseudonymise_names=True).customers["name"]
    b = load_portfolio(italian, pseudonymise_names=True).customers["name"]
    assert a.tolist() == b.tolist()
    assert a.str.fullmatch(r"Customer [0-9A-F]{8}").all() and a.nunique() == 2


def test_account_manager_is_canonical_and_one_manager_is_one_pseudonym(tmp_path):
    customers = CUSTOMERS_IT + "C3;Gialli S.p.A.;Retail;1.000;30;Bianchi\nC4;Blu S.r.l.;Retail;500;30;\n"
    cfg = make_client(tmp_path, {"clienti.csv": customers, "movimenti.csv": TRANSACTIONS_IT},
                      customers_extra={"columns": COLUMNS["customers"] | {"Agente": "account_manager"}})
    real = load_portfolio(cfg).customers
    assert "Agente" not in real and real["account_manager"].tolist()[:3] == ["Bianchi", "Neri", "Bianchi"]
    assert real["account_manager"].isna().tolist() == [False, False, False, True]
    hidden = load_portfolio(cfg, pseudonymise_names=True).customers
    managers = hidden["account_manager"]
    assert managers[:3].str.fullmatch(r"Manager [0-9A-F]{8}").all() and managers.isna().tolist()[3]
    assert managers[0] == managers[2] != managers[1]  # a manager's book stays together
    assert managers.tolist() == load_portfolio(cfg, pseudonymise_names=True).customers["account_manager"].tolist()
    cells = [str(c) for c in hidden.to_numpy().ravel()]
    assert not [c for c in cells if "Bianchi" in c or "Neri" in c]
    kept = load_portfolio(make_client(tmp_path / "no_manager", {"clienti.csv": CUSTOMERS_IT,
                                                               "movimenti.csv": TRANSACTIONS_IT})).customers
    assert kept["account_manager"].isna().all() and kept["Agente"].tolist() == ["Bianchi", "Neri"]


def test_config_errors_are_readable(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("client: acme\nas_of: 2026-13-01\ntables: {orders: {path: x.csv}}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    assert "as_of" in str(exc.value) and "unknown table(s) ['orders']" in str(exc.value)


def test_snapshots_take_their_date_from_the_file_name(tmp_path):
    snap = "customer_id,rating,failure_score,credit_limit\n007,A,12,1000.5\nC2,BB,40,300\n"
    make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT})
    (tmp_path / "snap").mkdir()
    for day in ("2026-01-31", "2026-02-28"):
        (tmp_path / "snap" / f"rating_{day}.csv").write_text(snap)
    cfg = yaml.safe_load((tmp_path / "portfolio.yaml").read_text())
    cfg["tables"]["snapshots"] = {"path": "snap/rating_*.csv", "sep": ",", "decimal": ".",
                                  "snapshot_date_from_filename": r"rating_(\d{4}-\d{2}-\d{2})"}
    (tmp_path / "portfolio.yaml").write_text(yaml.safe_dump(cfg))
    s = load_portfolio(tmp_path / "portfolio.yaml").snapshots
    assert s.groupby("snapshot_date").size().to_dict() == {pd.Timestamp("2026-01-31"): 2, pd.Timestamp("2026-02-28"): 2}
    assert s["credit_limit"].tolist()[:2] == [1000.5, 300.0] and np.isnan(s["delinquency_score"]).all()


def test_dates_parse_once_per_distinct_text_with_blanks_and_excel_cells():
    from portfolio_kit.data.config import ReadOptions
    from portfolio_kit.data.exports import _parse_dates

    cells = pd.Series(["03/01/2026", " 03/01/2026", "", None, pd.Timestamp("2026-02-01"), "31/02/2026",
                       "15/02/2026"] * 3, dtype=object)
    parsed, fmt = _parse_dates(cells, ReadOptions())
    expected = pd.to_datetime(["2026-01-03", "2026-01-03", None, None, "2026-02-01", None, "2026-02-15"] * 3)
    assert fmt == "%d/%m/%Y"
    pd.testing.assert_series_equal(parsed, pd.Series(expected, dtype="datetime64[ns]"), check_names=False)


def test_a_mapped_optional_column_missing_from_the_file_is_an_error(tmp_path):
    """The map names 'Margine' but the export has no such column: an error naming it, not NaN margins later."""
    cfg = make_client(tmp_path, {"movimenti.csv": TRANSACTIONS_IT.replace("Margine", "Margin%")})
    (msg,) = errors_of(cfg)
    assert "not in the file: 'Margine' (-> margin)" in msg and "tables.transactions.columns" in msg


def test_whitespace_separated_text_is_detected(tmp_path):
    """A text export aligned with runs of blanks (no ';', ',', tab or '|') reads as columns, not as one."""
    text = "Codice   Data         Importo\n007      03/01/2026   1234.56\nC2       28/02/2026   99.90\n"
    cfg = make_client(tmp_path, {"movimenti.csv": text}, read={"decimal": "."},
                      transactions_extra={"columns": {"Codice": "customer_id", "Data": "date", "Importo": "amount"}})
    portfolio, report = check_portfolio(load_config(cfg))
    assert report.ok, report.errors
    assert portfolio.transactions["amount"].tolist() == [1234.56, 99.90]


def test_one_column_and_headerless_files_say_which_option_to_set(tmp_path):
    fixed_width = "Codice Cliente  Data        Importo\n007             03/01/2026  1.234,56\nC2              28/02/2026  99,90\n"
    cfg = make_client(tmp_path / "one", {"movimenti.csv": fixed_width})
    (msg,) = errors_of(cfg)
    assert "reads as one column: set 'sep'" in msg and "fixed-width" in msg
    cfg = make_client(tmp_path / "headerless", {"movimenti.csv": "007;03/01/2026;1.234,56\nC2;28/02/2026;99,90\n"})
    (msg,) = errors_of(cfg)
    assert "first line looks like data" in msg and "no header line" in msg


def test_a_kernel_reads_the_portfolio_the_runner_handed_over_while_its_files_are_unchanged(italian, tmp_path,
                                                                                           monkeypatch):
    """The runner checks the exports once and hands the portfolio to its kernels; a changed file, another as-of
    or pseudonymisation is read and checked again."""
    from portfolio_kit.data import portfolio as module

    cfg = load_config(italian)
    checked, _ = module.checked_portfolio(cfg)
    handed = module.hand_over(checked.__class__(**{**checked.__dict__, "customers": checked.customers.assign(
        name="from the runner")}), module.portfolio_key(cfg, False), tmp_path / "portfolio.pickle")
    monkeypatch.setenv(module.HANDED_OVER, str(handed))
    assert (load_portfolio(italian).customers["name"] == "from the runner").all()
    assert (load_portfolio(load_config(italian).model_copy(update={"language": "it"})).customers["name"]
            == "from the runner").all()  # the report language changes no data
    assert (load_portfolio(italian, pseudonymise_names=True).customers["name"] != "from the runner").all()
    assert (load_portfolio(italian, as_of="2026-02-20").customers["name"] != "from the runner").all()
    movimenti = Path(italian).parent / "movimenti.csv"
    movimenti.write_text(movimenti.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same rows, new file
    assert (load_portfolio(italian).customers["name"] != "from the runner").all()
