"""Kaplan-Meier survival curves of right-censored durations, shared by the analyses (customer tenure in churn,
time to payment of invoices).

``S(t) = prod over event times t_j <= t of (1 - d_j / n_j)`` with ``d_j`` events at ``t_j`` and ``n_j`` rows
still at risk (duration ``>= t_j``) just before; a censored row leaves the risk set after its duration. The
95% band is pointwise, ``S +- 1.96 se`` (Greenwood), clipped to [0, 1]. Computed by statsmodels
``SurvfuncRight``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CURVE_COLUMNS", "kaplan_meier"]

#: The columns of a :func:`kaplan_meier` curve.
CURVE_COLUMNS = ("time", "survival", "ci_low", "ci_high", "at_risk", "events")


def kaplan_meier(durations, events, *, to_longest: bool = False) -> pd.DataFrame:
    """Kaplan-Meier curve of ``durations`` with ``events`` (1: the event happened at that duration, 0: still
    running then, censored).

    Parameters
    ----------
    durations : array-like of float
    events : array-like of 0/1 or bool
    to_longest : bool
        Run the curve on, flat, to the longest duration when it is censored after the last event (follow-up
        continues); otherwise the curve ends at the last event.

    Returns
    -------
    DataFrame
        ``time``, ``survival``, ``ci_low``, ``ci_high``, ``at_risk``, ``events``: a first row at time 0
        (survival 1, everyone at risk, no event), then one row per event time.

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0], to_longest=True)[["time", "survival", "at_risk", "events"]]
       time  survival  at_risk  events
    0   0.0       1.0        5       0
    1   1.0       0.8        5       1
    2   2.0       0.6        4       1
    3   3.0       0.3        2       1
    4   5.0       0.3        1       0
    """
    duration = np.asarray(durations, dtype=float)
    event = np.asarray(events).astype(int)
    if duration.shape != event.shape:
        raise ValueError(f"durations and events: expected the same length, got {duration.size} and {event.size}")
    if not duration.size:
        raise ValueError("durations: no rows")
    from statsmodels.duration.survfunc import SurvfuncRight  # on first use (a slow import)

    fit = SurvfuncRight(duration, event)
    times, at_risk, happened = np.r_[0.0, fit.surv_times], np.r_[duration.size, fit.n_risk], np.r_[0, fit.n_events]
    prob, se = np.r_[1.0, fit.surv_prob], np.r_[0.0, fit.surv_prob_se]
    longest = duration.max()
    if to_longest and longest > times[-1]:
        times, prob, se = np.r_[times, longest], np.r_[prob, prob[-1]], np.r_[se, se[-1]]
        at_risk, happened = np.r_[at_risk, (duration >= longest).sum()], np.r_[happened, 0]
    return pd.DataFrame({"time": times, "survival": prob, "ci_low": np.clip(prob - 1.96 * se, 0, 1),
                         "ci_high": np.clip(prob + 1.96 * se, 0, 1), "at_risk": at_risk.astype(int),
                         "events": happened.astype(int)})
