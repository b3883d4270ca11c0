"""Reasons of the churn at-risk list in words: the topics :meth:`portfolio_kit.churn.ChurnModel.drivers` finds
for each customer, said with the customer's own values (``no order for 5 months, usually orders monthly``); and
which score drives the list, and why (:func:`chosen_score_in_words`).

The phrases are the catalogue's ``churn.driver.*`` (``catalogue/churn.yaml``), in the language of the
:class:`~portfolio_kit.report.texts.Texts` given (English without), numbers and amounts written its way
(``average order EUR 1,234`` / ``ordine medio EUR 1.234``).

Examples
--------
>>> risk = churn.at_risk_customers(model, now, values["clv"], customers)                # doctest: +SKIP
>>> at_risk_in_words(risk, now, texts)[["customer_id", "drivers"]].head()             # doctest: +SKIP
>>> chosen_score_in_words(bt.metrics, texts)                                           # doctest: +SKIP
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from portfolio_kit.churn import AUC_TOLERANCE, DAYS_PER_MONTH, SCORES, rank_scores
from portfolio_kit.report.texts import Markdown, Texts

__all__ = ["driver_phrases", "drivers_in_words", "at_risk_in_words", "chosen_score_in_words"]

_DRIVER_COLUMN = re.compile(r"driver_\d+")


def _english(texts: Texts | None) -> Texts:
    return texts if texts is not None else Texts("en")


def _say(t: Texts, key: str, index: pd.Index, **fields) -> pd.Series:
    """The driver phrase ``churn.driver.<key>`` for every row, fields filled column-wise."""
    return t.fill(t.template(f"churn.driver.{key}"), index, **fields)


def _duration_words(t: Texts, days: pd.Series) -> pd.Series:
    """"12 days", "5 weeks", "7 months", "2.5 years"."""
    d = days.astype(float)
    i = days.index
    return pd.Series(np.select(
        [d < 14, d < 61, d < 730],
        [_say(t, "days", i, n=t.numbers(d, 0)), _say(t, "weeks", i, n=t.numbers(d / 7, 0)),
         _say(t, "months", i, n=t.numbers(d / DAYS_PER_MONTH, 0))],
        _say(t, "years", i, n=t.numbers(d / 365.25, 1))), index=i)


def _rhythm_words(t: Texts, gap_days: pd.Series) -> pd.Series:
    """"weekly", "every 2 weeks", "monthly", "every 3 months", "about once a year"."""
    g = gap_days.astype(float)
    i = gap_days.index
    return pd.Series(np.select(
        [g < 10, g < 21, g < 45, g < 335],
        [_say(t, "weekly", i), _say(t, "fortnightly", i), _say(t, "monthly", i),
         _say(t, "every_months", i, n=t.numbers(g / DAYS_PER_MONTH, 0))],
        _say(t, "yearly", i)), index=i)


def _attribute(t: Texts, name: str) -> str:
    """A feature's name inside a sentence: its column label, lower case (``size class``)."""
    label = t.column(name)
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def driver_phrases(features: pd.DataFrame, topics, texts: Texts | None = None) -> pd.DataFrame:
    """One phrase per customer and topic, describing the customer's own values.

    Parameters
    ----------
    features : DataFrame
        :func:`portfolio_kit.churn.churn_features` (its ``attrs["trend_months"]`` names the trend periods).
    topics : iterable of str
        Topics of :meth:`~portfolio_kit.churn.ChurnModel.drivers`: ``silence``, ``orders``, ``tenure``,
        ``regularity``, ``trend``, ``spend``, ``payment``, or a feature's name (an attribute and its value).
    texts : Texts, optional
        Language of the phrases (English without).

    Returns
    -------
    DataFrame
        Indexed like ``features``, one column of phrases per topic.
    """
    t = _english(texts)
    f = features
    i = f.index
    out = pd.DataFrame(index=i)
    col = lambda name: f[name] if name in f.columns else pd.Series(np.nan, index=i)  # noqa: E731
    say = lambda key, **fields: _say(t, key, i, **fields)  # noqa: E731
    for topic in topics:
        if topic == "silence":
            recency = _duration_words(t, col("recency_days"))
            phrase = say("silence", duration=recency, rhythm=_rhythm_words(t, col("mean_gap_days"))).where(
                col("frequency") > 1, say("silence_single", duration=recency))
        elif topic == "orders":
            phrase = say("orders", n=t.numbers(col("frequency"), 0),
                         duration=_duration_words(t, col("tenure_days"))).where(col("frequency") > 1,
                                                                                say("orders_single"))
        elif topic == "tenure":
            phrase = say("tenure", duration=_duration_words(t, col("tenure_days")))
        elif topic == "regularity":
            cv = col("gap_cv")
            phrase = pd.Series(np.select([cv.isna(), cv < 0.5, cv < 1], [
                say("rhythm_unknown"), say("regular"), say("fairly_irregular")], say("irregular")), index=i)
        elif topic == "trend":
            recent, previous = col("revenue_recent").clip(lower=0), col("revenue_previous").clip(lower=0)
            change = (recent / previous.where(previous > 0) - 1) * 100
            months = f.attrs.get("trend_months")
            over = "months" if months else "period"
            m = t.numbers(pd.Series(float(months or 0), index=i), 0)
            phrase = pd.Series(np.select(
                [(recent <= 0) & (previous <= 0), recent <= 0, previous <= 0, change < 0],
                [say(f"no_spend_both_{over}", months=m), say(f"no_spend_recent_{over}", months=m),
                 say(f"spend_only_recent_{over}", months=m),
                 say(f"spend_down_{over}", months=m, change=t.numbers(-change, 0))],
                say(f"spend_up_{over}", months=m, change=t.numbers(change, 0))), index=i)
        elif topic == "spend":
            phrase = say("spend", amount=t.currency + " " + t.numbers(col("avg_order_value"), 0))
        elif topic == "payment":
            late = col("avg_days_late")
            phrase = pd.Series(np.select([late.isna(), late < 0.5], [say("no_payment_record"), say("on_time")],
                                         say("late", days=t.numbers(late, 0))), index=i)
        elif topic in f.columns:
            values = f[topic].astype("string").fillna(t("churn.driver.unknown")).astype(str)
            phrase = say("attribute", attribute=_attribute(t, topic),
                         value=values.map({v: str(t.label(v)) for v in pd.unique(values)}))
        else:
            phrase = pd.Series(_attribute(t, topic), index=i)
        out[topic] = phrase.astype(object)
    return out


