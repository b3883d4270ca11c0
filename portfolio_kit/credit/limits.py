"""Recommended credit limits: the credit a customer's buying needs, scaled by its risk, under a policy.

The kit's method (not a business-information provider's figure), per customer:

need
    ``monthly_purchases x days_to_pay / (365 / 12) x (1 + buffer)``: the receivables that the customer's
    normal buying keeps open (a month's purchases stay unpaid for ``days_to_pay`` days, the *observed* days
    from invoice to payment, not the nominal terms), plus a buffer for peaks.
risk factor
    The smallest factor of the risk signals the customer has (:class:`CreditPolicy`): payment index,
    probability of paying late, rating, failure score, expected-loss rate; 0 for a stop signal (rating ``D``, or
    an invoice left wholly unpaid more than ``default_days`` past due, :func:`defaulted_customers`); ``unknown``
    when no signal is known (no payment history, no rating). The signal that set it is the *risk driver*.
recommended limit
    ``need x risk factor``, capped at ``max_share`` of the book (today's total receivables), rounded up to
    ``round_to`` (down when capped), at least ``floor`` when positive.
action
    ``cut`` to 0 on a stop signal (``review`` when no limit is on record to cut); ``review`` when the data
    cannot decide (no limit on record while there is a need, or no payment history); ``raise`` / ``cut`` when the recommendation is more than ``band`` (a share)
    and at least one ``round_to`` above / below the current limit; ``keep`` otherwise. Customers with no
    sales in the window and nothing open are *dormant*: their unused limit is cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from portfolio_kit.payments import TOLERANCE, open_invoices

__all__ = ["LIMIT_ACTIONS", "REASONS", "RISK_SIGNALS", "CreditPolicy", "defaulted_customers", "credit_profile",
           "recommended_limits"]

#: What to do with a customer's credit limit.
LIMIT_ACTIONS = ("raise", "keep", "cut", "review")
#: Why: the situation that decided the action (the report words it with the row's numbers).
REASONS = ("need", "dormant", "stop", "no_limit", "no_history")
#: Risk signals, in the order that breaks ties for the risk driver.
RISK_SIGNALS = ("payment_index", "p_late", "rating", "failure_score", "ecl_rate")
DAYS_PER_MONTH = 365 / 12

_STEPS = Sequence[tuple[float, float]]


def _default_rating_factors() -> dict[str, float]:
    return {"AAA": 1.0, "AA": 1.0, "A": 1.0, "BBB": 1.0, "BB": 0.75, "B": 0.5, "CCC": 0.25, "CC": 0.25,
            "C": 0.25, "D": 0.0}


@dataclass(frozen=True)
class CreditPolicy:
    """The credit policy's parameters (the kit's defaults; a client's config may set the scalars).

    Step tables are ``(at least, factor)`` pairs: the factor applies from that value up (a high payment index is
    good; a high ``p_late``, ``failure_score`` or ``ecl_rate`` is bad). The failure score is read as the
    snapshots' ``failure_score``: 1-100, higher = riskier; a provider whose scores run the other way (1 = most
    at risk) must be mapped to that convention first.
    """

    buffer: float = 0.25
    band: float = 0.25
    max_share: float = 0.10
    round_to: float = 1000.0
    floor: float = 0.0
    unknown: float = 0.5
    payment_index: _STEPS = ((80.0, 1.0), (70.0, 0.8), (50.0, 0.5), (0.0, 0.25))
    p_late: _STEPS = ((0.5, 0.5), (0.25, 0.75), (0.0, 1.0))
    failure_score: _STEPS = ((85.0, 0.25), (70.0, 0.5), (0.0, 1.0))
    ecl_rate: _STEPS = ((0.25, 0.25), (0.10, 0.5), (0.05, 0.75), (0.0, 1.0))
    rating: Mapping[str, float] = field(default_factory=_default_rating_factors)

    def __post_init__(self):
        checks = {"buffer": self.buffer >= 0, "band": 0 <= self.band < 1, "max_share": 0 < self.max_share <= 1,
                  "round_to": self.round_to > 0, "floor": self.floor >= 0, "unknown": 0 <= self.unknown <= 1}
        bad = [f"{name}={getattr(self, name)!r}" for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"credit policy: {', '.join(bad)} out of range (buffer >= 0, 0 <= band < 1, "
                             "0 < max_share <= 1, round_to > 0, floor >= 0, 0 <= unknown <= 1)")

    @classmethod
    def from_parameters(cls, **values) -> "CreditPolicy":
        """A policy from scalar parameters (unknown names are an error naming them)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"credit policy: unknown parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def _step_factor(values: np.ndarray, steps: _STEPS) -> np.ndarray:
    """Factor of the first step whose threshold ``values`` reach (NaN where the value is missing)."""
    out = np.full(values.shape, np.nan)
    for threshold, factor in sorted(steps, key=lambda s: s[0]):
        out[values >= threshold] = factor
    return out


