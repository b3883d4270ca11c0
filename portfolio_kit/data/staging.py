"""Large clients: validate exports chunk by chunk into canonical Parquet, keep a seeded sample in memory.

When a raw table (transactions, invoices) has more rows than the config's ``engine.raw_rows_limit`` (or the
engine is set to ``duckdb``/``spark``), :func:`portfolio_kit.data.portfolio.load_portfolio` does not build it in pandas.
Instead each file is read in chunks of :data:`CHUNK_ROWS` rows, every chunk goes through the same parsing and
checks as small files (same messages, same file line numbers), and the canonical rows (as of the analysis
date) are written as Parquet files into a staging folder. Aggregations over all rows then run on an engine
(:mod:`portfolio_kit.engines`) straight from those files; notebooks hold the rows of a seeded sample of
customers, at most ``raw_rows_limit`` rows per table, for row-level models and plots of raw distributions.

The staging folder is a cache keyed by the SHA-256 of the input files, the config and the as-of date: a run
validates once and every notebook of the run reuses it. Input files are only ever read.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from portfolio_kit import __version__
from portfolio_kit.data.config import PortfolioConfig, ReadOptions, engine_for_rows
from portfolio_kit.data.exports import (Collector, DataQualityReport, Problem, as_of_cut, bom_encoding, canonicalise,
                                        check_keys, cross_checks, file_sha256, fill_due_dates, read_table, scan_lines,
                                        sniff_separator, table_files, text_readable)

__all__ = ["RAW_TABLES", "CHUNK_ROWS", "StagedTables", "parquet_rows", "raw_row_count", "client_engine",
           "stage_tables", "sample_rows", "staged_customer_ids"]

log = logging.getLogger(__name__)

#: The tables that can hold millions of rows; customers and snapshots always load in pandas.
RAW_TABLES = ("transactions", "invoices")
CHUNK_ROWS = 1_000_000
_KEEP_STAGED = 4  # staged input sets kept in the cache (the most recently used)


@dataclass(frozen=True)
class StagedTables:
    """Canonical Parquet files of the raw tables, and their row counts (as of the analysis date)."""

    folder: Path
    files: dict[str, list[Path]]
    rows: dict[str, int]


def _format(path: Path, opts: ReadOptions) -> str:
    return opts.format or {".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".parquet": "parquet",
                           ".pq": "parquet"}.get(path.suffix.lower(), "csv")


def parquet_rows(files) -> int:
    """Rows of Parquet files, from their metadata (nothing else is read)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def raw_row_count(cfg: PortfolioConfig, table: str) -> int:
    """Rows of a table's files, cheaply: Parquet metadata, or CSV size over the mean length of its first lines."""
    if table not in cfg.tables:
        return 0
    total = 0
    for path in table_files(table, cfg.tables[table].path, Collector(DataQualityReport(), table, "")):
        if not path.is_file():
            continue
        fmt = _format(path, cfg.read_options(table))
        if fmt == "parquet":
            try:
                total += parquet_rows([path])
            except (OSError, pa.ArrowException):  # a damaged file: reported when it is read
                continue
        elif fmt == "csv":
            with open(path, "rb") as f:
                head = f.read(1 << 20)
            lines = max(head.count(b"\n"), 1)
            total += int(path.stat().st_size / (len(head) / lines)) if head else 0
    return total


def client_engine(cfg: PortfolioConfig) -> str:
    """The engine of a client's aggregations over raw rows, decided once per load: the config's ``engine.name``,
    or for ``auto`` :func:`~portfolio_kit.data.config.engine_for_rows` of its largest raw table (estimated from
    the files' sizes, without reading them). Any engine but pandas stages the raw tables to Parquet."""
    if cfg.engine.name != "auto":
        return cfg.engine.name
    largest = max((raw_row_count(cfg, t) for t in RAW_TABLES if t in cfg.tables), default=0)
    return engine_for_rows(largest, cfg.engine.raw_rows_limit)


# --- reading in chunks -----------------------------------------------------------------------------------

