"""A first ``portfolio.yaml`` drafted from the exports in a folder (``portfolio-kit init``).

Every export in the folder and its subfolders (delimited text, each sheet of an Excel workbook, Parquet) is
looked at once, and only read:

detection
    encoding (UTF-8 with or without BOM, else Windows-1252); separator (``;`` ``,`` tab ``|``, or runs of
    spaces); decimal and thousands marks, by a vote of the number-looking cells (``1.234,56`` against
    ``1,234.56``); date format, the first of the reader's candidates (:data:`DATE_FORMATS`, day first before
    month first) that reads every cell of the date-looking columns; header presence (a first line holding
    dates or amounts is data, and the file is set aside with a note).
columns
    header names looked up in :data:`SYNONYMS` (Italian and English; case, accents, punctuation and spaces
    do not matter; canonical names match themselves), then checked on the cells: a date column must read as
    dates, an amount as numbers with the detected marks. Customer ids found again in the customers table
    confirm the key.
tables
    each export (or the files that differ only by a date in their name, read as one glob) goes to the table
    its columns and cells fit best: due or payment dates make invoices; one row per customer id with a name
    or attributes, customers; ratings and scores, snapshots; dates and amounts, transactions. A file name
    saying the same (``clienti``, ``sales``, ``scadenziario``, ...) confirms the guess.

The draft says in comments what it saw, marks uncertain guesses ``# CHECK:`` and required columns it could not
find ``# MISSING:``. It never writes over an existing file.

Examples
--------
>>> draft = write_draft("exports/")                  # doctest: +SKIP
>>> draft.path, draft.tables                         # doctest: +SKIP
(PosixPath('exports/portfolio.yaml'), {'customers': 'clienti.csv', 'transactions': 'movimenti.csv'})
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from portfolio_kit.data.config import ReadOptions
from portfolio_kit.data.exports import DATE_FORMATS, WHITESPACE, parse_numbers, sniff_separator
from portfolio_kit.data.schemas import TABLES, columns

__all__ = ["SYNONYMS", "DraftError", "Export", "Placement", "Draft", "normalise", "detect_encoding",
           "detect_marks", "detect_date_format", "find_exports", "map_columns", "guess_table",
           "draft_config", "write_draft"]

#: Client header names of each canonical column, Italian (``it``) and English (``en``), most usual first: the
#: earlier name wins when two headers fit the same column. Matching ignores case, accents, punctuation and
#: spaces (:func:`normalise`), so "Cod. Cliente", "COD_CLIENTE" and "codcliente" are one name. A column is
#: mapped only in the tables that have it (:data:`~portfolio_kit.data.schemas.TABLES`); a name listed here for
#: a column no table has is recognised, said so, and kept as it is.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer_id": {"it": ("Codice Cliente", "Cod. Cliente", "Cod. Cli.", "ID Cliente", "Codice Anagrafica",
                           "Cliente", "Codice"),
                    "en": ("Customer ID", "CustomerNo", "Customer No", "Customer Number", "Customer Code",
                           "Client ID", "Account ID", "Account Number", "Customer")},
    "name": {"it": ("Ragione Sociale", "Nome", "Denominazione", "Nome Cliente", "Descrizione Cliente"),
             "en": ("Customer Name", "Name", "Company Name", "Client Name", "Account Name", "Company")},
    "customer_type": {"it": ("Tipo", "Tipo Cliente", "Tipologia", "Tipologia Cliente"),
                      "en": ("Customer Type", "Type")},
    "sector": {"it": ("Settore", "Settore Merceologico", "Attivita"), "en": ("Sector", "Industry")},
    "region": {"it": ("Regione", "Zona"), "en": ("Region", "Area", "Territory")},
    "channel": {"it": ("Canale", "Canale di Vendita"), "en": ("Channel", "Sales Channel")},
    "size_class": {"it": ("Classe Dimensionale", "Dimensione", "Fascia Dimensionale"),
                   "en": ("Size", "Size Class", "Company Size")},
    "credit_limit": {"it": ("Fido", "Fido Accordato", "Affidamento", "Limite di Credito", "Fido Consigliato"),
                     "en": ("Credit Limit", "Credit Line")},
    "payment_terms_days": {"it": ("Giorni Pagamento", "Termini di Pagamento", "Gg Pagamento", "Dilazione"),
                           "en": ("Payment Terms", "Payment Terms Days", "Payment Days", "Terms")},
    "since": {"it": ("Cliente Dal", "Data Apertura", "Data Inizio Rapporto", "Data Acquisizione"),
              "en": ("Customer Since", "Since", "Start Date")},
    "date": {"it": ("Data", "Data Documento", "Data Movimento", "Data Vendita", "Data Ordine", "Data Fattura",
                    "Data Emissione"),
             "en": ("Date", "Order Date", "Transaction Date", "Sale Date", "Invoice Date", "Document Date")},
    "issue_date": {"it": ("Data Emissione", "Data Fattura", "Data Documento", "Data", "Data Registrazione"),
                   "en": ("InvoiceDate", "Issue Date", "Document Date", "Date", "Posting Date")},
    "amount": {"it": ("Importo", "Totale", "Importo Fattura", "Importo Totale", "Totale Documento", "Imponibile",
                      "Valore", "Fatturato"),
               "en": ("Amount", "InvoiceAmount", "Sales", "Total", "Net Amount", "Value", "Revenue")},
    "margin": {"it": ("Margine", "Margine Lordo", "Utile Lordo"), "en": ("Margin", "Gross Profit", "Gross Margin")},
    "product": {"it": ("Prodotto", "Linea", "Linea di Prodotto", "Articolo", "Categoria"),
                "en": ("Product", "Product Line", "Item", "Category")},
    "invoice_id": {"it": ("Numero Fattura", "N. Fattura", "N. Documento", "Numero Documento", "Num. Doc.",
                          "Documento"),
                   "en": ("InvoiceNumber", "Invoice No", "Invoice ID", "Document Number", "Doc No")},
    "due_date": {"it": ("Data Scadenza", "Scadenza"), "en": ("DueDate", "Due")},
    "paid_date": {"it": ("Data Incasso", "Data Pagamento", "Data Saldo"),
                  "en": ("SettledDate", "PaymentDate", "Paid Date", "Clearing Date")},
    "paid_amount": {"it": ("Importo Pagato", "Incassato", "Importo Incassato", "Pagato"),
                    "en": ("PaidAmount", "Amount Paid", "Settled Amount")},
    "snapshot_date": {"it": ("Data Snapshot", "Data Rilevazione", "Data Estrazione"),
                      "en": ("Snapshot Date", "Report Date", "As Of")},
    "rating": {"it": ("Classe di Rischio", "Classe Rating"), "en": ("Rating", "Risk Class", "Credit Rating")},
    "failure_score": {"it": ("Score Fallimento", "Punteggio Fallimento"), "en": ("Failure Score",)},
    "delinquency_score": {"it": ("Score Ritardo", "Punteggio Ritardo", "Score Insolvenza"),
                          "en": ("Delinquency Score", "Paydex")},
    "officers": {"it": ("Esponenti", "Amministratori", "Cariche"), "en": ("Officers", "Directors")},
    "share_capital": {"it": ("Capitale Sociale", "Capitale"), "en": ("Share Capital", "Capital")},
    "account_manager": {"it": ("Agente", "Venditore", "Commerciale", "Responsabile", "Responsabile Commerciale",
                               "Referente Commerciale"),
                        "en": ("Account Manager", "Sales Rep", "Sales Representative", "Salesperson", "Agent",
                               "Sales Agent")},
}

#: Words in file names that say which table a file holds (normalised, as :func:`normalise` writes them).
_NAME_HINTS = {
    "customers": ("clienti", "anag", "customer", "client"),
    "transactions": ("moviment", "vendite", "venduto", "sales", "transaction", "righe", "ordini", "orders"),
    "invoices": ("fatture", "scadenz", "partite", "invoice", "receivable", "crediti", "openitem"),
    "snapshots": ("rating", "snapshot", "monitor", "cerved", "infoprov"),
}
_KIND = {c.name: c.kind for cols in TABLES.values() for c in cols}
_SNAPSHOT_ONLY = {"rating", "failure_score", "delinquency_score", "officers", "share_capital", "snapshot_date"}
_CUSTOMER_ATTRIBUTES = {"name", "customer_type", "sector", "region", "size_class", "payment_terms_days", "since",
                        "account_manager"}
_EVENT_DATES = ("date", "issue_date", "paid_date", "snapshot_date", "since")  # known by the as-of date
_TEXT, _EXCEL, _PARQUET = {".csv", ".txt", ".tsv", ".tab", ".dat", ".psv"}, {".xlsx", ".xlsm", ".xls"}, {".parquet",
                                                                                                      ".pq"}
_WHOLE_FILE, _CHUNK = 64 << 20, 8 << 20  # larger files: detected on their first and last 8 MB
_DATE_LIKE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{2,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMBER_LIKE = re.compile(r"[-+]?\d+(?:[.,]\d+)*")
_CURRENCY = r"[€$£\s]|EUR|USD"  # stripped before the marks vote
#: The currency the draft writes (to be checked by the consultant): amounts in it are read as numbers.
DRAFT_CURRENCY = "EUR"
_COMMA_DECIMAL = re.compile(r"[-+]?(?:\d{1,3}(?:\.\d{3})+,\d+|\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:\.\d{3}){2,})")
_DOT_DECIMAL = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+\.\d+|\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:,\d{3}){2,})")
_COMMA_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NAME_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-\d{2}|\d{4})(?!\d)")
_FULL_NAME_DATES = {10: (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"), 8: (r"\d{8}", "%Y%m%d")}
_COMMENT_AT = 32
_VOTES = 2000  # distinct cells per column that vote on the decimal mark


class DraftError(ValueError):
    """``init`` cannot draft a config: the folder is missing, holds no readable export, or the file exists."""


def normalise(name: object) -> str:
    """A header name as it is looked up in :data:`SYNONYMS`: lower case ASCII letters and digits only.

    Examples
    --------
    >>> normalise("Cod. Cliente"), normalise("customer_ID"), normalise("Attività")
    ('codcliente', 'customerid', 'attivita')
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _index() -> dict[str, list[tuple[str, str, int]]]:
    """Normalised name -> (canonical, language, rank) for every synonym; canonical names rank first."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for canonical in dict.fromkeys([*_KIND, *SYNONYMS]):
        out.setdefault(normalise(canonical), []).append((canonical, "en", 0))
        for lang, names in SYNONYMS.get(canonical, {}).items():
            for rank, name in enumerate(names, 1):
                entries = out.setdefault(normalise(name), [])
                if all(c != canonical for c, _, _ in entries):
                    entries.append((canonical, lang, rank))
    return out


_INDEX = _index()


# --- detection -------------------------------------------------------------------------------------------

def detect_encoding(raw: bytes) -> str:
    """``utf-8-sig`` for UTF-8 with a byte-order mark, ``utf-8`` for UTF-8 (or ASCII), else ``cp1252``."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def detect_marks(cells: list[str], sep: str | None = None) -> dict[str, str | None]:
    """Decimal and thousands marks by a vote of the number-looking cells (``1.234,56`` or ``360,29`` for the
    decimal comma, ``1,234.56`` or ``40.0`` for the decimal point; ``1.000`` says nothing). Without votes, the
    reader's default: decimal comma for ``;``-separated text, else the point; no opinion (``{}``) for typed files.

    Examples
    --------
    >>> detect_marks(["1.000,00", "360,29", "C0001"])
    {'decimal': ',', 'thousands': '.'}
    >>> detect_marks(["1,234.56", "12"])
    {'decimal': '.', 'thousands': ','}
    """
    cells = [re.sub(_CURRENCY, "", c) for c in cells]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(c)) for c in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(c)) for c in cells)
    if comma == dot == 0 and sep is None:
        return {}
    decimal = "," if comma > dot or (comma == dot and sep == ";") else "."
    if decimal == ",":
        return {"decimal": ",", "thousands": "."}
    return {"decimal": ".", "thousands": "," if any(_COMMA_THOUSANDS.fullmatch(c) for c in cells) else None}


