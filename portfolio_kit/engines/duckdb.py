"""The per-customer aggregations on DuckDB, straight from Parquet files (or a DataFrame), results in pandas.

Each function gives the same table as its pandas reference (see :mod:`portfolio_kit.engines`): DuckDB sums
the raw rows per customer (and period) in one query, which only reads the columns it needs; the small
per-customer result then goes through the same steps in pandas as the reference. Each call opens its own
in-memory connection (:func:`connect`) and closes it.

Arguments are checked by the reference functions' own helpers. The raw rows are checked by the same rules,
counted in SQL: invoices with the reference's messages (the rows breaking a rule are handed to
:func:`portfolio_kit.payments.check_invoices`), transactions with the column named and the count.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from portfolio_kit.clv.summary import finish_summary, summary_window
from portfolio_kit.data.dates import period_ordinal
from portfolio_kit import segmentation
from portfolio_kit.concentration import concentration_over_time as _concentration_over_time
from portfolio_kit.overview import REVENUE_PERIODS
from portfolio_kit.payments.behaviour import PAYMENT_INDEX_SCALE, profiles_from_statistics
from portfolio_kit.data.dates import NEVER, days
from portfolio_kit.payments.ledger import TOLERANCE, UNKNOWN_SEGMENT, checked_columns, segment_codes
from portfolio_kit.payments.receivables import DEFAULT_EDGES, aging_table, check_edges, aging_labels
from portfolio_kit.engines import Rows, parquet_files

__all__ = ["connect", "rfm_summary", "customer_summary", "customer_lines", "revenue_by_period",
           "concentration_over_time", "aging", "payment_profile"]

logger = logging.getLogger(__name__)

#: Calendar periods DuckDB truncates dates to (``date_trunc``), by pandas period alias.
_TRUNCATE = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
_ROW_BITS = 40  # row order key: file number * 2**40 + row number in the file


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for one aggregation.

    Parameters
    ----------
    threads : int, optional
        Worker threads; default all cores.
    memory_limit : str, optional
        DuckDB memory limit such as ``"4GB"``; default half the physical memory (DuckDB spills to disk
        beyond it), so a laptop keeps room for pandas and the notebook.
    """
    config = {"threads": threads or os.cpu_count() or 1, "preserve_insertion_order": False}
    if memory_limit is None and hasattr(os, "sysconf"):
        memory_limit = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**21}MB"
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    return duckdb.connect(":memory:", config=config)


# --------------------------------------------------------------------------------------------- input rows
def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _register(con, rows: Rows, name: str, columns: Sequence[str], row_order: bool = False) -> pd.DataFrame:
    """Make the view ``name`` over ``rows`` with those of ``columns`` that exist (plus ``_row``, the position of
    the row in the input, with ``row_order``); return the input's schema as an empty pandas frame, with the
    dtypes the reference function would see (a DataFrame's own, or those ``pd.read_parquet`` gives)."""
    if isinstance(rows, pd.DataFrame):
        schema = rows.iloc[:0]
        kept = [c for c in columns if c in rows.columns]
        table = pa.Table.from_pandas(rows[kept], preserve_index=False)
        if row_order:
            table = table.append_column("_row", pa.array(np.arange(len(rows), dtype=np.int64)))
        con.register(name, table)
        return schema
    files = [str(path) for path in parquet_files(rows)]
    schema = pq.read_schema(files[0]).empty_table().to_pandas()
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    kept = ", ".join(_quoted(c) for c in columns if c in schema.columns)
    source = f"read_parquet({listed}, union_by_name = true"
    if row_order:
        kept += f", (list_position({listed}, filename) - 1) * {2 ** _ROW_BITS} + file_row_number AS _row"
        source += ", filename = true, file_row_number = true"
    con.execute(f"CREATE VIEW {name} AS SELECT {kept} FROM {source})")
    return schema


