"""Fixtures shared by the test modules: the sample client, its truth, a hand-worked ledger, tiny clients and a
two-notebook suite for the runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .clients import CUSTOMERS_IT, INVOICES_IT, PARAMS, TRANSACTIONS_IT, XSS, make_client, write_notebook
from .payments_ledgers import make_invoices

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLE_CONFIG = SAMPLE_DIR / "portfolio.yaml"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed sample client's folder (``data/sample``)."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_config() -> Path:
    """The sample client's ``portfolio.yaml``."""
    return SAMPLE_CONFIG


@pytest.fixture(scope="session")
def truth() -> dict:
    """What the sample client's generator planted (``truth.json``): a missing file fails the tests that need it."""
    path = SAMPLE_DIR / "truth.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: regenerate the sample client with `make sample`")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_portfolio(sample_config):
    """The sample client loaded once per session (treat as read-only)."""
    from portfolio_kit.data import load_portfolio

    return load_portfolio(sample_config)


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
    """The ledger's customers: sectors and credit limits (C3 without one, C4 with a zero limit)."""
    return pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "sector": ["Retail", "Retail", "Services", "Retail"],
                         "credit_limit": [1000.0, 500.0, np.nan, 0.0]})


@pytest.fixture
def suite(tmp_path):
    """A two-notebook suite: 01_names saves a table and key figures, 02_check fails on demand."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "01_names.ipynb", PARAMS + "top: int = 2  # customers shown\n", """
from portfolio_kit.data import load_portfolio
from portfolio_kit.data.schemas import key_figures_table
from portfolio_kit.report.tables import save_key_figures, save_table
p = load_portfolio(config_path, as_of=as_of, pseudonymise_names=pseudonymise)
save_key_figures(key_figures_table({"customers": (len(p.customers), "count"), "top": (top, "count")}), "names",
                 output_dir, "overview")
save_table(p.customers[["customer_id", "name"]].head(top), "names", output_dir)""")
    write_notebook(folder / "02_check.ipynb", PARAMS + "fail: bool = False  # raise on purpose\nrate: float = 0.1  # a rate\n", """
if fail:
    raise RuntimeError("failing on purpose")
print("rate", rate)""")
    return folder


@pytest.fixture
def client(tmp_path):
    """A tiny Italian client with all three ledgers and a customer name that tries to inject a script."""
    customers = CUSTOMERS_IT.replace("Società Verdi", XSS)
    return make_client(tmp_path / "client", {"clienti.csv": customers, "movimenti.csv": TRANSACTIONS_IT,
                                             "fatture.csv": INVOICES_IT})
