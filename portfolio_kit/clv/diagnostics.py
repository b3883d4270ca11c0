"""How well a fitted CLV model describes the customers: tables behind the standard BTYD checks.

- :func:`customers_by_repeat_count`: observed vs expected number of customers by repeat purchases in the
  calibration window (FHL 2005 fig. 2);
- :func:`holdout_by_frequency`: mean holdout purchases, actual vs predicted, by calibration frequency, with
  bias and MAE (FHL 2005 fig. 4);
- :func:`cumulative_repeat_purchases`: cumulative repeat purchases of the whole base, actual vs expected,
  period by period (FHL 2005 fig. 3);
- :func:`probability_alive_matrix`, :func:`expected_purchases_matrix`: the model over a frequency x
  recency grid;
- :func:`spend_frequency_correlation`: the Gamma-Gamma independence check;
- :func:`compare_models`: log-likelihood, AIC and BIC side by side.

Figures for each are in :mod:`portfolio_kit.report.plots.clv`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from portfolio_kit.clv.base import CustomerModel, PurchaseModel, summary_arrays
from portfolio_kit.clv.summary import checked_transactions, customer_groups, purchase_periods
from portfolio_kit.data.dates import day_number, period_end, period_ordinal

__all__ = ["customers_by_repeat_count", "holdout_by_frequency", "cumulative_repeat_purchases",
           "probability_alive_matrix", "expected_purchases_matrix", "spend_frequency_correlation",
           "compare_models"]


def _capped_labels(values: np.ndarray, cap: int) -> pd.Categorical:
    labels = [str(i) for i in range(cap)] + [f"{cap}+"]
    return pd.Categorical.from_codes(np.minimum(values, cap).astype(int), labels)


def customers_by_repeat_count(model: PurchaseModel, summary: pd.DataFrame | None = None,
                              max_count: int = 7) -> pd.DataFrame:
    """Observed and model-expected number of customers by repeat purchases in the calibration window.

    ``expected[n] = sum_i P(X(T_i) = n)``; the last row collects ``max_count`` or more.

    Returns
    -------
    DataFrame indexed by ``repeat_purchases`` (``"0"`` ... ``"{max_count}+"``) with ``observed`` and
    ``expected`` customers (both summing to the number of customers).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> from portfolio_kit.clv import fit_bgnbd
    >>> s = load_cdnow_summary()
    >>> customers_by_repeat_count(fit_bgnbd(s), s).loc["0"].round().tolist()
    [1411.0, 1408.0]
    """
    if not hasattr(model, "probability_of_purchases"):
        raise TypeError(f"{type(model).__name__} has no purchase-count distribution; use BetaGeo or "
                        f"ModifiedBetaGeo")
    if max_count < 1:
        raise ValueError(f"max_count must be >= 1, got {max_count}")
    a, _ = model._arrays(summary)
    T_code, Ts = pd.factorize(a["T"])
    probs = model.probability_of_purchases(np.asarray(Ts), max_count - 1)
    expected = np.bincount(T_code) @ probs
    expected = np.append(expected, len(T_code) - expected.sum())
    observed = pd.Series(_capped_labels(a["frequency"], max_count)).value_counts(sort=False)
    out = pd.DataFrame({"observed": observed.to_numpy(), "expected": expected},
                       index=pd.Index(observed.index.astype(str), name="repeat_purchases"))
    return out


def holdout_by_frequency(model: PurchaseModel, summary: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Holdout purchases, actual vs predicted, by calibration frequency (the standard BTYD holdout table).

    Parameters
    ----------
    model : fitted purchase model (on the calibration columns of ``summary``).
    summary : DataFrame
        Output of :func:`~portfolio_kit.clv.rfm_summary` with ``calibration_end`` (holdout columns).
    max_frequency : int
        Calibration frequencies from ``max_frequency`` up share the last row.

    Returns
    -------
    DataFrame indexed by ``frequency`` (``"0"`` ... ``"{max}+"`` and ``"all"``): ``customers``, ``actual`` and
    ``predicted`` (mean holdout purchases per customer), ``bias`` (mean of predicted - actual) and ``mae``
    (mean absolute error per customer).
    """
    a = summary_arrays(summary, ("frequency", "frequency_holdout", "duration_holdout"))
    predicted = model.predict_purchases(a["duration_holdout"], summary).to_numpy()
    frame = pd.DataFrame({"frequency": _capped_labels(a["frequency"], max_frequency),
                          "actual": a["frequency_holdout"], "predicted": predicted})
    frame["bias"] = frame["predicted"] - frame["actual"]
    frame["mae"] = frame["bias"].abs()
    table = frame.groupby("frequency", observed=False).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"),
        bias=("bias", "mean"), mae=("mae", "mean"))
    table.index = table.index.astype(str)
    total = frame[["actual", "predicted", "bias", "mae"]].mean().to_frame("all").T.assign(customers=len(frame))
    return pd.concat([table, total[table.columns]]).rename_axis("frequency")