def _check_transactions(con, schema: pd.DataFrame, needed: Sequence[str], dates_error=TypeError,
                        numbers: Sequence[str] = ("amount",), complete: bool = True) -> None:
    """Check the ``transactions`` view as the reference functions do.

    Missing columns, dates that are not datetime64 (``dates_error``), ``numbers`` (when present) that are not
    numeric, no rows, and with ``complete`` missing values in ``needed`` or ``numbers`` raise with the column
    named.
    """
    missing = [c for c in needed if c not in schema.columns]
    if missing:
        raise ValueError(f"transactions: missing column(s) {missing}; available: {list(schema.columns)}")
    if "date" in needed and not pd.api.types.is_datetime64_any_dtype(schema["date"]):
        raise dates_error(f"transactions: column 'date' must be datetime64, got {schema['date'].dtype}; "
                          "convert it with pd.to_datetime first")
    numbers = [c for c in numbers if c in schema.columns]
    for column in numbers:
        if not pd.api.types.is_numeric_dtype(schema[column]):
            raise ValueError(f"transactions: column {column!r} must be numeric, got {schema[column].dtype}")
    checked = list(dict.fromkeys([*needed, *numbers])) if complete else []
    counts = con.execute("SELECT " + ", ".join(["count(*)", *(f"count(*) - count({_quoted(c)})" for c in checked)])
                         + " FROM transactions").fetchall()[0]
    for column, empty in zip(checked, counts[1:]):
        if empty:
            raise ValueError(f"transactions: column {column!r} has {empty} missing value(s)")
    if counts[0] == 0:
        raise ValueError("transactions: no rows")


def _ids(values, schema: pd.DataFrame, column: str = "customer_id") -> pd.Index:
    """Identifiers from DuckDB as an Index of the input column's dtype."""
    return pd.Index(pd.array(values, dtype=schema[column].dtype), name=column)


def _day_of(column: str) -> str:
    """SQL: day number since 1970-01-01 of a date or timestamp column (floor, as :func:`ledger.days`)."""
    return f"(CAST({_quoted(column)} AS DATE) - DATE '1970-01-01')"


# --------------------------------------------------------------------------------------------- CLV summary
def _period_sql(period: str) -> str:
    """SQL: :func:`portfolio_kit.clv.summary.period_ordinal` of the column ``day`` (a DATE)."""
    return {"D": "(day - DATE '1970-01-01')",
            "W": "((date_trunc('week', day)::DATE - DATE '1970-01-01' + 3) // 7)",  # exact: Mondays are 4 mod 7
            "M": "(12 * (year(day) - 1970) + month(day) - 1)",
            "Q": "(4 * (year(day) - 1970) + quarter(day) - 1)"}[period]


