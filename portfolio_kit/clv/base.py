"""Maximum likelihood for customer models, written once: optimiser, convergence check, standard errors,
summary table and parametric bootstrap. Each model supplies only its log-likelihood (and gradient) and its
prediction formulas.

Fitting maximises the total log-likelihood over the log-parameters. A model with an analytic Hessian
(``has_hessian``: BG/NBD, MBG/NBD) is fitted by Newton's method with a backtracking line search, which
reaches the maximum in a few steps from a good start; the others by BFGS on the analytic gradient, then
Newton steps on a finite-difference Hessian of the gradient. The Hessian at the maximum gives the standard
errors: ``Cov(log theta) = H^-1``, ``se(theta) = theta sqrt(diag H^-1)`` (delta method). Identical customer
rows are compressed into one row with a weight, so discrete-period summaries (the output of
:func:`~portfolio_kit.clv.rfm_summary`) fit in time proportional to their distinct rows; with many distinct
rows, the start is a fit on every k-th customer (itself started from a ten times smaller subsample; BFGS
begins from the inverse Hessian there), so the full data are evaluated only a handful of times.
"""

from __future__ import annotations

import logging
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize

__all__ = ["ConvergenceWarning", "CustomerModel", "PurchaseModel", "unique_rows", "wsum"]

logger = logging.getLogger(__name__)

_Z95 = 1.959963984540054
_GRADIENT_TOLERANCE = 1e-6  # largest |d mean log-likelihood / d log theta| accepted as converged
_WARM_START_ROWS = 20_000  # above this many distinct rows, start from a fit on a subsample of customers


class ConvergenceWarning(UserWarning):
    """A model fit stopped before reaching a maximum of the likelihood."""


def wsum(weights: np.ndarray, values: np.ndarray) -> float:
    """``sum(weights * values)`` over rows, single-threaded (a multithreaded BLAS dot stalls on a busy machine)."""
    return np.einsum("i,i->", weights, values)