def _encoding(path: Path, opts: ReadOptions, out: Collector) -> str | None:
    """The file's encoding: a UTF-16/32 byte-order mark's, else the config's, else UTF-8 (with or without BOM) if
    every byte decodes, else cp1252; ``None`` after an error when the first two leave a byte undecoded."""
    with open(path, "rb") as f:
        forced = bom_encoding(f.read(4)) or opts.encoding
    lines, block = 0, b""
    try:
        decoder = codecs.getincrementaldecoder(forced or "utf-8-sig")()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                decoder.decode(block)
                lines += block.count(b"\n")
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, LookupError) as exc:
        if forced:
            line = lines + block[: getattr(exc, "start", 0)].count(b"\n") + 1
            out.add("error", f"cannot be read as {forced} (first bad byte on line {line}); "
                             "set 'encoding' in the config (e.g. cp1252 or latin-1 for older exports)")
            return None
        out.add("warning", "not valid UTF-8: read as cp1252 (set 'encoding' in the config to silence this)")
        return "cp1252"
    return forced or "utf-8-sig"


def _chunks(path: Path, opts: ReadOptions, out: Collector):
    """Yield ``(frame, options used)`` chunks indexed by file line (CSV, Excel) or row number (Parquet)."""
    fmt = _format(path, opts)
    if not path.is_file():
        out.add("error", "file not found")
        return
    if fmt == "parquet":
        start = 1
        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
                frame = batch.to_pandas()
                frame.index = np.arange(start, start + len(frame))
                start += len(frame)
                yield frame, opts.model_copy(update={"format": fmt})
        except (OSError, pa.ArrowException) as exc:  # a damaged file: a finding about the file
            out.add("error", f"cannot be read as Parquet: {exc}")
        return
    if fmt == "excel":  # Excel sheets are small by construction (about 1M rows at most)
        got = read_table(path, opts, out)
        if got is not None:
            yield got
        return
    encoding = _encoding(path, opts, out)
    if encoding is None:
        return
    with open(path, encoding=encoding) as f:
        head = f.read(1 << 16)
        if not head.strip():
            out.add("error", "file is empty: expected a header line and data rows")
            return
        if not text_readable(head, out):
            return
        sep = opts.sep or sniff_separator(head.lstrip("\ufeff"))
        f.seek(0)
        found = scan_lines(f, sep)  # the records' physical lines, in one pass before the chunks
    if not found.report(out):
        return
    used, record = opts.model_copy(update={"format": fmt, "sep": sep}), 0
    try:
        for frame in pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                 skipinitialspace=True, encoding=encoding, chunksize=CHUNK_ROWS):
            frame.index = found.lines(record, len(frame))
            record += len(frame)
            frame.columns = [str(c).strip() for c in frame.columns]
            yield frame.drop(index=[first for first, _ in found.unclosed], errors="ignore"), used
    except ValueError as exc:  # pandas' ParserError included
        found.read_error(exc, out)
        return
    found.check_rows(record, out)


# --- staging ---------------------------------------------------------------------------------------------

def _problem_kind(p: Problem) -> tuple:
    """Problems of later chunks merge with the first one of the same kind (examples and counts aside)."""
    return p.severity, p.table, p.file, p.column, re.sub(r"'[^']*'|\d+", "#", p.message)


def _merge(problems: list[Problem]) -> list[Problem]:
    merged: dict[tuple, Problem] = {}
    for p in problems:
        kind = _problem_kind(p)
        first = merged.get(kind)
        merged[kind] = p if first is None else Problem(first.severity, first.table, first.file, first.message,
                                                       first.column, first.rows + p.rows)
    return list(merged.values())


class _Totals:
    """The data-quality summary of one table, accumulated over its chunks."""

    def __init__(self, table: str, date_col: str):
        self.table, self.date_col = table, date_col
        self.rows, self.amount, self.files = 0, 0.0, set()
        self.first, self.last = pd.NaT, pd.NaT
        self.ids: list[pa.Array] = []

    def add(self, frame: pd.DataFrame, file: str) -> None:
        self.rows += len(frame)
        self.files.add(file)
        self.amount += float(frame["amount"].sum())
        dates = frame[self.date_col].dropna()
        if len(dates):
            self.first = min(dates.min(), self.first) if pd.notna(self.first) else dates.min()
            self.last = max(dates.max(), self.last) if pd.notna(self.last) else dates.max()
        self.ids.append(pc.unique(pa.array(frame["customer_id"].astype("string"), pa.string()).drop_null()))

    def summary(self) -> dict:
        customers = len(pc.unique(pa.concat_arrays(self.ids))) if self.ids else 0
        return {"table": self.table, "files": len(self.files), "rows": self.rows, "customers": customers,
                "first_date": self.first, "last_date": self.last, "amount": self.amount}