def _parse_dates(texts: np.ndarray, fmt: str) -> pd.Series:
    return pd.to_datetime(pd.Series(texts, dtype="string"), format=fmt, errors="coerce")


def detect_date_format(texts: np.ndarray) -> tuple[str | None, bool]:
    """The first of :data:`DATE_FORMATS` that reads the most of ``texts`` (distinct date cells), and whether
    another format reads as many into other dates (day and month cannot be told apart: no day above 12).

    ISO dates written ``YYYY-MM-DD`` come back as ``%Y-%m-%d``. ``(None, False)`` without texts.
    """
    if not len(texts):
        return None, False
    parsed = {fmt: _parse_dates(texts, fmt) for fmt in DATE_FORMATS}
    best = max(DATE_FORMATS, key=lambda f: parsed[f].notna().sum())  # max keeps the first of equals
    count = parsed[best].notna().sum()
    ambiguous = any(parsed[f].notna().sum() == count and not parsed[f].equals(parsed[best]) for f in DATE_FORMATS)
    if best == "ISO8601" and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) for t in texts):
        best = "%Y-%m-%d"
    return best, ambiguous


# --- reading the folder ----------------------------------------------------------------------------------

@dataclass
class Export:
    """One table-like input: a delimited file, a workbook's sheet, a Parquet file, or files that differ only by a
    date in their name (read as one glob). ``options`` holds the read options detected (a key is absent when the
    file has no opinion, e.g. no separator for Excel); ``dates`` the latest date of each date column, ``numbers``
    the columns whose cells all read as numbers, ``not_dates`` and ``not_numbers`` a cell that does not."""

    files: list[Path]
    frame: pd.DataFrame
    sheet: str | None = None
    rows: int = 0
    options: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    dates: dict[str, pd.Timestamp | None] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)
    empty: set[str] = field(default_factory=set)
    not_dates: dict[str, str] = field(default_factory=dict)  # column -> a cell that is not a date
    not_numbers: dict[str, str] = field(default_factory=dict)  # column -> a cell that is not a number
    name_date: tuple[str, str] | None = None  # (regex whose group is the date in the file names, its format)

    def label(self, base: Path) -> str:
        """The export's files relative to ``base`` (a glob for a group), and its sheet."""
        name = _relative(self.files[0], base) if len(self.files) == 1 else self.pattern(base)
        return f"{name} [{self.sheet}]" if self.sheet is not None else name

    def pattern(self, base: Path) -> str:
        """The glob of a group's files (the date in the name replaced by ``*``), relative to ``base``."""
        first = self.files[0]
        match = _NAME_DATE.search(first.name)
        name = first.name if match is None else first.name[:match.start()] + "*" + first.name[match.end():]
        return _relative(first.parent / name, base)


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when they share a folder other than the root, else absolute."""
    path, base = Path(path).absolute(), Path(base).absolute()
    if os.path.commonpath([path, base]) == path.anchor:
        return path.as_posix()
    return Path(os.path.relpath(path, base)).as_posix()


def _read_text(path: Path) -> tuple[str, str, int, bool]:
    """Text, encoding, data lines (a header is counted) and whether only the head and tail were read."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        raw, partial = fh.read(_WHOLE_FILE + 1), size > _WHOLE_FILE
        lines = raw.count(b"\n")
        if partial:
            for block in iter(lambda: fh.read(1 << 24), b""):
                lines += block.count(b"\n")
            fh.seek(size - _CHUNK)
            tail = fh.read()
            raw = raw[:raw.rfind(b"\n", 0, _CHUNK) + 1] + tail[tail.find(b"\n") + 1:]
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    return text, encoding, lines + (not text.endswith("\n")) - 1, partial


