"""The per-customer aggregations over raw rows, on pandas, DuckDB or Spark, with identical results.

Large clients (millions of transaction lines) are not loaded into pandas: their validated canonical rows are
Parquet files (:mod:`portfolio_kit.data.staging`), and the aggregations that touch raw rows run on an engine
straight from those files. Each function here takes the rows as a DataFrame or as Parquet file(s) (a file, a
folder of ``*.parquet`` files, or a list of files), picks an engine with :func:`choose_engine` and returns
the same pandas table as its pandas reference (same index, columns, dtypes and row order; floats equal up to
summation order):

================================  ==========================================================================
:func:`rfm_summary`               :func:`portfolio_kit.clv.rfm_summary` (canonical column names)
:func:`customer_summary`          :func:`portfolio_kit.segmentation.customer_summary`
:func:`customer_lines`            :func:`portfolio_kit.products.customer_lines`
:func:`revenue_by_period`         :func:`portfolio_kit.overview.revenue_by_period`
:func:`concentration_over_time`   :func:`portfolio_kit.concentration.concentration_over_time`
:func:`aging`                     :func:`portfolio_kit.payments.aging`
:func:`payment_profile`           :func:`portfolio_kit.payments.payment_profile`
================================  ==========================================================================

Every function takes ``engine="auto"`` (``"pandas"``, ``"duckdb"`` or ``"spark"``) and ``session`` (a
SparkSession, for ``engine="spark"`` only; ``None`` uses the active session or starts a local one). Customers
are always a pandas DataFrame. Spark is an optional extra (``pip install portfolio-kit[spark]``).

Each engine is a module of this package (:mod:`~portfolio_kit.engines.duckdb`,
:mod:`~portfolio_kit.engines.spark`) with the same seven functions and the reference's signatures, called with
the rows as given (``session=`` added for Spark); ``engine="pandas"`` reads Parquet rows with
``pd.read_parquet`` and calls the reference itself.

Examples
--------
>>> from portfolio_kit import engines
>>> engines.choose_engine(pd.DataFrame({"customer_id": ["C1"]}))
'pandas'
>>> summary = engines.rfm_summary("staging/transactions", "2024-12-31", engine="duckdb")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pandas as pd

from portfolio_kit import clv, concentration, overview, payments, products, segmentation
from portfolio_kit.data.config import RAW_ROWS_LIMIT, engine_for_rows
from portfolio_kit.payments.receivables import DEFAULT_EDGES
from portfolio_kit.data.staging import parquet_rows

__all__ = ["ENGINES", "Rows", "parquet_files", "row_count", "read_rows", "choose_engine", "rfm_summary",
           "customer_summary", "customer_lines", "revenue_by_period", "concentration_over_time", "aging", "payment_profile"]

#: The engines, in the order :func:`choose_engine` considers them.
ENGINES = ("pandas", "duckdb", "spark")

#: Canonical rows in memory, or Parquet file(s): a file, a folder of ``*.parquet`` files, or a list of files.
Rows = pd.DataFrame | str | Path | Sequence[str | Path]


def is_spark_frame(rows) -> bool:
    """True for a Spark DataFrame (told apart without importing pyspark)."""
    return type(rows).__module__.startswith("pyspark.")


def parquet_files(rows: str | Path | Sequence[str | Path]) -> list[Path]:
    """The Parquet files behind ``rows``: a file, a folder (its ``*.parquet`` files, sorted) or a list of files.

    Raises
    ------
    ValueError
        When a path does not exist or no Parquet file is found.
    TypeError
        When ``rows`` is neither a DataFrame nor path(s).
    """
    if isinstance(rows, (str, Path)):
        rows = [rows]
    elif isinstance(rows, pd.DataFrame) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a pandas DataFrame or Parquet file path(s), got {type(rows).__name__}")
    files: list[Path] = []
    for item in rows:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.parquet")))
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"Parquet path not found: {path}")
    if not files:
        raise ValueError(f"no Parquet files in {[str(r) for r in rows]}")
    return files


def row_count(rows: Rows) -> int:
    """Number of rows: ``len`` of a DataFrame, else the sum of the Parquet files' metadata row counts (cheap)."""
    if isinstance(rows, pd.DataFrame):
        return len(rows)
    return parquet_rows(parquet_files(rows))


