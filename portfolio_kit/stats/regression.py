"""Regression building blocks shared by the models of the analyses (churn, late payment, time to payment): the
design matrix of numeric features and treatment dummies, the logit fit, and the coefficient table.

A :class:`Design` learns how each feature enters from the training rows (means and standard deviations, the
levels of each categorical feature) and then builds the same columns for any rows::

    numeric "raw"     x as it is (missing stays missing)
    numeric "log"     (log(1 + max(x, 0)) - mean) / sd   (missing: 0, the mean)
    numeric "linear"  (x - mean) / sd                     (missing: 0, the mean)
    numeric "flag"    x as it is, 0/1                     (missing: 0)
    categorical       one 0/1 column ``name[level]`` per level but the reference (missing: ``"(unknown)"``)

Examples
--------
>>> rows = pd.DataFrame({"amount": [1.0, 3.0, 2.0], "sector": ["Retail", "Retail", "Food"]})
>>> Design({"amount": "linear"}, ["sector"]).fit(rows).matrix(rows).round(3)
   const  amount  sector[Food]
0    1.0  -1.225           0.0
1    1.0   1.225           0.0
2    1.0   0.000           1.0
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["TRANSFORMS", "MISSING_LEVEL", "Design", "fit_logit", "coefficient_table"]

logger = logging.getLogger(__name__)

#: How a numeric feature enters the design, and what one unit of its coefficient is.
TRANSFORMS: dict[str, str] = {"raw": "per unit", "log": "per SD of log(1 + x)", "linear": "per SD",
                              "flag": "yes vs no"}

#: The level of a categorical feature where its value is missing.
MISSING_LEVEL = "(unknown)"


class Design:
    """Design matrix of a regression: numeric features, transformed, and treatment dummies of categorical ones.

    Fitted on the training rows: the mean and standard deviation of each standardised feature (``"log"``,
    ``"linear"``) and the levels of each categorical feature, the reference first (as given in ``reference``,
    else the most frequent level), the others sorted. A level not seen when fitting scores as the reference
    (with a warning).

    Parameters
    ----------
    numeric : mapping or sequence of str
        Numeric features and their transform (:data:`TRANSFORMS`); a sequence enters them ``"raw"``.
    categorical : sequence of str
        Categorical features (values compared as text).
    reference : mapping, optional
        Reference level of some categorical features, e.g. ``{"sector": "Manufacturing"}``.
    drop_constant : bool
        Leave out the features without variation in the training rows (a constant, a single level), with a
        note in the log; otherwise a constant numeric feature stays (and a logit with it is singular).
    name : str
        The model the design belongs to, in messages.

    Attributes
    ----------
    scale_ : dict
        ``{numeric feature: (centre, sd)}`` of the features kept, in order.
    levels_ : dict
        ``{categorical feature: [reference, other levels ...]}`` of the features kept, in order.
    """

    def __init__(self, numeric: Mapping[str, str] | Sequence[str], categorical: Sequence[str] = (),
                 reference: Mapping[str, str] | None = None, *, drop_constant: bool = False, name: str = "model"):
        numeric = dict(numeric) if isinstance(numeric, Mapping) else dict.fromkeys(numeric, "raw")
        bad = {c: t for c, t in numeric.items() if t not in TRANSFORMS}
        if bad:
            raise ValueError(f"numeric: transforms must be one of {list(TRANSFORMS)}, got {bad}")
        self.numeric, self.categorical, self.reference = numeric, tuple(categorical), dict(reference or {})
        unknown = [c for c in self.reference if c not in self.categorical]
        if unknown:
            raise ValueError(f"reference: {unknown} not among the categorical features {list(self.categorical)}")
        self.drop_constant, self.name = drop_constant, name

    def transformed(self, features: pd.DataFrame, column: str) -> pd.Series:
        """``column`` as numbers, through ``log(1 + max(x, 0))`` for a ``"log"`` feature (not standardised)."""
        x = pd.to_numeric(features[column], errors="coerce").astype(float)
        return np.log1p(x.clip(lower=0)) if self.numeric[column] == "log" else x

    @staticmethod
    def levels(features: pd.DataFrame, column: str) -> pd.Series:
        """``column`` as text, :data:`MISSING_LEVEL` where missing."""
        return features[column].astype("string").fillna(MISSING_LEVEL)

    def _check_columns(self, features: pd.DataFrame, columns) -> None:
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise ValueError(f"features: missing column(s) {missing} of the {self.name}")

    def fit(self, features: pd.DataFrame) -> "Design":
        """Learn the scales and levels from the training rows ``features``."""
        self._check_columns(features, (*self.numeric, *self.categorical))
        self.scale_: dict[str, tuple[float, float]] = {}
        for col, how in self.numeric.items():
            if self.drop_constant or how in ("log", "linear"):
                x = self.transformed(features, col)
                mean, sd = float(x.mean()), float(x.std(ddof=0))
                if self.drop_constant and (not np.isfinite(sd) or sd == 0):
                    logger.info("%s: %r has no variation in the training rows; left out", self.name, col)
                    continue
            self.scale_[col] = (mean, sd) if how in ("log", "linear") else (0.0, 1.0)
        self.levels_: dict[str, list[str]] = {}
        for col in self.categorical:
            counts = self.levels(features, col).value_counts()
            if self.drop_constant and len(counts) < 2:
                logger.info("%s: %r has a single level (%s) in the training rows; left out", self.name, col,
                            counts.index[0] if len(counts) else "none")
                continue
            reference = self.reference.get(col, counts.index[0] if len(counts) else MISSING_LEVEL)
            if reference not in counts.index:
                raise ValueError(f"reference: {reference!r} is not a level of {col!r} in the data "
                                 f"({sorted(counts.index)})")
            self.levels_[col] = [reference] + sorted(v for v in counts.index if v != reference)
        return self

    def matrix(self, features: pd.DataFrame, constant: bool = True) -> pd.DataFrame:
        """The design columns of ``features`` (indexed like it): ``const`` (with ``constant``), the numeric
        features, then ``name[level]`` for each categorical level but the reference."""
        if not hasattr(self, "levels_"):
            raise ValueError(f"{self.name}: call fit() first")
        self._check_columns(features, (*self.scale_, *self.levels_))
        X = pd.DataFrame(index=features.index)
        if constant:
            X["const"] = 1.0
        for col, (centre, sd) in self.scale_.items():
            x = (self.transformed(features, col) - centre) / sd
            X[col] = x if self.numeric[col] == "raw" else x.fillna(0.0)
        for col, levels in self.levels_.items():
            values = self.levels(features, col)
            unseen = ~values.isin(levels)
            if unseen.any():
                logger.warning("%s: %d row(s) with levels not seen in training (%s) scored as %r", col,
                               int(unseen.sum()), sorted(values[unseen].unique())[:3], levels[0])
            for level in levels[1:]:
                X[f"{col}[{level}]"] = (values == level).astype(float).to_numpy()
        return X

    def scales(self) -> dict[str, str]:
        """What one unit of each design column is: ``per SD``, ``yes vs no``, ``vs <reference>`` ..."""
        out = {col: TRANSFORMS[self.numeric[col]] for col in self.scale_}
        out.update({f"{col}[{level}]": f"vs {levels[0]}" for col, levels in self.levels_.items()
                    for level in levels[1:]})
        return out


def fit_logit(y, X: pd.DataFrame, *, name: str = "logit", maxiter: int = 100):
    """statsmodels ``Logit`` of the 0/1 outcomes ``y`` on the design ``X`` (with its ``const`` column),
    Newton's method; a warning in the log when it does not converge.

    Raises
    ------
    ValueError
        Collinear columns (a singular Hessian), naming the model ``name``.

    Examples
    --------
    >>> X = pd.DataFrame({"const": 1.0, "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> round(float(fit_logit([0, 0, 1, 0, 1, 1], X).params["x"]), 3)
    1.214
    """
    from statsmodels.discrete.discrete_model import Logit  # on first fit: pages without models start faster

    y = np.asarray(y, dtype=float)
    try:
        result = Logit(y, X).fit(disp=0, method="newton", maxiter=maxiter)
    except np.linalg.LinAlgError as exc:
        terms = [c for c in X.columns if c != "const"]
        raise ValueError(f"{name}: the features {terms} are collinear or separate the two outcomes perfectly on "
                         f"these {len(y)} rows; drop some or use more data") from exc
    if not result.mle_retvals.get("converged", True):
        logger.warning("%s: the optimiser did not converge (rare levels or separation?)", name)
    return result


def coefficient_table(result, effect: str = "odds_ratio") -> pd.DataFrame:
    """Coefficients of a fitted statsmodels model with their exponentiated effects and 95% Wald intervals.

    ``effect = exp(coef)`` (an odds ratio for a logit, a hazard ratio for a Cox model) and
    ``exp(coef -/+ 1.96 std_err)``.

    Parameters
    ----------
    result : statsmodels results
        With ``params``, ``bse``, ``pvalues`` and ``model.exog_names``.
    effect : str
        Name of the exponentiated column (``"odds_ratio"``, ``"hazard_ratio"``).

    Returns
    -------
    DataFrame
        ``term``, ``coef``, ``std_err``, ``z``, ``p_value``, ``effect``, ``effect_low``, ``effect_high``.
    """
    params, bse = np.asarray(result.params, dtype=float), np.asarray(result.bse, dtype=float)
    z = stats.norm.ppf(0.975)
    with np.errstate(over="ignore"):  # a separated term has an infinite bound
        return pd.DataFrame({"term": list(result.model.exog_names), "coef": params, "std_err": bse,
                             "z": params / bse, "p_value": np.asarray(result.pvalues, dtype=float),
                             effect: np.exp(params), f"{effect}_low": np.exp(params - z * bse),
                             f"{effect}_high": np.exp(params + z * bse)})
