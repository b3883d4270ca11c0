"""Churn: who is leaving, measured three ways and validated on the client's own history.

A *cut-off* date splits time: what happened on or before it is known (features), what happens after it is
the outcome (labels). With ``H`` the horizon in months:

==================  ===================================================================================
history             transactions dated ``<= cutoff``; every feature uses only these (and invoices as
                    known at the cut-off, see :mod:`portfolio_kit.payments.ledger`)
active customer     at least one purchase in ``(cutoff - active_months, cutoff]`` (``active_months=None``:
                    any purchase by the cut-off)
label window        ``(cutoff, cutoff + H]``: the cut-off day itself is history, the last day is included
churned             an active customer with no purchase in the label window
==================  ===================================================================================

A *purchase* is a transaction with a positive amount; returns and credit notes never count as one. Months
are calendar months; a cut-off on a month's last day moves to the last day of the target month
(``2026-06-30`` + 4 months = ``2026-10-31``). The default horizon (:func:`churn_horizon`) is the 90th
percentile of the client's inter-purchase times: nine repeat orders in ten come sooner after the previous one.

Three scores of the same event (no purchase in the next ``H`` months):

- :class:`ChurnModel`: a statsmodels logit on the features of :func:`churn_features` (RFM, spend trend,
  regularity, tenure, payment behaviour, segment attributes), with odds ratios and per-customer drivers;
- :func:`no_purchase_probability`: the BG/NBD or MBG/NBD model of :mod:`portfolio_kit.clv`;
- a recency-only logit (:meth:`ChurnModel.recency_only`), the baseline that shows what the others add.

:func:`churn_scores` fits the logits at one cut-off and computes the three scores at a later date;
:func:`backtest_churn` trains at one cut-off and tests at a later one (AUC, Brier score, calibration, lift for
the three scores side by side). The kit does not assume the logit wins: :func:`choose_score` picks the score
that validated best (highest AUC; within :data:`AUC_TOLERANCE` of it, the lower Brier score; then the simpler
score), and that score gives today's churn probabilities. :func:`at_risk_customers` ranks the customers by
churn probability x value at stake, with the topics driving each one's risk (from the logit, whichever score
gives the probability); :func:`tenure_survival` (Kaplan-Meier) and :func:`cohort_retention` describe
retention. Figures are in :mod:`portfolio_kit.report.plots.churn`, the drivers and the choice of score in words
in :mod:`portfolio_kit.report.wording.churn`. :func:`add_months` is :func:`portfolio_kit.data.dates.add_months`,
the calendar-month step of the cut-offs.

==================  ===================================================================================
:mod:`.labels`      purchase days, :func:`churn_horizon`, :func:`churn_labels`
:mod:`.features`    :func:`churn_features`
:mod:`.model`       :class:`ChurnModel`, :func:`no_purchase_probability`
:mod:`.scores`      :func:`churn_scores`, :class:`ChurnScores`
:mod:`.backtest`    :func:`backtest_churn`, :class:`ChurnBacktest`, :func:`choose_score`, :func:`rank_scores`
:mod:`.at_risk`     :func:`at_risk_customers`
:mod:`.survival`    :func:`tenure_survival`, :func:`survival_at`, :func:`cohort_retention`
==================  ===================================================================================

Examples
--------
>>> H = churn_horizon(tx, as_of)                                                         # doctest: +SKIP
>>> bt = backtest_churn(tx, add_months(as_of, -2 * H), add_months(as_of, -H), H, customers, invoices,
...                     as_of=as_of)                                                      # doctest: +SKIP
>>> bt.metrics[["score", "auc", "brier"]]                                                # doctest: +SKIP
>>> score = choose_score(bt.metrics)                                                     # doctest: +SKIP
>>> today = churn_scores(tx, add_months(as_of, -H), as_of, H, customers, invoices)       # doctest: +SKIP
>>> at_risk_customers(today.model, today.features, clv_values, customers,
...                   probability=today.probabilities[score])                             # doctest: +SKIP
"""

from portfolio_kit.churn.at_risk import at_risk_customers
from portfolio_kit.churn.backtest import (AUC_TOLERANCE, SIMPLER_FIRST, ChurnBacktest, backtest_churn, choose_score,
                                          rank_scores)
from portfolio_kit.churn.features import CUSTOMER_ATTRIBUTES, RELATIONSHIP_COLUMNS, churn_features
from portfolio_kit.churn.figures import AT_RISK_PROBABILITY, key_figures
from portfolio_kit.churn.labels import DAYS_PER_MONTH, churn_horizon, churn_labels
from portfolio_kit.churn.model import (DEFAULT_CATEGORICAL, MODEL_FEATURES, TOPICS, ChurnModel,
                                       no_purchase_probability)
from portfolio_kit.churn.scores import SCORES, ChurnScores, churn_scores
from portfolio_kit.churn.survival import (TENURE_COLUMNS, cohort_retention, survival_at, survival_column,
                                          tenure_survival)
from portfolio_kit.data.dates import add_months

__all__ = ["CUSTOMER_ATTRIBUTES", "RELATIONSHIP_COLUMNS", "MODEL_FEATURES", "DEFAULT_CATEGORICAL", "TOPICS", "SCORES",
           "DAYS_PER_MONTH", "TENURE_COLUMNS", "add_months", "churn_horizon", "churn_labels", "churn_features",
           "ChurnModel", "no_purchase_probability", "ChurnScores", "churn_scores", "ChurnBacktest", "backtest_churn",
           "AUC_TOLERANCE", "SIMPLER_FIRST", "rank_scores", "choose_score", "at_risk_customers",
           "tenure_survival", "survival_at", "survival_column", "cohort_retention", "AT_RISK_PROBABILITY",
           "key_figures"]
