"""Writing numbers the report language's way, at scale: ``Texts.numbers`` (vectorised) against Babel's
``format_decimal`` / ``format_currency`` (the reference library for locale formatting) and against
``Texts.number`` one value at a time; then ``Texts.table`` and ``Texts.fill`` on a whole column of customers.

Values are generated with a seed (log-normal amounts in cents, of both signs, 1% missing). Each step runs once in this
process; "extra memory" is the peak resident memory it added (``benchmarks.common.timed``). Outputs are
checked equal to Babel's before timing is reported (Babel writes ``1.234,56 €``; compared on the number).

Run: ``python -m benchmarks.bench_texts [--n 200000] [--seed 1]``
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from babel.numbers import format_decimal

from benchmarks.common import markdown_table, timed
from portfolio_kit.report.texts import texts


def make_values(n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(7, 2, n) * rng.choice([-1.0, 1.0], n, p=[0.1, 0.9])
    values[rng.random(n) < 0.01] = np.nan
    return pd.Series(values.round(2))  # amounts in cents, as exports hold them


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    t = texts("it")
    values = make_values(args.n, args.seed)
    finite = values.dropna()

    ours, s_ours, m_ours = timed(lambda: t.numbers(values, 2))
    loop, s_loop, m_loop = timed(lambda: [t.number(v, 2) for v in values])
    babel, s_babel, m_babel = timed(lambda: [format_decimal(v, format="#,##0.00", locale="it_IT") for v in finite])
    assert ours.tolist() == loop
    assert ours[finite.index].tolist() == babel, "Texts.numbers and Babel disagree"

    customers = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(args.n)], "revenue": values,
                              "revenue_share": (values.abs() / values.abs().sum()).to_numpy(),
                              "invoices": np.arange(args.n) % 97, "segment": np.where(values > 0, "Champions", "Lost")})
    table, s_table, m_table = timed(lambda: t.table(customers))
    assert len(table) == args.n
    words, s_fill, m_fill = timed(lambda: t.fill("{who}: {amount}", customers.index, who=customers["customer_id"],
                                                 amount=t.currency + " " + t.numbers(values)))
    assert words.iloc[0].startswith("C0000000: EUR ")

    rows = [
        {"step": f"{args.n:,} numbers, Texts.numbers (vectorised)", "seconds": f"{s_ours:.2f}",
         "extra memory MB": f"{m_ours:.0f}", "ratio": "1.0"},
        {"step": f"{args.n:,} numbers, Texts.number one by one", "seconds": f"{s_loop:.2f}",
         "extra memory MB": f"{m_loop:.0f}", "ratio": f"{s_loop / s_ours:.1f}"},
        {"step": f"{len(finite):,} numbers, Babel format_decimal (it_IT)", "seconds": f"{s_babel:.2f}",
         "extra memory MB": f"{m_babel:.0f}", "ratio": f"{s_babel / s_ours:.1f}"},
        {"step": f"Texts.table, {args.n:,} customers x 5 columns", "seconds": f"{s_table:.2f}",
         "extra memory MB": f"{m_table:.0f}", "ratio": ""},
        {"step": f"Texts.fill, {args.n:,} sentences", "seconds": f"{s_fill:.2f}",
         "extra memory MB": f"{m_fill:.0f}", "ratio": ""},
    ]
    print(markdown_table(rows, note="ratio: seconds against Texts.numbers; outputs checked equal to Babel's."))


if __name__ == "__main__":
    main()
