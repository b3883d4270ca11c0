"""The sample client: a synthetic B2B customer portfolio with a recorded truth.

``generate_sample`` draws a client's four canonical tables (:mod:`portfolio_kit.data.schemas`) from the model
below; ``write_sample`` writes them the way a real client would send them (Italian CSV exports plus a
``portfolio.yaml``) together with ``truth.json``, the exact generating parameters and planted changes, so
tests can check that every analysis recovers what was planted. Same seed, same client, bit for bit. Every
step is vectorised numpy: a million customers take well under a minute.

Generating model
----------------
Time runs over ``[start, as_of]``, ``start = as_of - round(365.25 * years)`` days; model time is in weeks.

**Customers.** ``customer_id`` ``C000001`` ... (zero padded, at least 6 digits). ``customer_type`` B2B
(85%) / B2C (15%: sole traders and professionals, named "Surname Name", always ``size_class`` Micro,
30-day terms, their own sole officer, no share capital). For B2B, independently: ``size_class`` Micro 30%,
Small 38%, Medium 22%, Large 10%; ``sector`` Manufacturing 28%, Retail 18%, Construction 15%, Food &
Beverage 14%, Services 15%, Healthcare 10%; ``region`` (both types) Nord-Ovest 32%, Nord-Est 25%, Centro 20%,
Sud 15%, Isole 8%; ``channel`` Direct/Distributor/E-commerce 50/35/15% (B2C 30/0/70%);
``payment_terms_days`` 30/60/90 with probabilities Micro 55/35/10, Small 40/45/15, Medium 25/50/25,
Large 10/50/40 %. ``since`` (the first purchase) = ``start + floor(D x)`` with ``D`` the days in the
window and ``x`` drawn from the density ``f(x) = (1 - 0.6 x) / 0.7`` on [0, 1] (more acquisitions early, a
steady trickle of new customers until ``as_of``). ``credit_limit`` (the company's own) = 13 weeks of the
customer's expected spend ``lambda p / nu`` times LogNormal(0, 0.5), rounded up to 1,000 (at least 1,000).
``account_manager`` (the client's ``Agente``) is one of 8 names, uniform.

**Segments** are the size classes (``truth["segment_of"] == "size_class"``):

=========  =====  =====  ====  ====  ===  ===  ======  =================================
segment    r      alpha  a     b     p    q    gamma   mean spend per purchase (EUR)
=========  =====  =====  ====  ====  ===  ===  ======  =================================
Micro      0.45    6     0.9   2.5   4    3.0  150     300
Small      0.60    5     0.8   3.0   5    3.5  500     1,000
Medium     0.80    4     0.7   4.0   6    4.0  1,500   3,000
Large      1.20    3     0.5   5.0   8    4.5  3,500   8,000
=========  =====  =====  ====  ====  ===  ===  ======  =================================

**Purchases: BG/NBD, exactly.** Per customer ``lambda ~ Gamma(shape r, rate alpha)`` (purchases per week)
and ``p ~ Beta(a, b)``. The first purchase is at ``since`` (t = 0); repeat purchases follow a Poisson
process of rate ``lambda``; right after each *repeat* purchase the customer drops out with probability
``p``, so the number of repeat purchases before dropping out is ``J ~ Geometric(p)`` on {1, 2, ...}. Over
the customer's window ``(0, T]`` (``T`` = weeks from ``since`` to ``as_of``) draw ``N ~ Poisson(lambda T)``.
If ``N < J`` the customer is alive at ``as_of`` and the ``N`` repeat purchases are uniform on ``(0, T)``.
Otherwise the customer dropped out at the ``J``-th event, the ``J``-th of ``N`` uniform order statistics:
``t_J = T Beta(J, N - J + 1)``, and the other ``J - 1`` purchases are uniform on ``(0, t_J)``. Purchase
dates are ``since + floor(7 t)`` days (several purchases on one day are separate transactions).

**Spend: Gamma-Gamma.** Per customer ``nu ~ Gamma(shape q, rate gamma)``; every purchase amount
``~ Gamma(shape p, rate nu)``, rounded to cents (at least 0.01), independent of the purchase times.
``margin = amount x rate``, ``rate = sector rate + line offset + Normal(0, 0.03)`` clipped to [-0.10, 0.90];
sector rates Manufacturing 0.22, Retail 0.15, Construction 0.18, Food & Beverage 0.12, Services 0.35,
Healthcare 0.28; line offsets Components 0, Spare parts +0.10, Consumables -0.04, Equipment -0.08, Services
+0.12, Tools 0, Safety gear +0.03, Software +0.15. ``channel`` is the customer's.

**Products.** Eight lines: Components, Spare parts, Consumables, Equipment, Services, Tools, Safety gear,
Software. Each customer buys from a basket of lines drawn once: every line independently with probability
0.15, except the line typical of its sector (Manufacturing: Components, Construction: Safety gear,
Healthcare and Food & Beverage: Consumables, Retail: Tools; Services none) with probability 0.85; then two
planted pairs, Equipment with Spare parts and Software with Services: when one line of a pair is in the
basket the other joins with probability 0.85; an empty basket gets one line, uniform. One basket line is the
customer's main line (uniform); each purchase is the main line with probability 0.4, else uniform over the
basket (so a customer reveals its basket as it buys). The baskets are in ``truth_customers.csv``
(``basket``, lines joined by "; "), the structure in ``truth["products"]``: the planted pairs have the
highest lifts, and the sector lines leave white space (customers of the sector who do not buy its line).

**Returns.** Each purchase is followed, with probability 0.02, by a return ``3-28`` days later (uniform
integer; dropped if after ``as_of``) of the whole amount (probability 0.5) or of a fraction U(0.2, 0.9):
a negative transaction (amount and margin scaled by the same fraction) and a credit note.

**Invoices.** One per purchase or return: ``F<year>-<nnnnnn>`` for sales, ``NC<year>-<nnnnnn>`` for credit
notes, numbered in date order within the year; the transaction row carries it in ``Rif. Fattura``. With
``lines_per_invoice = m > 1`` (a retail-like client) each invoice is split into ``1 + Poisson(m - 1)``
transaction lines: amounts and margins shared by Gamma(1) weights, rounded to cents with the last line
taking the rounding rest (the lines add up to the invoice exactly), the first line keeping the purchase's
product and the others drawn as above; with ``m = 1`` (default) one line per invoice, as in the sample.
``issue_date`` = transaction date, ``due_date = issue_date + payment_terms_days``, ``amount`` = transaction
amount. Credit notes are settled on issue (``paid_date = issue_date``). For a sale, severe lateness
(``days_late > 30``) has probability ``logistic(eta)`` with ::

    eta = -2.0 + b_size[size_class] + b_sector[sector] + 0.3 (payment_terms_days - 60) / 30
          + u_customer + 3.0 chronic + 2.5 deteriorating * clip((issue - (as_of - 365 d)) / 365 d, 0, 1)

``b_size``: Micro 0 (reference), Small -0.2, Medium -0.5, Large -0.8; ``b_sector``: Manufacturing 0
(reference), Retail 0.3, Construction 0.9, Food & Beverage 0.2, Services -0.3, Healthcare 0.6;
``u_customer ~ Normal(0, 0.8)``; ``chronic`` marks 0.5% of customers (chronically late) and
``deteriorating`` another 2% whose payments worsen over the last year (lists in ``truth.json``). Given not
late, ``days_late = clip(round(Normal(2, 6)), -20, 30)``; given late, ``days_late = 31 +
floor(Exponential(mean 30))``. ``paid_date = due_date + days_late``; when it falls after ``as_of`` the
invoice is open (``paid_date`` and ``paid_amount`` empty). 3% of paid sales are paid in part (not those of
the customers far below need and of the situations, below):
``paid_amount = amount x U(0.3, 0.95)`` (cents), otherwise ``paid_amount = amount``. Extra column ``Note``:
"Nota di credito", "Pagamento parziale", or "Sollecito inviato" (open and more than 30 days past due).

**Snapshots** at the last day of the month before ``as_of`` and at ``as_of``, one row per customer covered.
A latent risk ``z = sqrt(0.5) u / 0.8 + sqrt(0.5) e + shift[size]`` (``e ~ Normal(0, 1)``, shift Micro
0.2, Small 0, Medium -0.1, Large -0.3) is cut into ``rating`` AAA, AA, A, BBB, BB, B, CCC, CC, C, D (best
first) at the standard-normal quantiles of 3, 10, 25, 50, 70, 84, 92, 96, 98.5 %. Scores run 1-100, higher
= riskier: ``failure_score = clip(round(50 + 15 z + Normal(0, 6)), 1, 100)``, ``delinquency_score =
clip(round(50 + 12 u / 0.8 + 8 z + Normal(0, 6)), 1, 100)``. ``credit_limit`` (the provider's) =
base[size] (5k, 20k, 80k, 300k) x factor[rating] (1.5 for AAA down to 0 for D) x LogNormal(0, 0.3),
floored to 100. ``officers``: 1-3 names joined by "; " (B2C: the owner). ``legal_form`` (extra column) and
``share_capital`` (one of four amounts per legal form). Two more extra columns a business-information provider
adds: ``esg_score`` = ``clip(round(60 - 8 z + Normal(0, 12), 1), 0, 100)``, the same in both snapshots, and
``legal_event``, text, empty for most; 8 customers in both snapshots (defaulted ones and ratings CCC or
worse preferred) have an event in both ("protest", "insolvency proceedings" or "seizure", uniform; listed in
``truth["legal_events_existing"]``). The second snapshot equals the first except for planted changes on
distinct customers, scaled by ``n_customers / 2000``: 30 rating downgrades (1, 2, 3 notches with probability
0.6, 0.3, 0.1, capped at D), 10 upgrades (1 notch), 20 failure-score and 20 delinquency-score moves of 11-30
points, 20 provider credit-limit cuts to 40-80% (of limits >= 1,000), 10 officer changes at companies (one
appointed, or the last one resigns), 10 share-capital changes (x0.5, x2 or x5), the 10 rating falls of the
``valuable_rating_fall`` situation (below), 10 ESG drops of 15-30 points (scores >= 31) and 8 new legal
events (customers without one, ratings BB or worse preferred; one of the three values); 20 customers are
added (absent from the first; those acquired after the first snapshot preferred) and 15 removed (absent from
the second; customers who dropped out preferred). Every change is listed in ``truth["planted_changes"]`` as
``{customer_id, field, before, after}`` (no event: ``None``); one change per customer. The sample's config
has alert rules that catch the ESG drops and the new legal events (``field_drop`` on ``esg_score``,
``flag_set`` on ``legal_event``).

The plants below have random streams of their own and act on the history drawn above: customers not chosen
keep their rows, payments and limits; the chosen ones lose rows or payments after the fact, so invoice
numbers are given to the rows that remain. "Spend" is a customer's total sales of that history; unless said
otherwise the plants choose customers in both snapshots with no planted snapshot change, not chronically
late, deteriorating or defaulted, each customer in one plant at most.

**Defaults** (for expected credit losses): every customer gets a default day drawn uniformly from 30 days
after the first purchase to 400 days before ``as_of`` (for 20%: to 30 days before ``as_of``); 2.5% of
customers default on theirs, among those the default would cost at most one purchase (customers winding
down by then, so the purchase history stays BG/NBD), not chronically late or deteriorating, customers for
at least 60 days before the 400-day cut, the 10% with the worst payment propensity ``u`` preferred. The day
is moved back to 0-60 days after their last purchase when that was 90 days or more earlier. They buy
nothing after the default day and their sales issued in the 90 days up to it are never paid (open, no
``paid_date``, ``paid_amount``), so some invoices are open more than a year past due.
``truth["defaults"]``: customers, default dates, unpaid invoices and amount; :attr:`SampleClient.latent`
has their ``default_date``, and they are no longer alive (dropped out at their last purchase).

**Credit limits far from need** (the company's ``credit_limit``; ``need`` = 13 weeks of expected spend, the
rule above without its noise): up to 10 steady customers paying on time (alive, a purchase in the last 90 days and
6+ in the last 365, customers for a year or more, rating BBB or better, propensity < 0.5, no sale more than
30 days late in the last 365 days, need >= 10,000, >= 20,000 preferred; chosen before the situations below;
none of their sales paid in part) get ``0.15 x need`` and 10 other active customers (a purchase in the last 90
days, 4+ in the last 365) ``8 x need``, both rounded up to 1,000 (at least 1,000): ``truth["credit_limits"]``
``far_below_need``, ``far_above_need``, each one's ``need``.

**Situations** calling for an action on one customer (``truth["situations"]``, lists of 10 customer ids per
2,000, chosen in this order, after the customers far below need, those far above right after the growers; rules
in ``truth["situation_details"]``). A customer's *value* here is its margin of the last 365 days, ranked among
the customers with a positive one (``value >= q85``: in the top 15% of those). Two payment habits are planted on
the sales due in the 365 days up to ``as_of`` or later, and on any open at ``as_of`` (the *payment year*, what a
payment behaviour is read from; older sales keep their payment day): the *prompt payers* pay the same 1-10 days
(drawn per customer) before due, the *late payers* ``31 + floor(Exponential(60))`` days after due (open when
that is after ``as_of``). Neither pays any sale in part.

=========================  ===================================================================================
healthy_growers            spend in the top decile, value >= q85, rating BBB or better, customers for 730+ days,
                           alive with a purchase in the last 90 days, 4+ in the last 365 and 1+ in the year
                           before (customers with no sale of the payment year paid more than 30 days late
                           preferred); the purchases of that year before are thinned (with their returns) to at
                           most 1 / 1.5 of the last year's; prompt payers, and the credit limit is raised to at
                           least twice the open amount at ``as_of`` (rounded up to 1,000)
valuable_stopped_buying    top spend decile (top 5% preferred), alive, 12+ purchases in the 365 days up to 150
                           days before ``as_of``, a margin of q80 or more in the days 241-364 before ``as_of``
                           (theirs whatever the stop): the last purchase is one of theirs 150-240 days before
                           ``as_of``, at random (``stop_dates``), nothing after it; prompt payers; no longer
                           alive
valuable_rating_fall       top spend decile, value >= q85, alive with a purchase in the last 90 days; rating
                           down 2 (70%) or 3 notches in the second snapshot (planted changes)
low_value_over_limit       value <= q40, alive with a purchase in the last 90 days, 250+ open at ``as_of`` once
                           paid late, no sale due in the 30 days up to ``as_of`` and one due 31-364 days before
                           it (so every sale their payment index scores is 31+ days late), payment propensity
                           > 0.5 preferred: late payers, and the credit limit is 40% of the open amount at
                           ``as_of`` rounded down to 100 (at least 100)
chronic_late_payers        value < q70, alive with a purchase in the last 90 days and 3+ in the last 365, 25%+
                           of the amount open at ``as_of`` once paid late more than 60 days past due, payment
                           propensity > 0.5 preferred: late payers, and the credit limit is raised to at least
                           twice the open amount at ``as_of`` (rounded up to 1,000)
=========================  ===================================================================================

The late-payer draws are made for every sale before the choice, so the last two are chosen on what the draws
leave open. ``chronic_late_payers`` is not the payment model's chronically late customers
(``truth["payment_model"]["chronic_late_customers"]``, latent ``chronic_late``), most of whom have stopped
buying and owe nothing.

Per-customer latent values (``lambda``, ``p``, ``nu``, alive at ``as_of``, payment propensity, ...) are in
:attr:`SampleClient.latent` and ``truth_customers.csv``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from scipy.special import expit
from scipy.stats import norm

__all__ = [
    "SampleClient",
    "SEGMENTS",
    "generate_sample",
    "simulate_bgnbd",
    "write_sample",
    "make_sample",
]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------
# The model's constants (copied into truth.json; never mutated).
# --------------------------------------------------------------------------------------------------------
SIZES = ("Micro", "Small", "Medium", "Large")
#: Generating parameters per segment (size class): BG/NBD (weeks) and Gamma-Gamma (EUR).
SEGMENTS: dict[str, dict[str, dict[str, float]]] = {
    "Micro": {"bgnbd": {"r": 0.45, "alpha": 6.0, "a": 0.9, "b": 2.5},
              "gamma_gamma": {"p": 4.0, "q": 3.0, "gamma": 150.0}},
    "Small": {"bgnbd": {"r": 0.60, "alpha": 5.0, "a": 0.8, "b": 3.0},
              "gamma_gamma": {"p": 5.0, "q": 3.5, "gamma": 500.0}},
    "Medium": {"bgnbd": {"r": 0.80, "alpha": 4.0, "a": 0.7, "b": 4.0},
               "gamma_gamma": {"p": 6.0, "q": 4.0, "gamma": 1500.0}},
    "Large": {"bgnbd": {"r": 1.20, "alpha": 3.0, "a": 0.5, "b": 5.0},
              "gamma_gamma": {"p": 8.0, "q": 4.5, "gamma": 3500.0}},
}
MIX = {
    "customer_type": {"B2B": 0.85, "B2C": 0.15},
    "size_class_b2b": dict(zip(SIZES, (0.30, 0.38, 0.22, 0.10))),
    "sector": {"Manufacturing": 0.28, "Retail": 0.18, "Construction": 0.15, "Food & Beverage": 0.14,
               "Services": 0.15, "Healthcare": 0.10},
    "region": {"Nord-Ovest": 0.32, "Nord-Est": 0.25, "Centro": 0.20, "Sud": 0.15, "Isole": 0.08},
    "channel": {"B2B": {"Direct": 0.50, "Distributor": 0.35, "E-commerce": 0.15},
                "B2C": {"Direct": 0.30, "Distributor": 0.0, "E-commerce": 0.70}},
    "payment_terms_days": {"Micro": {30: 0.55, 60: 0.35, 90: 0.10}, "Small": {30: 0.40, 60: 0.45, 90: 0.15},
                           "Medium": {30: 0.25, 60: 0.50, 90: 0.25}, "Large": {30: 0.10, 60: 0.50, 90: 0.40},
                           "B2C": {30: 1.0}},
    "acquisition": {"density": "(1 - slope x) / (1 - slope / 2) on [0, 1] of the window", "slope": 0.6},
    "credit_limit": {"weeks_of_expected_spend": 13, "lognormal_sigma": 0.5, "round_up_to": 1000,
                     "minimum": 1000},
    "agents": ["Marco Galli", "Chiara Fontana", "Luca Moretti", "Sara Longo", "Paolo Gatti",
               "Elena Ferri", "Davide Riva", "Giulia Testa"],
}
MARGIN = {"rate_by_sector": {"Manufacturing": 0.22, "Retail": 0.15, "Construction": 0.18,
                             "Food & Beverage": 0.12, "Services": 0.35, "Healthcare": 0.28},
          "noise_sd": 0.03, "clip": [-0.10, 0.90]}
PRODUCTS = {"lines": ["Components", "Spare parts", "Consumables", "Equipment", "Services", "Tools", "Safety gear",
                      "Software"],
            "base_adoption": 0.15,
            "sector_lines": {"Manufacturing": "Components", "Construction": "Safety gear",
                             "Healthcare": "Consumables", "Food & Beverage": "Consumables", "Retail": "Tools"},
            "sector_adoption": 0.85,
            "pairs": [["Equipment", "Spare parts"], ["Software", "Services"]],
            "pair_adoption": 0.85,
            "main_line_probability": 0.4,
            "margin_offset": {"Components": 0.0, "Spare parts": 0.10, "Consumables": -0.04, "Equipment": -0.08,
                              "Services": 0.12, "Tools": 0.0, "Safety gear": 0.03, "Software": 0.15}}
RETURNS = {"share": 0.02, "delay_days": [3, 28], "full_return_probability": 0.5,
           "partial_fraction": [0.2, 0.9]}
PAYMENT = {
    "target": "days_late > 30 (paid more than 30 days after due_date); sales only",
    "link": "logit",
    "intercept": -2.0,
    "reference_levels": {"size_class": "Micro", "sector": "Manufacturing", "payment_terms_days": 60},
    "coefficients": {
        "size_class": {"Micro": 0.0, "Small": -0.2, "Medium": -0.5, "Large": -0.8},
        "sector": {"Manufacturing": 0.0, "Retail": 0.3, "Construction": 0.9, "Food & Beverage": 0.2,
                   "Services": -0.3, "Healthcare": 0.6},
        "payment_terms_per_30_days": 0.3,
        "chronic_late": 3.0,
        "deterioration_at_as_of": 2.5,
    },
    "random_effect_sd": 0.8,
    "chronic_late_share": 0.005,
    "deteriorating_share": 0.02,
    "deterioration_window_days": 365,
    "delay_given_not_late": {"distribution": "round(Normal(mean, sd)) clipped", "mean": 2.0, "sd": 6.0,
                             "clip": [-20, 30]},
    "delay_given_late": {"distribution": "31 + floor(Exponential(mean))", "mean": 30.0},
    "partial_payment_share": 0.03,
    "partial_fraction": [0.3, 0.95],
    "credit_notes": "settled on issue: paid_date = issue_date, paid_amount = amount",
}
RATING_SCALE = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
SNAPSHOT_MODEL = {
    "risk": "z = sqrt(0.5) * u / random_effect_sd + sqrt(0.5) * Normal(0, 1) + size_shift[size_class]",
    "size_shift": {"Micro": 0.2, "Small": 0.0, "Medium": -0.1, "Large": -0.3},
    "rating_cut_quantiles": [0.03, 0.10, 0.25, 0.50, 0.70, 0.84, 0.92, 0.96, 0.985],
    "score_direction": "1-100, higher = riskier",
    "failure_score": "clip(round(50 + 15 z + Normal(0, 6)), 1, 100)",
    "delinquency_score": "clip(round(50 + 12 u / random_effect_sd + 8 z + Normal(0, 6)), 1, 100)",
    "credit_limit_base": dict(zip(SIZES, (5000.0, 20000.0, 80000.0, 300000.0))),
    "credit_limit_rating_factor": dict(zip(RATING_SCALE, (1.5, 1.3, 1.1, 1.0, 0.8, 0.6, 0.4, 0.25, 0.1, 0.0))),
    "credit_limit_noise": "LogNormal(0, 0.3), floored to 100",
    "officers_count": {"1": 0.5, "2": 0.35, "3": 0.15},
    "legal_form_by_size": {
        "Micro": {"S.r.l.": 0.55, "S.p.A.": 0.0, "S.n.c.": 0.2, "S.a.s.": 0.2, "Società Cooperativa": 0.05},
        "Small": {"S.r.l.": 0.75, "S.p.A.": 0.03, "S.n.c.": 0.08, "S.a.s.": 0.08, "Società Cooperativa": 0.06},
        "Medium": {"S.r.l.": 0.70, "S.p.A.": 0.20, "S.n.c.": 0.0, "S.a.s.": 0.02, "Società Cooperativa": 0.08},
        "Large": {"S.r.l.": 0.30, "S.p.A.": 0.65, "S.n.c.": 0.0, "S.a.s.": 0.0, "Società Cooperativa": 0.05},
    },
    "share_capital_options": {"S.r.l.": [10000, 20000, 50000, 100000],
                              "S.p.A.": [120000, 500000, 1000000, 5000000],
                              "S.n.c.": [5000, 10000, 20000, 30000], "S.a.s.": [5000, 10000, 20000, 30000],
                              "Società Cooperativa": [2500, 10000, 25000, 50000],
                              "Ditta individuale": [0, 0, 0, 0]},
}
#: Planted snapshot changes per 2,000 customers (scaled with ``n_customers``).
PLANTED = {"downgrades": 30, "upgrades": 10, "failure_score": 20, "delinquency_score": 20,
           "credit_limit_cuts": 20, "officers": 10, "share_capital": 10, "esg_drops": 10, "legal_events": 8,
           "added": 20, "removed": 15}
DOWNGRADE_NOTCHES = {"1": 0.6, "2": 0.3, "3": 0.1}
#: The provider's extra snapshot fields: an ESG score and legal events (empty for most customers).
PROVIDER_FIELDS = {
    "esg_score": "clip(round(60 - 8 z + Normal(0, 12), 1), 0, 100), the same in both snapshots",
    "esg_drop_points": [15.0, 30.0],
    "legal_event_values": ["protest", "insolvency proceedings", "seizure"],
    "existing_legal_events": 8,
}
#: Defaulted customers (expected-credit-loss analysis).
DEFAULTS = {"share": 0.025, "preferred": "the 10% of customers with the worst payment propensity",
            "min_days_before_as_of": 400, "later_share": 0.2, "later_min_days_before_as_of": 30,
            "unpaid_window_days": 90, "max_days_after_last_purchase": 60, "max_purchases_lost": 1}
#: Company credit limits far from the need (the master's ``credit_limit``): factor x 13 weeks of expected spend.
CREDIT_LIMIT_PLANTS = {"far_below_need": {"customers": 10, "factor": 0.15},
                       "far_above_need": {"customers": 10, "factor": 8.0}}
#: How the planted late payers (``low_value_over_limit``, ``chronic_late_payers``) pay: every sale
#: ``31 + floor(Exponential(mean))`` days after due.
LATE_PAYERS = {"days_late": "31 + floor(Exponential(mean))", "mean": 60.0}
#: Situations calling for an action on one customer, customers per 2,000.
SITUATIONS = {"valuable_rating_fall": 10, "valuable_stopped_buying": 10, "low_value_over_limit": 10,
              "chronic_late_payers": 10, "healthy_growers": 10}
_DEFAULT_RULE = ("a default day is drawn for every customer uniformly from 30 days after the first purchase to 400 "
                 "days before as_of (for 20%: to 30 days before as_of); 2.5% of customers default, among those it "
                 "would cost at most one purchase (winding down by then), not chronically late or deteriorating and "
                 "customers for 60+ days before the 400-day cut, the 10% with the worst payment propensity "
                 "preferred; the day moves back to 0-60 days after their last purchase when that was 90+ days "
                 "earlier; no purchase after the default day, and their sales issued in the 90 days up to it are "
                 "never paid")
_CREDIT_LIMIT_RULE = ("need = 13 weeks of expected spend (lambda p / nu, the credit-limit rule without its noise); "
                      "limit = factor x need rounded up to 1,000 (at least 1,000). far_below_need: steady customers "
                      "paying on time (alive, a purchase in the last 90 days and 6+ in the last 365, customers for a "
                      "year or more, rating BBB or better, payment propensity < 0.5, no sale more than 30 days late "
                      "in the last 365 days; none of their sales paid in part) needing 10,000 or more (20,000 "
                      "preferred), so that the rounding keeps the limit within 0.15-0.23 x need; far_above_need: "
                      "other active customers (alive, a purchase in the last 90 days, 4+ in the last 365)")
_SITUATION_RULES = {
    "value": "margin of the last 365 days; qNN: its NN-th percentile over the customers with a positive one",
    "payments": "the plants' sales due in the 365 days up to as_of or later, and any open at as_of, are paid "
                "anew (the older ones keep their day); none of their sales is paid in part",
    "prompt_payers": "valuable_stopped_buying and healthy_growers pay the same 1-10 days (drawn per customer) "
                     "before due",
    "late_payers": "low_value_over_limit and chronic_late_payers pay 31 + floor(Exponential(60)) days after due "
                   "(open at as_of when later), drawn for every sale before the choice",
    "valuable_rating_fall": "top spend decile (total sales), value >= q85, alive with a purchase in the last 90 days; "
                            "rating down 2 (70%) or 3 notches in the second snapshot (a planted change)",
    "valuable_stopped_buying": "top spend decile (top 5% preferred), alive, 12+ purchases in the 365 days up to 150 "
                               "days before as_of, margin of the days 241-364 before as_of >= q80; the last purchase "
                               "is one of theirs 150-240 days before as_of, drawn at random (stop_dates), nothing "
                               "after it; prompt payers",
    "low_value_over_limit": "value <= q40, alive with a purchase in the last 90 days, 250+ open at as_of once paid "
                            "late, no sale due in the 30 days up to as_of and one due 31-364 days before it, "
                            "payment propensity > 0.5 preferred; late payers, credit limit 40% of the open amount "
                            "at as_of rounded down to 100 (at least 100)",
    "chronic_late_payers": "value < q70, alive with a purchase in the last 90 days and 3+ in the last 365, 25%+ of "
                           "the amount open at as_of once paid late more than 60 days past due, payment propensity "
                           "> 0.5 preferred; late payers, credit limit raised to at least 2x the open amount at "
                           "as_of (rounded up to 1,000); not payment_model.chronic_late_customers",
    "healthy_growers": "top spend decile, value >= q85, rating BBB or better, customers for 730+ days, alive with "
                       "a purchase in the last 90 days, 4+ in the last 365 and 1+ in the year before (no sale due "
                       "in the last 365 days paid more than 30 days late preferred), whose purchases are thinned "
                       "to at most 1 / 1.5 of the last year's (their returns with them); prompt payers; credit "
                       "limit raised to at least 2x the open amount at as_of (rounded up to 1,000)",
}

_SURNAMES = np.array(["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
                      "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
                      "Giordano", "Rizzo", "Lombardi", "Moretti", "D'Amico", "Dell'Orto", "D'Angelo",
                      "Cantù", "Fabbri", "Sartori", "Barbieri", "Fontana", "Caruso", "Ferraro"])
_FIRST_NAMES = np.array(["Mario", "Anna", "Giuseppe", "Giulia", "Luca", "Francesca", "Marco", "Sara",
                         "Andrea", "Chiara", "Paolo", "Elena", "Niccolò", "Lucrezia", "Stefano", "Federica",
                         "Matteo", "Valentina", "Alessandro", "Martina"])
_ACTIVITIES = {"Manufacturing": ["Meccanica", "Metalli", "Automazione"],
               "Retail": ["Commerciale", "Distribuzione", "Market"],
               "Construction": ["Costruzioni", "Edilizia", "Impianti"],
               "Food & Beverage": ["Alimentari", "Vini", "Caffè"],
               "Services": ["Servizi", "Logistica", "Consulting"],
               "Healthcare": ["Medicale", "Farmaceutica", "Biomedica"]}
_PERSONS = [f"{f} {s}" for f in _FIRST_NAMES for s in _SURNAMES]  # officers: "Mario Rossi"
#: Names that a report must escape (HTML) or a CSV writer must quote.
_TRICKY_NAMES = ["<script>alert(1)</script> S.p.A.", "Ottica <Visione> S.r.l.", 'Trattoria "Da Nino" S.n.c.',
                 "Bianchi; Verdi & C. S.a.s.", "L'Officina dell'Acciaio S.r.l.",
                 "Caffè & Cioccolato Società Cooperativa"]

# Client-side (Italian) headers of the CSV exports; extra columns keep their client name everywhere.
CLIENT_COLUMNS = {
    "customers": {"customer_id": "Codice Cliente", "name": "Ragione Sociale", "customer_type": "Tipo",
                  "sector": "Settore", "region": "Regione", "channel": "Canale",
                  "size_class": "Classe Dimensionale", "credit_limit": "Fido",
                  "payment_terms_days": "Giorni Pagamento", "since": "Cliente Dal", "account_manager": "Agente"},
    "transactions": {"customer_id": "Codice Cliente", "date": "Data", "amount": "Importo", "margin": "Margine",
                     "product": "Prodotto", "channel": "Canale"},
    "invoices": {"invoice_id": "Numero Fattura", "customer_id": "Codice Cliente", "issue_date": "Data Emissione",
                 "due_date": "Data Scadenza", "amount": "Importo", "paid_date": "Data Pagamento",
                 "paid_amount": "Importo Pagato"},
}
_CSV_FILES = {"customers": "clienti.csv", "transactions": "movimenti.csv", "invoices": "fatture.csv"}
_PARQUET_FILES = {"customers": "customers.parquet", "transactions": "transactions.parquet",
                  "invoices": "invoices.parquet"}


@dataclass(frozen=True)
class SampleClient:
    """A generated client: the four canonical tables, the per-customer latent truth and ``truth``.

    Attributes
    ----------
    customers, transactions, invoices : DataFrame
        Canonical columns of :mod:`portfolio_kit.data.schemas`; transactions and invoices keep one extra
        client column each (``Rif. Fattura``, ``Note``).
    snapshots : DataFrame
        Both snapshots stacked, ``snapshot_date`` telling them apart, plus the extra ``legal_form``,
        ``esg_score`` and ``legal_event``.
    latent : DataFrame
        One row per customer: ``customer_id``, ``segment``, ``lam``, ``p``, ``nu``, ``n_repeat``,
        ``alive`` (at ``as_of``), ``dropout_date`` (last purchase of those who dropped out, defaulted or
        stopped buying), ``payment_propensity`` (the logit random effect ``u``), ``chronic_late``,
        ``deteriorating``, ``risk``, ``default_date``.
    truth : dict
        JSON-serialisable generating parameters, planted changes, added and removed customers, defaults,
        credit limits far from need and situations.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    invoices: pd.DataFrame
    snapshots: pd.DataFrame
    latent: pd.DataFrame
    truth: dict