def rfm_summary(transactions: Rows, observation_end, period: str = "W", calibration_end=None, *,
                period_multiplier: float = 1, returns: str = "net") -> pd.DataFrame:
    """:func:`portfolio_kit.clv.rfm_summary` on DuckDB (canonical columns; ``margin`` used when present).

    Lines are summed per customer, window (calibration or holdout) and period, then per customer. A return in a
    period with a purchase nets that period; one in a period without purchase counts in the customer's latest
    purchase period before it in the same window (the first one when it falls before the second purchase), or
    not at all before the first purchase: the reference's returns rule.

    Examples
    --------
    >>> summary = rfm_summary("staging/transactions", "1998-06-30", "W",
    ...                       calibration_end="1997-09-28")          # doctest: +SKIP
    """
    obs_day, cal_day = summary_window(observation_end, calibration_end, period, period_multiplier, returns)

    with connect() as con:
        schema = _register(con, transactions, "transactions", ("customer_id", "date", "amount", "margin"))
        has_margin = "margin" in schema.columns
        _check_transactions(con, schema, ("customer_id", "date", "amount"), dates_error=ValueError,
                            numbers=("amount", "margin"))
        margin = "margin" if has_margin else "NULL::DOUBLE AS margin"
        sql = f"""
        WITH rows_in_window AS (  -- period_key: 2 x period + 1 in the holdout (one integer: a cheaper group key)
            SELECT customer_id, 2 * {_period_sql(period)} + (day > $calibration_end)::INT AS period_key,
                   amount, margin
            FROM (SELECT customer_id, CAST(date AS DATE) AS day, amount, {margin} FROM transactions)
            WHERE day <= $observation_end {'' if returns == 'net' else 'AND amount >= 0'}
        ),
        periods AS (              -- per customer, window and period: net amount, and whether it has a purchase
            SELECT customer_id, period_key >> 1 AS period, period_key & 1 = 0 AS calibration,
                   bool_or(amount >= 0) AS purchase, sum(amount) AS amount, sum(margin) AS margin
            FROM rows_in_window GROUP BY customer_id, period_key
        ),
        purchases AS (            -- per customer: its purchase periods, in the calibration and the holdout
            SELECT customer_id,
                   count(*) FILTER (calibration AND purchase) AS periods,
                   min(period) FILTER (calibration AND purchase) AS first,
                   min(period, 2) FILTER (calibration AND purchase)[2] AS second,
                   max(period) FILTER (calibration AND purchase) AS last,
                   sum(amount) FILTER (calibration AND purchase) AS total,
                   arg_min(amount, period) FILTER (calibration AND purchase) AS first_amount,
                   sum(margin) FILTER (calibration AND purchase) AS margin,
                   count(*) FILTER (NOT calibration AND purchase) AS holdout_periods,
                   min(period) FILTER (NOT calibration AND purchase) AS holdout_first,
                   sum(amount) FILTER (NOT calibration AND purchase) AS holdout_total
            FROM periods GROUP BY customer_id
        ),
        later_returns AS (        -- returns in a period without purchase count in the latest purchase period
            SELECT customer_id,   -- before them (the first one until the second purchase), or not at all
                   sum(r.amount) FILTER (r.calibration AND r.period > p.first) AS total,
                   sum(r.amount) FILTER (r.calibration AND r.period > p.first
                                         AND r.period < coalesce(p.second, r.period + 1)) AS first_amount,
                   sum(r.margin) FILTER (r.calibration AND r.period > p.first) AS margin,
                   sum(r.amount) FILTER (NOT r.calibration AND r.period > p.holdout_first) AS holdout_total
            FROM periods AS r JOIN purchases AS p USING (customer_id)
            WHERE NOT r.purchase GROUP BY customer_id
        )
        SELECT customer_id, p.periods, p.first, p.last,
               p.total + coalesce(r.total, 0) AS total,
               p.first_amount + coalesce(r.first_amount, 0) AS first_amount,
               p.margin + coalesce(r.margin, 0) AS margin, p.holdout_periods,
               coalesce(p.holdout_total, 0) + coalesce(r.holdout_total, 0) AS holdout_total
        FROM purchases AS p LEFT JOIN later_returns AS r USING (customer_id)
        WHERE p.periods > 0
        ORDER BY customer_id
        """
        params = {"observation_end": np.datetime64(int(obs_day), "D").item(),
                  "calibration_end": np.datetime64(int(cal_day), "D").item()}
        per_customer = con.execute(sql, params).df()

    if per_customer.empty:
        raise ValueError(f"no purchase on or before {pd.Timestamp(int(cal_day), unit='D').date()}: "
                         f"nothing to summarise")
    count = per_customer["periods"].to_numpy()
    first, last = per_customer["first"].to_numpy(), per_customer["last"].to_numpy()
    end_ordinal = period_ordinal(np.datetime64(int(cal_day), "D"), period)
    out = pd.DataFrame({"frequency": count - 1, "recency": (last - first) / period_multiplier,
                        "T": (end_ordinal - first) / period_multiplier},
                       index=_ids(per_customer["customer_id"], schema))
    total = per_customer["total"].to_numpy()
    repeat = total - per_customer["first_amount"].to_numpy()
    out["monetary_value"] = np.divide(repeat, count - 1, out=np.zeros(len(count)), where=count > 1)
    if has_margin:
        out["margin_rate"] = np.divide(per_customer["margin"].to_numpy(), total, out=np.full(len(count), np.nan),
                                       where=total > 0)
    if calibration_end is not None:
        n = per_customer["holdout_periods"].to_numpy()
        out["frequency_holdout"] = n
        out["monetary_value_holdout"] = np.divide(per_customer["holdout_total"].to_numpy(), n,
                                                  out=np.zeros(len(n)), where=n > 0)
    return finish_summary(out, period, period_multiplier, end_ordinal, obs_day,
                          None if calibration_end is None else cal_day)


