"""The canonical data model: the four tables every analysis reads.

Each table is a pandas DataFrame with the columns below (``required`` ones must be present in the client's
export after the column map; optional ones are added empty when absent). Extra client columns are kept.

customers
    ``customer_id`` (str, unique), ``name``, ``customer_type`` (B2B/B2C), ``sector``, ``region``,
    ``channel``, ``size_class``, ``credit_limit`` (float, currency), ``payment_terms_days`` (float, days),
    ``since`` (date the relationship started), ``account_manager`` (the sales agent or account manager
    responsible for the customer).
transactions
    ``customer_id``, ``date``, ``amount`` (float; negative = return or credit note, kept and flagged in
    ``is_return``), optional ``margin`` (float, currency), ``product``, ``channel``.
invoices
    ``invoice_id`` (str, unique), ``customer_id``, ``issue_date``, ``due_date``, ``amount`` (float; negative
    = credit note), ``paid_date`` (empty = open), optional ``paid_amount`` (float; empty = ``amount`` when
    paid, 0 when open).
snapshots
    ``customer_id``, ``snapshot_date``, ``rating`` (str, ordered scale), ``failure_score``,
    ``delinquency_score``, ``credit_limit``, ``officers`` (str), ``share_capital``; one file per date,
    stacked into one frame with ``snapshot_date`` telling them apart.

Identifiers are always strings (leading zeros are kept); dates are ``datetime64[ns]`` without time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

__all__ = ["Column", "TABLES", "TABLE_KEYS", "columns", "FIGURE_KINDS", "key_figures_table"]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, kind (``id``, ``str``, ``float``, ``date``), whether the export must
    have it, and whether its cells may be empty when it does (``nullable``)."""

    name: str
    kind: str
    required: bool = True
    nullable: bool = False


TABLES: dict[str, tuple[Column, ...]] = {
    "customers": (
        Column("customer_id", "id"),
        Column("name", "str", required=False),
        Column("customer_type", "str", required=False),
        Column("sector", "str", required=False),
        Column("region", "str", required=False),
        Column("channel", "str", required=False),
        Column("size_class", "str", required=False),
        Column("credit_limit", "float", required=False),
        Column("payment_terms_days", "float", required=False),
        Column("since", "date", required=False),
        Column("account_manager", "str", required=False),
    ),
    "transactions": (
        Column("customer_id", "id"),
        Column("date", "date"),
        Column("amount", "float"),
        Column("margin", "float", required=False),
        Column("product", "str", required=False),
        Column("channel", "str", required=False),
    ),
    "invoices": (
        Column("invoice_id", "id"),
        Column("customer_id", "id"),
        Column("issue_date", "date"),
        Column("due_date", "date", nullable=True),  # empty: issue date + payment terms
        Column("amount", "float"),
        Column("paid_date", "date", required=False),
        Column("paid_amount", "float", required=False),
    ),
    "snapshots": (
        Column("customer_id", "id"),
        Column("snapshot_date", "date"),
        Column("rating", "str", required=False),
        Column("failure_score", "float", required=False),
        Column("delinquency_score", "float", required=False),
        Column("credit_limit", "float", required=False),
        Column("officers", "str", required=False),
        Column("share_capital", "float", required=False),
    ),
}

#: Columns whose combination must be unique in each table.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "transactions": (),
    "invoices": ("invoice_id",),
    "snapshots": ("customer_id", "snapshot_date"),
}


def columns(table: str, kind: str | None = None, required: bool | None = None) -> list[str]:
    """Canonical column names of ``table``, optionally only those of one ``kind`` or requiredness."""
    return [
        c.name
        for c in TABLES[table]
        if (kind is None or c.kind == kind) and (required is None or c.required == required)
    ]


#: Kinds of a key figure, which say how it is written: ``money``, ``percent`` (a share of 1, shown in %),
#: ``count``, ``ratio``, ``number``, ``days``, ``date``, ``text``; ``kind.N`` fixes N decimals.
FIGURE_KINDS = ("money", "percent", "count", "ratio", "number", "days", "date", "text")
_KIND = re.compile(rf"^({'|'.join(FIGURE_KINDS)})(\.\d+)?$")


def key_figures_table(figures: Mapping[str, tuple[object, str]]) -> pd.DataFrame:
    """An analysis' headline numbers as a table: ``figure`` (a stable identifier, e.g. ``clv_book``),
    ``value`` (a number, a date as ``YYYY-MM-DD`` or short text) and ``kind`` (see :data:`FIGURE_KINDS`).

    Examples
    --------
    >>> key_figures_table({"customers": (2000, "count"), "dso": (87.0, "days")})
          figure value   kind
    0  customers  2000  count
    1        dso  87.0   days
    """
    bad = {f: k for f, (_, k) in figures.items() if not _KIND.match(str(k)) or not re.fullmatch(r"[a-z0-9_]+", f)}
    if bad:
        raise ValueError(f"key figures need snake_case identifiers and a kind of {FIGURE_KINDS}; got {bad}")
    values = [v.item() if hasattr(v, "item") else v for v, _ in figures.values()]
    return pd.DataFrame({"figure": list(figures), "value": pd.Series(values, dtype=object),
                         "kind": [k for _, k in figures.values()]})
