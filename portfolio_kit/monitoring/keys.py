"""Matching customers across two per-customer tables by their key.

Keys are compared as text: surrounding blanks are ignored and, by default, numeric-looking keys are compared as
numbers, so ``123``, ``123.0``, ``"0123"`` and ``" 123 "`` are the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Alignment", "keyed_table", "align"]


def _key_text(values: pd.Series) -> pd.Series:
    """Keys as stripped text; integer-valued numbers written without a decimal part (``123.0`` -> ``"123"``)."""
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.dropna(), 1) == 0):
        values = values.astype("Int64")
    text = values.astype("str").str.strip()
    return text if pd.api.types.is_string_dtype(values) else text.str.replace(r"^(\d+)\.0*$", r"\1", regex=True)


def _match_form(text: pd.Series, numeric: bool) -> pd.Series:
    """What keys are compared on: the text, or all-digit keys without leading zeros (and ``.0``)."""
    return text.str.replace(r"^0*(\d+?)(?:\.0*)?$", r"\1", regex=True) if numeric else text


def keyed_table(frame: pd.DataFrame, key: str, side: str) -> pd.DataFrame:
    """``frame`` with ``key`` as a text column (taken from the index when it is named ``key``).

    Raises ``TypeError`` for anything but a DataFrame and ``ValueError`` naming ``side`` (before / after) for a
    missing or empty key.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{side}: expected a DataFrame with one row per customer, got {type(frame).__name__}")
    if key not in frame.columns:
        if frame.index.name != key:
            raise ValueError(f"{side}: no key column {key!r}; the table has columns {list(frame.columns)}")
        frame = frame.reset_index()
    text = _key_text(frame[key])
    empty = text.isna() | text.eq("")
    if empty.any():
        rows = ", ".join(map(str, np.flatnonzero(empty.to_numpy())[:5]))
        raise ValueError(f"{side}: {int(empty.sum())} row(s) have an empty {key!r} (row positions {rows})")
    return frame.assign(**{key: text})


@dataclass(frozen=True)
class Alignment:
    """Which rows of ``before`` and ``after`` hold the same customer (positions, not labels)."""

    common_before: np.ndarray
    common_after: np.ndarray
    removed: np.ndarray  # bool over before rows
    added: np.ndarray  # bool over after rows


def align(before: pd.DataFrame, after: pd.DataFrame, key: str, numeric: bool) -> Alignment:
    """The rows of the same customer in two tables from :func:`keyed_table` (``numeric``: all-digit keys
    compared as numbers); ``ValueError`` naming the table and keys when a customer appears twice."""
    forms = (_match_form(before[key], numeric), _match_form(after[key], numeric))
    codes, uniques = pd.factorize(pd.concat(forms, ignore_index=True))
    code_b, code_a = codes[: len(before)], codes[len(before):]
    for side, frame, code in (("before", before, code_b), ("after", after, code_a)):
        dup = np.bincount(code, minlength=len(uniques))[code] > 1
        if dup.any():
            shown = ", ".join(repr(k) for k in pd.unique(frame[key].to_numpy()[dup])[:5])
            how = " (numeric keys compared without leading zeros)" if numeric else ""
            raise ValueError(f"{side}: duplicate {key!r}{how}: {shown}; {int(dup.sum())} rows share a key, "
                             "each customer must appear once")
    where_after = np.full(len(uniques), -1)
    where_after[code_a] = np.arange(len(after))
    pos = where_after[code_b]
    found = pos >= 0
    added = np.ones(len(after), dtype=bool)
    added[pos[found]] = False
    return Alignment(np.flatnonzero(found), pos[found], ~found, added)