def drivers_in_words(drivers: pd.DataFrame, features: pd.DataFrame, texts: Texts | None = None) -> pd.Series:
    """Each customer's driving topics as one sentence: their phrases (:func:`driver_phrases`) in rank order,
    separated by ``"; "``; ``""`` without any topic.

    Parameters
    ----------
    drivers : DataFrame
        :meth:`portfolio_kit.churn.ChurnModel.drivers`: ``driver_1`` ... (topics or missing), indexed by
        customer id.
    features : DataFrame
        The features the drivers were found on (indexed by customer id).
    texts : Texts, optional
        Language of the sentences (English without).

    Returns
    -------
    Series
        ``drivers``, indexed like ``drivers``.

    Examples
    --------
    >>> drivers_in_words(model.drivers(features), features).iloc[0]                   # doctest: +SKIP
    'no order for 5 months, usually orders monthly; spend down 60% (the last 6 months vs the 6 before)'
    """
    text = pd.Series("", index=drivers.index, dtype=object)
    topics = [v for v in pd.unique(drivers.to_numpy().ravel()) if isinstance(v, str)]
    if not topics:
        return text.rename("drivers")
    phrases = driver_phrases(features, topics, texts).reindex(drivers.index)
    table, rows = phrases.to_numpy(dtype=object), np.arange(len(phrases))
    for column in drivers.columns:  # loop over the ranks, vectorised over customers
        topic = drivers[column]
        known = topic.isin(topics).to_numpy()
        part = pd.Series(np.where(known, table[rows, np.maximum(phrases.columns.get_indexer(topic), 0)], ""),
                         index=drivers.index)
        text = text + np.where((text != "") & (part != ""), "; ", "") + part
    return text.rename("drivers")


