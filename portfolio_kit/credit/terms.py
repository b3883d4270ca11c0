"""Payment terms: the cost of early-payment discounts and what shorter terms would release in cash.

A discount "2/10 net 30" lets the customer pay 2% less within 10 days instead of in full at 30 days. A customer
who takes it pays ``d`` to keep ``1 - d`` for ``net - discount`` days less: the annual cost of the offer, to the
seller, is::

    simple      d / (1 - d) x year_days / (net_days - discount_days)
    compound    (1 + d / (1 - d)) ** (year_days / (net_days - discount_days)) - 1

(2/10 net 30: 36.73% a year on 360 days, 37.24% on 365, as in the corporate finance textbooks, e.g.
Brealey, Myers and Allen). An offer is cheaper than financing the receivable when that cost is below the
seller's cost of capital. Discounts are fractions (0.02 for 2%) except in offer strings such as "2/10 net 30".

:func:`payment_habits` and :func:`terms_what_if` turn to the client's ledger: the terms its customers have, how
long they take to pay, and the receivables that shorter terms would release (e.g. a cap at the 60 days that the
EU Late Payment Directive 2011/7/EU sets as the default between businesses).
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from portfolio_kit.data.dates import add_months, as_timestamp, day_number, whole_number
from portfolio_kit.payments import invoice_ledger, with_segment

__all__ = ["early_payment_discount_cost", "break_even_discount", "parse_offer", "discount_offers",
           "payment_habits", "terms_what_if", "TermsWhatIf", "TERMS_MODES", "ALL_GROUPS"]

logger = logging.getLogger(__name__)

#: How :func:`terms_what_if` changes the terms: "cap" only shortens longer terms, "set" sets them for everyone.
TERMS_MODES = ("cap", "set")
#: Label of the total row of the :func:`terms_what_if` summary by group.
ALL_GROUPS = "(all)"

_OFFER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*/\s*(\d+)\s*,?\s*(?:net|n)\s*/?\s*(\d+)\s*$", re.IGNORECASE)


def _scalar_or_array(out: np.ndarray):
    return float(out) if out.ndim == 0 else out


def _terms(discount_days, net_days, year_days) -> tuple[np.ndarray, np.ndarray, float]:
    d_days, n_days = np.asarray(discount_days, dtype=float), np.asarray(net_days, dtype=float)
    if (d_days < 0).any() or np.isnan(d_days).any():
        raise ValueError(f"discount_days: expected days >= 0, got {discount_days!r}")
    if np.isnan(n_days).any() or (n_days <= d_days).any():
        raise ValueError(f"net_days: expected more days than discount_days ({discount_days!r}), got {net_days!r}")
    year = float(year_days)
    if not np.isfinite(year) or year <= 0:
        raise ValueError(f"year_days: expected a positive number of days (360 or 365), got {year_days!r}")
    return d_days, n_days, year


def early_payment_discount_cost(discount, discount_days, net_days, year_days: float = 360, compound: bool = False):
    """The annual cost of an early-payment discount "``discount``/``discount_days`` net ``net_days``".

    ``d / (1 - d) x year_days / (net_days - discount_days)``, or with ``compound`` the effective annual rate
    ``(1 + d / (1 - d)) ** (year_days / (net_days - discount_days)) - 1``. Vectorised over arrays.

    Parameters
    ----------
    discount : float or array
        The discount as a fraction, in (0, 1) (0.02 for 2%).
    discount_days, net_days : int or array
        Days to pay with the discount, and without it (more than ``discount_days``).
    year_days : float
        Days in a year: 360 (the textbook convention) or 365.
    compound : bool
        Compound the cost over the periods in a year instead of the simple rate.

    Returns
    -------
    float or ndarray
        The annual cost as a fraction.

    Examples
    --------
    >>> round(early_payment_discount_cost(0.02, 10, 30), 4), round(early_payment_discount_cost(0.02, 10, 30, 365), 4)
    (0.3673, 0.3724)
    """
    d = np.asarray(discount, dtype=float)
    if np.isnan(d).any() or (d <= 0).any() or (d >= 1).any():
        raise ValueError(f"discount: expected a fraction between 0 and 1 (0.02 for 2%), got {discount!r}")
    d_days, n_days, year = _terms(discount_days, net_days, year_days)
    rate = d / (1.0 - d)
    periods = year / (n_days - d_days)
    return _scalar_or_array((1.0 + rate) ** periods - 1.0 if compound else rate * periods)


def break_even_discount(cost_of_capital, discount_days, net_days, year_days: float = 360):
    """The discount whose simple annual cost (:func:`early_payment_discount_cost`) equals ``cost_of_capital``.

    With ``x = cost_of_capital x (net_days - discount_days) / year_days`` the discount is ``x / (1 + x)``: a
    smaller discount costs less than financing the receivable until ``net_days``. Vectorised over arrays.

    Examples
    --------
    >>> d = break_even_discount(0.08, 10, 30)
    >>> round(d, 6), round(early_payment_discount_cost(d, 10, 30), 6)
    (0.004425, 0.08)
    """
    k = np.asarray(cost_of_capital, dtype=float)
    if np.isnan(k).any() or np.isinf(k).any() or (k < 0).any():
        raise ValueError(f"cost_of_capital: expected a yearly rate >= 0 as a fraction (0.08 for 8%), "
                         f"got {cost_of_capital!r}")
    d_days, n_days, year = _terms(discount_days, net_days, year_days)
    x = k * (n_days - d_days) / year
    return _scalar_or_array(x / (1.0 + x))


def parse_offer(offer) -> tuple[float, int, int]:
    """``(discount, discount_days, net_days)`` of an offer: a string such as "2/10 net 30", "2/10, n/30" or
    "1.5/15 net 60" (discount in percent), or a tuple ``(discount, discount_days, net_days)`` (a fraction).

    Examples
    --------
    >>> parse_offer("2/10, n/30"), parse_offer("1.5/15 net 60")
    ((0.02, 10, 30), (0.015, 15, 60))
    """
    if isinstance(offer, str):
        match = _OFFER.match(offer)
        if match is None:
            raise ValueError(f"offers: cannot read {offer!r}: expected 'discount%/days net days', e.g. '2/10 net 30' "
                             "or '2/10, n/30'")
        percent, d_days, n_days = match.groups()
        discount, d_days, n_days = float(percent.replace(",", ".")) / 100.0, int(d_days), int(n_days)
    else:
        try:
            discount, d_days, n_days = offer
            discount, d_days, n_days = float(discount), int(d_days), int(n_days)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"offers: cannot read {offer!r}: expected a string like '2/10 net 30' or a tuple "
                             "(discount as a fraction, discount_days, net_days)") from exc
    if not 0 < discount < 1 or n_days <= d_days or d_days < 0:
        raise ValueError(f"offers: {offer!r} is not an offer: expected a discount between 0 and 100% and net days "
                         "beyond the discount days")
    return round(discount, 10), d_days, n_days


def discount_offers(offers, cost_of_capital: float, year_days: float = 360) -> pd.DataFrame:
    """Early-payment discount offers side by side, against the cost of capital.

    Parameters
    ----------
    offers : iterable
        Strings ("2/10 net 30", "2/10, n/30", "1.5/15 net 60") or tuples ``(discount, discount_days,
        net_days)`` with the discount as a fraction; see :func:`parse_offer`.
    cost_of_capital : float
        The seller's yearly cost of financing its receivables, as a fraction.
    year_days : float
        Days in a year for ``break_even_discount`` and ``cheaper_than_capital``.

    Returns
    -------
    DataFrame
        One row per offer: ``offer`` (as given, tuples written as "2/10 net 30"), ``discount``,
        ``discount_days``, ``net_days``, ``annual_cost_360``, ``annual_cost_365`` (simple annual cost),
        ``break_even_discount`` (the discount costing exactly ``cost_of_capital``) and ``cheaper_than_capital``
        (the offer's annual cost on ``year_days`` is below ``cost_of_capital``: paying the customer to pay early
        costs less than financing the receivable).

    Examples
    --------
    >>> table = discount_offers(["2/10 net 30", (0.005, 10, 60)], cost_of_capital=0.08)
    >>> table[["offer", "annual_cost_360", "cheaper_than_capital"]].round(4).to_dict("records")
    [{'offer': '2/10 net 30', 'annual_cost_360': 0.3673, 'cheaper_than_capital': False}, \
{'offer': '0.5/10 net 60', 'annual_cost_360': 0.0362, 'cheaper_than_capital': True}]
    """
    if isinstance(offers, (str, tuple)):
        offers = [offers]
    parsed = [parse_offer(o) for o in offers]
    if not parsed:
        raise ValueError("offers: expected at least one offer, e.g. ['2/10 net 30']")
    names = [o if isinstance(o, str) else f"{p[0] * 100:g}/{p[1]} net {p[2]}" for o, p in zip(offers, parsed)]
    discount, d_days, n_days = (np.array(column) for column in zip(*parsed))
    out = pd.DataFrame({"offer": names, "discount": discount.astype(float), "discount_days": d_days.astype(int),
                        "net_days": n_days.astype(int)})
    out["annual_cost_360"] = early_payment_discount_cost(discount, d_days, n_days, 360)
    out["annual_cost_365"] = early_payment_discount_cost(discount, d_days, n_days, 365)
    out["break_even_discount"] = break_even_discount(cost_of_capital, d_days, n_days, year_days)
    out["cheaper_than_capital"] = early_payment_discount_cost(discount, d_days, n_days, year_days) < cost_of_capital
    return out


# --------------------------------------------------------------------------------------------- the ledger
def _habits(invoices: pd.DataFrame, as_of, months) -> pd.DataFrame:
    """:func:`payment_habits` plus ``paid_amount`` (the weight of the paid invoices' means)."""
    months = whole_number(months, "months", "months")
    book = invoice_ledger(invoices, as_of)
    start = day_number(add_months(as_timestamp([book.as_of])[0], -months), "as_of")
    window = (book.amount > 0) & (book.issue > start)
    paid = window & book.is_paid
    n = book.customer_ids.size
    customer, amount, terms = book.customer, book.amount, (book.due - book.issue).astype(float)

    def total(mask, weights=None):
        w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
        return np.bincount(customer, weights=w, minlength=n)

    sales = total(window, amount)
    received = total(paid, book.paid)
    first = np.full(n, book.as_of)
    np.minimum.at(first, customer[book.amount > 0], book.issue[book.amount > 0])
    buying = np.clip((book.as_of - first) / (365 / 12), 1, months)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "customer_id": book.customer_ids,
            "sales_12m": sales,
            "months_buying": buying,
            "monthly_sales": sales / buying,
            "terms_days": total(window, amount * terms) / sales,
            "days_to_pay": total(paid, book.paid * (book.pay - book.issue)) / received,
            "delay_days": total(paid, book.paid * (book.pay - book.due)) / received,
            "paid_invoices": total(paid).astype(np.int64),
            "paid_amount": received,
        })
    out = out[total(window) > 0]
    return out.sort_values("sales_12m", ascending=False, kind="stable").reset_index(drop=True)


