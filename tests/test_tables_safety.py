"""What a run writes is safe to open in a spreadsheet (OWASP, "CSV Injection") and keeps identifiers as text."""

import openpyxl
import pandas as pd

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
    assert [r[1] for r in rows[1:]] == ["'" + v.replace("\r", "\n") for v in HOSTILE]  # XML reads \r as \n
    assert [r[2] for r in rows[1:]] == list(range(-3, 4))
    assert [r[0] for r in book["codes"].values] == ["code", "007", "010"]
    assert [r[0] for r in book["raw"].values] == ["note", "'=1+1", "ok"]
