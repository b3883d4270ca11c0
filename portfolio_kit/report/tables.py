"""Tables a notebook hands to its run: CSV per table, key figures per notebook, one Excel workbook per run.

Notebooks call :func:`save_table` and :func:`save_key_figures` with the run's ``output_dir`` parameter; with
an empty ``output_dir`` (an analyst's interactive session) nothing is written and the table is only shown.

What a run writes goes to the client, so it is safe to open in a spreadsheet (OWASP, "CSV Injection"): a text cell
(a ``str`` value, or a column name) starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a single quote ``'`` before it, as OWASP recommends, so that Excel or LibreOffice show it rather than run it as a
formula. Numbers are never touched (a negative amount stays a number); a table without such text is written exactly
as pandas writes it. The workbook reads identifiers (columns ending in ``_id``, and columns with leading zeros such
as ``000001``) as text, and stores every text cell as text, never as a formula. The tables of
:data:`PER_OWNER_TABLES` also get a sheet per owner (each account manager's own rows, to hand over).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from portfolio_kit.report.texts import Texts

__all__ = ["save_table", "save_key_figures", "read_key_figures", "read_customer_tables", "write_workbook", "read_table",
           "CUSTOMER_TABLE_PREFIX", "NOT_RUN_FILE", "read_not_run", "DATA_TABLES", "REVENUE_BY_MONTH", "CONCENTRATION",
           "ABC_SUMMARY", "CUSTOMERS_SEGMENTS", "CUSTOMERS_CLV", "CUSTOMERS_CHURN", "AGING", "RECEIVABLES_KPIS",
           "ALERTS", "CUSTOMERS_PAYMENTS", "EXPECTED_CREDIT_LOSS", "CUSTOMERS_CREDIT", "CUSTOMERS_ACTIONS",
           "PER_OWNER_TABLES", "NO_OWNER", "CUSTOMERS_360", "CUSTOMERS_NEXT_PRODUCT", "NEXT_PRODUCT_BACKTEST",
           "JOINED_LATER"]

# Tables another page reads (the executive summary, the credit page), saved and read by these names only.
DATA_TABLES = "data_tables"
REVENUE_BY_MONTH = "revenue_by_month"
CONCENTRATION = "concentration"
ABC_SUMMARY = "abc_summary"
CUSTOMERS_SEGMENTS = "customers_segments"
CUSTOMERS_CLV = "customers_clv"
CUSTOMERS_CHURN = "customers_churn"
AGING = "aging"
RECEIVABLES_KPIS = "receivables_kpis"
ALERTS = "alerts"
CUSTOMERS_PAYMENTS = "customers_payments"
EXPECTED_CREDIT_LOSS = "expected_credit_loss"
CUSTOMERS_CREDIT = "customers_credit"
CUSTOMERS_ACTIONS = "customers_actions"
CUSTOMERS_360 = "customers_360"
CUSTOMERS_NEXT_PRODUCT = "customers_next_product"
NEXT_PRODUCT_BACKTEST = "next_product_backtest"
#: Per-customer tables made from the others while or after monitoring runs (the credit, products and actions
#: pages').
JOINED_LATER = (CUSTOMERS_CREDIT, CUSTOMERS_NEXT_PRODUCT, CUSTOMERS_360, CUSTOMERS_ACTIONS)

#: The file of a run folder listing the notebooks not run and why (``{notebook: reason}``), written by the runner
#: before any notebook runs, so the summary can say it.
NOT_RUN_FILE = "not_run.json"

#: Per-customer tables (one row per ``customer_id``) are saved as ``customers_<analysis>.csv``: monitoring
#: joins them to compare two runs.
CUSTOMER_TABLE_PREFIX = "customers_"

#: Tables whose workbook also has a sheet per value of their ``owner`` column (that owner's rows, all columns),
#: after the tables, owners in alphabetical order.
PER_OWNER_TABLES = (CUSTOMERS_ACTIONS,)
#: The owner's sheet of the rows without an owner.
NO_OWNER = "(no owner)"

_EXCEL_SHEET_CHARS = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")  # and no ' at either end
_RESERVED_SHEETS = {"contents", "history"}  # the workbook's first sheet, and a name Excel keeps for itself
_CSV_ONLY = " only (too long for a sheet)"
#: Rows above which a table stays CSV only (Excel's limit is 1,048,576; openpyxl writes ~20k rows a second).
WORKBOOK_MAX_ROWS = 20_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, (pd.StringDtype, pd.CategoricalDtype))


def _any_text(series: pd.Series, starts: tuple[str, ...] = (), contains: str = "") -> bool:
    """Whether a text value of ``series`` starts with one of ``starts`` (or holds ``contains``): vectorised on
    string columns (millions of rows), value by value on mixed object columns (only their ``str`` values count)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = pd.Series(series.cat.categories)
    if isinstance(series.dtype, pd.StringDtype):
        hit = series.str.startswith(starts) if starts else series.str.contains(contains, regex=False)
        return bool(hit.fillna(False).any())
    values = [v for v in series if isinstance(v, str)]
    return any(v.startswith(starts) for v in values) if starts else any(contains in v for v in values)