# --------------------------------------------------------------------------------------------- segmentation
def customer_summary(transactions: Rows, customers: pd.DataFrame | None = None, as_of=None, *,
                     start=None) -> pd.DataFrame:
    """:func:`portfolio_kit.segmentation.customer_summary` on DuckDB; ``customers`` is joined in pandas.

    Examples
    --------
    >>> summary = customer_summary("staging/transactions", customers, as_of="2024-12-31")  # doctest: +SKIP
    """
    optional = ("margin", "product", "channel")
    with connect() as con:
        schema = _register(con, transactions, "transactions", ("customer_id", "date", "amount", *optional))
        _check_transactions(con, schema, ("customer_id", "date", "amount"))
        as_of = (pd.Timestamp(con.execute("SELECT max(date) FROM transactions").fetchall()[0][0])
                 if as_of is None else pd.Timestamp(as_of))
        present = [c for c in optional if c in schema.columns]
        breadth = "".join(f", count(DISTINCT {c}) AS n_{c}s, count({c}) AS {c}_known" for c in present
                          if c != "margin")
        sql = f"""
        WITH rows_in_window AS (
            SELECT *, CAST(date AS DATE) AS day FROM transactions
            WHERE date <= $as_of {'AND date >= $start' if start is not None else ''}
        )
        SELECT customer_id,
               min(day) FILTER (amount > 0) AS first_purchase, max(day) FILTER (amount > 0) AS last_purchase,
               count(DISTINCT day) FILTER (amount > 0) AS frequency, sum(amount) AS revenue,
               {'sum(coalesce(margin, 0)) AS margin, count(margin) AS margin_known,' if 'margin' in present else ''}
               count(*) AS lines, count(*) FILTER (amount < 0) AS credit_notes,
               coalesce(sum(amount) FILTER (amount < 0), 0) AS credit_total{breadth}
        FROM rows_in_window GROUP BY customer_id ORDER BY customer_id
        """
        params = {"as_of": as_of.to_pydatetime()}
        if start is not None:
            params["start"] = pd.Timestamp(start).to_pydatetime()
        per_customer = con.execute(sql, params).df()
    if per_customer.empty:
        raise ValueError(f"transactions: no rows between {start} and {as_of.date()}")

    out = pd.DataFrame(index=_ids(per_customer["customer_id"], schema))
    for column in ("first_purchase", "last_purchase"):
        out[column] = per_customer[column].to_numpy().astype("datetime64[ns]")
    out["recency"] = (as_of - out["last_purchase"]).dt.days.astype(float)
    out["tenure"] = (as_of - out["first_purchase"]).dt.days.astype(float)
    out["frequency"] = per_customer["frequency"].to_numpy()
    out["revenue"] = per_customer["revenue"].to_numpy()
    if "margin" in present and per_customer["margin_known"].sum() > 0:
        out["margin"] = per_customer["margin"].to_numpy()
    out["lines"] = per_customer["lines"].to_numpy()
    out["credit_notes"] = per_customer["credit_notes"].to_numpy()
    credit = -per_customer["credit_total"].to_numpy()
    # as the reference (a bincount of no credit note is an integer array)
    out["credit_amount"] = credit if out["credit_notes"].any() else credit.astype(np.int64)
    for column in ("product", "channel"):
        if column in present and per_customer[f"{column}_known"].sum() > 0:
            out[f"n_{column}s"] = per_customer[f"n_{column}s"].to_numpy()
    return out if customers is None else segmentation.join_customers(out, customers)


