"""The three churn scores of the same event, fitted at one cut-off and computed at a later date
(:func:`churn_scores`): the logit, the recency-only logit and the purchase model's no-purchase probability.

The validation (:func:`~portfolio_kit.churn.backtest_churn`) and the scores of today's customers both go through
:func:`churn_scores`: trained at ``as_of - 2H`` and scored at ``as_of - H`` for the first, trained at
``as_of - H`` and scored at ``as_of`` for the second."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from portfolio_kit import clv
from portfolio_kit.churn.features import churn_features
from portfolio_kit.churn.labels import churn_labels, whole_months
from portfolio_kit.churn.model import ChurnModel, no_purchase_probability
from portfolio_kit.data.dates import add_months, as_date

__all__ = ["SCORES", "ChurnScores", "checked_cutoffs", "churn_scores"]

#: Names of the logit and the baseline in the score and validation tables (the third score is named after the
#: purchase model: ``"BG/NBD"`` or ``"MBG/NBD"``).
SCORES = {"logit": "logit model", "recency": "recency only"}


@dataclass
class ChurnScores:
    """The three churn scores of the customers active at ``score_date``, the logits fitted at ``train_cutoff``.

    Attributes
    ----------
    model, baseline : ChurnModel
        The logit on all features and the recency-only logit (:meth:`ChurnModel.recency_only`).
    features : DataFrame
        :func:`churn_features` at ``score_date`` (one row per active customer).
    probabilities : DataFrame
        Indexed like ``features``: one churn probability column per score (``logit model``, ``recency only``,
        ``BG/NBD`` or ``MBG/NBD``).
    train_cutoff, score_date : Timestamp
    horizon_months : int
    """

    model: ChurnModel
    baseline: ChurnModel
    features: pd.DataFrame
    probabilities: pd.DataFrame
    train_cutoff: pd.Timestamp
    score_date: pd.Timestamp
    horizon_months: int


def checked_cutoffs(train_cutoff, later, horizon_months, purchase_model: str, later_name: str = "score_date",
                    when: str = "when scoring") -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """The cut-offs and horizon of a fit and a later scoring, checked: the purchase model is known and the
    training labels (``train_cutoff + H``) are known by the later date (its name and ``when`` in the message)."""
    if purchase_model not in clv.PURCHASE_MODELS:
        raise ValueError(f"purchase_model: expected one of {sorted(clv.PURCHASE_MODELS)}, got {purchase_model!r}")
    train, end = as_date(train_cutoff, "train_cutoff"), as_date(later, later_name)
    horizon = whole_months(horizon_months, "horizon_months")
    if add_months(train, horizon) > end:
        raise ValueError(f"train_cutoff {train.date()} + {horizon} month(s) is after {later_name} {end.date()}: the "
                         f"training labels would not be known {when}; move train_cutoff earlier")
    return train, end, horizon


def churn_scores(transactions: pd.DataFrame, train_cutoff, score_date, horizon_months: int,
                 customers: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None, *,
                 active_months: int | None = 12, purchase_model: str = "bgnbd", **model_options) -> ChurnScores:
    """P(no purchase in the ``H`` months after ``score_date``) by the three scores, using only what was known
    at ``score_date``.

    The logit and the recency-only logit are fitted on the features at ``train_cutoff`` and the labels of the
    ``H`` months after it, which must end by ``score_date``; they score the features at ``score_date``. The
    purchase model is fitted on the history up to ``score_date`` (:func:`no_purchase_probability`).

    Parameters
    ----------
    transactions, customers, invoices : DataFrame
        Canonical tables (customers and invoices optional).
    train_cutoff, score_date : date-like
        ``as_of - H`` and ``as_of`` for today's customers (the last cut-off whose labels are known);
        ``as_of - 2H`` and ``as_of - H`` in the validation.
    horizon_months : int
    active_months : int or None
        Population at each date (:func:`churn_labels`).
    purchase_model : {"bgnbd", "mbgnbd"}
    **model_options
        Passed to :class:`ChurnModel` (``numeric=``, ``categorical=``).

    Raises
    ------
    ValueError
        ``train_cutoff + H`` after ``score_date``, a single outcome at ``train_cutoff``, bad input.

    Examples
    --------
    >>> last = add_months(as_of, -H)                                                      # doctest: +SKIP
    >>> today = churn_scores(tx, last, as_of, H, customers, invoices)                    # doctest: +SKIP
    >>> today.probabilities[choose_score(bt.metrics)]                                     # doctest: +SKIP
    """
    train, score, horizon = checked_cutoffs(train_cutoff, score_date, horizon_months, purchase_model)
    labels = churn_labels(transactions, train, horizon, as_of=score, active_months=active_months)
    feature_options = dict(customers=customers, invoices=invoices, active_months=active_months)
    train_features = churn_features(transactions, train, **feature_options)
    features = churn_features(transactions, score, **feature_options)
    model = ChurnModel(**model_options).fit(train_features, labels)
    baseline = ChurnModel.recency_only().fit(train_features, labels)
    no_purchase = no_purchase_probability(transactions, score, horizon, purchase_model)["no_purchase_probability"]
    probabilities = pd.DataFrame({SCORES["logit"]: model.predict(features),
                                  SCORES["recency"]: baseline.predict(features),
                                  clv.PURCHASE_MODELS[purchase_model].label: no_purchase.reindex(features.index)})
    return ChurnScores(model, baseline, features, probabilities, train, score, horizon)
