"""The executive summary: a run's headline figures, read from the tables its notebooks saved, against the
previous run's.

Nothing is recomputed here: every figure is read (or summed) from a table a notebook of the same run wrote
with :func:`~portfolio_kit.report.tables.save_table`, with that notebook's own definitions (e.g. a customer "at risk"
has a churn probability above 0.5, as in the churn notebook's key figures). A run of a subset of notebooks
leaves some tables out: their figures are NaN ("not available"), never an error. A table that is there but
lacks a column the summary reads is an error naming the table and the column.

========================  ==============  =================================================================
figure                    notebook        read from
========================  ==============  =================================================================
customers                 data_overview   ``data_tables``: customers in the customer master data
revenue_12m, margin_12m   data_overview   ``revenue_by_month``: sum over the 12 calendar months to as-of
margin_pct_12m            data_overview   margin_12m / revenue_12m
top_10pct_share, gini     abc_pareto      ``concentration``: the ``revenue`` column
a_class_customers         abc_pareto      ``abc_summary``: class A by revenue
clv_book                  clv             ``customers_clv``: sum of ``clv``
clv_top_segment           clv             ``customers_clv`` x ``customers_segments``: the RFM segment with
                                          the largest CLV (its name in ``detail``; the previous run's value
                                          is the same segment's)
customers_at_risk         churn           ``customers_churn``: ``churn_probability`` > threshold
value_at_risk             churn           ``customers_churn``: sum of ``value_at_risk``
overdue_receivables       payments        ``aging``: total less current, of the ``total`` row
overdue_share             payments        overdue_receivables / open receivables
dso                       payments        ``receivables_kpis``: ``dso`` of the last period end
alerts_high, ..._low      monitoring      ``alerts``: alerts per severity
expected_credit_loss      credit          ``expected_credit_loss``: sum of ``ecl`` over the buckets
limits_to_cut, _raise     credit          ``customers_credit``: customers whose ``limit_action`` is cut / raise
next_product_value        products        ``customers_next_product``: sum of ``expected_margin`` (of
                                          ``expected_revenue`` for a client without margins)
next_product_hit_rate     products        ``next_product_backtest``: hit rate of the kit's suggestion on the
                                          later cut-off
next_product_baseline     products        ``next_product_backtest``: hit rate of the most popular line
customers_to_act_on       actions         ``customers_actions``: customers whose action is not ``maintain``
high_priority_value_...   actions         ``customers_actions``: value at stake of the high-priority actions
========================  ==============  =================================================================

Examples
--------
>>> figures = headline_figures("reports/acme/2026-10-31/<run>", previous_run="reports/acme/2026-09-30/<run>",
...                            as_of="2026-10-31")                         # doctest: +SKIP
>>> figures.set_index("figure").loc["dso", ["value", "previous", "change", "page"]].tolist()  # doctest: +SKIP
[87.0, 88.5, -1.5, '04_payments.html']
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_kit.churn import AT_RISK_PROBABILITY
from portfolio_kit.data.schemas import key_figures_table
from portfolio_kit.monitoring import SEVERITIES
from portfolio_kit.report.tables import (ABC_SUMMARY, AGING, ALERTS, CONCENTRATION, CUSTOMERS_ACTIONS, CUSTOMERS_CHURN,
                                         CUSTOMERS_CLV, CUSTOMERS_CREDIT, CUSTOMERS_NEXT_PRODUCT, CUSTOMERS_SEGMENTS,
                                         DATA_TABLES, EXPECTED_CREDIT_LOSS, NEXT_PRODUCT_BACKTEST, RECEIVABLES_KPIS,
                                         REVENUE_BY_MONTH)
from portfolio_kit.report.style import TABLE_CLASS, TABLE_CSS
from portfolio_kit.report.texts import Markdown, Texts

__all__ = ["FIGURES", "CHURN_THRESHOLD", "read_run_tables", "run_as_of", "notebook_pages", "headline_figures",
           "monthly_trend", "clv_by_segment", "introduction", "conclusions", "headline_table", "key_figures", "top_actions",
           "LinkedTable"]

log = logging.getLogger(__name__)

#: The headline figures in reading order: figure -> (notebook that saves its table, unit). Units: ``count``,
#: ``money``, ``share`` (0-1, shown in %), ``ratio`` (0-1, shown as a number) and ``days``.
FIGURES: dict[str, tuple[str, str]] = {
    "customers": ("data_overview", "count"),
    "revenue_12m": ("data_overview", "money"),
    "margin_12m": ("data_overview", "money"),
    "margin_pct_12m": ("data_overview", "share"),
    "top_10pct_share": ("abc_pareto", "share"),
    "gini": ("abc_pareto", "ratio"),
    "a_class_customers": ("abc_pareto", "count"),
    "clv_book": ("clv", "money"),
    "clv_top_segment": ("clv", "money"),
    "customers_at_risk": ("churn", "count"),
    "value_at_risk": ("churn", "money"),
    "overdue_receivables": ("payments", "money"),
    "overdue_share": ("payments", "share"),
    "dso": ("payments", "days"),
    **{f"alerts_{severity}": ("monitoring", "count") for severity in SEVERITIES},
    "expected_credit_loss": ("credit", "money"),
    "limits_to_cut": ("credit", "count"),
    "limits_to_raise": ("credit", "count"),
    "next_product_value": ("products", "money"),
    "next_product_hit_rate": ("products", "share"),
    "next_product_baseline": ("products", "share"),
    "customers_to_act_on": ("actions", "count"),
    "high_priority_value_at_stake": ("actions", "money"),
}

#: Churn probability above which an active customer counts as at risk (the churn page's own threshold).
CHURN_THRESHOLD = AT_RISK_PROBABILITY

#: The tables the summary reads: name -> the columns it needs. Per-customer tables (``customers_*``, one row per
#: customer) are read for those columns only.
_TABLES: dict[str, list[str]] = {
    DATA_TABLES: ["table", "customers"],
    REVENUE_BY_MONTH: ["period", "revenue", "margin"],
    CONCENTRATION: ["measure", "revenue"],
    ABC_SUMMARY: ["by", "abc_class", "customers"],
    CUSTOMERS_CLV: ["customer_id", "clv"],
    CUSTOMERS_SEGMENTS: ["customer_id", "segment"],
    CUSTOMERS_CHURN: ["customer_id", "churn_probability", "value_at_risk"],
    AGING: ["current", "total"],
    RECEIVABLES_KPIS: ["period_end", "dso", "bpdso"],
    ALERTS: ["severity"],
    EXPECTED_CREDIT_LOSS: ["bucket", "ecl"],
    CUSTOMERS_CREDIT: ["customer_id", "limit_action"],
    CUSTOMERS_ACTIONS: ["customer_id", "action", "priority", "value_at_stake"],
    CUSTOMERS_NEXT_PRODUCT: ["customer_id", "expected_margin", "expected_revenue"],
    NEXT_PRODUCT_BACKTEST: ["method", "customers", "hit_rate"],
}


def read_run_tables(run_dir: str | Path | None, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables of a run that the summary reads (``names``, default all), by name; a table the run did not
    save (its notebook was not run) is absent from the result, as is everything for ``run_dir`` None or "".

    Raises ``ValueError`` naming the table and the column when a saved table lacks a column the summary reads.
    """
    if not run_dir:
        return {}
    folder = Path(run_dir) / "tables"
    out = {}
    for name in names or list(_TABLES):
        path, needed = folder / f"{name}.csv", _TABLES[name]
        if not path.is_file():
            log.info("%s has no table %s: its figures are not available", run_dir, name)
            continue
        try:
            columns = pd.read_csv(path, nrows=0).columns
        except pd.errors.EmptyDataError:  # a table saved without rows nor columns
            columns = pd.Index(needed)
        missing = [c for c in needed if c not in columns]
        if missing:
            raise ValueError(f"table {path}: no column(s) {missing}; the summary reads {needed}")
        if name.startswith("customers_"):  # one row per customer: millions for large clients
            out[name] = pd.read_csv(path, usecols=needed, dtype={c: str for c in ("customer_id", "segment")
                                                                  if c in needed})
        else:
            out[name] = pd.read_csv(path, dtype={"severity": str}) if len(columns) else pd.DataFrame(columns=needed)
    return out