def at_risk_in_words(at_risk: pd.DataFrame, features: pd.DataFrame, texts: Texts | None = None) -> pd.DataFrame:
    """The at-risk list with its ``driver_1`` ... columns replaced by one ``drivers`` column of reasons in
    words (:func:`drivers_in_words`), in their place.

    Parameters
    ----------
    at_risk : DataFrame
        :func:`portfolio_kit.churn.at_risk_customers`.
    features : DataFrame
        The features it was ranked on (its ``features`` argument).
    texts : Texts, optional
        Language of the reasons (English without).
    """
    columns = [c for c in at_risk.columns if _DRIVER_COLUMN.fullmatch(str(c))]
    if not columns or "customer_id" not in at_risk.columns:
        raise ValueError("at_risk: expected the table of churn.at_risk_customers(), with customer_id and "
                         f"driver_1 ... columns; got {list(at_risk.columns)}")
    words = drivers_in_words(at_risk.set_index("customer_id")[columns], features, texts)
    out = at_risk.drop(columns=columns)
    out.insert(at_risk.columns.get_loc(columns[0]), "drivers", words.to_numpy())
    return out


def chosen_score_in_words(metrics: pd.DataFrame, texts: Texts | None = None) -> Markdown:
    """Which score drives the at-risk list and the actions, and why: its AUC and Brier score on the later
    cut-off against the runner-up's (:func:`portfolio_kit.churn.rank_scores`).

    The reason is the one that decided between the two: a higher AUC by more than
    :data:`~portfolio_kit.churn.AUC_TOLERANCE` (``churn.chosen_score.auc``), else the lower Brier score
    (``.brier``), else the simpler score (``.simpler``); ``.only`` when no other score has an AUC. When the
    chosen score is not the logit, ``churn.chosen_score.drivers`` follows: the drivers still come from it.

    Parameters
    ----------
    metrics : DataFrame
        :attr:`portfolio_kit.churn.ChurnBacktest.metrics`.
    texts : Texts, optional
        Language of the sentence (English without).

    Examples
    --------
    >>> metrics = pd.DataFrame({"score": ["logit model", "recency only", "BG/NBD"],
    ...                         "auc": [0.787, 0.788, 0.70], "brier": [0.142, 0.162, 0.20]})
    >>> print(chosen_score_in_words(metrics))  # doctest: +NORMALIZE_WHITESPACE
    The at-risk list and the actions use the *logit model* score: on the later cut-off its AUC was 0.787
    against 0.788 for *recency only*, within 0.01, so the lower Brier score decided: 0.142 against 0.162.
    """
    t = _english(texts)
    ranking = rank_scores(metrics)
    chosen = ranking.iloc[0]
    if np.isnan(chosen["auc"]):
        raise ValueError(f"metrics: no score has an AUC ({ranking['score'].tolist()}); none can be chosen")
    fields = dict(score=t.label(chosen["score"]), auc=chosen["auc"], brier=chosen["brier"])
    other = ranking.iloc[1] if len(ranking) > 1 and not np.isnan(ranking["auc"].iloc[1]) else None
    if other is None:
        reason = "only"
    else:
        fields.update(other=t.label(other["score"]), other_auc=other["auc"], other_brier=other["brier"],
                      tolerance=AUC_TOLERANCE)
        reason = ("auc" if not other["within_tolerance"] else
                  "brier" if chosen["brier"] != other["brier"] else "simpler")
    sentence = t(f"churn.chosen_score.{reason}", **fields)
    if chosen["score"] != SCORES["logit"]:
        sentence += " " + t("churn.chosen_score.drivers", score=fields["score"])
    return Markdown(sentence)
