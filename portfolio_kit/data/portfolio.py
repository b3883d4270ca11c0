"""A client's portfolio: the canonical tables as of a date, loaded and checked in one pass.

:func:`load_portfolio` reads every table of the config (:mod:`portfolio_kit.data.exports`), checks it and
across tables, sets aside what came after the as-of date and returns a :class:`Portfolio`; bad data raise
:class:`~portfolio_kit.data.exports.DataValidationError` with every problem at once. The engine that
aggregates raw rows is decided here, once (:func:`~portfolio_kit.data.staging.client_engine`), and recorded
on the portfolio: above the config's ``engine.raw_rows_limit`` the raw tables are staged to Parquet
(:mod:`portfolio_kit.data.staging`) and the notebooks hold a seeded sample of customers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from portfolio_kit.data.config import PortfolioConfig, input_files, load_config
from portfolio_kit.data.exports import (DataQualityReport, DataValidationError, as_of_cut, cross_checks, empty_table,
                                        fill_due_dates, load_table, table_summary)
from portfolio_kit.data.schemas import TABLES, columns
from portfolio_kit.data.staging import (RAW_TABLES, client_engine, parquet_rows, sample_rows, stage_tables,
                                        staged_customer_ids)

__all__ = ["Portfolio", "check_portfolio", "checked_portfolio", "load_portfolio", "HANDED_OVER", "portfolio_key",
           "hand_over", "pseudonymise", "pseudonym_key", "KEY_FILE",
           "sales_from_invoices", "customers_seen"]

log = logging.getLogger(__name__)


@dataclass
class Portfolio:
    """The canonical tables of one client as of a date, plus the data-quality report of the load.

    Any non-empty subset of the four tables is a client (``provided`` lists the ones it gave). Without a
    customer master, ``customers`` holds the ids seen in the other tables (no attributes); without sales
    lines, ``transactions`` are the invoices as sales (issue date and amount, credit notes negative) and
    ``sales_from`` says ``"invoices"``. A table the client did not give is empty, with its canonical columns.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    invoices: pd.DataFrame
    snapshots: pd.DataFrame
    as_of: pd.Timestamp
    report: DataQualityReport
    config: PortfolioConfig | None = None
    #: Large clients (:mod:`portfolio_kit.data.staging`): the canonical Parquet files of the raw tables, and the
    #: share of customers whose raw rows ``transactions``/``invoices`` hold (1.0: all of them).
    files: dict[str, list[Path]] = field(default_factory=dict)
    sample_share: dict[str, float] = field(default_factory=dict)
    engine: str = "pandas"
    provided: tuple[str, ...] = ("customers", "transactions", "invoices", "snapshots")
    sales_from: str = "transactions"

    def has(self, table: str) -> bool:
        """True when the client gave ``table`` (sales taken from invoices count as ``transactions``)."""
        return table in self.provided or (table == "transactions" and self.sales_from == "invoices")

    def rows(self, table: str) -> pd.DataFrame | list[Path]:
        """All raw rows of ``table`` for :mod:`portfolio_kit.engines`: the staged files, else the frame."""
        return self.files.get(table) or getattr(self, table)

    def count(self, table: str) -> int:
        """Rows of ``table`` as of the analysis date: all of them, also when only a sample is in memory."""
        if table in self.files:
            return parquet_rows(self.files[table])
        return len(getattr(self, table))

    @property
    def sampled(self) -> bool:
        """True when the in-memory raw rows are a sample of the customers (see ``sample_share``)."""
        return any(share < 1.0 for share in self.sample_share.values())


def check_portfolio(cfg: PortfolioConfig, *, rows: bool = True) -> tuple[Portfolio | None, DataQualityReport]:
    """Load and validate every table of the config; never raises for bad data.

    Returns the portfolio (``None`` when there are errors) and the report with every problem found. With
    ``rows=False`` a large client is validated and staged without reading its customer sample back (the
    portfolio is then ``None``): all a check before a run needs.
    """
    engine = client_engine(cfg)
    if engine != "pandas":
        return _check_staged(cfg, engine, rows)
    report = DataQualityReport()
    as_of = pd.Timestamp(cfg.as_of)
    tables = {name: load_table(cfg, name, report) for name in cfg.tables}
    loaded = {k: v for k, v in tables.items() if v is not None}
    if "invoices" in loaded:
        fill_due_dates(loaded, report)
    cross_checks(loaded, as_of, report)
    for name, frame in loaded.items():
        report.summary.append(table_summary(name, frame, frame["_file"].nunique()))
    if not report.ok or any(frame is None for frame in tables.values()):
        return None, report
    loaded = as_of_cut(loaded, as_of)
    clean = {name: loaded[name].drop(columns=["_file", "_line"]).reset_index(drop=True) if name in loaded
             else empty_table(name) for name in TABLES}
    sales_from = "transactions" if "transactions" in loaded else "invoices" if "invoices" in loaded else ""
    if sales_from == "invoices":
        clean["transactions"] = sales_from_invoices(clean["invoices"])
    if "customers" not in loaded:
        clean["customers"] = customers_seen(clean)
    clean["transactions"] = clean["transactions"].assign(is_return=clean["transactions"]["amount"] < 0)
    return Portfolio(as_of=as_of, report=report, config=cfg, provided=tuple(t for t in TABLES if t in loaded),
                     sales_from=sales_from, **clean), report


