"""The churn logit (:class:`ChurnModel`), with odds ratios and the topics driving each customer's risk, and the
purchase model's probability of no purchase in the horizon (:func:`no_purchase_probability`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from portfolio_kit import clv
from portfolio_kit.churn.labels import checked_transactions, whole_months
from portfolio_kit.churn.features import RELATIONSHIP_COLUMNS
from portfolio_kit.data.dates import as_date
from portfolio_kit.stats.regression import Design, coefficient_table, fit_logit

__all__ = ["MODEL_FEATURES", "DEFAULT_CATEGORICAL", "TOPICS", "ChurnModel",
           "no_purchase_probability"]

#: Numeric features of the default model and how each enters it: ``"log"`` = ``log(1 + max(x, 0))``
#: standardised (net amounts can be negative), ``"linear"`` = ``x`` standardised (odds ratios per standard
#: deviation), ``"flag"`` = 0/1 as it is (odds ratio of yes vs no). Features absent from the data are skipped.
MODEL_FEATURES: dict[str, str] = {
    "recency_days": "log", "frequency": "log", "tenure_days": "log", "expected_orders_missed": "linear",
    "one_purchase": "flag", "gap_cv": "linear", "spend_trend": "linear", "avg_order_value": "log",
    "avg_days_late": "linear", "share_late": "linear",
    **{c: "linear" for c in RELATIONSHIP_COLUMNS},
}

#: Segment attributes of the default model (treatment dummies against the most frequent level).
DEFAULT_CATEGORICAL = ("size_class", "sector", "channel", "customer_type")

#: Driver topics: the model terms whose log-odds contributions add up to one topic (any other feature is a
#: topic of its own, a categorical one with all its levels).
TOPICS = {"recency_days": "silence", "expected_orders_missed": "silence", "overdue_ratio": "silence",
          "frequency": "orders", "one_purchase": "orders",
          "tenure_days": "tenure", "gap_cv": "regularity", "spend_trend": "trend", "avg_order_value": "spend",
          "avg_days_late": "payment", "share_late": "payment"}


class ChurnModel:
    """P(churn in the next ``H`` months), a statsmodels logit on the features of :func:`churn_features`::

        logit P(churn) = b0 + sum_j b_j z_j + segment effects

    Each numeric feature ``x_j`` enters as set in ``numeric`` (default :data:`MODEL_FEATURES`):
    ``z = (t(x) - mean) / sd`` with ``t(x) = log(1 + max(x, 0))`` (``"log"``) or ``x`` (``"linear"``), mean
    and standard deviation of the training rows, a missing value counting as the mean (``z = 0``: no
    evidence either way); ``"flag"`` features enter as 0/1. Categorical features are treatment dummies against
    their most frequent training level (missing: ``"(unknown)"``; a level not seen in training scores as the
    reference). Features without variation in the training rows (one segment, a constant) are left out. The
    design and the fit are those of every logit of the kit (:mod:`portfolio_kit.stats.regression`).

    Parameters
    ----------
    numeric : mapping or sequence of str, optional
        Numeric features and their transform (a sequence takes the transforms of :data:`MODEL_FEATURES`).
        Default: :data:`MODEL_FEATURES`, skipping those the data lack.
    categorical : sequence of str, optional
        Categorical features; default :data:`DEFAULT_CATEGORICAL`, skipping those the data lack.

    Attributes
    ----------
    result_ : statsmodels ``LogitResults``
    odds_ratios_ : DataFrame
        ``term``, ``scale`` (what one unit is), ``coef``, ``std_err``, ``z``, ``p_value``, ``odds_ratio`` and
        its 95% interval (:func:`portfolio_kit.stats.regression.coefficient_table`).
    design_ : Design
        The scales and levels learnt from the training rows.
    levels_ : dict
        Levels of each categorical feature kept, the reference first.
    terms_ : list of str
        Design columns (without the constant).
    centre_ : Series
        Mean of each design column over the training rows (the average training customer).
    n_train_, event_rate_ : int, float

    Examples
    --------
    >>> features = churn_features(tx, cutoff, customers, invoices)                 # doctest: +SKIP
    >>> model = ChurnModel().fit(features, churn_labels(tx, cutoff, 4))             # doctest: +SKIP
    >>> model.odds_ratios_[["term", "scale", "odds_ratio", "p_value"]]              # doctest: +SKIP
    >>> model.predict(churn_features(tx, as_of, customers, invoices))              # doctest: +SKIP
    """

    def __init__(self, numeric: Mapping[str, str] | Sequence[str] | None = None,
                 categorical: Sequence[str] | None = None):
        self._optional = numeric is None, categorical is None
        if numeric is None:
            numeric = MODEL_FEATURES
        elif not isinstance(numeric, Mapping):
            unknown = [c for c in numeric if c not in MODEL_FEATURES]
            if unknown:
                raise ValueError(f"numeric: no default transform for {unknown}; pass a mapping "
                                 "{feature: 'log' | 'linear' | 'flag'}")
            numeric = {c: MODEL_FEATURES[c] for c in numeric}
        bad = {c: t for c, t in numeric.items() if t not in ("log", "linear", "flag")}
        if bad:
            raise ValueError(f"numeric: transforms must be 'log', 'linear' or 'flag', got {bad}")
        self.numeric = dict(numeric)
        self.categorical = tuple(DEFAULT_CATEGORICAL if categorical is None else categorical)

    @classmethod
    def recency_only(cls) -> "ChurnModel":
        """The recency-only logit, the baseline of the validation: the log of ``recency_days`` alone, no
        segment (``logit P(churn) = b0 + b1 z``)."""
        return cls(numeric=["recency_days"], categorical=())

    # -------------------------------------------------------------------------------------- fit / predict
    def fit(self, features: pd.DataFrame, labels: pd.DataFrame | pd.Series) -> "ChurnModel":
        """Fit on the customers present in both ``features`` and ``labels`` (:func:`churn_labels` or a 0/1
        Series named by customer id).

        Raises
        ------
        ValueError
            No common customer, a single outcome (all churned or none), collinear features.
        """
        y = labels["churned"] if isinstance(labels, pd.DataFrame) else labels
        common = features.index.intersection(y.index)
        if common.empty:
            raise ValueError("features and labels have no customer in common; compute both at the same cut-off")
        train, y = features.loc[common], y.loc[common].astype(float)
        churned = int(y.sum())
        if churned in (0, len(y)):
            what = "all" if churned else "none"
            raise ValueError(f"{what} of the {len(y)} active customer(s) churned at this cut-off: the model "
                             "needs both churned and retained customers; choose another cut-off or horizon")
        self.design_ = Design(*self._present(train), drop_constant=True, name="ChurnModel").fit(train)
        self.levels_ = self.design_.levels_
        X = self.design_.matrix(train)
        self.terms_ = [c for c in X.columns if c != "const"]
        self.centre_ = X[self.terms_].mean()
        self.result_ = fit_logit(y.to_numpy(), X, name="ChurnModel", maxiter=100)
        table = coefficient_table(self.result_, "odds_ratio")
        table.insert(1, "scale", table["term"].map(self.design_.scales()).fillna(""))
        self.odds_ratios_ = table
        self.n_train_, self.event_rate_ = len(y), float(y.mean())
        return self

    def _present(self, features: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
        """The numeric and categorical features to fit on: all those asked for, or the defaults the data have."""
        optional_numeric, optional_categorical = self._optional
        numeric = {c: how for c, how in self.numeric.items() if c in features.columns or not optional_numeric}
        categorical = [c for c in self.categorical if c in features.columns or not optional_categorical]
        hints = {**dict.fromkeys(numeric, "build them with churn_features()"),
                 **dict.fromkeys(categorical, "pass customers to churn_features()")}
        for col, hint in hints.items():
            if col not in features.columns:
                raise ValueError(f"features: missing column {col!r}; {hint}")
        return numeric, categorical

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise ValueError("ChurnModel: call fit() first")

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """Churn probability of each row of ``features`` (``churn_probability``, indexed like it)."""
        self._check_fitted()
        X = self.design_.matrix(features)
        return pd.Series(np.asarray(self.result_.predict(X)), index=features.index, name="churn_probability")

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each customer's log-odds of churn against the average training customer, by topic.

        ``b_j (x_j - mean_j)`` over the design columns, summed per topic (:data:`TOPICS`): ``silence``
        (recency, expected orders missed), ``orders`` (frequency, single purchase), ``tenure``, ``regularity``,
        ``trend``, ``spend``, ``payment``, one per categorical feature, and each other feature on its own.
        Positive values raise the churn risk above average; with the constant and ``b . mean`` they add up to
        the logit of :meth:`predict`.
        """
        self._check_fitted()
        X = self.design_.matrix(features, constant=False)
        coef = self.result_.params.drop("const")
        parts = (X - self.centre_).to_numpy() * coef.reindex(X.columns).to_numpy()
        topic = np.array([TOPICS.get(t.split("[")[0], t.split("[")[0]) for t in X.columns], dtype=object)
        names = pd.unique(topic)
        return pd.DataFrame(parts @ (topic[:, None] == names[None, :]).astype(float), index=features.index,
                            columns=names)

    def drivers(self, features: pd.DataFrame, top: int = 3, min_effect: float = 0.1) -> pd.DataFrame:
        """The ``top`` topics raising each customer's churn risk most: those of :meth:`contributions` adding at
        least ``min_effect`` to the log-odds (0.1: about +10% on the odds), largest first.

        :func:`portfolio_kit.report.wording.churn.drivers_in_words` says them in a sentence, citing the
        customer's own values (``no order for 5 months, usually orders monthly``).

        Returns
        -------
        DataFrame
            Indexed like ``features``: ``driver_1`` ... ``driver_<top>``, topic names (``"silence"``,
            ``"trend"``, ``"size_class"`` ...), ``None`` past the topics that reach ``min_effect``.

        Examples
        --------
        >>> model.drivers(features).iloc[0].tolist()                          # doctest: +SKIP
        ['silence', 'trend', None]
        """
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise ValueError(f"top: expected a whole number >= 1, got {top!r}")
        effects = self.contributions(features)
        order = np.argsort(-effects.to_numpy(), axis=1, kind="stable")[:, :top]
        effect = np.take_along_axis(effects.to_numpy(), order, axis=1)
        topics = np.where(effect >= min_effect, np.asarray(effects.columns, dtype=object)[order], None)
        columns = [f"driver_{k + 1}" for k in range(order.shape[1])]
        return pd.DataFrame(topics, index=features.index, columns=columns)


