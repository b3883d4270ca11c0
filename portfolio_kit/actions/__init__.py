"""From measurements to decisions: one row per customer, the next action for each, strategies per segment, and
the sales network's books.

==========================================  ================================================================
:func:`customer_360`                        what every analysis of the run says about each customer
:func:`next_actions`                        the next action per customer from the config's ``actions`` rules
                                            (:data:`DEFAULT_ACTION_RULES`, :func:`parse_action_rules`), with
                                            secondary actions, value at stake, priority and owner
:func:`segment_strategies`                  per RFM segment and value class: size, value, risk and the levers
                                            of the policy (:data:`DEFAULT_LEVERS`, :func:`check_levers`)
:func:`books`                               each account manager's (or region's) book
:func:`relationship_indicators`             complaints, satisfaction, NPS against churn and late payment
:func:`retention_kpis`                      retention and repeat purchase by cohort
==========================================  ================================================================

The rules and their order are in :mod:`~portfolio_kit.actions.rules`; the reasons in words (citing each row's
numbers) in :mod:`portfolio_kit.report.wording.actions`.
"""

from portfolio_kit.actions.figures import key_figures
from portfolio_kit.actions.network import BOOK_COLUMNS, books, relationship_indicators, retention_kpis
from portfolio_kit.actions.profile import (MASTER_COLUMNS, RELATIONSHIP_NAMES, SOURCES, customer_360,
                                           overdue_beyond, rating_moves, sales_years)
from portfolio_kit.actions.rules import (ACTION_RULE_KINDS, ACTIONS, DEFAULT_ACTION_RULES, PRIORITIES,
                                         ActionRuleError, next_actions, parse_action_rules)
from portfolio_kit.actions.strategies import DEFAULT_LEVERS, LEVERS, check_levers, segment_strategies

__all__ = [
    "customer_360", "MASTER_COLUMNS", "RELATIONSHIP_NAMES", "SOURCES", "overdue_beyond", "rating_moves",
    "sales_years",
    "ACTIONS", "PRIORITIES", "ActionRuleError", "ACTION_RULE_KINDS", "DEFAULT_ACTION_RULES", "parse_action_rules",
    "next_actions",
    "LEVERS", "DEFAULT_LEVERS", "check_levers", "segment_strategies",
    "BOOK_COLUMNS", "books", "relationship_indicators", "retention_kpis", "key_figures",
]
