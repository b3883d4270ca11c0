"""The executive summary: headline figures read from a run's tables, against the previous run's.

Two hand-made run folders (tables, pages and a manifest written by the tests, as the notebooks and the runner
would): every expected figure is computed here from the rows written, by plain Python over lists. Then the
runs of a subset of notebooks (figures not available, never an error), the page's texts in English and
Italian, the figures, the runner's order (the summary runs last and is read first) and the notebook itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_kit.runner import suite as runner
from portfolio_kit.report import summary
from portfolio_kit.data.config import load_config
from portfolio_kit.report.plots import summary as plots
from portfolio_kit.report.texts import texts
from .conftest import SAMPLE_CONFIG as SAMPLE

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"data_overview": "00_data_overview.html", "segmentation": "01_segmentation.html",
         "abc_pareto": "02_abc_pareto.html", "clv": "03_clv.html", "payments": "04_payments.html",
         "churn": "05_churn.html", "monitoring": "06_monitoring.html", "credit": "08_credit.html",
         "actions": "07_actions.html", "products": "09_products.html"}


# --- hand-made runs ---------------------------------------------------------------------------------------

def months(first: str, n: int) -> list[str]:
    """``n`` month starts from ``first`` (YYYY-MM), as revenue_by_month writes them."""
    year, month = map(int, first.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}-01")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


CURRENT = {
    "as_of": "2026-10-31",
    "data_tables": pd.DataFrame({"table": ["customers", "transactions", "invoices"], "files": 1,
                                 "rows": [6, 40, 40], "customers": [6, 5, 5]}),
    # 14 months, 2025-09 .. 2026-10: the last 12 are 2025-11 .. 2026-10
    "revenue_by_month": pd.DataFrame({"period": months("2025-09", 14), "revenue": [100.0 * (i + 1) for i in range(14)],
                                      "returns": 0.0, "margin": [10.0 * (i + 1) for i in range(14)],
                                      "customers": 3, "transactions": 4}),
    "concentration": pd.DataFrame({"measure": ["customers", "gini", "top_10pct_share", "top_20pct_share"],
                                   "revenue": [6.0, 0.52, 0.41, 0.60], "margin": [6.0, 0.7, 0.8, 0.9]}),
    "abc_summary": pd.DataFrame({"by": ["revenue"] * 3 + ["margin"] * 3, "abc_class": ["A", "B", "C"] * 2,
                                 "customers": [2, 1, 3, 3, 1, 2], "customer_share": 0.0, "value": 0.0,
                                 "value_share": 0.0}),
    "customers_clv": pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4", "c5"], "name": list("ABCDE"),
                                   "clv": [500.0, 300.0, 250.0, 100.0, 50.0], "probability_alive": 0.9}),
    "customers_segments": pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4", "c6"],
                                        "segment": ["Loyal", "Champions", "Champions", "Lost", "Lost"]}),
    "customers_churn": pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"],
                                     "churn_probability": [0.9, 0.5, 0.2, 0.7],  # 0.5 is not "more likely"
                                     "value_at_risk": [450.0, 150.0, 50.0, 70.0]}),
    "aging": pd.DataFrame({"size_class": ["Large", "Small", "total"], "current": [600.0, 100.0, 700.0],
                           "1-30": [200.0, 50.0, 250.0], "91+": [100.0, 0.0, 100.0],
                           "total": [900.0, 150.0, 1050.0]}),
    "receivables_kpis": pd.DataFrame({"period_end": ["2026-08-31", "2026-09-30", "2026-10-31"],
                                      "dso": [80.0, 82.5, 85.0], "bpdso": [60.0, 61.0, 62.0]}),
    "alerts": pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "rule": ["rating_downgrade", "score_change", "x"],
                            "severity": ["high", "high", "low"]}),
    "expected_credit_loss": pd.DataFrame({"bucket": ["current", "1-30", "91+"], "receivables": [700.0, 250.0, 100.0],
                                          "ecl": [14.0, 10.0, 100.0]}),
    "customers_credit": pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"],
                                      "limit_action": ["cut", "raise", "cut", "keep"]}),
    "customers_actions": pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "name": list("ABCD"),
                                       "action": ["protect_credit", "retain", "grow", "maintain"],
                                       "priority": ["high", "high", "medium", "low"],
                                       "reason": ["r1", "r2", "r3", "r4"], "value_at_stake": [500.0, 300.0, 200.0, 9.0],
                                       "owner": ["Ann", "Bob", "Ann", None]}),
    "customers_next_product": pd.DataFrame({"customer_id": ["c1", "c2", "c5"], "product": ["x", "y", "x"],
                                            "expected_margin": [12.0, 30.0, 8.0],
                                            "expected_revenue": [120.0, 300.0, 80.0]}),
    "next_product_backtest": pd.DataFrame({"method": ["expected", "score", "popularity"], "customers": 20,
                                           "hits": [9, 10, 3], "hit_rate": [0.45, 0.5, 0.15]}),
}

#: The run a month earlier: no data overview and no monitoring (a run of a subset), another top segment.
PREVIOUS = {
    "as_of": "2026-09-30",
    "concentration": pd.DataFrame({"measure": ["gini", "top_10pct_share"], "revenue": [0.50, 0.45],
                                   "margin": [0.1, 0.1]}),
    "abc_summary": pd.DataFrame({"by": ["revenue", "margin"], "abc_class": ["A", "A"], "customers": [3, 1]}),
    "customers_clv": pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "clv": [900.0, 200.0, 100.0]}),
    "customers_segments": pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "segment": ["Loyal", "Champions", "Lost"]}),
    "customers_churn": pd.DataFrame({"customer_id": ["c1", "c2"], "churn_probability": [0.6, 0.8],
                                     "value_at_risk": [100.0, 300.0]}),
    "aging": pd.DataFrame({"size_class": ["total"], "current": [500.0], "total": [800.0]}),
    "receivables_kpis": pd.DataFrame({"period_end": ["2026-09-30"], "dso": [90.0], "bpdso": [60.0]}),
}


def write_run(folder: Path, spec: dict, manifest: bool = True) -> Path:
    """A run folder as the runner leaves it: tables, a page per notebook that saved one, the manifest."""
    (folder / "tables").mkdir(parents=True)
    for name, table in spec.items():
        if name != "as_of":
            table.to_csv(folder / "tables" / f"{name}.csv", index=False)
    savers = {"data_overview": {"data_tables", "revenue_by_month"}, "segmentation": {"customers_segments"},
              "abc_pareto": {"concentration", "abc_summary"}, "clv": {"customers_clv"},
              "payments": {"aging", "receivables_kpis"}, "churn": {"customers_churn"}, "monitoring": {"alerts"},
              "credit": {"expected_credit_loss", "customers_credit"}, "actions": {"customers_actions"},
              "products": {"customers_next_product", "next_product_backtest"}}
    for notebook, tables in savers.items():
        if tables & set(spec):
            (folder / PAGES[notebook]).write_text("<html></html>")
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({"as_of": spec["as_of"], "status": "success"}))
    return folder


@pytest.fixture()
def runs(tmp_path):
    return write_run(tmp_path / "now", CURRENT, manifest=False), write_run(tmp_path / "before", PREVIOUS)


@pytest.fixture()
def figures(runs):
    now, before = runs
    return summary.headline_figures(now, before, as_of=CURRENT["as_of"]).set_index("figure")


# --- every headline figure ---------------------------------------------------------------------------------

def test_revenue_and_margin_are_the_last_12_months_to_as_of(figures):
    rows = CURRENT["revenue_by_month"]
    window = [i for i, p in enumerate(rows["period"]) if "2025-11-01" <= p <= "2026-10-01"]
    assert len(window) == 12
    revenue = sum(rows["revenue"][i] for i in window)
    margin = sum(rows["margin"][i] for i in window)
    assert figures.at["revenue_12m", "value"] == pytest.approx(revenue)
    assert figures.at["margin_12m", "value"] == pytest.approx(margin)
    assert figures.at["margin_pct_12m", "value"] == pytest.approx(margin / revenue)
    assert figures.at["customers", "value"] == 6  # the customers in the master data, not the buyers (5)


def test_concentration_figures_are_those_of_revenue(figures):
    assert figures.at["gini", "value"] == 0.52 and figures.at["top_10pct_share", "value"] == 0.41
    assert figures.at["a_class_customers", "value"] == 2  # class A by revenue, not by margin (3)


def test_clv_of_the_book_and_of_its_top_segment(figures):
    clv = dict(zip(CURRENT["customers_clv"]["customer_id"], CURRENT["customers_clv"]["clv"]))
    segment = dict(zip(CURRENT["customers_segments"]["customer_id"], CURRENT["customers_segments"]["segment"]))
    by_segment: dict[str, float] = {}
    for customer, value in clv.items():  # c5 has no segment; c6 has a segment but no CLV
        key = segment.get(customer, "(none)")
        by_segment[key] = by_segment.get(key, 0.0) + value
    top = max(by_segment, key=by_segment.get)
    assert (top, by_segment[top]) == ("Champions", 550.0)
    assert figures.at["clv_book", "value"] == sum(clv.values()) == 1200.0
    assert figures.at["clv_top_segment", "value"] == 550.0 and figures.at["clv_top_segment", "detail"] == "Champions"
    # the previous run's value is the same segment's (there, Loyal was the largest)
    assert figures.at["clv_top_segment", "previous"] == 200.0


def test_churn_counts_customers_more_likely_to_leave_than_stay(figures):
    churn = CURRENT["customers_churn"]
    assert figures.at["customers_at_risk", "value"] == sum(p > 0.5 for p in churn["churn_probability"]) == 2
    assert figures.at["value_at_risk", "value"] == sum(churn["value_at_risk"]) == 720.0


def test_receivables_are_read_from_the_total_row_and_the_last_period(figures):
    assert figures.at["overdue_receivables", "value"] == 1050.0 - 700.0
    assert figures.at["overdue_share", "value"] == pytest.approx(350.0 / 1050.0)
    assert figures.at["dso", "value"] == 85.0


def test_alerts_are_counted_by_severity_with_zero_for_none(figures):
    assert figures.loc[["alerts_high", "alerts_medium", "alerts_low"], "value"].tolist() == [2, 0, 1]


def test_credit_figures_sum_the_provision_matrix_and_count_the_actions(figures):
    assert figures.loc["expected_credit_loss", "value"] == 124.0
    assert figures.loc[["limits_to_cut", "limits_to_raise"], "value"].tolist() == [2.0, 1.0]
    assert figures.loc["expected_credit_loss", "page"] == "08_credit.html"


def test_next_product_figures(figures):
    # the expected margin of the suggestions (12 + 30 + 8), the kit's and the baseline's hit rates
    assert figures.loc["next_product_value", "value"] == 50.0
    assert figures.loc[["next_product_hit_rate", "next_product_baseline"], "value"].tolist() == [0.45, 0.15]
    assert figures.loc["next_product_value", "page"] == "09_products.html"


def test_actions_count_customers_to_act_on_and_the_high_priority_stake(figures, runs):
    assert figures.loc[["customers_to_act_on", "high_priority_value_at_stake"], "value"].tolist() == [3.0, 800.0]
    counts, top = summary.top_actions(runs[0], n=2)
    assert counts.set_index("action")["customers"].to_dict() == {"protect_credit": 1, "retain": 1, "grow": 1,
                                                                 "maintain": 1}
    assert top["customer_id"].tolist() == ["c1", "c2"] and summary.top_actions(runs[1]) is None


def test_change_against_the_previous_run(figures):
    expected_previous = {"gini": 0.50, "top_10pct_share": 0.45, "a_class_customers": 3, "clv_book": 1200.0,
                         "customers_at_risk": 2, "value_at_risk": 400.0, "overdue_receivables": 300.0,
                         "overdue_share": 300.0 / 800.0, "dso": 90.0}
    for figure, previous in expected_previous.items():
        assert figures.at[figure, "previous"] == pytest.approx(previous), figure
        assert figures.at[figure, "change"] == pytest.approx(figures.at[figure, "value"] - previous), figure
    # the previous run had no data overview and no monitoring: not available, never an error
    for figure in ("customers", "revenue_12m", "margin_12m", "alerts_high", "alerts_low"):
        assert np.isnan(figures.at[figure, "previous"]) and np.isnan(figures.at[figure, "change"]), figure


def test_each_figure_names_its_notebook_and_page(figures):
    assert list(figures.index) == list(summary.FIGURES)
    for figure, row in figures.iterrows():
        assert row["notebook"] == summary.FIGURES[figure][0]
        assert row["page"] == PAGES[row["notebook"]], figure
    assert set(figures.loc[figures["detail"] != "", "detail"].index) == {"clv_top_segment"}


def test_as_of_comes_from_the_manifest_when_not_given(tmp_path):
    spec = {"as_of": "2026-06-15", "revenue_by_month": CURRENT["revenue_by_month"]}
    run = write_run(tmp_path / "mid-year", spec)
    figures = summary.headline_figures(run).set_index("figure")
    # 12 months to June 2026: 2025-07 .. 2026-06, of which the table has 2025-09 .. 2026-06 (10 months)
    rows = spec["revenue_by_month"]
    assert figures.at["revenue_12m", "value"] == sum(r for p, r in zip(rows["period"], rows["revenue"])
                                                     if "2025-07-01" <= p <= "2026-06-01")
    unknown = write_run(tmp_path / "no-manifest", spec, manifest=False)  # the table's last month then
    assert summary.headline_figures(unknown).set_index("figure").at["revenue_12m", "value"] == sum(rows["revenue"][2:])


@settings(max_examples=40, deadline=None)
@given(present=st.lists(st.booleans(), min_size=30, max_size=30), end=st.integers(0, 35))
def test_12_months_window_property(present, end):
    """With gaps in the months and any as-of, the window sums exactly the months within 12 of as-of."""
    periods = pd.period_range("2024-01", periods=30, freq="M")
    kept = [p for p, keep in zip(periods, present) if keep]
    monthly = pd.DataFrame({"period": [p.start_time for p in kept], "revenue": [float(p.ordinal) for p in kept],
                            "margin": 1.0})
    as_of = (pd.Period("2024-01", "M") + end).end_time.normalize()
    expected = sum(float(p.ordinal) for p in kept if 0 <= (as_of.year * 12 + as_of.month) - (p.year * 12 + p.month) < 12)
    assert summary._last_12_months(monthly, as_of)["revenue"] == pytest.approx(expected)


# --- runs of a subset of notebooks -------------------------------------------------------------------------

def test_a_run_of_a_subset_leaves_the_other_figures_not_available(tmp_path):
    spec = {k: CURRENT[k] for k in ("as_of", "concentration", "abc_summary", "customers_clv")}
    run = write_run(tmp_path / "subset", spec)
    figures = summary.headline_figures(run).set_index("figure")
    available = set(figures.index[figures["value"].notna()])
    assert available == {"top_10pct_share", "gini", "a_class_customers", "clv_book"}
    # without the segmentation's table there is no top segment; pages only for the notebooks that ran
    assert figures.at["clv_top_segment", "detail"] == "" and figures.at["dso", "page"] == ""
    assert figures.at["gini", "page"] == "02_abc_pareto.html"
    assert summary.clv_by_segment(run).empty and summary.monthly_trend(run).empty
    t = texts("en")
    intro = summary.introduction(figures.reset_index(), t, "2026-10-31")
    assert "no earlier run" in intro
    assert "data overview, churn, receivables and payments, monitoring" in intro  # in the table's order
    assert "customer lifetime value" not in intro  # it ran: its book value is there
    lines = summary.conclusions(figures.reset_index(), t).splitlines()
    assert lines[0].startswith("- The top 10% of customers make 41.0% of revenue")
    assert lines[1] == "- The customers in the book are worth EUR 1,200 of expected discounted margin (CLV)."
    assert len(lines) == 2


def test_no_run_and_empty_tables(tmp_path):
    assert summary.headline_figures(None)["value"].isna().all()
    assert summary.headline_figures("")["page"].eq("").all()
    spec = {"as_of": "2026-10-31", "alerts": pd.DataFrame(columns=["customer_id", "rule", "severity"])}
    figures = summary.headline_figures(write_run(tmp_path / "quiet", spec)).set_index("figure")
    assert figures.loc[["alerts_high", "alerts_medium", "alerts_low"], "value"].tolist() == [0, 0, 0]
    assert summary.conclusions(figures.reset_index(), texts("en")) == "- Monitoring raised no alerts."


def test_a_table_without_a_column_it_needs_is_an_error_naming_both(tmp_path):
    spec = {"as_of": "2026-10-31", "customers_clv": pd.DataFrame({"customer_id": ["c1"], "value": [1.0]})}
    with pytest.raises(ValueError, match=r"customers_clv\.csv: no column\(s\) \['clv'\]"):
        summary.headline_figures(write_run(tmp_path / "bad", spec))


# --- the page's texts -------------------------------------------------------------------------------------

def test_headline_table_in_english_and_italian(figures):
    table = summary.headline_table(figures.reset_index(), texts("en"))
    shown = table.data.set_index("Figure")
    assert shown.loc["CLV of the top segment: Champions", "This run"] == "EUR 550"
    assert shown.loc["Revenue share of the top 10% of customers"].tolist() == ["41.0%", "45.0%", "-4.0 pp"]
    assert shown.loc["CLV of the customer book", "Change"] == "0.0%"  # amounts change in %
    assert shown.loc["Value at risk of churn", "Change"] == "+80.0%"  # 720 against 400
    assert shown.loc["DSO (days)"].tolist() == ["85.0", "90.0", "-5.0"]
    assert shown.loc["Customers"].tolist() == ["6", "n/a", "n/a"]
    it = summary.headline_table(figures.reset_index(), texts("it")).data.set_index("Indicatore")
    assert it.loc["Crediti scaduti"].tolist() == ["EUR 350", "EUR 300", "+16,7%"]
    assert it.loc["Giorni medi di incasso (DSO)", "Elaborazione precedente"] == "90,0"
    assert it.loc["Clienti", "Elaborazione precedente"] == "n.d."
    assert repr(table) == table.data.to_string(index=False)  # a stable text


def test_headline_table_links_each_figure_to_its_page_and_escapes_names(figures):
    rows = figures.reset_index()
    rows.loc[rows["figure"] == "clv_top_segment", "detail"] = "<b>Top</b> & co"
    page = summary.headline_table(rows, texts("en"))._repr_html_()
    links = re.findall(r'<th><a href="([^"]+)">', page)
    assert links == [PAGES[n] for n in rows["notebook"]]
    assert "&lt;b&gt;Top&lt;/b&gt; &amp; co" in page and "<b>Top" not in page
    assert 'class="pk-table"' in page


def test_conclusions_in_english_and_italian(runs, figures):
    now, _ = runs
    trend = summary.monthly_trend(now)
    en = summary.conclusions(figures.reset_index(), texts("en"), trend).splitlines()
    assert en[0] == ("- Over the last 12 months the 6 customers brought EUR 10,200 of revenue, with a margin of "
                     "10.0%.")  # 300 + 400 + ... + 1400 and 30 + ... + 140
    assert "(+80.0% on the previous run)" in en[3] and "EUR 720" in en[3] and en[3].startswith("- 2 active")
    assert en[5] == "- DSO is 85 days (-5.0 on the previous run)."  # no month a year earlier in the table
    assert en[6] == "- Monitoring raised 2 high-severity, 0 medium-severity and 1 low-severity alerts."
    it = summary.conclusions(figures.reset_index(), texts("it"), trend)
    assert "EUR 10.200" in it and "10,0%" in it and "rispetto all'elaborazione precedente" in it


def test_dso_is_compared_with_a_year_earlier_when_the_trend_reaches_it(figures):
    trend = pd.DataFrame({"month": pd.date_range("2025-10-01", periods=13, freq="MS"), "dso": [70.0] + [0.0] * 12})
    line = summary.conclusions(figures.reset_index(), texts("en"), trend).splitlines()[5]
    assert line == "- DSO is 85 days (-5.0 on the previous run), against 70 a year earlier."


def test_segment_names_cannot_inject_markdown(figures):
    rows = figures.reset_index()
    rows.loc[rows["figure"] == "clv_top_segment", "detail"] = "[x](http://evil) *y*"
    line = summary.conclusions(rows, texts("en")).splitlines()[2]
    assert r"\[x\]\(http://evil\) \*y\*" in line


def test_introduction_names_the_previous_run_date(runs, figures):
    intro = summary.introduction(figures.reset_index(), texts("it"), dt.date(2026, 10, 31),
                                 summary.run_as_of(runs[1]))
    assert intro.startswith("Portafoglio clienti al 31/10/2026. Le variazioni sono rispetto all'elaborazione "
                            "precedente, al 30/09/2026")
    assert "n.d." not in intro  # every notebook saved something in this run


def test_key_figures_are_labelled_and_rounded(figures):
    key = summary.key_figures(figures.reset_index()).set_index("figure")
    assert key.at["customers", "value"] == 6 and key.at["revenue_12m", "value"] == 10200
    assert key.at["top_10pct_share", "value"] == 0.41 and key.at["dso", "value"] == 85.0
    assert key.at["revenue_12m", "kind"] == "money.0" and key.at["top_10pct_share", "kind"] == "percent.1"
    assert len(key) == 10 and key.at["expected_credit_loss", "value"] == 124


# --- figures ----------------------------------------------------------------------------------------------

def test_dashboard_has_four_labelled_panels(runs, figures):
    now, _ = runs
    fig = plots.dashboard(figures.reset_index(), summary.monthly_trend(now), summary.clv_by_segment(now),
                          texts=texts("it"))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Fatturato e margine per mese", "Giorni medi di incasso (DSO)", "CLV per segmento RFM",
                      "Alert per gravità"]
    assert fig.get_suptitle() == "Il portafoglio in sintesi"
    plt.close(fig)


def test_each_panel_draws_its_table(runs, figures):
    now, _ = runs
    trend, rows = summary.monthly_trend(now), figures.reset_index()
    fig = plots.revenue_margin_trend(trend)
    assert fig.axes[0].get_title() == "Revenue and margin by month" and len(fig.axes[0].lines) >= 2
    plt.close(fig)
    fig = plots.dso_trend(trend)
    assert fig.axes[0].get_ylabel() == "days" and len(fig.axes[0].get_lines()) >= 2
    plt.close(fig)
    fig = plots.clv_segments(summary.clv_by_segment(now), top=2)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Champions", "Loyal", "other segments"]
    plt.close(fig)
    fig = plots.alerts_by_severity(rows)
    heights = sorted(p.get_height() for p in fig.axes[0].patches if p.get_height() > 0)
    assert heights == [1, 2]  # this run only: the previous run had no monitoring
    plt.close(fig)
    fig = plots.alerts_by_severity(summary.headline_figures(""))
    assert fig.axes[0].texts[0].get_text() == "not available in this run"
    plt.close(fig)


# --- the runner: the summary runs last and is read first ------------------------------------------------------

def test_the_summary_runs_last_also_in_a_subset(tmp_path):
    for name in ("00_summary", "01_alpha", "02_beta"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in runner.discover_notebooks(tmp_path)] == ["01_alpha", "02_beta", "00_summary"]
    assert [p.stem for p in runner.discover_notebooks(tmp_path, ["summary", "alpha"])] == ["01_alpha", "00_summary"]
    assert [p.stem for p in runner.discover_notebooks(tmp_path, ["beta"])] == ["02_beta"]
    assert runner.discover_notebooks()[-1].name == "99_summary.ipynb"


def _manifest() -> dict:
    entries = [{"name": n, "html": f"{i:02d}_{n}.html", "title": n.title(), "status": "success", "seconds": 1.0}
               for i, n in ((0, "data_overview"), (2, "abc_pareto"), (99, "summary"))]
    return {"as_of": "2026-10-31", "run_id": "r1", "workbook": None, "notebooks": entries}


def test_index_and_pdf_show_the_summary_first(monkeypatch, tmp_path):
    cfg = load_config(SAMPLE)
    figures = {"summary": {"customers": {"value": 6, "kind": "count", "label": "summary.figure.customers"},
                           "revenue_12m": {"value": 13488074, "kind": "money.0", "label": "summary.figure.revenue_12m"},
                           "margin_pct_12m": {"value": 0.2039, "kind": "percent.1",
                                              "label": "summary.figure.margin_pct_12m"}}}
    index = runner._index_html(cfg, _manifest(), figures)
    assert re.findall(r'<h2><a href="([^"]+)"', index) == ["99_summary.html", "00_data_overview.html",
                                                           "02_abc_pareto.html"]
    assert "Revenue, last 12 months: <b>EUR 13,488,074</b>" in index and "Margin as % of revenue: <b>20.4%</b>" in index
    italian = runner._index_html(cfg.model_copy(update={"language": "it"}), _manifest(), figures)
    assert "Fatturato degli ultimi 12 mesi: <b>EUR 13.488.074</b>" in italian and "<b>20,4%</b>" in italian
    assert "completato in" in italian and "cartella di lavoro Excel" in italian and "Clienti: <b>6</b>" in italian
    seen = {}

    def fake_print(pages, pdf_path, titles, title):
        seen.update(pages=[p.name for p in pages], titles=titles)
        return [1] * len(pages)

    monkeypatch.setattr(runner, "print_report_pdf", fake_print)
    entry, failure = runner._print_pdf(cfg, _manifest(), tmp_path)
    assert failure is None and list(entry["pages"]) == seen["pages"]
    assert seen["pages"] == ["index.html", "99_summary.html", "00_data_overview.html", "02_abc_pareto.html"]
    assert seen["titles"] == ["Contents", "Summary", "Data_Overview", "Abc_Pareto"]


# --- the notebook ---------------------------------------------------------------------------------------------

def test_notebook_takes_the_runner_parameters():
    params = runner.notebook_parameters(runner.NOTEBOOKS_DIR / "99_summary.ipynb")
    assert set(runner.RUNNER_PARAMETERS) <= set(params)
    assert params["previous_run"].default == '""' and params["output_dir"].default == '""'


def test_notebook_on_a_run_of_a_subset_shows_what_there_is(tmp_path):
    """Executed as the runner does, on a run folder holding only the ABC notebook's tables."""
    spec = {k: CURRENT[k] for k in ("as_of", "concentration", "abc_summary")}
    run = write_run(tmp_path / "run", spec, manifest=False)
    out = tmp_path / "99_summary.ipynb"
    papermill.execute_notebook(str(runner.NOTEBOOKS_DIR / "99_summary.ipynb"), str(out), cwd=str(runner.NOTEBOOKS_DIR),
                               parameters={"config_path": str(SAMPLE), "output_dir": str(run), "previous_run": ""},
                               kernel_name=runner.KERNEL_NAME, progress_bar=False,
                               kernel_manager_class=runner.LocalKernelManager)
    text = "\n".join(o.get("data", {}).get("text/plain", o.get("text", "")) if isinstance(o, dict) else ""
                     for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert "class A counts 2 customers" in text and "not available (n/a): data overview" in text
    saved = pd.read_csv(run / "tables" / "summary.csv")
    assert saved["figure"].tolist() == list(summary.FIGURES)
    key = json.loads((run / "key_figures" / "summary.json").read_text())
    assert key == {"top_10pct_share": {"value": 0.41, "kind": "percent.1", "label": "summary.figure.top_10pct_share"}}