def no_purchase_probability(transactions: pd.DataFrame, cutoff, horizon_months: int,
                            model: str | clv.BetaGeo = "bgnbd", *, period: str = "D",
                            period_multiplier: float = 7) -> pd.DataFrame:
    """P(no purchase in the next ``horizon_months``) from a BG/NBD or MBG/NBD model fitted on the history.

    A customer alive at ``T`` drops out only right after a purchase, so no purchase in ``(T, T + t]`` means
    dead already or no Poisson event in ``t``; with the posterior ``lambda ~ Gamma(r + x, alpha + T)``::

        P(no purchase in t) = 1 - P(alive) [1 - ((alpha + T) / (alpha + T + t))^(r + x)]

    (FHL 2005 eq. 8 for a new customer, ``x = T = 0``), with ``x``, ``t_x``, ``T`` from
    :func:`portfolio_kit.clv.rfm_summary` of the transactions dated on or before ``cutoff``.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    cutoff : date-like
    horizon_months : int
    model : {"bgnbd", "mbgnbd"} or BetaGeo
        The model fitted on that summary (BG/NBD gives customers without repeat purchases P(alive) = 1, their
        risk then comes from the Poisson term alone; MBG/NBD lets them be inactive). A ``BetaGeo`` or
        ``ModifiedBetaGeo`` with parameters is used as it is (e.g. ``BetaGeo.from_params(...)``), its
        ``alpha`` in the summary's time unit.
    period, period_multiplier
        Time grid of the summary (default: days, in weeks).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (every customer with a purchase by the cut-off): ``probability_alive``,
        ``no_purchase_probability``; ``attrs["model"]`` is the model used.

    Examples
    --------
    >>> p = no_purchase_probability(tx, "2026-06-30", 4)                   # doctest: +SKIP
    """
    if not isinstance(model, clv.BetaGeo) and model not in clv.PURCHASE_MODELS:
        raise ValueError(f"model: expected one of {sorted(clv.PURCHASE_MODELS)} or a BetaGeo / ModifiedBetaGeo, "
                         f"got {model!r}")
    horizon = whole_months(horizon_months, "horizon_months")
    cut = as_date(cutoff, "cutoff")
    tx = checked_transactions(transactions)
    summary = clv.rfm_summary(tx[(tx["date"] <= cut).to_numpy()], cut, period=period,
                              period_multiplier=period_multiplier, margin_col=None)
    fitted = model if isinstance(model, clv.BetaGeo) else clv.purchase_model(model).fit(summary)
    r, alpha = fitted.params_["r"], fitted.params_["alpha"]
    t = horizon * summary.attrs["periods_per_month"]
    alive = fitted.probability_alive(summary)
    base = alpha + summary["T"]
    quiet_if_alive = np.exp((r + summary["frequency"]) * (np.log(base) - np.log(base + t)))
    out = pd.DataFrame({"probability_alive": alive, "no_purchase_probability": 1 - alive * (1 - quiet_if_alive)})
    out.attrs["model"] = fitted
    return out