def _duplicate_keys(files: list[Path], report: DataQualityReport) -> None:
    """Invoice numbers that appear more than once across all chunks and files."""
    import duckdb

    if not files:
        return
    con = duckdb.connect()
    found = con.execute(
        "WITH repeated AS (SELECT invoice_id FROM read_parquet($files) WHERE invoice_id IS NOT NULL "
        "                  GROUP BY invoice_id HAVING count(*) > 1) "
        "SELECT invoice_id, list(_file ORDER BY _file, _line)[1] AS file, list(_line ORDER BY _file, _line) AS lines "
        "FROM read_parquet($files) SEMI JOIN repeated USING (invoice_id) GROUP BY invoice_id ORDER BY file, lines[1]",
        {"files": [str(f) for f in files]}).df()
    con.close()
    for file, group in found.groupby("file", sort=False):
        values = ", ".join(repr(v) for v in group["invoice_id"].head(3))
        lines = tuple(sorted(int(x) for ls in group["lines"] for x in ls))
        report.problems.append(Problem("error", "invoices", str(file), f"duplicate key invoice_id: {values}; each "
                                       "must appear once", "invoice_id", lines))


def _stage_table(cfg: PortfolioConfig, table: str, customers: pd.DataFrame | None, folder: Path,
                 report: DataQualityReport) -> list[Path]:
    tcfg, opts, as_of = cfg.tables[table], cfg.read_options(table), pd.Timestamp(cfg.as_of)
    totals = _Totals(table, "date" if table == "transactions" else "issue_date")
    written: list[Path] = []
    (folder / table).mkdir(parents=True, exist_ok=True)
    for path in table_files(table, tcfg.path, Collector(report, table, str(tcfg.path))):
        out = Collector(report, table, path.name)
        for raw, used in _chunks(path, opts, out):
            frame = canonicalise(table, raw, used, tcfg.columns, out, cfg.currency)
            if frame is None:
                break  # a missing column is reported once per file
            if table != "invoices":
                check_keys(table, frame, out)
            tables = {table: frame.assign(_file=path.name, _line=frame.index)}
            if customers is not None:
                tables["customers"] = customers
            if table == "invoices":
                fill_due_dates(tables, report)
            cross_checks(tables, as_of, report)
            totals.add(tables[table], path.name)
            kept = as_of_cut(tables, as_of)[table]
            if table == "transactions":
                kept = kept.assign(is_return=kept["amount"] < 0)
            target = folder / table / f"part-{len(written):05d}.parquet"
            kept.reset_index(drop=True).to_parquet(target, index=False)
            written.append(target)
    if written:
        report.summary.append(totals.summary())
    if table == "invoices":
        _duplicate_keys(written, report)
    return written


def _input_key(cfg: PortfolioConfig) -> str:
    """SHA-256 of what the staged rows depend on: the kit's version, the config, the as-of date, the inputs."""
    digest = hashlib.sha256(f"{__version__}|{cfg.as_of}|".encode())
    digest.update(cfg.model_dump_json(include={"read", "tables", "currency"}).encode())
    for table in ("customers", *RAW_TABLES):
        if table not in cfg.tables:
            continue
        for path in table_files(table, cfg.tables[table].path, Collector(DataQualityReport(), table, "")):
            digest.update(f"{path}|{file_sha256(path) if path.is_file() else ''}|".encode())
    return digest.hexdigest()


def staging_root(cfg: PortfolioConfig) -> Path:
    """``engine.staging`` of the config, else the user's cache folder (``$XDG_CACHE_HOME``/portfolio-kit)."""
    if cfg.engine.staging:
        return Path(cfg.engine.staging)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "portfolio-kit" / "staged"


def _prune(root: Path) -> None:
    done = sorted((p for p in root.iterdir() if (p / "staged.json").is_file()),
                  key=lambda p: (p / "staged.json").stat().st_mtime, reverse=True)
    for old in done[_KEEP_STAGED:]:
        shutil.rmtree(old, ignore_errors=True)