def _first_row_is_data(labels: list[object]) -> bool:
    """Whether a header line holds dates or amounts (and no known column name): then it is a data row."""
    if any(normalise(label) in _INDEX for label in labels):
        return False
    return any(isinstance(v, (int, float, dt.date, np.number)) or _DATE_LIKE.fullmatch(str(v).strip())
               or _NUMBER_LIKE.fullmatch(str(v).strip()) for v in labels)


def _read_file(path: Path) -> list[Export]:
    """The exports of one file (one per non-empty sheet of a workbook); raises ``ValueError`` when unreadable."""
    suffix = path.suffix.lower()
    if suffix in _PARQUET:
        frame = pd.read_parquet(path)
        return [Export([path], frame, rows=len(frame))]
    if suffix in _EXCEL:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object)
        return [Export([path], frame, sheet=str(name), rows=len(frame)) for name, frame in sheets.items()
                if len(frame.columns)]
    text, encoding, rows, partial = _read_text(path)
    if not text.strip():
        raise ValueError("the file is empty")
    sep = sniff_separator(text)
    frame = pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                        skipinitialspace=True)
    export = Export([path], frame, rows=rows if partial else len(frame), options={"sep": sep, "encoding": encoding})
    if partial:
        export.notes.append(f"larger than {_WHOLE_FILE >> 20} MB: detected on its first and last {_CHUNK >> 20} MB")
    return [export]