def _safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its formula-like text cells and column names quoted; ``table`` itself when it has none."""
    hostile = [i for i, (_, series) in enumerate(table.items())
               if _is_text(series) and _any_text(series, starts=_FORMULA_STARTS)]
    renamed = any(_neutralise(c) is not c for c in table.columns)
    if not hostile and not renamed:
        return table
    out = table.copy()
    for i in hostile:
        out.isetitem(i, table.iloc[:, i].astype(object).map(_neutralise))
    if renamed:
        out.columns = [_neutralise(c) for c in table.columns]
    return out


def _has_cr(table: pd.DataFrame) -> bool:
    """Whether a text cell or name holds a carriage return, which the CSV writer leaves unquoted with ``\\n`` lines."""
    return (any(isinstance(c, str) and "\r" in c for c in table.columns)
            or any(_any_text(series, contains="\r") for _, series in table.items() if _is_text(series)))


def _read_for_sheet(csv: Path) -> pd.DataFrame:
    """A saved table as the workbook shows it: identifiers and numbers with leading zeros kept as text."""
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    text = {c: str for c in raw.columns if c.endswith("_id") or raw[c].str.match(r"0\d").any()}
    return pd.read_csv(csv, dtype=text, low_memory=False)  # each column's type from all its rows, not per chunk


def save_table(table: pd.DataFrame, name: str, output_dir: str | Path | None) -> pd.DataFrame:
    """Write ``table`` to ``<output_dir>/tables/<name>.csv`` (UTF-8, ISO dates); return it, unchanged, for display.

    Text cells and column names starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading
    ``'`` in the file (OWASP's recommendation against CSV injection); numbers are written as they are. A table
    with a carriage return inside a text cell is written with ``\\r\\n`` lines, so that the cell is quoted and
    cannot start a row of its own.
    """
    if output_dir:
        folder = Path(output_dir) / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.csv.partial"  # written whole, then moved: a page reading it never sees half
        _safe(table).to_csv(partial, index=False, date_format="%Y-%m-%d",
                            lineterminator="\r\n" if _has_cr(table) else None)
        os.replace(partial, folder / f"{name}.csv")
    return table


def save_key_figures(figures: pd.DataFrame, notebook: str, output_dir: str | Path | None,
                     area: str) -> pd.DataFrame:
    """Record a notebook's headline numbers for the run's index page and for machines; returns ``figures``.

    ``figures`` is an analysis' ``key_figures()`` table (``figure``, ``value``, ``kind``: see
    :func:`~portfolio_kit.data.schemas.key_figures_table`); ``area`` is the catalogue area whose
    ``<area>.figure.<figure>`` entries name them. Written as ``key_figures/<notebook>.json``:
    ``{figure: {"value": ..., "kind": ..., "label": "<area>.figure.<figure>"}}``.
    """
    missing = [c for c in ("figure", "value", "kind") if c not in figures.columns]
    if missing:
        raise ValueError(f"key figures need the columns figure, value and kind (key_figures_table); missing {missing}")
    if output_dir:
        record = {r.figure: {"value": r.value.item() if hasattr(r.value, "item") else r.value, "kind": r.kind,
                             "label": f"{area}.figure.{r.figure}"} for r in figures.itertuples(index=False)}
        folder = Path(output_dir) / "key_figures"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{notebook}.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return figures


def read_key_figures(run_dir: str | Path) -> dict[str, dict[str, dict[str, object]]]:
    """Key figures of a run, by notebook name: ``{notebook: {figure: {"value", "kind", "label"}}}``."""
    folder = Path(run_dir) / "key_figures"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def read_not_run(run_dir: str | Path | None) -> dict[str, str]:
    """The notebooks of a run that were not run, with the reason (a ``common.not_run`` catalogue key)."""
    path = Path(run_dir) / NOT_RUN_FILE if run_dir else None
    return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else {}


def read_table(run_dir: str | Path | None, name: str) -> pd.DataFrame | None:
    """The table ``name`` a notebook of the run saved (identifiers as text), or None when the run has none
    (that notebook did not run, or no run folder is given)."""
    path = Path(run_dir) / "tables" / f"{name}.csv" if run_dir else None
    if path is None or not path.is_file():
        return None
    ids = [c for c in pd.read_csv(path, nrows=0).columns if c.endswith("_id")]
    return pd.read_csv(path, dtype=dict.fromkeys(ids, str))


def read_customer_tables(run_dir: str | Path | None) -> pd.DataFrame:
    """Every per-customer table a run saved (``tables/customers_*.csv``) joined on ``customer_id``; an
    empty frame when there are none. Columns present in several tables are taken from the first. The tables
    built from the others after monitoring runs (:data:`JOINED_LATER`) are left out, so that two runs compare
    the same tables."""
    if not run_dir:
        return pd.DataFrame(columns=["customer_id"])
    joined = None
    for path in sorted((Path(run_dir) / "tables").glob(f"{CUSTOMER_TABLE_PREFIX}*.csv")):
        if path.stem in JOINED_LATER:
            continue
        table = pd.read_csv(path, dtype={"customer_id": str})
        if joined is None:
            joined = table
        else:
            fresh = [c for c in table.columns if c == "customer_id" or c not in joined.columns]
            joined = joined.merge(table[fresh], on="customer_id", how="outer")
    return joined if joined is not None else pd.DataFrame(columns=["customer_id"])


def _data_lines(csv: Path) -> int:
    with open(csv, "rb") as fh:
        return max(sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1, 0)


def _sheet_name(name: str, used: set[str], fallback: str = "sheet") -> str:
    """``name`` as an Excel sheet name, added to ``used`` (lower case): without ``[]:*?/\\`` nor control
    characters, no ``'`` at either end, at most 31 characters, not empty (``fallback``), and ``~2``, ``~3``...
    at the end when taken (Excel compares sheet names ignoring case)."""
    base = _SHEET_FORBIDDEN.sub("", str(name)).strip(" '")[:_EXCEL_SHEET_CHARS].rstrip(" '") or fallback
    sheet, n = base, 1
    while sheet.casefold() in used:
        n += 1
        sheet = f"{base[:_EXCEL_SHEET_CHARS - 2 - len(str(n))].rstrip(' ')}~{n}"
    used.add(sheet.casefold())
    return sheet


def _by_owner(csv: Path) -> list[tuple[str, pd.DataFrame]]:
    """The rows of a saved table per value of its ``owner`` column as the workbook shows them, owners in
    alphabetical order and the rows without one (:data:`NO_OWNER`) last; none when the table has no ``owner``."""
    if "owner" not in pd.read_csv(csv, nrows=0).columns:
        return []
    table = _read_for_sheet(csv)
    owner = pd.read_csv(csv, usecols=["owner"], dtype=str, keep_default_na=False)["owner"].str.strip()
    rows = owner.groupby(owner.to_numpy(), sort=False).indices
    order = sorted(rows, key=lambda o: (o == "", o.casefold(), o))
    return [(o or NO_OWNER, table.iloc[rows[o]]) for o in order]


def _worded(rows: pd.DataFrame, texts: Texts) -> pd.DataFrame:
    """An owner's rows in the report's language: headers, and the actions, priorities and triggers named."""
    out = rows.copy()
    for column in ("action", "priority", "trigger", "secondary_actions"):
        if column in out.columns:
            out[column] = out[column].map(lambda v: ", ".join(str(texts.label(part)) for part in v.split(", "))
                                          if isinstance(v, str) and v else v)
    return out.rename(columns=texts.column)


def write_workbook(tables_dir: str | Path, path: str | Path, max_rows: int = WORKBOOK_MAX_ROWS,
                   texts: Texts | None = None) -> Path | None:
    """Gather every ``*.csv`` of ``tables_dir`` into one Excel workbook, a sheet per table.

    Tables longer than ``max_rows`` (per-customer tables of large clients) stay CSV only: the first sheet,
    ``contents``, lists every table with its rows and where it is. Identifier columns (``*_id``) and columns with
    leading zeros are read as text; text cells are quoted as in :func:`save_table`, so no cell is a formula.
    After the tables, a table of :data:`PER_OWNER_TABLES` with an ``owner`` column has a sheet per owner (named
    after the owner, made a valid sheet name; :data:`NO_OWNER` for rows without one) holding that owner's rows
    when they fit ``max_rows``, each listed in ``contents`` as ``<table>: <owner>``; with ``texts``, in the
    report's language (the hand-off to each account manager).
    """
    csvs = sorted(Path(tables_dir).glob("*.csv"))
    if not csvs:
        return None
    lines = {csv: _data_lines(csv) for csv in csvs}
    listed = [(c.stem, lines[c], f"tables/{c.name}" + ("" if lines[c] <= max_rows else _CSV_ONLY)) for c in csvs]
    used = set(_RESERVED_SHEETS)
    sheets: list[tuple[str, Path | pd.DataFrame]] = [(_sheet_name(c.stem, used), c) for c in csvs
                                                     if lines[c] <= max_rows]
    for csv in (c for c in csvs if c.stem in PER_OWNER_TABLES):
        for owner, rows in _by_owner(csv):
            sheet = _sheet_name(owner, used, fallback="owner") if len(rows) <= max_rows else None
            listed.append((f"{csv.stem}: {owner}", len(rows),
                           f"sheet {sheet}" if sheet else f"tables/{csv.name}{_CSV_ONLY}"))
            if sheet:
                sheets.append((sheet, _worded(rows, texts) if texts is not None else rows))
    contents = pd.DataFrame(listed, columns=["table", "rows", "where"])
    # XlsxWriter: cells written row by row, about three times faster than openpyxl through pandas; no string is
    # ever taken for a formula, a number or a link
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                           "strings_to_urls": False})
    header = book.add_format({"bold": True})
    for sheet, source in [("contents", contents), *sheets]:
        table = _safe(_read_for_sheet(source) if isinstance(source, Path) else source)
        worksheet = book.add_worksheet(sheet)
        worksheet.write_row(0, 0, [str(c) for c in table.columns], header)
        for i, row in enumerate(_cells(table), 1):
            worksheet.write_row(i, 0, row)
    book.close()
    return Path(path)


def _cells(table: pd.DataFrame):
    """The rows of ``table`` as Python values for the sheet: numbers, booleans and text, None for a missing
    value (an empty cell), ``inf`` and ``-inf`` as text (as pandas writes them; a sheet has no infinite number)."""
    columns = []
    for _, series in table.items():
        values = series.astype(object).where(series.notna(), None)
        if pd.api.types.is_float_dtype(series) and np.isinf(series).any():
            values = values.where(~np.isinf(series), np.where(series > 0, "inf", "-inf"))
        columns.append(values.tolist())
    return zip(*columns)
