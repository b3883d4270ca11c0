"""Monitoring: what changed between two portfolio snapshots, how classes migrated, what needs action.

Three steps, each a function on plain per-customer tables:

:func:`diff_snapshots`
    Two tables with one row per customer (two business-information snapshots, or the per-customer outputs of
    two runs: segment, ABC class, CLV, P(alive), DSO, aging ...) -> a :class:`SnapshotDiff` with the added
    and removed customers, one row per changed field (before, after, delta) and summaries.
:func:`migration_matrix`
    Counts and row-normalised shares of customers moving between classes (ratings, segments, ABC classes),
    with ``new`` and ``gone`` margins and a mobility summary (upgraded / stable / downgraded).
:func:`evaluate_alerts`
    Configurable rules (:func:`parse_alert_rules`, :data:`DEFAULT_ALERT_RULES`; ``field_change``,
    ``field_drop``, ``field_rise`` and ``flag_set`` work on any column, e.g. an ESG score or legal events)
    applied to a diff: one row per alert with its severity, the values it is about and the value at stake; the
    report writes the readable messages (:func:`portfolio_kit.report.wording.monitoring.alerts_with_messages`).

Customers are matched on their key as text: surrounding blanks are ignored and, by default, numeric-looking
keys are compared as numbers, so ``123``, ``123.0``, ``"0123"`` and ``" 123 "`` are the same customer (an
export read as numbers loses leading zeros). Tables show the key as written in the ``after`` table (the
``before`` table for removed customers).

To diff against the previous run of a client, read that run's per-customer tables and pass them as
``before``; to let every rule see every column, join each run's tables on the key first (snapshot, CLV
table, aging by customer, exposure ...), e.g. ``snapshot.merge(clv_table, on="customer_id", how="left")``.

The modules: :mod:`~portfolio_kit.monitoring.keys` (matching customers), :mod:`~portfolio_kit.monitoring.diff`
(the diff and the value bridge), :mod:`~portfolio_kit.monitoring.migration` (migration matrices and class
orders), :mod:`~portfolio_kit.monitoring.alerts` (the rules); figures are in
:mod:`portfolio_kit.report.plots.monitoring`.

Examples
--------
>>> import pandas as pd
>>> before = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "rating": ["A", "BBB", "AA"],
...                        "credit_limit": [100.0, 50.0, 80.0]})
>>> after = pd.DataFrame({"customer_id": ["C1", "C2", "C4"], "rating": ["A", "B", "A"],
...                       "credit_limit": [100.0, 30.0, 10.0]})
>>> diff = diff_snapshots(before, after)
>>> diff.changes[["customer_id", "field", "before", "after", "delta"]]
  customer_id         field before after  delta
0          C2        rating    BBB     B    NaN
1          C2  credit_limit   50.0  30.0  -20.0
>>> evaluate_alerts(diff)[["customer_id", "rule", "severity"]]
  customer_id              rule severity
0          C2  credit_limit_cut     high
1          C2  rating_downgrade     high
"""

from portfolio_kit.monitoring.alerts import (ALERT_RULE_KINDS, DEFAULT_ALERT_RULES, SEVERITIES, AlertRuleError,
                                             evaluate_alerts, parse_alert_rules)
from portfolio_kit.monitoring.diff import SnapshotDiff, diff_snapshots, snapshot_pair, value_bridge
from portfolio_kit.monitoring.figures import key_figures
from portfolio_kit.monitoring.migration import RATING_SCALE, RFM_SEGMENT_ORDER, Migration, migration_matrix

__all__ = [
    "key_figures",
    "RATING_SCALE", "RFM_SEGMENT_ORDER", "SEVERITIES", "SnapshotDiff", "Migration", "AlertRuleError",
    "snapshot_pair", "diff_snapshots", "value_bridge", "migration_matrix", "parse_alert_rules",
    "evaluate_alerts", "DEFAULT_ALERT_RULES", "ALERT_RULE_KINDS",
]
