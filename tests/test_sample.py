"""Tests of the sample client generator (portfolio_kit.data.sample).

Checked against independent computations: the snapshot diff is recomputed from the written files, due dates
from the customers' terms, purchase summaries by plain pandas; parameter recovery uses lifetimes' fitters and
statsmodels' Logit; the CDNOW figures are the published BG/NBD estimates (Fader, Hardie & Lee 2005) and the
CDNOW calibration data shipped with lifetimes.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit.data import schemas
from portfolio_kit.data.sample import (CLIENT_COLUMNS, PLANTED, SEGMENTS, SITUATIONS, SampleClient,
                                       generate_sample, make_sample, simulate_bgnbd, write_sample)

ROOT = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-10-31")


@pytest.fixture(scope="module")
def client() -> SampleClient:
    return generate_sample()


@pytest.fixture(scope="module")
def folder(client, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(client, out)
    return out


@pytest.fixture(scope="module")
def big() -> SampleClient:
    return generate_sample(n_customers=20_000, seed=1)


def fit_quietly(fitter, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitter.fit(*args)


def read_client_csv(folder: Path, table: str) -> pd.DataFrame:
    """Read one table the way portfolio.yaml describes it (plain pandas, canonical names, parsed dates)."""
    cfg = yaml.safe_load((folder / "portfolio.yaml").read_text(encoding="utf-8"))
    spec = cfg["tables"][table]
    opts = {**cfg["read"], **{k: v for k, v in spec.items() if k in cfg["read"]}}
    ids = [k for k, v in spec["columns"].items() if v in schemas.columns(table, "id")]
    frame = pd.read_csv(folder / spec["path"], sep=opts["sep"], decimal=opts["decimal"],
                        thousands=opts["thousands"], encoding=opts["encoding"], dtype={c: str for c in ids})
    frame = frame.rename(columns=spec["columns"])
    for col in schemas.columns(table, "date"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], format=opts["date_format"]).astype("datetime64[ns]")
    return frame


def read_snapshots(folder: Path) -> dict[str, pd.DataFrame]:
    cfg = yaml.safe_load((folder / "portfolio.yaml").read_text(encoding="utf-8"))["tables"]["snapshots"]
    pattern = re.compile(cfg["snapshot_date_from_filename"])
    return {pattern.search(p.name).group(1): pd.read_csv(p, dtype={"customer_id": str}).set_index("customer_id")
            for p in sorted(folder.glob(cfg["path"]))}


# ---------------------------------------------------------------------------------------------------- shape
def test_same_seed_same_client_and_other_seed_differs():
    one, two, other = generate_sample(300, seed=5), generate_sample(300, seed=5), generate_sample(300, seed=6)
    for table in ("customers", "transactions", "invoices", "snapshots", "latent"):
        pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table))
    assert one.truth == two.truth
    assert not one.transactions["amount"].equals(other.transactions["amount"])
    assert one.truth["planted_changes"] != other.truth["planted_changes"]


def test_tables_have_canonical_columns_and_types(client):
    for table in ("customers", "transactions", "invoices", "snapshots"):
        frame = getattr(client, table)
        assert set(schemas.columns(table)) <= set(frame.columns), table
        for col in schemas.columns(table, "date"):
            assert frame[col].dtype == "datetime64[ns]", (table, col)
        for col in schemas.columns(table, "float"):
            assert frame[col].dtype == "float64", (table, col)
        keys = list(schemas.TABLE_KEYS[table])
        assert not keys or not frame.duplicated(keys).any(), table
    ids = client.customers["customer_id"]
    assert ids.str.fullmatch(r"C\d{6}").all() and ids.iloc[0] == "C000001"
    assert client.invoices["invoice_id"].str.fullmatch(r"(F|NC)20\d\d-\d{6}").all()
    # the account manager (the client's "Agente") is canonical; the other tables keep client columns of their own
    assert client.customers["account_manager"].nunique() == 8 and {"Note"} <= set(client.invoices)
    assert CLIENT_COLUMNS["customers"]["account_manager"] == "Agente"
    assert {"Rif. Fattura"} <= set(client.transactions) and {"legal_form"} <= set(client.snapshots)


def test_customer_mix_matches_the_model(client):
    c = client.customers
    assert set(c["sector"]) == {"Manufacturing", "Retail", "Construction", "Food & Beverage", "Services",
                                "Healthcare"}
    assert set(c["region"]) == {"Nord-Ovest", "Nord-Est", "Centro", "Sud", "Isole"}
    assert set(c["payment_terms_days"]) == {30.0, 60.0, 90.0}
    assert 0.80 < (c["customer_type"] == "B2B").mean() < 0.90            # 85% B2B
    assert (c.loc[c["customer_type"] == "B2C", "size_class"] == "Micro").all()
    # larger firms get longer terms
    terms = c.groupby("size_class")["payment_terms_days"].mean()
    assert terms["Micro"] < terms["Small"] < terms["Medium"] < terms["Large"]
    # acquisitions over the whole window, more early than late
    start = pd.Timestamp(client.truth["start"])
    assert c["since"].min() >= start and c["since"].max() <= AS_OF
    first_half = (c["since"] < start + (AS_OF - start) / 2).mean()
    assert 0.55 < first_half < 0.70                                       # 1 - (0.5 - 0.3 * 0.25)/0.7 = 0.607
    assert {k: v["customers"] for k, v in client.truth["segments"].items()} == \
        c["size_class"].value_counts().to_dict()


def test_names_need_escaping_and_accents(client):
    names = set(client.customers["name"])
    assert "<script>alert(1)</script> S.p.A." in names
    assert any("&" in n for n in names) and any("'" in n for n in names) and any(";" in n for n in names)
    assert any("Società" in n for n in names) and any("<" in n and "script" not in n for n in names)
    assert any(re.fullmatch(r"\S+ \S+ S\.r\.l\.", n) for n in names)        # "Rossi Meccanica S.r.l."


# ------------------------------------------------------------------------------------ transactions, invoices
def test_transactions_belong_to_customers_and_start_at_since(client):
    tx, cust = client.transactions, client.customers.set_index("customer_id")
    assert tx["customer_id"].isin(cust.index).all()
    assert client.invoices["customer_id"].isin(cust.index).all()
    sales = tx[tx["amount"] > 0]
    first = sales.groupby("customer_id")["date"].min()
    pd.testing.assert_series_equal(first, cust.loc[first.index, "since"], check_names=False)
    assert len(first) == len(cust)                                        # everyone bought at least once
    assert tx["date"].max() <= AS_OF
    assert (tx["channel"] == cust.loc[tx["customer_id"], "channel"].to_numpy()).all()
    assert (tx["amount"].round(2) == tx["amount"]).all() and (tx["margin"].round(2) == tx["margin"]).all()
    rate = sales["margin"] / sales["amount"] - sales["product"].map(client.truth["products"]["margin_offset"])
    by_sector = rate.groupby(cust.loc[sales["customer_id"], "sector"].to_numpy()).mean()
    for sector, expected in client.truth["margin_rate_by_sector"].items():
        assert by_sector[sector] == pytest.approx(expected, abs=0.01), sector


def test_invoice_due_date_is_issue_plus_terms(client):
    inv = client.invoices.merge(client.customers[["customer_id", "payment_terms_days"]], on="customer_id")
    expected = inv["issue_date"] + pd.to_timedelta(inv["payment_terms_days"], unit="D")
    assert (inv["due_date"] == expected).all()
    tx = client.transactions
    assert (client.invoices["invoice_id"] == tx["Rif. Fattura"]).all()
    assert (client.invoices["amount"] == tx["amount"]).all() and (client.invoices["issue_date"] == tx["date"]).all()


def test_open_invoices_are_those_paid_after_as_of(client):
    inv = client.invoices
    is_open = inv["paid_date"].isna()
    assert 0 < is_open.sum() == client.truth["counts"]["open_invoices"]
    assert (inv["paid_amount"].isna() == is_open).all()
    assert (inv["paid_date"].dropna() <= AS_OF).all()
    sales = inv[inv["amount"] > 0]
    # the earliest payment is 20 days before due: every sale due more than 20 days after as_of is still open
    assert sales.loc[sales["due_date"] > AS_OF + pd.Timedelta(days=20), "paid_date"].isna().all()
    days_late = (sales["paid_date"] - sales["due_date"]).dt.days.dropna()
    assert days_late.min() >= -20
    # open sales that are more than 30 days past due carry the dunning note, and only those
    dunned = sales["paid_date"].isna() & (AS_OF - sales["due_date"] > pd.Timedelta(days=30))
    assert ((sales["Note"] == "Sollecito inviato") == dunned).all()
    partial = sales["paid_amount"] < sales["amount"]
    assert 0.01 < partial[~sales["paid_date"].isna()].mean() < 0.05    # 3% partial payments
    assert ((sales["Note"] == "Pagamento parziale") == partial).all()


def test_credit_notes_follow_a_sale_of_the_same_customer(client):
    inv = client.invoices
    notes = inv[inv["amount"] < 0]
    assert (notes["invoice_id"].str.startswith("NC") == True).all()  # noqa: E712
    assert (inv.loc[inv["amount"] > 0, "invoice_id"].str.startswith("F")).all()
    assert (notes["paid_date"] == notes["issue_date"]).all()
    assert 0.01 < len(notes) / (inv["amount"] > 0).sum() < 0.03           # ~2% returns
    sales = inv[inv["amount"] > 0][["customer_id", "issue_date", "amount"]]
    pairs = notes.merge(sales, on="customer_id", suffixes=("", "_sale"))
    gap = (pairs["issue_date"] - pairs["issue_date_sale"]).dt.days
    ok = gap.between(3, 28) & (pairs["amount_sale"] >= -pairs["amount"])
    assert ok.groupby(pairs["invoice_id"]).any().all()


def test_payment_model_coefficients_recovered_in_sign(big):
    """A plain Logit of P(paid > 30 days late) on the generated invoices recovers every planted effect's sign.

    Only invoices whose outcome is known at as_of (due + 30 days before as_of) are used; open ones among them
    are late by definition.
    """
    import statsmodels.api as sm

    truth = big.truth["payment_model"]
    inv = big.invoices[big.invoices["amount"] > 0].merge(big.customers, on="customer_id")
    inv = inv[inv["due_date"] + pd.Timedelta(days=30) < AS_OF]
    late = inv["paid_date"].isna() | ((inv["paid_date"] - inv["due_date"]).dt.days > 30)
    ref = truth["reference_levels"]
    X = pd.get_dummies(inv[["size_class", "sector"]], prefix_sep=":", dtype=float)
    X = X.drop(columns=[f"size_class:{ref['size_class']}", f"sector:{ref['sector']}"])
    X["terms"] = (inv["payment_terms_days"] - ref["payment_terms_days"]) / 30
    fit = sm.Logit(late.astype(float), sm.add_constant(X)).fit(disp=0)
    coef = truth["coefficients"]
    planted = {f"{k}:{lvl}": v for k in ("size_class", "sector") for lvl, v in coef[k].items() if v != 0}
    planted["terms"] = coef["payment_terms_per_30_days"]
    for name, value in planted.items():
        assert np.sign(fit.params[name]) == np.sign(value), name
        assert fit.params[name] == pytest.approx(value, abs=0.25), name     # attenuated by the random effect
    # chronically late customers are late far more often
    chronic = inv["customer_id"].isin(truth["chronic_late_customers"])
    assert late[chronic].mean() > 3 * late[~chronic].mean()


# ------------------------------------------------------------------------------------------------ BG/NBD
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), T=st.floats(0.5, 200), r=st.floats(0.05, 5), alpha=st.floats(0.5, 50),
       a=st.floats(0.05, 5), b=st.floats(0.05, 5), seed=st.integers(0, 2**32 - 1))
def test_simulate_bgnbd_invariants(n, T, r, alpha, a, b, seed):
    Ts = np.linspace(T / 2, T, n)
    events, latent = simulate_bgnbd(Ts, r, alpha, a, b, seed=seed)
    g = events.groupby("customer")["t"]
    assert (g.min() == 0).all() and (g.size() == latent["n_repeat"] + 1).all()      # first purchase at 0
    assert (g.max().to_numpy() <= Ts).all() and (events["t"] >= 0).all()
    assert events["customer"].is_monotonic_increasing
    dead = ~latent["alive"].to_numpy()
    assert (latent["n_repeat"][dead] >= 1).all()                                      # drop out after a repeat
    assert np.allclose(g.max().to_numpy()[dead], latent["dropout_t"].to_numpy()[dead])
    assert latent["dropout_t"][~dead].isna().all()


def test_simulate_bgnbd_limits_by_hand():
    """Two limits computed by hand: no dropout -> Poisson counts; certain dropout -> at most one repeat."""
    T = np.full(40_000, 20.0)
    # lambda ~ Gamma(r=400, rate 800) is 0.5 +- 0.025; p ~ Beta(0.01, 1000) is ~0: counts ~ Poisson(10)
    _, latent = simulate_bgnbd(T, r=400.0, alpha=800.0, a=0.01, b=1000.0, seed=3)
    assert latent["n_repeat"].mean() == pytest.approx(10.0, abs=0.1)
    assert latent["n_repeat"].var() == pytest.approx(10.0 + 20**2 * 400 / 800**2, rel=0.05)
    # p ~ Beta(1000, 0.01) is ~1 (E[1 - p] = 1e-5): at most one repeat purchase, with probability
    # 1 - exp(-lambda T) = 1 - e^-1 for T = 2, and the customer drops out right after it
    _, latent = simulate_bgnbd(np.full(40_000, 2.0), r=400.0, alpha=800.0, a=1000.0, b=0.01, seed=4)
    assert latent["n_repeat"].max() == 1
    assert latent["n_repeat"].mean() == pytest.approx(1 - np.exp(-1.0), abs=0.01)
    assert (~latent["alive"] == (latent["n_repeat"] == 1)).mean() > 0.999


def test_simulate_bgnbd_recovers_segment_parameters():
    """20,000 customers of the Small segment: lifetimes' BetaGeoFitter recovers r, alpha, a, b."""
    from lifetimes import BetaGeoFitter

    truth = SEGMENTS["Small"]["bgnbd"]
    T = np.random.default_rng(0).uniform(10, 156, 20_000)
    events, _ = simulate_bgnbd(T, **truth, seed=11)
    g = events.groupby("customer")["t"]
    fit = fit_quietly(BetaGeoFitter(), g.size() - 1, g.max(), pd.Series(T))
    for name, rel in {"r": 0.06, "alpha": 0.08, "a": 0.15, "b": 0.2}.items():
        assert fit.params_[name] == pytest.approx(truth[name], rel=rel), name


