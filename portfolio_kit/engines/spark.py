"""The per-customer aggregations on Apache Spark, for histories beyond one machine.

The seven functions of :mod:`portfolio_kit.engines` on PySpark: the raw rows (Parquet file(s) or folder(s),
local or on a data lake such as ``s3a://bucket/staging/transactions``, a Spark DataFrame, or a pandas
DataFrame) are reduced on the cluster to one row per customer (or per customer and period, or per customer
and age bucket); only that reduction is collected into pandas, where the reference's own code (or its last,
per-customer steps) makes the table. Results equal the pandas references: same index, columns, dtypes and row
order, floats up to summation order.

Conventions
-----------
- Dates are compared as day numbers since 1970-01-01 (nanoseconds where the reference compares timestamps),
  computed without any time zone: canonical Parquet files hold timestamps without time zone, which Spark reads
  as ``TIMESTAMP_NTZ`` (microseconds) or, for nanoseconds, as integers (``spark.sql.legacy.parquet.nanosAsLong``
  is switched on for the duration of each call); ``TIMESTAMP`` instants count by their wall clock in the
  session time zone (``spark.sql.session.timeZone``, UTC in :func:`local_session`). Period grids are the
  pandas ones (weeks Monday to Sunday), computed from day numbers, not with Spark's ``weekofyear``.
- Ties in a sort (aging per customer, payment profiles) keep the order in which customers first appear in the
  rows, as pandas does: files in the order given (a folder's ``*.parquet`` sorted by name), then row order in
  each file. For a Spark DataFrame that order is ``monotonically_increasing_id``.
- ``session=None`` uses the active SparkSession, else starts :func:`local_session`.

Examples
--------
>>> from portfolio_kit.engines import spark as engine
>>> rfm = engine.rfm_summary("s3a://lake/portfolio/transactions", "2024-12-31", "W")   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from contextlib import contextmanager
from functools import reduce
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from portfolio_kit.clv.summary import finish_summary, summary_window
from portfolio_kit.data.dates import period_ordinal
from portfolio_kit.concentration import concentration_over_time as _concentration_over_time
from portfolio_kit.overview import REVENUE_PERIODS
from portfolio_kit.payments.behaviour import PAYMENT_INDEX_SCALE, profiles_from_statistics
from portfolio_kit.data.dates import NEVER, as_timestamp, days
from portfolio_kit.payments.ledger import REQUIRED, TOLERANCE, segment_labels
from portfolio_kit.payments.receivables import DEFAULT_EDGES, check_edges
from portfolio_kit.payments.receivables import aging as _aging
from portfolio_kit.segmentation import check_customers, join_customers
from portfolio_kit.engines import is_spark_frame, parquet_files

__all__ = ["local_session", "rfm_summary", "customer_summary", "customer_lines", "revenue_by_period",
           "concentration_over_time",
           "aging", "payment_profile"]

logger = logging.getLogger(__name__)

NS_PER_DAY = 86_400 * 10**9
#: Period starts the Spark engine computes for :func:`concentration_over_time` (pandas aliases).
CONCENTRATION_PERIODS = ("D", "W", "M", "Q", "Y")
_NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"  # pandas writes datetime64[ns] as TIMESTAMP(NANOS)


# --------------------------------------------------------------------------------------------- session
def local_session(cores: int | str = "*", shuffle_partitions: int | None = None) -> SparkSession:
    """A local SparkSession (``local[cores]``): web UI off, session time zone UTC, Arrow transfers, quiet log.

    Parameters
    ----------
    cores : int or "*"
        Worker threads (``"*"``: all cores).
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions``; default 4 per core, small data being the local case.

    Examples
    --------
    >>> spark = local_session(2)            # doctest: +SKIP
    """
    partitions = shuffle_partitions or 4 * (os.cpu_count() or 1 if cores == "*" else int(cores))
    spark = (SparkSession.builder.master(f"local[{cores}]").appName("portfolio-kit")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", str(partitions))
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def _spark(session: SparkSession | None):
    """The session to use, reading Parquet nanosecond timestamps as integers for the duration of the call."""
    spark = session or SparkSession.getActiveSession() or local_session()
    before = spark.conf.get(_NANOS_AS_LONG, None)
    spark.conf.set(_NANOS_AS_LONG, "true")
    try:
        yield spark
    finally:
        if before is None:
            spark.conf.unset(_NANOS_AS_LONG)
        else:
            spark.conf.set(_NANOS_AS_LONG, before)


# --------------------------------------------------------------------------------------------- reading rows
class Source(NamedTuple):
    """Rows on Spark and an empty pandas frame with the pandas dtypes of the source (``None`` if unknown)."""

    frame: DataFrame
    template: pd.DataFrame | None


def _paths(rows) -> list[str]:
    """Local files (resolved as :func:`portfolio_kit.engines.parquet_files` does), else the paths as given."""
    items = [rows] if isinstance(rows, (str, Path)) else list(rows)
    if not items:
        raise ValueError("no Parquet path given")
    if all(Path(str(item)).exists() for item in items):
        return [str(path) for path in parquet_files(items)]
    return [str(item) for item in items]  # a data lake (s3a://, abfss://, hdfs://): Spark lists it


def _template(rows, paths: list[str]) -> pd.DataFrame | None:
    if isinstance(rows, pd.DataFrame):
        return rows.iloc[:0]
    if paths and Path(paths[0]).is_file():
        return pq.read_schema(paths[0]).empty_table().to_pandas()  # pandas metadata: the writer's dtypes
    return None


def _from_pandas(spark: SparkSession, frame: pd.DataFrame, dates: Sequence[str]) -> DataFrame:
    """A pandas frame on Spark, dates as integer nanoseconds (no time zone conversion on the way)."""
    frame = frame.copy()
    for column in dates:
        if column in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[column]):
            values = frame[column].to_numpy(dtype="datetime64[ns]").view(np.int64)
            frame[column] = pd.Series(values, index=frame.index, dtype="Int64").mask(frame[column].isna())
    table = pa.Table.from_pandas(frame, preserve_index=False)
    try:
        return spark.createDataFrame(table)
    except (TypeError, ValueError):  # Spark < 4 takes pandas, not Arrow
        return spark.createDataFrame(frame)


def _read(spark: SparkSession, rows, table: str, required: Sequence[str], optional: Sequence[str] = (),
          dates: Sequence[str] = (), numbers: Sequence[str] = (), order: bool = False,
          error: type[Exception] = ValueError, missing_message: str | None = None) -> Source:
    """The needed columns of ``rows`` on Spark (extra columns ignored), dates as integer nanoseconds and NaN as
    null; with ``order``, an ``_order`` column sorting the rows as pandas reads them.

    Raises ``ValueError`` for missing columns and ``error`` for columns of the wrong type.
    """
    paths: list[str] = []
    if isinstance(rows, pd.DataFrame):
        present = [c for c in dict.fromkeys((*required, *optional)) if c in rows.columns]
        frames = [_from_pandas(spark, rows[present].assign(_order=np.arange(len(rows))) if order
                               else rows[present], dates)]
    elif is_spark_frame(rows):
        frames = [rows.withColumn("_order", F.monotonically_increasing_id()) if order else rows]
    else:
        paths = _paths(rows)
        if order and len(paths) > 1:  # one scan per file: the file's position first, then its row index
            frames = [spark.read.parquet(path).withColumn("_file", F.lit(i)) for i, path in enumerate(paths)]
        else:
            frames = [spark.read.parquet(*paths).withColumn("_file", F.lit(0))]
    columns = frames[0].columns
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError((missing_message or "{table}: missing column(s) {missing}; available: {columns}")
                         .format(table=table, missing=missing, columns=columns))
    present = [c for c in dict.fromkeys((*required, *optional)) if all(c in f.columns for f in frames)]
    if order and paths:
        key = F.struct("_file", F.col("_metadata.file_path"), F.col("_metadata.row_index")).alias("_order")
        frames = [f.select(*present, key) for f in frames]
    else:
        frames = [f.select(*present, *(["_order"] if order else [])) for f in frames]
    frame = reduce(DataFrame.unionByName, frames)

    out = []
    for field in frame.schema.fields:
        column, kind = field.name, field.dataType
        if column in dates and not isinstance(kind, T.NullType):
            out.append(_nanos(column, kind, table, error).alias(column))
        elif column in numbers and not isinstance(kind, (T.NumericType, T.NullType)):
            raise error(f"{table}: column {column!r} has type {kind.simpleString()}: expected numbers")
        elif isinstance(kind, (T.DoubleType, T.FloatType)):
            out.append(F.nanvl(F.col(column), F.lit(None)).alias(column))  # NaN is missing, as in pandas
        else:
            out.append(F.col(column))
    return Source(frame.select(*out), _template(rows, paths))


def _nanos(column: str, kind: T.DataType, table: str, error: type[Exception]) -> Column:
    """Nanoseconds since 1970-01-01 of the wall-clock time of a date column (no time zone applied to values
    without one; ``TIMESTAMP`` instants are read in the session time zone, as Spark shows them)."""
    col = F.col(f"`{column}`")
    if isinstance(kind, (T.LongType, T.IntegerType)):  # Parquet TIMESTAMP(NANOS) read as integers
        return col.cast("long")
    if isinstance(kind, (T.TimestampNTZType, T.TimestampType)):  # an instant: its wall clock in the session zone
        wall_clock = f"CAST(`{column}` AS TIMESTAMP_NTZ)"
        return F.expr(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', {wall_clock})") * 1000
    if isinstance(kind, T.DateType):
        return F.unix_date(col).cast("long") * NS_PER_DAY
    raise error(f"{table}: column {column!r} has type {kind.simpleString()}: expected dates (datetime64); "
                "parse them first, e.g. with pd.to_datetime")


def _day(column: str) -> Column:
    """Day number (floor, also before 1970) of a column of nanoseconds."""
    return F.expr(f"(`{column}` - pmod(`{column}`, {NS_PER_DAY})) div {NS_PER_DAY}")


def _month(day: Column) -> Column:
    date = F.date_from_unix_date(day)
    return (F.year(date) - 1970) * 12 + F.month(date) - 1


def _period_ordinal(day: Column, period: str) -> Column:
    """:func:`portfolio_kit.clv.summary.period_ordinal` on Spark (weeks Monday-Sunday)."""
    ordinal = {"D": lambda: day, "W": lambda: F.floor((day + 3) / 7), "M": lambda: _month(day),
               "Q": lambda: F.floor(_month(day) / 3)}[period]()
    return ordinal.cast("long")


def _period_start(day: Column, freq: str) -> Column:
    """Day number of the first day of the pandas period (``"D"``, ``"W"`` from Monday, ``"M"``, ``"Q"``, ``"Y"``)."""
    if freq == "D":
        return day
    if freq == "W":
        return day - F.pmod(day + 3, F.lit(7))  # 1970-01-01 is a Thursday
    unit = {"M": "month", "Q": "quarter", "Y": "year"}[freq]
    return F.unix_date(F.trunc(F.date_from_unix_date(day), unit)).cast("long")


def _collect(frame: DataFrame) -> pd.DataFrame:
    """A (small) Spark result as pandas, through Arrow."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow().to_pandas()
    return frame.toPandas()


