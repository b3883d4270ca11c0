"""Models of payment behaviour (statsmodels): who will pay more than 30 days late, how long payment takes,
and how much cash the open invoices should bring in.

- :class:`LatePaymentModel`: logit of P(paid more than ``threshold`` days late) on what is known when the
  invoice is issued; :func:`backtest_late_payment` validates it on a later time window.
- :func:`kaplan_meier` and :class:`PaymentTimeModel` (Cox proportional hazards): time from the invoice date to
  payment, still-open invoices right-censored at ``as_of``; :meth:`PaymentTimeModel.expected_collections`
  turns it into the cash expected from open invoices over the next 30/60/90 days.

Invoices enter as in :mod:`portfolio_kit.payments.behaviour`: sales invoices that are paid (by the date of
their payment, even partial) or open (nothing received yet); credit notes are left out.

Large ledgers: when more than ``max_rows`` invoices (default :data:`MAX_FIT_ROWS`, 250,000) would enter a fit,
the logit and the Cox model are fitted on a seeded random sample of them (:func:`fit_sample`), stratified by
outcome (late or not; paid or open) and by customer size (the customer's number of such invoices, in powers
of two), the same share of each stratum: the sample needs no weights, and its features are computed on the
whole ledger (each drawn invoice keeps its customer's full payment history). Below the threshold every
invoice is used; scoring (backtest, open invoices, customers) always uses every invoice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from portfolio_kit.payments.behaviour import lateness
from portfolio_kit.payments.ledger import UNKNOWN_SEGMENT, Ledger, ledger, segment_labels, with_segment
from portfolio_kit.stats import regression, scoring, survival

__all__ = ["NUMERIC_FEATURES", "invoice_features", "LatePaymentModel", "Backtest", "backtest_late_payment",
           "payment_durations", "UNPAID_COLUMNS", "kaplan_meier", "median_days_to_pay", "PaymentTimeModel",
           "MAX_FIT_ROWS", "fit_sample"]

#: Numeric features known when an invoice is issued (see :func:`invoice_features`).
NUMERIC_FEATURES = ("log_amount", "terms_30d", "no_history", "prior_late_share", "prior_days_late")
_KEY_SHIFT = np.int64(2**31)

#: Invoices a payment model is fitted on at most; above it, on a stratified random sample (:func:`fit_sample`).
MAX_FIT_ROWS = 250_000

_RENAMED = {"time": "days", "survival": "share_unpaid", "events": "paid"}

#: The columns of a :func:`kaplan_meier` curve (besides the ``by`` column).
UNPAID_COLUMNS = tuple(_RENAMED.get(c, c) for c in survival.CURVE_COLUMNS)


# --------------------------------------------------------------------------------------------- features
def _prior_payments(book: Ledger, day: np.ndarray, code: np.ndarray, threshold: int) -> pd.DataFrame:
    """For each (customer code, day): the customer's invoices paid strictly before that day, their share paid
    more than ``threshold`` days late and their mean days late (early = 0). Vectorised with sorted keys."""
    paid = book.is_paid
    late = (book.pay - book.due)[paid]
    keys = book.customer[paid].astype(np.int64) * (2 * _KEY_SHIFT) + book.pay[paid] + _KEY_SHIFT
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    cum_late = np.concatenate([[0.0], np.cumsum((late[order] > threshold).astype(float))])
    cum_days = np.concatenate([[0.0], np.cumsum(np.clip(late[order], 0, None).astype(float))])
    first = np.searchsorted(keys, code.astype(np.int64) * (2 * _KEY_SHIFT), side="left")
    upto = np.searchsorted(keys, code.astype(np.int64) * (2 * _KEY_SHIFT) + day + _KEY_SHIFT, side="left")
    n = (upto - first).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"prior_paid": n.astype(int),
                             "no_history": (n == 0).astype(float),
                             "prior_late_share": np.where(n > 0, (cum_late[upto] - cum_late[first]) / n, 0.0),
                             "prior_days_late": np.where(n > 0, (cum_days[upto] - cum_days[first]) / n, 0.0)})


def _customer_columns(frame: pd.DataFrame, customers: pd.DataFrame | None, categorical: Sequence[str],
                      book: Ledger | None = None, code: np.ndarray | None = None,
                      labels: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """``frame`` plus the customers' ``categorical`` columns (:func:`with_segment`); with the ledger ``book`` and
    the ledger customer code of each row of ``frame``, the same columns looked up once per customer (``labels``:
    those of :func:`_customer_labels` already at hand, by column)."""
    for col in categorical:
        if customers is None or col not in customers.columns:
            raise ValueError(f"customers: missing column {col!r} used as a feature; pass categorical=() or a "
                             "customers table with it")
        if book is None or col == "customer_id" or col in frame.columns:
            frame = with_segment(frame, customers, col)
            continue
        per_customer = labels[col] if labels and col in labels else _customer_labels(customers, col, book)
        frame = frame.assign(**{col: pd.Series(per_customer.array.take(code), index=frame.index)})
    return frame


def _customer_labels(customers: pd.DataFrame, col: str, book: Ledger) -> pd.Series:
    """The customers' ``col`` per ledger customer code, as :func:`with_segment` gives it (text, ``"(unknown)"``)."""
    labels = segment_labels(customers, col).reindex(book.customer_ids).astype(object)
    return labels.fillna(UNKNOWN_SEGMENT).astype(str)


