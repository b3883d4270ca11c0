"""Report language: every heading, label, table header and generated sentence, in English or Italian, with
numbers written the language's way.

The texts live in one catalogue, the YAML files of ``portfolio_kit/catalogue/`` (one per area). A key is
``<file>.<name>``: ``clv.title`` is ``title`` in ``clv.yaml``, ``columns.customer_id`` is the header of the
canonical column ``customer_id`` in ``columns.yaml``. Each entry holds one text per language::

    title:
      en: Customer lifetime value
      it: Valore del cliente (CLV)

Texts are ``str.format`` templates. A field is written the language's way: floats with the decimal mark and
thousands separator of the language, dates with its date pattern, ready-made strings as they are. A field
may name its kind instead of a format spec: ``{amount:money}``, ``{share:percent}``, ``{n:number}``,
``{when:date}``, with decimals after a dot (``{amount:money.2}``); ordinary specs (``{x:,.1f}``) are written
with the language's marks too.

Number formats (``style.NUMBER_FORMATS``)::

    en   1,234.56   EUR 1,234.56   12.3%   2026-12-31   n/a
    it   1.234,56   EUR 1.234,56   12,3%   31/12/2026   n.d.

Rounding is Python's ``format`` (the correctly rounded decimal of the exact binary value: 0.975 is
0.97499..., written 0.97; exact halves such as 0.125 go to the even digit).

Examples
--------
>>> t = texts("it")
>>> t.money(1234.5, decimals=2)
'EUR 1.234,50'
>>> t.percent(0.123)
'12,3%'
>>> texts("en").number(float("nan"))
'n/a'
"""

from __future__ import annotations

import datetime as dt
import html
import numbers
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from portfolio_kit.report.style import NUMBER_FORMATS, TABLE_CLASS, TABLE_CSS, NumberFormat

__all__ = ["LANGUAGES", "KINDS", "Texts", "Markdown", "Table", "texts", "catalogue", "column_kind"]

#: Report languages; English is the reference every other language is checked against.
LANGUAGES = ("en", "it")
#: Kinds of table columns and their default decimals.
KINDS = {"money": 2, "percent": 1, "count": 0, "ratio": 3, "number": 2, "days": 1, "date": None, "text": None}

_KIND_SPEC = re.compile(r"^(money|percent|number|count|ratio|days|date|text)(?:\.(\d+))?$")


