"""Credit policy: the decisions a credit manager takes from the client's own ledger.

=============================================  ================================================================
:func:`historical_loss_rates`                  loss rate per aging bucket from the client's invoices (IFRS 9
                                               simplified approach, payment-profile method), optionally per
                                               segment
:func:`provision_matrix`                       rates applied to amounts by bucket (the published examples)
:func:`customer_ecl`, :func:`ecl_by_bucket`    the expected credit loss on today's receivables, per customer
                                               and for the book
:func:`roll_rates`, :func:`roll_rate_matrix`   where each bucket's balance is a month end later
:func:`payment_habits`                         per customer: sales, terms, observed days to pay and delay
:func:`credit_profile`,                        the credit a customer's buying needs, scaled by its risk: the
:func:`recommended_limits`                     recommended limit and raise / keep / cut / review; the stop
                                               signal of :func:`defaulted_customers`
:func:`terms_what_if`                          DSO, receivables and cash if payment terms change
:func:`discount_offers`                        the yearly cost and break-even of early-payment discounts
:func:`risk_adjusted_value`                    CLV less expected credit loss and the cost of carrying receivables
=============================================  ================================================================

Methods and their assumptions are in each module's docstring: :mod:`~portfolio_kit.credit.ecl`,
:mod:`~portfolio_kit.credit.limits`, :mod:`~portfolio_kit.credit.terms`, :mod:`~portfolio_kit.credit.value`.
They are this kit's, stated so that an auditor can follow them, not a business-information provider's figures.
Figures are in :mod:`portfolio_kit.report.plots.credit`, the reasons in words in
:mod:`portfolio_kit.report.wording.credit`.
"""

from portfolio_kit.credit.ecl import (COLLECTED, WRITTEN_OFF, WRITTEN_OFF_DATE, NoLossHistory, customer_ecl,
                                      ecl_by_bucket, historical_loss_rates, loss_rates_from_profile,
                                      new_receivables_rate, provision_matrix, roll_rate_matrix, roll_rates)
from portfolio_kit.credit.figures import key_figures
from portfolio_kit.credit.limits import (LIMIT_ACTIONS, REASONS, RISK_SIGNALS, CreditPolicy, credit_profile,
                                         defaulted_customers, recommended_limits)
from portfolio_kit.credit.terms import (TERMS_MODES, TermsWhatIf, break_even_discount, discount_offers,
                                        early_payment_discount_cost, parse_offer, payment_habits, terms_what_if)
from portfolio_kit.credit.value import risk_adjusted_value

__all__ = [
    "NoLossHistory", "loss_rates_from_profile", "provision_matrix", "historical_loss_rates", "customer_ecl",
    "ecl_by_bucket", "new_receivables_rate", "roll_rates", "roll_rate_matrix", "WRITTEN_OFF", "WRITTEN_OFF_DATE",
    "COLLECTED",
    "LIMIT_ACTIONS", "REASONS", "RISK_SIGNALS", "CreditPolicy", "defaulted_customers", "credit_profile", "recommended_limits",
    "TERMS_MODES", "TermsWhatIf", "early_payment_discount_cost", "break_even_discount", "parse_offer",
    "discount_offers", "payment_habits", "terms_what_if",
    "risk_adjusted_value", "key_figures",
]
