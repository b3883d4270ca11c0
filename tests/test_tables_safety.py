"""What a run writes is safe to open in a spreadsheet (OWASP, "CSV Injection") and keeps identifiers as text."""

import openpyxl
import pandas as pd
import pytest

from portfolio_kit.report.tables import save_table, write_workbook

HOSTILE = ['=HYPERLINK("http://x","y")', "=1+1", "+1+2", "-2+3", "@SUM(1)", "\t=1", "\r=1"]


def _saved(tmp_path, table, name="t"):
    save_table(table, name, tmp_path)
    return tmp_path / "tables" / f"{name}.csv"


def test_hostile_text_is_quoted_and_numbers_are_not(tmp_path):
    table = pd.DataFrame({"note": HOSTILE, "amount": [-2.5, -1, 0, 1, 2, 3, 4], "plain": list("abcdefg")})
    back = pd.read_csv(_saved(tmp_path, table), keep_default_na=False)
    assert back["note"].tolist() == ["'" + v for v in HOSTILE]
    assert back["amount"].tolist() == [-2.5, -1, 0, 1, 2, 3, 4]
    assert back["plain"].tolist() == list("abcdefg")
    assert table["note"].tolist() == HOSTILE  # the notebook's table is not changed


def test_mixed_and_categorical_text_and_names(tmp_path):
    table = pd.DataFrame({"mixed": [-3, "-3", None], "cat": pd.Categorical(["=a", "b", "=a"]),
                          "=name": [1, 2, 3]})
    back = pd.read_csv(_saved(tmp_path, table), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["mixed", "cat", "'=name"]
    assert back["mixed"].tolist() == ["-3", "'-3", ""]
    assert back["cat"].tolist() == ["'=a", "b", "'=a"]


def test_carriage_return_inside_a_cell_cannot_start_a_row(tmp_path):
    path = _saved(tmp_path, pd.DataFrame({"note": ["x\r=1+1", "y"], "n": [1, 2]}))
    assert path.read_bytes() == b'note,n\r\n"x\r=1+1",1\r\ny,2\r\n'
    assert pd.read_csv(path)["note"].tolist() == ["x\r=1+1", "y"]


def test_clean_table_is_written_as_pandas_writes_it(tmp_path):
    table = pd.DataFrame({"customer_id": ["000001", "C2"], "day": pd.to_datetime(["2026-01-31", "2026-02-28"]),
                          "value": [-1.5, 2.0], "count": [-3, 4], "label": ["a-b", None]})
    path = _saved(tmp_path, table)
    assert path.read_bytes() == table.to_csv(index=False, date_format="%Y-%m-%d").encode()


def test_workbook_has_no_formula_and_keeps_ids_as_text(tmp_path):
    save_table(pd.DataFrame({"customer_id": ["000001"] * 7, "note": HOSTILE, "amount": range(-3, 4)}),
               "customers_x", tmp_path)
    save_table(pd.DataFrame({"code": ["007", "010"], "n": [1, 2]}), "codes", tmp_path)
    pd.DataFrame({"note": ["=1+1", "ok"]}).to_csv(tmp_path / "tables" / "raw.csv", index=False)  # not via save_table
    book = openpyxl.load_workbook(write_workbook(tmp_path / "tables", tmp_path / "book.xlsx"))
    assert book.sheetnames == ["contents", "codes", "customers_x", "raw"]
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    rows = list(book["customers_x"].values)
    assert rows[0] == ("customer_id", "note", "amount")
    assert [r[0] for r in rows[1:]] == ["000001"] * 7
    # a carriage return is stored as its OOXML escape (_x000D_), which Excel shows as the character
    assert [r[1] for r in rows[1:]] == ["'" + v.replace("\r", "_x000D_") for v in HOSTILE]
    assert [r[2] for r in rows[1:]] == list(range(-3, 4))
    assert [r[0] for r in book["codes"].values] == ["code", "007", "010"]
    assert [r[0] for r in book["raw"].values] == ["note", "'=1+1", "ok"]


HOSTILE_OWNER = "=cmd|' /C calc'!A0"
HOSTILE_SHEET = "=cmd|' C calc'!A0"  # no '/' in a sheet name; a sheet name is never run
LONG_OWNER = "Anna Maria Bianchi-Rossi [Key Accounts] Nord/Ovest"  # forbidden characters, over 31


def _actions_run(tmp_path, save):
    actions = pd.DataFrame({
        "customer_id": ["007", "C2", "C3", "C4", "C5", "C6"],
        "action": ["call", "visit", "call", "review", "call", "visit"],
        "reason": ["=1+1", "late", "drop", "new", "late", "drop"],
        "owner": ["Bianchi", HOSTILE_OWNER, LONG_OWNER, None, "Bianchi", LONG_OWNER.replace("Nord", "Sud")]})
    tables = tmp_path / "tables"
    tables.mkdir()
    if save:
        save_table(actions, "customers_actions", tmp_path)
    else:  # a table not written by save_table: the workbook quotes it itself
        actions.to_csv(tables / "customers_actions.csv", index=False)
    pd.DataFrame({"owner": ["Bianchi"], "n": [1]}).to_csv(tables / "abc_summary.csv", index=False)
    return tables


@pytest.mark.parametrize("save", [True, False], ids=["save_table", "raw"])
def test_workbook_has_a_sheet_per_owner_of_the_actions(tmp_path, save):
    book = openpyxl.load_workbook(write_workbook(_actions_run(tmp_path, save), tmp_path / "book.xlsx"))
    owners = [HOSTILE_SHEET, "Anna Maria Bianchi-Rossi Key Ac", "Anna Maria Bianchi-Rossi Key~2", "Bianchi",
              "(no owner)"]
    assert book.sheetnames == ["contents", "abc_summary", "customers_actions", *owners]
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert not [c.coordinate for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    header = ("customer_id", "action", "reason", "owner")
    quoted = "'" + HOSTILE_OWNER
    assert list(book[HOSTILE_SHEET].values) == [header, ("C2", "visit", "late", quoted)]
    assert list(book["Bianchi"].values) == [header, ("007", "call", "'=1+1", "Bianchi"),
                                            ("C5", "call", "late", "Bianchi")]
    assert list(book["Anna Maria Bianchi-Rossi Key Ac"].values) == [header, ("C3", "call", "drop", LONG_OWNER)]
    assert [r[0] for r in book["Anna Maria Bianchi-Rossi Key~2"].values] == ["customer_id", "C6"]
    assert list(book["(no owner)"].values) == [header, ("C4", "review", "new", None)]
    assert len(list(book["customers_actions"].values)) == 7
    assert list(book["contents"].values) == [
        ("table", "rows", "where"),
        ("abc_summary", 1, "tables/abc_summary.csv"),
        ("customers_actions", 6, "tables/customers_actions.csv"),
        (f"customers_actions: {quoted if save else HOSTILE_OWNER}", 1, f"sheet {HOSTILE_SHEET}"),
        (f"customers_actions: {LONG_OWNER}", 1, "sheet Anna Maria Bianchi-Rossi Key Ac"),
        (f"customers_actions: {LONG_OWNER.replace('Nord', 'Sud')}", 1, "sheet Anna Maria Bianchi-Rossi Key~2"),
        ("customers_actions: Bianchi", 2, "sheet Bianchi"),
        ("customers_actions: (no owner)", 1, "sheet (no owner)")]


def test_an_owner_too_long_for_a_sheet_stays_in_the_csv(tmp_path):
    book = openpyxl.load_workbook(write_workbook(_actions_run(tmp_path, True), tmp_path / "book.xlsx", max_rows=1))
    assert book.sheetnames == ["contents", "abc_summary", HOSTILE_SHEET, "Anna Maria Bianchi-Rossi Key Ac",
                               "Anna Maria Bianchi-Rossi Key~2", "(no owner)"]
    where = {r[0]: r[2] for r in book["contents"].values}
    assert where["customers_actions"] == where["customers_actions: Bianchi"] == \
        "tables/customers_actions.csv only (too long for a sheet)"


def test_owner_sheets_are_in_the_report_language(tmp_path):
    from portfolio_kit.report.tables import write_workbook
    from portfolio_kit.report.texts import texts

    pd.DataFrame({"customer_id": ["1", "2"], "action": ["grow", "collect"], "priority": ["medium", "high"],
                  "secondary_actions": ["", "retain, grow"], "owner": ["Ann", "Ann"]}).to_csv(
        tmp_path / "customers_actions.csv", index=False)
    book = pd.read_excel(write_workbook(tmp_path, tmp_path / "b.xlsx", texts=texts("it")), sheet_name=None)
    ann = book["Ann"]
    assert list(ann.columns) == ["Cliente", "Azione", "Priorità", "Altre azioni", "Responsabile"]
    assert ann["Azione"].tolist() == ["sviluppare", "sollecitare l'incasso"]
    assert ann["Altre azioni"].fillna("").tolist() == ["", "trattenere, sviluppare"]
    assert list(book["customers_actions"].columns)[:2] == ["customer_id", "action"]  # the table itself as saved


def test_workbook_writes_missing_as_empty_and_infinity_as_text(tmp_path):
    save_table(pd.DataFrame({"ratio": [1.5, float("inf"), float("-inf"), None], "n": [1, 2, 3, 4]}), "ratios",
               tmp_path)
    book = openpyxl.load_workbook(write_workbook(tmp_path / "tables", tmp_path / "book.xlsx"))
    assert list(book["ratios"].values) == [("ratio", "n"), (1.5, 1), ("inf", 2), ("-inf", 3), (None, 4)]