def test_simulate_bgnbd_reproduces_published_cdnow_fit():
    """With the published CDNOW BG/NBD estimates (FHL 2005: r 0.243, alpha 4.414, a 0.793, b 2.426) and the
    CDNOW customers' own T (ten copies of the 2,357), the simulated mean repeat frequency matches CDNOW's
    (1.042, from the calibration summary) and a refit recovers the published estimates: the simulation is
    exactly BG/NBD (lifetimes' own generator recovers r = 0.27)."""
    from lifetimes import BetaGeoFitter

    from portfolio_kit.data.datasets import load_cdnow_summary

    cdnow = load_cdnow_summary()
    T = np.tile(cdnow["T"].to_numpy(float), 10)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    events, latent = simulate_bgnbd(T, **published, seed=2005)
    assert latent["n_repeat"].mean() == pytest.approx(cdnow["frequency"].mean(), rel=0.06)
    g = events.groupby("customer")["t"]
    fit = fit_quietly(BetaGeoFitter(), g.size() - 1, g.max(), pd.Series(T))
    for name, tol in {"r": 0.015, "alpha": 0.3, "a": 0.15, "b": 0.6}.items():
        assert fit.params_[name] == pytest.approx(published[name], abs=tol), name


def test_generated_purchases_recover_bgnbd_and_gamma_gamma(big):
    """From the written dates alone (weekly summary, as an analyst would build it) the Micro and Small
    segments' BG/NBD and Gamma-Gamma parameters are recovered."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    sales = big.transactions[big.transactions["amount"] > 0].merge(big.customers[["customer_id", "size_class"]])
    for segment in ("Micro", "Small"):
        seg = sales[sales["size_class"] == segment]
        g = seg.groupby("customer_id")["date"]
        first, last = g.min(), g.max()
        fit = fit_quietly(BetaGeoFitter(), g.nunique() - 1, (last - first).dt.days / 7, (AS_OF - first).dt.days / 7)
        truth = SEGMENTS[segment]["bgnbd"]
        for name, rel in {"r": 0.15, "alpha": 0.15, "a": 0.25, "b": 0.3}.items():
            assert fit.params_[name] == pytest.approx(truth[name], rel=rel), (segment, name)
        repeat = seg[seg.groupby("customer_id").cumcount() > 0].groupby("customer_id")["amount"].agg(["size", "mean"])
        gg = fit_quietly(GammaGammaFitter(), repeat["size"], repeat["mean"])
        truth = SEGMENTS[segment]["gamma_gamma"]
        for name, rel in {"p": 0.15, "q": 0.15, "gamma": 0.2}.items():   # lifetimes calls gamma "v"
            assert gg.params_[{"gamma": "v"}.get(name, name)] == pytest.approx(truth[name], rel=rel), (segment, name)


# ------------------------------------------------------------------------------------------------ snapshots
def test_planted_changes_are_exactly_the_snapshot_differences(client, folder):
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    snaps = read_snapshots(folder)
    assert list(snaps) == truth["snapshot_dates"] == ["2026-09-30", "2026-10-31"]
    before, after = snaps.values()
    assert set(after.index) - set(before.index) == set(truth["added_customers"])
    assert set(before.index) - set(after.index) == set(truth["removed_customers"])
    common = before.index.intersection(after.index)
    b, a = before.loc[common], after.loc[common, before.columns]
    diff = (b != a) & ~(b.isna() & a.isna())

    def value(frame, cid, col):
        v = frame.at[cid, col]
        return None if pd.isna(v) else v                  # an empty cell read back; truth.json writes null

    found = {(cid, col, value(b, cid, col), value(a, cid, col)) for cid, col in diff.stack().loc[lambda s: s].index}
    planted = {(c["customer_id"], c["field"], c["before"], c["after"]) for c in truth["planted_changes"]}
    assert found == planted
    assert len({c["customer_id"] for c in truth["planted_changes"]}) == len(planted)   # one change each
    kinds = pd.DataFrame(truth["planted_changes"]).groupby("field").size().to_dict()
    assert kinds == {"rating": PLANTED["downgrades"] + PLANTED["upgrades"] + SITUATIONS["valuable_rating_fall"],
                     "failure_score": 20, "delinquency_score": 20, "credit_limit": 20, "officers": 10,
                     "share_capital": 10, "esg_score": 10, "legal_event": 8}
    assert (len(truth["added_customers"]), len(truth["removed_customers"])) == (20, 15)


def test_planted_changes_have_the_promised_size(client):
    scale = client.truth["rating_scale"]
    changes = pd.DataFrame(client.truth["planted_changes"])
    rating = changes[changes["field"] == "rating"]
    notches = rating["after"].map(scale.index) - rating["before"].map(scale.index)
    falls = rating["customer_id"].isin(client.truth["situations"]["valuable_rating_fall"])
    assert (notches[~falls] > 0).sum() == 30 and (notches < 0).sum() == 10 and (notches[~falls] >= 2).sum() >= 3
    assert falls.sum() == 10 and (notches[falls] >= 2).all()
    esg = changes[changes["field"] == "esg_score"]
    assert (esg["before"] - esg["after"]).between(15 - 1e-9, 30 + 1e-9).all() and (esg["after"] >= 0).all()
    events = changes[changes["field"] == "legal_event"]
    assert events["before"].isna().all()
    assert set(events["after"]) <= {"protest", "insolvency proceedings", "seizure"}
    for field in ("failure_score", "delinquency_score"):
        moved = changes[changes["field"] == field]
        assert ((moved["after"] - moved["before"]).abs() > 10).all()
        assert moved["after"].between(1, 100).all()
    cuts = changes[changes["field"] == "credit_limit"]
    assert (cuts["after"] <= 0.8 * cuts["before"]).all()
    snaps = client.snapshots
    assert snaps["rating"].isin(scale).all() and snaps["failure_score"].between(1, 100).all()
    # the rating reflects payment risk: worse ratings have worse delinquency scores
    by_rating = snaps.groupby("rating")["delinquency_score"].mean().reindex(scale).dropna()
    assert by_rating.iloc[0] < by_rating.iloc[len(by_rating) // 2] < by_rating.iloc[-1]


def test_added_customers_are_new_and_removed_ones_dropped_out(client):
    cust = client.customers.set_index("customer_id")
    assert (cust.loc[client.truth["added_customers"], "since"] > pd.Timestamp("2026-09-30")).all()
    latent = client.latent.set_index("customer_id")
    assert not latent.loc[client.truth["removed_customers"], "alive"].any()


# ------------------------------------------------------------------------------------ customer plants
def spend_percentile(client) -> pd.Series:
    sales = client.transactions[client.transactions["amount"] > 0]
    spend = sales.groupby("customer_id")["amount"].sum().reindex(client.customers["customer_id"], fill_value=0)
    return spend.rank(pct=True)


def open_amount(client) -> pd.Series:
    """Open receivables per customer at as_of, net of partial payments (as the kit's exposure counts them)."""
    inv = client.invoices
    rest = inv["amount"] - inv["paid_amount"].fillna(0.0)
    return rest.groupby(inv["customer_id"]).sum().reindex(client.customers["customer_id"], fill_value=0.0)


def test_defaulted_customers_stop_buying_and_leave_invoices_unpaid(client):
    d = client.truth["defaults"]
    assert len(d["customers"]) == 50 == client.truth["counts"]["defaulted"]                  # 2.5% of 2,000
    dates = pd.to_datetime(pd.Series(d["default_dates"]))
    assert sorted(dates.index) == d["customers"]
    assert (dates <= AS_OF - pd.Timedelta(days=400)).mean() >= 0.7                          # most long ago
    last = client.transactions.groupby("customer_id")["date"].max()
    assert (last[dates.index] <= dates).all()                                               # nothing after
    sales = client.invoices[client.invoices["amount"] > 0].merge(dates.rename("default"), left_on="customer_id",
                                                                 right_index=True)
    window = sales["issue_date"].between(sales["default"] - pd.Timedelta(days=89), sales["default"])
    assert window.sum() == d["unpaid_invoices"] and sales.loc[window, "customer_id"].nunique() == 50
    assert sales.loc[window, "paid_date"].isna().all() and sales.loc[window, "paid_amount"].isna().all()
    assert sales.loc[window, "amount"].sum() == pytest.approx(d["unpaid_amount"])
    # the worst payers were preferred, and some invoices are now open more than a year past due
    propensity = client.latent.set_index("customer_id")["payment_propensity"].rank(pct=True)
    assert propensity[d["customers"]].median() > 0.85
    inv = client.invoices
    stale = inv["paid_date"].isna() & (AS_OF - inv["due_date"] > pd.Timedelta(days=365))
    assert stale.sum() == client.truth["counts"]["open_over_365_days_past_due"] > 0
    assert inv.loc[stale, "customer_id"].isin(d["customers"]).all()
    latent = client.latent.set_index("customer_id")
    assert not latent.loc[d["customers"], "alive"].any()
    assert (latent.loc[d["customers"], "default_date"] == dates[d["customers"]].to_numpy()).all()


def test_credit_limits_far_from_need(client):
    cl = client.truth["credit_limits"]
    limit = client.customers.set_index("customer_id")["credit_limit"]
    need = pd.Series(cl["need"])
    below, above = cl["far_below_need"], cl["far_above_need"]
    assert 8 <= len(below) <= 12 and len(above) == 10 and not set(below) & set(above)
    ratio = limit / need
    assert ratio[below].between(0.15, 0.25).all() and ratio[above].between(8.0, 13.0).all()
    assert (limit[below + above] % 1000 == 0).all()                                         # rounded up to 1,000
    # the far-below ones are steady and pay on time: recent purchases, no severe lateness in the last year
    last = client.transactions.groupby("customer_id")["date"].max()
    assert (AS_OF - last[below + above] <= pd.Timedelta(days=90)).all()
    inv = client.invoices[client.invoices["customer_id"].isin(below) & (client.invoices["amount"] > 0)]
    recent = inv[inv["issue_date"] > AS_OF - pd.Timedelta(days=365)]
    assert ((recent["paid_date"].fillna(AS_OF) - recent["due_date"]).dt.days <= 30).all()
    rating = client.snapshots.set_index("customer_id")["rating"]
    assert rating[below].isin(["AAA", "AA", "A", "BBB"]).all()


def value_12m(client) -> pd.Series:
    """Margin of the last 365 days per customer (a customer's value in the situations)."""
    tx = client.transactions
    recent = tx[tx["date"] > AS_OF - pd.Timedelta(days=365)]
    return recent.groupby("customer_id")["margin"].sum().reindex(client.customers["customer_id"], fill_value=0.0)


def days_late(invoices: pd.DataFrame) -> pd.Series:
    """Days from due to paid; open invoices count as paid far in the future (they are at least that late)."""
    return (invoices["paid_date"].fillna(AS_OF + pd.Timedelta(days=10_000)) - invoices["due_date"]).dt.days


def test_situations_are_disjoint_and_what_they_say(client):
    truth = client.truth
    situations = truth["situations"]
    assert set(situations) == {"valuable_rating_fall", "valuable_stopped_buying", "low_value_over_limit",
                               "chronic_late_payers", "healthy_growers"} == set(SITUATIONS)
    assert all(len(v) == 10 for v in situations.values())
    groups = [*situations.values(), truth["defaults"]["customers"], *(truth["credit_limits"][k] for k in
                                                                     ("far_below_need", "far_above_need"))]
    assert sum(len(g) for g in groups) == len(set().union(*groups))
    assert not set(situations["chronic_late_payers"]) & set(truth["payment_model"]["chronic_late_customers"])
    pct, owed, value = spend_percentile(client), open_amount(client), value_12m(client)
    valuable, low = value[value > 0].quantile(0.8), value[value > 0].quantile(0.5)
    last = client.transactions.groupby("customer_id")["date"].max()
    limit = client.customers.set_index("customer_id")["credit_limit"]
    scale, changes = truth["rating_scale"], pd.DataFrame(truth["planted_changes"]).set_index("customer_id")
    sales = client.invoices[client.invoices["amount"] > 0]
    open_sales = sales[sales["paid_date"].isna()]
    partial = sales["paid_amount"].notna() & (sales["paid_amount"] < sales["amount"])
    # the situations' payment habits hold for the sales due in the last year or later, and any open
    planted = (sales["due_date"] > AS_OF - pd.Timedelta(days=365)) | sales["paid_date"].isna()
    # valuable customers whose rating falls 2+ notches, still buying
    fall = situations["valuable_rating_fall"]
    assert (pct[fall] >= 0.9).all() and (value[fall] >= valuable).all()
    assert (AS_OF - last[fall] <= pd.Timedelta(days=90)).all()
    assert (changes.loc[fall, "field"] == "rating").all()
    assert (changes.loc[fall, "after"].map(scale.index) - changes.loc[fall, "before"].map(scale.index) >= 2).all()
    # valuable frequent buyers who stopped 150-240 days ago, paying every sale in full before it is due
    stopped = situations["valuable_stopped_buying"]
    stops = pd.to_datetime(pd.Series(truth["situation_details"]["stop_dates"]))
    assert (last[stopped] == stops[stopped]).all() and (pct[stopped] >= 0.9).all()
    assert (value[stopped] >= valuable).all()
    assert (AS_OF - last[stopped]).dt.days.between(150, 240).all()
    tx = client.transactions[(client.transactions["amount"] > 0) & client.transactions["customer_id"].isin(stopped)]
    year = tx[tx["date"] > tx["customer_id"].map(stops) - pd.Timedelta(days=365)]
    assert (year.groupby("customer_id").size().reindex(stopped, fill_value=0) >= 10).all()
    theirs = sales["customer_id"].isin(stopped)
    assert days_late(sales[theirs & planted]).between(-10, -1).all() and not partial[theirs].any()
    assert (owed[stopped] == 0).all()
    # small active late payers over their limit, with open invoices, none due in the 30 days up to as_of
    small = situations["low_value_over_limit"]
    assert (value[small] <= low).all() and (owed[small] > 0).all()
    assert (AS_OF - last[small] <= pd.Timedelta(days=90)).all()
    assert (limit[small] <= np.maximum(0.4 * owed[small], 100)).all() and (limit[small] < owed[small]).all()
    theirs = sales["customer_id"].isin(small)
    assert (days_late(sales[theirs & planted]) > 30).all() and not partial[theirs].any()
    just_due = sales["due_date"].between(AS_OF - pd.Timedelta(days=30), AS_OF)
    assert not (theirs & just_due).any()
    # active late payers of middling value, a quarter of what they owe more than 60 days past due, within limit
    chronic = situations["chronic_late_payers"]
    assert (value[chronic] < valuable).all() and (AS_OF - last[chronic] <= pd.Timedelta(days=90)).all()
    theirs = sales["customer_id"].isin(chronic)
    assert (days_late(sales[theirs & planted]) > 30).all() and not partial[theirs].any()
    mine = open_sales[open_sales["customer_id"].isin(chronic)]
    overdue = mine[(AS_OF - mine["due_date"]).dt.days > 60].groupby("customer_id")["amount"].sum()
    assert (overdue.reindex(chronic, fill_value=0) >= 0.25 * owed[chronic]).all() and (owed[chronic] > 0).all()
    assert (limit[chronic] >= 2 * owed[chronic]).all() and not set(chronic) & set(changes.index)
    # healthy growers: 1.5x the purchases of the year before, good rating, paying before due, room under the limit
    growers = situations["healthy_growers"]
    positive = client.transactions[client.transactions["amount"] > 0]
    age = (AS_OF - positive["date"]).dt.days
    last_year = positive[age < 365].groupby("customer_id").size().reindex(growers, fill_value=0)
    year_before = positive[(age >= 365) & (age < 730)].groupby("customer_id").size().reindex(growers, fill_value=0)
    assert (last_year >= 1.5 * year_before).all() and (year_before >= 1).all()
    assert (pct[growers] >= 0.9).all() and (value[growers] >= valuable).all()
    assert (limit[growers] >= 2 * owed[growers]).all()
    snaps = client.snapshots
    assert snaps.loc[snaps["customer_id"].isin(growers), "rating"].isin(["AAA", "AA", "A", "BBB"]).all()
    assert not set(growers) & set(changes.index)
    theirs = sales["customer_id"].isin(growers)
    paid = sales[theirs & planted & sales["paid_date"].notna()]
    assert ((paid["paid_date"] - paid["due_date"]).dt.days.between(-10, -1)).all() and not partial[theirs].any()
    assert (sales.loc[theirs & sales["paid_date"].isna(), "due_date"] > AS_OF).all()          # open: not yet due


def test_provider_fields_in_the_snapshots(client):
    snaps = client.snapshots
    assert snaps["esg_score"].between(0, 100).all() and (snaps["esg_score"].round(1) == snaps["esg_score"]).all()
    events = snaps.dropna(subset=["legal_event"])
    assert set(events["legal_event"]) <= {"protest", "insolvency proceedings", "seizure"}
    existing = client.truth["legal_events_existing"]
    first = events[events["snapshot_date"] == events["snapshot_date"].min()]
    assert first.set_index("customer_id")["legal_event"].to_dict() == existing
    assert len(events) == 2 * len(existing) + PLANTED["legal_events"]


# ------------------------------------------------------------------------------------------------ files
def test_csv_quirks_in_the_raw_files(folder):
    raw = {name: (folder / name).read_bytes() for name in ("clienti.csv", "movimenti.csv", "fatture.csv")}
    for name, data in raw.items():
        assert data.startswith(b"\xef\xbb\xbf"), name                        # UTF-8 with BOM
        text = data.decode("utf-8-sig")
        header = text.splitlines()[0]
        assert ";" in header and "," not in header, name
        assert re.search(r";\d{2}/\d{2}/20\d\d;", text), name                # dd/mm/yyyy
        assert re.search(r";-?\d{1,3}(\.\d{3})+,\d\d;", text), name          # 1.234,56
    clienti = raw["clienti.csv"].decode("utf-8-sig")
    assert clienti.splitlines()[0].split(";")[:3] == ["Codice Cliente", "Ragione Sociale", "Tipo"]
    assert "<script>alert(1)</script> S.p.A." in clienti and "Società" in clienti
    assert '"Bianchi; Verdi & C. S.a.s."' in clienti                          # quoted: it holds the separator
    fatture = raw["fatture.csv"].decode("utf-8-sig")
    assert re.search(r"^F\d{4}-\d{6};C\d{6};[^;]+;[^;]+;[^;]+;;;", fatture, re.M)   # open: empty paid date
    snap = next((folder / "snapshots").glob("*.csv")).read_text(encoding="utf-8")
    assert snap.splitlines()[0].startswith("customer_id,rating,") and "snapshot_date" not in snap


def test_csv_files_read_back_to_the_generated_tables(client, folder):
    for table in ("customers", "transactions", "invoices"):
        read = read_client_csv(folder, table)
        assert set(CLIENT_COLUMNS[table].values()) <= set(pd.read_csv(
            folder / yaml.safe_load((folder / "portfolio.yaml").read_text())["tables"][table]["path"],
            sep=";", nrows=0, encoding="utf-8-sig").columns)
        pd.testing.assert_frame_equal(read, getattr(client, table), check_dtype=False, check_exact=True)
    snaps = read_snapshots(folder)
    stacked = pd.concat({pd.Timestamp(d): s for d, s in snaps.items()}, names=["snapshot_date"]).reset_index()
    expected = client.snapshots
    pd.testing.assert_frame_equal(stacked[expected.columns].astype({"snapshot_date": "datetime64[ns]"}),
                                  expected, check_dtype=False, check_exact=True)


def test_config_is_accepted_by_the_kit(folder):
    from portfolio_kit.data.config import load_config

    cfg = load_config(folder / "portfolio.yaml")
    assert cfg.as_of.isoformat() == "2026-10-31" and cfg.client == "sample-client"
    assert cfg.tables["customers"].columns["Codice Cliente"] == "customer_id"
    assert cfg.read_options("snapshots").sep == ","


def test_config_spells_out_the_default_action_rules(folder):
    from portfolio_kit.actions import DEFAULT_ACTION_RULES, parse_action_rules
    from portfolio_kit.data.config import load_config

    rules = load_config(folder / "portfolio.yaml").actions
    assert parse_action_rules(rules) == DEFAULT_ACTION_RULES
    assert [r["name"] for r in rules] == [r.name for r in DEFAULT_ACTION_RULES]


def test_parquet_layout(tmp_path):
    small = generate_sample(150, seed=9)
    paths = write_sample(small, tmp_path, fmt="parquet")
    cfg = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    assert cfg["read"] == {"format": "parquet"}
    for table in ("customers", "transactions", "invoices"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / cfg["tables"][table]["path"]),
                                      getattr(small, table), check_dtype=False)
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == \
        ["rating_2026-09-30.parquet", "rating_2026-10-31.parquet"]


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    committed = ROOT / "data" / "sample"
    if not (committed / "portfolio.yaml").exists():
        pytest.skip("the sample client has not been generated yet")
    written = make_sample(tmp_path)
    for path in written:
        rel = path.relative_to(tmp_path)
        assert (committed / rel).read_bytes() == path.read_bytes(), f"{rel} is stale: run `make sample`"
    assert sum(p.stat().st_size for p in written) < 10 * 2**20