def customer_lines(transactions: Rows, as_of=None, *, start=None) -> pd.DataFrame:
    """:func:`portfolio_kit.products.customer_lines` on DuckDB.

    Examples
    --------
    >>> lines = customer_lines("staging/transactions", as_of="2024-12-31")  # doctest: +SKIP
    """
    with connect() as con:
        schema = _register(con, transactions, "transactions", ("customer_id", "date", "amount", "margin", "product"))
        if "product" not in schema.columns:
            raise ValueError("transactions: no 'product' column; map the export's product or product-line column")
        _check_transactions(con, schema, ("customer_id", "date", "amount"))
        as_of = (pd.Timestamp(con.execute("SELECT max(date) FROM transactions").fetchall()[0][0])
                 if as_of is None else pd.Timestamp(as_of))
        margin = ("margin" in schema.columns
                  and con.execute("SELECT count(margin) FROM transactions").fetchall()[0][0] > 0)
        sql = f"""
        SELECT customer_id, CAST(product AS VARCHAR) AS product, sum(amount) AS revenue,
               {'sum(coalesce(margin, 0)) AS margin,' if margin else ''}
               count(DISTINCT CAST(date AS DATE)) FILTER (amount > 0) AS purchases,
               min(CAST(date AS DATE)) FILTER (amount > 0) AS first_purchase,
               max(CAST(date AS DATE)) FILTER (amount > 0) AS last_purchase
        FROM transactions
        WHERE date <= $as_of {'AND date >= $start' if start is not None else ''} AND product IS NOT NULL
        GROUP BY ALL ORDER BY customer_id, product
        """
        params = {"as_of": as_of.to_pydatetime()}
        if start is not None:
            params["start"] = pd.Timestamp(start).to_pydatetime()
        out = con.execute(sql, params).df()
    if out.empty:
        raise ValueError("transactions: no row with a product in the window")
    out["customer_id"] = _ids(out["customer_id"], schema).array
    out["product"] = out["product"].astype(str)
    out["purchases"] = out["purchases"].astype(np.int64)
    for column in ("first_purchase", "last_purchase"):
        out[column] = out[column].to_numpy().astype("datetime64[ns]")
    return out


# --------------------------------------------------------------------------------------------- overview
def revenue_by_period(transactions: Rows, customers: pd.DataFrame | None = None, freq: str = "M",
                      by: str | None = None) -> pd.DataFrame:
    """:func:`portfolio_kit.overview.revenue_by_period` on DuckDB; a ``by`` column of ``customers`` is joined in.

    Examples
    --------
    >>> revenue_by_period("staging/transactions", customers, "Q", by="sector")  # doctest: +SKIP
    """
    if freq not in REVENUE_PERIODS:
        raise ValueError(f"freq must be one of {sorted(REVENUE_PERIODS)}, got {freq!r}")
    with connect() as con:
        schema = _register(con, transactions, "transactions",
                           ("customer_id", "date", "amount", "margin", *([by] if by else [])))
        _check_transactions(con, schema, ("customer_id", "date", "amount"), complete=False)  # sums skip NaN
        label, join, dtype = "", "", None
        if by is not None:
            if by in schema.columns:
                label, dtype = f"t.{_quoted(by)}", schema[by].dtype
            elif customers is not None and by in customers.columns:
                con.register("customer_labels", pa.Table.from_pandas(customers[["customer_id", by]],
                                                                     preserve_index=False))
                join = "LEFT JOIN customer_labels AS c USING (customer_id)"
                label, dtype = f"coalesce(c.{_quoted(by)}, '{UNKNOWN_SEGMENT}')", customers[by].dtype
            else:
                raise ValueError(f"column {by!r} is in neither the transactions nor the customers table")
        margin = "coalesce(sum(t.margin), 0)" if "margin" in schema.columns else "0.0"  # a sum of nothing
        sql = f"""
        SELECT date_trunc('{_TRUNCATE[freq]}', t.date) AS period{f', {label} AS label' if by else ''},
               coalesce(sum(t.amount), 0) AS revenue, coalesce(sum(least(t.amount, 0)), 0) AS returns,
               {margin} AS margin, count(DISTINCT t.customer_id) AS customers, count(*) AS transactions
        FROM transactions AS t {join}
        WHERE t.date IS NOT NULL {'AND label IS NOT NULL' if by else ''}  -- groupby leaves out missing keys
        GROUP BY ALL ORDER BY ALL
        """
        out = con.execute(sql).df()
    out["period"] = out["period"].astype(schema["date"].dt.to_period(freq).dt.start_time.dtype)
    if by is not None:
        out = out.rename(columns={"label": by})
        out[by] = out[by].astype(dtype)
    return out