def _cells(column: pd.Series) -> tuple[np.ndarray, int, int, int]:
    """Distinct non-empty text cells of a column, and how many cells are typed dates, typed numbers, other."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return np.array([], dtype=object), int(column.notna().sum()), 0, 0
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return np.array([], dtype=object), 0, int(column.notna().sum()), 0
    values = column.dropna().tolist()
    texts = pd.Series([v.strip() for v in values if isinstance(v, str)], dtype=object)
    typed = [v for v in values if not isinstance(v, str)]
    n_dates = sum(isinstance(v, (dt.date, np.datetime64)) for v in typed)
    n_numbers = sum(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in typed)
    return texts[texts.ne("")].unique(), n_dates, n_numbers, len(typed) - n_dates - n_numbers


def _numbers_read(texts: np.ndarray, options: dict) -> pd.Series:
    """``texts`` as the reader will read them with the detected options (NaN where it would report an error)."""
    read = ReadOptions(**{k: v for k, v in options.items() if k in ReadOptions.model_fields})
    return parse_numbers(pd.Series(texts, dtype=object), read, DRAFT_CURRENCY)[0]


def _inspect(export: Export) -> None:
    """Fill in the export's marks, date format, date and number columns (the detection on its cells)."""
    date_names = {n for n, entries in _INDEX.items() if any(_KIND.get(c) == "date" for c, _, _ in entries)}
    cells = {c: _cells(export.frame[c]) for c in export.frame.columns}
    date_like = {c for c, (texts, n_dates, n_numbers, other) in cells.items()
                 if not n_numbers and not other and (len(texts) or n_dates)
                 and all(_DATE_LIKE.fullmatch(t) or (normalise(c) in date_names and re.fullmatch(r"\d{8}", t))
                         for t in texts)}
    number_texts = [t for c, v in cells.items() if c not in date_like for t in v[0][:_VOTES]]
    export.options.update(detect_marks(number_texts, export.options.get("sep")))
    texts = np.unique(np.concatenate([cells[c][0] for c in date_like] or [np.array([], dtype=object)]).astype(str))
    fmt, ambiguous = detect_date_format(texts)
    if fmt:
        export.options["date_format"] = fmt
        if ambiguous:
            export.checks.append(f"dates read as {fmt!r}, but no day is above 12: day and month could be swapped")
    for c, (texts, n_dates, n_numbers, other) in cells.items():
        if not (len(texts) or n_dates or n_numbers or other):
            export.empty.add(c)  # an empty column fits any kind
            export.dates[c] = None
            export.numbers.add(c)
            continue
        example = str(texts[0]) if len(texts) else str(export.frame[c].dropna().iloc[0])
        read = _parse_dates(texts, fmt or DATE_FORMATS[0]) if c in date_like else None
        if read is not None and read.notna().all():
            typed = pd.to_datetime(export.frame[c], errors="coerce").max() if n_dates else pd.NaT
            export.dates[c] = max((d for d in (read.max(), typed) if pd.notna(d)), default=None)
        else:
            export.not_dates[c] = example if read is None else str(texts[read.isna().to_numpy()][0])
        read = _numbers_read(texts, export.options) if not n_dates and not other else None
        if read is not None and read.notna().all():
            export.numbers.add(c)
        else:
            export.not_numbers[c] = example if read is None else str(texts[read.isna().to_numpy()][0])


