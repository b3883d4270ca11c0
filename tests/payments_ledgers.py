"""Canonical invoices from rows, for the payments tests (the hand-worked ledger is a fixture in conftest.py)."""

from __future__ import annotations

import pandas as pd


def make_invoices(rows) -> pd.DataFrame:
    """Canonical invoices from (id, customer, issue, due, amount, paid_date, paid_amount) tuples."""
    frame = pd.DataFrame(rows, columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date",
                                        "paid_amount"])
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["paid_amount"] = frame["paid_amount"].astype(float)
    return frame