# --------------------------------------------------------------------------------------------- concentration
def concentration_over_time(transactions: Rows, freq: str = "Y", value: str = "amount",
                            **summary_options) -> pd.DataFrame:
    """:func:`portfolio_kit.concentration.concentration_over_time` with the sums per customer and period on
    DuckDB; the summaries of each period run in pandas on those sums. ``freq``: ``"D"``, ``"W"``, ``"M"``,
    ``"Q"`` or ``"Y"``.

    Examples
    --------
    >>> concentration_over_time("staging/transactions", freq="Q")  # doctest: +SKIP
    """
    if freq not in _TRUNCATE:
        raise ValueError(f"freq must be one of {list(_TRUNCATE)}, got {freq!r}")
    with connect() as con:
        schema = _register(con, transactions, "transactions", ("customer_id", "date", value))
        missing = [c for c in ("customer_id", "date", value) if c not in schema.columns]
        if missing:
            raise ValueError(f"transactions: missing column(s) {missing}")
        if not pd.api.types.is_datetime64_any_dtype(schema["date"]):
            raise TypeError(f"transactions: column 'date' must be datetime64, got {schema['date'].dtype}")
        per_customer = con.execute(f"""
            SELECT customer_id, date_trunc('{_TRUNCATE[freq]}', date) AS date,
                   coalesce(sum({_quoted(value)}), 0) AS {_quoted(value)}
            FROM transactions GROUP BY ALL
        """).df()
    # one row per customer and period, dated at the period's start: the reference sums and summarises them
    return _concentration_over_time(per_customer, freq, value, **summary_options)


# --------------------------------------------------------------------------------------------- payments
def _check_invoices(con, schema: pd.DataFrame) -> dict[str, str]:
    """Check the ``invoices`` view by :func:`portfolio_kit.payments.check_invoices` (same rules, same messages:
    the rows breaking the first rule broken are handed to it); return the SQL of the columns ``issue``, ``due``,
    ``pay`` (day numbers) and ``paid``."""
    checked_columns(schema)  # missing columns, types (on no rows)
    paid_date = "paid_date" in schema.columns
    if paid_date and not pd.api.types.is_datetime64_any_dtype(schema["paid_date"]):
        sample = con.execute("SELECT * EXCLUDE (_row) FROM invoices WHERE paid_date IS NOT NULL LIMIT 1").df()
        checked_columns(sample)  # raises unless paid_date is empty throughout
        paid_date = False
    column = {"issue": _day_of("issue_date"), "due": _day_of("due_date"),
              "pay": _day_of("paid_date") if paid_date else "NULL::BIGINT",
              "paid": "nullif(paid_amount, 'NaN'::DOUBLE)" if "paid_amount" in schema.columns else "NULL::DOUBLE"}
    rules = ["issue_date IS NULL", "due_date IS NULL", "amount IS NULL OR isnan(amount)", "customer_id IS NULL",
             "{due} < {issue}", "{pay} < {issue}", f"abs({{paid}}) - abs(amount) > {TOLERANCE}",
             "({paid} < 0 AND amount > 0) OR ({paid} > 0 AND amount < 0)"]
    rules = [rule.format(**column) for rule in rules]
    broken = con.execute("SELECT " + ", ".join(f"count(*) FILTER ({rule})" for rule in rules)
                         + " FROM invoices").fetchall()[0]
    for rule, n in zip(rules, broken):
        if n:
            checked_columns(con.execute(f"SELECT * EXCLUDE (_row) FROM invoices WHERE {rule} ORDER BY _row").df())
    return column


def _ledger_sql(column: dict[str, str]) -> str:
    """SQL (CTEs) of the invoices issued by ``$as_of`` as known then (:mod:`portfolio_kit.payments.ledger`):
    ``book`` with ``pay`` (NULL: nothing received by ``$as_of``), ``paid`` (what was received),
    ``is_paid`` and ``is_open``; days are day numbers."""
    return f"""
    invoices_issued AS (
        SELECT customer_id, _row, amount, {column['issue']} AS issue, {column['due']} AS due,
               {column['pay']} AS pay, {column['paid']} AS paid
        FROM invoices WHERE {column['issue']} <= $as_of
    ),
    payments_known AS (           -- dated by as_of, or on account (a paid amount without a date)
        SELECT *, coalesce(pay <= $as_of, false) AS dated,
               coalesce(pay IS NULL AND paid <> 0, false) AS on_account
        FROM invoices_issued
    ),
    book AS (
        SELECT customer_id, _row, amount, issue, due, dated,
               CASE WHEN dated THEN pay WHEN on_account THEN $as_of END AS pay,
               CASE WHEN dated OR on_account THEN coalesce(paid, amount) ELSE 0 END AS paid
        FROM payments_known
    ),
    book_status AS (
        SELECT *, dated AND amount > 0 AND paid > {TOLERANCE} AS is_paid,
               amount > 0 AND NOT (dated AND paid > {TOLERANCE}) AND amount - paid > {TOLERANCE} AS is_open
        FROM book
    )"""


