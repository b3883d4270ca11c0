"""Shared fixtures of the payments tests: a hand-worked seven-invoice ledger and its customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_invoices(rows) -> pd.DataFrame:
    """Canonical invoices from (id, customer, issue, due, amount, paid_date, paid_amount) tuples."""
    frame = pd.DataFrame(rows, columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date",
                                        "paid_amount"])
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["paid_amount"] = frame["paid_amount"].astype(float)
    return frame


@pytest.fixture
def ledger():
    """The hand-worked ledger (as of 2024-03-31)."""
    return make_invoices([
        ("F7", "C3", "2023-12-01", "2023-12-31", 200.0, None, None),           # open, 91 days past due
        ("F1", "C1", "2024-01-10", "2024-02-09", 1000.0, "2024-02-05", None),  # paid 4 days early
        ("F2", "C1", "2024-01-20", "2024-02-19", 500.0, "2024-03-15", None),   # paid 25 days late
        ("F3", "C2", "2024-02-01", "2024-03-02", 800.0, "2024-03-10", 300.0),  # partial: 500 still open
        ("F4", "C2", "2024-02-15", "2024-03-16", 400.0, None, None),           # open, 15 days past due
        ("F5", "C3", "2024-03-05", "2024-04-04", 600.0, None, None),           # open, not yet due
        ("F6", "C3", "2024-03-20", "2024-03-20", -100.0, None, None),          # open credit note, 11 days old
    ])


@pytest.fixture
def customers():
    return pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "sector": ["Retail", "Retail", "Services", "Retail"],
                         "credit_limit": [1000.0, 500.0, np.nan, 0.0]})
