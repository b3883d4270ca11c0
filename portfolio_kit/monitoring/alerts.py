"""Alert rules: the rule kinds, the config's ``alerts`` list checked and parsed, and the rules applied to a diff.

The alerts are data (which customer, which rule, the values before and after, the value at stake); the report
writes their messages (:mod:`portfolio_kit.report.wording.monitoring`) from each rule's own ``message`` template or
the catalogue's.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from portfolio_kit.data.rules import parse_rules
from portfolio_kit.monitoring.diff import EXACT, SnapshotDiff, compare_columns
from portfolio_kit.monitoring.migration import RATING_SCALE, RFM_SEGMENT_ORDER, label_positions

__all__ = ["SEVERITIES", "AlertRuleError", "ALERT_RULE_KINDS", "parse_alert_rules",
           "DEFAULT_ALERT_RULES", "evaluate_alerts"]

log = logging.getLogger(__name__)

#: Alert severities, most severe first.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
_ALERT_COLUMNS = ["rule", "severity", "field", "before", "after", "value", "threshold", "value_at_stake",
                  "customer_name", "message_template"]
_STAKE_COLUMNS = ("exposure", "clv", "credit_limit")


class AlertRuleError(ValueError):
    """An alert rule of the config is unknown or malformed (the message names the rule)."""


_TEMPLATE_FIELDS = ("customer", "customer_id", "rule", "severity", "field", "before", "after", "value",
                    "threshold")


class _Rule(BaseModel):
    """Fields every rule has; subclasses add their thresholds and implement :meth:`find`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    severity: Literal["high", "medium", "low"]
    message: str | None = None

    #: Whether every column of :meth:`columns` is needed (else: at least one).
    NEEDS_ALL: ClassVar[bool] = True
    #: What ``before``, ``after``, ``value``, ``threshold`` hold, for writing them in messages: text, number,
    #: signed, percent, signed percent, amount (whole currency units); number when not listed.
    FORMATS: ClassVar[dict[str, str]] = {}

    @field_validator("message")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            parts = list(string.Formatter().parse(v))
        except ValueError as exc:
            raise ValueError(f"message template is not valid: {exc}") from None
        for _, name, spec, conv in parts:
            if name is not None and name not in _TEMPLATE_FIELDS:
                raise ValueError(f"message template: unknown placeholder {{{name}}}; "
                                 f"use some of {', '.join('{' + f + '}' for f in _TEMPLATE_FIELDS)}")
            if spec or conv:
                raise ValueError(f"message template: {{{name}}} has a format; values are written ready-made")
        return v

    def columns(self) -> list[str]:
        """Columns the rule needs (it is skipped when one is in neither table)."""
        return [getattr(self, "column")]

    def find(self, diff: SnapshotDiff, rating_scale: Sequence[str]) -> pd.DataFrame:
        """The customers the rule flags: index = key; ``field``, ``before``, ``after``, ``value``,
        ``threshold``."""
        raise NotImplementedError


def _hits(pair: pd.DataFrame, mask: np.ndarray, field: str, value, threshold) -> pd.DataFrame:
    out = pair[mask].assign(field=field)
    out["value"] = np.asarray(value, dtype=float)[mask] if np.ndim(value) else float(value)
    out["threshold"] = np.asarray(threshold, dtype=float)[mask] if np.ndim(threshold) else float(threshold)
    return out


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _positions(values: pd.Series, order: Sequence[str], what: str) -> np.ndarray:
    """Position of each value in ``order`` (NaN when missing or not listed; the latter is logged)."""
    codes = label_positions(values, order).astype(float)
    off = (codes < 0) & values.notna().to_numpy()
    if off.any():
        log.info("%s: %d value(s) not on the scale ignored: %s", what, int(off.sum()),
                 sorted(pd.unique(values[off].astype(str)))[:5])
    codes[codes < 0] = np.nan
    return codes


class RatingDowngrade(_Rule):
    """Rating moved ``notches`` or more positions down the scale (``scale`` or the evaluation's scale)."""

    name: Literal["rating_downgrade"]
    notches: int = Field(1, ge=1)
    column: str = "rating"
    scale: list[str] | None = None
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        scale = self.scale or rating_scale
        down = (_positions(pair["after"], scale, self.column) - _positions(pair["before"], scale, self.column))
        with np.errstate(invalid="ignore"):
            return _hits(pair, down >= self.notches, self.column, down, self.notches)


