"""Real reference data: the CDNOW transactions shipped inside the ``lifetimes`` wheel.

Read with :mod:`importlib.resources` (lifetimes' own loaders import ``pkg_resources``, which recent
setuptools removed) and returned in the canonical transaction columns of :mod:`portfolio_kit.data.schemas`.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow", "load_cdnow_summary", "CDNOW_CALIBRATION_END", "CDNOW_OBSERVATION_END"]

#: End of the published 39-week calibration period (weeks 1-39) and of the 78-week observation.
CDNOW_CALIBRATION_END = pd.Timestamp("1997-09-30")
CDNOW_OBSERVATION_END = pd.Timestamp("1998-06-30")


def _open(name: str):
    return resources.files("lifetimes.datasets").joinpath(name).open("r")


def load_cdnow(cohort: str = "sample") -> pd.DataFrame:
    """CDNOW purchases as canonical transactions.

    Parameters
    ----------
    cohort : {"sample", "master"}
        ``"sample"``: the 2,357-customer 1/10th cohort used in the published BG/NBD papers (6,919 rows);
        ``"master"``: all 23,570 customers (69,659 rows).

    Returns
    -------
    DataFrame with ``customer_id`` (str, zero-padded as in the source), ``date``, ``amount`` (US dollars),
    ``quantity`` (number of CDs), sorted as in the source file.

    Examples
    --------
    >>> tx = load_cdnow()
    >>> tx["customer_id"].nunique()
    2357
    """
    if cohort == "sample":
        names = ["customer_id", "master_id", "date", "quantity", "amount"]
        with _open("CDNOW_sample.txt") as fh:
            raw = pd.read_csv(fh, sep=r"\s+", header=None, names=names, dtype={"customer_id": str, "master_id": str})
        raw = raw.drop(columns="master_id")
    elif cohort == "master":
        names = ["customer_id", "date", "quantity", "amount"]
        with _open("CDNOW_master.txt") as fh:
            raw = pd.read_csv(fh, sep=r"\s+", header=0, names=names, dtype={"customer_id": str})
    else:
        raise ValueError(f"cohort must be 'sample' or 'master', got {cohort!r}")
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    raw["amount"] = raw["amount"].astype(float)
    return raw[["customer_id", "date", "amount", "quantity"]]


def load_cdnow_summary() -> pd.DataFrame:
    """The published 2,357-customer calibration summary (weeks): ``frequency``, ``recency``, ``T`` and
    ``monetary_value`` (mean repeat spend, 0 for customers without repeat purchases), indexed by the
    integer customer id."""
    with _open("cdnow_customers_summary_with_transactions.csv") as fh:
        raw = pd.read_csv(fh)
    return (
        raw.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
        .set_index("customer_id")
    )