def sales_from_invoices(invoices: pd.DataFrame) -> pd.DataFrame:
    """Invoices as sales lines, for a client without a sales ledger: one transaction per invoice on its issue
    date for its amount (credit notes, negative, are returns); no margin, product or channel."""
    sales = empty_table("transactions").reindex(range(len(invoices)))
    sales["customer_id"] = invoices["customer_id"].to_numpy()
    sales["date"] = invoices["issue_date"].to_numpy()
    sales["amount"] = invoices["amount"].to_numpy()
    return sales.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)


def customers_seen(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A customer master for a client without one: every customer id seen in the other tables, sorted, with
    no attributes."""
    ids = pd.concat([tables[t]["customer_id"] for t in ("transactions", "invoices", "snapshots")]).dropna().unique()
    customers = empty_table("customers").reindex(range(len(ids)))
    customers["customer_id"] = pd.array(sorted(ids), dtype="string")
    return customers


def _check_staged(cfg: PortfolioConfig, engine: str, rows: bool = True) -> tuple[Portfolio | None, DataQualityReport]:
    """:func:`check_portfolio` for large clients: raw tables staged to Parquet, a customer sample in memory."""
    report = DataQualityReport()
    as_of = pd.Timestamp(cfg.as_of)
    small = {name: load_table(cfg, name, report) for name in cfg.tables if name not in RAW_TABLES}
    loaded = {k: v for k, v in small.items() if v is not None}
    staged = stage_tables(cfg, loaded.get("customers"), report)
    cross_checks(loaded, as_of, report)
    for name, frame in loaded.items():
        report.summary.append(table_summary(name, frame, frame["_file"].nunique()))
    report.summary.sort(key=lambda row: list(TABLES).index(row["table"]))
    if not rows or staged is None or not report.ok or any(frame is None for frame in small.values()):
        return None, report
    loaded = as_of_cut(loaded, as_of)
    clean = {name: loaded[name].drop(columns=["_file", "_line"]).reset_index(drop=True) if name in loaded
             else empty_table(name) for name in TABLES if name not in RAW_TABLES}
    if "customers" not in cfg.tables:
        seen = {"transactions": pd.DataFrame({"customer_id": staged_customer_ids(staged)}),
                "invoices": empty_table("invoices"), "snapshots": clean["snapshots"]}
        clean["customers"] = customers_seen(seen)
    shares = {}
    for table in RAW_TABLES:
        frame, shares[table] = sample_rows(staged, table, clean["customers"], cfg.engine.raw_rows_limit,
                                           cfg.engine.sample_seed)
        clean[table] = frame if frame is not None else empty_table(table)
    portfolio = Portfolio(as_of=as_of, report=report, config=cfg, files=staged.files, sample_share=shares,
                          engine=engine, provided=tuple(t for t in TABLES if t in cfg.tables),
                          sales_from="transactions" if "transactions" in cfg.tables else "", **clean)
    if portfolio.sampled:
        log.info("raw rows in memory: a seeded sample of customers (%s); aggregations read all rows from %s",
                 ", ".join(f"{t} {s:.1%}" for t, s in shares.items()), staged.folder)
    return portfolio, report


def load_portfolio(config: PortfolioConfig | str | Path, as_of: str | None = None,
                   pseudonymise_names: bool = False) -> Portfolio:
    """All canonical tables of the client as of the config's date (or ``as_of``).

    ``config`` is a loaded config or the path of a ``portfolio.yaml``. Raises :class:`DataValidationError`
    listing every error at once; warnings are logged and kept in ``portfolio.report``. With
    ``pseudonymise_names`` customer, account manager and officer names are replaced by stable pseudonyms.
    In a kernel started by the runner, the portfolio the runner checked is read from the file it hands over
    (:data:`HANDED_OVER`) when it is the same client, options and unchanged files: no second read and check.

    Examples
    --------
    >>> portfolio = load_portfolio("data/sample/portfolio.yaml")      # doctest: +SKIP
    >>> portfolio.transactions.columns[:3].tolist()                      # doctest: +SKIP
    ['customer_id', 'date', 'amount']
    """
    cfg = config if isinstance(config, PortfolioConfig) else load_config(config, as_of=as_of or None)
    portfolio = _handed_over(portfolio_key(cfg, pseudonymise_names))
    if portfolio is None:
        portfolio, report = checked_portfolio(cfg, pseudonymise_names)
        if portfolio is None:
            raise DataValidationError(report)
    for p in portfolio.report.warnings:
        log.warning("%s", p)
    return portfolio


def checked_portfolio(cfg: PortfolioConfig, pseudonymise_names: bool = False
                      ) -> tuple[Portfolio | None, DataQualityReport]:
    """:func:`check_portfolio`, pseudonymised as :func:`load_portfolio` does with ``pseudonymise_names``."""
    portfolio, report = check_portfolio(cfg)
    if portfolio is not None and pseudonymise_names:
        folder = Path(cfg.source).parent if cfg.source else Path.cwd()
        portfolio = pseudonymise(portfolio, pseudonym_key(folder), cfg.pseudonymise_keep)
    return portfolio, report


#: The environment variable naming the file in which a runner hands its checked portfolio to the kernels it
#: starts (:func:`hand_over`); read by :func:`load_portfolio`.
HANDED_OVER = "PORTFOLIO_KIT_CHECKED"


def portfolio_key(cfg: PortfolioConfig, pseudonymise_names: bool) -> tuple:
    """What a checked portfolio was made from: the config (but its report language), the option and every input
    file's path, modification time and size."""
    files = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in input_files(cfg))
    return cfg.model_dump_json(exclude={"language"}), bool(pseudonymise_names), files