# --------------------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------------------
def _choose(rng: np.random.Generator, probs, n: int | None = None, group: np.ndarray | None = None) -> np.ndarray:
    """Category codes drawn from ``probs`` (one vector, or one row per group code in ``group``)."""
    cum = np.cumsum(np.asarray(probs, dtype=float), axis=-1)
    cum /= cum[..., -1:]
    if group is None:
        return np.searchsorted(cum, rng.random(n), side="right")
    u = rng.random(len(group))
    return (u[:, None] >= cum[group]).sum(axis=1)


def _labels(vocab, codes: np.ndarray) -> pd.Series:
    """String Series ``vocab[codes]`` (an Arrow take: fast and light for millions of rows)."""
    values = pa.array(vocab if isinstance(vocab, pd.Series) else list(vocab), pa.string())
    return pd.Series(pc.take(values, pa.array(codes)), dtype="str")


def _ids(prefix: str | pd.Series, numbers: np.ndarray, width: int) -> pd.Series:
    """Zero-padded string identifiers ``prefix + number``."""
    return prefix + pd.Series(numbers, dtype="int64").astype("str").str.zfill(width)


def _dates(start: np.datetime64, days: np.ndarray) -> pd.Series:
    """``start + days`` as ``datetime64[ns]``; NaT where ``days`` is negative (the missing marker)."""
    out = (start + np.maximum(days, 0).astype("timedelta64[D]")).astype("datetime64[ns]")
    return pd.Series(np.where(days < 0, np.datetime64("NaT"), out), dtype="datetime64[ns]")


