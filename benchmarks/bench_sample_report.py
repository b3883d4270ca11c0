"""The sample client's whole report: the previous runner (a kernel per notebook) against the current one (a
kernel per core, reused, with the client's checked portfolio kept in it), and the workbook writers.

Each variant runs the full suite on ``data/sample`` in a child process into a throw-away reports folder,
``--repeat`` times, alternating; the tables of both are compared byte for byte. Then the workbook of the last
run is written by the previous writer (openpyxl through pandas) and the current one (XlsxWriter, row by row).

    python -m benchmarks.bench_sample_report --repeat 2
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import markdown_table
from portfolio_kit.report import tables

ROOT = Path(__file__).resolve().parents[1]
RUN = ("import sys; from portfolio_kit.runner import suite; from portfolio_kit.data import load_config; "
       "suite.REUSE_KERNELS = sys.argv[1] == 'current'; "
       "print(suite.run_suite(load_config(sys.argv[2]), reports=sys.argv[3]).run_dir)")
VARIANTS = ("previous", "current")


def run(variant: str, reports: Path) -> tuple[float, Path]:
    """Wall seconds of one whole run (``portfolio-kit run`` as a child process), and its run folder."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, variant, str(ROOT / "data/sample/portfolio.yaml"),
                           str(reports)], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, Path(done.stdout.strip().splitlines()[-1])


def previous_workbook(tables_dir: Path, path: Path) -> None:
    """The previous writer: every table through pandas' ``to_excel`` on openpyxl (no per-owner sheets)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for csv in sorted(tables_dir.glob("*.csv")):
            tables._safe(tables._read_for_sheet(csv)).to_excel(writer, sheet_name=csv.stem[:31], index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for variant in VARIANTS:
                took, runs[variant] = run(variant, Path(tmp) / f"{variant}-{i}")
                seconds[variant].append(took)
        names = sorted(p.name for p in (runs["previous"] / "tables").glob("*.csv"))
        same = all(filecmp.cmp(runs["previous"] / "tables" / t, runs["current"] / "tables" / t, shallow=False)
                   for t in names)
        folder = runs["current"] / "tables"
        t0 = time.perf_counter()
        previous_workbook(folder, Path(tmp) / "previous.xlsx")
        t1 = time.perf_counter()
        tables.write_workbook(folder, Path(tmp) / "current.xlsx")
        t2 = time.perf_counter()
    best = {v: min(s) for v, s in seconds.items()}
    print(markdown_table([{"runner": v, "best of runs, s": round(best[v], 1),
                           "runs, s": ", ".join(f"{s:.1f}" for s in seconds[v])} for v in VARIANTS]))
    print(f"\ncurrent runner: {best['previous'] / best['current']:.2f}x faster; {len(names)} tables byte-identical: "
          f"{same}")
    print(f"workbook of {len(names)} tables: openpyxl {t1 - t0:.1f} s, XlsxWriter {t2 - t1:.1f} s "
          f"({(t1 - t0) / (t2 - t1):.1f}x)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
