"""The client's config file (``portfolio.yaml``): where the exports are, how to read them, how to map their
columns to the canonical ones, the as-of date and the analysis parameters.

Paths in the file are relative to the file itself, so a client's folder can be moved or copied whole.

Examples
--------
>>> cfg = load_config("data/sample/portfolio.yaml")          # doctest: +SKIP
>>> cfg.tables["transactions"].path.name                        # doctest: +SKIP
'movimenti.csv'
"""

from __future__ import annotations

import datetime as dt
import glob
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from portfolio_kit.data.schemas import TABLES

__all__ = ["ConfigError", "ReadOptions", "TableConfig", "EngineOptions", "PortfolioConfig", "load_config",
           "RAW_ROWS_LIMIT", "engine_for_rows", "YAML_ALIASES_LIMIT", "input_files"]


class ConfigError(ValueError):
    """The config file is missing, not YAML, or does not have the expected shape."""


class ReadOptions(BaseModel):
    """How to read one export. ``None`` means: detect it (CSV separator, decimal mark, encoding, dates)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "excel", "parquet"] | None = None
    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    sheet: str | int | None = None


class TableConfig(ReadOptions):
    """One canonical table: its file (or glob) and the client-to-canonical column map."""

    path: Path
    columns: dict[str, str] = Field(default_factory=dict)
    snapshot_date_from_filename: str | None = None

    @field_validator("columns")
    @classmethod
    def _targets_unique(cls, v: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for client, canonical in v.items():
            if canonical in seen:
                raise ValueError(f"columns {seen[canonical]!r} and {client!r} both map to {canonical!r}")
            seen[canonical] = client
        return v


RAW_ROWS_LIMIT = 2_000_000  # raw rows per table a notebook holds in pandas by default


def engine_for_rows(rows: int, limit: int = RAW_ROWS_LIMIT) -> str:
    """The ``auto`` engine's one rule: pandas for at most ``limit`` raw rows, DuckDB above."""
    return "pandas" if rows <= limit else "duckdb"


class EngineOptions(BaseModel):
    """Where aggregations over raw rows run, and how many raw rows a notebook may hold in memory.

    ``name``: ``auto`` (pandas while every raw table fits within ``raw_rows_limit``, else DuckDB), or
    ``pandas``, ``duckdb``, ``spark`` explicitly. Above the limit the exports are validated chunk by chunk
    into canonical Parquet files under ``staging`` (default: the user's cache folder, see
    :func:`portfolio_kit.data.staging.staging_root`), aggregations read those files, and notebooks hold only the
    rows of a seeded sample of customers (at most ``raw_rows_limit`` rows per table) for models and plots of
    raw distributions. The default limit, :data:`RAW_ROWS_LIMIT`, keeps a notebook's models within a few GB
    and a few minutes on a laptop; models on two million rows are as precise as any report needs.
    """

    model_config = ConfigDict(extra="forbid")

    name: Literal["auto", "pandas", "duckdb", "spark"] = "auto"
    raw_rows_limit: int = Field(RAW_ROWS_LIMIT, ge=1)
    sample_seed: int = 42
    staging: Path | None = None


class PortfolioConfig(BaseModel):
    """Typed content of ``portfolio.yaml`` (see ``data/sample/portfolio.yaml`` for a commented example)."""

    model_config = ConfigDict(extra="forbid")

    client: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    as_of: dt.date
    currency: str = "EUR"
    language: Literal["en", "it"] = "en"
    reports: Path | None = None
    read: ReadOptions = Field(default_factory=ReadOptions)
    engine: EngineOptions = Field(default_factory=EngineOptions)
    tables: dict[str, TableConfig]
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    alerts: list[dict[str, Any]] | None = None
    #: Next-action rules in the order they are evaluated (``portfolio_kit.actions``); None: the kit's defaults.
    actions: list[dict[str, Any]] | None = None
    #: Levers of the strategies per segment or value class (``portfolio_kit.actions.strategies``), over the defaults.
    levers: dict[str, dict[str, Any]] | None = None
    #: Extra columns kept as they are under ``--pseudonymise`` (every other extra text column is replaced).
    pseudonymise_keep: list[str] = Field(default_factory=list)
    source: Path | None = None  # the YAML file this config was read from

    @field_validator("as_of", mode="before")
    @classmethod
    def _a_real_date(cls, v: Any) -> Any:
        """A date, or text ``YYYY-MM-DD``: a number (``--as-of 0``) is not read as a day of 1970."""
        if isinstance(v, dt.date) or (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip())):
            return v
        raise ValueError(f"expected a date YYYY-MM-DD, got {v!r}")

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableConfig]) -> dict[str, TableConfig]:
        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; expected some of {sorted(TABLES)}")
        if not v:
            raise ValueError(f"no table: map at least one of {sorted(TABLES)} (any subset is a client)")
        return v

    def read_options(self, table: str) -> ReadOptions:
        """The read options of ``table``: the file-wide ``read`` defaults overridden by the table's own."""
        own = self.tables[table].model_dump(include=set(ReadOptions.model_fields), exclude_unset=True)
        return self.read.model_copy(update=own)


#: Aliases (``*name``) a config may hold: a few repeat a block; more could nest into billions of values.
YAML_ALIASES_LIMIT = 10


class _TooManyAliases(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark):
        super().__init__(f"more than {YAML_ALIASES_LIMIT} YAML aliases (*name), line {mark.line + 1}: "
                         "write the values out (nested aliases can expand into billions of values)")


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps (dates are checked, with a readable message, by the model) and with
    at most :data:`YAML_ALIASES_LIMIT` aliases, so that no "billion laughs" of nested aliases gets expanded."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_ALIASES_LIMIT:
                raise _TooManyAliases(self.peek_event().start_mark)
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _resolve(path: Path | None, base: Path) -> Path | None:
    if path is None:
        return None
    path = Path(path).expanduser()
    return path if path.is_absolute() else (base / path)


def load_config(path: str | Path, as_of: str | dt.date | None = None) -> PortfolioConfig:
    """Read and check a ``portfolio.yaml``; relative paths become relative to the file.

    ``as_of`` overrides the file's analysis date (as scheduled runs do with ``--as-of``).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except _TooManyAliases as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    if as_of is not None:
        raw["as_of"] = as_of
    try:
        cfg = PortfolioConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigError(f"{path}: {problems}") from None
    base = path.resolve().parent
    for table in cfg.tables.values():
        table.path = _resolve(table.path, base)
    cfg.reports = _resolve(cfg.reports, base)
    cfg.engine.staging = _resolve(cfg.engine.staging, base)
    cfg.source = path.resolve()
    return cfg


def input_files(cfg: PortfolioConfig) -> list[Path]:
    """The config file and every export it points at."""
    files = [cfg.source] if cfg.source else []
    for table in cfg.tables.values():
        pattern = str(table.path)
        files += sorted(map(Path, glob.glob(pattern))) if any(c in pattern for c in "*?[") else [table.path]
    return [f for f in files if f.is_file()]
