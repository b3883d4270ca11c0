"""Read a client's export files and check them, file by file and across tables.

Files are read as the config says (CSV, Excel, Parquet; separator, decimal and thousands marks, encoding,
date format), with detection where the config is silent: the number style is decided per column (the one most
cells fit, decimal comma first in ``;``-separated files), encodings fall back from UTF-8 (with or without BOM)
to Windows-1252 (a UTF-16 or UTF-32 byte-order mark is followed), date formats are chosen by what parses (day
first when ambiguous). Line numbers are the file's physical lines (a quoted cell may hold line breaks). Client
columns are renamed by the config's column map; extra columns are kept. Input files are only ever read.

Every problem is collected (:class:`Collector`) before anything is raised, each naming the file, the line(s),
the column and what was expected. Errors stop the load (:class:`DataValidationError` lists them all);
warnings are reported:

errors
    missing, empty or damaged file (a truncated workbook, corrupt Parquet, NUL characters), unreadable encoding,
    a quote not closed (lines run together), more fields than the header, a column name the map also gives
    another column, missing required column, unparseable date, a number that is not one, is in another style
    than its column's (``392.61`` among ``1.234,56``), not finite, beyond :data:`AMOUNT_BOUND` or in another
    currency than the config's,
    empty key, duplicate key, invoice of an unknown customer, due date before issue date, payment before
    issue, paid amount above the invoice amount or of the opposite sign, every row of a table dated after the
    as-of date.
warnings
    transactions or snapshots of unknown customers; invoices without a due date (due date = issue date +
    the customer's payment terms when known, else an error); rows dated after the as-of date (set aside:
    an analysis as of a date sees only what was known then; payments after it leave the invoice open).
notes
    returns and credit notes (negative amounts) are kept and flagged in ``is_return``.

The whole portfolio is put together in :mod:`portfolio_kit.data.portfolio`; large exports are read in chunks
by :mod:`portfolio_kit.data.staging` with the same parsing and checks.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import glob
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from portfolio_kit.data.config import PortfolioConfig, ReadOptions
from portfolio_kit.data.schemas import TABLE_KEYS, TABLES, columns

__all__ = ["DATE_FORMATS", "WHITESPACE", "AMOUNT_BOUND", "Problem", "DataQualityReport", "DataValidationError",
           "Collector", "TextLines", "scan_lines", "bom_encoding", "text_readable", "read_table", "sniff_separator",
           "parse_numbers",
           "canonicalise", "check_keys", "table_files", "load_table", "cross_checks",
           "fill_due_dates", "as_of_cut", "empty_table", "table_summary", "file_sha256"]

log = logging.getLogger(__name__)

#: Date formats tried, in order, where the config gives none (day first before month first when both read).
DATE_FORMATS = ("%d/%m/%Y", "ISO8601", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y%m%d", "%d/%m/%y")
_ENCODINGS = ("utf-8-sig", "cp1252")
_SEPARATORS = ";\t|,"
#: The separator of whitespace-separated text (runs of blanks), as pandas reads it.
WHITESPACE = r"\s+"
_MAX_ROWS_SHOWN = 5
#: The largest absolute value a number of an export may hold: beyond a thousand billion (of the currency, days
#: or points) a cell is an export error (a code or a date in a number column, a lost decimal mark), not a value.
AMOUNT_BOUND = 1e12
#: Currency symbols and the currencies they stand for: the config's own (symbol or code) is dropped from a cell.
_CURRENCY_SYMBOLS = {"€": ("EUR",), "£": ("GBP",), "¥": ("JPY", "CNY"),
                     "$": ("USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN")}
_CURRENCY_TEXT = r"^([+-]?)\s*([A-Z]{3}|[€£¥$])?\s*(.*?)\s*([A-Z]{3}|[€£¥$])?$"  # sign, before, number, after
_NUMBER_LIKE = r"[+-]?[\d.,'\s]*\d[\d.,'\s]*(?:[eE][+-]?\d+)?"
_NON_FINITE = r"[+-]?(?:inf(?:inity)?|nan)"
_BLANKS = " \u00a0\u202f"  # blanks that may separate groups of digits: space and no-break spaces
_FORMAT_NAMES = {"excel": "Excel", "parquet": "Parquet"}
_ONE_COLUMN = (". The file reads as one column: set 'sep' in the config (';', ',', '\\t', '|' or '\\s+' for "
               "whitespace-separated text); fixed-width exports must be saved as delimited text first")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Problem:
    """One data-quality finding: where it is (file, lines, column) and what was expected."""

    severity: str  # "error", "warning" or "note"
    table: str
    file: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = self.file
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:_MAX_ROWS_SHOWN])
            more = len(self.rows) - _MAX_ROWS_SHOWN
            where += f", {'line' if len(self.rows) == 1 else 'lines'} {shown}"
            where += f" and {more} more" if more > 0 else ""
        if self.column:
            where += ", column " + " -> ".join(f"'{part}'" for part in self.column.split(" -> "))
        return f"{where}: {self.message}"


@dataclass
class DataQualityReport:
    """What was loaded (rows, date ranges, customers, revenue per table) and every problem found."""

    problems: list[Problem] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def problems_table(self) -> pd.DataFrame:
        """One row per problem: severity, table, file, column, lines, rows affected, message."""
        return pd.DataFrame(
            [{"severity": p.severity, "table": p.table, "file": p.file, "column": p.column,
              "lines": ", ".join(map(str, p.rows[:_MAX_ROWS_SHOWN])), "rows_affected": len(p.rows),
              "message": p.message} for p in self.problems],
            columns=["severity", "table", "file", "column", "lines", "rows_affected", "message"],
        )

    def summary_table(self) -> pd.DataFrame:
        """One row per loaded table: rows, customers, first and last date, total amount."""
        return pd.DataFrame(self.summary, columns=["table", "files", "rows", "customers", "first_date",
                                                   "last_date", "amount"])


class DataValidationError(ValueError):
    """The client's data have errors; ``report`` holds them all (and the warnings)."""

    def __init__(self, report: DataQualityReport):
        self.report = report
        errors = report.errors
        lines = "\n".join(f"  - {p}" for p in errors)
        super().__init__(f"{len(errors)} data error{'s' if len(errors) != 1 else ''} found:\n{lines}")