# --------------------------------------------------------------------------------------------- catalogue
def _flatten(entries: Mapping[str, Any], prefix: str, source: str) -> dict[str, dict[str, str]]:
    """``{name: {en:, it:}}`` (names may be grouped in nested mappings) as ``{prefix.name: {lang: text}}``."""
    flat: dict[str, dict[str, str]] = {}
    for name, value in (entries or {}).items():
        key = f"{prefix}.{name}"
        if not isinstance(value, Mapping):
            raise ValueError(f"{source}: {key} must be a mapping of languages ({', '.join(LANGUAGES)}) to texts")
        if "en" in value and all(isinstance(v, str) for v in value.values()):
            unknown = sorted(set(value) - set(LANGUAGES))
            if unknown:
                raise ValueError(f"{source}: {key} has unknown language(s) {unknown}; expected {list(LANGUAGES)}")
            flat[key] = dict(value)
        else:
            flat |= _flatten(value, key, source)
    return flat


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every text of the catalogue: ``{"<file>.<name>": {"en": ..., "it": ...}}`` (read once per process)."""
    flat: dict[str, dict[str, str]] = {}
    folder = resources.files("portfolio_kit.report") / "catalogue"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            source = f"catalogue/{item.name}"
            try:
                entries = yaml.safe_load(item.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise ValueError(f"{source}: not valid YAML: {exc}") from None
            flat |= _flatten(entries, item.name.removesuffix(".yaml"), source)
    return flat


def _file_of(key: str) -> str:
    return f"portfolio_kit/catalogue/{key.partition('.')[0]}.yaml"


# ---------------------------------------------------------------------------------------------- columns
_KIND_RULES: tuple[tuple[str, str], ...] = (
    ("date", r"^(first|last)_(transaction|purchase|order|invoice|payment)$|(^|_)date$"),  # mixed (object) rows only
    ("count", r"^(n|n_.*|count|.*_count|customers.*|.*customers|transactions|invoices.*|orders|purchases|rows.*"
              r"|files|events|alerts|changed|at_risk|churned|parameters|rank|.*_rank|.*_invoices|.*buyers|hits)$"),
    ("ratio", r"^(p_value|q_value|auc|brier.*)$"),
    ("percent", r"(share|pct|percent|_rate$|^rate$|probability|^p_|survival|utilisation|utilization"
                r"|^mean_predicted$|discount$|^annual_cost|penetration|^support$|^confidence$)"),
    ("ratio", r"(ratio|gini|hhi|herfindahl|index|score|auc|coef|std_err|estimate|lower_95|upper_95|correlation|lift"
              r"|^z$|^bias$|^mae$|^r$|^alpha$|^beta$|^a$|^b$|^s$|^gamma$|factor)"),
    ("number.1", r"(log_likelihood|^aic$|^bic$|^cei)"),
    ("days", r"(days|dso|^add$|dpd|delay|recency|tenure|age$|^t$|months)"),
    ("money", r"(amount|revenue|margin|value|clv|exposure|balance|overdue|past_due|outstanding|credit_limit"
              r"|monetary|spend|sales|paid|capital|price|cost|debt|receivable|limit|total|headroom|collection"
              r"|open_|(^|_)ar$|^current$|^\d+-\d+$|^\d+\+$|^ecl$|collected|reached|^need$|loss$|^monthly_purchases$"
              r"|cash_released|_saved$)"),
)


def _inferred(name: Any, dtype: Any = None) -> str:
    """The kind spec (``"money"``, ``"number.1"`` ...) of a column from its name, else from its dtype."""
    if dtype is not None and pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    integer = dtype is not None and pd.api.types.is_integer_dtype(dtype)
    if dtype is None or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
        lowered = re.sub(r"[\s-]+", "_", str(name).strip().lower()) if not re.fullmatch(r"\d+-\d+", str(name)) \
            else str(name)
        for kind, pattern in _KIND_RULES:
            if (kind != "date" or dtype is None) and re.search(pattern, lowered):
                return "count" if integer and kind.split(".")[0] in ("days", "number", "ratio") else kind
    if dtype is None:
        return "number"
    if integer:
        return "count"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "text"


def column_kind(name: Any, dtype: Any = None) -> str:
    """The kind of a column (``money``, ``percent``, ``count``, ``ratio``, ``number``, ``days``, ``date``,
    ``text``) from its name (``revenue`` money, ``*_share`` percent, ``n_*`` count, ``gini`` ratio,
    ``*_days`` days ...), else from its dtype (integers count, floats number, datetimes date)."""
    return _inferred(name, dtype).split(".")[0]


def _readable(name: Any) -> str:
    """``"days_past_due"`` -> ``"Days past due"``: the header of a column the catalogue does not know."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


