"""The text catalogue and the report language: every key in every language, numbers written the language's
way, displayed tables, alert messages, churn drivers and figure labels in Italian.

Expected strings are written out by hand (the Italian convention: 1.234,56; EUR 1.234,56; 12,3%; 31/12/2026)
or computed by an independent method (Python's own formatting with the marks swapped).
"""

from __future__ import annotations

import datetime as dt
import doctest
import math
import re
import string
from importlib import resources

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from portfolio_kit.report import style, texts as texts_module  # noqa: E402
from portfolio_kit.churn import ChurnModel  # noqa: E402
from portfolio_kit.monitoring import diff_snapshots, evaluate_alerts, migration_matrix  # noqa: E402
from portfolio_kit.data.schemas import key_figures_table  # noqa: E402
from portfolio_kit.report.wording.churn import drivers_in_words  # noqa: E402
from portfolio_kit.report.wording.monitoring import alerts_with_messages  # noqa: E402
from portfolio_kit.report.texts import LANGUAGES, Markdown, Table, Texts, catalogue, texts  # noqa: E402

IT, EN = texts("it"), texts("en")
AREAS = ("common", "overview", "segmentation", "concentration", "clv", "payments", "churn", "monitoring", "credit",
         "actions", "products", "columns")


# --- the catalogue --------------------------------------------------------------------------------------------
def _fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


def test_every_area_has_its_catalogue_file():
    folder = resources.files("portfolio_kit.report") / "catalogue"
    assert {f"{a}.yaml" for a in AREAS} <= {p.name for p in folder.iterdir()}


def test_every_key_has_every_language_with_the_same_placeholders():
    entries = catalogue()
    assert len(entries) > 300
    for key, versions in entries.items():
        assert set(versions) == set(LANGUAGES), key
        assert all(v.strip() for v in versions.values()), f"{key}: empty text"
        assert _fields(versions["it"]) == _fields(versions["en"]), f"{key}: placeholders differ between languages"


def test_catalogue_files_are_plain_yaml_of_language_pairs():
    """Read with yaml directly (not through the loader): leaves are {en, it} mappings of strings."""
    folder = resources.files("portfolio_kit.report") / "catalogue"

    def leaves(node, path):
        for name, value in node.items():
            assert isinstance(name, str), f"{path}.{name}: keys must be text (quote yes/no/on/off)"
            if isinstance(value, dict) and "en" in value and all(isinstance(v, str) for v in value.values()):
                yield f"{path}.{name}", value
            else:
                assert isinstance(value, dict), f"{path}.{name}"
                yield from leaves(value, f"{path}.{name}")

    for item in folder.iterdir():
        if item.name.endswith(".yaml"):
            found = dict(leaves(yaml.safe_load(item.read_text(encoding="utf-8")), item.name[:-5]))
            assert found and all(set(v) == {"en", "it"} for v in found.values()), item.name


def test_unknown_key_names_the_key_and_its_file():
    with pytest.raises(KeyError, match=r"payments\.no_such_text.*portfolio_kit/catalogue/payments\.yaml"):
        IT("payments.no_such_text")
    with pytest.raises(KeyError, match="needs the field"):
        IT("common.report_title", client="acme")  # as_of missing


def test_unknown_language_and_bad_currency_are_errors():
    with pytest.raises(ValueError, match="language"):
        Texts("fr")
    with pytest.raises(ValueError, match="currency"):
        Texts("it", "")


def test_texts_for_config_and_the_override():
    class Cfg:
        language, currency = "it", "CHF"

    assert texts.for_config(Cfg()) == Texts("it", "CHF")
    assert texts.for_config(Cfg(), "en") == Texts("en", "CHF")  # a run's --language wins
    assert texts.for_config(Cfg(), "") == Texts("it", "CHF")  # empty parameter: the config's