class Collector:
    """Collects problems for one file, so every check says where it looked."""

    def __init__(self, report: DataQualityReport, table: str, file: str):
        self.report, self.table, self.file = report, table, file

    def add(self, severity: str, message: str, column: str | None = None, rows=()) -> None:
        self.report.problems.append(
            Problem(severity, self.table, self.file, message, column, tuple(int(r) for r in rows)))


# --- reading ---------------------------------------------------------------------------------------------

def sniff_separator(text: str) -> str:
    """The field separator of delimited text: of ``;`` tab ``|`` ``,``, the one that splits the first line into
    fields, and most of the next ones into as many (or more: ragged lines, separators at the end of lines), and the
    most (``;`` first when two do, as in ``C1;10,5``); else ``\\s+`` when runs of blanks do (whitespace-separated
    text); else Python's sniffer, else ``,``.

    Examples
    --------
    >>> sniff_separator("F1;C1;31/01/2024;100,00\nF2;C2;01/02/2024;50,00")
    ';'
    >>> sniff_separator("id   date\nC1   2024-01-31")
    '\\s+'
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    fields = {}
    for candidate in _SEPARATORS:
        counts = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        if counts and counts[0] > 1 and 2 * sum(n >= counts[0] for n in counts) > len(counts):
            fields[candidate] = counts[0]
    if fields:
        return max(fields, key=fields.get)  # max keeps the first of equals
    if len({len(line.split()) for line in lines}) == 1 and len(lines[0].split()) > 1:
        return WHITESPACE
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=_SEPARATORS).delimiter
    except csv.Error:
        return ","


def bom_encoding(head: bytes) -> str | None:
    """The encoding a UTF-16 or UTF-32 byte-order mark at the start of ``head`` announces, else ``None``."""
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), None)


def text_readable(text: str, out: Collector) -> bool:
    """``False``, after an error, when decoded text holds NUL characters (not text, or UTF-16 without a BOM)."""
    if "\x00" not in text:
        return True
    out.add("error", "holds NUL characters: not a text file, or UTF-16 without a byte-order mark (then set "
                     "'encoding: utf-16-le' in the config)", rows=[text[: text.index("\x00")].count("\n") + 1])
    return False


def _read_text(path: Path, encoding: str | None, out: Collector) -> str | None:
    raw = path.read_bytes()
    forced = bom_encoding(raw) or encoding  # a byte-order mark says what the text is
    for enc in [forced] if forced else _ENCODINGS:
        try:
            text = raw.decode(enc)
            break
        except (UnicodeDecodeError, LookupError) as exc:
            if forced:
                line = raw[: getattr(exc, "start", 0)].count(b"\n") + 1
                out.add("error", f"cannot be read as {forced} (first bad byte on line {line}); "
                                 "set 'encoding' in the config (e.g. cp1252 or latin-1 for older exports)")
                return None
    else:
        return None  # unreachable: cp1252 decodes nearly everything; kept for clarity
    if not forced and enc != _ENCODINGS[0]:
        out.add("warning", f"not valid UTF-8: read as {enc} (set 'encoding' in the config to silence this)")
    return text.lstrip("\ufeff") if text_readable(text, out) else None


@dataclass
class TextLines:
    """Where the records of delimited text start, as pandas reads them: on which physical line (as an editor
    counts them: a quoted cell may hold line breaks, blank lines are skipped), and which cannot be trusted."""

    fields: int = 0  # of the header line
    records: int = 0  # data records
    breaks: list[tuple[int, int]] = field(default_factory=list)  # (record, offset): line = record + offset from it
    wide: list[int] = field(default_factory=list)  # first lines of records with more fields than the header
    unclosed: list[tuple[int, int]] = field(default_factory=list)  # first and last lines of records run together

    def lines(self, first: int, count: int) -> np.ndarray:
        """The first physical lines of data records ``first`` to ``first + count - 1`` (counted from 0)."""
        at, offset = np.array(self.breaks or [(0, 2)]).T
        records = np.arange(first, first + count)
        return records + offset[np.searchsorted(at, records, side="right") - 1]

    def report(self, out: Collector) -> bool:
        """Errors for records a quote not closed ran together and for records wider than the header; ``False``
        when pandas cannot read the file as it is (a record wider than the header)."""
        if self.unclosed:
            spans = ", ".join(f"{a}-{b}" for a, b in self.unclosed[:3]) + (", ..." if len(self.unclosed) > 3 else "")
            out.add("error", "a quote is not closed: a cell starting with '\"' runs on to the next '\"' over line "
                             f"breaks and separators, so lines {spans} read as one row; close or remove the quote",
                    rows=[a for a, _ in self.unclosed])
        ragged = sorted(set(self.wide) - {a for a, _ in self.unclosed})
        if ragged:
            why = _ONE_COLUMN if self.fields == 1 else (": a separator in a cell that is not quoted, or at the end of "
                                                        "the line? Quote the cell or remove the separator")
            out.add("error", f"more fields than the {self.fields} of the header line{why}", rows=ragged)
        return not self.wide

    def read_error(self, exc: ValueError, out: Collector) -> None:
        """Report why pandas could not read the text: a quote open at the end of the file, or pandas' message."""
        if "EOF inside string" in str(exc):
            out.add("error", "a quote is not closed: a cell starting with '\"' runs on to the end of the file; close "
                             "or remove the quote", rows=self.lines(self.records - 1, 1))
        else:
            out.add("error", f"cannot be read as delimited text: {exc}")

    def check_rows(self, rows: int, out: Collector) -> bool:
        """Whether pandas read one row per record counted; a warning when not (its line numbers may be off)."""
        if rows != self.records:
            out.add("warning", f"{rows} rows read where {self.records} records were counted: the quoting could not "
                               "be followed, so the line numbers given may be off")
        return rows == self.records


