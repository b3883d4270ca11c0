"""Hostile exports: nothing is misread silently. Each case is a clear error (file, line, column, an example) or is
read without loss: number styles, absurd amounts, foreign currencies, quotes not closed, YAML alias bombs, damaged
files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from portfolio_kit.data import check_portfolio, load_portfolio, staging
from portfolio_kit.data.config import ConfigError, ReadOptions, load_config
from portfolio_kit.data.exports import AMOUNT_BOUND, parse_numbers

from .clients import COLUMNS, CUSTOMERS_IT, INVOICES_IT, TRANSACTIONS_IT, make_client

DECIMAL_COMMA = {"decimal": ",", "thousands": "."}


def errors_of(config, currency: str | None = None) -> list[str]:
    cfg = load_config(config)
    if currency:
        cfg.currency = currency
    return [str(p) for p in check_portfolio(cfg)[1].errors]


def test_valid_numbers_of_each_style_are_read():
    comma = pd.Series(["1.234,56", "360,29", "-100,00", "1.000", " 2 500,5 "], dtype=object)
    values, why = parse_numbers(comma, ReadOptions(**DECIMAL_COMMA))
    assert values.tolist() == [1234.56, 360.29, -100.0, 1000.0, 2500.5] and why.isna().all()
    values, why = parse_numbers(pd.Series(["1,234.56", "40.0", "1.000"]), ReadOptions(decimal="."))
    assert values.tolist() == [1234.56, 40.0, 1.0] and why.isna().all()
    typed = pd.Series([392.61, "1.234,56"], dtype=object)  # an Excel number among text cells: taken as it is
    assert parse_numbers(typed, ReadOptions(**DECIMAL_COMMA))[0].tolist() == [392.61, 1234.56]


def test_a_number_in_another_style_than_its_columns_is_an_error(tmp_path):
    tx = TRANSACTIONS_IT + "C2;01/03/2026;392.61;1.000;Pumps\nC2;02/03/2026;1,234.56;0;Pumps\n" \
                           "C2;03/03/2026;1.23.456;0;Pumps\n"
    assert errors_of(make_client(tmp_path / "comma", {"movimenti.csv": tx}, read=DECIMAL_COMMA)) == [
        "movimenti.csv, lines 5, 6, 7, column 'Importo' -> 'amount': expected a number with decimal mark ',' and "
        "thousands mark '.' between groups of three digits (as in 1.234,56); set 'decimal' and 'thousands' in the "
        "config if the export writes numbers otherwise, got '392.61', '1,234.56', '1.23.456'"]
    point = "Codice Cliente;Data;Importo\n007;03/01/2026;1,234.56\nC2;28/02/2026;40.0\nC2;01/03/2026;1.234,56\n" \
            "C2;02/03/2026;1,35.89\n"
    (msg,) = errors_of(make_client(tmp_path / "point", {"movimenti.csv": point}, read={"decimal": "."},
                                   transactions_extra={"columns": {"Codice Cliente": "customer_id", "Data": "date",
                                                                   "Importo": "amount"}}))
    assert msg.startswith("movimenti.csv, lines 4, 5, column 'Importo' -> 'amount': expected a number with decimal "
                          "mark '.' and thousands mark ',' between groups of three digits (as in 1,234.56)")


def test_an_undeclared_style_is_decided_per_column(tmp_path):
    """A ';' file whose amounts have a decimal point (its margins a comma): each column read in its own style."""
    tx = TRANSACTIONS_IT.replace("1.234,56", "1234.56").replace("-100,00", "-100.00").replace("99,90", "99.9")
    p = load_portfolio(make_client(tmp_path, {"movimenti.csv": tx}))
    assert p.transactions["amount"].tolist() == [1234.56, -100.0, 99.9]
    assert p.transactions["margin"].tolist() == [300.10, -20.0, 10.0]
    mixed = TRANSACTIONS_IT + "C2;01/03/2026;392.61;0;x\n"
    (msg,) = errors_of(make_client(tmp_path / "mixed", {"movimenti.csv": mixed}))
    assert msg.endswith("(as in 1.234,56), the style of most of the column's cells, got '392.61'")


def test_non_finite_and_absurd_numbers_are_errors(tmp_path):
    tx = TRANSACTIONS_IT + "".join(f"C2;01/03/2026;{v};0;Pumps\n" for v in ("inf", "-inf", "nan", "1e300"))
    assert errors_of(make_client(tmp_path, {"movimenti.csv": tx})) == [
        "movimenti.csv, lines 5, 6, 7, column 'Importo' -> 'amount': expected a finite number, got 'inf', '-inf', "
        "'nan'",
        "movimenti.csv, line 8, column 'Importo' -> 'amount': a number beyond the kit's bound of 1,000,000,000,000 "
        "in absolute value: an export error, not a value, got '1e300'"]
    values, why = parse_numbers(pd.Series([1.5, np.inf, 2 * AMOUNT_BOUND, np.nan]), ReadOptions())  # typed cells
    assert values.tolist()[0] == 1.5 and values[1:].isna().all()
    assert why.isna().tolist() == [True, False, False, True]
    assert why[1] == "expected a finite number" and "beyond the kit's bound" in why[2]


def test_amounts_in_another_currency_are_errors_the_configs_own_is_dropped(tmp_path):
    tx = TRANSACTIONS_IT.replace("1.234,56", "€ 1.234,56").replace("99,90", "99,90 EUR")
    assert load_portfolio(make_client(tmp_path / "eur", {"movimenti.csv": tx})).transactions["amount"].tolist() \
        == [1234.56, -100.0, 99.9]
    tx = TRANSACTIONS_IT + "C2;01/03/2026;USD 345,23;0;Pumps\nC2;02/03/2026;$ 12;0;Pumps\n"
    assert errors_of(make_client(tmp_path / "usd", {"movimenti.csv": tx})) == [
        f"movimenti.csv, line {line}, column 'Importo' -> 'amount': expected an amount in the config's currency EUR, "
        f"found '{found}': convert the amounts or correct 'currency' in the config, got '{cell}'"
        for line, found, cell in ((5, "USD", "USD 345,23"), (6, "$", "$ 12"))]
    assert errors_of(make_client(tmp_path / "usd", {"movimenti.csv": tx}), currency="USD") == []


CUSTOMERS_STRAY_QUOTE = """\
Codice Cliente;Ragione Sociale;Settore;Fido;Giorni Pagamento;Agente
007;Rossi;Manufacturing;10.000,50;60;Bianchi
C2;Verdi;Retail;2.500;30;"Neri
C3;Gialli;Retail;1.000;30;Neri
C4;Blu;Retail;1.000;30;"Bianchi"
C5;Viola;Retail;abc;30;Neri
"""


def test_a_quote_not_closed_is_an_error_and_lines_are_physical(tmp_path):
    """A stray '"' runs lines 3-5 into one row: an error on line 3, and the later line keeps its own number."""
    inv = INVOICES_IT.replace(";;nota di credito", ';;"nota di\ncredito"') + "\nF4;007;32/02/2026;31/03/2026;5,00;;\n"
    errors = errors_of(make_client(tmp_path, {"clienti.csv": CUSTOMERS_STRAY_QUOTE, "fatture.csv": inv}))
    assert errors[0] == ("clienti.csv, line 3: a quote is not closed: a cell starting with '\"' runs on to the next "
                         "'\"' over line breaks and separators, so lines 3-5 read as one row; close or remove the "
                         "quote")
    assert errors[1].startswith("clienti.csv, line 6, column 'Fido' -> 'credit_limit': expected a number")
    assert "fatture.csv, line 7, column 'Data Emissione' -> 'issue_date': expected a date in the format '%d/%m/%Y', " \
           "got '32/02/2026'" in errors  # a quoted note over two lines and a blank line before it
    open_to_the_end = TRANSACTIONS_IT + 'C2;01/03/2026;5,00;0;"Pumps\n'
    assert errors_of(make_client(tmp_path / "eof", {"movimenti.csv": open_to_the_end})) == [
        "movimenti.csv, line 5: a quote is not closed: a cell starting with '\"' runs on to the end of the file; "
        "close or remove the quote"]


def test_chunked_reading_gives_the_same_problems_and_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "CHUNK_ROWS", 2)
    tx = TRANSACTIONS_IT.replace("Valves\n007", 'Valves\n\n007').replace(";Pumps", ';"Pumps\nspare"') \
        + "C2;01/03/2026;392.61;0;Pumps\nC2;02/03/2026;USD 5;0;Pumps\n"
    inv = INVOICES_IT + \
        'F4;C2;01/03/2026;"31/03/2026;5,00;;\nF5;C2;01/03/2026;31/03/2026;5,00;;\nF6;C2;x"x;31/03/2026;5,00;;\n'
    config = make_client(tmp_path, {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": tx, "fatture.csv": inv},
                         read=DECIMAL_COMMA)
    memory = load_config(config)
    staged = memory.model_copy(deep=True)
    staged.engine = staged.engine.model_copy(update={"name": "duckdb", "staging": tmp_path / "staged"})
    in_memory, in_chunks = (sorted(str(p) for p in check_portfolio(c)[1].problems) for c in (memory, staged))
    assert in_chunks == in_memory
    assert any(m.startswith("movimenti.csv, line 7, column 'Importo'") for m in in_memory)  # past 2 line breaks
    assert any(m.startswith("movimenti.csv, line 8, column 'Importo'") and "'USD 5'" in m for m in in_memory)
    assert any(m.startswith("fatture.csv, line 5: a quote is not closed") and "lines 5-7" in m for m in in_memory)


def test_a_yaml_alias_bomb_is_refused(tmp_path):
    bomb = tmp_path / "portfolio.yaml"
    levels = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
        f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb.write_text("client: acme\nas_of: 2026-03-31\ntables: {transactions: {path: x.csv}}\nparameters:\n"
                    + "\n".join(levels) + "\n")
    with pytest.raises(ConfigError, match=r"portfolio.yaml: more than 10 YAML aliases \(\*name\), line 7"):
        load_config(bomb)
    bomb.write_text("client: acme\nas_of: 2026-03-31\nread: &read {sep: ';'}\n"
                    "tables: {transactions: {path: x.csv, <<: *read}, customers: {path: y.csv, <<: *read}}\n")
    assert load_config(bomb).tables["customers"].sep == ";"  # a few aliases are fine


def test_damaged_files_are_errors_of_their_own_and_the_others_are_still_checked(tmp_path):
    client = make_client(tmp_path, {"fatture.csv": INVOICES_IT + "F4;C2;01/03/2026;31/03/2026;5,00;;;extra\n"})
    pd.DataFrame({"Codice Cliente": ["007", "C2"]}).to_excel(tmp_path / "clienti.xlsx", index=False)
    data = (tmp_path / "clienti.xlsx").read_bytes()
    (tmp_path / "clienti.xlsx").write_bytes(data[: len(data) // 2])
    (tmp_path / "movimenti.parquet").write_bytes(b"PAR1 not really")
    config = yaml.safe_load(client.read_text(encoding="utf-8"))
    config["tables"] |= {"customers": {"path": "clienti.xlsx"}, "transactions": {"path": "movimenti.parquet"}}
    client.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    errors = sorted(errors_of(client))
    assert errors[0] == "clienti.xlsx: cannot be read as Excel: File is not a zip file"
    assert errors[1] == ("fatture.csv, line 5: more fields than the 7 of the header line: a separator in a cell that "
                         "is not quoted, or at the end of the line? Quote the cell or remove the separator")
    assert errors[2].startswith("movimenti.parquet: cannot be read as Parquet: ") and len(errors) == 3
    staged = load_config(client)
    staged.engine = staged.engine.model_copy(update={"name": "duckdb", "staging": tmp_path / "staged"})
    assert sorted(str(p) for p in check_portfolio(staged)[1].errors) == errors  # the chunked path too


def test_utf16_text_is_read_and_utf16_without_bom_is_an_error(tmp_path):
    files = {"clienti.csv": CUSTOMERS_IT, "movimenti.csv": TRANSACTIONS_IT}
    expected = load_portfolio(make_client(tmp_path / "utf8", files)).transactions
    got = load_portfolio(make_client(tmp_path / "utf16", files, encoding="utf-16")).transactions
    pd.testing.assert_frame_equal(got, expected)
    (msg, *_) = errors_of(make_client(tmp_path / "le", files, encoding="utf-16-le"))
    assert msg.startswith("clienti.csv, line 1: holds NUL characters") and "utf-16-le" in msg


def test_a_file_column_named_as_a_mapped_canonical_one_is_an_error(tmp_path):
    tx = TRANSACTIONS_IT.replace("Prodotto", "amount")
    assert errors_of(make_client(tmp_path, {"movimenti.csv": tx})) == [
        "movimenti.csv, column 'amount': two columns would be named 'amount': 'Importo' and 'amount' (the file has a "
        "column of that name and the config maps another to it); map the file's own column to another name under "
        "tables.transactions.columns, e.g. 'amount: amount_file'"]
    fixed = make_client(tmp_path / "fixed", {"movimenti.csv": tx}, transactions_extra={"columns": {
        "Codice Cliente": "customer_id", "Data": "date", "Importo": "amount", "amount": "amount_file"}})
    assert load_portfolio(fixed).transactions["amount_file"].tolist() == ["Valves", "Valves", "Pumps"]


def test_as_of_must_be_a_date_and_not_before_all_the_data(tmp_path):
    """``--as-of 0`` was read as 1970-01-01 and set every row aside with 0 errors."""
    cfg = make_client(tmp_path, {"movimenti.csv": TRANSACTIONS_IT})
    with pytest.raises(ConfigError, match="expected a date YYYY-MM-DD, got '0'"):
        load_config(cfg, as_of="0")
    _, report = check_portfolio(load_config(cfg, as_of="2020-01-31"))
    assert any("every row is dated after the as-of date 2020-01-31" in str(p) for p in report.errors)


def test_a_payment_of_the_opposite_sign_is_an_error(tmp_path):
    invoices = INVOICES_IT.replace("F1;007;03/01/2026;04/03/2026;1.234,56;10/03/2026;",
                                   "F1;007;03/01/2026;04/03/2026;1.234,56;10/03/2026;-1.234,56")
    cfg = make_client(tmp_path, {"fatture.csv": invoices},
                      invoices_extra={"columns": COLUMNS["invoices"] | {"Note": "paid_amount"}})
    _, report = check_portfolio(load_config(cfg))
    assert any("opposite sign" in str(p) and "line 2" in str(p) for p in report.errors), report.errors