def test_fields_are_written_the_languages_way():
    assert IT("common.report_title", client="acme", as_of="2026-10-31") == "acme: portafoglio clienti al 31/10/2026"
    assert EN("common.report_title", client="acme", as_of=dt.date(2026, 10, 31)) == \
        "acme: customer portfolio as of 2026-10-31"
    # kinds and ordinary specs in templates
    assert IT("concentration.plot.lorenz_title", gini=0.63149) == "Curva di Lorenz (Gini 0,631)"
    assert IT("clv.plot.holdout_errors", mae=0.7479, bias=-0.0025) == \
        "MAE 0,75, distorsione -0,00 acquisti per cliente"
    assert EN("concentration.plot.class_customers", abc_class="A", n=12345) == "A: 12,345 customers"


# --- numbers ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, decimals, en, it", [
    (1234567.891, 2, "1,234,567.89", "1.234.567,89"),
    (-1234.5, 1, "-1,234.5", "-1.234,5"),
    (0.999, 0, "1", "1"),
    (-0.4, 0, "0", "0"),                       # no "-0"
    (999.996, 2, "1,000.00", "1.000,00"),      # rounding carries into the thousands
    (12345678901234.0, 0, "12,345,678,901,234", "12.345.678.901.234"),
    (7, 0, "7", "7"),
    (float("nan"), 2, "n/a", "n.d."),
    (None, 0, "n/a", "n.d."),
])
def test_number(x, decimals, en, it):
    assert EN.number(x, decimals) == en and IT.number(x, decimals) == it


def test_money_percent_date():
    assert IT.money(1234.56, 2) == "EUR 1.234,56" and EN.money(1234.56, 2) == "EUR 1,234.56"
    assert IT.money(-1234567.891, 2) == "EUR -1.234.567,89"
    assert IT.money(1234.56) == "EUR 1.235"  # whole units by default
    assert Texts("it", "CHF").money(10) == "CHF 10"
    assert IT.money(np.nan) == "n.d." and EN.money(pd.NA) == "n/a"
    assert IT.percent(0.123) == "12,3%" and EN.percent(0.123) == "12.3%"
    assert IT.percent(-0.05, 0) == "-5%" and IT.percent(1) == "100,0%" and IT.percent(12.5, 0) == "1.250%"
    assert IT.percent(float("nan")) == "n.d."
    assert IT.date("2026-12-31") == "31/12/2026" and EN.date(pd.Timestamp("2026-12-31")) == "2026-12-31"
    assert IT.date(dt.date(2026, 1, 2)) == "02/01/2026" and IT.date(pd.NaT) == "n.d."


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 4))
def test_italian_is_python_formatting_with_the_marks_swapped(x, decimals):
    """Independent method: Python's own ``format(x, ',.Nf')`` with ',' and '.' exchanged; and the text
    reads back as the rounded number."""
    python = format(round(x, decimals) + 0.0, f",.{decimals}f")
    assert IT.number(x, decimals) == python.translate(str.maketrans(",.", ".,"))
    assert EN.number(x, decimals) == python
    back = float(IT.number(x, decimals).replace(".", "").replace(",", "."))
    assert back == pytest.approx(round(x, decimals), abs=10 ** -decimals)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.just(float("nan"))),
                min_size=0, max_size=20), st.integers(0, 3), st.booleans())
def test_vectorised_numbers_match_one_by_one(values, decimals, signed):
    series = pd.Series(values, dtype=float)
    got = IT.numbers(series, decimals, signed=signed).tolist()
    one = [IT.number(v, decimals) for v in values]
    expected = [o if o == "n.d." or not signed or o.startswith("-") else "+" + o for o in one]
    assert got == expected


def test_fill_concatenates_columns():
    index = pd.RangeIndex(3)
    got = IT.fill("{who}: {n} ordini ({k})", index, who=pd.Series(["A", "B", None]),
                  n=IT.numbers(pd.Series([1200.0, 3.0, np.nan])), k="x")
    assert got.tolist() == ["A: 1.200 ordini (x)", "B: 3 ordini (x)", "n.d.: n.d. ordini (x)"]
    with pytest.raises(ValueError, match="has a format"):
        IT.fill("{n:.2f}", index, n=1.0)


