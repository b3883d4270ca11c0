"""Messages of the monitoring alerts: what :func:`~portfolio_kit.monitoring.evaluate_alerts` found, in words.

Each alert is written from its rule's own ``message`` template (``message_template``) or the catalogue's
``monitoring.alert_message.<rule>``, its values the way the rule's kind says (text, number, amount, percent ...;
``FORMATS`` of :data:`~portfolio_kit.monitoring.ALERT_RULE_KINDS`). With :class:`~portfolio_kit.report.texts.Texts`
the messages are in that language: amounts with the currency and thousands separators (``EUR 1.000``), decimal
marks, fields and categories translated. Without, in English with values written plainly (``from 1000 to 800``),
as rules' own ``message`` templates expect.

Examples
--------
>>> import pandas as pd
>>> from portfolio_kit import monitoring
>>> b = pd.DataFrame({"customer_id": ["1"], "rating": ["A"], "credit_limit": [100.0]})
>>> a = pd.DataFrame({"customer_id": ["1"], "rating": ["BB"], "credit_limit": [100.0]})
>>> alert_messages(monitoring.evaluate_alerts(monitoring.diff_snapshots(b, a)))[0]
'1: rating downgraded from A to BB (notches: 2)'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from portfolio_kit.monitoring import ALERT_RULE_KINDS
from portfolio_kit.report.texts import Texts

__all__ = ["alert_messages", "alerts_with_messages"]

#: Columns of the alerts the messages are written from, replaced by ``message`` in :func:`alerts_with_messages`.
_SOURCES = ("customer_name", "message_template")


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _written(values: pd.Series, how: str, texts: Texts | None = None) -> pd.Series:
    """Values as message text, vectorised; missing -> ``n/a``.

    Without ``texts`` plainly (``1000``, ``20%``, ``-50%``); with it the language's way: amounts with the
    currency and thousands separators (``EUR 1.000``), decimal marks, category labels translated."""
    x = pd.Series(values, copy=False)
    if texts is not None:
        return _written_in(x, how, texts)
    if how == "text":
        out = x.infer_objects().astype("str")  # dates as their column writes them, not as Timestamps
    else:
        num = _numbers(x)
        fmt = {"number": "%.10g", "signed": "%+.10g", "amount": "%.0f", "percent": "%.0f%%",
               "signed percent": "%+.0f%%"}[how]
        out = pd.Series(np.strings.mod(fmt, num * 100 if "percent" in how else num), index=x.index, dtype="str")
        out = out.mask(np.isnan(num))
    return out.fillna("n/a")


def _written_in(x: pd.Series, how: str, texts: Texts) -> pd.Series:
    """:func:`_written` in ``texts``' language."""
    if how == "text":
        text = x.infer_objects().astype("str")
        out = text.map(_labels(text.dropna(), texts.label)).astype(object)
        return out.where(out.notna(), texts("common.not_available"))
    num = _numbers(x)
    if how in ("number", "signed"):
        out = pd.Series(np.strings.mod("%+.10g" if how == "signed" else "%.10g", num), index=x.index, dtype=object)
        out = out.str.replace(".", texts.number_format.decimal, regex=False).mask(np.isnan(num))
    elif how == "amount":
        out = texts.currency + " " + texts.numbers(pd.Series(num, index=x.index)).mask(np.isnan(num))
    else:  # percent, signed percent
        out = texts.numbers(pd.Series(num * 100, index=x.index), signed=how == "signed percent") + "%"
        out = out.mask(np.isnan(num))
    return out.fillna(texts("common.not_available"))


def _labels(values: pd.Series, translate) -> dict[str, str]:
    """``{value: translated}`` over the distinct values (category labels repeat across many rows)."""
    return {v: str(translate(v)) for v in pd.unique(values)}


def _rule_messages(alerts: pd.DataFrame, key: str, rule: str, template: str | None, texts: Texts | None
                   ) -> pd.Series:
    """The messages of the alerts of one rule sharing one template, by concatenating whole columns."""
    ids = alerts[key].astype("str")
    name = alerts["customer_name"].astype("str").str.strip()
    customer = (name + " (" + ids + ")").where(name.fillna("").str.len() > 0, ids)
    fields, severities = alerts["field"].astype("str"), alerts["severity"].astype("str")
    values = {"customer": customer, "customer_id": pd.Series(alerts[key], dtype="str"), "rule": rule,
              "severity": severities, "field": fields}
    if texts is not None:
        values |= {"rule": texts.label(rule), "severity": severities.map(_labels(severities, texts.label)),
                   "field": fields.map(_labels(fields, texts.column))}
    formats = ALERT_RULE_KINDS[rule].FORMATS if rule in ALERT_RULE_KINDS else {}
    values |= {c: _written(alerts[c], formats.get(c, "number"), texts) for c in ("before", "after", "value",
                                                                                  "threshold")}
    t = texts or Texts("en")
    return t.fill(template or t.template(f"monitoring.alert_message.{rule}"), alerts.index, **values)


def alert_messages(alerts: pd.DataFrame, texts: Texts | None = None) -> pd.Series:
    """The message of every alert of :func:`~portfolio_kit.monitoring.evaluate_alerts`, aligned on its rows.

    Parameters
    ----------
    alerts : DataFrame
        ``evaluate_alerts`` output (the key first, then ``rule``, ``severity``, ``field``, ``before``, ``after``,
        ``value``, ``threshold``, ``customer_name``, ``message_template``).
    texts : Texts, optional
        The report language (``texts.for_config(cfg)``); without it English with values written plainly.
    """
    missing = [c for c in ("rule", "severity", "field", "before", "after", "value", "threshold", *_SOURCES)
               if c not in alerts.columns]
    if missing:
        raise ValueError(f"alert_messages: expected the alerts of evaluate_alerts, missing columns {missing}")
    out = pd.Series(index=alerts.index, dtype=object)
    if alerts.empty:
        return out
    key = alerts.columns[0]
    templates = alerts["message_template"].astype(object).where(alerts["message_template"].notna(), "")
    for (rule, template), rows in alerts.groupby([alerts["rule"].astype("str"), templates], sort=False):
        out.loc[rows.index] = _rule_messages(rows, key, rule, template, texts)
    return out.astype("str")


def alerts_with_messages(alerts: pd.DataFrame, texts: Texts | None = None) -> pd.DataFrame:
    """The alerts as saved and shown: ``customer_name`` and ``message_template`` replaced by ``message``
    (:func:`alert_messages`)."""
    messages = alert_messages(alerts, texts)
    out = alerts.drop(columns=list(_SOURCES))
    out.insert(list(alerts.columns).index(_SOURCES[0]), "message", messages)
    return out