def _open_ledger(con, invoices: Rows, as_of, columns: Sequence[str]) -> tuple[pd.DataFrame, dict, int]:
    """Register and check ``invoices``; return the schema, the ledger's SQL columns and ``as_of`` as a day."""
    as_of_day = days(np.array([pd.Timestamp(as_of).to_datetime64()]))[0]
    if as_of_day == NEVER:
        raise ValueError("as_of: expected a date, got NaT")
    schema = _register(con, invoices, "invoices", columns, row_order=True)
    column = _check_invoices(con, schema)
    issued = con.execute(f"SELECT count(*) FROM invoices WHERE {column['issue']} <= ?",
                         [int(as_of_day)]).fetchall()[0][0]
    if issued == 0:
        raise ValueError(f"invoices: none issued on or before as_of {pd.Timestamp(as_of).date()}; "
                         "nothing to analyse")
    return schema, column, int(as_of_day)


_INVOICE_COLUMNS = ("invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date", "paid_amount")


def aging(invoices: Rows, as_of, by: str | None = None, customers: pd.DataFrame | None = None,
          edges: Sequence[int] = DEFAULT_EDGES, origin: str = "due") -> pd.DataFrame:
    """:func:`portfolio_kit.payments.aging` on DuckDB: open amounts per customer and age bucket in SQL, grouped
    by ``by`` in pandas.

    Examples
    --------
    >>> aging("staging/invoices", "2024-12-31", by="sector", customers=customers)  # doctest: +SKIP
    """
    e = check_edges(edges, origin)
    labels = aging_labels(edges, origin)
    age = f"$as_of - {'due' if origin == 'due' else 'issue'}"
    bounds = [f"age <= {e[0]}"] + [f"age > {lo} AND age <= {hi}" for lo, hi in zip(e[:-1], e[1:])] + [f"age > {e[-1]}"]
    buckets = ", ".join(f"coalesce(sum(amount - paid) FILTER ({bound}), 0) AS b{i}" for i, bound in enumerate(bounds))
    with connect() as con:
        schema, column, as_of_day = _open_ledger(con, invoices, as_of, _INVOICE_COLUMNS)
        per_customer = con.execute(f"""
            WITH {_ledger_sql(column)},
            open_items AS (SELECT *, {age} AS age FROM book WHERE amount - paid <> 0)
            SELECT customer_id, min(_row) AS first_row, {buckets}
            FROM open_items GROUP BY customer_id ORDER BY first_row
        """, {"as_of": as_of_day}).df()
    ids = _ids(per_customer["customer_id"], schema)
    by_customer = per_customer[[f"b{i}" for i in range(len(labels))]].to_numpy(dtype=float)
    # the customers with open items, in ledger order, stand in for the ledger's entries
    group, groups = segment_codes(SimpleNamespace(customer=np.arange(len(ids)), customer_ids=ids), customers, by)
    if group is None:
        amounts = by_customer.sum(axis=0, keepdims=True)
    else:
        amounts = np.stack([np.bincount(group, weights=b, minlength=len(groups)) for b in by_customer.T],
                           axis=1).astype(float)  # (a bincount of nothing is an integer array)
    return aging_table(amounts.reshape(len(groups), 1, len(labels)), labels, groups, by)


def _index_points_sql(late: str) -> str:
    """SQL: ``np.interp`` of ``late`` on :data:`PAYMENT_INDEX_SCALE` (flat outside the scale)."""
    x, y = PAYMENT_INDEX_SCALE["days_late"].tolist(), PAYMENT_INDEX_SCALE["index"].tolist()
    pieces = [f"WHEN {late} <= {x[0]} THEN {float(y[0])!r}"]
    pieces += [f"WHEN {late} < {x1} THEN {float(y0)!r} + ({late} - {x0}) * {(y1 - y0) / (x1 - x0)!r}"
               for x0, x1, y0, y1 in zip(x[:-1], x[1:], y[:-1], y[1:])]
    return f"CASE {' '.join(pieces)} ELSE {float(y[-1])!r} END"