# ---------------------------------------------------------------------------------------------- display
class Markdown(str):
    """Markdown text that notebooks display rendered (``text/markdown``) and whose plain repr is the text."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return str(self)


class Table:
    """A table ready to show: headers in the report language, every cell written as text.

    The plain-text repr is the text table (stable: what notebook tests compare); notebooks and HTML pages
    show it styled (``style.TABLE_CSS``). ``data`` is the written table (a DataFrame of strings).
    """

    def __init__(self, data: pd.DataFrame, classes: pd.DataFrame, show_index: bool):
        self.data = data
        self._classes = classes  # CSS class of each cell: "num" (right-aligned), "num neg" or ""
        self._show_index = show_index

    def __repr__(self) -> str:
        if self.data.empty:
            return "(" + ", ".join(map(str, self.data.columns)) + ")" if len(self.data.columns) else "()"
        return self.data.to_string(index=self._show_index)

    def __len__(self) -> int:
        return len(self.data)

    def _repr_html_(self) -> str:
        esc = lambda v: html.escape(str(v))  # noqa: E731
        columns, index = self.data.columns, self.data.index
        corner = [esc(n) if n is not None else "" for n in index.names] if self._show_index else []
        head = "".join(
            "<tr>" + "".join(f"<th>{name if level == columns.nlevels - 1 else ''}</th>" for name in corner)
            + "".join(f"<th>{esc(c[level] if columns.nlevels > 1 else c)}</th>" for c in columns) + "</tr>"
            for level in range(columns.nlevels))
        css = self._classes.to_numpy(dtype=object)
        td = (np.where(css != "", '<td class="' + css + '">', "<td>") + self.data.map(esc).to_numpy(dtype=object)
              + "</td>")
        rows = td.sum(axis=1) if td.shape[1] else np.full(len(index), "", dtype=object)
        if self._show_index:
            labels = index.map(lambda v: "".join(f"<th>{esc(x)}</th>" for x in (v if isinstance(v, tuple) else (v,))))
            rows = np.asarray(labels, dtype=object) + rows
        body = "\n".join("<tr>" + rows + "</tr>")
        return (f"<style>{TABLE_CSS}</style>\n<table class=\"{TABLE_CLASS}\">\n<thead>{head}</thead>\n"
                f"<tbody>\n{body}\n</tbody>\n</table>")


# ------------------------------------------------------------------------------------------------- texts
class _LocaleFormatter(string.Formatter):
    def __init__(self, t: "Texts"):
        super().__init__()
        self.t = t

    def format_field(self, value: Any, format_spec: str) -> str:
        return self.t.write(value, format_spec)


@dataclass(frozen=True)
class Texts:
    """The catalogue in one language, and the language's way of writing numbers (see the module docs).

    Parameters
    ----------
    language : {"en", "it"}
    currency : str
        Currency code written before amounts (``EUR 1.234,56``).

    Examples
    --------
    >>> t = Texts("it")
    >>> t("common.not_available")
    'n.d.'
    >>> t.money(-1234567.891, decimals=2)
    'EUR -1.234.567,89'
    """

    language: str = "en"
    currency: str = "EUR"

    def __post_init__(self):
        if self.language not in LANGUAGES:
            raise ValueError(f"language: expected one of {list(LANGUAGES)}, got {self.language!r}")
        if not isinstance(self.currency, str) or not self.currency.strip():
            raise ValueError(f"currency: expected a currency code such as 'EUR', got {self.currency!r}")

    @classmethod
    def for_config(cls, cfg, language: str | None = None) -> "Texts":
        """The texts of a :class:`~portfolio_kit.data.config.PortfolioConfig`: its ``language`` and ``currency``;
        a non-empty ``language`` (a run's ``--language``) overrides the config's."""
        return cls(language or cfg.language, cfg.currency)

    # -------------------------------------------------------------------------------------- lookup
    def has(self, key: str) -> bool:
        """Whether the catalogue holds ``key``."""
        return key in catalogue()

    def __call__(self, key: str, **fields: Any) -> str:
        """The text of ``key`` in the language, its ``{fields}`` filled and written the language's way.

        Raises ``KeyError`` naming the key and the catalogue file expected to hold it.
        """
        template = self.template(key)
        if not fields and "{" not in template:
            return template
        try:
            return _LocaleFormatter(self).format(template, **fields)
        except (KeyError, IndexError) as exc:
            raise KeyError(f"text {key!r} ({_file_of(key)}) needs the field {exc}") from None

    def template(self, key: str) -> str:
        """The raw text of ``key`` in the language, placeholders unfilled (for :meth:`fill`)."""
        entry = catalogue().get(key)
        if entry is None:
            raise KeyError(f"no text {key!r} in the catalogue: expected in {_file_of(key)}")
        if self.language not in entry:
            raise KeyError(f"text {key!r} has no {self.language!r} version in {_file_of(key)}")
        return entry[self.language]

    def fill(self, template: str, index: pd.Index, **fields: Any) -> pd.Series:
        """``template`` filled for every row at once: each field is a Series of ready-made text aligned
        on ``index`` (write numbers first with :meth:`numbers`) or one value for all rows.

        Vectorised: the template's literal parts and whole columns are concatenated, no loop over rows.
        Format specs are not allowed here (``{value:.2f}``): fields come written.

        Examples
        --------
        >>> t = texts("it")
        >>> t.fill("{who}: {n} ordini", pd.RangeIndex(2), who=pd.Series(["A", "B"]),
        ...        n=t.numbers(pd.Series([1200.0, 3.0]))).tolist()
        ['A: 1.200 ordini', 'B: 3 ordini']
        """
        out = pd.Series("", index=index, dtype=object)
        for literal, name, spec, conv in string.Formatter().parse(template):
            out = out + literal
            if name is None:
                continue
            if spec or conv:
                raise ValueError(f"template {template!r}: {{{name}}} has a format; fields are written ready-made")
            if name not in fields:
                raise KeyError(f"template {template!r} needs the field {name!r}; given {sorted(fields)}")
            value = fields[name]
            if isinstance(value, pd.Series):
                value = value.reindex(index) if not value.index.equals(index) else value
                out = out + value.astype(object).where(value.notna(), self._fmt.missing).astype(str)
            else:
                out = out + str(value)
        return out

    def numbers(self, x: Any, decimals: int = 0, signed: bool = False, grouping: bool = True) -> pd.Series:
        """Numbers as text in the language, vectorised (:meth:`number` for a whole Series): rounded to
        ``decimals``, thousands separated (unless ``grouping=False``), ``+`` before positives with
        ``signed``; NaN -> n/a / n.d., infinities -> ``inf``."""
        values = pd.Series(x, copy=False) if not isinstance(x, pd.Series) else x
        num = pd.to_numeric(values, errors="coerce").astype(float).to_numpy(na_value=np.nan)
        if not len(num):
            return pd.Series([], index=values.index, dtype=object)
        finite = np.isfinite(num)
        # printf rounds correctly, like Python's format; then the digits are grouped three by three, one
        # group at a time over the whole column
        head, _, fraction = np.strings.partition(np.strings.mod(f"%{'+' if signed else ''}.{decimals}f",
                                                                np.where(finite, num, 0.0)), ".")
        digits = np.strings.lstrip(head, "+-")
        sign = np.where(np.strings.startswith(head, "-"), "-", np.where(np.strings.startswith(head, "+"), "+", ""))
        zero = np.strings.strip(np.strings.add(digits, fraction), "0") == ""
        sign = np.where(zero & (sign == "-"), "+" if signed else "", sign)  # no "-0"
        width = np.strings.str_len(digits)
        out = np.strings.slice(digits, np.maximum(width - 3, 0), width)
        group = 1
        while grouping and (width > 3 * group).any():
            chunk = np.strings.slice(digits, np.maximum(width - 3 * (group + 1), 0), width - 3 * group)
            out = np.where(width > 3 * group, np.strings.add(np.strings.add(chunk, self._fmt.thousands), out), out)
            group += 1
        if not grouping:
            out = digits
        out = np.strings.add(sign, out)
        if decimals:
            out = np.strings.add(np.strings.add(out, self._fmt.decimal), fraction)
        special = np.where(np.isinf(num), np.where(num > 0, "inf", "-inf"), self._fmt.missing)
        return pd.Series(np.where(finite, out.astype(object), special), index=values.index, dtype=object)

    def moneys(self, x: Any, decimals: int = 0) -> pd.Series:
        """Amounts with the currency code, vectorised: ``EUR 1,234`` per value of ``x`` (:meth:`numbers`)."""
        return self.currency + " " + self.numbers(x, decimals)

    def percents(self, x: Any, decimals: int = 0) -> pd.Series:
        """Shares as percentages, vectorised: ``0.123`` -> ``12%`` per value of ``x`` (:meth:`numbers`)."""
        return self.numbers(pd.Series(x, copy=False) * 100, decimals) + "%"

    def column(self, name: Any) -> str:
        """The header of a column: ``columns.<name>`` from the catalogue, else ``"snake_case"`` ->
        ``"Snake case"``."""
        key = f"columns.{name}"
        return self(key) if isinstance(name, str) and key in catalogue() else _readable(name)

    def label(self, value: Any) -> Any:
        """A category or row label in the language when the catalogue has ``common.label.<value>`` or
        ``columns.<value>``; anything else unchanged."""
        if isinstance(value, str):
            for key in (f"common.label.{value}", f"columns.{value}"):
                if key in catalogue():
                    return self(key)
        return value

    # ------------------------------------------------------------------------------------- numbers
    @property
    def number_format(self) -> NumberFormat:
        """The language's decimal and thousands marks, missing-value mark and date pattern."""
        return NUMBER_FORMATS[self.language]

    @property
    def _fmt(self) -> NumberFormat:
        return NUMBER_FORMATS[self.language]

    def _marks(self, text: str) -> str:
        """A number written by Python (``1,234.5``) with the language's marks."""
        fmt = self._fmt
        return text.translate({ord(","): "\0", ord("."): fmt.decimal}).replace("\0", fmt.thousands)

    @staticmethod
    def _missing_value(x: Any) -> bool:
        try:
            return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, str) and not x) or bool(pd.isna(x))
        except (TypeError, ValueError):
            return False

    def number(self, x: Any, decimals: int = 0) -> str:
        """``1234.5`` -> ``"1,234.5"`` (en) / ``"1.234,5"`` (it) with ``decimals`` digits; NaN -> n/a, n.d."""
        if self._missing_value(x):
            return self._fmt.missing
        text = f"{float(x):,.{decimals}f}"  # correctly rounded from the exact binary value
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = text[1:]  # no "-0"
        return self._marks(text)

    def money(self, x: Any, decimals: int = 0) -> str:
        """An amount with the currency code: ``EUR 1,234.56`` (en), ``EUR 1.234,56`` (it); negatives
        ``EUR -1,234.56``."""
        if self._missing_value(x):
            return self._fmt.missing
        return f"{self.currency} {self.number(x, decimals)}"

    def percent(self, x: Any, decimals: int = 1) -> str:
        """A share as a percentage: ``0.123`` -> ``12.3%`` (en), ``12,3%`` (it)."""
        if self._missing_value(x):
            return self._fmt.missing
        return f"{self.number(float(x) * 100.0, decimals)}%"

    def date(self, d: Any) -> str:
        """A date: ``2026-12-31`` (en), ``31/12/2026`` (it); strings are parsed as ISO dates."""
        if self._missing_value(d):
            return self._fmt.missing
        return pd.Timestamp(d).strftime(self._fmt.date)

    def write(self, value: Any, spec: str = "") -> str:
        """One value written the language's way: ``spec`` is a kind (``money``, ``percent.1`` ...) or a
        Python format spec; without one floats get 2 decimals, integers none, dates the date pattern,
        anything else ``str``."""
        kind = _KIND_SPEC.match(spec)
        if kind:
            name, decimals = kind.group(1), kind.group(2)
            return self.cell(value, name, int(decimals) if decimals is not None else None)
        if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
            return format(value, spec)
        if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
            return self.date(value) if not spec else format(pd.Timestamp(value), spec)
        if isinstance(value, numbers.Number):
            if self._missing_value(value):
                return self._fmt.missing
            if spec:
                return self._marks(format(value, spec))
            if isinstance(value, numbers.Integral):
                return self.number(value, 0)
            return self.number(value, 2)
        return format(value, spec)

    def cell(self, value: Any, kind: str, decimals: int | None = None) -> str:
        """A value written as ``kind`` (one of :data:`KINDS`) with ``decimals`` (default: the kind's)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        digits = KINDS[kind] if decimals is None else decimals
        if kind == "date":
            return self.date(value)
        if kind == "text" or not isinstance(value, numbers.Number) or isinstance(value, (bool, np.bool_)):
            return self._text(value)
        if self._missing_value(value):
            return self._fmt.missing
        if decimals is None and kind in ("number", "ratio", "days") and isinstance(value, numbers.Integral):
            digits = 0  # whole numbers get no decimals unless asked
        if kind == "money":
            return self.money(value, digits)
        if kind == "percent":
            return self.percent(value, digits)
        return self.number(value, digits)

    def _text(self, value: Any) -> str:
        """A cell of a text column: labels translated, yes/no for booleans, dates and numbers the language's
        way (whole numbers without decimals)."""
        if isinstance(value, str):
            return str(self.label(value))
        if self._missing_value(value):
            return self._fmt.missing
        if isinstance(value, (bool, np.bool_)):
            return self("common.yes" if value else "common.no")
        if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
            return self.date(value)
        if isinstance(value, numbers.Number):
            return self.number(value, 0 if float(value).is_integer() else 2)
        return str(self.label(value))

    # -------------------------------------------------------------------------------------- display
    def heading(self, key: str, level: int = 1, **fields: Any) -> Markdown:
        """A Markdown heading (``#`` x ``level``) with the text of ``key``."""
        if not 1 <= level <= 6:
            raise ValueError(f"level: expected 1 to 6, got {level}")
        return Markdown(f"{'#' * level} {self(key, **fields)}")

    def markdown(self, key: str, **fields: Any) -> Markdown:
        """The text of ``key`` as displayed Markdown (notebook headings and explanations)."""
        return Markdown(self(key, **fields))

    def table(self, df: pd.DataFrame | pd.Series, formats: Mapping[Any, str] | None = None,
              by: str = "columns") -> Table:
        """``df`` ready to show: headers and labels in the language, numbers written by kind.

        Parameters
        ----------
        df : DataFrame or Series
            A result table with canonical column names; a default ``RangeIndex`` is not shown.
        formats : mapping, optional
            Kind per column (or per row label with ``by="rows"``): ``"money"``, ``"percent.2"``,
            ``"count"``, ``"ratio"``, ``"number.1"``, ``"days"``, ``"date"``, ``"text"``. Columns not named
            get a kind from their name (``revenue`` money, ``*_share`` percent, ``n_*`` count, ``gini``
            ratio, ``*_days`` days ...), else from their dtype.
        by : {"columns", "rows"}
            ``"rows"`` for tables of measures (one measure per row): kinds come from the row labels.

        Returns
        -------
        Table
            Headers from ``columns.<name>`` (unknown names: ``"snake_case"`` -> ``"Snake case"``); string
            cells and row labels known as ``common.label.<value>`` are translated.

        Examples
        --------
        >>> texts("it").table(pd.DataFrame({"customer_id": ["C1"], "revenue": [1234.5]}))
        Cliente    Fatturato
             C1 EUR 1.234,50
        """
        if by not in ("columns", "rows"):
            raise ValueError(f"by: expected 'columns' or 'rows', got {by!r}")
        frame = df.to_frame() if isinstance(df, pd.Series) else df
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table: expected a DataFrame or Series, got {type(df).__name__}")
        formats = dict(formats or {})
        allowed = set(frame.columns) | (set(frame.index) if by == "rows" else set())
        unknown = [k for k in formats if k not in allowed]
        if unknown:
            raise KeyError(f"formats name(s) {unknown} that are not {'columns' if by == 'columns' else 'rows'} "
                           f"of the table")
        for k, v in formats.items():
            if not _KIND_SPEC.match(v) and v not in KINDS:
                raise ValueError(f"formats[{k!r}]: unknown kind {v!r}; expected one of {sorted(KINDS)} "
                                 f"(optionally with decimals, 'money.2')")
        written, classes = {}, {}
        for j, name in enumerate(frame.columns):
            col = frame.iloc[:, j]
            if by == "rows":  # one measure per row (few rows): each cell by its row's kind
                kinds = [self._kind_spec(formats.get(row) or formats.get(name) or _inferred(_last(row)))
                         if col.dtype.kind in "iufc" or col.dtype == object else ("text", None) for row in frame.index]
                values = col.to_numpy(dtype=object)
                written[j] = [self.cell(v, k, d) for v, (k, d) in zip(values, kinds)]
                classes[j] = [_css_class(v, k) for v, (k, _) in zip(values, kinds)]
            else:
                kind, decimals = self._kind_spec(formats.get(name) or _inferred(_last(name), col.dtype))
                written[j], classes[j] = self._written_column(col, kind, decimals)
        show_index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
        columns = self._headers(frame.columns)
        index = self._index(frame.index) if show_index else pd.RangeIndex(len(frame))
        data = pd.DataFrame({j: written[j] for j in written}, index=index)
        data.columns = columns
        return Table(data, pd.DataFrame(classes, index=index), show_index)

    def figure_label(self, key: str) -> str:
        """The name of a key figure from its catalogue key (``<area>.figure.<figure>``); the identifier made
        readable when the catalogue has no such entry."""
        return self(key) if self.has(key) else _readable(key.rpartition(".")[2])

    def key_figures(self, figures: pd.DataFrame, area: str) -> Table:
        """An analysis' key figures (``figure``, ``value``, ``kind``, see
        :func:`~portfolio_kit.data.schemas.key_figures_table`) ready to show: names from
        ``<area>.figure.<figure>``, each value written as its kind.

        Examples
        --------
        >>> from portfolio_kit.data.schemas import key_figures_table
        >>> kf = key_figures_table({"net_revenue": (1234.5, "money"), "first_purchase": ("2026-01-31", "date")})
        >>> texts("it").key_figures(kf, "overview")  # doctest: +NORMALIZE_WHITESPACE
                               Valore
        Indicatore
        fatturato netto  EUR 1.234,50
        primo acquisto     31/01/2026
        """
        missing = [c for c in ("figure", "value", "kind") if c not in figures.columns]
        if missing:
            raise ValueError(f"key_figures: expected the columns figure, value and kind of an analysis' "
                             f"key_figures(), missing {missing}")
        formats = dict(zip(figures["figure"], figures["kind"]))
        shown = self.table(figures.set_index("figure")[["value"]], formats, by="rows")
        names = [self.figure_label(f"{area}.figure.{n}") for n in figures["figure"]]
        index = pd.Index(names, name=self.column("figure"))
        return Table(shown.data.set_axis(index, axis=0), shown._classes.set_axis(index, axis=0), True)

    # ------------------------------------------------------------------------------------- helpers
    def _written_column(self, col: pd.Series, kind: str, decimals: int | None) -> tuple[list, list]:
        """A column's cells written as ``kind`` and their CSS classes; numeric and date columns vectorised."""
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)
        dates = pd.api.types.is_datetime64_any_dtype(col.dtype)
        if kind == "date" and dates:
            text = col.dt.strftime(self._fmt.date).astype(object).where(col.notna(), self._fmt.missing)
            return text.tolist(), [""] * len(col)
        if kind in ("text", "date") or not numeric:  # labels, booleans, mixed values: each distinct value once
            values = col.astype(object)
            present = values.notna()
            try:
                distinct = pd.unique(values[present].to_numpy())
            except TypeError:  # unhashable cells (lists ...)
                distinct = None
            if distinct is None or len(distinct) * 2 > len(values):
                cells = values.to_numpy()
                return [self.cell(v, kind, decimals) for v in cells], [_css_class(v, kind) for v in cells]
            mask = present.to_numpy()
            text, css = np.full(len(values), self._fmt.missing, dtype=object), np.full(len(values), "", dtype=object)
            text[mask] = values[present].map({v: self.cell(v, kind, decimals) for v in distinct}).to_numpy()
            css[mask] = values[present].map({v: _css_class(v, kind) for v in distinct}).to_numpy()
            return text.tolist(), css.tolist()
        digits = KINDS[kind] if decimals is None else decimals
        if decimals is None and kind in ("number", "ratio", "days") and pd.api.types.is_integer_dtype(col.dtype):
            digits = 0  # whole numbers get no decimals unless asked
        num = col.astype(float)
        if kind == "percent":
            text = self.numbers(num * 100, digits) + "%"
        elif kind == "money":
            text = self.currency + " " + self.numbers(num, digits)
        else:
            text = self.numbers(num, digits)
        text = text.where(num.notna(), self._fmt.missing)
        return text.tolist(), np.where(num.to_numpy() < 0, "num neg", "num").tolist()

    @staticmethod
    def _kind_spec(spec: str) -> tuple[str, int | None]:
        match = _KIND_SPEC.match(spec)
        return (match.group(1), int(match.group(2)) if match.group(2) else None) if match else (spec, None)

    def _header(self, name: Any) -> str:
        """A column header: ``columns.<name>``, else a category label (``common.label.<name>``), else
        readable."""
        if isinstance(name, str) and f"columns.{name}" not in catalogue() and f"common.label.{name}" in catalogue():
            return self(f"common.label.{name}")
        return self.column(name)

    def _headers(self, columns: pd.Index) -> pd.Index:
        names = [self.column(n) if n is not None else None for n in columns.names]
        if isinstance(columns, pd.MultiIndex):
            return pd.MultiIndex.from_tuples([tuple(self._header(p) for p in c) for c in columns], names=names)
        return pd.Index([self._header(c) for c in columns], name=names[0], dtype=object)

    def _index(self, index: pd.Index) -> pd.Index:
        names = [self.column(n) if n is not None else None for n in index.names]
        if isinstance(index, pd.MultiIndex):
            return pd.MultiIndex.from_tuples([tuple(self._index_label(v) for v in row) for row in index], names=names)
        return pd.Index([self._index_label(v) for v in index], name=names[0], dtype=object)

    def _index_label(self, value: Any) -> str:
        if isinstance(value, str):  # measure names and categories translated, data (ids, names) as it is
            known = f"columns.{value}" in catalogue() or f"common.label.{value}" in catalogue()
            return self._header(value) if known else value
        if isinstance(value, pd.Period):
            return str(value)
        return self._text(value)


def _css_class(value: Any, kind: str) -> str:
    """``num`` for a number cell (right-aligned), ``num neg`` below zero, ``""`` for text and dates."""
    if kind in ("text", "date") or not isinstance(value, numbers.Number) or isinstance(value, (bool, np.bool_)):
        return ""
    return "num neg" if value < 0 else "num"


def _last(label: Any) -> Any:
    return label[-1] if isinstance(label, tuple) else label


def texts(language: str = "en", currency: str = "EUR") -> Texts:
    """The report texts in ``language`` (``en`` or ``it``) with amounts in ``currency``.

    ``texts.for_config(cfg)`` takes both from a loaded config (see :meth:`Texts.for_config`).

    Examples
    --------
    >>> t = texts("it")
    >>> t.money(1234.56, decimals=2), t.percent(0.123), t.date("2026-12-31")
    ('EUR 1.234,56', '12,3%', '31/12/2026')
    """
    return Texts(language, currency)


texts.for_config = Texts.for_config
