"""The at-risk list: active customers ranked by churn probability x value at stake, with the topics driving
each one's risk (:func:`at_risk_customers`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.churn.model import ChurnModel

__all__ = ["at_risk_customers"]


def at_risk_customers(model: ChurnModel, features: pd.DataFrame, value_at_stake: pd.Series | None = None,
                      customers: pd.DataFrame | None = None, top_drivers: int = 3, min_effect: float = 0.1, *,
                      probability: pd.Series | None = None) -> pd.DataFrame:
    """Customers ranked by the value they put at risk, with what drives their risk::

        value_at_risk = churn_probability x value_at_stake

    The value at stake is the customer's expected value, typically the ``clv`` column of
    :func:`portfolio_kit.clv.customer_value` (discounted expected margin over its horizon). That value is
    already weighted by P(alive), so customers the purchase model considers gone carry little value at risk:
    the list puts first the valuable customers that are still there and slipping.

    The churn probability is the model's, or ``probability`` when given: the score chosen by
    :func:`~portfolio_kit.churn.choose_score` (a column of :attr:`ChurnScores.probabilities`). The drivers
    always come from the model.

    Parameters
    ----------
    model : ChurnModel
        Fitted (typically at the last cut-off whose labels are known: ``as_of - H``); its drivers explain each
        customer's risk.
    features : DataFrame
        :func:`churn_features` at the date of the ranking (``as_of``).
    value_at_stake : Series, optional
        Indexed by customer id. Without it the list is ranked by churn probability.
    customers : DataFrame, optional
        Canonical customers, for the ``name`` column.
    top_drivers, min_effect
        Driving topics per customer (:meth:`ChurnModel.drivers`).
    probability : Series, optional
        Churn probability by customer id, for every customer of ``features``; default: ``model.predict``.

    Returns
    -------
    DataFrame
        ``risk_rank``, ``customer_id``, [``name``], ``churn_probability``, [``value_at_stake``,
        ``value_at_risk``], ``driver_1`` ... ``driver_<top_drivers>`` (topics, ``None`` past the last one),
        ``recency_days``, ``frequency``, ``mean_gap_days``; highest value at risk first (customers without a
        value last). :func:`portfolio_kit.report.wording.churn.at_risk_in_words` turns the topics into one
        ``drivers`` column of reasons in words.

    Examples
    --------
    >>> now = churn_features(tx, as_of, customers)                                     # doctest: +SKIP
    >>> risk = at_risk_customers(model, now, values["clv"], customers)                 # doctest: +SKIP
    >>> risk[["name", "value_at_risk", "driver_1"]].head()                             # doctest: +SKIP
    >>> today = churn_scores(tx, add_months(as_of, -H), as_of, H, customers)           # doctest: +SKIP
    >>> at_risk_customers(today.model, today.features, values["clv"], customers,
    ...                   probability=today.probabilities[choose_score(bt.metrics)])   # doctest: +SKIP
    """
    if probability is None:
        probability = model.predict(features)
    elif not isinstance(probability, pd.Series) or not pd.api.types.is_numeric_dtype(probability):
        raise ValueError("probability: expected a numeric Series indexed by customer id, e.g. a column of "
                         "churn_scores().probabilities")
    else:
        probability = probability.reindex(features.index).astype(float)
        if probability.isna().any():
            missing = probability.index[probability.isna()]
            raise ValueError(f"probability: no value for {len(missing)} customer(s) of features, e.g. "
                             f"{missing[0]!r}")
    out = pd.DataFrame({"churn_probability": probability})
    sort = "churn_probability"
    if value_at_stake is not None:
        if not isinstance(value_at_stake, pd.Series) or not pd.api.types.is_numeric_dtype(value_at_stake):
            raise ValueError("value_at_stake: expected a numeric Series indexed by customer id, e.g. the 'clv' "
                             "column of clv.customer_value()")
        out["value_at_stake"] = value_at_stake.reindex(out.index).astype(float)
        out["value_at_risk"] = out["churn_probability"] * out["value_at_stake"]
        sort = "value_at_risk"
    out = out.join(model.drivers(features, top_drivers, min_effect))
    out = out.join(features[["recency_days", "frequency", "mean_gap_days"]])
    if customers is not None and "name" in customers.columns:
        out.insert(0, "name", customers.set_index("customer_id")["name"].reindex(out.index))
    out = out.sort_values(sort, ascending=False, na_position="last", kind="stable").rename_axis("customer_id")
    out = out.reset_index()
    out.insert(0, "risk_rank", np.arange(1, len(out) + 1))
    return out