def _like(values: pd.Series, template: pd.DataFrame | None, column: str):
    """``values`` (an array) with the dtype ``column`` has in the source (ids stay the same kind of strings)."""
    if template is None or column not in template.columns:
        return values.array
    return values.astype(template[column].dtype).array


def _dates(day_numbers) -> np.ndarray:
    """Day numbers (float, NaN = none) as ``datetime64[ns]`` (NaT = none)."""
    values = np.asarray(day_numbers, dtype=float)
    out = np.full(values.size, np.datetime64("NaT"), dtype="datetime64[ns]")
    known = ~np.isnan(values)
    out[known] = values[known].astype(np.int64).astype("datetime64[D]")
    return out


def _missing(frame: DataFrame, columns: Sequence[str]) -> dict[str, int]:
    """Row count (``"rows"``) and number of missing values per column, in one pass."""
    stats = frame.agg(F.count(F.lit(1)).alias("rows"),
                      *[F.count(F.when(F.col(c).isNull(), 1)).alias(c) for c in columns]).first()
    return stats.asDict()


# --------------------------------------------------------------------------------------------- rfm summary
def _purchase_periods(rows: DataFrame, returns: str) -> DataFrame:
    """One row per customer and purchase period (``customer_id``, ``ordinal``, net ``value``, ``margin``).

    A row with a negative value is a return: it goes to the latest purchase period of the customer on or before
    its own (``returns="net"``, a return with none is dropped) or is dropped (``"ignore"``).
    """
    is_return = F.col("value") < 0
    sums = [F.sum(F.when(~is_return, F.col(c))).alias(f"bought_{c}") for c in ("value", "margin")]
    sums += [F.sum(F.when(is_return, F.col(c))).alias(f"returned_{c}") for c in ("value", "margin")]
    periods = rows.groupBy("customer_id", "ordinal").agg(*sums)
    has_purchase = F.col("bought_value").isNotNull()
    if returns == "ignore":
        return periods.where(has_purchase).select("customer_id", "ordinal", F.col("bought_value").alias("value"),
                                                  F.col("bought_margin").alias("margin"))
    so_far = Window.partitionBy("customer_id").orderBy("ordinal").rowsBetween(Window.unboundedPreceding, 0)
    latest_purchase = F.last(F.when(has_purchase, F.col("ordinal")), ignorenulls=True).over(so_far)
    net = [F.sum(F.coalesce(F.col(f"bought_{c}"), F.lit(0.0)) + F.coalesce(F.col(f"returned_{c}"), F.lit(0.0)))
           .alias(c) for c in ("value", "margin")]
    return (periods.withColumn("purchase", latest_purchase).where(F.col("purchase").isNotNull())
            .groupBy("customer_id", F.col("purchase").alias("ordinal")).agg(*net))


