"""Would the churn scores have worked? Three scores trained at one cut-off and tested at a later one
(:func:`backtest_churn`): the logit, the recency-only logit and the purchase model's no-purchase probability."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from portfolio_kit.churn.features import churn_features
from portfolio_kit.churn.labels import checked_transactions, churn_labels, whole_months
from portfolio_kit import clv
from portfolio_kit.churn.model import ChurnModel, no_purchase_probability
from portfolio_kit.data.dates import add_months, as_date
from portfolio_kit.stats import scoring

__all__ = ["SCORES", "ChurnBacktest", "backtest_churn"]

#: Names of the logit and the baseline in the validation tables (the third score is named after the purchase
#: model: ``"BG/NBD"`` or ``"MBG/NBD"``).
SCORES = {"logit": "logit model", "recency": "recency only"}


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
    scores are computed at ``test_cutoff`` (the BG/NBD-family model fitted on the history up to it) and
    compared with the labels of the window after it.

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
    if purchase_model not in clv.PURCHASE_MODELS:
        raise ValueError(f"purchase_model: expected one of {sorted(clv.PURCHASE_MODELS)}, got {purchase_model!r}")
    train, test = as_date(train_cutoff, "train_cutoff"), as_date(test_cutoff, "test_cutoff")
    horizon = whole_months(horizon_months, "horizon_months")
    if add_months(train, horizon) > test:
        raise ValueError(f"train_cutoff {train.date()} + {horizon} month(s) is after test_cutoff {test.date()}: "
                         "the training labels would not be known at the test cut-off; move train_cutoff earlier")
    as_of = as_date(checked_transactions(transactions)["date"].max() if as_of is None else as_of, "as_of")
    options = dict(active_months=active_months)
    train_labels = churn_labels(transactions, train, horizon, as_of=test, **options)
    test_labels = churn_labels(transactions, test, horizon, as_of=as_of, **options)
    churned = int(test_labels["churned"].sum())
    if churned in (0, len(test_labels)):
        raise ValueError(f"{'all' if churned else 'none'} of the {len(test_labels)} customer(s) active at "
                         f"test_cutoff {test.date()} churned: AUC and lift need both outcomes; choose another "
                         "cut-off or horizon")
    feature_options = dict(customers=customers, invoices=invoices, **options)
    train_features = churn_features(transactions, train, **feature_options)
    test_features = churn_features(transactions, test, **feature_options)
    model = ChurnModel(**model_options).fit(train_features, train_labels)
    baseline = ChurnModel(numeric=["recency_days"], categorical=()).fit(train_features, train_labels)
    name = clv.PURCHASE_MODELS[purchase_model].label
    btyd = no_purchase_probability(transactions, test, horizon, purchase_model)
    test_features = test_features.loc[test_labels.index]
    scores = pd.DataFrame({"churned": test_labels["churned"], SCORES["logit"]: model.predict(test_features),
                           SCORES["recency"]: baseline.predict(test_features),
                           name: btyd["no_purchase_probability"].reindex(test_labels.index)})
    y = scores["churned"]
    names = [SCORES["logit"], SCORES["recency"], name]

    def by_score(table_of):  # one table per score, stacked, the score's name first
        table = pd.concat([table_of(y, scores[s]).assign(score=s) for s in names], ignore_index=True)
        return table[["score", *table.columns[:-1]]]

    metrics = by_score(scoring.classification_metrics)
    calibration = by_score(lambda t, p: scoring.calibration_table(t, p, bins))
    lift = by_score(lambda t, p: scoring.lift_table(t, p, groups))
    return ChurnBacktest(model, baseline, scores, metrics, calibration, lift, train, test, horizon)