def _group(exports: list[Export]) -> list[Export]:
    """Files of one folder whose names differ only by a date (or year) and whose headers agree, as one export."""
    groups: dict[tuple, list[Export]] = {}
    for e in exports:
        path = e.files[0]
        key = (path.parent, _NAME_DATE.sub("*", path.name, count=1), tuple(e.frame.columns)) \
            if e.sheet is None and _NAME_DATE.search(path.name) else (id(e),)
        groups.setdefault(key, []).append(e)
    out = []
    for members in groups.values():
        first = members[0]
        if len(members) > 1:
            first = Export([f for e in members for f in e.files], pd.concat([e.frame for e in members],
                           ignore_index=True), rows=sum(e.rows for e in members), options=dict(first.options),
                           notes=[n for e in members for n in e.notes])
            differ = sorted({k for e in members for k, v in e.options.items() if first.options.get(k) != v})
            if differ:
                first.checks.append(f"the files differ in {', '.join(differ)}: read as the first one")
        match = _NAME_DATE.search(first.files[0].name) if first.sheet is None else None
        if match and len(match.group(1)) in _FULL_NAME_DATES:
            regex, fmt = _FULL_NAME_DATES[len(match.group(1))]
            first.name_date = (re.escape(first.files[0].name[:match.start()]) + f"({regex})", fmt)
        out.append(first)
    return out