def payment_profile(invoices: Rows, as_of, months: int | None = 12, grace_days: int = 5,
                    min_invoices: int = 3, occasional_share: float = 0.10, chronic_share: float = 0.50,
                    chronic_days: float = 30.0, worsening_days: float = 15.0) -> pd.DataFrame:
    """:func:`portfolio_kit.payments.payment_profile` on DuckDB: the sums per customer (counts, amounts, days
    late, least-squares sums of the trend, payment index points) in SQL, the rules in pandas.

    Examples
    --------
    >>> payment_profile("staging/invoices", "2024-12-31", months=12)  # doctest: +SKIP
    """
    with connect() as con:
        schema, column, as_of_day = _open_ledger(con, invoices, as_of, _INVOICE_COLUMNS)
        if months is None:
            window = "due <= $as_of"
        else:
            if int(months) != months or months < 1:
                raise ValueError(f"months: expected a whole number of months >= 1 or None, got {months!r}")
            start = pd.Timestamp(int(as_of_day), unit="D") - pd.DateOffset(months=int(months))
            window = f"due > {days(np.array([start.to_datetime64()]))[0]} AND due <= $as_of"
        per_customer = con.execute(f"""
            WITH {_ledger_sql(column)},
            lateness AS (                -- days late: actual when paid, as_of - due (a lower bound) when open
                SELECT customer_id, _row, amount, due, is_paid OR is_open AS known, {window} AS in_window,
                       CASE WHEN is_paid THEN pay - due ELSE $as_of - due END AS late
                FROM book_status
            ),
            invoices_rated AS (
                SELECT *, known AND in_window AND due <= $as_of - $grace_days AS profiled,
                       known AND in_window AND due <= $as_of AS scored,
                       (due - $as_of) / 365.25 AS x, {_index_points_sql('late')} AS points
                FROM lateness
            )
            SELECT customer_id, min(_row) AS first_row,
                   count(*) FILTER (profiled) AS invoices,
                   count(*) FILTER (profiled AND late > $grace_days) AS invoices_late,
                   sum(amount) FILTER (profiled) AS amount,
                   sum(amount * greatest(late, 0)) FILTER (profiled) AS amount_days_late,
                   max(late) FILTER (profiled) AS max_days_late,
                   sum(x) FILTER (profiled) AS sx, sum(late) FILTER (profiled) AS sy,
                   sum(x * x) FILTER (profiled) AS sxx, sum(x * late) FILTER (profiled) AS sxy,
                   count(*) FILTER (scored) AS scored, sum(amount) FILTER (scored) AS scored_amount,
                   sum(amount * points) FILTER (scored) AS scored_points
            FROM invoices_rated GROUP BY customer_id ORDER BY first_row
        """, {"as_of": as_of_day, "grace_days": grace_days}).df()
    s = per_customer[per_customer["invoices"] > 0].reset_index(drop=True)
    if s.empty:
        raise ValueError("invoices: no invoice with a known lateness in the window; widen months")
    count = s["invoices"].to_numpy()
    sx, sy, sxx, sxy = (s[c].to_numpy(dtype=float) for c in ("sx", "sy", "sxx", "sxy"))
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = count * sxx - sx * sx
        trend = np.where((count >= min_invoices) & (denominator > 1e-12 * count * count),
                         (count * sxy - sx * sy) / denominator, np.nan)
    out = pd.DataFrame({
        "customer_id": _ids(s["customer_id"], schema), "invoices": count.astype(int),
        "invoices_late": s["invoices_late"].to_numpy().astype(int), "amount": s["amount"].to_numpy(dtype=float),
        "avg_days_late": s["amount_days_late"].to_numpy(dtype=float) / s["amount"].to_numpy(dtype=float),
        "max_days_late": s["max_days_late"].to_numpy(dtype=float), "days_late_trend": trend})
    scored = per_customer[per_customer["scored"] > 0]
    index = pd.Series(scored["scored_points"].to_numpy(dtype=float) / scored["scored_amount"].to_numpy(dtype=float),
                      index=_ids(scored["customer_id"], schema))
    return profiles_from_statistics(out, index, min_invoices=min_invoices, occasional_share=occasional_share,
                                    chronic_share=chronic_share, chronic_days=chronic_days,
                                    worsening_days=worsening_days)
