"""CDNOW read from the lifetimes wheel with importlib.resources, in the canonical transaction columns."""

import pandas as pd

from portfolio_kit.data.datasets import load_cdnow, load_cdnow_summary


def test_cdnow_master_has_the_published_row_and_customer_counts():
    # CDNOW master file: 69,659 purchase records of 23,570 customers, Jan 1997 - Jun 1998
    master = load_cdnow("master")
    assert len(master) == 69_659 and master["customer_id"].nunique() == 23_570
    assert master["date"].min() == pd.Timestamp("1997-01-01") and master["date"].max() == pd.Timestamp("1998-06-30")
    assert list(master.columns[:3]) == ["customer_id", "date", "amount"]


def test_cdnow_cohort_is_the_2357_customer_sample():
    sample = load_cdnow()
    assert len(sample) == 6_919 and sample["customer_id"].nunique() == 2_357
    assert sample["customer_id"].str.len().eq(5).all()  # zero-padded ids kept as text
    assert len(load_cdnow_summary()) == 2_357