def find_exports(folder: str | Path, skip: Path | None = None) -> tuple[list[Export], list[str]]:
    """The exports in ``folder`` and its subfolders, inspected, files that differ only by a date in their name
    grouped; and one line for each file set aside (unreadable, no header line, not an export).

    Parameters
    ----------
    folder
        the client's folder of exports.
    skip
        a file to leave out (the draft being written).
    """
    folder = Path(folder)
    exports, aside = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = _relative(path, folder)
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or (
                skip is not None and path.absolute() == Path(skip).absolute()):
            continue
        if path.suffix.lower() not in _TEXT | _EXCEL | _PARQUET:
            aside.append(f"{name}: not an export (CSV or other delimited text, Excel, Parquet)")
            continue
        try:
            found = _read_file(path)
        except Exception as exc:  # any reader's failure (parser, zip, Arrow, missing engine): set the file aside
            aside.append(f"{name}: cannot be read ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            continue
        for e in found:
            labels = list(e.frame.columns)
            if _first_row_is_data(labels):
                what = "a first row" if e.sheet is not None else "a first line"
                aside.append(f"{e.label(folder)}: {_describe(e.options)}; no header: the first "
                             f"{'row' if e.sheet is not None else 'line'} is data "
                             f"({', '.join(repr(str(v)) for v in labels[:4])}), not column names; add {what} "
                             "with the column names and run init again")
            else:
                e.frame.columns = [str(c).strip() for c in labels]
                exports.append(e)
    exports = _group(exports)
    for e in exports:
        _inspect(e)
    return exports, aside


def _describe(options: dict) -> str:
    """Read options in words, for the comments."""
    names = {"sep": "separator", "decimal": "decimal", "thousands": "thousands", "encoding": "encoding",
             "date_format": "dates"}
    shown = {"\t": "tab", WHITESPACE: "spaces"}
    return ", ".join(f"{label} {shown.get(options[k], repr(options[k]) if options[k] else 'none')}"
                     for k, label in names.items() if k in options) or "typed cells"


# --- columns and tables ----------------------------------------------------------------------------------

@dataclass
class Placement:
    """An export read as one canonical table: the columns mapped (client name -> canonical, identities
    included), the columns kept as they are, the checks to do, the required columns not found, and a score."""

    table: str
    export: Export
    columns: dict[str, str]
    languages: dict[str, str]
    unmapped: list[str]
    checks: list[str]
    missing: list[str]
    score: float = 0.0
    eligible: bool = False

    @property
    def found(self) -> set[str]:
        """The canonical columns this placement fills (``snapshot_date`` also from the file names)."""
        return set(self.columns.values()) | ({"snapshot_date"} if self.table == "snapshots"
                                             and self.export.name_date else set())


def _fits(export: Export, header: str, kind: str) -> str | None:
    """Why the cells of ``header`` do not fit a column of ``kind`` (``None`` when they do)."""
    if kind == "date" and header in export.not_dates:
        return f"its cells are not all dates (e.g. {export.not_dates[header]!r})"
    if kind == "float" and header in export.not_numbers:
        marks = f" with decimal {export.options['decimal']!r}" if "decimal" in export.options else ""
        return f"its cells are not all numbers{marks} (e.g. {export.not_numbers[header]!r})"
    return None


def map_columns(export: Export, table: str) -> Placement:
    """Map the export's headers to the columns of ``table`` by :data:`SYNONYMS`, checked on the cells.

    When two headers fit one column, the one with the more usual name wins and the other is kept as it is with
    a ``CHECK``; a header whose cells do not fit (a "date" that is not dates) is kept as it is with a ``CHECK``.
    """
    wanted = set(columns(table))
    candidates, checks, notes = [], [], {}
    for header in export.frame.columns:
        for canonical, lang, rank in _INDEX.get(normalise(header), ()):
            if canonical not in _KIND:
                notes[header] = f"{canonical} is not a canonical column"
            elif canonical in wanted:
                why = _fits(export, header, _KIND[canonical])
                if why:
                    checks.append(f"{header!r} is named like {canonical}, but {why}: kept as it is")
                else:
                    candidates.append((rank, canonical, header, lang))
    mapped, languages = {}, {}
    for rank, canonical, header, lang in sorted(candidates, key=lambda c: (c[2] in export.empty, c[0])):
        if header not in mapped and canonical not in mapped.values():
            mapped[header], languages[header] = canonical, lang
    for rank, canonical, header, lang in candidates:
        if header not in mapped:
            other = next(h for h, c in mapped.items() if c == canonical)
            checks.append(f"{header!r} could also be {canonical} (mapped: {other!r}); kept as it is")
    order = {c: i for i, c in enumerate(columns(table))}
    mapped = dict(sorted(mapped.items(), key=lambda kv: order[kv[1]]))
    unmapped = [f"{h} ({notes[h]})" if h in notes else h for h in export.frame.columns if h not in mapped]
    place = Placement(table, export, mapped, languages, unmapped, checks, [])
    place.missing = [c for c in columns(table, required=True) if c not in place.found]
    return place


def _hints(export: Export) -> set[str]:
    name = normalise(export.files[0].stem + (export.sheet or ""))
    return {t for t, words in _NAME_HINTS.items() if any(w in name for w in words)}


def _unique_ids(export: Export, header: str) -> bool:
    ids = export.frame[header].dropna().astype(str).str.strip()
    ids = ids[ids.ne("")]
    return len(ids) > 0 and ids.is_unique


def guess_table(export: Export) -> tuple[Placement | None, str]:
    """The table the export holds, by the columns it maps and its content, confirmed by its file name.

    Returns the best placement (``None`` when no table fits) and why: a file with due or payment dates holds
    invoices, one with one row per customer id and a name or attributes customers, one with ratings or scores
    snapshots, one with customer ids, dates and amounts (no due dates) transactions.
    """
    hints = _hints(export)
    places = {t: map_columns(export, t) for t in TABLES}
    sold = {"date", "amount"} <= places["transactions"].found
    due = bool(places["invoices"].found & {"due_date", "paid_date"})
    rated = bool(set(places["snapshots"].columns.values()) & _SNAPSHOT_ONLY)
    for t, p in places.items():
        id_header = next((h for h, c in p.columns.items() if c == "customer_id"), None)
        p.eligible = id_header is not None and {
            "customers": (bool(p.found & (_CUSTOMER_ATTRIBUTES | {"credit_limit"})) and not (sold or due or rated)
                          and _unique_ids(export, id_header)),
            "transactions": sold and not due,
            "invoices": due or ("invoice_id" in p.found and t in hints),
            "snapshots": rated,
        }[t]
        required = columns(t, required=True)
        p.score = 10 * sum(c in p.found for c in required) / len(required) + len(p.found) + 3 * (t in hints)
    eligible = [p for p in places.values() if p.eligible]
    if eligible:
        best = max(eligible, key=lambda p: p.score)
        if best.table not in hints:
            best.checks.append("table guessed from its columns and cells only (the file name does not say)")
        return best, f"{best.table}: {len(best.columns)} columns mapped"
    if len(hints) == 1:
        best = places[hints.pop()]
        best.checks.append("table guessed from the file name only: its columns do not say")
        return best, f"{best.table}: from the file name"
    known = [h for h in export.frame.columns if normalise(h) in _INDEX]
    return None, (f"no table fits its columns (known names: {', '.join(known) or 'none'}; a table needs a customer "
                  "id and, for transactions, a date and an amount)")


def _customer_ids(p: Placement) -> set[str]:
    header = next((h for h, c in p.columns.items() if c == "customer_id"), None)
    if header is None:
        return set()
    col = p.export.frame[header].dropna()
    return {str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip() for v in col} - {""}


# --- the draft -------------------------------------------------------------------------------------------

@dataclass
class Draft:
    """What ``init`` found and wrote: the YAML text, where, and for the summary the tables found (table -> path
    or glob), the columns kept as they are, the checks to do, what is missing and the files not placed."""

    text: str
    path: Path
    tables: dict[str, str]
    unmapped: dict[str, list[str]]
    checks: list[str]
    missing: list[str]
    unplaced: list[str]


def _scalar(text: object) -> str:
    """A YAML scalar (key or value): plain when it reads back unchanged, else double-quoted; ``None`` is null."""
    if text is None:
        return "null"
    text = str(text)
    if re.fullmatch(r"[A-Za-z0-9_][\w .()/'*-]*", text) and text == text.strip():
        try:
            if yaml.safe_load(f"{text}: {text}") == {text: text}:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _line(text: str, comment: str = "") -> str:
    return f"{text:<{_COMMENT_AT}} # {comment}" if comment else text


def _safe_client(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
    return safe or "client"


def _majority(placements: list[Placement]) -> dict[str, str | None]:
    """Per read option, the value most tables have (ties: the first table's); tables that differ repeat it."""
    out = {}
    for key in ("sep", "decimal", "thousands", "encoding", "date_format"):
        values = [p.export.options[key] for p in placements if key in p.export.options]
        if values:
            counts = Counter(values)
            out[key] = max(dict.fromkeys(values), key=lambda v: counts[v])
    return out


def _place(exports: list[Export], folder: Path) -> tuple[dict[str, Placement], list[str]]:
    """Each export's table (the better one when two claim the same), and the exports not placed with why."""
    chosen: dict[str, Placement] = {}
    unplaced = []
    for export in exports:
        place, why = guess_table(export)
        if place is None:
            unplaced.append(f"{export.label(folder)}: {why}")
            continue
        other = chosen.get(place.table)
        if other is not None:
            keep, drop = (place, other) if place.score > other.score else (other, place)
            unplaced.append(f"{drop.export.label(folder)}: also looks like {place.table}, which is read from "
                            f"{keep.export.label(folder)} (a table reads one file or one glob)")
            place = keep
        chosen[place.table] = place
    reference = chosen.get("customers") or chosen.get("transactions")  # customer ids found again confirm the key
    known = _customer_ids(reference) if reference else set()
    for p in chosen.values():
        ids = _customer_ids(p)
        if p is not reference and ids and known:
            share = len(ids & known) / len(ids)
            said = f"{share:.0%} of its {len(ids)} customer ids are in {reference.table}"
            if share >= 0.5:
                p.export.notes.append(said)
            else:
                p.checks.append(f"only {said}: is the customer id the right column?")
    return {t: chosen[t] for t in TABLES if t in chosen}, unplaced


def _latest_date(placements: list[Placement]) -> pd.Timestamp | None:
    """The latest transaction, issue, payment, snapshot or start date in the data (due dates lie ahead)."""
    dates = [d for p in placements for h, c in p.columns.items() if c in _EVENT_DATES
             for d in [p.export.dates.get(h)] if d is not None and pd.notna(d)]
    dates += [pd.Timestamp(m.group(1)) for p in placements if p.table == "snapshots" and p.export.name_date
              for f in p.export.files for m in [re.search(p.export.name_date[0], f.name)] if m]
    return max(dates, default=None)


def _table_yaml(p: Placement, read: dict, base: Path, folder: Path) -> tuple[str, list[str]]:
    """The path (or glob) of a placed table and its lines of YAML, with what was detected in comments."""
    e = p.export
    from_name = p.table == "snapshots" and e.name_date and "snapshot_date" not in p.columns.values()
    path = e.pattern(base) if len(e.files) > 1 or from_name else _relative(e.files[0], base)
    lines = [f"  # {e.label(folder)}: {e.rows} rows, {len(e.frame.columns)} columns; {_describe(e.options)}",
             *(f"  # {note}" for note in e.notes), f"  {p.table}:",
             _line(f"    path: {_scalar(path)}", "relative to this file" if "*" not in path else
                   "a glob: one file per date" if p.table == "snapshots" else
                   "a glob: files that differ by the date in their name")]
    if e.sheet is not None:
        lines.append(f"    sheet: {_scalar(e.sheet)}")
    if from_name:
        lines.append(_line(f"    snapshot_date_from_filename: {json.dumps(e.name_date[0])}",
                           "regex whose group is the date"))
    renamed = {h: c for h, c in p.columns.items() if h != c}
    same = [h for h, c in p.columns.items() if h == c]
    if renamed:
        lines.append(_line("    columns:", "client name -> canonical name"))
        lines += [f"      {_scalar(h)}: {c}" for h, c in renamed.items()]
    else:
        lines.append(_line("    columns: {}", "no column to rename"))
    if same:
        lines.append(f"    # already canonical: {', '.join(same)}")
    if p.unmapped:
        lines.append(f"    # unmapped (kept as they are): {', '.join(p.unmapped)}")
    lines += [f"    # CHECK: {c}" for c in e.checks + p.checks]
    for c in p.missing:
        fits = [repr(h) for h in e.frame.columns if h not in p.columns and h not in e.empty
                and _KIND[c] in ("date", "float") and _fits(e, h, _KIND[c]) is None]
        hint = f" ({', '.join(fits)} {'holds' if len(fits) == 1 else 'hold'} {_KIND[c]}s)" if fits else ""
        lines.append(f"    # MISSING: {c} (required): add the client's column under columns as `<name>: {c}`{hint}")
    lines += [f"    {k}: {_scalar(e.options[k])}" for k in read if k in e.options and e.options[k] != read[k]]
    return path, lines


def draft_config(folder: str | Path, out: str | Path | None = None, client: str | None = None,
                 as_of: str | dt.date | None = None) -> Draft:
    """Draft a commented ``portfolio.yaml`` for the exports in ``folder`` (nothing is written).

    Parameters
    ----------
    folder
        the client's folder of exports.
    out
        where the draft will be written (default ``folder/portfolio.yaml``): paths are relative to it.
    client
        the client's name (default: the folder's name, made of letters, digits and ``._-``).
    as_of
        the analysis date (default: the latest transaction, issue, payment, snapshot or start date in the data).

    Raises
    ------
    DraftError
        the folder is missing or holds no readable export; ``client`` or ``as_of`` is malformed.
    """
    given, folder = str(folder).rstrip("/") or "/", Path(folder)
    if not folder.is_dir():
        raise DraftError(f"{folder}: no such folder")
    out = Path(out) if out else folder / "portfolio.yaml"
    out = out / "portfolio.yaml" if out.is_dir() else out
    if client is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", client):
        raise DraftError(f"--client {client!r}: use letters, digits, '.', '_' and '-' only, starting with a letter "
                         "or digit")
    try:
        as_of = dt.date.fromisoformat(str(as_of)) if as_of is not None else None
    except ValueError:
        raise DraftError(f"--as-of {as_of!r}: expected a date as YYYY-MM-DD") from None
    exports, aside = find_exports(folder, skip=out)
    if not exports and not any("no header" in a for a in aside):
        raise DraftError(f"{folder}: no readable export found (CSV or other delimited text, Excel, Parquet)")
    folder = folder.absolute()
    chosen, unplaced = _place(exports, folder)
    placements = list(chosen.values())
    for p in placements:  # snapshot dates from the file names are read in the names' format
        if p.table == "snapshots" and p.export.name_date and "snapshot_date" not in p.columns.values():
            p.export.options["date_format"] = p.export.name_date[1]
    latest, as_of_note = _latest_date(placements), "given with --as-of"
    if as_of is None:
        as_of, as_of_note = ((latest.date(), "the latest transaction, invoice, payment or snapshot date seen")
                             if latest is not None else (dt.date.today(), "CHECK: no date in the data: today"))
    langs = Counter(lang for p in placements for lang in p.languages.values())
    language = "it" if langs["it"] > langs["en"] else "en"
    read = _majority(placements)

    lines = [f"# Drafted by `portfolio-kit init` from {given}/ on {dt.date.today()}: see the lines marked CHECK and",
             f"# MISSING, then run `portfolio-kit validate {out}`. Extra client columns are kept as they are.",
             _line(f"client: {_scalar(client or _safe_client(folder.name))}",
                   "given with --client" if client else "the folder's name; the folder name under reports/"),
             _line(f"as_of: {as_of}", f"analysis date (YYYY-MM-DD): {as_of_note}"),
             _line(f"currency: {DRAFT_CURRENCY}", "CHECK: not detected"),
             _line(f"language: {language}", f"most mapped headers are {'Italian' if language == 'it' else 'English'}")]
    if read:
        lines.append(_line("read:", "detected; a table that differs repeats the key"))
        lines += [f"  {k}: {_scalar(v)}" for k, v in read.items()]
    lines.append("tables:")
    tables = {}
    for p in placements:
        tables[p.table], table_lines = _table_yaml(p, read, out.absolute().parent, folder)
        lines += table_lines
    others = [t for t in TABLES if t not in chosen]
    if not chosen:
        lines.append("  # MISSING: no export looks like one of the four tables: add at least one by hand")
    elif others:
        sales = "; the invoices are the sales" if "invoices" in chosen and "transactions" in others else ""
        lines.append(f"  # not found: {', '.join(others)} (any subset of the four tables is a client{sales})")
    if unplaced + aside:
        lines += ["# Files not placed in a table:", *(f"#   {u}" for u in aside + unplaced)]
    checks = [f"{p.table}: {c}" for p in placements for c in p.export.checks + p.checks]
    checks += [f"as_of: {as_of_note}"] if as_of_note.startswith("CHECK") else []
    missing = [f"{p.table}.{c}" for p in placements for c in p.missing] + ([] if chosen else ["a table"])
    return Draft("\n".join(lines) + "\n", out, tables, {p.table: p.unmapped for p in placements if p.unmapped},
                 checks, missing, aside + unplaced)


def write_draft(folder: str | Path, out: str | Path | None = None, client: str | None = None,
                as_of: str | dt.date | None = None) -> Draft:
    """Draft the config (see :func:`draft_config`) and write it, never over an existing file.

    Raises
    ------
    DraftError
        as :func:`draft_config`, and when the file exists.
    """
    target = Path(out) if out else Path(folder) / "portfolio.yaml"
    target = target / "portfolio.yaml" if target.is_dir() else target
    if target.exists():
        raise DraftError(f"{target} already exists and init never overwrites a file: move it away or pass --out "
                         "another path")
    draft = draft_config(folder, target, client, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as fh:
        fh.write(draft.text)
    return draft