def _records(lines: Iterable[str], sep: str) -> Iterator[tuple[int, int, list[str] | None]]:
    """``(first line, last line, cells)`` of each non-blank record; cells ``None`` past a cell too large to be one."""
    if sep == WHITESPACE:  # runs of blanks are one separator; quotes work as with any other
        lines, sep = (" ".join(line.split()) + "\n" for line in lines), " "
    elif len(sep) != 1:  # another regular expression: one record per line
        split = re.compile(sep)
        yield from ((n, n, split.split(line.strip())) for n, line in enumerate(lines, 1) if line.strip())
        return
    reader, last = csv.reader(lines, delimiter=sep, skipinitialspace=True), 0
    try:
        for row in reader:
            first, last = last + 1, reader.line_num
            if len(row) > 1 or (row and row[0].strip()):
                yield first, last, row
    except csv.Error:  # a quoted cell beyond the field size limit: the rest of the file
        yield last + 1, reader.line_num, None


def scan_lines(lines: Iterable[str], sep: str) -> TextLines:
    """Where each record of delimited text (its lines, universal newlines) starts, by pandas' rules: a ``"`` at
    the start of a cell quotes it up to the next ``"``, blank lines are skipped. A record over several lines with
    a quoted cell holding both a line break and the separator is taken for rows a quote not closed ran together."""
    found, mark = TextLines(), " " if sep == WHITESPACE else sep
    for number, (first, last, row) in enumerate(_records(lines, sep), -1):  # -1: the header line
        if number < 0:
            found.fields = len(row or ())
            continue
        if not found.breaks or found.breaks[-1][1] != first - number:
            found.breaks.append((number, first - number))
        if row is None or (last > first and any("\n" in cell and mark in cell for cell in row)):
            found.unclosed.append((first, last))
        if row is None or len(row) > found.fields:
            found.wide.append(first)
        found.records = number + 1
    return found