def payment_habits(invoices: pd.DataFrame, as_of, *, months: int = 12) -> pd.DataFrame:
    """Per customer: sales, payment terms and time to pay over the sales invoices of the last ``months``.

    The window holds the sales invoices (``amount > 0``) issued in the ``months`` months up to ``as_of``; the
    paid ones are those with a payment dated on or before ``as_of`` (even partial, weighted by the amount
    received, as in :mod:`portfolio_kit.payments.ledger`). Recent invoices still open are not paid yet: the
    days to pay of a short window lean towards the prompt payments.

    Returns
    -------
    DataFrame
        ``customer_id``, ``sales_12m`` (sales invoiced in the window, paid or not), ``months_buying`` (months
        of the window since the customer's first sales invoice, at least 1), ``monthly_sales`` (``sales_12m /
        months_buying``: a customer new in the window buys at its own rate, not a twelfth), ``terms_days``
        (amount-weighted mean of ``due_date - issue_date``), ``days_to_pay`` (weighted mean of
        ``paid_date - issue_date`` over the paid invoices), ``delay_days`` (``days_to_pay`` minus the terms of
        those same invoices: days beyond terms, negative when early), ``paid_invoices``. Customers with sales
        in the window, largest first; without a paid invoice, ``days_to_pay`` and ``delay_days`` are ``NaN``.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C1"], "amount": [100.0, 300.0],
    ...                     "issue_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...                     "due_date": pd.to_datetime(["2024-01-31", "2024-04-01"]),
    ...                     "paid_date": pd.to_datetime(["2024-02-10", pd.NaT])})
    >>> payment_habits(inv, "2024-06-30").iloc[0].to_dict()
    {'customer_id': 'C1', 'sales_12m': 400.0, 'months_buying': 5.95..., 'monthly_sales': 67.2..., \
'terms_days': 52.5, 'days_to_pay': 40.0, 'delay_days': 10.0, 'paid_invoices': 1}
    """
    return _habits(invoices, as_of, months).drop(columns="paid_amount")