def run_as_of(run_dir: str | Path | None) -> pd.Timestamp | None:
    """The as-of date in a finished run's ``manifest.json`` (None without one, e.g. for the run in progress)."""
    manifest = Path(run_dir) / "manifest.json" if run_dir else None
    if manifest is None or not manifest.is_file():
        return None
    as_of = json.loads(manifest.read_text(encoding="utf-8")).get("as_of")
    return pd.Timestamp(as_of) if as_of else None


def notebook_pages(run_dir: str | Path | None) -> dict[str, str]:
    """The notebook pages of a run (``NN_name.html`` next to its ``index.html``), by notebook name."""
    if not run_dir:
        return {}
    found = (re.fullmatch(r"\d+_(.+)\.html", p.name) for p in Path(run_dir).glob("*.html"))
    return {m.group(1): m.group(0) for m in found if m}


def _last_12_months(monthly: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.Series:
    """Revenue and margin summed over the 12 calendar months ending with the as-of month (with no as-of: the
    table's last month)."""
    month = pd.to_datetime(monthly["period"]).dt.to_period("M")
    end = pd.Timestamp(as_of).to_period("M") if as_of is not None else month.max()
    return monthly.loc[(month > end - 12) & (month <= end), ["revenue", "margin"]].sum()


def _total_row(table: pd.DataFrame) -> pd.Series:
    """The row labelled ``total`` in the first column, else the sum of all rows (numeric columns)."""
    labelled = table[table.iloc[:, 0].astype(str).eq("total")]
    return (labelled if len(labelled) else table).select_dtypes("number").sum()


def clv_by_segment(run_dir: str | Path | None = None, *, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """CLV of the book by RFM segment, largest first: the CLV notebook's per-customer values summed over the
    segmentation notebook's segments of the same run (customers without a segment count as ``(none)``).

    Returns
    -------
    DataFrame with ``segment``, ``customers``, ``clv``, ``clv_share`` (of the book); empty when either table is
    missing.
    """
    tables = read_run_tables(run_dir, [CUSTOMERS_CLV, CUSTOMERS_SEGMENTS]) if tables is None else tables
    if CUSTOMERS_CLV not in tables or CUSTOMERS_SEGMENTS not in tables:
        return pd.DataFrame(columns=["segment", "customers", "clv", "clv_share"])
    joined = tables[CUSTOMERS_CLV].merge(tables[CUSTOMERS_SEGMENTS], on="customer_id", how="left")
    out = (joined.fillna({"segment": "(none)"}).groupby("segment")
           .agg(customers=("customer_id", "size"), clv=("clv", "sum")))
    out["clv_share"] = out["clv"] / out["clv"].sum()
    return out.sort_values(["clv", "customers"], ascending=False).reset_index()


def _values(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None, segment: str | None,
            churn_threshold: float) -> tuple[dict[str, float], dict[str, str]]:
    """Every headline figure of one run (NaN when its table is missing) and the details (segment name)."""
    values, details = dict.fromkeys(FIGURES, np.nan), {}
    if DATA_TABLES in tables:
        counts = tables[DATA_TABLES].set_index("table")["customers"]
        values["customers"] = counts.get("customers", counts.get("transactions", np.nan))
    if REVENUE_BY_MONTH in tables:
        revenue, margin = _last_12_months(tables[REVENUE_BY_MONTH], as_of)
        values.update(revenue_12m=revenue, margin_12m=margin,
                      margin_pct_12m=margin / revenue if revenue else np.nan)
    if CONCENTRATION in tables:
        measures = tables[CONCENTRATION].set_index("measure")["revenue"]
        values.update(top_10pct_share=measures.get("top_10pct_share", np.nan), gini=measures.get("gini", np.nan))
    if ABC_SUMMARY in tables:
        abc = tables[ABC_SUMMARY]
        values["a_class_customers"] = abc.loc[abc["by"].eq("revenue") & abc["abc_class"].eq("A"), "customers"].sum()
    if CUSTOMERS_CLV in tables:
        values["clv_book"] = tables[CUSTOMERS_CLV]["clv"].sum(min_count=1)
        by_segment = clv_by_segment(tables=tables).set_index("segment")["clv"]
        if len(by_segment):
            segment = segment or by_segment.index[0]
            values["clv_top_segment"] = by_segment.get(segment, np.nan)
            details["clv_top_segment"] = segment
    if CUSTOMERS_CHURN in tables:
        churn = tables[CUSTOMERS_CHURN]
        values.update(customers_at_risk=(churn["churn_probability"] > churn_threshold).sum(),
                      value_at_risk=churn["value_at_risk"].sum())
    if AGING in tables and len(tables[AGING]):
        total = _total_row(tables[AGING])
        overdue = total["total"] - total["current"]
        values.update(overdue_receivables=overdue, overdue_share=overdue / total["total"] if total["total"] else 0.0)
    if RECEIVABLES_KPIS in tables and len(tables[RECEIVABLES_KPIS]):
        values["dso"] = tables[RECEIVABLES_KPIS]["dso"].iloc[-1]
    if ALERTS in tables:
        counts = tables[ALERTS]["severity"].value_counts()
        values.update({f"alerts_{s}": counts.get(s, 0) for s in SEVERITIES})
    if EXPECTED_CREDIT_LOSS in tables:
        values["expected_credit_loss"] = tables[EXPECTED_CREDIT_LOSS]["ecl"].sum(min_count=1)
    if CUSTOMERS_CREDIT in tables:
        actions = tables[CUSTOMERS_CREDIT]["limit_action"].value_counts()
        values.update(limits_to_cut=actions.get("cut", 0), limits_to_raise=actions.get("raise", 0))
    if CUSTOMERS_NEXT_PRODUCT in tables:
        offers = tables[CUSTOMERS_NEXT_PRODUCT]
        value = offers["expected_margin"] if offers["expected_margin"].notna().any() else offers["expected_revenue"]
        values["next_product_value"] = value.sum()
    if NEXT_PRODUCT_BACKTEST in tables:
        rates = tables[NEXT_PRODUCT_BACKTEST].set_index("method")["hit_rate"]
        values["next_product_hit_rate"] = rates.get("expected", np.nan)
        values["next_product_baseline"] = rates.get("popularity", np.nan)
    if CUSTOMERS_ACTIONS in tables:
        todo = tables[CUSTOMERS_ACTIONS]
        act = todo["action"].ne("maintain")
        values.update(customers_to_act_on=act.sum(),
                      high_priority_value_at_stake=todo.loc[act & todo["priority"].eq("high"), "value_at_stake"].sum())
    return {k: float(v) for k, v in values.items()}, details


def headline_figures(run_dir: str | Path | None, previous_run: str | Path | None = None, *,
                     as_of: str | pd.Timestamp | None = None,
                     churn_threshold: float = CHURN_THRESHOLD) -> pd.DataFrame:
    """The summary's headline figures of a run, each with the previous run's value and the change.

    Parameters
    ----------
    run_dir : path of the run (its ``tables/*.csv``); None or "" gives a table of figures not available.
    previous_run : path of the run to compare with (the runner's ``previous_run``); None or "": no comparison.
    as_of : the run's as-of date, which ends its 12 months of revenue; default: its manifest's, else the last
        month of revenue. The previous run's comes from its manifest.
    churn_threshold : churn probability above which a customer counts as at risk.

    Returns
    -------
    DataFrame, one row per figure of :data:`FIGURES` in that order: ``figure``, ``value``, ``previous``,
    ``change`` (value - previous; for shares in points of 1), ``unit``, ``notebook`` (the notebook whose
    tables give it), ``page`` (that notebook's page in the run, "" when the run has none), ``detail`` (the
    top segment's name for ``clv_top_segment``, else ""). A figure whose table is missing is NaN.

    Examples
    --------
    >>> bool(headline_figures("", None)["value"].isna().all())  # no run: nothing is available
    True
    """
    as_of = pd.Timestamp(as_of) if as_of else run_as_of(run_dir)
    now, details = _values(read_run_tables(run_dir), as_of, None, churn_threshold)
    before, _ = _values(read_run_tables(previous_run), run_as_of(previous_run),
                        details.get("clv_top_segment"), churn_threshold)
    pages = notebook_pages(run_dir)
    out = pd.DataFrame({"figure": list(FIGURES), "value": list(now.values()), "previous": list(before.values())})
    out["change"] = out["value"] - out["previous"]
    out["unit"] = [unit for _, unit in FIGURES.values()]
    out["notebook"] = [notebook for notebook, _ in FIGURES.values()]
    out["page"] = [pages.get(notebook, "") for notebook in out["notebook"]]
    out["detail"] = [details.get(figure, "") for figure in out["figure"]]
    return out


def monthly_trend(run_dir: str | Path | None, *, months: int = 24) -> pd.DataFrame:
    """Revenue, margin, DSO and best possible DSO by month over the run's last ``months`` months, from the
    data-overview and payments tables (NaN where a notebook did not run).

    Returns
    -------
    DataFrame with ``month`` (month start), ``revenue``, ``margin``, ``dso``, ``bpdso``; empty when neither
    table is there.
    """
    tables = read_run_tables(run_dir, [REVENUE_BY_MONTH, RECEIVABLES_KPIS])
    parts = []
    if REVENUE_BY_MONTH in tables:
        monthly = tables[REVENUE_BY_MONTH]
        parts.append(monthly.set_index(pd.to_datetime(monthly["period"]).dt.to_period("M"))[["revenue", "margin"]])
    if RECEIVABLES_KPIS in tables:
        kpis = tables[RECEIVABLES_KPIS]
        parts.append(kpis.set_index(pd.to_datetime(kpis["period_end"]).dt.to_period("M"))[["dso", "bpdso"]])
    columns = ["month", "revenue", "margin", "dso", "bpdso"]
    if not parts:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(parts, axis=1).sort_index().tail(months)
    joined = joined.reindex(columns=columns[1:])
    return joined.rename_axis("month").reset_index().assign(month=lambda d: d["month"].dt.start_time)[columns]


# ------------------------------------------------------------------------------------------- the page's text
#: Decimals of each unit in the headline table (shares in %).
_DECIMALS = {"count": 0, "money": 0, "share": 1, "ratio": 3, "days": 1}
#: The figures recorded as the summary's key figures (shown first on the run's index page).
_KEY_FIGURES = ("customers", "revenue_12m", "margin_pct_12m", "top_10pct_share", "clv_book", "value_at_risk",
                "overdue_receivables", "dso", "alerts_high", "expected_credit_loss")


def _write(t: Texts, value: float, unit: str) -> str:
    """A figure written the report language's way."""
    decimals = _DECIMALS[unit]
    return {"money": t.money, "share": t.percent}.get(unit, t.number)(value, decimals)


def _signed(t: Texts, value: float, decimals: int) -> str:
    return ("+" if value > 0 else "") + t.number(value, decimals)


def _change(t: Texts, row) -> str:
    """The change of a figure: relative for amounts (``+2.1%``), in points for shares (``-0.4 pp``), else
    absolute (``+12``); ``n/a`` without a previous value."""
    if pd.isna(row.change):
        return t.number(np.nan)
    if row.unit == "money" and row.previous > 0:
        return _signed(t, 100 * row.change / row.previous, 1) + "%"
    if row.unit == "share":
        return t("summary.points", points=_signed(t, 100 * row.change, 1))
    return _signed(t, row.change, _DECIMALS[row.unit])


def _markdown_text(text: str) -> str:
    """A client-defined name (an RFM segment of the config's map) safe inside Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~-])", r"\\\1", str(text))


def _label(t: Texts, row) -> str:
    """The figure's name in the report language, with its detail (the top segment's name) when it has one."""
    label = t(f"summary.figure.{row.figure}")
    return f"{label}: {row.detail}" if row.detail else label


def introduction(figures: pd.DataFrame, t: Texts, as_of, previous_as_of=None,
                 not_run: dict[str, str] | None = None) -> Markdown:
    """The page's first lines: the as-of date, the run compared with (or that there is none), the notebooks
    not run for the client's data with the reason and what to export (``not_run``, the runner's
    :func:`~portfolio_kit.report.tables.read_not_run`), and the other notebooks missing from the run, in the
    report language.

    ``figures`` is :func:`headline_figures`' table; ``previous_as_of`` the previous run's date (None: none).
    """
    compared = (t("summary.compared_with", previous=pd.Timestamp(previous_as_of)) if previous_as_of is not None
                else t("summary.no_previous"))
    text = f"{t('summary.as_of', as_of=pd.Timestamp(as_of))} {compared}"
    not_run = not_run or {}
    for notebook, reason in not_run.items():
        name = t(f"summary.notebook.{notebook}") if t.has(f"summary.notebook.{notebook}") else notebook
        text += "\n\n" + t("summary.not_run", notebook=name, reason=t(f"common.not_run.{reason}"))
    absent = figures.groupby("notebook", sort=False)["value"].apply(lambda v: v.isna().all())
    absent = absent[absent & ~absent.index.isin(list(not_run))]
    if len(absent):
        names = ", ".join(t(f"summary.notebook.{n}") for n in absent.index)
        text += "\n\n" + t("summary.missing", notebooks=names)
    return Markdown(text)


def conclusions(figures: pd.DataFrame, t: Texts, trend: pd.DataFrame | None = None) -> Markdown:
    """A few sentences drawn from the headline figures (a Markdown list), each only when its figures are
    available: revenue and margin, concentration, CLV, churn, receivables and DSO (against a year earlier
    when ``trend``, :func:`monthly_trend`'s table, reaches back 12 months), alerts.

    Each sentence carries the change against the previous run when there is one.

    Examples
    --------
    >>> from portfolio_kit.report.texts import texts
    >>> conclusions(headline_figures(""), texts("en")) == ""  # a run without tables: nothing to conclude
    True
    """
    rows = figures.set_index("figure")
    v = rows["value"]

    def since(figure: str) -> str:
        """The change against the previous run, as a phrase ("" without one)."""
        row = next(figures[figures["figure"].eq(figure)].itertuples(index=False))
        return "" if pd.isna(row.change) else t("summary.trend", change=_change(t, row))

    def have(*names: str) -> bool:
        return bool(v[list(names)].notna().all())

    sentences = []
    if have("customers", "revenue_12m", "margin_pct_12m"):
        sentences.append(t("summary.sentence.revenue", customers=int(v["customers"]), revenue=v["revenue_12m"],
                           margin_pct=v["margin_pct_12m"], trend=since("revenue_12m")))
    if have("top_10pct_share", "gini", "a_class_customers"):
        sentences.append(t("summary.sentence.concentration", top10=v["top_10pct_share"], gini=v["gini"],
                           a_class=int(v["a_class_customers"])))
    if have("clv_book"):
        with_segment = have("clv_top_segment") and v["clv_book"] > 0
        sentences.append(t("summary.sentence.clv_segment" if with_segment else "summary.sentence.clv",
                           clv=v["clv_book"], trend=since("clv_book"),
                           segment=_markdown_text(rows.at["clv_top_segment", "detail"]),
                           share=v["clv_top_segment"] / v["clv_book"] if with_segment else np.nan))
    if have("customers_at_risk", "value_at_risk"):
        sentences.append(t("summary.sentence.churn", at_risk=int(v["customers_at_risk"]), value=v["value_at_risk"],
                           trend=since("value_at_risk")))
    if have("overdue_receivables", "overdue_share"):
        sentences.append(t("summary.sentence.receivables", overdue=v["overdue_receivables"],
                           share=v["overdue_share"], trend=since("overdue_receivables")))
    if have("dso"):
        by_month = trend.set_index("month")["dso"] if trend is not None and len(trend) else pd.Series(dtype=float)
        year_ago = by_month.get(by_month.index.max() - pd.DateOffset(months=12), np.nan) if len(by_month) else np.nan
        sentences.append(t("summary.sentence.dso" if pd.isna(year_ago) else "summary.sentence.dso_year",
                           dso=v["dso"], year_ago=year_ago, trend=since("dso")))
    alerts = [f"alerts_{s}" for s in SEVERITIES]
    if have(*alerts):
        counts = {s: int(v[f"alerts_{s}"]) for s in SEVERITIES}
        sentences.append(t("summary.sentence.alerts", **counts) if sum(counts.values())
                         else t("summary.sentence.no_alerts"))
    if have("customers_to_act_on", "high_priority_value_at_stake"):
        sentences.append(t("summary.sentence.actions", customers=int(v["customers_to_act_on"]),
                           value=v["high_priority_value_at_stake"]))
    if have("next_product_value", "next_product_hit_rate", "next_product_baseline"):
        sentences.append(t("summary.sentence.products", value=v["next_product_value"], hit_rate=v["next_product_hit_rate"],
                           baseline=v["next_product_baseline"]))
    if have("expected_credit_loss", "limits_to_cut", "limits_to_raise"):
        sentences.append(t("summary.sentence.credit", ecl=v["expected_credit_loss"], cut=int(v["limits_to_cut"]),
                           raise_=int(v["limits_to_raise"]), trend=since("expected_credit_loss")))
    return Markdown("\n".join(f"- {s}" for s in sentences))


def top_actions(run_dir: str | Path | None, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The run's next actions for the summary page: customers and value at stake per action (in the order of
    the rules), and the ``n`` actions with the most at stake (high priority first, ``maintain`` left out); None
    when the run has no ``customers_actions`` table."""
    path = Path(run_dir) / "tables" / f"{CUSTOMERS_ACTIONS}.csv" if run_dir else None
    if path is None or not path.is_file():
        return None
    todo = pd.read_csv(path, usecols=lambda c: c in ("customer_id", "name", "action", "priority", "reason",
                                                      "value_at_stake", "owner"), dtype={"customer_id": str})
    counts = (todo.groupby("action", sort=False).agg(customers=("customer_id", "size"),
                                                     value_at_stake=("value_at_stake", "sum")).reset_index())
    top = todo[todo["action"].ne("maintain")].head(n)   # the table is saved most urgent first
    return counts, top.reset_index(drop=True)


class LinkedTable:
    """A written table whose first column links to pages: styled HTML in notebooks and pages (the kit's table
    style), its plain text as repr.

    ``data``: a DataFrame of strings; ``links``: one relative address per row ("" for no link).
    """

    def __init__(self, data: pd.DataFrame, links: list[str]):
        self.data, self.links = data, list(links)

    def __repr__(self) -> str:
        return self.data.to_string(index=False)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(str(c))}</th>" for c in self.data.columns)
        rows = []
        for (label, *cells), link in zip(self.data.itertuples(index=False), self.links):
            first = f'<a href="{esc(link)}">{esc(label)}</a>' if link else esc(label)
            rows.append(f"<tr><th>{first}</th>" + "".join(f'<td class="num">{esc(c)}</td>' for c in cells) + "</tr>")
        return (f'<style>{TABLE_CSS}</style>\n<table class="{TABLE_CLASS}">\n<thead><tr>{head}</tr></thead>\n'
                f"<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")


