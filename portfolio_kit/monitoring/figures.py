"""The monitoring page's headline numbers."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.data.schemas import key_figures_table
from portfolio_kit.monitoring.alerts import SEVERITIES
from portfolio_kit.monitoring.diff import SnapshotDiff
from portfolio_kit.monitoring.migration import Migration

__all__ = ["key_figures"]


def key_figures(diff: SnapshotDiff | None, ratings: Migration | None, alerts: pd.DataFrame,
                compared_with_run: str = "") -> pd.DataFrame:
    """Headline numbers of monitoring (:func:`~portfolio_kit.data.schemas.key_figures_table`): customers added,
    removed and changed between the two snapshots (``diff``, None with fewer than two), rating downgrades
    (``ratings``, the rating migration), alerts per severity, and the run compared with ("" for none)."""
    counts = diff.summary.set_index("measure")["customers"] if diff is not None else {}
    downgrades = (int(ratings.mobility.set_index("movement").at["downgraded", "customers"])
                  if ratings is not None else 0)
    return key_figures_table({
        "customers_added": (int(counts.get("added", 0)), "count"),
        "customers_removed": (int(counts.get("removed", 0)), "count"),
        "customers_changed": (int(counts.get("changed", 0)), "count"),
        "rating_downgrades": (downgrades, "count"),
        **{f"alerts_{s}": (int((alerts["severity"] == s).sum()), "count") for s in SEVERITIES},
        "compared_with_run": (compared_with_run, "text"),
    })