def _risk(profile: pd.DataFrame, policy: CreditPolicy) -> tuple[np.ndarray, np.ndarray]:
    """Risk factor and driver of every row."""
    n = len(profile)
    table = {}
    for signal in RISK_SIGNALS:
        if signal not in profile.columns:
            continue
        if signal == "rating":
            scale = {k.upper(): v for k, v in policy.rating.items()}
            table[signal] = profile[signal].astype("string").str.strip().str.upper().map(scale).to_numpy(
                dtype=float, na_value=np.nan)
        else:
            table[signal] = _step_factor(pd.to_numeric(profile[signal], errors="coerce").to_numpy(float),
                                         getattr(policy, signal))
    factors = np.column_stack([table[s] for s in table]) if table else np.full((n, 1), np.nan)
    known = ~np.isnan(factors)
    factor = np.where(known.any(axis=1), np.where(known, factors, np.inf).min(axis=1), policy.unknown)
    names = np.array(list(table) or ["unknown"], dtype=object)
    first_min = np.argmax(np.where(known, factors, np.inf) == factor[:, None], axis=1)
    driver = np.where(known.any(axis=1), names[first_min], "unknown")
    stop = profile["defaulted"].fillna(False).to_numpy(bool) if "defaulted" in profile.columns else np.zeros(n, bool)
    return np.where(stop, 0.0, factor), np.where(stop, "defaulted", driver)


def recommended_limits(profile: pd.DataFrame, policy: CreditPolicy | None = None) -> pd.DataFrame:
    """The recommended credit limit and the action on the current one, per customer (the module's method).

    Parameters
    ----------
    profile : DataFrame
        One row per customer: ``customer_id``, ``credit_limit`` (NaN: none on record), ``monthly_purchases``,
        ``days_to_pay``, ``exposure`` (open receivables today); optional risk signals ``payment_index`` (1-100),
        ``p_late`` (0-1), ``rating`` (AAA ... D), ``failure_score`` (1-100, higher = riskier), ``ecl_rate``
        (expected loss / receivables), ``defaulted``
        (bool: items unpaid beyond the default horizon), ``observed`` (bool: days to pay observed on paid
        invoices; false means no payment history); see :func:`credit_profile`.
    policy : CreditPolicy, optional
        The kit's defaults when omitted.

    Returns
    -------
    DataFrame
        ``profile`` plus ``need``, ``risk_factor``, ``risk_driver``, ``recommended_limit``, ``limit_change``,
        ``limit_action`` (:data:`LIMIT_ACTIONS`) and ``limit_reason`` (:data:`REASONS`).

    Examples
    --------
    >>> p = pd.DataFrame({"customer_id": ["C1"], "credit_limit": [2000.0], "monthly_purchases": [3000.0],
    ...                   "days_to_pay": [60.0], "exposure": [7000.0], "payment_index": [75.0]})
    >>> recommended_limits(p, CreditPolicy(max_share=1.0))[["need", "risk_factor", "recommended_limit", "limit_action"]].round(1).to_dict("records")
    [{'need': 7397.3, 'risk_factor': 0.8, 'recommended_limit': 6000.0, 'limit_action': 'raise'}]
    """
    policy = policy or CreditPolicy()
    missing = [c for c in ("customer_id", "credit_limit", "monthly_purchases", "days_to_pay", "exposure")
               if c not in profile.columns]
    if missing:
        raise ValueError(f"credit profile: missing column(s) {missing}")
    out = profile.copy()
    monthly = out["monthly_purchases"].fillna(0).clip(lower=0).to_numpy(float)
    days_to_pay = out["days_to_pay"].fillna(0).clip(lower=0).to_numpy(float)
    exposure = out["exposure"].fillna(0).to_numpy(float)
    limit = out["credit_limit"].to_numpy(float)
    need = monthly * days_to_pay / DAYS_PER_MONTH * (1 + policy.buffer)
    factor, driver = _risk(out, policy)
    book = float(np.clip(exposure, 0, None).sum())
    cap = (max(np.floor(policy.max_share * book / policy.round_to), 1.0) * policy.round_to if book > 0
           else np.inf)
    raw = need * factor
    recommended = np.where(raw > cap, cap, np.ceil(raw / policy.round_to - 1e-9) * policy.round_to)
    recommended = np.where(recommended > 0, np.maximum(recommended, policy.floor), 0.0)

    dormant = (monthly <= 0) & (exposure <= 0)
    stop = factor == 0
    no_limit = np.isnan(limit)
    observed = out["observed"].fillna(True).to_numpy(bool) if "observed" in out.columns else driver != "unknown"
    no_history = ~observed & (need > 0)
    step = policy.round_to - 1e-9
    up = (recommended > limit * (1 + policy.band)) & (recommended - limit >= step)
    down = (recommended < limit * (1 - policy.band)) & (limit - recommended >= step)
    reason = np.select([stop, dormant, no_limit, no_history], ["stop", "dormant", "no_limit", "no_history"], "need")
    action = np.select([stop | dormant, no_limit | no_history, up, down],
                       [np.where(no_limit | (limit > 0), "cut", "keep"), "review", "raise", "cut"], "keep")
    action = np.where(dormant & ~stop & no_limit, "keep", action)  # nothing to cut
    action = np.where(stop & no_limit, "review", action)  # no limit on record to cut: stop it by hand
    out["need"], out["risk_factor"], out["risk_driver"] = need, factor, driver
    out["recommended_limit"] = recommended
    out["limit_change"] = recommended - limit
    out["limit_action"] = pd.Categorical(action, categories=LIMIT_ACTIONS)
    out["limit_reason"] = reason
    return out