def cumulative_repeat_purchases(model: PurchaseModel, transactions: pd.DataFrame, observation_end, *,
                                period: str = "W", period_multiplier: float = 1, step: float = 1,
                                calibration_end=None, customer_col: str = "customer_id",
                                date_col: str = "date", value_col: str | None = "amount") -> pd.DataFrame:
    """Cumulative repeat purchases of all customers, actual vs model-expected, every ``step`` time units.

    Purchases are counted as in :func:`~portfolio_kit.clv.rfm_summary` (one per customer and period,
    returns never count). A customer whose first purchase is ``f`` periods into the data is expected to make
    ``E[X(t - f)]`` repeat purchases by time ``t`` (the model's :meth:`expected_purchases`); use the same
    ``period`` and ``period_multiplier`` as the summary the model was fitted on.

    Parameters
    ----------
    step : float
        Time units between points (``step * period_multiplier`` must be a whole number of periods).
    calibration_end : date, optional
        Marks the points after it in a ``holdout`` column.

    Returns
    -------
    DataFrame with ``t`` (time units since the start of the first purchase period), ``period_end`` (last
    day covered), ``actual`` and ``expected`` cumulative repeat purchases (and ``holdout``).

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow
    >>> from portfolio_kit.clv import BetaGeo
    >>> model = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> track = cumulative_repeat_purchases(model, load_cdnow(), "1998-06-30", period="D", period_multiplier=7)
    >>> track[["t", "actual", "expected"]].iloc[-1].round().tolist()
    [78.0, 4339.0, 4166.0]
    """
    checked_transactions(transactions, customer_col, date_col, value_col, None)
    periods_per_step = step * period_multiplier
    if not (periods_per_step >= 1 and float(periods_per_step).is_integer()):
        raise ValueError(f"step x period_multiplier must be a whole number of periods >= 1, got {periods_per_step}")
    periods_per_step = int(periods_per_step)
    code = pd.factorize(transactions[customer_col])[0].astype(np.int64)
    dates = transactions[date_col].to_numpy()
    day = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    value = None if value_col is None else transactions[value_col].to_numpy(dtype=float)
    obs_day = day_number(observation_end, "observation_end")
    bought = purchase_periods(code, period_ordinal(dates, period), value, None, day <= obs_day, "ignore")
    if len(bought.customer) == 0:
        raise ValueError("no purchase on or before observation_end")
    starts, _ = customer_groups(bought.customer)
    first = bought.ordinal[starts]
    repeat = np.sort(np.delete(bought.ordinal, starts))
    origin = first.min()
    last_point = period_ordinal(np.datetime64(int(obs_day), "D"), period)
    ends = origin - 1 + periods_per_step * np.arange(1, (last_point - origin + 1) // periods_per_step + 1)
    cohort, size = np.unique(first, return_counts=True)
    ages = np.clip(ends[:, None] - cohort[None, :], 0, None) / period_multiplier
    out = pd.DataFrame({"t": (ends - origin + 1) / period_multiplier,
                        "period_end": pd.to_datetime(period_end(ends, period)),
                        "actual": np.searchsorted(repeat, ends, side="right"),
                        "expected": model.expected_purchases(ages) @ size})
    if calibration_end is not None:
        out["holdout"] = out["period_end"] > pd.Timestamp(int(day_number(calibration_end, "calibration_end")), unit="D")
    return out


def _grid(model: PurchaseModel, T: float | None, max_frequency: int | None) -> pd.DataFrame:
    data = model.data_
    if T is None or max_frequency is None:
        if data is None:
            raise ValueError("pass T and max_frequency: the model was not fitted on data")
        a = summary_arrays(data, ("frequency", "T"))
        T = a["T"].max() if T is None else T
        max_frequency = int(a["frequency"].max()) if max_frequency is None else max_frequency
    if not (T >= 0 and max_frequency >= 0):
        raise ValueError(f"T and max_frequency must be >= 0, got {T}, {max_frequency}")
    recency = np.unique(np.r_[np.arange(0.0, np.floor(T) + 1), T])
    f, r = np.meshgrid(np.arange(max_frequency + 1), recency)
    return pd.DataFrame({"frequency": f.ravel(), "recency": r.ravel(), "T": float(T)})


def _as_matrix(grid: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    values = np.where((grid["frequency"] > 0) & (grid["recency"] == 0), np.nan, values)  # impossible history
    matrix = grid.assign(value=values).pivot(index="recency", columns="frequency", values="value")
    return matrix.set_axis(matrix.index.to_numpy().round(2), axis=0).rename_axis("recency").sort_index(ascending=False)


def probability_alive_matrix(model: PurchaseModel, T: float | None = None,
                             max_frequency: int | None = None) -> pd.DataFrame:
    """P(alive) over a grid of recency (rows, 0 ... ``T``, most recent first) and frequency (columns) for
    customers of age ``T`` (default: the largest ``T`` and frequency in the fitted data). Cells with
    ``frequency > 0`` and ``recency = 0`` are NaN (impossible)."""
    grid = _grid(model, T, max_frequency)
    return _as_matrix(grid, model.probability_alive(grid).to_numpy())


def expected_purchases_matrix(model: PurchaseModel, t: float, T: float | None = None,
                              max_frequency: int | None = None) -> pd.DataFrame:
    """Expected purchases in the next ``t`` time units over the recency x frequency grid of
    :func:`probability_alive_matrix`."""
    grid = _grid(model, T, max_frequency)
    return _as_matrix(grid, model.predict_purchases(t, grid).to_numpy())


def spend_frequency_correlation(summary: pd.DataFrame, threshold: float = 0.3) -> pd.DataFrame:
    """Correlation between purchase frequency and mean spend of repeat buyers (Gamma-Gamma assumes none).

    Parameters
    ----------
    summary : DataFrame
        With ``frequency`` and ``monetary_value``; only customers with ``frequency > 0`` and
        ``monetary_value > 0`` (those the Gamma-Gamma fit uses) count.
    threshold : float
        A ``UserWarning`` is issued when ``|Pearson r| >= threshold``.

    Returns
    -------
    DataFrame indexed by ``method`` (``pearson``, ``spearman``): ``correlation``, ``p_value``,
    ``customers``.

    Examples
    --------
    >>> from portfolio_kit.data.datasets import load_cdnow_summary
    >>> round(float(spend_frequency_correlation(load_cdnow_summary()).loc["pearson", "correlation"]), 3)
    0.114
    """
    a = summary_arrays(summary, ("frequency", "monetary_value"))
    used = (a["frequency"] > 0) & (a["monetary_value"] > 0)
    if used.sum() < 3:
        raise ValueError(f"need at least 3 repeat buyers with positive spend, found {int(used.sum())}")
    x, m = a["frequency"][used], a["monetary_value"][used]
    rows = {"pearson": stats.pearsonr(x, m), "spearman": stats.spearmanr(x, m)}
    out = pd.DataFrame({"correlation": [r.statistic for r in rows.values()],
                        "p_value": [r.pvalue for r in rows.values()], "customers": int(used.sum())},
                       index=pd.Index(list(rows), name="method"))
    if abs(out.loc["pearson", "correlation"]) >= threshold:
        warnings.warn(f"frequency and spend are correlated (Pearson r = {out.loc['pearson', 'correlation']:.2f}): "
                      f"the Gamma-Gamma independence assumption does not hold well", UserWarning, stacklevel=2)
    return out


def compare_models(models: dict[str, CustomerModel]) -> pd.DataFrame:
    """Fitted models side by side: ``parameters``, ``customers``, ``log_likelihood``, ``aic`` (``2k - 2LL``)
    and ``bic`` (``k ln n - 2LL``), indexed by the given names (compare only models fitted on the same data).
    """
    rows = {}
    for name, model in models.items():
        if getattr(model, "data_", None) is None:
            raise ValueError(f"model {name!r} is not fitted")
        k, n, ll = len(model.param_names), model.n_customers_, model.log_likelihood_
        rows[name] = {"parameters": k, "customers": n, "log_likelihood": ll, "aic": 2 * k - 2 * ll,
                      "bic": k * np.log(n) - 2 * ll}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