# ------------------------------------------------------------------------------------------------ edges
def test_one_customer_and_bad_arguments(tmp_path):
    one = generate_sample(1, seed=3)
    assert len(one.customers) == 1 and len(one.transactions) >= 1
    assert one.truth["planted_changes"] == [] and one.truth["added_customers"] == []
    assert len(write_sample(one, tmp_path)) == 8
    with pytest.raises(ValueError, match="n_customers"):
        generate_sample(0)
    with pytest.raises(ValueError, match="as_of"):
        generate_sample(10, as_of="31/10/2026x")
    with pytest.raises(ValueError, match="years"):
        generate_sample(10, years=0.01)
    with pytest.raises(ValueError, match="fmt"):
        write_sample(one, tmp_path, fmt="xlsx")
    with pytest.raises(ValueError, match="T must be"):
        simulate_bgnbd([1.0, -1.0], 1, 1, 1, 1)


def test_large_client_is_vectorised():
    """50,000 customers (about 300,000 transactions) in about a second; identifiers stay unique."""
    large = generate_sample(50_000, seed=4)
    assert len(large.customers) == 50_000 and large.customers["customer_id"].is_unique
    assert large.invoices["invoice_id"].is_unique
    assert len(large.truth["planted_changes"]) == 25 * (SITUATIONS["valuable_rating_fall"] + sum(
        PLANTED[k] for k in ("downgrades", "upgrades", "failure_score", "delinquency_score",
                             "credit_limit_cuts", "officers", "share_capital", "esg_drops", "legal_events")))
    assert len(large.truth["defaults"]["customers"]) == 1250
    sizes = {k: len(v) for k, v in large.truth["situations"].items()}
    assert set(sizes) == set(SITUATIONS) and all(200 <= v <= 250 for v in sizes.values())   # growers are rare


