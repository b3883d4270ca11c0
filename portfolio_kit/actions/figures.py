"""The actions page's headline numbers."""

from __future__ import annotations

import pandas as pd

from portfolio_kit.actions.rules import ACTIONS
from portfolio_kit.data.schemas import key_figures_table

__all__ = ["key_figures"]


def key_figures(actions: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers of :func:`~portfolio_kit.actions.next_actions`: customers, those with something to do
    (not ``maintain``), the high-priority ones and their value at stake, and the customers per action."""
    todo = actions["action"].ne("maintain")
    high = todo & actions["priority"].astype(str).eq("high")
    counts = actions["action"].value_counts()
    return key_figures_table({
        "customers": (int(len(actions)), "count"),
        "customers_to_act_on": (int(todo.sum()), "count"),
        "high_priority": (int(high.sum()), "count"),
        "high_priority_value_at_stake": (round(float(actions.loc[high, "value_at_stake"].sum()), 0), "money.0"),
        **{f"action_{a}": (int(counts.get(a, 0)), "count") for a in ACTIONS},
    })