def _scaled(n: int, base: int) -> int:
    return int(round(base * n / 2000))


def _pick(rng: np.random.Generator, k: int, eligible: np.ndarray, prefer: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``k`` random eligible rows, rows with ``prefer`` first."""
    key = rng.random(len(eligible)) + np.where(eligible, 0.0, 4.0)
    if prefer is not None:
        key += np.where(prefer, 0.0, 2.0)
    order = np.argsort(key, kind="stable")[:k]
    return np.sort(order[eligible[order]])


# --------------------------------------------------------------------------------------------------------
# Purchases
# --------------------------------------------------------------------------------------------------------
def simulate_bgnbd(T, r, alpha, a, b, seed: int | np.random.Generator = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the BG/NBD purchase process exactly, in continuous time, for customers observed ``T`` weeks.

    ``lambda ~ Gamma(r, rate alpha)``, ``p ~ Beta(a, b)``; the first purchase is at t = 0, repeat purchases
    form a Poisson(lambda) process and the customer drops out right after the ``J``-th repeat purchase,
    ``J ~ Geometric(p)``. With ``N ~ Poisson(lambda T)``: alive if ``N < J`` (``N`` uniform times on
    ``(0, T)``), otherwise ``t_J = T Beta(J, N - J + 1)`` and ``J - 1`` uniform times on ``(0, t_J)``.

    Parameters
    ----------
    T : array-like of float
        Weeks each customer is observed after the first purchase (> 0).
    r, alpha, a, b : float or array-like
        BG/NBD parameters, scalars or one per customer.
    seed : int or numpy Generator

    Returns
    -------
    events : DataFrame
        ``customer`` (position in ``T``), ``t`` (weeks since the first purchase, 0 for the first), sorted.
    latent : DataFrame
        One row per customer: ``lam``, ``p``, ``n_repeat``, ``alive``, ``dropout_t`` (NaN if alive), ``T``.

    Examples
    --------
    >>> events, latent = simulate_bgnbd(np.full(1000, 52.0), r=0.6, alpha=8.0, a=0.8, b=3.0, seed=1)
    >>> bool((events.groupby("customer")["t"].min() == 0).all())
    True
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    if T.ndim != 1 or (T <= 0).any() or not np.isfinite(T).all():
        raise ValueError("T must be a 1-D array of positive, finite observation lengths (weeks)")
    n = len(T)
    r, alpha, a, b = (np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in (r, alpha, a, b))
    if min(r.min(initial=1), alpha.min(initial=1), a.min(initial=1), b.min(initial=1)) <= 0:
        raise ValueError("r, alpha, a and b must all be positive")
    lam = rng.gamma(r, 1.0 / alpha)
    p = np.clip(rng.beta(a, b), 1e-12, 1.0)
    J = rng.geometric(p)
    N = rng.poisson(lam * T)
    alive = N < J
    n_repeat = np.where(alive, N, J)
    dropout_t = np.full(n, np.nan)
    dead = np.flatnonzero(~alive)
    dropout_t[dead] = T[dead] * rng.beta(J[dead], N[dead] - J[dead] + 1)
    upper = np.where(alive, T, dropout_t)
    free = np.where(alive, n_repeat, n_repeat - 1)
    cust = np.concatenate([np.arange(n), np.repeat(np.arange(n), free), dead])
    t = np.concatenate([np.zeros(n), np.repeat(upper, free) * rng.random(free.sum()), dropout_t[dead]])
    order = np.lexsort((t, cust))
    events = pd.DataFrame({"customer": cust[order], "t": t[order]})
    latent = pd.DataFrame({"lam": lam, "p": p, "n_repeat": n_repeat, "alive": alive, "dropout_t": dropout_t,
                           "T": T})
    return events, latent


# --------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------
def _draw_customers(rng, n, n_days):
    """Customer traits as code arrays (size, sector, ...) and their day of acquisition."""
    is_b2c = _choose(rng, list(MIX["customer_type"].values()), n) == 1
    size = np.where(is_b2c, 0, _choose(rng, list(MIX["size_class_b2b"].values()), n))
    sector = _choose(rng, list(MIX["sector"].values()), n)
    region = _choose(rng, list(MIX["region"].values()), n)
    channel = _choose(rng, [list(MIX["channel"][k].values()) for k in ("B2B", "B2C")], group=is_b2c.astype(int))
    terms_p = [[MIX["payment_terms_days"][s].get(d, 0.0) for d in (30, 60, 90)] for s in (*SIZES, "B2C")]
    terms = np.array([30, 60, 90])[_choose(rng, terms_p, group=np.where(is_b2c, 4, size))]
    s = MIX["acquisition"]["slope"]
    x = (1.0 - np.sqrt(1.0 - 2.0 * s * (1.0 - s / 2.0) * rng.random(n))) / s
    since_day = np.minimum(np.floor(x * n_days), n_days - 1).astype(np.int64)
    agent = _choose(rng, np.ones(len(MIX["agents"])), n)
    return dict(is_b2c=is_b2c, size=size, sector=sector, region=region, channel=channel, terms=terms,
                since_day=since_day, agent=agent)


def _names(rng, c, n):
    """Company names "Rossi Meccanica S.r.l.", persons "Rossi Mario", legal forms, officers (name codes)."""
    forms = [*SNAPSHOT_MODEL["legal_form_by_size"]["Micro"], "Ditta individuale"]
    form_p = [list(SNAPSHOT_MODEL["legal_form_by_size"][s].values()) for s in SIZES]
    form = np.where(c["is_b2c"], len(forms) - 1, _choose(rng, form_p, group=c["size"]))
    surname = rng.integers(0, len(_SURNAMES), n)
    first = rng.integers(0, len(_FIRST_NAMES), n)
    activities = [a for k in MIX["sector"] for a in _ACTIVITIES[k]]
    activity = 3 * c["sector"] + rng.integers(0, 3, n)
    family = _labels(["", " & Figli"], (rng.random(n) < 0.08).astype(np.int64))
    company = (_labels(_SURNAMES, surname) + family + " " + _labels(activities, activity) + " "
               + _labels(forms, form))
    name = company.where(~c["is_b2c"], _labels(_SURNAMES, surname) + " " + _labels(_FIRST_NAMES, first))
    tricky = _pick(rng, len(_TRICKY_NAMES), ~c["is_b2c"])
    name.iloc[tricky] = _TRICKY_NAMES[: len(tricky)]
    # officers: up to 4 name slots (the 4th is the one a planted change may appoint); B2C: the owner
    officers = rng.integers(0, len(_PERSONS), (n, 4))
    officers[:, 0] = np.where(c["is_b2c"], first * len(_SURNAMES) + surname, officers[:, 0])
    k = np.where(c["is_b2c"], 1, 1 + _choose(rng, list(SNAPSHOT_MODEL["officers_count"].values()), n))
    return dict(name=name, form=form, forms=forms, officers=officers, n_officers=k)


def _join_officers(codes: np.ndarray, k: np.ndarray) -> pd.Series:
    """Join the first ``k`` officer names of each row (codes into the person names) with "; "."""
    out = _labels(_PERSONS, codes[:, 0])
    for j in range(1, codes.shape[1]):  # over the (at most 4) name slots, not over customers
        out = out.where(k <= j, out + "; " + _labels(_PERSONS, codes[:, j]))
    return out


def _baskets(rng, sector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's basket of product lines (boolean customers x lines) and main line (codes): see the
    module docstring."""
    lines = PRODUCTS["lines"]
    sectors = list(MIX["sector"])
    p = np.full((len(sectors), len(lines)), PRODUCTS["base_adoption"])
    for s, line in PRODUCTS["sector_lines"].items():
        p[sectors.index(s), lines.index(line)] = PRODUCTS["sector_adoption"]
    basket = rng.random((len(sector), len(lines))) < p[sector]
    for first, second in PRODUCTS["pairs"]:
        i, j = lines.index(first), lines.index(second)
        joins = rng.random((len(sector), 2)) < PRODUCTS["pair_adoption"]
        has_i, has_j = basket[:, i].copy(), basket[:, j].copy()
        basket[:, j] |= has_i & joins[:, 0]
        basket[:, i] |= has_j & joins[:, 1]
    empty = ~basket.any(axis=1)
    basket[np.flatnonzero(empty), rng.integers(0, len(lines), int(empty.sum()))] = True
    main = _pick_in_rows(rng, basket)
    return basket, main


def _pick_in_rows(rng, allowed: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """One column per row of ``allowed`` (boolean, each row with a True), uniform over that row's Trues;
    ``rows`` repeats rows (one draw each)."""
    allowed = allowed if rows is None else allowed[rows]
    cum = np.cumsum(allowed, axis=1)
    target = np.floor(rng.random(len(allowed)) * cum[:, -1]).astype(np.int64)
    return (cum <= target[:, None]).sum(axis=1)


def _baskets_text(basket: np.ndarray) -> pd.Series:
    """Each basket as its lines joined by "; " (in the order of ``PRODUCTS["lines"]``)."""
    lines = PRODUCTS["lines"]
    texts = ["; ".join(line for j, line in enumerate(lines) if code >> j & 1) for code in range(2 ** len(lines))]
    return _labels(texts, basket.astype(np.int64) @ (1 << np.arange(len(lines))))


def _purchases(rng, c, n_days, seg, rng_products):
    """Purchases (BG/NBD with each customer's segment parameters), Gamma-Gamma amounts, products (drawn from
    ``rng_products``), margins and returns, as day-indexed arrays sorted by day."""
    T = (n_days - c["since_day"]) / 7.0
    events, latent = simulate_bgnbd(T, *(seg[k].to_numpy()[c["size"]] for k in ("r", "alpha", "a", "b")),
                                     seed=rng)
    cust = events["customer"].to_numpy()
    day = np.minimum(c["since_day"][cust] + np.floor(events["t"].to_numpy() * 7.0).astype(np.int64), n_days)
    nu = rng.gamma(seg["q"].to_numpy()[c["size"]], 1.0 / seg["gamma"].to_numpy()[c["size"]])
    amount = np.maximum(np.round(rng.gamma(seg["p"].to_numpy()[c["size"]][cust], 1.0 / nu[cust]), 2), 0.01)
    basket, main = _baskets(rng_products, c["sector"])
    product = np.where(rng_products.random(len(cust)) < PRODUCTS["main_line_probability"], main[cust],
                       _pick_in_rows(rng_products, basket, cust))
    rates = np.array(list(MARGIN["rate_by_sector"].values()))[c["sector"]][cust]
    offsets = np.array(list(PRODUCTS["margin_offset"].values()))[product]
    rate = np.clip(rates + offsets + rng.normal(0.0, MARGIN["noise_sd"], len(cust)), *MARGIN["clip"])
    margin = np.round(amount * rate, 2)
    # returns
    ret = np.flatnonzero(rng.random(len(cust)) < RETURNS["share"])
    ret_day = day[ret] + rng.integers(RETURNS["delay_days"][0], RETURNS["delay_days"][1] + 1, len(ret))
    frac = np.where(rng.random(len(ret)) < RETURNS["full_return_probability"], 1.0,
                    rng.uniform(*RETURNS["partial_fraction"], len(ret)))
    keep = ret_day <= n_days
    ret, ret_day, frac = ret[keep], ret_day[keep], frac[keep]
    tx = pd.DataFrame({
        "cust": np.concatenate([cust, cust[ret]]),
        "sale": np.concatenate([np.arange(len(cust)), ret]),  # the purchase a row is (or returns)
        "day": np.concatenate([day, ret_day]),
        "amount": np.concatenate([amount, -np.round(amount[ret] * frac, 2)]),
        "margin": np.concatenate([margin, -np.round(margin[ret] * frac, 2)]),
        "product": np.concatenate([product, product[ret]]),
        "is_return": np.concatenate([np.zeros(len(cust), bool), np.ones(len(ret), bool)]),
    }).sort_values(["day", "cust", "is_return"], kind="stable", ignore_index=True)
    return tx, latent, nu, basket


def _invoice_lines(rng, tx: pd.DataFrame, mean_lines: float, basket: np.ndarray, customer: np.ndarray
                   ) -> pd.DataFrame:
    """Split each one-line invoice into ``1 + Poisson(mean_lines - 1)`` lines that add up to it exactly; the
    lines after the first take a product of the customer's basket (``customer``: the basket row of each
    invoice)."""
    k = 1 + rng.poisson(mean_lines - 1.0, len(tx))
    row = np.repeat(np.arange(len(tx)), k)
    first = np.r_[0, np.cumsum(k)[:-1]]
    last = np.cumsum(k) - 1
    w = rng.gamma(1.0, 1.0, len(row))
    w /= np.bincount(row, weights=w)[row]
    lines = tx.iloc[row].reset_index(drop=True)
    for col in ("amount", "margin"):
        total = tx[col].to_numpy()
        part = np.round(total[row] * w, 2)
        part[last] += np.round(total - np.bincount(row, weights=part), 2)  # rounding rest on the last line
        lines[col] = np.round(part, 2)
    other = np.ones(len(row), bool)
    other[first] = False
    product = pd.Categorical(lines["product"], categories=PRODUCTS["lines"]).codes.copy()
    product[other] = _pick_in_rows(rng, basket, customer[row][other])
    lines["product"] = _labels(PRODUCTS["lines"], product)
    return lines


def _payments(rng, c, tx, n_days, propensity, chronic, deteriorating):
    """Due day, paid day (-1 = open) and paid amount per transaction-invoice."""
    cust = tx["cust"].to_numpy()
    issue = tx["day"].to_numpy()
    due = issue + c["terms"][cust]
    coef = PAYMENT["coefficients"]
    window = PAYMENT["deterioration_window_days"]
    eta = (PAYMENT["intercept"]
           + np.array(list(coef["size_class"].values()))[c["size"]][cust]
           + np.array(list(coef["sector"].values()))[c["sector"]][cust]
           + coef["payment_terms_per_30_days"] * (c["terms"][cust] - 60) / 30.0
           + propensity[cust] + coef["chronic_late"] * chronic[cust]
           + coef["deterioration_at_as_of"] * deteriorating[cust]
           * np.clip((issue - (n_days - window)) / window, 0.0, 1.0))
    late = rng.random(len(cust)) < expit(eta)
    on_time = PAYMENT["delay_given_not_late"]
    days_late = np.where(
        late,
        31 + np.floor(rng.exponential(PAYMENT["delay_given_late"]["mean"], len(cust))),
        np.clip(np.round(rng.normal(on_time["mean"], on_time["sd"], len(cust))), *on_time["clip"]),
    ).astype(np.int64)
    credit_note = tx["is_return"].to_numpy()
    paid = np.where(credit_note, issue, due + days_late)
    is_open = paid > n_days
    amount = tx["amount"].to_numpy()
    partial = ~is_open & ~credit_note & (rng.random(len(cust)) < PAYMENT["partial_payment_share"])
    paid_amount = np.where(partial, np.round(amount * rng.uniform(*PAYMENT["partial_fraction"], len(cust)), 2),
                           amount)
    paid_amount = np.where(is_open, np.nan, paid_amount)
    return due, np.where(is_open, -1, paid), paid_amount, partial


def _snapshot_base(rng, c, nm, propensity, n):
    """First snapshot's fields as arrays (rating as scale index)."""
    sm = SNAPSHOT_MODEL
    u = propensity / PAYMENT["random_effect_sd"]
    z = (np.sqrt(0.5) * u + np.sqrt(0.5) * rng.standard_normal(n)
         + np.array(list(sm["size_shift"].values()))[c["size"]])
    rating = np.searchsorted(norm.ppf(sm["rating_cut_quantiles"]), z)
    failure = np.clip(np.round(50 + 15 * z + rng.normal(0, 6, n)), 1, 100)
    delinquency = np.clip(np.round(50 + 12 * u + 8 * z + rng.normal(0, 6, n)), 1, 100)
    limit = (np.array(list(sm["credit_limit_base"].values()))[c["size"]]
             * np.array(list(sm["credit_limit_rating_factor"].values()))[rating]
             * rng.lognormal(0.0, 0.3, n))
    options = np.array(list(sm["share_capital_options"].values()), dtype=float)
    capital = options[nm["form"], rng.integers(0, 4, n)]
    return dict(z=z, rating=rating, failure_score=failure, delinquency_score=delinquency,
                credit_limit=np.floor(limit / 100) * 100, share_capital=capital)


def _plant_changes(rng, base, nm, eligible, n):
    """Second-snapshot fields and the list of planted changes on distinct customers of ``eligible``."""
    after = {k: v.copy() for k, v in base.items() if k != "z"}
    n_off_after = nm["n_officers"].copy()
    free = eligible.copy()
    chosen = {}
    rules = [  # (kind, field, extra eligibility)
        ("downgrades", "rating", base["rating"] <= len(RATING_SCALE) - 3),
        ("upgrades", "rating", base["rating"] >= 1),
        ("failure_score", "failure_score", np.ones(n, bool)),
        ("delinquency_score", "delinquency_score", np.ones(n, bool)),
        ("credit_limit_cuts", "credit_limit", base["credit_limit"] >= 1000),
        ("officers", "officers", nm["form"] < len(nm["forms"]) - 1),  # companies, not sole traders
        ("share_capital", "share_capital", base["share_capital"] > 0),
    ]
    for kind, _, ok in rules:  # seven change kinds, each vectorised over its customers
        idx = _pick(rng, _scaled(n, PLANTED[kind]), free & ok)
        free[idx] = False
        chosen[kind] = idx
    i = chosen["downgrades"]
    notches = 1 + _choose(rng, list(DOWNGRADE_NOTCHES.values()), len(i))
    after["rating"][i] = np.minimum(base["rating"][i] + notches, len(RATING_SCALE) - 1)
    i = chosen["upgrades"]
    after["rating"][i] = base["rating"][i] - 1
    for kind in ("failure_score", "delinquency_score"):
        i = chosen[kind]
        step = rng.integers(11, 31, len(i)) * rng.choice([-1, 1], len(i))
        moved = base[kind][i] + step
        after[kind][i] = np.where((moved < 1) | (moved > 100), base[kind][i] - step, moved)
    i = chosen["credit_limit_cuts"]
    after["credit_limit"][i] = np.floor(base["credit_limit"][i] * rng.uniform(0.4, 0.8, len(i)) / 100) * 100
    i = chosen["share_capital"]
    after["share_capital"][i] = base["share_capital"][i] * rng.choice([0.5, 2.0, 5.0], len(i))
    i = chosen["officers"]
    resign = (nm["n_officers"][i] >= 2) & (rng.random(len(i)) < 0.5)
    n_off_after[i] = np.where(resign, nm["n_officers"][i] - 1, nm["n_officers"][i] + 1)
    # an appointed officer is the next unused name slot; either way the list of names changes
    after["officers"] = _join_officers(nm["officers"], n_off_after)
    before = {**base, "officers": _join_officers(nm["officers"], nm["n_officers"])}
    changes = []
    for kind, field, _ in rules:
        i = chosen[kind]
        b_vals, a_vals = before[field][i], after[field][i]
        if field == "officers":
            b_vals, a_vals = before[field].iloc[i].to_numpy(object), after[field].iloc[i].to_numpy(object)
        if field == "rating":
            b_vals, a_vals = np.array(RATING_SCALE)[b_vals], np.array(RATING_SCALE)[a_vals]
        changes.append(pd.DataFrame({"cust": i, "field": field, "before": b_vals, "after": a_vals}))
    return before, after, pd.concat(changes, ignore_index=True)


def _customer_stats(tx: pd.DataFrame, n: int, n_days: int, due: np.ndarray, paid: np.ndarray) -> dict:
    """Per-customer figures of the generated history the plants choose customers by: spend percentile (total
    sales), sales in the last 90 and 365 days and in the year before, severely late sales (paid, or past due
    at ``as_of``, more than 30 days after due) issued in the last 365 days."""
    cust, day = tx["cust"].to_numpy(), tx["day"].to_numpy()
    sale = ~tx["is_return"].to_numpy()

    def count(mask):
        return np.bincount(cust[mask], minlength=n)

    spend = np.bincount(cust[sale], weights=tx["amount"].to_numpy()[sale], minlength=n)
    late = sale & (np.where(paid >= 0, paid, n_days) - due > 30)
    return dict(spend_pct=(np.argsort(np.argsort(spend, kind="stable"), kind="stable") + 0.5) / n,
                n_90=count(sale & (day > n_days - 90)), n_last=count(sale & (day > n_days - 365)),
                n_prev=count(sale & (day > n_days - 730) & (day <= n_days - 365)),
                late_365=count(late & (day > n_days - 365)))


def _plant_defaults(rng, c, tx, n, n_days, propensity, excluded):
    """Defaulted customers: default day per customer (-1: none), the rows kept (no purchase after the default)
    and the sales left unpaid (issued in the window before the default)."""
    d = DEFAULTS
    cust, day = tx["cust"].to_numpy(), tx["day"].to_numpy()
    sale = ~tx["is_return"].to_numpy()
    early = n_days - d["min_days_before_as_of"]
    # a default day for every customer; those who would lose at most one purchase to it may default
    cap = np.where(rng.random(n) < d["later_share"], n_days - d["later_min_days_before_as_of"], early)
    low = c["since_day"] + 30
    drawn = low + np.floor(rng.random(n) * np.maximum(cap - low + 1, 0)).astype(np.int64)
    after = np.bincount(cust[sale & (day > drawn[cust])], minlength=n)
    idx = _pick(rng, _scaled(n, 2000 * d["share"]),
                ~excluded & (c["since_day"] + 60 <= early) & (after <= d["max_purchases_lost"]),
                prefer=propensity >= np.quantile(propensity, 0.9))
    default_day = np.full(n, -1, np.int64)
    default_day[idx] = drawn[idx]
    upto = sale & (default_day[cust] >= 0) & (day <= default_day[cust])
    last = np.full(n, -1, np.int64)
    np.maximum.at(last, cust[upto], day[upto])  # the last purchase up to the drawn day (the first one at least)
    window = d["unpaid_window_days"]
    back = last[idx] + rng.integers(0, d["max_days_after_last_purchase"] + 1, len(idx))
    default_day[idx] = np.where(drawn[idx] - last[idx] >= window, back, drawn[idx])
    dd = default_day[cust]
    keep = ~((dd >= 0) & (day > dd))
    unpaid = sale & (dd >= 0) & (day > dd - window) & (day <= dd)
    return default_day, keep, unpaid


def _plant_customers(rng, c, tx, pay, keep, base, pool, alive, propensity, need, credit_limit, n, n_days):
    """Credit limits far from need and the situations of the module docstring on distinct customers of
    ``pool``: the customers of each, the rows kept, payments and credit limits after the plants, stop days."""
    cust, day, sale_id = tx["cust"].to_numpy(), tx["day"].to_numpy(), tx["sale"].to_numpy()
    sale = ~tx["is_return"].to_numpy()
    amount, margin = tx["amount"].to_numpy(), tx["margin"].to_numpy()
    due = pay["due"]
    st = _customer_stats(tx, n, n_days, due, pay["paid"])
    pct, since = st["spend_pct"], c["since_day"]
    active = alive & (st["n_90"] >= 1)
    good = (propensity < 0.5) & (st["late_365"] == 0) & (base["rating"] <= RATING_SCALE.index("BBB"))
    # margin of the last 365 days (what the value of a customer is measured by), and its quantiles over the
    # customers with a positive one
    last_year = keep & (day > n_days - 365)
    value = np.bincount(cust[last_year], weights=margin[last_year], minlength=n)
    positive = value[value > 0]
    value_q = (lambda q: float(np.quantile(positive, q))) if positive.size else (lambda q: np.inf)
    free, keep, pay = pool.copy(), keep.copy(), {k: v.copy() for k, v in pay.items()}
    limit = credit_limit.copy()
    chosen = {}

    def pick(name, base_count, ok, prefer=None):
        idx = _pick(rng, _scaled(n, base_count), free & ok, prefer)
        free[idx] = False
        chosen[name] = idx
        member = np.zeros(n, bool)
        member[idx] = True
        return idx, member

    def count(mask):
        return np.bincount(cust[mask], minlength=n)

    def total(mask, weights=amount):
        return np.bincount(cust[mask], weights=weights[mask], minlength=n)

    # the payments of the situations: their sales due in the 365 days up to as_of or later, and any open at
    # as_of, are paid anew (the older ones keep their day); none is paid in part. Growers whose sales of that
    # year were all paid within 30 days of due are preferred, late payers with a high payment propensity: the
    # plants then change fewer of the payment model's outcomes
    renew = sale & ((due > n_days - 365) | (pay["paid"] < 0))
    punctual = count(renew & (np.where(pay["paid"] >= 0, pay["paid"], n_days) - due > 30)) == 0

    def in_full(idx):
        rows = sale & np.isin(cust, idx)
        pay["paid_amount"][rows] = np.where(pay["paid"][rows] < 0, np.nan, amount[rows])
        pay["partial"][rows] = False

    def repay(member, paid_day):
        new = sale & member[cust] & renew
        pay["paid"][new] = np.where(paid_day[new] > n_days, -1, paid_day[new])
        in_full(np.flatnonzero(member))

    # steady customers paying on time whose limit is far below the need (large enough for the rounding to keep
    # 0.15 x need near 0.15; the rarest: chosen first), other active customers far above it (chosen after the
    # growers)
    cl = MIX["credit_limit"]

    def far_from_need(name, ok, prefer=None):
        spec = CREDIT_LIMIT_PLANTS[name]
        idx, _ = pick(name, spec["customers"], ok, prefer)
        limit[idx] = np.maximum(np.ceil(spec["factor"] * need[idx] / cl["round_up_to"]) * cl["round_up_to"],
                                cl["minimum"])
        return idx

    idx = far_from_need("far_below_need", active & good & (st["n_last"] >= 6) & (since < n_days - 365)
                        & (need >= 10000), need >= 20000)
    in_full(idx)  # they pay on time, and in full
    # healthy growers: purchases of the year before the last thinned to at most 1 / 1.5 of the last year's
    idx, grower = pick("healthy_growers", SITUATIONS["healthy_growers"],
                       (pct >= 0.9) & (value >= value_q(0.85)) & (base["rating"] <= RATING_SCALE.index("BBB"))
                       & active & (since <= n_days - 730) & (st["n_last"] >= 4) & (st["n_prev"] >= 1),
                       prefer=punctual)
    allowed = np.zeros(n, np.int64)
    allowed[idx] = np.floor(st["n_last"][idx] / 1.5).astype(np.int64)
    rows = np.flatnonzero(sale & grower[cust] & (day > n_days - 730) & (day <= n_days - 365))
    rows = rows[np.lexsort((rng.random(len(rows)), cust[rows]))]  # random order within customer
    rank = np.arange(len(rows)) - np.searchsorted(cust[rows], cust[rows])
    keep &= ~np.isin(sale_id, sale_id[rows[rank >= allowed[cust[rows]]]])  # their returns go with them
    far_from_need("far_above_need", active & (st["n_last"] >= 4))
    # valuable customers who stop buying 150-240 days before as_of (frequent buyers in the year before, valuable
    # by the margin they keep whatever the stop day)
    span = sale & (day > n_days - 515) & (day <= n_days - 150)
    frequent = count(span) >= 12
    window = sale & (day >= n_days - 240) & (day <= n_days - 150)
    kept_year = keep & (day > n_days - 365) & (day < n_days - 240)
    idx, stopper = pick("valuable_stopped_buying", SITUATIONS["valuable_stopped_buying"],
                        (pct >= 0.9) & alive & frequent & (count(window) >= 1) & (since < n_days - 515)
                        & (total(kept_year, margin) >= value_q(0.8)), prefer=pct >= 0.95)
    rows = np.flatnonzero(window & stopper[cust])  # the last purchase: one of theirs in the window, at random
    rows = rows[np.lexsort((rng.random(len(rows)), cust[rows]))]
    first = np.unique(cust[rows], return_index=True)[1]
    stop_day = np.full(n, -1, np.int64)
    stop_day[cust[rows[first]]] = day[rows[first]]
    keep &= ~(stopper[cust] & (day > stop_day[cust]))
    # valuable active customers whose rating falls 2+ notches (planted in the second snapshot by the caller)
    pick("valuable_rating_fall", SITUATIONS["valuable_rating_fall"],
         (pct >= 0.9) & (value >= value_q(0.85)) & active & (base["rating"] <= len(RATING_SCALE) - 3))
    # the late payers pay 31 + floor(Exponential(60)) days after due (one draw per row, used for the customers
    # chosen), and owe at as_of what that leaves open
    late_paid = due + 31 + np.floor(rng.exponential(LATE_PAYERS["mean"], len(tx))).astype(np.int64)
    still_open = renew & (late_paid > n_days)
    owed = total(keep & still_open)
    # low-value active customers with 250+ open at as_of once paid late, none of it due in the 30 days up to
    # as_of (so every sale their payment index scores is 31+ days late) and a sale due in the year before that;
    # their limit is cut below their receivables
    just_due = sale & keep & (due > n_days - 31) & (due <= n_days)
    scored = sale & keep & (due > n_days - 365) & (due <= n_days - 31)
    _, small = pick("low_value_over_limit", SITUATIONS["low_value_over_limit"],
                    active & (value <= value_q(0.4)) & (owed >= 250) & (count(just_due) == 0)
                    & (count(scored) >= 1), prefer=propensity > 0.5)
    # active regular buyers of middling value, 25%+ of what they owe at as_of more than 60 days past due
    overdue_60 = total(keep & still_open & (due < n_days - 60))
    _, chronic = pick("chronic_late_payers", SITUATIONS["chronic_late_payers"],
                      active & (value < value_q(0.7)) & (st["n_last"] >= 3) & (overdue_60 > 0)
                      & (overdue_60 >= 0.25 * owed), prefer=propensity > 0.5)
    repay(small | chronic, late_paid)
    # the growers and the customers who stopped buying pay the same 1-10 days (per customer) before due
    repay(grower | stopper, due - rng.integers(1, 11, n)[cust])
    open_amount = np.where(pay["paid"] < 0, amount, amount - np.nan_to_num(pay["paid_amount"]))
    exposure = np.bincount(cust[keep], weights=open_amount[keep], minlength=n)
    limit[small] = np.maximum(np.floor(0.4 * exposure[small] / 100) * 100, 100.0)
    roomy = grower | chronic
    limit[roomy] = np.maximum(limit[roomy], np.ceil(2 * exposure[roomy] / 1000) * 1000)
    return chosen, keep, pay, limit, stop_day


def _plant_provider_fields(rng, base, free, existing_ok, existing_prefer, n):
    """ESG score (tenths) and legal-event codes (into the event values; their length = none) of both snapshots,
    with the planted ESG drops and new legal events on customers of ``free``."""
    pf = PROVIDER_FIELDS
    esg = np.clip(np.round(600 - 80 * base["z"] + rng.normal(0, 120, n)), 0, 1000)
    esg_after = esg.copy()
    low, high = (int(round(10 * x)) for x in pf["esg_drop_points"])
    drops = _pick(rng, _scaled(n, PLANTED["esg_drops"]), free & (esg >= high + 10))
    esg_after[drops] = esg[drops] - rng.integers(low, high + 1, len(drops))
    free = free.copy()
    free[drops] = False
    k = len(pf["legal_event_values"])
    new = _pick(rng, _scaled(n, PLANTED["legal_events"]), free, prefer=base["rating"] >= RATING_SCALE.index("BB"))
    existing_ok = existing_ok.copy()
    existing_ok[new] = False
    existing = _pick(rng, _scaled(n, pf["existing_legal_events"]), existing_ok, prefer=existing_prefer)
    event = np.full(n, k, np.int64)
    event[existing] = rng.integers(0, k, len(existing))
    event_after = event.copy()
    event_after[new] = rng.integers(0, k, len(new))
    return dict(esg=esg / 10, esg_after=esg_after / 10, event=event, event_after=event_after, drops=drops,
                new=new, existing=existing)


def _check_args(n_customers, as_of, years):
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    try:
        as_of_ts = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        raise ValueError(f"as_of must be a date like '2026-10-31', got {as_of!r}") from None
    if not np.isfinite(years) or years * 365.25 < 31:
        raise ValueError(f"years must cover at least one month of history, got {years!r}")
    return int(n_customers), as_of_ts


def generate_sample(n_customers: int = 2000, as_of: str | dt.date = "2026-10-31", years: float = 3.0,
                    seed: int = 42, lines_per_invoice: float = 1.0) -> SampleClient:
    """Generate a synthetic client from the model in this module's docstring.

    Parameters
    ----------
    n_customers : int
        Customers to generate (>= 1; 1 gives a valid one-customer client). Planted snapshot changes scale
        with ``n_customers / 2000`` and may be zero for very small clients.
    as_of : str or date
        The analysis date: last day of history and date of the second snapshot.
    years : float
        Length of the history (at least one month).
    seed : int
        Seed of every random step; the same seed gives identical tables and truth.
    lines_per_invoice : float
        Mean transaction lines per invoice (>= 1; see the module docstring). The default 1 leaves every
        other table and the truth unchanged.

    Returns
    -------
    SampleClient

    Examples
    --------
    >>> client = generate_sample(n_customers=200, seed=7)
    >>> client.customers["customer_id"].iloc[0]
    'C000001'
    >>> bool(client.transactions["customer_id"].isin(client.customers["customer_id"]).all())
    True
    """
    n, as_of_ts = _check_args(n_customers, as_of, years)
    if not (np.isfinite(lines_per_invoice) and lines_per_invoice >= 1):
        raise ValueError(f"lines_per_invoice must be a number >= 1, got {lines_per_invoice!r}")
    n_days = int(round(365.25 * years))
    start = (as_of_ts - pd.Timedelta(days=n_days)).to_datetime64().astype("datetime64[D]")
    snap_dates = [as_of_ts.replace(day=1) - pd.Timedelta(days=1), as_of_ts]
    streams = np.random.SeedSequence(seed).spawn(10)  # children are independent of their count
    rng_c, rng_n, rng_t, rng_p, rng_s, rng_x, rng_l, rng_d, rng_e, rng_b = (np.random.default_rng(s)
                                                                            for s in streams)

    c = _draw_customers(rng_c, n, n_days)
    nm = _names(rng_n, c, n)
    seg = pd.DataFrame({s: {**SEGMENTS[s]["bgnbd"], **SEGMENTS[s]["gamma_gamma"]} for s in SIZES}).T
    tx, latent, nu, basket = _purchases(rng_t, c, n_days, seg, rng_b)

    ids = _ids("C", np.arange(1, n + 1), max(6, len(str(n))))
    # customer-level payment traits; the company's credit limit from expected spend
    propensity = rng_p.normal(0.0, PAYMENT["random_effect_sd"], n)
    flagged = _pick(rng_p, _scaled(n, 2000 * (PAYMENT["chronic_late_share"] + PAYMENT["deteriorating_share"])),
                    np.ones(n, bool))
    n_chronic = _scaled(n, 2000 * PAYMENT["chronic_late_share"])
    chronic, deteriorating = np.zeros(n, bool), np.zeros(n, bool)
    chronic[flagged[:n_chronic]] = True
    deteriorating[flagged[n_chronic:]] = True
    weekly_spend = latent["lam"].to_numpy() * seg["p"].to_numpy()[c["size"]] / nu
    cl = MIX["credit_limit"]
    need = cl["weeks_of_expected_spend"] * weekly_spend
    credit_limit = np.maximum(np.ceil(need * rng_p.lognormal(0.0, cl["lognormal_sigma"], n) / cl["round_up_to"])
                              * cl["round_up_to"], cl["minimum"])
    due, paid, paid_amount, partial = _payments(rng_p, c, tx, n_days, propensity, chronic, deteriorating)

    # snapshots: the first one's fields, customers added and removed, planted changes
    base = _snapshot_base(rng_s, c, nm, propensity, n)
    alive = latent["alive"].to_numpy()
    added = _pick(rng_x, _scaled(n, PLANTED["added"]), np.ones(n, bool),
                  prefer=c["since_day"] > (snap_dates[0] - as_of_ts).days + n_days)
    in_first = np.ones(n, bool)
    in_first[added] = False
    removed = _pick(rng_x, _scaled(n, PLANTED["removed"]), in_first, prefer=~alive)
    in_second = np.ones(n, bool)
    in_second[removed] = False
    before, after, changes = _plant_changes(rng_x, base, nm, in_first & in_second, n)

    # defaults, credit limits far from need and situations (streams of their own: the draws above stay put)
    default_day, keep, unpaid = _plant_defaults(rng_d, c, tx, n, n_days, propensity, chronic | deteriorating)
    defaulted = default_day >= 0
    pay = {"due": due, "paid": np.where(unpaid, -1, paid), "paid_amount": np.where(unpaid, np.nan, paid_amount),
           "partial": partial & ~unpaid}
    changed = np.zeros(n, bool)
    changed[changes["cust"].to_numpy()] = True
    pool = in_first & in_second & ~changed & ~chronic & ~deteriorating & ~defaulted
    chosen, keep, pay, credit_limit, stop_day = _plant_customers(
        rng_d, c, tx, pay, keep, base, pool, alive, propensity, need, credit_limit, n, n_days)
    i = chosen["valuable_rating_fall"]
    after["rating"][i] = np.minimum(base["rating"][i] + 2 + (rng_d.random(len(i)) < 0.3), len(RATING_SCALE) - 1)
    situated = np.zeros(n, bool)
    for idx in chosen.values():
        situated[idx] = True
    prov = _plant_provider_fields(rng_e, base, pool & ~situated, in_first & in_second & ~changed & ~situated,
                                  defaulted | (base["rating"] >= RATING_SCALE.index("CCC")), n)
    before |= {"esg_score": prov["esg"], "legal_event": prov["event"]}
    after |= {"esg_score": prov["esg_after"], "legal_event": prov["event_after"]}
    events = [*PROVIDER_FIELDS["legal_event_values"], None]
    scale, event_values, drops, new = np.array(RATING_SCALE), np.array(events, dtype=object), prov["drops"], prov["new"]
    changes = pd.concat([changes, *(pd.DataFrame({"cust": rows, "field": field, "before": b, "after": a}) for
                                    rows, field, b, a in (
        (i, "rating", scale[base["rating"][i]], scale[after["rating"][i]]),
        (drops, "esg_score", prov["esg"][drops], prov["esg_after"][drops]),
        (new, "legal_event", event_values[prov["event"][new]], event_values[prov["event_after"][new]])))],
        ignore_index=True)
    unpaid = unpaid[keep]
    tx = tx[keep].reset_index(drop=True)
    due, paid, paid_amount, partial = (pay[k][keep] for k in ("due", "paid", "paid_amount", "partial"))

    customers = pd.DataFrame({
        "customer_id": ids,
        "name": nm["name"],
        "customer_type": _labels(MIX["customer_type"], c["is_b2c"].astype(np.int64)),
        "sector": _labels(MIX["sector"], c["sector"]),
        "region": _labels(MIX["region"], c["region"]),
        "channel": _labels(MIX["channel"]["B2B"], c["channel"]),
        "size_class": _labels(SIZES, c["size"]),
        "credit_limit": credit_limit,
        "payment_terms_days": c["terms"].astype(float),
        "since": _dates(start, c["since_day"]),
        "account_manager": _labels(MIX["agents"], c["agent"]),
    })

    # invoices: numbered in date order within year, separately for sales (F) and credit notes (NC)
    issue = _dates(start, tx["day"].to_numpy())
    credit_note = tx["is_return"].to_numpy()
    year = issue.dt.year
    seq = pd.Series(1, index=tx.index).groupby([year, credit_note]).cumsum().to_numpy()
    prefix = pd.Series(np.where(credit_note, "NC", "F")) + year.astype("str") + "-"
    invoice_id = _ids(prefix, seq, 6)
    cust_id = _labels(ids, tx["cust"].to_numpy())
    transactions = pd.DataFrame({
        "customer_id": cust_id,
        "date": issue,
        "amount": tx["amount"],
        "margin": tx["margin"],
        "product": _labels(PRODUCTS["lines"], tx["product"].to_numpy()),
        "channel": _labels(MIX["channel"]["B2B"], c["channel"][tx["cust"].to_numpy()]),
        "Rif. Fattura": invoice_id,
    })
    if lines_per_invoice > 1:
        transactions = _invoice_lines(rng_l, transactions, lines_per_invoice, basket, tx["cust"].to_numpy())
    is_open = paid < 0
    dunned = is_open & (n_days - due > 30)
    note = _labels(["Nota di credito", "Pagamento parziale", "Sollecito inviato", None],
                   np.select([credit_note, partial, dunned], [0, 1, 2], default=3))
    invoices = pd.DataFrame({
        "invoice_id": invoice_id,
        "customer_id": cust_id,
        "issue_date": issue,
        "due_date": _dates(start, due),
        "amount": tx["amount"],
        "paid_date": _dates(start, paid),
        "paid_amount": paid_amount,
        "Note": note,
    })

    forms = _labels(nm["forms"], nm["form"])

    def snapshot(fields, rows, date):
        rows = np.flatnonzero(rows)
        return pd.DataFrame({
            "customer_id": _labels(ids, rows), "snapshot_date": pd.Timestamp(date).as_unit("ns"),
            "rating": _labels(RATING_SCALE, fields["rating"][rows]),
            **{k: fields[k][rows] for k in ("failure_score", "delinquency_score", "credit_limit")},
            "officers": fields["officers"].iloc[rows].reset_index(drop=True),
            "share_capital": fields["share_capital"][rows],
            "legal_form": forms.iloc[rows].reset_index(drop=True),
            "esg_score": fields["esg_score"][rows],
            "legal_event": _labels(events, fields["legal_event"][rows]),
        })

    snapshots = pd.concat([snapshot(before, in_first, snap_dates[0]), snapshot(after, in_second, snap_dates[1])],
                          ignore_index=True)

    # customers who defaulted or stopped buying are no longer alive: they dropped out at their last purchase
    gone = defaulted | (stop_day >= 0)
    sales = ~credit_note & gone[tx["cust"].to_numpy()]
    last_day = np.full(n, -1, np.int64)
    np.maximum.at(last_day, tx["cust"].to_numpy()[sales], tx["day"].to_numpy()[sales])
    dropout_day = np.where(gone, last_day, np.where(alive, -1, c["since_day"]
                                                     + np.floor(np.nan_to_num(latent["dropout_t"]) * 7)))
    alive = alive & ~gone
    latent_df = pd.DataFrame({
        "customer_id": ids, "segment": _labels(SIZES, c["size"]), "lam": latent["lam"], "p": latent["p"], "nu": nu,
        "n_repeat": latent["n_repeat"], "alive": alive,
        "dropout_date": _dates(start, np.minimum(dropout_day, n_days).astype(np.int64)),
        "payment_propensity": propensity, "chronic_late": chronic, "deteriorating": deteriorating,
        "risk": base["z"], "default_date": _dates(start, default_day),
        "basket": _baskets_text(basket),
    })
    changes["customer_id"] = ids.take(changes.pop("cust").to_numpy()).to_numpy()

    def listed(idx):
        return ids.iloc[np.sort(idx)].tolist()

    def dated(idx, days):
        return dict(zip(listed(idx), (start + days[np.sort(idx)].astype("timedelta64[D]")).astype(str).tolist()))

    past_due = np.where(is_open & ~credit_note, n_days - due, -1)
    truth = {
        "seed": int(seed), "n_customers": n, "as_of": as_of_ts.date().isoformat(),
        "start": str(start), "years": float(years), "time_unit": "week",
        "segment_of": "size_class",
        "segments": {s: {**copy.deepcopy(SEGMENTS[s]), "customers": int((c["size"] == j).sum())}
                     for j, s in enumerate(SIZES)},
        "customer_mix": copy.deepcopy(MIX),
        "margin_rate_by_sector": dict(MARGIN["rate_by_sector"]),
        "margin": copy.deepcopy(MARGIN), "products": copy.deepcopy(PRODUCTS), "returns": copy.deepcopy(RETURNS),
        "payment_model": {**copy.deepcopy(PAYMENT),
                          "chronic_late_customers": ids[chronic].tolist(),
                          "deteriorating_customers": ids[deteriorating].tolist()},
        "rating_scale": list(RATING_SCALE),
        "snapshot_model": {**copy.deepcopy(SNAPSHOT_MODEL), "provider_fields": copy.deepcopy(PROVIDER_FIELDS)},
        "snapshot_dates": [d.date().isoformat() for d in snap_dates],
        "planted_changes": changes[["customer_id", "field", "before", "after"]].to_dict("records"),
        "added_customers": ids[added].tolist(),
        "removed_customers": ids[removed].tolist(),
        "legal_events_existing": dict(zip(listed(prov["existing"]),
                                          [events[e] for e in prov["event"][np.sort(prov["existing"])]])),
        "defaults": {
            "customers": ids[defaulted].tolist(),
            "default_dates": dated(np.flatnonzero(defaulted), default_day),
            "unpaid_invoices": int(unpaid.sum()),
            "unpaid_amount": round(float(tx["amount"].to_numpy()[unpaid].sum()), 2),
            "rule": _DEFAULT_RULE, "parameters": copy.deepcopy(DEFAULTS)},
        "credit_limits": {
            **{name: listed(chosen[name]) for name in CREDIT_LIMIT_PLANTS},
            "need": {cid: round(float(v), 2) for cid, v in zip(
                listed(np.concatenate([chosen[name] for name in CREDIT_LIMIT_PLANTS])),
                need[np.sort(np.concatenate([chosen[name] for name in CREDIT_LIMIT_PLANTS]))])},
            "factors": {name: spec["factor"] for name, spec in CREDIT_LIMIT_PLANTS.items()},
            "rule": _CREDIT_LIMIT_RULE},
        "situations": {
            "valuable_rating_fall": listed(chosen["valuable_rating_fall"]),
            "valuable_stopped_buying": listed(chosen["valuable_stopped_buying"]),
            "low_value_over_limit": listed(chosen["low_value_over_limit"]),
            "chronic_late_payers": listed(chosen["chronic_late_payers"]),
            "healthy_growers": listed(chosen["healthy_growers"])},
        "situation_details": {"stop_dates": dated(chosen["valuable_stopped_buying"], stop_day),
                              "late_payers": dict(LATE_PAYERS), "rules": dict(_SITUATION_RULES)},
        "counts": {"customers": n, "transactions": len(transactions), "returns": int(credit_note.sum()),
                   "invoices": len(invoices), "open_invoices": int(is_open.sum()),
                   "partial_payments": int(partial.sum()),
                   "alive_at_as_of": int(alive.sum()), "defaulted": int(defaulted.sum()),
                   "open_over_365_days_past_due": int((past_due > 365).sum())},
    }
    truth = json.loads(json.dumps(truth, default=_json_default))  # plain Python types only
    logger.info("generated %d customers, %d transactions, %d invoices (%d open)", n, len(transactions),
                len(invoices), int(is_open.sum()))
    return SampleClient(customers, transactions, invoices, snapshots, latent_df, truth)


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


# --------------------------------------------------------------------------------------------------------
# Writing the client's files
# --------------------------------------------------------------------------------------------------------
def _italian_number(x: pd.Series, decimals: int = 2) -> pd.Series:
    """Numbers as Italian text: thousands '.', decimal ',' ("-1.234,56"); empty where missing."""
    scaled = np.round(x.to_numpy(dtype=float) * 10**decimals)
    missing = np.isnan(scaled)
    scaled = np.abs(np.where(missing, 0, scaled)).astype(np.int64)
    units = pd.Series(scaled // 10**decimals, index=x.index).astype("str")
    units = units.str.replace(r"\B(?=(\d{3})+(?!\d))", ".", regex=True)
    cents = pd.Series(scaled % 10**decimals, index=x.index).astype("str").str.zfill(decimals)
    sign = pd.Series(np.where(x.to_numpy(dtype=float) < 0, "-", ""), index=x.index, dtype="str")
    return (sign + units + "," + cents).where(~missing, "")


def _italian_csv(df: pd.DataFrame, table: str, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%d/%m/%Y")
        elif col == "payment_terms_days":
            out[col] = out[col].astype("int64")
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = _italian_number(out[col])
    out.rename(columns=CLIENT_COLUMNS[table]).to_csv(path, sep=";", index=False, encoding="utf-8-sig")


_YAML_TEMPLATE = """\
# The sample client's config, written by portfolio_kit.data.sample (regenerate with `make sample`).
client: sample-client            # folder name under reports/
as_of: {as_of}                # analysis date (YYYY-MM-DD)
currency: EUR
language: en
engine:                          # where aggregations over raw rows run (auto: pandas, DuckDB above the limit)
  name: auto                     # auto, pandas, duckdb or spark
  raw_rows_limit: 2000000        # raw rows per table a notebook may hold; above it, a seeded customer sample
read:                            # defaults for every file; any key can be repeated per table
{read}tables:
  customers:
    path: {customers}            # paths relative to this file
    columns: {customers_map}   # client name -> canonical name
  transactions:
    path: {transactions}
    columns: {transactions_map}
  invoices:
    path: {invoices}
    columns: {invoices_map}
  snapshots:
    path: snapshots/rating_*.{ext}          # a glob: one file per date
    snapshot_date_from_filename: "rating_(\\\\d{{4}}-\\\\d{{2}}-\\\\d{{2}})"   # regex whose group is an ISO date
{snapshot_read}parameters:                      # notebook parameters by notebook (see `portfolio-kit params NAME`)
  clv: {{horizon_months: 12, discount_rate: 0.01}}
alerts:                          # monitoring rules: the kit's defaults, then two on the provider's extra fields
  - {{name: rating_downgrade, notches: 2, severity: high}}
  - {{name: rating_downgrade, notches: 1, severity: medium}}
  - {{name: score_change, points: 10, severity: medium}}
  - {{name: credit_limit_cut, min_cut: 0.2, severity: high}}
  - {{name: exposure_over_limit, min_excess: 0.0, severity: high}}
  - {{name: new_overdue, min_amount: 0.0, severity: medium}}
  - {{name: officers_change, severity: low}}
  - {{name: share_capital_change, min_change: 0.0, severity: low}}
  - {{name: p_alive_drop, threshold: 0.5, severity: high}}
  - {{name: segment_worse, min_steps: 1, severity: medium}}
  - {{name: field_drop, field: esg_score, min_change: 10, severity: medium}}
  - {{name: flag_set, field: legal_event, severity: high}}
actions:                         # next-action rules in the order they are evaluated: the kit's defaults
  - {{name: protect_credit, valuable_share: 0.2, min_notches: 1, on_worsening: true, priority: high}}
  - {{name: reduce_exposure, low_value_share: 0.5, min_p_late: 0.5, max_payment_index: 50, priority: high}}
  - {{name: collect, min_days: 60, min_amount: 0, priority: high}}
  - {{name: retain, valuable_share: 0.2, lapsed_days: 365, max_p_alive: 0.5, min_churn_probability: 0.5, priority: high}}
  - {{name: grow, valuable_share: 0.2, min_p_alive: 0.8, min_payment_index: 80, priority: medium}}
  - {{name: reactivate, valuable_share: 0.2, lapsed_days: 365, priority: medium}}
  - {{name: serve_at_lower_cost, low_value_share: 0.3, priority: low}}
  - {{name: maintain, priority: low}}
"""

_CSV_READ = """\
  sep: ";"
  decimal: ","
  thousands: "."
  encoding: utf-8-sig
  date_format: "%d/%m/%Y"
"""
_CSV_SNAPSHOT_READ = """\
    columns: {}
    sep: ","
    decimal: "."
    thousands: null
    encoding: utf-8
    date_format: "%Y-%m-%d"
"""


def _flow_map(mapping: dict[str, str]) -> str:
    return yaml.safe_dump(mapping, default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=10**6).strip()


def write_sample(client: SampleClient, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write a generated client as a client's export folder with its ``portfolio.yaml`` and ``truth.json``.

    ``fmt="csv"``: ``clienti.csv``, ``movimenti.csv``, ``fatture.csv`` (Italian headers, ``;``, decimal
    comma, thousands ``.``, dd/mm/yyyy, UTF-8 with BOM) and ``snapshots/rating_<date>.csv`` (canonical
    headers, ``,``, ISO, no ``snapshot_date`` column), plus ``truth_customers.csv``. ``fmt="parquet"``: the
    same layout in Parquet with canonical column names (``customers.parquet`` ...).

    Parameters
    ----------
    client : SampleClient
    out_dir : path
        Folder to write (created if missing; existing files of the same names are replaced).
    fmt : {"csv", "parquet"}

    Returns
    -------
    list of Path
        The files written, config first.

    Examples
    --------
    >>> paths = write_sample(generate_sample(100), "/tmp/client")        # doctest: +SKIP
    >>> paths[0].name                                                     # doctest: +SKIP
    'portfolio.yaml'
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    (out / "snapshots").mkdir(parents=True, exist_ok=True)
    files = _CSV_FILES if fmt == "csv" else _PARQUET_FILES
    written = [out / "portfolio.yaml"]
    for table in ("customers", "transactions", "invoices"):
        path = out / files[table]
        if fmt == "csv":
            _italian_csv(getattr(client, table), table, path)
        else:
            getattr(client, table).to_parquet(path, index=False)
        written.append(path)
    for date, snap in client.snapshots.groupby("snapshot_date", sort=True):
        path = out / "snapshots" / f"rating_{date.date().isoformat()}.{fmt}"
        snap = snap.drop(columns="snapshot_date")
        if fmt == "csv":
            snap.to_csv(path, index=False, encoding="utf-8")
        else:
            snap.to_parquet(path, index=False)
        written.append(path)
    maps = {t: ({v: k for k, v in CLIENT_COLUMNS[t].items()} if fmt == "csv" else {}) for t in files}
    written[0].write_text(_YAML_TEMPLATE.format(
        as_of=client.truth["as_of"], ext=fmt,
        read=_CSV_READ if fmt == "csv" else "  format: parquet\n",
        snapshot_read=_CSV_SNAPSHOT_READ if fmt == "csv" else "    columns: {}\n",
        **files, **{f"{t}_map": _flow_map(m) for t, m in maps.items()},
    ), encoding="utf-8")
    latent_path = out / f"truth_customers.{fmt}"
    if fmt == "csv":
        client.latent.to_csv(latent_path, index=False, encoding="utf-8")
    else:
        client.latent.to_parquet(latent_path, index=False)
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(client.truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    written += [truth_path, latent_path]
    logger.info("wrote %d files to %s", len(written), out)
    return written


def make_sample(out_dir: str | Path, n_customers: int = 2000, seed: int = 42, as_of: str = "2026-10-31",
                fmt: str = "csv", years: float = 3.0, lines_per_invoice: float = 1.0) -> list[Path]:
    """Generate a client and write it to ``out_dir`` (what ``portfolio-kit sample`` runs).

    Examples
    --------
    >>> make_sample("data/sample")                                      # doctest: +SKIP
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    client = generate_sample(n_customers=n_customers, as_of=as_of, years=years, seed=seed,
                             lines_per_invoice=lines_per_invoice)
    return write_sample(client, out_dir, fmt=fmt)