# --- displayed tables ------------------------------------------------------------------------------------------
@pytest.fixture
def result():
    return pd.DataFrame({"customer_id": ["C1", "C2"], "revenue": [1234.5, -3.0], "revenue_share": [0.9976, 0.0024],
                         "n_orders": [3, 1200], "days_to_settle": [12.25, np.nan], "segment": ["Champions", "At Risk"]})


def test_table_headers_and_numbers_by_kind(result):
    shown = IT.table(result)
    assert list(shown.data.columns) == ["Cliente", "Fatturato", "Quota del fatturato", "N orders", "Days to settle",
                                        "Segmento"]  # unknown names: readable fallback
    assert shown.data.iloc[0].tolist() == ["C1", "EUR 1.234,50", "99,8%", "3", "12,2", "Campioni"]
    assert shown.data.iloc[1].tolist() == ["C2", "EUR -3,00", "0,2%", "1.200", "n.d.", "A rischio"]
    assert EN.table(result).data.iloc[0, 1] == "EUR 1,234.50"


def test_table_explicit_formats_and_rows(result):
    shown = IT.table(result, formats={"revenue": "money.0", "n_orders": "ratio.1"})
    assert shown.data.iloc[0, 1] == "EUR 1.234" and shown.data.iloc[1, 3] == "1.200,0"  # an exact half: to even
    with pytest.raises(KeyError, match="not columns"):
        IT.table(result, formats={"nope": "money"})
    with pytest.raises(ValueError, match="unknown kind"):
        IT.table(result, formats={"revenue": "euros"})
    measures = pd.DataFrame({"revenue": [2000.0, 0.8531, 0.0074, 12345.678]},
                            index=pd.Index(["customers", "gini", "hhi", "total"], name="measure"))
    rows = IT.table(measures, by="rows", formats={"hhi": "ratio.4"})
    assert rows.data.index.tolist() == ["Clienti", "Indice di Gini", "Indice di Herfindahl (HHI)", "Totale"]
    assert rows.data.iloc[:, 0].tolist() == ["2.000", "0,853", "0,0074", "EUR 12.345,68"]


def test_key_figures_are_translated_and_written_by_kind():
    figures = key_figures_table({"net_revenue": (33860205.08, "money"), "first_purchase": ("2023-10-31", "date"),
                                 "customers": (2000, "count"), "unknown_figure": (0.5, "percent"),
                                 "late_payment_auc": (0.625, "ratio.2"), "compared_with": ("", "text")})
    shown = IT.key_figures(figures, "overview")
    assert shown.data.index.tolist() == ["fatturato netto", "primo acquisto", "clienti", "Unknown figure",
                                         "Late payment auc", "Compared with"]
    assert shown.data.iloc[:, 0].tolist() == ["EUR 33.860.205,08", "31/10/2023", "2.000", "50,0%", "0,62", ""]


def test_key_figures_need_identifiers_and_kinds():
    with pytest.raises(ValueError, match="snake_case identifiers and a kind"):
        key_figures_table({"net revenue": (1.0, "money")})
    with pytest.raises(ValueError, match="snake_case identifiers and a kind"):
        key_figures_table({"net_revenue": (1.0, "euros")})


def test_table_repr_is_stable_plain_text_and_html_is_styled(result):
    first, second = repr(IT.table(result)), repr(IT.table(result.copy()))
    assert first == second and "object at" not in first and "0x" not in first
    assert first.splitlines()[0].split() == ["Cliente", "Fatturato", "Quota", "del", "fatturato", "N", "orders",
                                             "Days", "to", "settle", "Segmento"]
    page = IT.table(result)._repr_html_()
    assert page == IT.table(result)._repr_html_()  # no random ids
    assert f'class="{style.TABLE_CLASS}"' in page and style.TABLE_CSS in page
    assert '<td class="num neg">EUR -3,00</td>' in page and "<td>Campioni</td>" in page
    assert repr(IT.table(result.iloc[:0])).startswith("(")  # empty: the headers, no crash