def invoice_features(invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of, threshold: int = 30,
                     categorical: Sequence[str] = ("size_class", "sector")) -> pd.DataFrame:
    """One row per sales invoice with what was known when it was issued, and its outcome at ``as_of``.

    Features (known at the issue date):

    - ``log_amount``: ``log(amount)``; ``terms_30d``: ``(due_date - issue_date) / 30``;
    - the customer's invoices paid strictly before the issue date: ``prior_paid`` (count), ``no_history``
      (1 when none), ``prior_late_share`` (share paid more than ``threshold`` days late) and
      ``prior_days_late`` (mean days late, early = 0), both 0 without history;
    - the ``categorical`` columns of ``customers`` (``"(unknown)"`` when missing).

    Outcomes at ``as_of``: ``paid`` (bool), ``days_late`` (the lower bound ``as_of - due_date`` when open),
    ``late`` (1 when more than ``threshold`` days late, 0 when not, ``NaN`` when not known yet: due after
    ``as_of - threshold``), ``duration`` (days from issue to payment, or to ``as_of`` when open) and
    ``open_amount``.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    customers : DataFrame or None
        Canonical customers with the ``categorical`` columns (``None`` when ``categorical`` is empty).
    as_of : date-like
    threshold : int
        Days beyond the due date that make an invoice late.
    categorical : sequence of str
        Columns of ``customers`` to carry as features.

    Returns
    -------
    DataFrame
        ``invoice_id``, ``customer_id``, ``issue_date``, ``due_date``, ``amount``, the features, the outcomes.

    Examples
    --------
    >>> features = invoice_features(invoices, customers, "2024-06-30")       # doctest: +SKIP
    >>> features[features["late"].notna()].groupby("sector")["late"].mean()  # doctest: +SKIP
    """
    return _features(invoices, customers, as_of, threshold, categorical)


