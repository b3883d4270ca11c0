"""Receivables and payment behaviour: how much is outstanding and how old, who pays late and whether it is
getting worse, exposure against credit limits, and models of late payment and time to payment.

Every function takes the canonical invoices (and customers where needed) with an ``as_of`` date and returns a
DataFrame, one call per table, ready for a notebook:

========================================  =====================================================================
:func:`aging`, :func:`aging_history`      open receivables by days past due, at a date or per month
:func:`receivables_kpis`                  DSO, countback DSO, best possible DSO, ADD, CEI per month
:func:`dso_countback` ...                 the formulas themselves, on numbers
:func:`exposure`                          open receivables vs credit limit per customer
:func:`exposure_concentration`            Gini, HHI, top shares of exposure; amounts over limit
:func:`days_late`                         days late of every paid invoice
:func:`late_payment_shares`               share of invoices / amount / customers > 30 days late per month
:func:`payment_profile`                   per customer: on time / occasionally / chronically late, trend
:func:`payment_index`                     a 1-100 payment index per customer (PAYDEX-like)
:class:`LatePaymentModel`                 logit of P(paid > 30 days late) on features known at issue
:func:`backtest_late_payment`             the logit validated on a later window (AUC, Brier, calibration)
:func:`kaplan_meier`                      share of invoices unpaid by days since issue, by segment
:class:`PaymentTimeModel`                 Cox model of time to payment; expected cash in 30/60/90 days
:func:`fit_sample`                        the invoices a model is fitted on: all, or above :data:`MAX_FIT_ROWS`
                                          a seeded sample stratified by outcome and customer size
:func:`invoice_ledger`                    the invoices as known at a date, as arrays (a :class:`Ledger`), for
                                          other analyses; with :func:`segment_codes`, :func:`with_segment`,
                                          :data:`DEFAULT_EDGES`, :data:`TOLERANCE` and :data:`UNKNOWN_SEGMENT`
========================================  =====================================================================

The ledger rules (as-of date, partial payments, credit notes, what counts as paid or open, input checks) are
in :mod:`portfolio_kit.payments.ledger`; figures are in :mod:`portfolio_kit.report.plots.payments`.
"""

from portfolio_kit.payments.behaviour import (PAYMENT_INDEX_SCALE, PROFILES, days_late, late_payment_shares,
                                              payment_index, payment_profile)
from portfolio_kit.payments.figures import key_figures
from portfolio_kit.payments.ledger import (TOLERANCE, UNKNOWN_SEGMENT, Ledger, check_invoices, open_invoices,
                                          segment_codes, with_segment)
from portfolio_kit.payments.ledger import ledger as invoice_ledger  # the name `ledger` is the module's
from portfolio_kit.payments.models import (MAX_FIT_ROWS, NUMERIC_FEATURES, UNPAID_COLUMNS, Backtest, LatePaymentModel,
                                           PaymentTimeModel, backtest_late_payment, fit_sample, invoice_features,
                                           kaplan_meier, median_days_to_pay, payment_durations)
from portfolio_kit.payments.receivables import (DEFAULT_EDGES, aging, aging_history, aging_labels, cash_collected,
                                                collection_effectiveness_index, dso_countback, dso_standard, exposure,
                                                exposure_concentration, receivables_kpis)

__all__ = [
    "check_invoices", "open_invoices", "key_figures",
    "invoice_ledger", "Ledger", "segment_codes", "with_segment", "DEFAULT_EDGES", "TOLERANCE", "UNKNOWN_SEGMENT",
    "aging_labels", "aging", "aging_history", "cash_collected", "dso_standard", "dso_countback", "collection_effectiveness_index",
    "receivables_kpis", "exposure", "exposure_concentration",
    "days_late", "late_payment_shares", "payment_index", "payment_profile", "PAYMENT_INDEX_SCALE", "PROFILES",
    "NUMERIC_FEATURES", "invoice_features", "LatePaymentModel", "Backtest", "backtest_late_payment",
    "MAX_FIT_ROWS", "fit_sample", "payment_durations", "UNPAID_COLUMNS", "kaplan_meier", "median_days_to_pay", "PaymentTimeModel",
]