def headline_table(figures: pd.DataFrame, t: Texts) -> LinkedTable:
    """The headline figures as the page shows them: figure (linked to its notebook's page), this run, the
    previous run and the change, written the report language's way (``n/a`` / ``n.d.`` when not available).
    """
    rows = list(figures.itertuples(index=False))
    shown = pd.DataFrame({
        t("summary.columns.figure"): [_label(t, r) for r in rows],
        t("summary.columns.value"): [_write(t, r.value, r.unit) for r in rows],
        t("summary.columns.previous"): [_write(t, r.previous, r.unit) for r in rows],
        t("summary.columns.change"): [_change(t, r) for r in rows],
    })
    return LinkedTable(shown, figures["page"])


def key_figures(figures: pd.DataFrame) -> pd.DataFrame:
    """The summary's key figures for :func:`~portfolio_kit.report.tables.save_key_figures` (the run's index
    page; labels ``summary.figure.<figure>``): a few headline figures, rounded, each with its kind; those not
    available are left out."""
    chosen = figures[figures["figure"].isin(_KEY_FIGURES) & figures["value"].notna()]
    digits = {"days": 1, "share": 4, "ratio": 4}
    kinds = {"share": "percent"}
    return key_figures_table({
        r.figure: (round(float(r.value), digits[r.unit]) if r.unit in digits else int(round(r.value)),
                   f"{kinds.get(r.unit, r.unit)}.{_DECIMALS[r.unit]}")
        for r in chosen.itertuples(index=False)})
