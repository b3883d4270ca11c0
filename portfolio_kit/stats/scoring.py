"""Validation of probability scores against 0/1 outcomes: AUC, Brier score, calibration and lift tables.

Shared by the models that predict an event per invoice or customer (late payment, churn). Every function
takes ``y`` (0/1 or bool outcomes) and ``p`` (predicted probabilities in [0, 1]) of the same length, without
missing values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["auc", "brier_score", "classification_metrics", "calibration_table", "lift_table"]


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if y.size != p.size:
        raise ValueError(f"y and p: expected the same length, got {y.size} and {p.size}")
    if y.size == 0:
        raise ValueError("y and p: no observations")
    if np.isnan(y).any() or np.isnan(p).any():
        raise ValueError("y and p: missing values; drop unresolved outcomes and unscored rows first")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"y: expected 0/1 outcomes, got values such as {np.unique(y[~np.isin(y, (0.0, 1.0))])[:3]}")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("p: expected probabilities in [0, 1]")
    return y, p


def auc(y, p) -> float:
    """Area under the ROC curve, from ranks (Mann-Whitney), ties counting one half::

        AUC = (sum of the ranks of the positives - n1 (n1 + 1) / 2) / (n1 n0)

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, p = _check(y, p)
    n1 = y.sum()
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("y: AUC needs both outcomes (0 and 1)")
    ranks = stats.rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(y, p) -> float:
    """Brier score, the mean squared error of the probabilities: ``mean((p - y)**2)`` (0 is perfect).

    Examples
    --------
    >>> brier_score([0, 1], [0.25, 0.5])
    0.15625
    """
    y, p = _check(y, p)
    return float(np.mean((p - y) ** 2))


def classification_metrics(y, p) -> pd.DataFrame:
    """One row of validation figures: ``n``, ``events``, ``event_rate``, ``mean_predicted``, ``auc``,
    ``brier``, and ``brier_skill`` = ``1 - brier / (r (1 - r))`` with ``r`` the event rate (the gain over
    predicting the rate for everyone; ``NaN`` when all outcomes are equal)."""
    y, p = _check(y, p)
    rate = y.mean()
    brier = brier_score(y, p)
    has_both = 0 < rate < 1
    return pd.DataFrame([{"n": y.size, "events": int(y.sum()), "event_rate": rate, "mean_predicted": p.mean(),
                          "auc": auc(y, p) if has_both else np.nan, "brier": brier,
                          "brier_skill": 1 - brier / (rate * (1 - rate)) if has_both else np.nan}])


def calibration_table(y, p, bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Predicted against observed event rates by bin of predicted probability.

    Parameters
    ----------
    y, p : array-like
        Outcomes and probabilities.
    bins : int
        Number of bins.
    strategy : {"quantile", "uniform"}
        Equal-count bins (ties kept together, so there may be fewer) or equal-width bins on [0, 1].

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``bin`` (1 = lowest probabilities), ``n``, ``mean_predicted``,
        ``observed_rate`` and its 95% Wilson interval ``observed_low``, ``observed_high``.

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2)[["n", "mean_predicted", "observed_rate"]]
       n  mean_predicted  observed_rate
    0  2            0.15            0.0
    1  2            0.80            1.0
    """
    y, p = _check(y, p)
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins: expected a whole number >= 1, got {bins!r}")
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, int(bins) + 1)[1:-1]))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, int(bins) + 1)[1:-1]
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    code = np.searchsorted(edges, p, side="left")
    n = np.bincount(code, minlength=edges.size + 1)
    keep = n > 0
    n = n[keep]
    events = np.bincount(code, weights=y, minlength=edges.size + 1)[keep]
    predicted = np.bincount(code, weights=p, minlength=edges.size + 1)[keep] / n
    rate = events / n
    z = stats.norm.ppf(0.975)
    centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2))
    return pd.DataFrame({"bin": np.arange(1, n.size + 1), "n": n, "mean_predicted": predicted, "observed_rate": rate,
                         "observed_low": centre - half, "observed_high": centre + half})


def lift_table(y, p, groups: int = 10) -> pd.DataFrame:
    """Events captured by the highest scores: rows sorted by ``p`` descending, cut in ``groups`` equal groups.

    Returns
    -------
    DataFrame
        ``group`` (1 = highest scores), ``n``, ``events``, ``event_rate``, ``lift`` (event rate / overall rate),
        ``cumulative_share_of_events`` (share of all events in this group and the ones above it).

    Examples
    --------
    >>> lift_table([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], groups=2)["lift"].tolist()
    [2.0, 0.0]
    """
    y, p = _check(y, p)
    if int(groups) != groups or groups < 1:
        raise ValueError(f"groups: expected a whole number >= 1, got {groups!r}")
    order = np.argsort(-p, kind="stable")
    group = np.arange(y.size) * int(groups) // y.size
    n = np.bincount(group, minlength=int(groups))
    events = np.bincount(group, weights=y[order], minlength=int(groups))
    keep = n > 0
    n, events = n[keep], events[keep]
    total = y.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"group": np.arange(1, n.size + 1), "n": n, "events": events.astype(int),
                             "event_rate": events / n, "lift": events / n / y.mean(),
                             "cumulative_share_of_events": np.cumsum(events) / total})