def _features(invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of, threshold: int = 30,
              categorical: Sequence[str] = ("size_class", "sector"), issued_after=None,
              open_only: bool = False, sample: tuple[Ledger, np.ndarray] | None = None,
              labels: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """:func:`invoice_features`, only for the invoices issued after ``issued_after`` and, with ``open_only``, only
    the open ones, or only for the ledger entries of ``sample`` (the ledger and entry positions): the same rows
    as filtering its result, without computing the others."""
    if sample is None:
        book = ledger(invoices, as_of)
        known, late_days = lateness(book)
        idx = np.flatnonzero(known)
    else:
        book, idx = sample
        known, late_days = lateness(book)
    if open_only:
        idx = idx[~book.is_paid[idx]]
    if issued_after is not None:
        issued = invoices["issue_date"].iloc[book.rows[idx]]
        idx = idx[(issued > pd.Timestamp(issued_after)).to_numpy()]
    out = invoices.iloc[book.rows[idx]][["invoice_id", "customer_id", "issue_date", "due_date", "amount"]]
    out = out.reset_index(drop=True)
    out["log_amount"] = np.log(book.amount[idx])
    out["terms_30d"] = (book.due[idx] - book.issue[idx]) / 30.0
    prior = _prior_payments(book, book.issue[idx], book.customer[idx], threshold)
    out = pd.concat([out, prior], axis=1)
    out = _customer_columns(out, customers, categorical, book, book.customer[idx], labels)
    out["paid"] = book.is_paid[idx]
    out["days_late"] = late_days[idx]
    out["late"] = np.where(book.due[idx] <= book.as_of - threshold, (late_days[idx] > threshold).astype(float), np.nan)
    out["duration"] = np.where(book.is_paid[idx], book.pay[idx], book.as_of) - book.issue[idx]
    out["open_amount"] = book.open_amount[idx]
    return out


def fit_sample(invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of, outcome: str = "late",
               threshold: int = 30, categorical: Sequence[str] = ("size_class", "sector"),
               max_rows: int | None = MAX_FIT_ROWS, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """The rows a payment model is fitted on: :func:`invoice_features` of every invoice that enters the fit when
    at most ``max_rows`` do, else of a seeded random sample of them, stratified by outcome and customer size.

    The invoices of a fit are the rows of :func:`invoice_features` (sales invoices issued by ``as_of``, paid or
    open) with, for ``outcome="late"`` (the logit), a known ``late`` (due by ``as_of - threshold``); for
    ``outcome="paid"`` (the Cox model) all of them. With ``n`` of them above ``max_rows``, they are stratified
    by outcome (late or not; paid or open) and by the size of their customer (its number of such invoices: 1,
    2-3, 4-7 ... powers of two), and ``round(f N)`` invoices of each stratum of ``N`` are drawn at random
    (``seed``; the draw hashes the invoice ids, so it does not depend on the order of the rows),
    ``f = max_rows / n``. Every invoice has the same chance to be drawn, so the fit needs no
    weights; the features are computed on the whole ledger, so a drawn invoice keeps its customer's full
    payment history. The reference level of each categorical feature is the most frequent one among all ``n``
    invoices, as without the sample (in ``features.attrs["reference"]``).

    Parameters
    ----------
    invoices, customers, as_of, threshold, categorical
        As in :func:`invoice_features`.
    outcome : {"late", "paid"}
    max_rows : int or None
        Invoices fitted at most (None: always every one).
    seed : int
        Seed of the draw: the same invoices and seed give the same sample.

    Returns
    -------
    (DataFrame, float)
        The features of the invoices to fit on, in the order of :func:`invoice_features`, and the share of
        the invoices kept (1.0 when all).
    """
    if outcome not in ("late", "paid"):
        raise ValueError(f"outcome must be 'late' or 'paid', got {outcome!r}")
    if max_rows is not None and (int(max_rows) != max_rows or max_rows < 1):
        raise ValueError(f"max_rows must be a whole number >= 1 or None, got {max_rows!r}")
    book = ledger(invoices, as_of)
    known, late_days = lateness(book)
    if outcome == "late":
        fitted, event = known & (book.due <= book.as_of - threshold), late_days > threshold
    else:
        fitted, event = known, book.is_paid
    n = int(fitted.sum())
    if max_rows is None or n <= max_rows:
        features = _features(invoices, customers, as_of, threshold, categorical, sample=(book, np.flatnonzero(known)))
        return (features[features["late"].notna()] if outcome == "late" else features), 1.0
    idx = np.flatnonzero(fitted)
    count = np.bincount(book.customer[idx], minlength=book.customer_ids.size)
    size = np.floor(np.log2(count[book.customer[idx]])).astype(np.int64)
    stratum = size * 2 + event[idx].astype(np.int64)
    # a random order within each stratum from the invoice ids and the seed, so the draw does not depend on the
    # order of the rows
    salt = np.random.default_rng(seed).integers(2**63, dtype=np.uint64)
    keys = pd.util.hash_pandas_object(invoices["invoice_id"].iloc[book.rows[idx]], index=False).to_numpy() ^ salt
    keys *= np.uint64(0x9E3779B97F4A7C15)
    keys ^= keys >> np.uint64(29)
    order = np.lexsort((keys, stratum))  # by stratum, at random within it
    sizes = np.bincount(stratum)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(idx.size) - first[stratum[order]]
    take = np.rint(sizes * (max_rows / n)).astype(np.int64)
    drawn = np.sort(order[rank < take[stratum[order]]])
    labels = {col: _customer_labels(customers, col, book) for col in categorical
              if customers is not None and col in customers.columns and col != "customer_id"}
    features = _features(invoices, customers, as_of, threshold, categorical, sample=(book, idx[drawn]),
                         labels=labels)
    reference = {}
    per_customer = np.bincount(book.customer[idx], minlength=book.customer_ids.size)
    for col in labels:  # the most frequent level of all n invoices (regression.Design's default reference)
        codes, levels = pd.factorize(labels[col].to_numpy())
        counts = np.bincount(codes, weights=per_customer, minlength=len(levels))
        reference[col] = str(levels[np.argmax(counts)])
    features.attrs["reference"] = reference
    return features, drawn.size / n


def _fit_design(design: regression.Design, train: pd.DataFrame) -> None:
    """Fit ``design`` on ``train``; on a :func:`fit_sample` sample, with the reference levels of all the
    invoices (a level the caller chose stays)."""
    chosen = design.reference
    design.reference = {**train.attrs.get("reference", {}), **chosen}
    try:
        design.fit(train)
    finally:
        design.reference = chosen


def _check_numeric(numeric: Sequence[str]) -> tuple[str, ...]:
    unknown = [c for c in numeric if c not in NUMERIC_FEATURES]
    if unknown:
        raise ValueError(f"numeric: unknown feature(s) {unknown}; choose among {list(NUMERIC_FEATURES)}")
    return tuple(numeric)


# --------------------------------------------------------------------------------------------- logit
class LatePaymentModel:
    """P(an invoice is paid more than ``threshold`` days late), a logit on what is known at issue::

        logit P(late) = b0 + b1 log_amount + b2 terms_30d + b3 no_history + b4 prior_late_share
                        + b5 prior_days_late + segment, size and sector effects

    Fitted on the invoices whose outcome is known at ``as_of`` (:func:`invoice_features`, ``late`` not NaN)
    with statsmodels ``Logit``. Categorical effects are against the most frequent level.

    Parameters
    ----------
    threshold : int
        Days beyond the due date that make an invoice late.
    categorical : sequence of str
        Columns of the customers table used as features (``"size_class"``, ``"sector"``, a segment ...).
    numeric : sequence of str
        Numeric features among :data:`NUMERIC_FEATURES`.
    reference : mapping, optional
        Reference level of some categorical features, e.g. ``{"sector": "Manufacturing"}`` (default: the
        most frequent level).
    max_rows : int or None
        Above this many invoices with a known outcome, fit on a seeded, stratified random sample of them
        (:func:`fit_sample`; None: never).
    seed : int
        Seed of that sample.

    Attributes
    ----------
    result_ : statsmodels results
    coefficients_ : DataFrame
        ``term``, ``coef``, ``std_err``, ``z``, ``p_value``, ``odds_ratio`` and its 95% interval.
    levels_ : dict
        Levels of each categorical feature, the reference first.
    n_train_, event_rate_ : int, float
        Invoices fitted (the sample's, when sampled) and their share late.
    sample_share_ : float
        Share of the invoices that entered the fit (1.0: all).

    Examples
    --------
    >>> model = LatePaymentModel().fit(invoices, customers, as_of="2024-06-30")     # doctest: +SKIP
    >>> model.coefficients_[["term", "odds_ratio", "p_value"]]                      # doctest: +SKIP
    >>> model.predict_customers(invoices, customers, "2024-06-30").head()          # doctest: +SKIP
    """

    def __init__(self, threshold: int = 30, categorical: Sequence[str] = ("size_class", "sector"),
                 numeric: Sequence[str] = NUMERIC_FEATURES, reference: Mapping[str, str] | None = None,
                 max_rows: int | None = MAX_FIT_ROWS, seed: int = 0):
        self.threshold, self.max_rows, self.seed = threshold, max_rows, seed
        self._design = regression.Design(_check_numeric(numeric), categorical, reference, name="LatePaymentModel")
        self.categorical = self._design.categorical

    def fit(self, invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of) -> "LatePaymentModel":
        """Fit on the invoices issued by ``as_of`` whose outcome is known then (above ``max_rows`` of them, on a
        stratified random sample: :func:`fit_sample`)."""
        train, self.sample_share_ = fit_sample(invoices, customers, as_of, "late", self.threshold, self.categorical,
                                               self.max_rows, self.seed)
        y = train["late"].to_numpy()
        if train.empty or y.min() == y.max():
            raise ValueError(f"invoices: the model needs invoices with a known outcome, both late and not late "
                             f"(more than {self.threshold} days); got {len(train)} with {int(y.sum())} late")
        _fit_design(self._design, train)
        self.levels_ = self._design.levels_
        self.result_ = regression.fit_logit(y, self._design.matrix(train), name="LatePaymentModel", maxiter=200)
        self.coefficients_ = regression.coefficient_table(self.result_, "odds_ratio")
        self.n_train_, self.event_rate_ = len(train), float(y.mean())
        return self

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """P(late) for rows of :func:`invoice_features` (or any frame with the feature columns)."""
        if not hasattr(self, "result_"):
            raise ValueError("LatePaymentModel: call fit() first")
        X = self._design.matrix(features)
        return pd.Series(self.result_.predict(X), index=features.index, name="p_late")

    def score_invoices(self, invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of,
                       issued_after=None) -> pd.DataFrame:
        """:func:`invoice_features` at ``as_of`` (optionally only invoices issued after a date) with
        ``p_late``; open invoices get their risk score, others a score to compare with the outcome."""
        features = _features(invoices, customers, as_of, self.threshold, self.categorical, issued_after)
        return features.assign(p_late=self.predict(features))

    def predict_customers(self, invoices: pd.DataFrame, customers: pd.DataFrame, as_of) -> pd.DataFrame:
        """Each customer's risk that its *next* invoice is paid more than ``threshold`` days late.

        The next invoice is issued the day after ``as_of`` for the customer's median invoice amount (the
        overall median without invoices) on its ``payment_terms_days`` (else its median terms, else the
        overall median), with its payment history up to ``as_of``.

        Returns
        -------
        DataFrame
            ``customer_id``, the features, ``p_late``; highest risk first.
        """
        book = ledger(invoices, as_of)
        sales = book.amount > 0
        ids = pd.Index(customers["customer_id"].drop_duplicates())
        code = book.customer_ids.get_indexer(ids)
        code = np.where(code >= 0, code, book.customer_ids.size)  # unknown to the ledger: a code with no payments
        per_customer = pd.DataFrame({"amount": book.amount[sales], "terms": (book.due - book.issue)[sales] / 30.0},
                                    index=book.customer[sales])
        medians = per_customer.groupby(level=0).median()
        terms = customers.drop_duplicates("customer_id").set_index("customer_id").get("payment_terms_days")
        terms_30d = (terms.reindex(ids).to_numpy(dtype=float) / 30.0 if terms is not None
                     else np.full(ids.size, np.nan))
        terms_30d = np.where(np.isnan(terms_30d), medians["terms"].reindex(code).to_numpy(), terms_30d)
        amount = medians["amount"].reindex(code).to_numpy()
        out = pd.DataFrame({"customer_id": ids,
                            "log_amount": np.log(np.where(np.isnan(amount), np.median(per_customer["amount"]), amount)),
                            "terms_30d": np.where(np.isnan(terms_30d), np.median(per_customer["terms"]), terms_30d)})
        prior = _prior_payments(book, np.full(ids.size, book.as_of + 1), code, self.threshold)
        out = _customer_columns(pd.concat([out, prior], axis=1), customers, self.categorical)
        out["p_late"] = self.predict(out).to_numpy()
        return out.sort_values("p_late", ascending=False, kind="stable").reset_index(drop=True)


@dataclass
class Backtest:
    """A late-payment model fitted at ``split_date`` and scored on the invoices issued after it.

    Attributes
    ----------
    model : LatePaymentModel
        Fitted on what was known at ``split_date``.
    scored : DataFrame
        Invoices issued in ``(split_date, as_of]`` with a known outcome at ``as_of``: features, ``late``,
        ``p_late``.
    metrics : DataFrame
        :func:`portfolio_kit.stats.scoring.classification_metrics` (AUC, Brier ...).
    calibration : DataFrame
        :func:`portfolio_kit.stats.scoring.calibration_table`.
    lift : DataFrame
        :func:`portfolio_kit.stats.scoring.lift_table`.
    """

    model: LatePaymentModel
    scored: pd.DataFrame
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame


def backtest_late_payment(invoices: pd.DataFrame, customers: pd.DataFrame | None, split_date, as_of,
                          bins: int = 10, **model_options) -> Backtest:
    """Validate :class:`LatePaymentModel` on a later time window.

    The model is fitted with the ledger as it was at ``split_date`` (outcomes known then; above ``max_rows``
    invoices, on a stratified random sample of them, see :func:`fit_sample`), then scores every invoice issued
    after ``split_date`` whose outcome is known at ``as_of``; AUC, Brier score, calibration and lift compare the
    scores with those outcomes. ``model_options`` go to :class:`LatePaymentModel` (``threshold``,
    ``max_rows``, ``seed`` ...).

    Examples
    --------
    >>> bt = backtest_late_payment(invoices, customers, "2023-12-31", "2024-06-30")   # doctest: +SKIP
    >>> bt.metrics                                                                    # doctest: +SKIP
    """
    if pd.Timestamp(split_date) >= pd.Timestamp(as_of):
        raise ValueError(f"split_date {split_date} must be before as_of {as_of}")
    model = LatePaymentModel(**model_options).fit(invoices, customers, split_date)
    scored = model.score_invoices(invoices, customers, as_of, issued_after=split_date)
    scored = scored[scored["late"].notna()].reset_index(drop=True)
    if scored.empty:
        raise ValueError(f"no invoice issued after {split_date} has a known outcome at {as_of}; "
                         "move split_date earlier")
    y, p = scored["late"], scored["p_late"]
    return Backtest(model, scored, scoring.classification_metrics(y, p), scoring.calibration_table(y, p, bins),
                    scoring.lift_table(y, p))


# --------------------------------------------------------------------------------------------- survival
def payment_durations(invoices: pd.DataFrame, as_of, customers: pd.DataFrame | None = None,
                      by: str | None = None) -> pd.DataFrame:
    """Time to payment of every sales invoice, from its issue date: ``duration`` in days to the payment
    (``paid`` True) or, for open invoices, to ``as_of`` (right-censored, ``paid`` False).

    Returns
    -------
    DataFrame
        ``invoice_id``, ``customer_id``, ``issue_date``, ``amount``, ``duration``, ``paid`` and ``by``.
    """
    book = ledger(invoices, as_of)
    known, _ = lateness(book)
    out = invoices.iloc[book.rows[known]][["invoice_id", "customer_id", "issue_date", "amount"]].reset_index(drop=True)
    out["duration"] = np.where(book.is_paid, book.pay, book.as_of)[known] - book.issue[known]
    out["paid"] = book.is_paid[known]
    return with_segment(out, customers, by)


def kaplan_meier(invoices: pd.DataFrame, as_of, customers: pd.DataFrame | None = None,
                 by: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier curves of the share of invoices still unpaid, by days since the invoice date.

    ``S(t) = prod over payment days t_j <= t of (1 - d_j / n_j)`` with ``d_j`` invoices paid on day ``t_j``
    and ``n_j`` still unpaid and observed just before; open invoices are censored at ``as_of``
    (:func:`portfolio_kit.stats.survival.kaplan_meier`). The 95% band is pointwise, ``S +- 1.96 se``
    (Greenwood), clipped to [0, 1]; each curve ends at its last payment day.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    as_of : date-like
    customers : DataFrame, optional
        Needed when ``by`` is one of its columns.
    by : str, optional
        One curve per value of this column (``"size_class"``, ``"sector"``, a segment ...).

    Returns
    -------
    DataFrame
        ``[by,] days``, ``share_unpaid``, ``ci_low``, ``ci_high``, ``at_risk``, ``paid``; each curve starts at
        ``days = 0``, ``share_unpaid = 1``.

    Examples
    --------
    >>> curves = kaplan_meier(invoices, "2024-06-30", customers, by="size_class")   # doctest: +SKIP
    """
    durations = payment_durations(invoices, as_of, customers, by)
    groups = durations.groupby(by, sort=True) if by else [("total", durations)]
    tables = []
    for name, part in groups:
        table = survival.kaplan_meier(part["duration"], part["paid"]).rename(columns=_RENAMED)
        if by:
            table.insert(0, by, name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def median_days_to_pay(curves: pd.DataFrame) -> pd.Series:
    """Median days from invoice to payment read off :func:`kaplan_meier` curves: the first day the share
    unpaid is at most 0.5 (``NaN`` when a curve never gets there)."""
    by = [c for c in curves.columns if c not in UNPAID_COLUMNS]
    groups = curves[by[0]] if by else pd.Series("total", index=curves.index)
    reached = curves["days"].where(curves["share_unpaid"] <= 0.5)
    return reached.groupby(groups, sort=True).min().rename("median_days_to_pay")


class PaymentTimeModel:
    """Cox proportional-hazards model of the time from invoice date to payment::

        h(t | x) = h0(t) exp(x' b)

    on the features of :func:`invoice_features` (known at issue), open invoices censored at ``as_of``
    (statsmodels ``PHReg``). A hazard ratio above 1 means faster payment. The baseline cumulative hazard
    ``H0`` gives the chance that an invoice unpaid at age ``a`` is paid within ``h`` more days::

        P(paid by a + h | unpaid at a) = 1 - exp(-(H0(a + h) - H0(a)) exp(x' b))

    which, times the open amount, is its expected collection. ``H0`` is flat after the longest observed
    payment: older invoices are expected to bring nothing more.

    Parameters
    ----------
    categorical, numeric, reference
        Features, as in :class:`LatePaymentModel`.
    ties : {"breslow", "efron"}
        Handling of invoices paid on the same day.
    max_rows : int or None
        Above this many invoices, fit on a seeded, stratified random sample of them (:func:`fit_sample`; None:
        never). The baseline hazard comes from the same rows: a hazard is a rate, so it needs no rescaling.
    seed : int
        Seed of that sample.

    Attributes
    ----------
    result_ : statsmodels PHReg results
    hazard_ratios_ : DataFrame
        ``term``, ``coef``, ``std_err``, ``z``, ``p_value``, ``hazard_ratio`` and its 95% interval.
    baseline_ : DataFrame
        ``days``, ``cumulative_hazard`` (at features 0).
    sample_share_ : float
        Share of the invoices that entered the fit (1.0: all).

    Examples
    --------
    >>> model = PaymentTimeModel().fit(invoices, customers, "2024-06-30")            # doctest: +SKIP
    >>> model.expected_collections(invoices, customers, "2024-06-30")                # doctest: +SKIP
    """

    def __init__(self, categorical: Sequence[str] = ("size_class", "sector"),
                 numeric: Sequence[str] = NUMERIC_FEATURES, reference: Mapping[str, str] | None = None,
                 ties: str = "breslow", max_rows: int | None = MAX_FIT_ROWS, seed: int = 0):
        if ties not in ("breslow", "efron"):
            raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
        self.ties, self.max_rows, self.seed = ties, max_rows, seed
        self._design = regression.Design(_check_numeric(numeric), categorical, reference, name="PaymentTimeModel")
        self.categorical = self._design.categorical

    def fit(self, invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of) -> "PaymentTimeModel":
        """Fit on every sales invoice issued by ``as_of``, paid or open (above ``max_rows`` of them, on a
        stratified random sample: :func:`fit_sample`)."""
        features, self.sample_share_ = fit_sample(invoices, customers, as_of, "paid", categorical=self.categorical,
                                                  max_rows=self.max_rows, seed=self.seed)
        if not features["paid"].any():
            raise ValueError("invoices: no invoice paid by as_of; the time to payment cannot be modelled")
        _fit_design(self._design, features)
        X = self._design.matrix(features, constant=False)
        from statsmodels.duration.hazard_regression import PHReg  # on first fit (a slow import)

        self.result_ = PHReg(features["duration"].to_numpy(float), X,
                             status=features["paid"].to_numpy(int), ties=self.ties).fit()
        self.hazard_ratios_ = regression.coefficient_table(self.result_, "hazard_ratio")
        times, cumhaz, _ = self.result_.baseline_cumulative_hazard[0]
        self.baseline_ = pd.DataFrame({"days": times, "cumulative_hazard": cumhaz})
        return self

    def _cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.baseline_["days"].to_numpy(), t, side="right")
        return np.r_[0.0, self.baseline_["cumulative_hazard"].to_numpy()][k]

    def collection_probabilities(self, invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of,
                                 horizons: Sequence[int] = (30, 60, 90)) -> pd.DataFrame:
        """Per open invoice (nothing received yet) at ``as_of``: the chance it is paid within each horizon.

        Returns
        -------
        DataFrame
            ``invoice_id``, ``customer_id``, ``due_date``, ``open_amount``, ``age_days`` and, per horizon
            ``h``, ``p_paid_<h>d`` and ``expected_<h>d`` (= probability x open amount).
        """
        if not hasattr(self, "result_"):
            raise ValueError("PaymentTimeModel: call fit() first")
        open_ = _features(invoices, customers, as_of, categorical=self.categorical, open_only=True)
        risk = np.exp(self._design.matrix(open_, constant=False).to_numpy() @ np.asarray(self.result_.params))
        age = open_["duration"].to_numpy(float)
        out = open_[["invoice_id", "customer_id", "due_date", "open_amount"]].assign(age_days=age)
        base = self._cumulative_hazard(age)
        for h in horizons:
            p = 1.0 - np.exp(-(self._cumulative_hazard(age + h) - base) * risk)
            out[f"p_paid_{h}d"] = p
            out[f"expected_{h}d"] = p * out["open_amount"]
        return out

    def expected_collections(self, invoices: pd.DataFrame, customers: pd.DataFrame | None, as_of,
                             horizons: Sequence[int] = (30, 60, 90)) -> pd.DataFrame:
        """Cash expected from the open invoices within each horizon after ``as_of``.

        Only invoices with nothing received yet are forecast; the rests of partially paid invoices and open
        credit notes are not (see ``open_not_forecast``).

        Returns
        -------
        DataFrame
            One row per horizon: ``horizon_days``, ``open_amount`` (forecast invoices), ``expected_collection``,
            ``expected_share``, ``open_not_forecast``.
        """
        per_invoice = self.collection_probabilities(invoices, customers, as_of, horizons)
        total_open = float(ledger(invoices, as_of).open_amount.sum())
        open_amount = float(per_invoice["open_amount"].sum())
        expected = [float(per_invoice[f"expected_{h}d"].sum()) for h in horizons]
        return pd.DataFrame({"horizon_days": list(horizons), "open_amount": open_amount,
                             "expected_collection": expected,
                             "expected_share": np.array(expected) / open_amount if open_amount else np.nan,
                             "open_not_forecast": total_open - open_amount})