def _row_hash(arrays: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """A 64-bit hash of each row of numeric ``arrays`` (equal rows, equal hashes; ``-0.0`` hashes as ``0.0``),
    or None for other dtypes."""
    h = np.zeros(len(arrays[0]), dtype=np.uint64)
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            bits = (a.astype(np.float64, copy=False) + 0.0).view(np.uint64)
        elif a.dtype.kind in "iub":
            bits = a.astype(np.int64).view(np.uint64)
        else:
            return None
        h ^= bits
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(31)
    return h


def _unique_rows_exact(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a in arrays:
        codes, uniques = pd.factorize(a)
        key, _ = pd.factorize(key * len(uniques) + codes)
    return key


def unique_rows(*arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first occurrence of each distinct row and, per row, the index of its distinct row
    (distinct rows numbered in order of first occurrence).

    ``first, inverse = unique_rows(x, y)``: ``x[first][inverse] == x`` and likewise for ``y``. Rows are
    hashed to 64 bits: when the sorted hashes are all different (e.g. continuous-time summaries) every row
    is distinct and no hash table is built; otherwise the hashes are factorized and the grouping is checked
    against the values (a hash collision falls back to factorizing each column).
    """
    n = len(arrays[0])
    h = _row_hash(arrays) if n else None
    if h is not None:
        ordered = np.sort(h)
        if not (ordered[1:] == ordered[:-1]).any():  # all rows distinct
            every = np.arange(n, dtype=np.int64)
            return every, every
        key = pd.factorize(h.view(np.int64))[0].astype(np.int64, copy=False)
    else:
        key = _unique_rows_exact(arrays)
    n_unique = key.max() + 1 if len(key) else 0
    first = np.empty(n_unique, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    if h is not None:
        for a in arrays:
            a = np.asarray(a)
            if not np.array_equal(a[first][key], a, equal_nan=a.dtype.kind == "f"):  # a hash collision
                return unique_rows_exact_first(arrays)
    return first, key


def unique_rows_exact_first(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`unique_rows` without hashing (factorizes each column)."""
    key = _unique_rows_exact(arrays)
    n_unique = key.max() + 1 if len(key) else 0
    first = np.empty(n_unique, dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    return first, key


def on_unique_rows(func, *arrays: np.ndarray) -> np.ndarray:
    """``func(*arrays)`` evaluated once per distinct row of ``arrays`` and spread back to every row."""
    first, inverse = unique_rows(*arrays)
    return np.asarray(func(*(a[first] for a in arrays)))[..., inverse]


def summary_arrays(summary: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Checked float arrays of ``columns`` of an RFM summary (clear errors for wrong input)."""
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary must be a pandas DataFrame (the output of rfm_summary), "
                        f"got {type(summary).__name__}")
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ValueError(f"summary: missing column(s) {missing}; expected the output of rfm_summary")
    if summary.empty:
        raise ValueError("summary is empty: a model needs at least one customer")
    out = {}
    for c in columns:
        if not pd.api.types.is_numeric_dtype(summary[c]):
            raise ValueError(f"summary column {c!r} must be numeric, got {summary[c].dtype}")
        a = summary[c].to_numpy(dtype=float)
        if not np.isfinite(a).all():
            raise ValueError(f"summary column {c!r} has {int((~np.isfinite(a)).sum())} missing or infinite values")
        out[c] = a
    if "frequency" in out:
        x = out["frequency"]
        if (x < 0).any() or (x != np.round(x)).any():
            raise ValueError("summary column 'frequency' must hold whole numbers >= 0")
    if "recency" in out and "T" in out:
        if (out["recency"] < 0).any():
            raise ValueError("summary column 'recency' must be >= 0")
        if (out["recency"] > out["T"] * (1 + 1e-9) + 1e-12).any():
            raise ValueError("summary: 'recency' is larger than 'T' for "
                             f"{int((out['recency'] > out['T']).sum())} customers")
    return out


class CustomerModel:
    """Base of the maximum-likelihood customer models.

    Subclasses set ``param_names`` and ``columns`` and implement ``_prepare`` (arrays -> data namespace
    with per-distinct-row weights ``w`` and the row-to-distinct-row map ``inverse``), ``_initial_params``
    and ``_loglik(params, data, how)`` with ``how`` one of ``"sum"`` (total log-likelihood), ``"grad"``
    (total and its gradient in the natural parameters), ``"hess"`` (total, gradient and Hessian in the
    natural parameters; only with ``has_hessian = True``) or ``"rows"`` (per distinct row); a model without
    an analytic gradient sets ``has_gradient = False`` and gets central differences.

    Attributes
    ----------
    params_ : Series
        Estimates, named as in the literature.
    log_likelihood_ : float
        Maximised total log-likelihood.
    standard_errors_ : Series
        Asymptotic standard errors (delta method from the log-parameter Hessian).
    covariance_ : DataFrame
        Asymptotic covariance of the *log*-parameters (used by :meth:`sample_params`).
    converged_ : bool
        Whether the fit reached a maximum (otherwise a :class:`ConvergenceWarning` was issued).
    n_customers_ : int
        Customers used by the fit.
    data_ : DataFrame
        The summary the model was fitted on (default input of the prediction methods).
    """

    #: The model's name as the literature writes it (tables and figures).
    label: str = ""
    param_names: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    has_gradient: bool = True
    #: Whether ``_loglik(..., "hess")`` gives the analytic Hessian (then the fit is Newton's method).
    has_hessian: bool = False

    def __init__(self) -> None:
        self.params_: pd.Series | None = None
        self.data_: pd.DataFrame | None = None

    def __repr__(self) -> str:
        if self.params_ is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({', '.join(f'{k}={v:.4g}' for k, v in self.params_.items())})"

    # ------------------------------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, **params: float):
        """A model with given parameters (no fit), e.g. published values: ``BetaGeo.from_params(r=0.243, ...)``."""
        if set(params) != set(cls.param_names):
            raise ValueError(f"{cls.__name__} needs exactly the parameters {list(cls.param_names)}, "
                             f"got {sorted(params)}")
        values = np.array([params[k] for k in cls.param_names], dtype=float)
        if not (np.isfinite(values) & (values > 0)).all():
            raise ValueError(f"{cls.__name__} parameters must be positive and finite, got {params}")
        model = cls()
        model.params_ = pd.Series(values, index=list(cls.param_names), name="estimate")
        return model

    def _theta(self) -> np.ndarray:
        if self.params_ is None:
            raise ValueError(f"{type(self).__name__} has no parameters: call fit() or from_params() first")
        return self.params_.to_numpy()

    def _arrays(self, summary: pd.DataFrame | None) -> tuple[dict[str, np.ndarray], pd.Index]:
        if summary is None:
            if self.data_ is None:
                raise ValueError(f"{type(self).__name__} was not fitted on data: pass a summary")
            summary = self.data_
        return summary_arrays(summary, self.columns), summary.index

    # ----------------------------------------------------------------------------------------------- fitting
    def _objective(self, data):
        """Mean negative log-likelihood over the log-parameters with its gradient (``both``) and, for a model
        with an analytic Hessian, with its Hessian too (``all3``); infinite where the likelihood cannot be
        evaluated, so line searches step back. ``all3`` also returns the total log-likelihood."""
        total_weight = float(data.w.sum())

        def value(log_theta):
            with np.errstate(all="ignore"):
                ll = self._loglik(np.exp(log_theta), data, "sum")
            return -ll / total_weight if np.isfinite(ll) else np.inf

        last = {}

        def both(log_theta):  # remembers its last point: the optimisers ask for it again
            key = np.asarray(log_theta, dtype=float).tobytes()
            if key not in last:
                last.clear()
                last[key] = _both(log_theta)
            return last[key]

        def _both(log_theta):
            if not self.has_gradient:
                return value(log_theta), _central_gradient(value, log_theta, 1e-6)
            theta = np.exp(log_theta)
            with np.errstate(all="ignore"):
                ll, grad = self._loglik(theta, data, "grad")
            if not (np.isfinite(ll) and np.isfinite(grad).all()):
                return np.inf, np.zeros_like(log_theta)
            return -ll / total_weight, -grad * theta / total_weight

        def all3(log_theta):
            theta = np.exp(log_theta)
            with np.errstate(all="ignore"):
                ll, grad, hess = self._loglik(theta, data, "hess")
            if not (np.isfinite(ll) and np.isfinite(grad).all() and np.isfinite(hess).all()):
                return np.inf, np.zeros_like(log_theta), np.full((len(theta),) * 2, np.nan), ll
            # chain rule to log theta: H_log = diag(theta) H diag(theta) + diag(theta * grad)
            hess_log = hess * np.outer(theta, theta) + np.diag(theta * grad)
            return -ll / total_weight, -grad * theta / total_weight, -hess_log / total_weight, ll

        if self.has_hessian:
            def value_and_total(log_theta):
                with np.errstate(all="ignore"):
                    ll = self._loglik(np.exp(log_theta), data, "sum")
                return (-ll / total_weight if np.isfinite(ll) else np.inf), ll

            all3.value = value_and_total
            return all3
        return both

    def _maximise(self, data, start: np.ndarray, maxiter: int, start_hessian: np.ndarray | None = None):
        """Maximise from ``start``; returns the log-parameters, gradient and Hessian of the mean negative
        log-likelihood there, the total log-likelihood and the optimiser's result.

        With an analytic Hessian: Newton's method. Otherwise BFGS seeded with the inverse of ``start_hessian``
        (by default the finite-difference Hessian at ``start``) when it is positive definite, then Newton
        polish on the finite-difference Hessian at the BFGS end point."""
        if self.has_hessian:
            return _newton(self._objective(data), start, maxiter)
        both = self._objective(data)
        options = {"maxiter": maxiter, "gtol": 1e-5}  # Newton polish on the final Hessian finishes
        if start_hessian is None:
            start_hessian = _hessian(lambda v: both(v)[1], start, both(start)[1])
        if np.isfinite(start_hessian).all():
            eigenvalues, vectors = np.linalg.eigh(start_hessian)
            if eigenvalues.min() > 1e-10 * eigenvalues.max():
                inverse = (vectors / eigenvalues) @ vectors.T
                options["hess_inv0"] = (inverse + inverse.T) / 2  # exactly symmetric, as BFGS checks
        result = minimize(both, start, jac=True, method="BFGS", options=options)
        log_theta, (_, gradient) = result.x, both(result.x)
        hessian = _hessian(lambda v: both(v)[1], log_theta, gradient)
        if result.status != 1:  # not stopped by the iteration limit: polish to the maximum
            log_theta, gradient = _newton_polish(both, log_theta, hessian)
        with np.errstate(all="ignore"):
            ll = float(self._loglik(np.exp(log_theta), data, "sum"))
        return log_theta, gradient, hessian, ll, result

    def _start(self, arrays: dict[str, np.ndarray], data, maxiter: int, rows: int):
        """Starting log-parameters (and the mean log-likelihood's Hessian there, or None): the data-driven
        guess or, above ``rows`` distinct rows, the maximum on every k-th customer (about ``rows`` of them),
        itself started the same way from a ten times smaller subsample."""
        start = np.log(self._initial_params(data))
        if len(data.w) <= rows or rows < 1000:
            return start, None
        every = -(-len(data.inverse) // rows)
        try:
            sub_arrays = {c: a[::every] for c, a in arrays.items()}
            subsample = self._prepare(sub_arrays)
            sub_start, sub_hessian = self._start(sub_arrays, subsample, maxiter, rows // 10)
            warm, _, warm_hessian, _, _ = self._maximise(subsample, sub_start, maxiter, sub_hessian)
        except ValueError:  # e.g. no repeat buyer in the subsample
            return start, None
        return (warm, warm_hessian) if np.isfinite(warm).all() else (start, None)

    def fit(self, summary: pd.DataFrame, *, initial_params: dict[str, float] | None = None,
            maxiter: int = 1000):
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            Output of :func:`~portfolio_kit.clv.rfm_summary` (the model's ``columns``; others are ignored).
        initial_params : dict, optional
            Starting values (default: a data-driven guess).
        maxiter : int
            Maximum optimiser iterations (Newton steps, or BFGS iterations for a model without an analytic
            Hessian).

        Returns
        -------
        self

        Warns
        -----
        ConvergenceWarning
            When the optimiser stops before a maximum (with its message); the estimates are kept. Expect it
            with a handful of customers, where the likelihood may have no interior maximum.

        Raises
        ------
        ValueError
            Empty summary, missing or malformed columns (named in the message).
        """
        arrays = summary_arrays(summary, self.columns)
        data = self._prepare(arrays)
        start_hessian = None
        if initial_params is not None:
            start = np.log(np.array([initial_params[k] for k in self.param_names], dtype=float))
        else:
            start, start_hessian = self._start(arrays, data, maxiter, _WARM_START_ROWS)
        log_theta, gradient, hessian, log_likelihood, result = self._maximise(data, start, maxiter, start_hessian)
        total_weight = float(data.w.sum())
        hessian = hessian * total_weight
        positive = bool(np.all(np.linalg.eigvalsh(hessian) > 0)) if np.isfinite(hessian).all() else False
        self.converged_ = bool(np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE and positive)
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__} fit did not converge: {result.message} (largest gradient "
                f"{np.max(np.abs(gradient)):.2g}, Hessian {'not ' if not positive else ''}positive definite); "
                f"the estimates may be unreliable", ConvergenceWarning, stacklevel=2)
        theta = np.exp(log_theta)
        names = list(self.param_names)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        self.log_likelihood_ = float(log_likelihood)
        with np.errstate(all="ignore"):
            cov = np.linalg.pinv(hessian) if positive else np.full_like(hessian, np.nan)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(theta * np.sqrt(np.diag(cov)), index=names, name="std_error")
        self.n_customers_ = int(total_weight)
        self.optimizer_result_ = result
        self.data_ = summary
        logger.info("%r: log-likelihood %.4f after %d iterations", self, self.log_likelihood_, result.nit)
        return self

    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95% intervals (``exp(log theta +/- 1.96 se_log)``, always > 0)."""
        theta = self._theta()
        se_log = np.sqrt(np.diag(self.covariance_.to_numpy())) if hasattr(self, "covariance_") else np.nan
        return pd.DataFrame({"estimate": theta, "std_error": getattr(self, "standard_errors_", np.nan),
                             "lower_95": theta * np.exp(-_Z95 * se_log),
                             "upper_95": theta * np.exp(_Z95 * se_log)},
                            index=pd.Index(self.param_names, name="parameter"))

    def sample_params(self, n_draws: int, seed: int | np.random.Generator = 0) -> pd.DataFrame:
        """Parametric bootstrap: ``n_draws`` parameter vectors from the estimates' asymptotic distribution
        (log-parameters multivariate normal with :attr:`covariance_`), one row per draw."""
        theta = self._theta()
        if not hasattr(self, "covariance_") or not np.isfinite(self.covariance_.to_numpy()).all():
            raise ValueError(f"{type(self).__name__}: no usable covariance (fit the model on data first)")
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(np.log(theta), self.covariance_.to_numpy(), size=int(n_draws),
                                        method="cholesky")
        return pd.DataFrame(np.exp(draws), columns=list(self.param_names))

    def individual_log_likelihood(self, summary: pd.DataFrame | None = None) -> pd.Series:
        """Log-likelihood of each customer's history at the current parameters."""
        arrays, index = self._arrays(summary)
        data = self._prepare(arrays)
        with np.errstate(divide="ignore"):
            rows = self._loglik(self._theta(), data, "rows")
        return pd.Series(rows[data.inverse], index=index, name="log_likelihood")

    # Subclass hooks -------------------------------------------------------------------------------------
    def _prepare(self, arrays: dict[str, np.ndarray]) -> SimpleNamespace:  # pragma: no cover - abstract
        raise NotImplementedError

    def _initial_params(self, data: SimpleNamespace) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _loglik(self, params: np.ndarray, data: SimpleNamespace, how: str):  # pragma: no cover - abstract
        raise NotImplementedError


class PurchaseModel(CustomerModel):
    """A model of repeat purchases and dropout in continuous time (BG/NBD, MBG/NBD, Pareto/NBD).

    Subclasses give ``_alive(params, x, t_x, T)`` (P(alive)), ``_expected_if_alive(params, x, T, t)``
    (expected purchases in ``(T, T + t]`` for a customer alive at ``T``) and ``_expected_new(params, t)``
    (expected repeat purchases in ``(0, t]`` of a new customer): ``E[X(T, T+t)] = P(alive) x
    E[X(T, T+t) | alive]``.
    """

    columns = ("frequency", "recency", "T")

    def probability_alive(self, summary: pd.DataFrame | None = None) -> pd.Series:
        """P(alive) of each customer at the end of the observation (``T``) given their history."""
        a, index = self._arrays(summary)
        theta = self._theta()
        p = on_unique_rows(lambda x, tx, T: self._alive(theta, x, tx, T), a["frequency"], a["recency"], a["T"])
        return pd.Series(p, index=index, name="probability_alive")

    def predict_purchases(self, t, summary: pd.DataFrame | None = None) -> pd.Series:
        """Expected repeat purchases of each customer in the next ``t`` periods (scalar or one per customer)."""
        a, index = self._arrays(summary)
        t = np.broadcast_to(np.asarray(t, dtype=float), a["T"].shape)
        if (t < 0).any():
            raise ValueError("t must be >= 0")
        theta = self._theta()
        alive = on_unique_rows(lambda x, tx, T: self._alive(theta, x, tx, T), a["frequency"], a["recency"], a["T"])
        future = on_unique_rows(lambda x, T, tt: self._expected_if_alive(theta, x, T, tt), a["frequency"], a["T"], t)
        return pd.Series(alive * future, index=index, name="expected_purchases")

    def expected_purchases(self, t) -> np.ndarray:
        """Expected repeat purchases of a new customer in their first ``t`` periods (array-like ``t``)."""
        t = np.asarray(t, dtype=float)
        if (t < 0).any():
            raise ValueError("t must be >= 0")
        return on_unique_rows(lambda tt: self._expected_new(self._theta(), tt), t.ravel()).reshape(t.shape)


# --------------------------------------------------------------------------------------------------- numerics
def _central_gradient(f, x: np.ndarray, h: float) -> np.ndarray:
    steps = h * np.eye(len(x))
    return np.array([(f(x + e) - f(x - e)) / (2 * h) for e in steps])


def _hessian(gradient, x: np.ndarray, g0: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Symmetrised forward-difference Hessian from the gradient (``g0`` = gradient at ``x``)."""
    H = np.column_stack([(gradient(x + e) - g0) / h for e in h * np.eye(len(x))])
    return (H + H.T) / 2


def _newton_polish(both, x: np.ndarray, hessian: np.ndarray, steps: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps with a fixed Hessian, each kept only if it does not worsen the fit; returns the point
    and its gradient."""
    fx, g = both(x)
    for _ in range(steps):
        if np.max(np.abs(g)) < 1e-10:
            break
        try:
            step = np.linalg.solve(hessian, g)
        except np.linalg.LinAlgError:
            break
        if not np.isfinite(step).all() or g @ step <= 0:  # not a descent direction
            break
        fc, gc = both(x - step)
        if not fc <= fx + 1e-13 * abs(fx):
            break
        x, fx, g = x - step, fc, gc
        if np.max(np.abs(step)) < 1e-10:
            break
    return x, g


def _newton(all3, x: np.ndarray, maxiter: int):
    """Newton's method on ``all3(x) -> (f, gradient, Hessian, total log-likelihood)`` (``f`` the mean negative
    log-likelihood) with a backtracking line search; where the Hessian is not positive definite its
    eigenvalues are reflected and floored, and a step moves each log-parameter by at most 2. Stops when the
    largest gradient is below 1e-10, when the gain a Newton step predicts is below rounding (1e-15 of the
    objective) or when a step changes no log-parameter by more than 1e-12; once the largest gradient is below
    1e-6 the last Newton step is checked by the value alone (``all3.value``), and the gradient and Hessian
    returned are those of the point it started from."""
    f, g, H, ll = all3(x)
    nfev, message, status = 1, "Optimization terminated successfully.", 0
    if not np.isfinite(f):
        return x, g, H, ll, OptimizeResult(x=x, fun=f, jac=g, nit=0, nfev=1, status=3, success=False,
                                           message="The log-likelihood cannot be evaluated at the start.")
    nit = 0
    while np.max(np.abs(g)) >= 1e-10:
        if nit >= maxiter:
            message, status = "Maximum number of iterations has been exceeded.", 1
            break
        nit += 1
        eigenvalues, vectors = np.linalg.eigh(H)
        scale = max(np.max(np.abs(eigenvalues)), 1e-300)
        eigenvalues = np.maximum(np.abs(eigenvalues), 1e-8 * scale)
        step = -(vectors @ ((vectors.T @ g) / eigenvalues))
        largest = np.max(np.abs(step))
        if largest > 2.0:
            step *= 2.0 / largest
        slope = g @ step
        if -slope < 1e-15 * max(abs(f), 1.0):  # the predicted gain is below rounding: at the maximum
            nit -= 1
            break
        if np.max(np.abs(g)) < 1e-6 and largest <= 2.0:
            # quadratic convergence: this full step lands within rounding of the maximum (gradient ~ g^2), so
            # it is only checked by the value; gradient and Hessian stay those of the last point
            fc, llc = all3.value(x + step)
            nfev += 1
            if fc <= f + 4e-16 * abs(f):
                x, f, ll = x + step, fc, llc
            break
        t = 1.0
        while True:
            fc, gc, Hc, llc = all3(x + t * step)
            nfev += 1
            # Armijo; near the maximum differences are at rounding level, so allow that much
            if fc <= f + 1e-4 * t * slope + 4e-16 * abs(f):
                break
            t *= 0.25
            if t < 1e-10:
                message, status = "Desired error not necessarily achieved due to precision loss.", 2
                break
        if status == 2:
            break
        x, f, g, H, ll = x + t * step, fc, gc, Hc, llc
        if np.max(np.abs(t * step)) < 1e-12:
            break
    return x, g, H, ll, OptimizeResult(x=x, fun=f, jac=g, hess=H, nit=nit, nfev=nfev, status=status,
                                       success=status == 0, message=message)