def read_table(path: Path, options: ReadOptions, out: Collector) -> tuple[pd.DataFrame, ReadOptions] | None:
    """Read one export as text cells (CSV) or typed cells (Excel, Parquet), indexed by its line number.

    Returns the frame and the read options actually used (format and separator filled in; the number style is
    decided per column), or ``None`` after recording an error (missing, empty, damaged or unreadable file).
    """
    if not path.is_file():
        out.add("error", "file not found")
        return None
    fmt = options.format or {".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
                             ".parquet": "parquet", ".pq": "parquet"}.get(path.suffix.lower(), "csv")
    used = options.model_copy(update={"format": fmt})
    if fmt in _FORMAT_NAMES:
        try:
            if fmt == "parquet":
                frame = pq.ParquetFile(path).read().to_pandas()  # read as the chunked path reads it
                frame.index = np.arange(1, len(frame) + 1)
            else:
                frame = pd.read_excel(path, sheet_name=options.sheet or 0, dtype=object)
                frame.index = np.arange(2, len(frame) + 2)  # sheet row numbers: row 1 is the header
        except Exception as exc:  # a damaged file (truncated workbook, corrupt Parquet): a finding about the file
            out.add("error", f"cannot be read as {_FORMAT_NAMES[fmt]}: {exc or type(exc).__name__}")
            return None
    else:
        text = _read_text(path, options.encoding, out)
        if text is None:
            return None
        if not text.strip():
            out.add("error", "file is empty: expected a header line and data rows")
            return None
        sep = options.sep or sniff_separator(text)
        used = used.model_copy(update={"sep": sep})
        found = scan_lines(io.StringIO(text, newline=None), sep)
        if not found.report(out):
            return None
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                skipinitialspace=True)
        except ValueError as exc:  # pandas' ParserError included
            found.read_error(exc, out)
            return None
        if found.check_rows(len(frame), out):  # physical line numbers: line 1 is the header
            frame.index = found.lines(0, len(frame))
            frame = frame.drop(index=[first for first, _ in found.unclosed])  # reported above
        else:
            frame.index = np.arange(2, len(frame) + 2)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, used


# --- parsing cells ---------------------------------------------------------------------------------------

def _blank(s: pd.Series) -> pd.Series:
    if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
        return s.isna()  # typed cells (Parquet, Excel numbers and dates) are blank only when missing
    return s.isna() | s.astype("string").str.strip().eq("")


def _parse_ids(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s) or (s.dtype == object and s.map(lambda v: isinstance(v, float)).any()):
        # Excel/Parquet hand integer codes over as floats: 123.0 -> "123"
        s = s.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v)
    out = s.astype("string").str.strip()
    return out.mask(out.eq(""))


def _thousands_for(decimal: str) -> str:
    return "," if decimal == "." else "."


def _group_marks(thousands: str) -> str:
    """A regex class of the marks between groups of three digits: the thousands mark or a blank."""
    return "[" + re.escape(thousands.strip(_BLANKS)) + _BLANKS + "]"


def _number_pattern(decimal: str, thousands: str) -> str:
    """Numbers in one style: thousands marks (or blanks) between groups of three digits, then the decimal mark
    (``[0-9]``, not ``\\d``, and no ``\\s``: pandas then matches with Arrow, fast)."""
    d, g = re.escape(decimal), _group_marks(thousands)
    return rf"(?:[+-]?(?:(?:[0-9]{{1,3}}(?:{g}[0-9]{{3}})+|[0-9]+)(?:{d}[0-9]*)?|{d}[0-9]+)(?:[eE][+-]?[0-9]+)?)"


def _number_style(numbers: pd.Series, weights: np.ndarray, opts: ReadOptions) -> tuple[str, str, bool]:
    """A column's decimal and thousands marks: the config's, else of the two styles the one most cells fit (decimal
    comma first in ``;``-separated files); and whether the config declared them."""
    if opts.decimal or opts.thousands:
        decimal = opts.decimal or ("," if opts.thousands == "." else ".")
        return decimal, opts.thousands or _thousands_for(decimal), True
    first = "," if opts.sep == ";" else "."
    styles = [(first, _thousands_for(first)), (_thousands_for(first), first)]
    fits = [weights[numbers.str.fullmatch(_number_pattern(*style)).fillna(False).to_numpy(bool)].sum()
            for style in styles]
    return (*styles[int(fits[1] > fits[0])], False)