def stage_tables(cfg: PortfolioConfig, customers: pd.DataFrame | None,
                 report: DataQualityReport) -> StagedTables | None:
    """Validate the raw tables chunk by chunk into canonical Parquet (cached); problems go to ``report``.

    Returns ``None`` when errors were found (nothing is kept in the cache then).
    """
    root = staging_root(cfg)
    folder = root / _input_key(cfg)[:24]
    meta = folder / "staged.json"
    if meta.is_file():
        saved = json.loads(meta.read_text(encoding="utf-8"))
        report.problems += [Problem(**{**p, "rows": tuple(p["rows"])}) for p in saved["problems"]]
        report.summary += [{**s, "first_date": pd.Timestamp(s["first_date"]), "last_date": pd.Timestamp(s["last_date"])}
                           for s in saved["summary"]]
        os.utime(meta)
        log.info("reusing staged tables in %s", folder)
        return StagedTables(folder, {t: [folder / f for f in fs] for t, fs in saved["files"].items()}, saved["rows"])
    partial = root / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    own = DataQualityReport()
    files = {t: _stage_table(cfg, t, customers, partial, own) for t in RAW_TABLES if t in cfg.tables}
    own.problems[:] = _merge(own.problems)
    report.problems += own.problems
    report.summary += own.summary
    if not own.ok:
        shutil.rmtree(partial, ignore_errors=True)
        return None
    rows = {t: parquet_rows(fs) for t, fs in files.items()}
    meta_partial = partial / "staged.json"
    meta_partial.write_text(json.dumps({
        "kit_version": __version__, "as_of": str(cfg.as_of), "rows": rows,
        "files": {t: [str(f.relative_to(partial)) for f in fs] for t, fs in files.items()},
        "problems": [{**p.__dict__, "rows": list(p.rows)} for p in own.problems],
        "summary": [{**s, "first_date": str(s["first_date"]), "last_date": str(s["last_date"])} for s in own.summary],
    }, indent=1, default=str), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    _prune(root)
    pa.default_memory_pool().release_unused()  # hand the chunks' buffers back before the notebooks start
    return StagedTables(folder, {t: [folder / f.relative_to(partial) for f in fs] for t, fs in files.items()}, rows)


def staged_customer_ids(staged: StagedTables) -> pd.Series:
    """The distinct customer ids of the staged raw tables (for a client without a customer master)."""
    import duckdb

    files = [str(f) for table in RAW_TABLES for f in staged.files.get(table, [])]
    if not files:
        return pd.Series([], dtype="string", name="customer_id")
    with duckdb.connect() as con:
        ids = con.sql("SELECT DISTINCT customer_id FROM read_parquet($files, union_by_name = true)",
                      params={"files": files}).fetchnumpy()["customer_id"]
    return pd.Series(ids, dtype="string", name="customer_id").dropna()


def sample_rows(staged: StagedTables, table: str, customers: pd.DataFrame, limit: int,
                seed: int) -> tuple[pd.DataFrame, float]:
    """The rows of a seeded sample of customers, at most about ``limit`` rows; and the share of customers kept.

    Customers are kept when a uniform draw (seeded, in customer-id order) is below ``limit / rows``, so a
    smaller share keeps a subset of a larger one's customers and the transactions and invoices of a kept
    customer are all there. A table within the limit comes back whole (share 1).
    """
    files = staged.files.get(table, [])
    if not files:
        return None, 1.0
    rows = staged.rows.get(table, 0)
    share = 1.0 if rows <= limit else limit / rows
    schema = pq.read_schema(files[0])
    columns = [c for c in schema.names if c not in ("_file", "_line", "__index_level_0__")]
    if share == 1.0:
        return pq.ParquetDataset(files).read(columns=columns, use_pandas_metadata=False).to_pandas(), share
    import duckdb

    ids = np.sort(customers["customer_id"].dropna().astype(str).unique())
    kept = pa.table({"customer_id": ids[np.random.default_rng(seed).random(len(ids)) < share]})
    with duckdb.connect() as con:  # a semi-join reads the files in parallel, keeping their row order
        con.register("kept", kept)
        select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        frame = con.sql(f"SELECT {select} FROM read_parquet($files) "
                        "WHERE customer_id IN (SELECT customer_id FROM kept)",
                        params={"files": [str(f) for f in files]}).to_arrow_table()
    return frame.cast(pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)).to_pandas(), share