def test_table_of_a_multiindex_and_booleans():
    abc = pd.DataFrame({"customers": [3, 1], "over_limit": [True, False]},
                       index=pd.MultiIndex.from_tuples([("revenue", "A"), ("margin", "B")], names=["by", "abc_class"]))
    shown = IT.table(abc)
    assert shown.data.index.names == ["Per", "Classe ABC"]
    assert shown.data.index.tolist() == [("Fatturato", "A"), ("Margine", "B")]
    assert shown.data["Oltre il fido"].tolist() == ["sì", "no"]


def test_heading_and_markdown_display_as_markdown():
    heading = IT.heading("clv.title")
    assert isinstance(heading, Markdown) and heading._repr_markdown_() == "# Valore del cliente (CLV)"
    assert repr(heading) == "# Valore del cliente (CLV)" and EN.heading("clv.title", 2) == "## Customer lifetime value"
    assert EN.markdown("clv.refit") == "## Refit on all data"
    assert IT.markdown("payments.kpis", kpi_window=3).splitlines()[1].startswith("A ogni fine mese")
    assert isinstance(IT.table(pd.DataFrame({"a": [1]})), Table)


def test_docstring_examples():
    assert doctest.testmod(texts_module).failed == 0


# --- generated sentences ----------------------------------------------------------------------------------------
def test_alert_messages_in_italian():
    before = pd.DataFrame({"customer_id": ["1", "2"], "name": ["Alfa S.r.l.", "Beta S.p.A."], "rating": ["A", "BBB"],
                           "credit_limit": [100000.0, 5000.0], "segment": ["Champions", "Lost"]})
    after = before.assign(rating=["BB", "BBB"], credit_limit=[70000.0, 5000.0], segment=["At Risk", "Lost"])
    alerts = alerts_with_messages(evaluate_alerts(diff_snapshots(before, after)), IT).set_index("rule")["message"]
    assert alerts["credit_limit_cut"] == "Alfa S.r.l. (1): fido ridotto del 30%, da EUR 100.000 a EUR 70.000"
    assert alerts["rating_downgrade"] == "Alfa S.r.l. (1): rating declassato da A a BB (classi perse: 2)"
    assert alerts["segment_worse"] == "Alfa S.r.l. (1): Segmento peggiorato da 'Campioni' a 'A rischio'"
    officers = alerts_with_messages(evaluate_alerts(diff_snapshots(
        pd.DataFrame({"customer_id": ["3"], "officers": [None]}),
        pd.DataFrame({"customer_id": ["3"], "officers": ["Anna Rossi"]}))), IT)
    assert officers["message"].tolist() == ["3: esponenti aziendali cambiati da 'n.d.' a 'Anna Rossi'"]
    english = alerts_with_messages(evaluate_alerts(diff_snapshots(before, after))).set_index("rule")["message"]
    assert english["credit_limit_cut"] == "Alfa S.r.l. (1): credit limit cut by 30%, from 100000 to 70000"


