"""Would the churn scores have worked? Three scores trained at one cut-off and tested at a later one
(:func:`backtest_churn`): the logit, the recency-only logit and the purchase model's no-purchase probability;
and the one that validated best (:func:`choose_score`), the score the at-risk list uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_kit import clv
from portfolio_kit.churn.labels import checked_transactions, churn_labels
from portfolio_kit.churn.model import ChurnModel
from portfolio_kit.churn.scores import SCORES, checked_cutoffs, churn_scores
from portfolio_kit.data.dates import as_date
from portfolio_kit.stats import scoring

__all__ = ["AUC_TOLERANCE", "SIMPLER_FIRST", "ChurnBacktest", "backtest_churn", "rank_scores", "choose_score"]

#: Two AUCs this close (boundary included) rank customers equally well: the lower Brier score decides.
AUC_TOLERANCE = 0.01

#: Scores equal on AUC (within :data:`AUC_TOLERANCE`) and on Brier score: the simpler is preferred, in this
#: order (recency alone, the purchase model on frequency and recency, the logit on every feature); any other
#: score after them, in the order of the table.
SIMPLER_FIRST = (SCORES["recency"], *(model.label for model in clv.PURCHASE_MODELS.values()), SCORES["logit"])

_SLACK = 1e-9  # binary rounding: 0.80 - 0.79 is 0.010000000000000009, a difference of exactly AUC_TOLERANCE


@dataclass
class ChurnBacktest:
    """Three churn scores trained at ``train_cutoff`` and tested on the customers active at ``test_cutoff``.

    Attributes
    ----------
    model, baseline : ChurnModel
        The logit on all features and the recency-only logit, fitted at ``train_cutoff``.
    scores : DataFrame
        Indexed by ``customer_id``: ``churned`` (outcome after ``test_cutoff``) and one probability column
        per score (``logit model``, ``recency only``, ``BG/NBD`` or ``MBG/NBD``).
    metrics : DataFrame
        One row per score: :func:`portfolio_kit.stats.scoring.classification_metrics` (AUC, Brier ...).
    calibration, lift : DataFrame
        :func:`portfolio_kit.stats.scoring.calibration_table` and :func:`~portfolio_kit.stats.scoring.lift_table` by
        ``score``.
    train_cutoff, test_cutoff : Timestamp
    horizon_months : int
    """

    model: ChurnModel
    baseline: ChurnModel
    scores: pd.DataFrame
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame
    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    horizon_months: int


def backtest_churn(transactions: pd.DataFrame, train_cutoff, test_cutoff, horizon_months: int,
                   customers: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None, *, as_of=None,
                   active_months: int | None = 12, purchase_model: str = "bgnbd", bins: int = 10,
                   groups: int = 10, **model_options) -> ChurnBacktest:
    """Train on ``train_cutoff``, test on ``test_cutoff``: would the ranking have worked?

    The logit and the recency-only baseline are fitted on the features at ``train_cutoff`` and the labels of
    the window after it, which must end by ``test_cutoff`` (so everything used was known then). The three
    scores are computed at ``test_cutoff`` (the BG/NBD-family model fitted on the history up to it; all three
    by :func:`~portfolio_kit.churn.churn_scores`) and compared with the labels of the window after it;
    :func:`choose_score` picks the one the at-risk list uses.

    Parameters
    ----------
    transactions, customers, invoices : DataFrame
        Canonical tables (customers and invoices optional).
    train_cutoff, test_cutoff : date-like
        Typically ``as_of - 2H`` and ``as_of - H`` months (:func:`add_months`).
    horizon_months : int
    as_of : date-like, optional
        End of the data (default: the last transaction).
    active_months : int or None
        Population at each cut-off (:func:`churn_labels`).
    purchase_model : {"bgnbd", "mbgnbd"}
    bins, groups : int
        Calibration bins and lift groups (10: deciles).
    **model_options
        Passed to :class:`ChurnModel` (``numeric=``, ``categorical=``).

    Raises
    ------
    ValueError
        Cut-offs in the wrong order or too close, label windows not yet observed, a single outcome at either
        cut-off (all customers churned or none).

    Examples
    --------
    >>> bt = backtest_churn(tx, "2025-12-31", "2026-05-31", 5, customers, invoices,
    ...                     as_of="2026-10-31")                                   # doctest: +SKIP
    >>> bt.metrics[["score", "auc", "brier"]]                                     # doctest: +SKIP
    """
    train, test, horizon = checked_cutoffs(train_cutoff, test_cutoff, horizon_months, purchase_model,
                                           "test_cutoff", "at the test cut-off")
    as_of = as_date(checked_transactions(transactions)["date"].max() if as_of is None else as_of, "as_of")
    test_labels = churn_labels(transactions, test, horizon, as_of=as_of, active_months=active_months)
    churned = int(test_labels["churned"].sum())
    if churned in (0, len(test_labels)):
        raise ValueError(f"{'all' if churned else 'none'} of the {len(test_labels)} customer(s) active at "
                         f"test_cutoff {test.date()} churned: AUC and lift need both outcomes; choose another "
                         "cut-off or horizon")
    scored = churn_scores(transactions, train, test, horizon, customers, invoices, active_months=active_months,
                          purchase_model=purchase_model, **model_options)
    scores = scored.probabilities.loc[test_labels.index]
    names = list(scores.columns)
    scores.insert(0, "churned", test_labels["churned"])
    y = scores["churned"]

    def by_score(table_of):  # one table per score, stacked, the score's name first
        table = pd.concat([table_of(y, scores[s]).assign(score=s) for s in names], ignore_index=True)
        return table[["score", *table.columns[:-1]]]

    metrics = by_score(scoring.classification_metrics)
    calibration = by_score(lambda t, p: scoring.calibration_table(t, p, bins))
    lift = by_score(lambda t, p: scoring.lift_table(t, p, groups))
    return ChurnBacktest(scored.model, scored.baseline, scores, metrics, calibration, lift, train, test, horizon)


def rank_scores(metrics: pd.DataFrame) -> pd.DataFrame:
    """The scores of a validation from best to worst, by the rule of :func:`choose_score` applied again to
    the scores not yet ranked.

    Parameters
    ----------
    metrics : DataFrame
        One row per score with ``score``, ``auc`` and ``brier`` (:attr:`ChurnBacktest.metrics`).

    Returns
    -------
    DataFrame
        ``rank`` (1 = the chosen score), ``score``, ``auc``, ``brier`` and ``within_tolerance`` (the AUC is
        within :data:`AUC_TOLERANCE` of the best one, boundary included; false without an AUC), best first.

    Examples
    --------
    >>> metrics = pd.DataFrame({"score": ["logit model", "recency only", "BG/NBD"],
    ...                         "auc": [0.787, 0.788, 0.70], "brier": [0.142, 0.162, 0.20]})
    >>> rank_scores(metrics)
       rank         score    auc  brier  within_tolerance
    0     1   logit model  0.787  0.142              True
    1     2  recency only  0.788  0.162              True
    2     3        BG/NBD  0.700  0.200             False
    """
    missing = [c for c in ("score", "auc", "brier") if c not in metrics.columns]
    if missing:
        raise ValueError(f"metrics: missing column(s) {missing}; expected backtest_churn()'s metrics")
    if metrics.empty or metrics["score"].duplicated().any():
        raise ValueError(f"metrics: expected one row per score, got {metrics['score'].tolist()}")
    table = metrics[["score", "auc", "brier"]].reset_index(drop=True).astype({"auc": float, "brier": float})
    simpler = {name: k for k, name in enumerate(SIMPLER_FIRST)}
    # tie-breaks, as sort keys: Brier (missing: worst), then the simpler score, then the table's order
    brier = table["brier"].fillna(np.inf).to_numpy()
    order = np.array([simpler.get(name, len(simpler)) for name in table["score"]])
    auc = table["auc"].to_numpy()
    left, ranked = list(range(len(table))), []
    while left:
        scored = [i for i in left if not np.isnan(auc[i])]
        best = max(auc[i] for i in scored) if scored else np.nan
        close = [i for i in scored if best - auc[i] <= AUC_TOLERANCE + _SLACK] or left
        pick = min(close, key=lambda i: (brier[i], order[i], i))
        ranked.append(pick)
        left.remove(pick)
    top = np.nanmax(auc) if not np.isnan(auc).all() else np.nan
    out = table.iloc[ranked].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["within_tolerance"] = (top - out["auc"] <= AUC_TOLERANCE + _SLACK).to_numpy()
    return out


def choose_score(metrics: pd.DataFrame) -> str:
    """The score the at-risk list and the actions use: the one that validated best on the later cut-off.

    The rule: the highest AUC wins, unless other scores have an AUC within :data:`AUC_TOLERANCE` (0.01) of
    the highest, boundary included; then the lowest Brier score among them wins (a missing Brier score counts
    as the worst), and on equal Brier scores the simpler score (:data:`SIMPLER_FIRST`). Scores without an AUC
    (not computable) are never chosen.

    Parameters
    ----------
    metrics : DataFrame
        One row per score with ``score``, ``auc`` and ``brier`` (:attr:`ChurnBacktest.metrics`).

    Returns
    -------
    str
        The score's name, as in ``metrics["score"]`` and the columns of :attr:`ChurnScores.probabilities`:
        ``"logit model"``, ``"recency only"`` (:data:`SCORES`), ``"BG/NBD"`` or ``"MBG/NBD"``.

    Raises
    ------
    ValueError
        No score has an AUC, missing columns, a score named twice.

    Examples
    --------
    >>> metrics = pd.DataFrame({"score": ["logit model", "recency only", "BG/NBD"],
    ...                         "auc": [0.787, 0.788, 0.70], "brier": [0.142, 0.162, 0.20]})
    >>> choose_score(metrics)   # AUCs 0.001 apart: the lower Brier score wins
    'logit model'
    """
    ranking = rank_scores(metrics)
    if np.isnan(ranking["auc"].iloc[0]):
        raise ValueError(f"metrics: no score has an AUC ({ranking['score'].tolist()}); none can be chosen")
    return str(ranking["score"].iloc[0])