def read_rows(rows: Rows) -> pd.DataFrame:
    """The rows as one pandas DataFrame (Parquet files read with ``pd.read_parquet`` and stacked in order)."""
    if isinstance(rows, pd.DataFrame):
        return rows
    frames = [pd.read_parquet(path) for path in parquet_files(rows)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def choose_engine(rows: Rows, engine: str = "auto", max_rows: int = RAW_ROWS_LIMIT) -> str:
    """The engine that runs an aggregation over ``rows``.

    An explicit ``engine`` wins. With ``"auto"``: ``"pandas"`` for a DataFrame or for Parquet files with at
    most ``max_rows`` rows in total (their metadata row count, without reading them), ``"spark"`` for a Spark
    DataFrame, else ``"duckdb"``.

    Examples
    --------
    >>> choose_engine(["big/part-0.parquet", "big/part-1.parquet"])  # doctest: +SKIP
    'duckdb'
    >>> choose_engine(pd.DataFrame(), engine="duckdb")
    'duckdb'
    """
    if engine in ENGINES:
        return engine
    if engine != "auto":
        raise ValueError(f"engine must be one of 'auto', {', '.join(map(repr, ENGINES))}; got {engine!r}")
    if isinstance(rows, pd.DataFrame):
        return "pandas"
    if is_spark_frame(rows):
        return "spark"
    return engine_for_rows(row_count(rows), max_rows)


def _engine_module(name: str) -> ModuleType:
    if name == "spark":
        try:
            importlib.import_module("pyspark")
        except ImportError as exc:
            raise ImportError("engine='spark' needs pyspark, an optional extra: "
                              "pip install portfolio-kit[spark]") from exc
    return importlib.import_module(f"{__name__}.{name}")


def _run(function: str, rows: Rows, engine: str, session, reference, *args, **kwargs):
    """Run ``function`` on the chosen engine; ``reference`` is the pandas function it must equal."""
    name = choose_engine(rows, engine)
    if session is not None and name != "spark":
        raise ValueError(f"session is a SparkSession for engine='spark' only; the chosen engine is {name!r}")
    if name == "pandas":
        return reference(read_rows(rows), *args, **kwargs)
    if name == "spark":
        kwargs["session"] = session
    return getattr(_engine_module(name), function)(rows, *args, **kwargs)


def rfm_summary(transactions: Rows, observation_end, period: str = "W", calibration_end=None, *,
                period_multiplier: float = 1, returns: str = "net", engine: str = "auto",
                session=None) -> pd.DataFrame:
    """Frequency, recency, age and spend per customer: :func:`portfolio_kit.clv.rfm_summary` on an engine.

    Same parameters and result as the reference (canonical columns ``customer_id``, ``date``, ``amount``,
    ``margin`` and ``is_return`` when present), plus ``engine`` and ``session`` (see the module docstring).

    Examples
    --------
    >>> rfm = rfm_summary("staging/transactions", "2024-12-31", "W", calibration_end="2024-06-30")  # doctest: +SKIP
    """
    return _run("rfm_summary", transactions, engine, session, clv.rfm_summary, observation_end, period,
                calibration_end, period_multiplier=period_multiplier, returns=returns)


def customer_summary(transactions: Rows, customers: pd.DataFrame | None = None, as_of=None, *, start=None,
                     engine: str = "auto", session=None) -> pd.DataFrame:
    """One row per customer (dates, recency, frequency, revenue, margin, credit notes, breadth) on an engine.

    Same as :func:`portfolio_kit.segmentation.customer_summary`; ``customers`` stays a pandas DataFrame.
    """
    return _run("customer_summary", transactions, engine, session, segmentation.customer_summary, customers,
                as_of, start=start)


def customer_lines(transactions: Rows, as_of=None, *, start=None, engine: str = "auto",
                   session=None) -> pd.DataFrame:
    """One row per customer and product line bought, on an engine: :func:`portfolio_kit.products.customer_lines`."""
    return _run("customer_lines", transactions, engine, session, products.customer_lines, as_of, start=start)


def revenue_by_period(transactions: Rows, customers: pd.DataFrame | None = None, freq: str = "M",
                      by: str | None = None, *, engine: str = "auto", session=None) -> pd.DataFrame:
    """Net revenue, margin, returns, active customers and transactions per period, on an engine.

    Same as :func:`portfolio_kit.overview.revenue_by_period`; ``customers`` stays a pandas DataFrame.
    """
    return _run("revenue_by_period", transactions, engine, session, overview.revenue_by_period, customers,
                freq, by)


def concentration_over_time(transactions: Rows, freq: str = "Y", value: str = "amount", *,
                            engine: str = "auto", session=None, **summary_options) -> pd.DataFrame:
    """:func:`portfolio_kit.concentration.concentration_summary` per period, on an engine.

    The engine sums ``value`` per customer and period; the summaries run in pandas on those per-customer
    values. Same as :func:`portfolio_kit.concentration.concentration_over_time`.
    """
    return _run("concentration_over_time", transactions, engine, session,
                concentration.concentration_over_time, freq, value, **summary_options)


def aging(invoices: Rows, as_of, by: str | None = None, customers: pd.DataFrame | None = None,
          edges: Sequence[int] = DEFAULT_EDGES, origin: str = "due", *, engine: str = "auto",
          session=None) -> pd.DataFrame:
    """Open receivables at ``as_of`` by age bucket (in total, per customer or per segment), on an engine.

    Same as :func:`portfolio_kit.payments.aging`; ``customers`` stays a pandas DataFrame.
    """
    return _run("aging", invoices, engine, session, payments.aging, as_of, by, customers, edges, origin)


def payment_profile(invoices: Rows, as_of, months: int | None = 12, grace_days: int = 5, *,
                    engine: str = "auto", session=None, **rules) -> pd.DataFrame:
    """Per customer: how often and how late it pays, the trend and the payment profile, on an engine.

    Same as :func:`portfolio_kit.payments.payment_profile`; ``rules`` are its keyword arguments
    ``min_invoices``, ``occasional_share``, ``chronic_share``, ``chronic_days`` and ``worsening_days``.
    """
    return _run("payment_profile", invoices, engine, session, payments.payment_profile, as_of, months,
                grace_days, **rules)