def _parse_number_texts(texts: pd.Series, weights: np.ndarray, opts: ReadOptions,
                        currency: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The numbers of distinct stripped texts, why each is not one (missing when it is), and the decimal mark."""
    number, why = texts.copy(), np.full(len(texts), None, dtype=object)
    foreign = np.zeros(len(texts), dtype=bool)
    lettered = texts.str.contains("[A-Za-z€£¥$]").fillna(False).to_numpy(bool)
    if lettered.any():  # a currency before or after the number: the config's is dropped, another is an error
        sign, before, digits, after = (part for _, part in texts[lettered].str.extract(_CURRENCY_TEXT).items())
        own = {currency, *(symbol for symbol, codes in _CURRENCY_SYMBOLS.items() if currency in codes)}
        foreign_before, foreign_after = before.notna() & ~before.isin(own), after.notna() & ~after.isin(own)
        marked = (before.notna() | after.notna()) & digits.str.contains("[0-9]").fillna(False)
        number[lettered] = (sign + digits).where(marked, texts[lettered])
        other = (marked & (foreign_before | foreign_after)).to_numpy(bool)
        foreign[np.flatnonzero(lettered)[other]] = True
        own_currency = f"an amount in the config's currency {currency}" if currency else "a number without currency"
        why[foreign] = (f"expected {own_currency}, found '" + before.where(foreign_before, after)[other]
                        + "': convert the amounts or correct 'currency' in the config").to_numpy(object)
    decimal, thousands, declared = _number_style(number, weights * ~foreign, opts)
    fits = number.str.fullmatch(_number_pattern(decimal, thousands)).fillna(False).to_numpy(bool) & ~foreign
    digits = number.where(fits).str.replace(_group_marks(thousands), "", regex=True)
    values = pd.to_numeric(digits.str.replace(decimal, ".", regex=False), errors="coerce").to_numpy(float)
    if (rest := ~fits & ~foreign).any():
        style = (f"expected a number with decimal mark {decimal!r} and thousands mark {thousands!r} between groups "
                 f"of three digits (as in 1{thousands}234{decimal}56)")
        style += ("; set 'decimal' and 'thousands' in the config if the export writes numbers otherwise" if declared
                  else ", the style of most of the column's cells")
        odd = number[rest]
        why[rest] = np.select([odd.str.fullmatch(_NON_FINITE, case=False).fillna(False).to_numpy(bool),
                               odd.str.fullmatch(_NUMBER_LIKE).fillna(False).to_numpy(bool)],
                              ["expected a finite number", style], f"expected a number with decimal mark {decimal!r}")
    return values, why, decimal


def parse_numbers(s: pd.Series, opts: ReadOptions, currency: str | None = None) -> tuple[pd.Series, pd.Series]:
    """The numbers of a column, and per cell why it is not one (missing when it is, or is blank).

    Text cells are written in the column's style (:func:`_number_style`): the thousands mark (or a blank) only
    between groups of three digits, so ``392.61`` among ``1.234,56`` is an error, not 39,261. The config's currency
    (code or symbol) may lead or follow; another currency is an error. Every number, typed cells (Excel, Parquet)
    too, must be finite and within :data:`AMOUNT_BOUND`.
    """
    why = pd.Series(None, index=s.index, dtype=object)
    decimal = opts.decimal or "."
    if pd.api.types.is_numeric_dtype(s):
        values = s.astype(float)
    else:
        is_text = s.map(lambda v: isinstance(v, str)) if s.dtype == object else pd.Series(True, index=s.index)
        values = pd.to_numeric(s.where(~is_text), errors="coerce").astype(float)
        text = s.where(is_text).astype("string").str.strip()
        codes, distinct = pd.factorize(text.mask(text.eq("")))  # amounts repeat: parse each distinct text once
        if len(distinct):
            parsed, reasons, decimal = _parse_number_texts(pd.Series(distinct, dtype="string"),
                                                           np.bincount(codes[codes >= 0]), opts, currency)
            hit = codes >= 0
            values = values.mask(hit, pd.Series(parsed[np.maximum(codes, 0)], index=s.index))
            why = why.mask(hit, pd.Series(reasons[np.maximum(codes, 0)], index=s.index))
    checks = [(np.isinf(values), "expected a finite number"),
              (values.abs() > AMOUNT_BOUND, f"a number beyond the kit's bound of {AMOUNT_BOUND:,.0f} in absolute "
                                            "value: an export error, not a value"),
              (values.isna() & ~_blank(s), f"expected a number with decimal mark {decimal!r}")]
    for mask, reason in checks:
        why = why.mask(why.isna() & mask, reason)
    return values.where(why.isna()), why


def _parse_dates(s: pd.Series, opts: ReadOptions) -> tuple[pd.Series, str]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize(None) if s.dt.tz else s, "typed"
    is_stamp = (s.map(lambda v: hasattr(v, "isoformat") or isinstance(v, np.datetime64)) if s.dtype == object
                else pd.Series(False, index=s.index))  # Excel cells may hold real dates among text
    typed = pd.to_datetime(s.where(is_stamp), errors="coerce")
    text = s.where(~is_stamp).astype("string").str.strip()
    codes, distinct = pd.factorize(text.mask(text.eq("")))  # dates repeat: parse each distinct text once
    rows_per_text = np.bincount(codes[codes >= 0], minlength=len(distinct))
    candidates = [opts.date_format] if opts.date_format else list(DATE_FORMATS)
    best, best_fmt, best_count = None, candidates[0], -1
    for fmt in candidates:
        parsed = pd.to_datetime(pd.Series(distinct, dtype="string"), format=fmt, errors="coerce")
        count = rows_per_text[parsed.notna().to_numpy()].sum()
        if count > best_count:
            best, best_fmt, best_count = parsed, fmt, count
    values = np.append(best.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))[codes]  # -1: NaT
    return typed.fillna(pd.Series(values, index=s.index)).astype("datetime64[ns]"), best_fmt


_EXPECTED = {"float": "a number", "date": "a date", "id": "an identifier", "str": "text"}


def _layout_hint(frame: pd.DataFrame) -> str:
    """Why the columns may not be found: the file read as one column (wrong separator, fixed width) or its first
    line holds data, not names (no header line)."""
    if len(frame.columns) == 1:
        return _ONE_COLUMN
    looks_like_data = [c for c in frame.columns
                       if re.fullmatch(r"[-+]?[\d.,]+|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", str(c).strip())]
    if looks_like_data:
        return (f". The first line looks like data, not column names ({', '.join(map(repr, looks_like_data[:3]))}): "
                "the export has no header line; add one with the column names")
    return ""


def canonicalise(table: str, frame: pd.DataFrame, opts: ReadOptions, colmap: dict[str, str], out: Collector,
                 currency: str | None = None) -> pd.DataFrame | None:
    """Rename, check required columns, parse every canonical column; extra columns are kept as they are.

    ``currency`` is the config's: amounts may carry its code or symbol, not another currency's.
    """
    rename = {c: colmap.get(c, colmap.get(c.strip(), c)) for c in frame.columns}
    named = [rename[c] for c in frame.columns]
    for clash in pd.Index(named)[pd.Index(named).duplicated()].unique():
        first, second = [c for c, new in zip(frame.columns, named) if new == clash][:2]
        out.add("error", f"two columns would be named {clash!r}: {first!r} and {second!r} (the file has a column of "
                         "that name and the config maps another to it); map the file's own column to another name "
                         f"under tables.{table}.columns, e.g. '{clash}: {clash}_file'", clash)
    if len(set(named)) < len(named):
        return None
    frame = frame.rename(columns=rename)
    client_name = {canon: client for client, canon in rename.items()}
    missing = [c for c in columns(table, required=True) if c not in frame.columns]
    if missing:
        wanted = ", ".join(f"{c!r}" for c in missing)
        out.add("error", f"missing required column(s) {wanted}; the file has {list(client_name.values())}. "
                         f"Map the client's names in the config under tables.{table}.columns" + _layout_hint(frame))
        return None
    present = {str(c).strip() for c in client_name.values()}
    absent = [f"{client!r} (-> {canon})" for client, canon in colmap.items()  # required ones: above
              if str(client).strip() not in present and canon not in present
              and canon not in columns(table, required=True)]
    if absent:
        out.add("error", f"column(s) named in the config are not in the file: {', '.join(absent)}; the file has "
                         f"{sorted(present)}. Correct the name under tables.{table}.columns, or remove the line "
                         "if the export has no such column (optional columns may be absent)")
    if frame.empty:
        out.add("error", "file has a header but no data rows")
        return None
    canonical = set(columns(table))
    for extra in (c for c in frame.columns if c not in canonical and frame[c].dtype != object):
        if pd.api.types.is_string_dtype(frame[extra]):
            frame[extra] = frame[extra].mask(frame[extra].str.strip().eq(""))  # empty cell = missing
    for col in TABLES[table]:
        name = col.name
        label = name if client_name.get(name, name) == name else f"{client_name[name]} -> {name}"
        if name not in frame.columns:
            frame[name] = pd.Series(pd.NA if col.kind in ("str", "id") else np.nan, index=frame.index,
                                    dtype="string" if col.kind in ("str", "id") else
                                    ("datetime64[ns]" if col.kind == "date" else float))
            continue
        raw = frame[name]
        blank = _blank(raw)
        if col.kind == "float":
            frame[name], why = parse_numbers(raw, opts, currency)
        else:
            if col.kind == "id":
                frame[name] = _parse_ids(raw)
            elif col.kind == "str":
                frame[name] = raw.astype("string").str.strip().mask(blank)
            else:
                frame[name], fmt = _parse_dates(raw, opts)
            hint = f" in the format {fmt!r}" if col.kind == "date" and fmt != "typed" else ""
            why = pd.Series(f"expected {_EXPECTED[col.kind]}{hint}", index=raw.index).where(
                frame[name].isna() & ~blank)
        for reason, rows in why.groupby(why, sort=False).groups.items():
            examples = ", ".join(repr(str(v)) for v in raw.loc[rows].unique()[:3])
            out.add("error", f"{reason}, got {examples}", label, rows)
        if col.required and not col.nullable and blank.any():
            out.add("error", "empty cell: a value is required", label, raw.index[blank])
    return frame


def check_keys(table: str, frame: pd.DataFrame, out: Collector) -> None:
    key = list(TABLE_KEYS[table])
    if not key:
        return
    dup = frame.duplicated(key, keep=False) & frame[key].notna().all(axis=1)
    if dup.any():
        values = ", ".join(repr(" / ".join(map(str, v))) for v in frame.loc[dup, key].drop_duplicates()
                           .head(3).itertuples(index=False))
        out.add("error", f"duplicate key {' + '.join(key)}: {values}; each must appear once", " + ".join(key),
                frame.index[dup])


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (an input's fingerprint: run manifests, the staging cache key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_files(table: str, path: Path, out: Collector) -> list[Path]:
    if any(ch in str(path) for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(str(path)))
        if not found:
            out.add("error", "no file matches this pattern")
        return found
    return [path]


def load_table(cfg: PortfolioConfig, table: str, report: DataQualityReport) -> pd.DataFrame | None:
    tcfg = cfg.tables[table]
    opts = cfg.read_options(table)
    frames = []
    for path in table_files(table, tcfg.path, Collector(report, table, str(tcfg.path))):
        out = Collector(report, table, path.name)
        got = read_table(path, opts, out)
        if got is None:
            continue
        raw, used = got
        if table == "snapshots" and "snapshot_date" not in tcfg.columns.values() and tcfg.snapshot_date_from_filename:
            match = re.search(tcfg.snapshot_date_from_filename, path.name)
            if not match:
                out.add("error", f"file name does not match {tcfg.snapshot_date_from_filename!r}: "
                                 "cannot tell the snapshot date")
                continue
            raw["snapshot_date"] = match.group(1)
        frame = canonicalise(table, raw, used, tcfg.columns, out, cfg.currency)
        if frame is None:
            continue
        check_keys(table, frame, out)
        frames.append(frame.assign(_file=path.name, _line=frame.index))
    if not frames:
        return None
    frame = pd.concat(frames, ignore_index=True)
    if len(frames) > 1:  # keys across files (e.g. the same snapshot date in two files)
        check_keys(table, frame.set_index("_line"), Collector(report, table, str(tcfg.path)))
    return frame


# --- cross-table checks ----------------------------------------------------------------------------------

def _where(frame: pd.DataFrame, mask: pd.Series) -> tuple[str, np.ndarray]:
    files = frame.loc[mask, "_file"].unique()
    return (files[0] if len(files) == 1 else ", ".join(map(str, files))), frame.loc[mask, "_line"].to_numpy()


def _flag(report, table, frame, mask, severity, message, column=None):
    if mask.any():
        file, lines = _where(frame, mask)
        report.problems.append(Problem(severity, table, file, message, column, tuple(int(x) for x in lines)))


def cross_checks(t: dict[str, pd.DataFrame], as_of: pd.Timestamp, report: DataQualityReport) -> None:
    known = pa.array(t["customers"]["customer_id"].dropna().astype(str), pa.string()) if "customers" in t else None
    for table in ("transactions", "invoices", "snapshots"):
        if table not in t or known is None:
            continue
        ids = pa.array(t[table]["customer_id"].astype("string"), pa.string())  # Arrow's hash join: fast at 1M+ rows
        found = pc.fill_null(pc.is_in(ids, value_set=known), False).to_numpy(zero_copy_only=False)
        unknown = pd.Series(~found, index=t[table].index) & t[table]["customer_id"].notna()
        severity = "error" if table == "invoices" else "warning"
        what = "must" if table == "invoices" else "should"
        examples = ", ".join(repr(v) for v in t[table].loc[unknown, "customer_id"].unique()[:3])
        _flag(report, table, t[table], unknown, severity,
              f"customer_id not in the customers table (e.g. {examples}); every row {what} refer to a known "
              "customer", "customer_id")
    if "transactions" in t:
        tx = t["transactions"]
        _flag(report, "transactions", tx, tx["amount"] < 0, "note",
              "negative amounts (returns or credit notes): kept and flagged in is_return", "amount")
    for table, date_col in (("transactions", "date"), ("invoices", "issue_date"), ("snapshots", "snapshot_date")):
        if table in t:
            later = t[table][date_col] > as_of
            _flag(report, table, t[table], later, "warning",
                  f"dated after the as-of date {as_of.date()}: set aside for this analysis", date_col)
            if len(later) and later.all():
                report.problems.append(Problem(
                    "error", table, ", ".join(map(str, t[table]["_file"].unique())),
                    f"every row is dated after the as-of date {as_of.date()} (the first on "
                    f"{t[table][date_col].min().date()}): nothing would be analysed; check the as-of date", date_col))
    if "invoices" in t:
        inv = t["invoices"]
        _flag(report, "invoices", inv, inv["due_date"] < inv["issue_date"], "error",
              "due date before issue date", "due_date")
        _flag(report, "invoices", inv, inv["paid_date"] < inv["issue_date"], "error",
              "paid before the invoice was issued", "paid_date")
        over = inv["paid_amount"].abs() > inv["amount"].abs() + 0.005
        _flag(report, "invoices", inv, over, "error", "paid amount above the invoice amount", "paid_amount")
        opposite = (np.sign(inv["paid_amount"]) * np.sign(inv["amount"])) < 0
        _flag(report, "invoices", inv, opposite, "error",
              "paid amount of the opposite sign to the invoice amount (a credit note is paid back with a negative "
              "amount, an invoice with a positive one)", "paid_amount")


def fill_due_dates(t: dict[str, pd.DataFrame], report: DataQualityReport) -> None:
    inv = t["invoices"]
    no_due = inv["due_date"].isna() & inv["issue_date"].notna()
    if not no_due.any():
        return
    terms = (inv["customer_id"].map(t["customers"].set_index("customer_id")["payment_terms_days"])
             if "customers" in t else pd.Series(np.nan, index=inv.index))
    fillable = no_due & terms.notna()
    inv.loc[fillable, "due_date"] = inv.loc[fillable, "issue_date"] + pd.to_timedelta(terms[fillable], unit="D")
    _flag(report, "invoices", inv, fillable, "warning",
          "no due date: set to issue date + the customer's payment terms", "due_date")
    _flag(report, "invoices", inv, no_due & ~fillable, "error",
          "no due date and no payment terms for the customer: expected a date", "due_date")


def as_of_cut(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """What was known at the as-of date: later rows set aside, later payments not yet made."""
    out = dict(t)
    if "transactions" in t:
        out["transactions"] = t["transactions"][t["transactions"]["date"] <= as_of]
    if "snapshots" in t:
        out["snapshots"] = t["snapshots"][t["snapshots"]["snapshot_date"] <= as_of]
    if "invoices" in t:
        inv = t["invoices"][t["invoices"]["issue_date"] <= as_of].copy()
        later = inv["paid_date"] > as_of
        inv.loc[later, "paid_date"] = pd.NaT
        inv.loc[later, "paid_amount"] = np.nan
        out["invoices"] = inv
    return out


def empty_table(table: str) -> pd.DataFrame:
    kinds = {"id": "string", "str": "string", "float": float, "date": "datetime64[ns]"}
    return pd.DataFrame({c.name: pd.Series(dtype=kinds[c.kind]) for c in TABLES[table]})


def table_summary(table: str, frame: pd.DataFrame, files: int) -> dict:
    date_col = {"transactions": "date", "invoices": "issue_date", "snapshots": "snapshot_date",
                "customers": "since"}[table]
    dates = frame[date_col].dropna()
    return {"table": table, "files": files, "rows": len(frame), "customers": frame["customer_id"].nunique(),
            "first_date": dates.min() if len(dates) else pd.NaT, "last_date": dates.max() if len(dates) else pd.NaT,
            "amount": float(frame["amount"].sum()) if "amount" in frame else np.nan}
