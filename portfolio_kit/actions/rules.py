"""The next action for every customer: rules from the config's ``actions`` list, evaluated in order.

Each rule names an action of :data:`ACTIONS` and holds its thresholds; the rules read the customer 360
(:func:`portfolio_kit.actions.customer_360`). A customer's *primary* action is the first rule, in the list's
order, whose conditions it meets; the others it meets are its *secondary* actions; a customer no rule catches
gets ``maintain``. The kit's default list (:data:`DEFAULT_ACTION_RULES`, in this order):

=======================  ==========================================================================================
action                   when (defaults)                                                   value at stake
=======================  ==========================================================================================
protect_credit           a valuable customer (top ``valuable_share`` = 20% by ``value_12m``)  exposure
                         whose rating fell ``min_notches`` (1) or more, or whose payments are
                         worsening: review its limit and terms
reduce_exposure          a low-value customer (bottom ``low_value_share`` = 50%) at risk      exposure over the limit
                         (P(late) >= ``min_p_late`` 0.5 or payment index < ``max_payment_index``
                         50) whose exposure is over its credit limit
collect                  more than ``min_amount`` (0) open over ``min_days`` (60) days past    that overdue amount
                         due
retain                   a valuable customer still buying (a purchase in the last              risk-adjusted CLV
                         ``lapsed_days`` = 365) who is slipping: P(alive) < ``max_p_alive``     (else CLV, else
                         (0.5) or churn probability > ``min_churn_probability`` (0.5)          value_12m)
grow                     a valuable customer, alive (P(alive) >= ``min_p_alive`` 0.8), paying  as retain
                         well (payment index >= ``min_payment_index`` 80), with credit headroom
                         (exposure below its limit, or a limit to raise) and sales not falling
reactivate               no purchase for ``lapsed_days`` (365) or more, once valuable          revenue of the year
                         (top ``valuable_share`` by the revenue of the 12 months before)       before
serve_at_lower_cost      buying but of no value: the bottom ``low_value_share`` (30%) by       revenue of the year
                         ``value_12m``, or margin <= 0
maintain                 everyone else                                                         as retain
=======================  ==========================================================================================

A rule whose columns the client does not have (no invoices: no exposure; no snapshots: no rating) is left
out of the evaluation, and the page says so. Thresholds on shares (top 20%) are quantiles of the customers with
a positive value (those who brought something in the period); each row carries the numbers its reason cites.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from portfolio_kit.data.rules import parse_rules

__all__ = ["ACTIONS", "PRIORITIES", "ActionRuleError", "ACTION_RULE_KINDS", "DEFAULT_ACTION_RULES",
           "parse_action_rules", "next_actions"]

log = logging.getLogger(__name__)

#: The actions, in the kit's default order of evaluation.
ACTIONS = ("protect_credit", "reduce_exposure", "collect", "retain", "grow", "reactivate", "serve_at_lower_cost",
           "maintain")
#: Priorities, most urgent first.
PRIORITIES = ("high", "medium", "low")


class ActionRuleError(ValueError):
    """An action rule of the config is unknown or malformed (the message names the rule)."""


def _top(values: pd.Series, share: float) -> tuple[np.ndarray, float]:
    """Whether each value is in the top ``share`` of the positive values (customers who brought something),
    and the threshold."""
    known = values[values > 0]
    if known.empty:
        return np.zeros(len(values), bool), np.nan
    threshold = float(known.quantile(1 - share))
    return ((values >= threshold) & (values > 0)).fillna(False).to_numpy(bool), threshold


def _bottom(values: pd.Series, share: float) -> tuple[np.ndarray, float]:
    """Whether each value is at most the ``share`` quantile of the positive values (zero and negative values
    included), and the threshold."""
    known = values[values > 0]
    if known.empty:
        return (values <= 0).fillna(False).to_numpy(bool), 0.0
    threshold = float(known.quantile(share))
    return (values <= threshold).fillna(False).to_numpy(bool), threshold


def _col(p: pd.DataFrame, name: str, fill=np.nan) -> pd.Series:
    return p[name] if name in p.columns else pd.Series(fill, index=p.index)


class _Action(BaseModel):
    """Fields every action rule has; subclasses add thresholds and implement :meth:`find`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    priority: Literal["high", "medium", "low"]

    #: Columns the rule needs: all of them (tuples inside: at least one of the tuple).
    NEEDS: ClassVar[tuple] = ()

    def usable(self, p: pd.DataFrame) -> list[str]:
        """The needed columns the table lacks (empty: the rule can run)."""
        lacking = []
        for need in self.NEEDS:
            options = need if isinstance(need, tuple) else (need,)
            if not any(c in p.columns and p[c].notna().any() for c in options):
                lacking.append(" or ".join(options))
        return lacking

    def find(self, p: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        """Which customers the rule catches, and per customer ``trigger`` (what caught it), ``value_at_stake``
        and the ``threshold`` its reason cites."""
        raise NotImplementedError


def _facts(p: pd.DataFrame, trigger, stake, threshold=np.nan) -> pd.DataFrame:
    n = len(p)
    return pd.DataFrame({"trigger": np.broadcast_to(np.asarray(trigger, dtype=object), (n,)),
                         "value_at_stake": np.broadcast_to(np.asarray(stake, dtype=float), (n,)),
                         "threshold": np.broadcast_to(np.asarray(threshold, dtype=float), (n,))}, index=p.index)


def _value_or_clv(p: pd.DataFrame) -> pd.Series:
    """What keeping the customer is worth: its risk-adjusted CLV (the credit page's), else its CLV, else the
    value of its last 12 months."""
    return _col(p, "risk_adjusted_clv").fillna(_col(p, "clv")).fillna(_col(p, "value_12m"))


class ProtectCredit(_Action):
    """Valuable and its credit risk is rising: rating down ``min_notches`` or payments worsening."""

    name: Literal["protect_credit"]
    valuable_share: float = Field(0.2, gt=0, lt=1)
    min_notches: int = Field(1, ge=1)
    on_worsening: bool = True
    NEEDS = ("value_12m", ("rating_change", "worsening"))

    def find(self, p):
        valuable, threshold = _top(_col(p, "value_12m"), self.valuable_share)
        fell = (_col(p, "rating_change") <= -self.min_notches).to_numpy(bool)
        worse = _col(p, "worsening", False).fillna(False).astype(bool).to_numpy() & self.on_worsening
        trigger = np.where(fell, "rating_fell", "payments_worsening")
        return valuable & (fell | worse), _facts(p, trigger, _col(p, "exposure", 0.0).fillna(0.0), threshold)


class ReduceExposure(_Action):
    """Low value, risky, and over its credit limit."""

    name: Literal["reduce_exposure"]
    low_value_share: float = Field(0.5, gt=0, lt=1)
    min_p_late: float = Field(0.5, gt=0, le=1)
    max_payment_index: float = Field(50.0, gt=0, le=100)
    NEEDS = ("value_12m", "exposure", "credit_limit", ("p_late", "payment_index"))

    def find(self, p):
        low, threshold = _bottom(_col(p, "value_12m").fillna(0.0), self.low_value_share)
        late = (_col(p, "p_late") >= self.min_p_late).to_numpy(bool)
        slow = (_col(p, "payment_index") < self.max_payment_index).to_numpy(bool)
        excess = _col(p, "exposure") - _col(p, "credit_limit")
        over = (excess > 0).to_numpy(bool)
        trigger = np.where(late, "p_late", "payment_index")
        return low & (late | slow) & over, _facts(p, trigger, excess.fillna(0.0), threshold)


class Collect(_Action):
    """More than ``min_amount`` open over ``min_days`` days past due (30, 60 or 90)."""

    name: Literal["collect"]
    min_days: Literal[30, 60, 90] = 60
    min_amount: float = Field(0.0, ge=0)
    NEEDS = ("overdue_over_30",)

    def find(self, p):
        overdue = _col(p, f"overdue_over_{self.min_days}").fillna(0.0)
        return (overdue > self.min_amount).to_numpy(bool), _facts(p, "overdue", overdue, self.min_days)


class Retain(_Action):
    """Valuable, still buying, and slipping: low P(alive) or high churn probability."""

    name: Literal["retain"]
    valuable_share: float = Field(0.2, gt=0, lt=1)
    lapsed_days: int = Field(365, ge=1)
    max_p_alive: float = Field(0.5, gt=0, le=1)
    min_churn_probability: float = Field(0.5, ge=0, lt=1)
    NEEDS = ("value_12m", ("probability_alive", "churn_probability"))

    def find(self, p):
        valuable, threshold = _top(_col(p, "value_12m"), self.valuable_share)
        buying = (_col(p, "days_since_purchase") < self.lapsed_days).fillna(True).to_numpy(bool)
        dying = (_col(p, "probability_alive") < self.max_p_alive).to_numpy(bool)
        leaving = (_col(p, "churn_probability") > self.min_churn_probability).to_numpy(bool)
        trigger = np.where(dying, "p_alive", "churn")
        return valuable & buying & (dying | leaving), _facts(p, trigger, _value_or_clv(p), threshold)


class Grow(_Action):
    """Valuable, alive, paying well, with credit headroom and sales not falling."""

    name: Literal["grow"]
    valuable_share: float = Field(0.2, gt=0, lt=1)
    min_p_alive: float = Field(0.8, gt=0, le=1)
    min_payment_index: float = Field(80.0, gt=0, le=100)
    NEEDS = ("value_12m", "probability_alive", "payment_index")

    def find(self, p):
        valuable, threshold = _top(_col(p, "value_12m"), self.valuable_share)
        alive = (_col(p, "probability_alive") >= self.min_p_alive).to_numpy(bool)
        pays = (_col(p, "payment_index") >= self.min_payment_index).to_numpy(bool)
        limit, exposure = _col(p, "credit_limit"), _col(p, "exposure").fillna(0.0)
        room = ((limit > exposure) | limit.isna()).to_numpy(bool) | _col(p, "limit_action").astype(str).eq(
            "raise").to_numpy()
        steady = ~(_col(p, "revenue_change") < 0).to_numpy(bool)
        offer = np.where(_col(p, "next_product").notna().to_numpy(bool), "next_product", "healthy")
        return valuable & alive & pays & room & steady, _facts(p, offer, _value_or_clv(p), threshold)


class Reactivate(_Action):
    """No purchase for ``lapsed_days`` or more, once valuable (by the revenue of the year before)."""

    name: Literal["reactivate"]
    valuable_share: float = Field(0.2, gt=0, lt=1)
    lapsed_days: int = Field(365, ge=1)
    NEEDS = ("days_since_purchase", "revenue_prev_12m")

    def find(self, p):
        once, threshold = _top(_col(p, "revenue_prev_12m"), self.valuable_share)
        lapsed = (_col(p, "days_since_purchase") >= self.lapsed_days).to_numpy(bool)
        return once & lapsed, _facts(p, "lapsed", _col(p, "revenue_prev_12m").fillna(0.0), threshold)


class ServeAtLowerCost(_Action):
    """Buying, but of no value: the bottom ``low_value_share`` by ``value_12m``, or no margin."""

    name: Literal["serve_at_lower_cost"]
    low_value_share: float = Field(0.3, gt=0, lt=1)
    NEEDS = ("value_12m", "revenue_12m")

    def find(self, p):
        buying = (_col(p, "revenue_12m") > 0).to_numpy(bool)
        value = _col(p, "value_12m")
        low, threshold = _bottom(value[buying].reindex(p.index), self.low_value_share)
        return buying & (low | (value <= 0).to_numpy(bool)), _facts(p, "low_value", _col(p, "revenue_12m"), threshold)


class Maintain(_Action):
    """Everyone no other rule catches."""

    name: Literal["maintain"]
    NEEDS = ()

    def find(self, p):
        return np.ones(len(p), bool), _facts(p, "no_rule", _value_or_clv(p).fillna(0.0))


#: Rule kinds by the ``name`` used in the config.
ACTION_RULE_KINDS: dict[str, type[_Action]] = {
    get_args(cls.model_fields["name"].annotation)[0]: cls
    for cls in (ProtectCredit, ReduceExposure, Collect, Retain, Grow, Reactivate, ServeAtLowerCost, Maintain)}


def parse_action_rules(rules: Sequence[Mapping[str, Any] | _Action]) -> tuple[_Action, ...]:
    """Check the config's ``actions`` list and turn it into rules (see the module for names and fields).

    Raises
    ------
    ActionRuleError
        Naming the rule (position and name): unknown name, unknown field, missing priority, bad value.

    Examples
    --------
    >>> parse_action_rules([{"name": "collect", "min_days": 90, "priority": "high"}])[0].min_days
    90
    >>> parse_action_rules([{"name": "upsell", "priority": "high"}])
    Traceback (most recent call last):
    ...
    portfolio_kit.actions.rules.ActionRuleError: action rule #1: unknown rule name 'upsell'; known: ...
    """
    return parse_rules(rules, ACTION_RULE_KINDS, ActionRuleError, "action rule", _Action)


#: The kit's rules, in the order they are evaluated.
DEFAULT_ACTION_RULES: tuple[_Action, ...] = parse_action_rules([
    {"name": "protect_credit", "priority": "high"},
    {"name": "reduce_exposure", "priority": "high"},
    {"name": "collect", "priority": "high"},
    {"name": "retain", "priority": "high"},
    {"name": "grow", "priority": "medium"},
    {"name": "reactivate", "priority": "medium"},
    {"name": "serve_at_lower_cost", "priority": "low"},
    {"name": "maintain", "priority": "low"},
])


def next_actions(profile: pd.DataFrame, rules: Sequence[Mapping[str, Any] | _Action] | None = None
                 ) -> pd.DataFrame:
    """The next action for every customer of the customer 360, with its secondary actions.

    Parameters
    ----------
    profile : DataFrame
        :func:`portfolio_kit.actions.customer_360`.
    rules : sequence, optional
        The config's ``actions`` list (see :func:`parse_action_rules`); None: :data:`DEFAULT_ACTION_RULES`.
        ``maintain`` is added at the end when the list lacks it.

    Returns
    -------
    DataFrame
        ``customer_id``, ``action``, ``priority``, ``trigger`` (what caught the customer: ``rating_fell``,
        ``overdue``, ``p_alive`` ...), ``threshold`` (the value the trigger was compared with: the top-share
        limit, the days past due ...), ``value_at_stake``, ``secondary_actions`` (the other actions it meets,
        in order, ``", "``-separated), ``owner`` (the account manager when known); sorted by priority and
        value at stake. ``attrs["skipped"]`` maps each rule left out to the columns it lacked.
    """
    parsed = list(parse_action_rules(DEFAULT_ACTION_RULES if rules is None else rules))
    if not any(r.name == "maintain" for r in parsed):
        parsed.append(ACTION_RULE_KINDS["maintain"](name="maintain", priority="low"))
    p = profile.reset_index(drop=True)
    n = len(p)
    chosen = np.full(n, -1)
    caught: list[np.ndarray] = []
    facts: list[pd.DataFrame] = []
    skipped = {}
    for i, rule in enumerate(parsed):
        lacking = rule.usable(p)
        if lacking:
            skipped[rule.name] = lacking
            log.info("action rule %s skipped: no %s", rule.name, ", ".join(lacking))
            caught.append(np.zeros(n, bool))
            facts.append(_facts(p, "", 0.0))
            continue
        mask, why = rule.find(p)
        caught.append(mask)
        facts.append(why)
        chosen = np.where((chosen < 0) & mask, i, chosen)
    pick = np.arange(n)
    stack = {c: np.stack([f[c].to_numpy() for f in facts], axis=1)[pick, chosen] for c in facts[0].columns}
    names = np.array([r.name for r in parsed], dtype=object)
    matrix = np.stack(caught, axis=1)
    secondary = [", ".join(names[(matrix[k]) & (np.arange(len(parsed)) != chosen[k]) & (names != "maintain")])
                 for k in range(n)]
    out = pd.DataFrame({
        "customer_id": p["customer_id"],
        "action": names[chosen],
        "priority": pd.Categorical([parsed[i].priority for i in chosen], categories=PRIORITIES, ordered=True),
        "trigger": stack["trigger"],
        "threshold": stack["threshold"].astype(float),
        "value_at_stake": stack["value_at_stake"].astype(float),
        "secondary_actions": secondary,
        "owner": _col(p, "account_manager").to_numpy(object),
    })
    out = out.sort_values(["priority", "value_at_stake", "customer_id"], ascending=[True, False, True],
                          kind="stable").reset_index(drop=True)
    out.attrs["skipped"] = skipped
    return out
