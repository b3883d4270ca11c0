"""Figures of the monitoring analysis: migration heat-maps, alert counts, value waterfall."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from portfolio_kit.monitoring import SEVERITIES, Migration
from portfolio_kit.report.texts import Texts
from portfolio_kit.report.plots.style import new_axes, number_axis, shown_name, texts_or_english

__all__ = ["migration_heatmap", "alert_counts", "value_waterfall"]

_SEVERITY_COLOURS = dict(zip(SEVERITIES, sns.color_palette("Reds_r", 4)[:3]))


def migration_heatmap(migration: Migration, values: str = "shares", drop_empty: bool = True, ax=None,
                      title: str | None = None, texts: Texts | None = None):
    """Heat-map of a :func:`~portfolio_kit.monitoring.migration_matrix` (rows before, columns after).

    ``values``: ``"shares"`` (row shares, annotated in %) or ``"counts"``; ``drop_empty`` hides classes no
    customer is in, before or after.
    """
    if values not in ("shares", "counts"):
        raise ValueError(f"values must be 'shares' or 'counts', got {values!r}")
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    counts = migration.counts
    table = migration.shares if values == "shares" else counts
    if drop_empty:
        table = table.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]
    numbers = table.astype(float)
    if texts is not None:
        numbers = numbers.rename(index=lambda c: shown_name(c, texts), columns=lambda c: shown_name(c, texts))
    written = numbers.apply(lambda column: t.numbers(column * (100 if values == "shares" else 1)))
    text = (written + "%").to_numpy() if values == "shares" else written.to_numpy()
    cells = numbers.fillna(0).to_numpy()
    text = np.where(cells > 0, text, "")  # empty cells stay blank
    if values == "shares":
        text = np.where((cells > 0) & (cells < 0.005), "<1%", text)
    sns.heatmap(numbers, annot=text, fmt="", cmap="Blues", cbar=False, linewidths=0.5, ax=ax)
    column = migration.column if texts is None else t.column(migration.column)
    ax.set(title=title or t("monitoring.plot.migration_title", column=column, values=t(f"monitoring.plot.{values}")),
           xlabel=t("monitoring.plot.after", column=column), ylabel=t("monitoring.plot.before", column=column))
    ax.tick_params(axis="y", rotation=0)
    return fig


def alert_counts(alerts: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Horizontal bars: number of alerts per rule, by severity (the output of ``evaluate_alerts``)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    counts = (alerts.groupby(["rule", "severity"], observed=False).size().rename("alerts").reset_index()
              if len(alerts) else pd.DataFrame({"rule": [], "severity": [], "alerts": []}))
    counts = counts[counts["alerts"] > 0].astype({"severity": str})
    if counts.empty:
        ax.text(0.5, 0.5, t("monitoring.plot.no_alerts"), ha="center", va="center", transform=ax.transAxes)
    else:
        name = lambda v: str(shown_name(v, texts))  # noqa: E731
        order = counts.groupby("rule")["alerts"].sum().sort_values(ascending=False).index
        counts["rule"] = pd.Categorical(counts["rule"].map(name), categories=[name(r) for r in order])
        counts["severity"] = counts["severity"].map(name)
        sns.histplot(data=counts, y="rule", weights="alerts", hue="severity", multiple="stack", discrete=True,
                     shrink=0.7, hue_order=[name(s) for s in SEVERITIES if name(s) in set(counts["severity"])],
                     palette={name(s): c for s, c in _SEVERITY_COLOURS.items()}, alpha=1, ax=ax)
        if ax.get_legend() is not None:
            ax.get_legend().set_title(t("monitoring.plot.severity"))
    ax.set(title=title or t("monitoring.plot.alerts_title"), xlabel=t("monitoring.plot.alerts"), ylabel="")
    return fig


def value_waterfall(bridge: pd.DataFrame, ax=None, title: str | None = None, texts: Texts | None = None):
    """Waterfall of a :func:`~portfolio_kit.monitoring.value_bridge` table: totals as full bars, changes
    floating from the running total (green up, red down)."""
    t = texts_or_english(texts)
    fig, ax = new_axes(ax)
    amount = bridge["amount"].to_numpy(dtype=float)
    total = bridge["kind"].eq("total").to_numpy()
    running = np.cumsum(np.where(total, 0.0, amount)) + amount[0]
    end = np.where(total, amount, running)
    start = np.where(total, 0.0, end - amount)
    palette = sns.color_palette()
    colour = np.where(total, 0, np.where(amount >= 0, 2, 3))
    x = np.arange(len(bridge))
    ax.bar(x, end - start, bottom=start, color=[palette[c] for c in colour], edgecolor="white")
    for xi, top, a, is_total in zip(x, np.maximum(start, end), amount, total):  # one label per bar
        ax.annotate(t("monitoring.plot.bar_total" if is_total else "monitoring.plot.bar_change", amount=a), (xi, top),
                    ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, bridge["step"].map(lambda step: shown_name(step, texts)))
    levels = np.concatenate([end, start[~total]])
    span = levels.max() - levels.min()
    zoom = span < 0.5 * np.abs(levels).max()  # changes too small to see from 0: zoom on them
    if zoom:
        ax.set_ylim(levels.min() - 0.15 * span, levels.max() + 0.15 * span)
    ax.set(title=title or t("monitoring.plot.waterfall_title"), xlabel="",
           ylabel=t("monitoring.plot.value_zoomed" if zoom else "monitoring.plot.value"))
    number_axis(ax, texts)
    return fig