def test_invoice_lines_add_up_to_their_invoice():
    """A retail-like client: several lines per invoice, each invoice's lines sum to it to the cent, the other
    tables are unchanged by the split (it has its own random stream)."""
    plain, split = generate_sample(400, seed=5), generate_sample(400, seed=5, lines_per_invoice=3.5)
    pd.testing.assert_frame_equal(split.invoices, plain.invoices)
    pd.testing.assert_frame_equal(split.customers, plain.customers)
    lines = split.transactions
    assert 3.0 < len(lines) / len(split.invoices) < 4.0
    assert split.truth["counts"]["transactions"] == len(lines)
    per_invoice = lines.groupby("Rif. Fattura")["amount"].sum().round(2)
    invoice = split.invoices.set_index("invoice_id")["amount"]
    assert (per_invoice.reindex(invoice.index) - invoice).abs().max() < 1e-9
    margin = lines.groupby("Rif. Fattura")["margin"].sum().round(2)
    assert np.allclose(margin.sort_index(), plain.transactions.set_index("Rif. Fattura")["margin"].sort_index())
    first = lines.drop_duplicates("Rif. Fattura").set_index("Rif. Fattura")
    assert (first["product"] == plain.transactions.set_index("Rif. Fattura")["product"].reindex(first.index)).all()
    with pytest.raises(ValueError, match="lines_per_invoice"):
        generate_sample(10, lines_per_invoice=0.5)


def test_customers_buy_only_from_their_planted_basket(client):
    """Each customer's lines come from its basket (truth_customers ``basket``); the sector lines and the pairs of
    truth["products"] hold in the baskets: sector line adoption and the pair's join rate near their 0.85."""
    planted = client.truth["products"]
    basket = client.latent.set_index("customer_id")["basket"].str.split("; ")
    sales = client.transactions[client.transactions["amount"] > 0]
    bought = sales.groupby("customer_id")["product"].agg(set)
    assert all(lines <= set(basket[c]) for c, lines in bought.items())
    has = pd.DataFrame({line: basket.map(lambda b, line=line: line in b) for line in planted["lines"]})
    sector = client.customers.set_index("customer_id")["sector"].reindex(has.index)
    for s, line in planted["sector_lines"].items():
        assert has.loc[sector == s, line].mean() == pytest.approx(planted["sector_adoption"], abs=0.08), s
    for first, second in planted["pairs"]:
        assert has.loc[has[first], second].mean() > 0.8 and has.loc[~has[first], second].mean() < 0.3