def rfm_summary(transactions, observation_end, period: str = "W", calibration_end=None, *,
                period_multiplier: float = 1, returns: str = "net",
                session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.clv.rfm_summary` on Spark (canonical columns ``customer_id``, ``date``, ``amount``,
    ``margin`` when present).

    Purchase periods are merged and returns netted on the cluster (a window over each customer's periods finds
    the latest purchase period on or before a return); one row per customer is collected.

    Parameters
    ----------
    transactions : Parquet path(s), Spark DataFrame or pandas DataFrame
        Canonical transactions.
    observation_end, period, calibration_end, period_multiplier, returns
        As in :func:`portfolio_kit.clv.rfm_summary`.
    session : SparkSession, optional
        Default: the active session, else :func:`local_session`.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted): ``frequency``, ``recency``, ``T``, ``monetary_value``,
        ``margin_rate`` (with a margin column) and, with ``calibration_end``, ``frequency_holdout``,
        ``monetary_value_holdout``, ``duration_holdout``; ``attrs`` as the reference.

    Examples
    --------
    >>> rfm = rfm_summary("staging/transactions", "2024-12-31", "W", "2024-06-30")   # doctest: +SKIP
    """
    obs_day, cal_day = summary_window(observation_end, calibration_end, period, period_multiplier, returns)

    with _spark(session) as spark:
        source = _read(spark, transactions, "transactions", ("customer_id", "date", "amount"), ("margin",),
                       dates=("date",), numbers=("amount", "margin"),
                       missing_message="transactions: missing column(s) {missing}; expected the customer id, the "
                                       "purchase date and the value")
        tx = source.frame
        has_margin = "margin" in tx.columns
        counts = _missing(tx, ["date", "customer_id", "amount"] + (["margin"] if has_margin else []))
        if counts["rows"] == 0:
            raise ValueError("transactions is empty: the RFM summary needs at least one purchase")
        for column, what in (("date", "dates"), ("customer_id", "ids"), ("amount", "values"), ("margin", "values")):
            if counts.get(column):
                raise ValueError(f"column {column!r} has {counts[column]} missing {what}")
        rows = tx.select("customer_id", _day("date").alias("day"), F.col("amount").alias("value"),
                         (F.col("margin") if has_margin else F.lit(None).cast("double")).alias("margin"))
        # one shuffle by customer: the period sums, the return netting window and the per-customer sums follow it
        rows = rows.withColumn("ordinal", _period_ordinal(F.col("day"), period)).repartition("customer_id")
        calibration = _purchase_periods(rows.where(F.col("day") <= cal_day), returns)
        per_customer = calibration.groupBy("customer_id").agg(
            F.count(F.lit(1)).alias("periods"), F.min("ordinal").alias("first"), F.max("ordinal").alias("last"),
            F.sum("value").alias("total"), F.min_by("value", "ordinal").alias("first_value"),
            F.sum("margin").alias("margin_total"))
        if calibration_end is not None:
            holdout = _purchase_periods(rows.where((F.col("day") > cal_day) & (F.col("day") <= obs_day)), returns)
            per_customer = per_customer.join(holdout.groupBy("customer_id").agg(
                F.count(F.lit(1)).alias("periods_holdout"), F.sum("value").alias("value_holdout")),
                "customer_id", "left")
        table = _collect(per_customer)
    if table.empty:
        raise ValueError(f"no purchase on or before {pd.Timestamp(int(cal_day), unit='D').date()}: "
                         f"nothing to summarise")

    table["customer_id"] = _like(table["customer_id"], source.template, "customer_id")
    table = table.sort_values("customer_id", kind="stable")
    count = table["periods"].to_numpy(dtype=np.int64)
    first, last = table["first"].to_numpy(dtype=np.int64), table["last"].to_numpy(dtype=np.int64)
    end_ordinal = period_ordinal(np.datetime64(int(cal_day), "D"), period)
    out = pd.DataFrame({"frequency": count - 1, "recency": (last - first) / period_multiplier,
                        "T": (end_ordinal - first) / period_multiplier},
                       index=pd.Index(table["customer_id"].array, name="customer_id"))
    total = table["total"].to_numpy(dtype=float)
    repeat = total - table["first_value"].to_numpy(dtype=float)
    out["monetary_value"] = np.divide(repeat, count - 1, out=np.zeros(len(count)), where=count > 1)
    if has_margin:
        out["margin_rate"] = np.divide(table["margin_total"].to_numpy(dtype=float), total,
                                       out=np.full(len(count), np.nan), where=total > 0)
    if calibration_end is not None:
        n = table["periods_holdout"].fillna(0).to_numpy(dtype=np.int64)
        spent = table["value_holdout"].fillna(0.0).to_numpy(dtype=float)
        out["frequency_holdout"] = n
        out["monetary_value_holdout"] = np.divide(spent, n, out=np.zeros(len(n)), where=n > 0)
    return finish_summary(out, period, period_multiplier, end_ordinal, obs_day,
                          None if calibration_end is None else cal_day)


# --------------------------------------------------------------------------------------------- customer summary
def _transactions_in_window(spark: SparkSession, transactions, optional: Sequence[str], as_of, start):
    """The transactions read and checked as the reference does (no missing customer, date or amount; some rows),
    their row count and last date (``stats``), ``as_of`` (default: that last date) and the window's filter."""
    source = _read(spark, transactions, "transactions", ("customer_id", "date", "amount"), optional,
                   dates=("date",), numbers=("amount",), error=TypeError)
    stats = source.frame.agg(F.count(F.lit(1)).alias("rows"), F.max("date").alias("last"),
                             *[F.count(F.when(F.col(c).isNull(), 1)).alias(c)
                               for c in ("customer_id", "date", "amount")]).first()
    for column in ("customer_id", "date", "amount"):
        if stats[column]:
            raise ValueError(f"transactions: column {column!r} has {stats[column]} missing value(s)")
    if stats["rows"] == 0:
        raise ValueError("transactions: no rows")
    as_of = pd.Timestamp(stats["last"], unit="ns") if as_of is None else pd.Timestamp(as_of)
    keep = F.col("date") <= as_of.value
    if start is not None:
        keep &= F.col("date") >= pd.Timestamp(start).value
    return source, stats, as_of, keep


def customer_summary(transactions, customers: pd.DataFrame | None = None, as_of=None, *, start=None,
                     session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.segmentation.customer_summary` on Spark: the per-customer sums and distinct counts
    run on the cluster; ``customers`` (pandas) are joined in pandas.

    Parameters
    ----------
    transactions : Parquet path(s), Spark DataFrame or pandas DataFrame
        Canonical transactions (``customer_id``, ``date``, ``amount``, optional ``margin``, ``product``,
        ``channel``).
    customers, as_of, start
        As in the reference.
    session : SparkSession, optional

    Returns
    -------
    DataFrame
        The reference's table: indexed by ``customer_id``, ``first_purchase`` ... ``n_channels``.
    """
    if customers is not None:
        check_customers(customers)  # before the job: bad master data fails fast
    with _spark(session) as spark:
        source, stats, as_of, keep = _transactions_in_window(spark, transactions, ("margin", "product", "channel"),
                                                             as_of, start)
        tx = source.frame
        day, amount = _day("date"), F.col("amount")
        purchase_day = F.when(amount > 0, day)
        optional = [c for c in ("margin", "product", "channel") if c in tx.columns]
        per_customer = tx.where(keep).groupBy("customer_id").agg(
            F.min(purchase_day).alias("first"), F.max(purchase_day).alias("last"),
            F.countDistinct(purchase_day).alias("frequency"), F.sum(amount).alias("revenue"),
            F.count(F.lit(1)).alias("lines"), F.count(F.when(amount < 0, 1)).alias("credit_notes"),
            F.sum(F.when(amount < 0, amount)).alias("credit_amount"),
            *[F.count(c).alias(f"known_{c}") for c in optional],
            *([F.sum("margin").alias("margin")] if "margin" in optional else []),
            *[F.countDistinct(c).alias(f"n_{c}s") for c in ("product", "channel") if c in optional])
        table = _collect(per_customer)
    if table.empty:
        raise ValueError(f"transactions: no rows between {start} and {as_of.date()}")
    if table["lines"].sum() < stats["rows"]:
        logger.info("transactions: %d of %d rows outside [%s, %s] left out", stats["rows"] - table["lines"].sum(),
                    stats["rows"], start, as_of.date())

    table["customer_id"] = _like(table["customer_id"], source.template, "customer_id")
    table = table.sort_values("customer_id", kind="stable")
    out = pd.DataFrame(index=pd.Index(table["customer_id"].array, name="customer_id"))
    out["first_purchase"] = _dates(table["first"])
    out["last_purchase"] = _dates(table["last"])
    out["recency"] = (as_of - out["last_purchase"]).dt.days.astype(float)
    out["tenure"] = (as_of - out["first_purchase"]).dt.days.astype(float)
    out["frequency"] = table["frequency"].to_numpy(dtype=np.int64)
    out["revenue"] = table["revenue"].to_numpy(dtype=float)
    if "margin" in optional and table["known_margin"].sum() > 0:
        out["margin"] = table["margin"].fillna(0.0).to_numpy(dtype=float)
    out["lines"] = table["lines"].to_numpy(dtype=np.int64)
    out["credit_notes"] = table["credit_notes"].to_numpy(dtype=np.int64)
    out["credit_amount"] = -table["credit_amount"].fillna(0.0).to_numpy(dtype=float)
    for column in ("product", "channel"):
        if column in optional and table[f"known_{column}"].sum() > 0:
            out[f"n_{column}s"] = table[f"n_{column}s"].to_numpy(dtype=np.int64)
    return out if customers is None else join_customers(out, customers)


def customer_lines(transactions, as_of=None, *, start=None, session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.products.customer_lines` on Spark: sums and distinct purchase days per customer and
    line run on the cluster."""
    with _spark(session) as spark:
        source, _, as_of, keep = _transactions_in_window(spark, transactions, ("margin", "product"), as_of, start)
        tx = source.frame
        if "product" not in tx.columns:
            raise ValueError("transactions: no 'product' column; map the export's product or product-line column")
        purchase_day = F.when(F.col("amount") > 0, _day("date"))
        margin = "margin" in tx.columns and tx.where(F.col("margin").isNotNull()).limit(1).count() > 0
        per_line = (tx.where(keep & F.col("product").isNotNull())
                    .groupBy("customer_id", F.col("product").cast("string").alias("product"))
                    .agg(F.sum("amount").alias("revenue"),
                         *([F.sum(F.coalesce(F.col("margin"), F.lit(0.0))).alias("margin")] if margin else []),
                         F.countDistinct(purchase_day).alias("purchases"),
                         F.min(purchase_day).alias("first"), F.max(purchase_day).alias("last")))
        table = _collect(per_line)
    if table.empty:
        raise ValueError("transactions: no row with a product in the window")
    table["customer_id"] = _like(table["customer_id"], source.template, "customer_id")
    table = table.sort_values(["customer_id", "product"], kind="stable", ignore_index=True)
    out = pd.DataFrame({"customer_id": table["customer_id"].array, "product": table["product"].astype(str),
                        "revenue": table["revenue"].to_numpy(dtype=float)})
    if margin:
        out["margin"] = table["margin"].to_numpy(dtype=float)
    out["purchases"] = table["purchases"].to_numpy(dtype=np.int64)
    out["first_purchase"] = _dates(table["first"])
    out["last_purchase"] = _dates(table["last"])
    return out


# --------------------------------------------------------------------------------------------- revenue by period
def revenue_by_period(transactions, customers: pd.DataFrame | None = None, freq: str = "M", by: str | None = None,
                      *, session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.overview.revenue_by_period` on Spark.

    ``by`` names a column of the transactions or of ``customers`` (pandas; joined on the cluster, customers
    missing from it or without a value in ``"(unknown)"``).

    Returns
    -------
    DataFrame
        ``period`` (period start), [``by``], ``revenue``, ``returns``, ``margin``, ``customers``,
        ``transactions``; sorted by period then ``by``.
    """
    if freq not in REVENUE_PERIODS:
        raise ValueError(f"freq must be one of {sorted(REVENUE_PERIODS)}, got {freq!r}")
    with _spark(session) as spark:
        source = _read(spark, transactions, "transactions", ("customer_id", "date", "amount"),
                       ("margin",) + ((by,) if by else ()), dates=("date",), numbers=("amount", "margin"))
        tx, template = source.frame, source.template
        from_customers = by is not None and by not in tx.columns
        keep = F.col("date").isNotNull()
        if from_customers:
            if customers is None or by not in customers.columns:
                raise ValueError(f"column {by!r} is in neither the transactions nor the customers table")
            template = customers.iloc[:0]
            labels = _from_pandas(spark, customers[["customer_id", by]], ())
            tx = tx.join(F.broadcast(labels), "customer_id", "left")
            if isinstance(tx.schema[by].dataType, T.StringType):
                tx = tx.withColumn(by, F.coalesce(F.col(by), F.lit("(unknown)")))
        elif by is not None:
            keep &= F.col(by).isNotNull()  # pandas leaves out rows with an empty key
        keys = [_period_start(_day("date"), freq).alias("period")] + ([F.col(by)] if by else [])
        amount = F.col("amount")
        margin = F.col("margin") if "margin" in tx.columns else F.lit(None).cast("double")
        table = _collect(tx.where(keep).groupBy(*keys).agg(
            F.sum(amount).alias("revenue"), F.sum(F.least(amount, F.lit(0.0))).alias("returns"),
            F.sum(margin).alias("margin"), F.countDistinct("customer_id").alias("customers"),
            F.count(F.lit(1)).alias("transactions")))
    periods = pd.Series(_dates(table["period"]))
    out = pd.DataFrame({"period": periods.dt.to_period(REVENUE_PERIODS[freq]).dt.start_time})
    if by is not None:
        out[by] = _like(table[by], template, by)
        if from_customers:
            out[by] = out[by].fillna("(unknown)")
    for column in ("revenue", "returns", "margin"):
        out[column] = table[column].fillna(0.0).to_numpy(dtype=float)
    for column in ("customers", "transactions"):
        out[column] = table[column].to_numpy(dtype=np.int64)
    return out.sort_values(["period"] + ([by] if by else []), kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------- concentration
def concentration_over_time(transactions, freq: str = "Y", value: str = "amount", *,
                            session: SparkSession | None = None, **summary_options) -> pd.DataFrame:
    """:func:`portfolio_kit.concentration.concentration_over_time` on Spark.

    ``value`` is summed per customer and period on the cluster; only those sums (one number per customer and
    period, without the ids) are collected, and the reference summarises them period by period.

    Parameters
    ----------
    freq : {"D", "W", "M", "Q", "Y"}
        Period (pandas alias).
    value, summary_options
        As in the reference.
    """
    if freq not in CONCENTRATION_PERIODS:
        raise ValueError(f"freq must be one of {list(CONCENTRATION_PERIODS)} on the Spark engine, got {freq!r}")
    with _spark(session) as spark:
        source = _read(spark, transactions, "transactions", ("customer_id", "date", value), dates=("date",),
                       numbers=(value,), error=TypeError)
        tx = source.frame
        sums = (tx.where(F.col("date").isNotNull())
                .groupBy(_period_start(_day("date"), freq).alias("period"), "customer_id")
                .agg(F.sum(value).alias("value")).select("period", "value"))
        table = _collect(sums)
    per_customer = pd.DataFrame({"customer_id": np.arange(len(table)), "date": _dates(table["period"]),
                                 value: table["value"].fillna(0.0).to_numpy(dtype=float)})
    return _concentration_over_time(per_customer, freq, value, **summary_options)


# --------------------------------------------------------------------------------------------- payments
def _as_of_day(as_of) -> int:
    day = days(np.array([pd.Timestamp(as_of).to_datetime64()]))[0]
    if day == NEVER:
        raise ValueError("as_of: expected a date, got NaT")
    return int(day)


def _ledger(spark: SparkSession, invoices, as_of_day: int) -> Source:
    """The invoice ledger as known at ``as_of_day`` (:mod:`portfolio_kit.payments.ledger` rules) on Spark.

    Checks the whole table as :func:`portfolio_kit.payments.check_invoices` does, then keeps the invoices issued
    by ``as_of_day`` with day numbers ``issue``, ``due``, ``pay`` (``NEVER`` when not paid by then), ``amount``,
    ``paid`` (what was received by then), ``open_amount``, ``is_paid``, ``is_open`` and ``_order``.
    """
    source = _read(spark, invoices, "invoices", REQUIRED, ("paid_date", "paid_amount"),
                   dates=("issue_date", "due_date", "paid_date"), numbers=("amount", "paid_amount"), order=True,
                   missing_message=f"invoices: missing column(s) {{missing}}; expected the canonical invoice "
                                   f"columns {list(REQUIRED)} (+ optional 'paid_date', 'paid_amount')")
    frame = source.frame
    day = {c: _day(c) if c in frame.columns else F.lit(None).cast("long")
           for c in ("issue_date", "due_date", "paid_date")}
    frame = frame.select("customer_id", "invoice_id", "_order", F.col("amount"),
                         (F.col("paid_amount") if "paid_amount" in frame.columns else F.lit(None).cast("double"))
                         .alias("paid_amount"), day["issue_date"].alias("issue"), day["due_date"].alias("due"),
                         day["paid_date"].alias("paid_day"))
    issue, due, paid_day, amount, paid = (F.col(c) for c in ("issue", "due", "paid_day", "amount", "paid_amount"))
    checks = [
        (issue.isNull(), "column 'issue_date' is empty for {n} invoice(s) ({ids}): expected a date"),
        (due.isNull(), "column 'due_date' is empty for {n} invoice(s) ({ids}): expected a date; fill it from the "
                       "customer's payment terms (portfolio_kit.data does this on load) or drop those invoices"),
        (amount.isNull(), "column 'amount' is empty for {n} invoice(s) ({ids}): expected a number"),
        (F.col("customer_id").isNull(), "column 'customer_id' is empty for {n} invoice(s) ({ids}): expected a "
                                        "customer identifier"),
        (due < issue, "column 'due_date' is before 'issue_date' for {n} invoice(s) ({ids}): expected a due date "
                      "on or after issue"),
        (paid_day < issue, "column 'paid_date' is before 'issue_date' for {n} invoice(s) ({ids}): a payment cannot "
                           "precede its invoice"),
        (F.abs(paid) - F.abs(amount) > TOLERANCE, "column 'paid_amount' is above 'amount' for {n} invoice(s) "
                                                  "({ids}): overpayments must be booked as separate credit notes"),
        (((paid < 0) & (amount > 0)) | ((paid > 0) & (amount < 0)),
         "column 'paid_amount' has the opposite sign of 'amount' for {n} invoice(s) ({ids}): expected the same "
         "sign (negative for credit notes)"),
    ]
    stats = frame.agg(F.count(F.when(issue <= as_of_day, 1)).alias("issued"),
                      *[F.count(F.when(check, 1)).alias(f"check_{i}") for i, (check, _) in enumerate(checks)]).first()
    for i, (check, message) in enumerate(checks):
        if stats[f"check_{i}"]:
            first = frame.where(check).orderBy("_order").select("invoice_id").limit(3).collect()
            raise ValueError("invoices: " + message.format(n=stats[f"check_{i}"],
                                                           ids=", ".join(repr(str(row[0])) for row in first)))
    if stats["issued"] == 0:
        raise ValueError(f"invoices: none issued on or before as_of {as_timestamp([as_of_day])[0].date()}; "
                         "nothing to analyse")
    dated = paid_day.isNotNull() & (paid_day <= as_of_day)
    undated = paid_day.isNull() & paid.isNotNull() & (paid != 0)
    received = F.when(dated | undated, F.coalesce(paid, amount)).otherwise(F.lit(0.0))
    book = (frame.where(issue <= as_of_day)
            .select("customer_id", "_order", "issue", "due", "amount", received.alias("paid"),
                    F.when(dated, paid_day).when(undated, F.lit(as_of_day)).otherwise(F.lit(int(NEVER))).alias("pay"),
                    dated.alias("dated"))
            .withColumn("open_amount", F.col("amount") - F.col("paid")))
    is_paid = F.col("dated") & (F.col("amount") > 0) & (F.col("paid") > TOLERANCE)
    book = book.withColumn("is_paid", is_paid).withColumn(
        "is_open", (F.col("amount") > 0) & ~is_paid & (F.col("open_amount") > TOLERANCE))
    return Source(book, source.template)


def aging(invoices, as_of, by: str | None = None, customers: pd.DataFrame | None = None,
          edges: Sequence[int] = DEFAULT_EDGES, origin: str = "due", *,
          session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.payments.aging` on Spark.

    The open items at ``as_of`` are netted on the cluster per customer and age bucket (bucket ``i`` holds ages
    in ``(edges[i-1], edges[i]]``); each of those sums becomes one open item of that customer and bucket, in the
    order the customers first have an open item, and the reference groups and formats them (totals, per customer
    largest first, or per segment of ``customers``).

    Returns
    -------
    DataFrame
        The ``by`` column (when given), one column per bucket and ``total``.
    """
    e = check_edges(edges, origin)
    as_of_day = _as_of_day(as_of)
    if by not in (None, "customer_id"):
        segment_labels(customers, by)
    with _spark(session) as spark:
        book, template = _ledger(spark, invoices, as_of_day)
        age = F.lit(as_of_day) - F.col("due" if origin == "due" else "issue")
        bucket = reduce(lambda a, b: a + b, [F.when(age > int(edge), 1).otherwise(0) for edge in e])
        first_open = F.min("first").over(Window.partitionBy("customer_id"))
        open_items = (book.where(F.col("open_amount") != 0)
                      .groupBy("customer_id", bucket.alias("bucket"))
                      .agg(F.sum("open_amount").alias("amount"), F.min("_order").alias("first"))
                      .withColumn("first", first_open).orderBy("first", "bucket").drop("first"))
        table = _collect(open_items)
    if table.empty:  # nothing open: one item of zero keeps the reference's zero total row
        table = pd.DataFrame({"customer_id": pd.array([""], dtype=object), "bucket": [0], "amount": [0.0]})
    age_of_bucket = np.append(e, e[-1] + 1)[table["bucket"].to_numpy(dtype=np.int64)]
    start = as_of_day - age_of_bucket
    issue = np.minimum(start, as_of_day) if origin == "due" else start
    items = pd.DataFrame({"invoice_id": np.arange(len(table)).astype(str),
                          "customer_id": _like(table["customer_id"], template, "customer_id"),
                          "issue_date": as_timestamp(issue), "due_date": as_timestamp(start if origin == "due"
                                                                                     else issue),
                          "amount": table["amount"].to_numpy(dtype=float)})
    return _aging(items, as_of, by, customers, edges, origin)


def _index_points(late: Column) -> Column:
    """:data:`portfolio_kit.payments.PAYMENT_INDEX_SCALE` interpolated (``np.interp``: flat outside the scale)."""
    xp, fp = (PAYMENT_INDEX_SCALE[c].astype(float).tolist() for c in ("days_late", "index"))
    points = F.lit(fp[-1])
    for j in range(len(xp) - 2, -1, -1):
        slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
        points = F.when(late <= xp[j + 1], (late - xp[j]) * slope + fp[j]).otherwise(points)
    return F.when(late <= xp[0], F.lit(fp[0])).otherwise(points)


def payment_profile(invoices, as_of, months: int | None = 12, grace_days: int = 5, min_invoices: int = 3,
                    occasional_share: float = 0.10, chronic_share: float = 0.50, chronic_days: float = 30.0,
                    worsening_days: float = 15.0, *, session: SparkSession | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.payments.payment_profile` on Spark.

    Per customer, the sums behind the profile (invoices, late ones, amount, amount x days late, the least-squares
    sums of days late against the due date, the payment index sums) are computed on the cluster; the rules, the
    trend ``(n sxy - sx sy) / (n sxx - sx^2)`` and the order are applied in pandas as in the reference.

    Returns
    -------
    DataFrame
        ``customer_id``, ``invoices``, ``invoices_late``, ``share_late``, ``amount``, ``avg_days_late``,
        ``max_days_late``, ``days_late_trend``, ``worsening``, ``payment_index``, ``profile``; worst profile
        first, then by ``avg_days_late``.
    """
    as_of_day = _as_of_day(as_of)
    if months is not None and (int(months) != months or months < 1):
        raise ValueError(f"months: expected a whole number of months >= 1 or None, got {months!r}")
    due, a = F.col("due"), as_of_day
    in_window = due <= a
    if months is not None:
        start = days(np.array([(as_timestamp([a])[0] - pd.DateOffset(months=int(months))).to_datetime64()]))[0]
        in_window &= due > int(start)
    with _spark(session) as spark:
        book, template = _ledger(spark, invoices, as_of_day)
        known = F.col("is_paid") | F.col("is_open")
        late = F.when(F.col("is_paid"), F.col("pay") - due).otherwise(F.lit(a) - due).cast("double")
        mask = known & (due <= a - grace_days) & in_window
        scored = known & (due <= a) & in_window
        x = (due - a) / 365.25

        def total(values=None):
            return F.sum(F.when(mask, values)) if values is not None else F.count(F.when(mask, 1))

        sums = book.groupBy("customer_id").agg(
            F.min("_order").alias("first"), total().alias("invoices"),
            F.count(F.when(mask & (late > grace_days), 1)).alias("invoices_late"),
            total(F.col("amount")).alias("amount"),
            total(F.col("amount") * F.greatest(late, F.lit(0.0))).alias("amount_days_late"),
            F.max(F.when(mask, late)).alias("max_days_late"),
            total(x).alias("sx"), total(late).alias("sy"), total(x * x).alias("sxx"), total(x * late).alias("sxy"),
            F.count(F.when(scored, 1)).alias("scored"), F.sum(F.when(scored, F.col("amount"))).alias("scored_amount"),
            F.sum(F.when(scored, F.col("amount") * _index_points(late))).alias("scored_points"))
        table = _collect(sums.where(F.col("invoices") > 0).orderBy("first").drop("first"))
    if table.empty:
        raise ValueError("invoices: no invoice with a known lateness in the window; widen months")

    ids = _like(table["customer_id"], template, "customer_id")
    count = table["invoices"].to_numpy(dtype=float)
    sx, sy, sxx, sxy = (table[c].to_numpy(dtype=float) for c in ("sx", "sy", "sxx", "sxy"))
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = count * sxx - sx * sx
        trend = np.where((count >= min_invoices) & (denominator > 1e-12 * count * count),
                         (count * sxy - sx * sy) / denominator, np.nan)
    amount = table["amount"].to_numpy(dtype=float)
    out = pd.DataFrame({"customer_id": ids, "invoices": count.astype(int),
                        "invoices_late": table["invoices_late"].to_numpy(dtype=float).astype(int), "amount": amount,
                        "avg_days_late": table["amount_days_late"].to_numpy(dtype=float) / amount,
                        "max_days_late": table["max_days_late"].to_numpy(dtype=float), "days_late_trend": trend})
    # the reference's rules and order, from here on
    scored = table["scored"].to_numpy() > 0
    index = pd.DataFrame({"customer_id": ids[scored], "payment_index": (table["scored_points"] /
                                                                        table["scored_amount"]).to_numpy()[scored]})
    return profiles_from_statistics(out, index.set_index("customer_id")["payment_index"],
                                    min_invoices=min_invoices, occasional_share=occasional_share,
                                    chronic_share=chronic_share, chronic_days=chronic_days,
                                    worsening_days=worsening_days)