def test_churn_drivers_in_italian():
    rng = np.random.default_rng(3)
    n = 400
    features = pd.DataFrame({"recency_days": rng.gamma(2, 60, n), "frequency": rng.integers(1, 30, n).astype(float),
                             "avg_order_value": rng.gamma(2, 500, n), "avg_days_late": rng.gamma(1, 10, n),
                             "tenure_days": rng.uniform(100, 1500, n), "mean_gap_days": rng.uniform(7, 90, n)},
                            index=[f"C{i}" for i in range(n)])
    churned = pd.Series(rng.random(n) < 1 / (1 + np.exp(-(features["recency_days"] - 120) / 60)), index=features.index)
    model = ChurnModel(numeric={"recency_days": "log", "frequency": "log", "avg_order_value": "log",
                                "avg_days_late": "linear", "tenure_days": "log"}, categorical=()).fit(features, churned)
    row = features.iloc[[0]].assign(recency_days=150.0, frequency=10.0, mean_gap_days=30.0, tenure_days=420.0,
                                    avg_order_value=1234.4, avg_days_late=12.4)
    every = drivers_in_words(model.drivers(row, top=10, min_effect=-math.inf), row, IT).iloc[0].split("; ")
    assert {"nessun ordine da 5 mesi, di solito ordina ogni mese", "solo 10 ordini in 14 mesi",
            "ordine medio EUR 1.234", "paga in media con 12 giorni di ritardo", "cliente da 14 mesi"} == set(every)
    english = drivers_in_words(model.drivers(row, top=10, min_effect=-math.inf), row).iloc[0].split("; ")
    assert "average order EUR 1,234" in english and "no order for 5 months, usually orders monthly" in english


# --- figures --------------------------------------------------------------------------------------------------
@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_figure_labels_in_italian(close_figures):
    import matplotlib.dates as mdates

    from portfolio_kit.report.plots import concentration, monitoring, overview, payments, segmentation

    pareto = pd.DataFrame({"customer_share": [0.25, 0.5, 0.75, 1.0], "cumulative_share": [0.7, 0.85, 0.95, 1.0]})
    ax = concentration.pareto_chart(pareto, texts=IT).axes[0]
    assert ax.get_title() == "Pareto: 80% del valore da 50% dei clienti"
    assert ax.get_ylabel() == "quota cumulata del valore"
    history = pd.DataFrame({"period_end": pd.to_datetime(["2026-09-30", "2026-10-31"]), "current": [1500.0, 2500.0],
                            "1-30": [100.0, 0.0], "total": [1600.0, 2500.0]})
    ax = payments.aging_history_bars(history, texts=IT).axes[0]
    assert (ax.get_title(), ax.get_ylabel()) == ("Crediti aperti per anzianità", "importo aperto")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A scadere", "1-30"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["30/09/2026", "31/10/2026"]
    assert ax.yaxis.get_major_formatter()(2500.0, 0) == "2.500"
    profile = pd.DataFrame({"customer_share": [0.4, 0.6], "revenue_share": [0.8, 0.2]},
                           index=pd.Index(["Champions", "Lost"], name="segment"))
    ax = segmentation.segment_chart(profile, texts=IT).axes[0]
    assert ax.get_title() == "Segmenti: clienti e valore" and ax.xaxis.get_major_formatter()(0.25, 0) == "25%"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Campioni", "Persi"]
    monthly = pd.DataFrame({"period": pd.date_range("2026-01-31", periods=3, freq="ME"), "revenue": [1e6, 2e6, 1.5e6]})
    ax = overview.revenue_trend(monthly, texts=IT).axes[0]
    assert (ax.get_title(), ax.get_ylabel()) == ("Fatturato netto per mese", "fatturato")
    assert ax.yaxis.get_major_formatter()(1234567.0, 0) == "1.234.567"
    assert ax.xaxis.get_major_formatter()(mdates.date2num(pd.Timestamp("2026-02-01")), 0) == "02/2026"
    before = pd.DataFrame({"customer_id": ["1", "2"], "rating": ["A", "A"]})
    ax = monitoring.migration_heatmap(migration_matrix(before, before.assign(rating=["A", "BB"]), "rating"),
                                      texts=IT).axes[0]
    assert ax.get_title() == "Migrazione di Rating (quote)" and ax.get_ylabel() == "Rating prima"


def test_one_style_in_one_place():
    from portfolio_kit.report.plots import style as plots_style

    assert plots_style.new_axes is style.new_axes and plots_style.apply_style is style.apply_style
    assert set(style.NUMBER_FORMATS) == set(LANGUAGES)
    assert re.search(r"EUR 1\.234,56", IT.money(1234.56, 2))