class TermsWhatIf(NamedTuple):
    """The result of :func:`terms_what_if`: one row per customer, and the totals (per group)."""

    per_customer: pd.DataFrame
    summary: pd.DataFrame


def terms_what_if(invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of, new_terms_days: float, *,
                  by: str | None = None, segment=None, mode: str = "cap", months: int = 12,
                  cost_of_capital: float = 0.08, year_days: float = 365) -> TermsWhatIf:
    """The cash that new payment terms would release, customer by customer.

    The customers changed are those of ``segment`` (a value of the ``by`` column of ``customers``; ``None``:
    everyone). Their new terms are ``min(current, new_terms_days)`` with ``mode="cap"`` (only longer terms
    are shortened: 90 -> 60 days) or ``new_terms_days`` with ``mode="set"`` (longer or shorter). A changed
    customer is expected to keep its habits: new days to pay = new terms + its delay beyond terms as observed
    (:func:`payment_habits`, never below 0); the others keep their days to pay. A customer without a paid
    invoice in the window takes the delay of its group (``by``; everyone without it), the mean over the
    group's paid invoices weighted by the amounts received, and pays now at terms + that delay.

    The receivables are those of steady sales: ``sales_12m / year_days x days to pay``, now and with the new
    terms; ``cash_released = receivables_now - receivables_new`` (negative when terms get longer) and
    ``carrying_cost_saved = cash_released x cost_of_capital`` a year.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    customers : DataFrame or None
        Canonical customers; needed with ``by`` (customers without a value fall in ``"(unknown)"``).
    as_of : date-like
        End of the window of ``months`` months of sales.
    new_terms_days : float
        The new terms in days after the invoice date.
    by : str, optional
        A column of ``customers`` (a segment, ``"sector"`` ...): the groups of the summary and of the delays.
    segment : optional
        The ``by`` value of the customers to change; ``None``: every customer.
    mode : {"cap", "set"}
        See above.
    months : int
        Months of sales and payments observed.
    cost_of_capital : float
        Yearly cost of financing the receivables, as a fraction.
    year_days : float
        Days in a year of sales.

    Returns
    -------
    TermsWhatIf
        ``per_customer``: ``customer_id``, ``[by,]`` ``sales_12m``, ``terms_days``, ``days_to_pay`` (now),
        ``delay_days``, ``delay_source`` (``"own"`` or ``"group"``), ``changed``, ``new_terms_days``,
        ``new_days_to_pay``, ``receivables_now``, ``receivables_new``, ``cash_released``,
        ``carrying_cost_saved``, largest cash released first. ``summary``: ``[by,]`` ``customers``, ``changed``,
        ``sales_12m``, ``dso_now``, ``dso_new`` (sales-weighted days to pay), ``cash_released``,
        ``carrying_cost_saved``: one row, or with ``by`` one per group and a last row ``"(all)"``.

    Examples
    --------
    >>> result = terms_what_if(invoices, customers, "2024-12-31", 60, by="sector", segment="Retail")  # doctest: +SKIP
    >>> result.summary                                                                                 # doctest: +SKIP
    """
    if mode not in TERMS_MODES:
        raise ValueError(f"mode: expected one of {list(TERMS_MODES)}, got {mode!r}")
    new_terms = float(new_terms_days)
    if not np.isfinite(new_terms) or new_terms < 0:
        raise ValueError(f"new_terms_days: expected days >= 0, got {new_terms_days!r}")
    cost = float(cost_of_capital)
    if not np.isfinite(cost) or cost < 0:
        raise ValueError(f"cost_of_capital: expected a yearly rate >= 0 as a fraction, got {cost_of_capital!r}")
    year = float(year_days)
    if not np.isfinite(year) or year <= 0:
        raise ValueError(f"year_days: expected a positive number of days, got {year_days!r}")
    if by == "customer_id":
        raise ValueError("by: expected a column of customers that groups them (a segment, 'sector' ...), "
                         "not 'customer_id'")
    if segment is not None and by is None:
        raise ValueError(f"segment={segment!r}: pass by=, the column of customers that holds it")
    table = _habits(invoices, as_of, months)
    group = by or "_group"
    if by is None:
        table[group] = ALL_GROUPS
    else:
        table = with_segment(table, customers, by)
        table[by] = table[by].astype(str)
    if segment is None:
        chosen = np.ones(len(table), dtype=bool)
    else:
        known = set(table[by])
        if customers is not None and by in customers.columns:
            known |= set(customers[by].dropna().astype(str))
        if str(segment) not in known:
            raise ValueError(f"segment: {segment!r} is not a value of {by!r}; known: {sorted(known)}")
        chosen = (table[by] == str(segment)).to_numpy()

    has_paid = (table["paid_invoices"] > 0).to_numpy()
    weighted = table["delay_days"].fillna(0.0) * table["paid_amount"]
    sums = pd.DataFrame({"w": weighted, "a": table["paid_amount"], group: table[group]}).groupby(group).sum()
    overall = weighted.sum() / table["paid_amount"].sum() if table["paid_amount"].sum() > 0 else np.nan
    group_delay = (sums["w"] / sums["a"].where(sums["a"] > 0)).reindex(table[group]).to_numpy()
    if np.isnan(overall) and (~has_paid).any():
        logger.info("terms_what_if: no paid invoice in the window; customers are assumed to pay at terms")
        overall = 0.0
    group_delay = np.where(np.isnan(group_delay), overall, group_delay)
    delay = np.where(has_paid, table["delay_days"].to_numpy(), group_delay)
    terms = table["terms_days"].to_numpy()
    days_now = np.where(has_paid, table["days_to_pay"].to_numpy(), np.maximum(terms + delay, 0.0))
    proposed = np.minimum(terms, new_terms) if mode == "cap" else np.full(len(table), new_terms)
    changed = chosen & (np.abs(proposed - terms) > 1e-9)
    terms_new = np.where(changed, proposed, terms)
    days_new = np.where(changed, np.maximum(days_now + terms_new - terms, 0.0), days_now)  # moves with the terms
    sales = table["sales_12m"].to_numpy()
    out = table[["customer_id"] + ([by] if by else []) + ["sales_12m", "terms_days"]].copy()
    out["days_to_pay"] = days_now
    out["delay_days"] = delay
    out["delay_source"] = np.where(has_paid, "own", "group")
    out["changed"] = changed
    out["new_terms_days"] = terms_new
    out["new_days_to_pay"] = days_new
    out["receivables_now"] = sales / year * days_now
    out["receivables_new"] = sales / year * days_new
    out["cash_released"] = out["receivables_now"] - out["receivables_new"]
    out["carrying_cost_saved"] = out["cash_released"] * cost
    out = out.sort_values("cash_released", ascending=False, kind="stable").reset_index(drop=True)

    def summarise(frame: pd.DataFrame) -> dict:
        total_sales = frame["sales_12m"].sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            now = frame["receivables_now"].sum() / total_sales * year if total_sales > 0 else np.nan
            new = frame["receivables_new"].sum() / total_sales * year if total_sales > 0 else np.nan
        return {"customers": len(frame), "changed": int(frame["changed"].sum()), "sales_12m": total_sales,
                "dso_now": now, "dso_new": new, "cash_released": frame["cash_released"].sum(),
                "carrying_cost_saved": frame["carrying_cost_saved"].sum()}

    if by is None:
        summary = pd.DataFrame([summarise(out)])
    else:
        rows = [{by: name, **summarise(frame)} for name, frame in out.groupby(by, sort=True)]
        summary = pd.DataFrame(rows + [{by: ALL_GROUPS, **summarise(out)}])
    return TermsWhatIf(out, summary)