def defaulted_customers(invoices: pd.DataFrame, as_of, default_days: int = 365) -> pd.Series:
    """Customers with an invoice left wholly unpaid more than ``default_days`` past due at ``as_of`` (True, by
    ``customer_id``): the stop signal of :func:`recommended_limits`. The unpaid rest of a partly paid invoice (a
    deduction or a dispute) is a loss the expected credit loss counts, not a reason to stop a paying customer.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C2"], "amount": [100.0, 100.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01"] * 2),
    ...                     "due_date": pd.to_datetime(["2024-01-31"] * 2),
    ...                     "paid_date": pd.to_datetime([pd.NaT, "2024-02-10"]), "paid_amount": [None, 60.0]})
    >>> defaulted_customers(inv, "2025-06-30").to_dict()
    {'C1': True}
    """
    items = open_invoices(invoices, as_of)
    unpaid = (items["amount"] > 0) & (items["open_amount"] >= items["amount"] - TOLERANCE)
    late = items["days_past_due"] > default_days
    owing = items.groupby("customer_id")["open_amount"].sum() > TOLERANCE  # open credit notes may settle it
    found = items.loc[unpaid & late, "customer_id"].drop_duplicates()
    found = found[found.map(owing).fillna(False).astype(bool)]
    return found.to_frame().assign(defaulted=True).set_index("customer_id")["defaulted"]


def credit_profile(customers: pd.DataFrame | None, habits: pd.DataFrame, ecl: pd.DataFrame, *,
                   defaulted: pd.Series | None = None, expected_monthly: pd.Series | None = None,
                   p_late: pd.Series | None = None, payment_index: pd.Series | None = None,
                   ratings: pd.Series | None = None, failure_scores: pd.Series | None = None) -> pd.DataFrame:
    """The per-customer input of :func:`recommended_limits` from the analyses' tables.

    Parameters
    ----------
    customers : DataFrame or None
        The customer master (``credit_limit``, ``payment_terms_days`` when it has them; ``name`` kept).
    habits : DataFrame
        :func:`portfolio_kit.credit.payment_habits` (``sales_12m``, ``monthly_sales``, ``terms_days``,
        ``days_to_pay``, ``delay_days``).
    ecl : DataFrame
        :func:`portfolio_kit.credit.customer_ecl` (``receivables``, ``ecl``, ``ecl_rate``).
    defaulted, expected_monthly, p_late, payment_index, ratings, failure_scores : Series by customer id, optional
        Items unpaid beyond the default horizon (bool); expected monthly purchases from the CLV model (else
        the sales invoiced a month over the last 12 months, or since the first invoice when later); the
        probability of paying late; the payment index; the latest rating and failure score.

    Days to pay are the customer's observed ones; without a paid invoice in the window, its terms plus the
    book's amount-weighted delay beyond terms; without terms, the master's ``payment_terms_days``.
    """
    h = habits.set_index("customer_id")
    e = ecl.set_index("customer_id")
    master = (customers.set_index("customer_id") if customers is not None and len(customers)
              else pd.DataFrame(index=pd.Index([], name="customer_id")))
    ids = h.index.union(e.index).union(master.index)
    out = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    out["name"] = master["name"] if "name" in master.columns else np.nan
    out["credit_limit"] = (pd.to_numeric(master["credit_limit"], errors="coerce") if "credit_limit" in master.columns
                           else np.nan)
    monthly = h["monthly_sales"].reindex(ids).fillna(0.0)
    if expected_monthly is not None:
        monthly = expected_monthly.reindex(ids).fillna(monthly)
    out["monthly_purchases"] = monthly
    paid = h[h["days_to_pay"].notna()]
    weights = paid["sales_12m"].clip(lower=0)
    delay = float(np.average(paid["delay_days"], weights=weights)) if weights.sum() > 0 else 0.0
    terms = h["terms_days"].reindex(ids)
    if "payment_terms_days" in master.columns:
        terms = terms.fillna(pd.to_numeric(master["payment_terms_days"], errors="coerce").reindex(ids))
    out["days_to_pay"] = h["days_to_pay"].reindex(ids).fillna(terms + delay)
    out["observed"] = h["days_to_pay"].reindex(ids).notna()
    out["exposure"] = e["receivables"].reindex(ids).fillna(0.0)
    out["ecl"] = e["ecl"].reindex(ids).fillna(0.0)
    out["ecl_rate"] = e["ecl_rate"].reindex(ids).where(out["exposure"] > 0)
    for name, series in (("payment_index", payment_index), ("p_late", p_late), ("rating", ratings),
                         ("failure_score", failure_scores)):
        if series is not None:
            out[name] = series.reindex(ids)
    out["defaulted"] = (defaulted.reindex(ids).fillna(False).astype(bool) if defaulted is not None
                        else False)
    return out.reset_index()