class ScoreChange(_Rule):
    """Failure or delinquency score moved by ``points`` or more (``direction``: any, up or down)."""

    name: Literal["score_change"]
    points: float = Field(10.0, gt=0)
    columns_: list[str] = Field(["failure_score", "delinquency_score"], alias="columns", min_length=1)
    direction: Literal["any", "up", "down"] = "any"
    NEEDS_ALL = False
    FORMATS = {"before": "number", "after": "number", "value": "signed", "threshold": "number"}

    def columns(self):
        return list(self.columns_)

    def find(self, diff, rating_scale):
        found = []
        for col in self.columns_:
            if not diff.has(col):
                log.info("score_change: column %r not in the tables, not checked", col)
                continue
            pair = diff.pair(col)
            delta = _numbers(pair["after"]) - _numbers(pair["before"])
            moved = {"any": np.abs(delta), "up": delta, "down": -delta}[self.direction]
            with np.errstate(invalid="ignore"):
                found.append(_hits(pair, moved >= self.points, col, delta, self.points))
        return pd.concat(found) if found else None


class CreditLimitCut(_Rule):
    """Credit limit reduced by ``min_cut`` (a share, 0.2 = 20%) or more of a positive previous limit."""

    name: Literal["credit_limit_cut"]
    min_cut: float = Field(0.2, gt=0, le=1)
    column: str = "credit_limit"
    FORMATS = {"before": "amount", "after": "amount", "value": "percent", "threshold": "percent"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        with np.errstate(invalid="ignore", divide="ignore"):
            cut = np.where(b > 0, (b - a) / b, np.nan)
            return _hits(pair, cut >= self.min_cut - 1e-12, self.column, cut, self.min_cut)


class ExposureOverLimit(_Rule):
    """Exposure above the credit limit by more than ``min_excess`` (a share of the limit); with ``new_only``
    only customers not above their limit before (added customers included). ``threshold`` = the limit."""

    name: Literal["exposure_over_limit"]
    exposure_column: str = "exposure"
    limit_column: str = "credit_limit"
    min_excess: float = Field(0.0, ge=0)
    new_only: bool = True
    FORMATS = {"before": "amount", "after": "amount", "value": "amount", "threshold": "amount"}

    def columns(self):
        return [self.exposure_column, self.limit_column]

    def find(self, diff, rating_scale):
        exposure, limit = diff.pair(self.exposure_column, added=True), diff.pair(self.limit_column, added=True)
        with np.errstate(invalid="ignore"):
            over = {side: _numbers(exposure[side]) > _numbers(limit[side]) * (1 + self.min_excess)
                    for side in ("before", "after")}
            excess = _numbers(exposure["after"]) - _numbers(limit["after"])
        mask = over["after"] & ~over["before"] if self.new_only else over["after"]
        return _hits(exposure, mask, self.exposure_column, excess, _numbers(limit["after"]))


class NewOverdue(_Rule):
    """Amount overdue more than 30 days (the sum of ``columns``) grew by more than ``min_amount``
    (missing before, e.g. an added customer, counts as 0)."""

    name: Literal["new_overdue"]
    columns_: list[str] = Field(["31-60", "61-90", "91+"], alias="columns", min_length=1)
    min_amount: float = Field(0.0, ge=0)
    FORMATS = {"before": "amount", "after": "amount", "value": "amount", "threshold": "amount"}

    def columns(self):
        return list(self.columns_)

    def find(self, diff, rating_scale):
        pairs = [diff.pair(c, added=True) for c in self.columns_]
        total = pd.DataFrame({side: sum(np.nan_to_num(_numbers(p[side])) for p in pairs)
                              for side in ("before", "after")}, index=pairs[0].index)
        rise = total["after"].to_numpy() - total["before"].to_numpy()
        return _hits(total, rise > self.min_amount, " + ".join(self.columns_), rise, self.min_amount)


class OfficersChange(_Rule):
    """The officers changed (any difference in the text)."""

    name: Literal["officers_change"]
    column: str = "officers"
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        changed, _ = compare_columns(pair["before"], pair["after"], EXACT)
        return _hits(pair, changed, self.column, np.nan, np.nan)


class ShareCapitalChange(_Rule):
    """Share capital changed by more than ``min_change`` (a share of the previous capital; 0 = any change)."""

    name: Literal["share_capital_change"]
    column: str = "share_capital"
    min_change: float = Field(0.0, ge=0)
    FORMATS = {"before": "amount", "after": "amount", "value": "signed percent", "threshold": "percent"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(b != 0, (a - b) / np.abs(b), np.inf * np.sign(a))
            return _hits(pair, (a != b) & ~np.isnan(a) & ~np.isnan(b) & (np.abs(rel) > self.min_change),
                         self.column, rel, self.min_change)


class PAliveDrop(_Rule):
    """A customer of ``classes`` (in either run) whose P(alive) fell from at least ``threshold`` to below."""

    name: Literal["p_alive_drop"]
    threshold: float = Field(0.5, gt=0, le=1)
    p_alive_column: str = "p_alive"
    class_column: str = "abc_class"
    classes: list[str] = ["A"]
    FORMATS = {"before": "percent", "after": "percent", "value": "signed percent", "threshold": "percent"}

    def columns(self):
        return [self.p_alive_column, self.class_column]

    def find(self, diff, rating_scale):
        pair, cls = diff.pair(self.p_alive_column), diff.pair(self.class_column)
        top = (cls["before"].astype("str").isin(self.classes) | cls["after"].astype("str").isin(self.classes))
        b, a = _numbers(pair["before"]), _numbers(pair["after"])
        fell = top.to_numpy() & (b >= self.threshold) & (a < self.threshold)
        return _hits(pair, fell, self.p_alive_column, a - b, self.threshold)


class SegmentWorse(_Rule):
    """Moved ``min_steps`` or more positions down ``order`` (best first; default the RFM segment map)."""

    name: Literal["segment_worse"]
    column: str = "segment"
    order: list[str] = list(RFM_SEGMENT_ORDER)
    min_steps: int = Field(1, ge=1)
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def find(self, diff, rating_scale):
        pair = diff.pair(self.column)
        steps = _positions(pair["after"], self.order, self.column) - _positions(pair["before"], self.order,
                                                                               self.column)
        with np.errstate(invalid="ignore"):
            return _hits(pair, steps >= self.min_steps, self.column, steps, self.min_steps)


# --- generic rules: any column a provider or the client adds (ESG score, compliance flag, legal events ...) ---

def _note_one_sided(diff: SnapshotDiff, rule: str, column: str) -> None:
    """Log that a column new in the after table makes every value there a change."""
    if column not in diff.before.columns:
        log.info("%s: column %r is not in the before table: every value in the after table is new", rule, column)


class FieldChange(_Rule):
    """Any change of ``field``, text or number (a value appearing or disappearing counts)."""

    name: Literal["field_change"]
    field: str = Field(min_length=1)
    FORMATS = {"before": "text", "after": "text", "value": "signed", "threshold": "number"}

    def columns(self):
        return [self.field]

    def find(self, diff, rating_scale):
        _note_one_sided(diff, self.name, self.field)
        pair = diff.pair(self.field)
        changed, delta = compare_columns(pair["before"], pair["after"], EXACT)
        with np.errstate(invalid="ignore"):  # numbers written as text in a mixed column: their difference too
            delta = np.where(np.isnan(delta), _numbers(pair["after"]) - _numbers(pair["before"]), delta)
        return _hits(pair, changed, self.field, delta, np.nan)


def _numbers_noted(s: pd.Series, rule: str, column: str) -> np.ndarray:
    """:func:`_numbers`, logging the values that are there but are not numbers (e.g. ``"31,5"``: an extra
    column of an export with decimal commas is read as text)."""
    num = _numbers(s)
    off = np.isnan(num) & s.notna().to_numpy() & (s.astype("str").str.strip() != "").to_numpy()
    if off.any():
        log.info("%s: %d value(s) of %r are not numbers, ignored: %s", rule, int(off.sum()), column,
                 sorted(pd.unique(s[off].astype("str")))[:5])
    return num


class _FieldMove(_Rule):
    """Numeric move of ``field`` in the rule's direction of at least ``min_change`` (0: any strictly positive
    move) and, with ``min_relative``, at least that share of the previous absolute value."""

    field: str = Field(min_length=1)
    min_change: float = Field(0.0, ge=0)
    min_relative: float | None = Field(None, gt=0)
    FORMATS = {"before": "number", "after": "number", "value": "signed", "threshold": "number"}
    #: +1 for rises, -1 for drops.
    DIRECTION: ClassVar[int] = 1

    def columns(self):
        return [self.field]

    def find(self, diff, rating_scale):
        pair = diff.pair(self.field)
        b, a = (_numbers_noted(pair[side], self.name, self.field) for side in ("before", "after"))
        delta = a - b
        need = np.full(len(b), self.min_change)
        if self.min_relative is not None:
            need = np.maximum(need, self.min_relative * np.abs(b))
        moved = self.DIRECTION * delta
        with np.errstate(invalid="ignore"):  # NaN on either side: no move; the tolerance absorbs float noise
            hit = (moved > 0) & (moved >= need - 1e-9 * np.maximum(1.0, need))
        return _hits(pair, hit, self.field, delta, need)


class FieldDrop(_FieldMove):
    """``field`` fell by ``min_change`` or more (and ``min_relative`` x the previous value, when given)."""

    name: Literal["field_drop"]
    DIRECTION = -1


class FieldRise(_FieldMove):
    """``field`` rose by ``min_change`` or more (and ``min_relative`` x the previous value, when given)."""

    name: Literal["field_rise"]
    DIRECTION = 1


#: Written flag values: set, and not set (with missing values).
_TRUE_WORDS = ("true", "yes", "si", "sì", "y", "x")
_FALSE_WORDS = ("false", "no", "n", "0", "", "nan", "none")


def _set_values(values: pd.Series) -> pd.Series:
    """What is set in each row, one row per value (index = row position): ``"true"`` for a set flag (a
    boolean, a non-zero number, true / yes / si / y / x), else the event values in lower case (several
    separated by ``;`` or ``,``); nothing for false / no / 0 / empty / missing."""
    text = values.reset_index(drop=True).astype("str").str.strip().str.lower()
    number = pd.to_numeric(text, errors="coerce")
    flag = text.isin(_TRUE_WORDS) | (number.notna() & (number != 0)).to_numpy()
    tokens = text.mask(flag, "true").where(flag | number.isna()).dropna()
    tokens = tokens.astype("str").str.split(r"[;,]", regex=True).explode().dropna().astype("str").str.strip()
    return tokens[~tokens.isin(_FALSE_WORDS)]


class FlagSet(_Rule):
    """A flag of ``field`` became set, or a new event value appeared in it (one not there before; with
    ``values``, only those count). Customers added in the after table count with what they have. ``value`` =
    the new values."""

    name: Literal["flag_set"]
    field: str = Field(min_length=1)
    values: list[str] | None = Field(None, min_length=1)
    FORMATS = {"before": "text", "after": "text", "value": "number", "threshold": "number"}

    def columns(self):
        return [self.field]

    def find(self, diff, rating_scale):
        _note_one_sided(diff, self.name, self.field)
        pair = diff.pair(self.field, added=True)
        after, before = _set_values(pair["after"]), _set_values(pair["before"])
        new = ~pd.MultiIndex.from_arrays([after.index, after.to_numpy()]).isin(
            pd.MultiIndex.from_arrays([before.index, before.to_numpy()]))
        if self.values is not None:  # written like the column's values: "Yes" and "x" are both a set flag
            new &= after.isin(_set_values(pd.Series(self.values, dtype=object))).to_numpy()
        count = np.bincount(after.index.to_numpy(dtype=np.intp)[new], minlength=len(pair))
        return _hits(pair, count > 0, self.field, count, np.nan)


#: Rule kinds by the ``name`` used in the config.
ALERT_RULE_KINDS: dict[str, type[_Rule]] = {
    get_args(cls.model_fields["name"].annotation)[0]: cls
    for cls in (RatingDowngrade, ScoreChange, CreditLimitCut, ExposureOverLimit, NewOverdue, OfficersChange,
                ShareCapitalChange, PAliveDrop, SegmentWorse, FieldChange, FieldDrop, FieldRise, FlagSet)}


def parse_alert_rules(rules: Sequence[Mapping[str, Any] | _Rule]) -> tuple[_Rule, ...]:
    """Check the ``alerts`` list of the config and turn it into rules.

    Each rule is a mapping with ``name`` (one of :data:`ALERT_RULE_KINDS`), ``severity`` (high, medium,
    low), an optional ``message`` template (placeholders ``{customer}`` (name and id), ``{customer_id}``,
    ``{rule}``, ``{severity}``, ``{field}``, ``{before}``, ``{after}``, ``{value}``, ``{threshold}``) and the
    kind's own fields:

    ========================  ==============================================================================
    rating_downgrade          ``notches`` (1), ``column`` (rating), ``scale`` (the evaluation's scale)
    score_change              ``points`` (10), ``columns`` ([failure_score, delinquency_score]),
                              ``direction`` (any / up / down)
    credit_limit_cut          ``min_cut`` (0.2 = 20%), ``column`` (credit_limit)
    exposure_over_limit       ``exposure_column`` (exposure), ``limit_column`` (credit_limit),
                              ``min_excess`` (0.0, share of the limit), ``new_only`` (true)
    new_overdue               ``columns`` ([31-60, 61-90, 91+], the aging buckets; summed),
                              ``min_amount`` (0)
    officers_change           ``column`` (officers)
    share_capital_change      ``column`` (share_capital), ``min_change`` (0.0 = any change)
    p_alive_drop              ``threshold`` (0.5), ``p_alive_column`` (p_alive), ``class_column``
                              (abc_class), ``classes`` ([A])
    segment_worse             ``column`` (segment), ``order`` (the RFM segment map, best first),
                              ``min_steps`` (1)
    field_change              ``field`` (required): any change of that column, text or number
    field_drop, field_rise    ``field`` (required), ``min_change`` (0 = any fall / rise; absolute),
                              ``min_relative`` (none; a share of the previous absolute value, both must hold);
                              ``value`` = after - before
    flag_set                  ``field`` (required), ``values`` (any): the flag became set (true, yes, si,
                              y, x, 1) or a value not there before appeared (several split on ``;`` or
                              ``,``, case ignored; added customers count with what they have)
    ========================  ==============================================================================

    The last four work on any column of the tables (an ESG score, a compliance flag, legal events a
    business-information provider adds); they are not among :data:`DEFAULT_ALERT_RULES`, having no column to
    default to.

    Raises
    ------
    AlertRuleError
        Naming the rule (position and name): unknown name, unknown field, missing severity (or ``field``
        of the generic rules), bad value.

    Examples
    --------
    >>> parse_alert_rules([{"name": "rating_downgrade", "notches": 2, "severity": "high"}])[0].notches
    2

    Rules back to config mappings (e.g. to write the defaults into a ``portfolio.yaml``):

    >>> [r.model_dump(by_alias=True, exclude_none=True) for r in DEFAULT_ALERT_RULES][0]
    {'name': 'rating_downgrade', 'severity': 'high', 'notches': 2, 'column': 'rating'}
    """
    return parse_rules(rules, ALERT_RULE_KINDS, AlertRuleError, "alert rule", _Rule)


#: The rules of the monitoring issue with default thresholds (two tiers for rating downgrades).
DEFAULT_ALERT_RULES: tuple[_Rule, ...] = parse_alert_rules([
    {"name": "rating_downgrade", "notches": 2, "severity": "high"},
    {"name": "rating_downgrade", "notches": 1, "severity": "medium"},
    {"name": "score_change", "points": 10, "severity": "medium"},
    {"name": "credit_limit_cut", "min_cut": 0.2, "severity": "high"},
    {"name": "exposure_over_limit", "min_excess": 0.0, "severity": "high"},
    {"name": "new_overdue", "min_amount": 0.0, "severity": "medium"},
    {"name": "officers_change", "severity": "low"},
    {"name": "share_capital_change", "min_change": 0.0, "severity": "low"},
    {"name": "p_alive_drop", "threshold": 0.5, "severity": "high"},
    {"name": "segment_worse", "min_steps": 1, "severity": "medium"},
])


def evaluate_alerts(diff: SnapshotDiff, rules: Sequence[Mapping[str, Any] | _Rule] | None = DEFAULT_ALERT_RULES,
                    rating_scale: Sequence[str] = RATING_SCALE, value_column: str | None = None) -> pd.DataFrame:
    """Apply alert rules to a diff: one row per alert, most severe and most valuable first.

    Rules whose columns are in neither table are skipped with a logged note. A customer flagged by several
    rules of the same name on the same field (tiers, e.g. downgrade >= 1 medium, >= 2 high) keeps only the
    most severe alert.

    Parameters
    ----------
    diff : SnapshotDiff
        From :func:`diff_snapshots`, on tables holding the columns the rules read (join the snapshot and
        the runs' per-customer tables on the key first to use them all).
    rules : sequence of mappings or parsed rules
        The config's ``alerts`` list (see :func:`parse_alert_rules`); ``None`` (no ``alerts`` in the config)
        means :data:`DEFAULT_ALERT_RULES`.
    rating_scale : sequence of str
        Rating classes, best first (used by ``rating_downgrade`` rules without their own ``scale``).
    value_column : str, optional
        Per-customer amount at stake, used to rank alerts; default the first of ``exposure``, ``clv``,
        ``credit_limit`` present (after value, else before).

    Returns
    -------
    DataFrame with ``<key>``, ``rule``, ``severity`` (ordered categorical high > medium > low), ``field``,
    ``before``, ``after``, ``value`` (notches, points, share cut, amount ... per rule), ``threshold``,
    ``value_at_stake``, ``customer_name`` (the ``name`` column of the ``after`` table, when there is one)
    and ``message_template`` (the rule's own ``message``, else missing: the catalogue's); sorted by severity,
    value at stake (descending), rule and key. The report writes the messages from these
    (:func:`portfolio_kit.report.wording.monitoring.alerts_with_messages`).

    Examples
    --------
    >>> from portfolio_kit.monitoring import diff_snapshots
    >>> b = pd.DataFrame({"customer_id": ["1"], "rating": ["A"], "credit_limit": [100.0]})
    >>> a = pd.DataFrame({"customer_id": ["1"], "rating": ["BB"], "credit_limit": [100.0]})
    >>> evaluate_alerts(diff_snapshots(b, a))[["customer_id", "rule", "severity", "before", "after", "value"]]
      customer_id              rule severity before after  value
    0           1  rating_downgrade     high      A    BB    2.0
    """
    rules = parse_alert_rules(DEFAULT_ALERT_RULES if rules is None else rules)
    key = diff.key
    if value_column is not None and not diff.has(value_column):
        raise ValueError(f"value_column {value_column!r} is in neither table")
    stake_col = value_column or next((c for c in _STAKE_COLUMNS if diff.has(c)), None)
    stake = None
    if stake_col:
        pair = diff.pair(stake_col, added=True)
        stake = pd.Series(_numbers(pair["after"]), index=pair.index).fillna(pd.Series(_numbers(pair["before"]),
                                                                                     index=pair.index))
    names = diff.pair("name", added=True)["after"] if "name" in diff.after.columns else None
    found_all = []
    for rule in rules:
        missing = [c for c in rule.columns() if not diff.has(c)]
        if missing and (rule.NEEDS_ALL or len(missing) == len(rule.columns())):
            log.info("alert rule %s skipped: column(s) %s not in the tables", rule.name, missing)
            continue
        found = rule.find(diff, rating_scale)
        if found is None or found.empty:
            continue
        found = found.rename_axis(key).reset_index()
        found["rule"], found["severity"] = rule.name, rule.severity
        found["value_at_stake"] = np.nan if stake is None else stake.reindex(found[key]).to_numpy()
        found["customer_name"] = np.nan if names is None else names.reindex(found[key]).to_numpy()
        found["message_template"] = rule.message
        found_all.append(found)
    if not found_all:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [key, *_ALERT_COLUMNS]}).astype(
            {"severity": pd.CategoricalDtype(SEVERITIES, ordered=True)})
    alerts = pd.concat(found_all, ignore_index=True)[[key, *_ALERT_COLUMNS]]
    alerts["severity"] = pd.Categorical(alerts["severity"], categories=SEVERITIES, ordered=True)
    alerts = (alerts.sort_values("severity", kind="stable")
              .drop_duplicates([key, "rule", "field"])
              .sort_values(["severity", "value_at_stake", "rule", key], ascending=[True, False, True, True],
                           na_position="last", kind="stable"))
    return alerts.reset_index(drop=True)