def hand_over(portfolio: Portfolio, key: tuple, path: Path) -> Path:
    """Write ``portfolio`` (checked from what ``key`` says, :func:`portfolio_key`) for the kernels of a run."""
    with open(path, "wb") as fh:
        pickle.dump(key, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(portfolio, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _handed_over(key: tuple) -> Portfolio | None:
    """The portfolio the runner handed over, when it was made from ``key``; else None."""
    path = os.environ.get(HANDED_OVER)
    if not path or not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:  # written by this process's runner (its own temporary folder)
        if pickle.load(fh) != key:
            return None
        return pickle.load(fh)


#: The secret behind a client's pseudonyms: a file beside its ``portfolio.yaml``, created on first use and read
#: by every later run (so pseudonyms are stable); it never appears in a report. Keep it with the client's data.
KEY_FILE = ".portfolio-kit-key"


def pseudonym_key(folder: Path) -> str:
    """The client's secret in ``folder`` (:data:`KEY_FILE`), created (random, readable by its owner only) on first
    use."""
    path = Path(folder) / KEY_FILE
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    return path.read_text(encoding="utf-8").strip()


def _pseudonyms(values: pd.Series, prefix: str, secret: str) -> pd.Series:
    """A keyed hash (SipHash, key derived from the client's secret) of each value: the same value, the same
    pseudonym; without the secret a list of candidate names cannot be matched to them."""
    key = hashlib.sha256(f"{secret}:{prefix}".encode()).hexdigest()[:16]
    codes = pd.util.hash_pandas_object(values.astype("string").fillna(""), index=False, hash_key=key)
    names = pd.Series([f"{prefix} {h:016X}"[: len(prefix) + 9] for h in codes.to_numpy()], index=values.index)
    return names.where(values.notna()).astype("string")


def _free_text(frame: pd.DataFrame, table: str, keep: set[str]) -> list[str]:
    """The columns of ``frame`` that may hold personal data: text columns that are not canonical (the client's
    extra columns: contacts, e-mails, notes, an agent column left unmapped...), unless kept."""
    canonical = set(columns(table)) | {"is_return"}
    return [c for c in frame.columns if c not in canonical and c not in keep
            and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))]


#: Canonical columns naming people, replaced under pseudonymisation: table -> {column: pseudonym prefix}.
_PEOPLE = {"customers": {"account_manager": "Manager"}, "snapshots": {"officers": "Officers"}}


def pseudonymise(portfolio: Portfolio, secret: str, keep: Iterable[str] = ()) -> Portfolio:
    """The portfolio for reports that leave the client's premises: customer names, account managers, officers and
    every extra text column of every table (unless named in ``keep``) replaced by stable pseudonyms keyed by the
    client's ``secret`` (:func:`pseudonym_key`): the same value, the same pseudonym, so a manager's customers stay
    together. Customer ids are kept (the client's own codes), as are the canonical attributes (type, sector,
    region, channel, size class)."""
    keep = set(keep)
    tables = {}
    for table in TABLES:
        frame = getattr(portfolio, table)
        replaced = {c: _pseudonyms(frame[c], str(c), secret) for c in _free_text(frame, table, keep)}
        if table == "customers" and "name" not in keep:
            replaced["name"] = _pseudonyms(frame["customer_id"], "Customer", secret)
        for column, prefix in _PEOPLE.get(table, {}).items():
            if column not in keep:
                replaced[column] = _pseudonyms(frame[column], prefix, secret)
        tables[table] = frame.assign(**replaced) if replaced else frame
    return dataclasses.replace(portfolio, **tables)
