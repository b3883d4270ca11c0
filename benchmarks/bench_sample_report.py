"""The sample client's whole report: notebooks one at a time (the previous runner) against side by side.

Each variant runs the full suite on ``data/sample`` in a child process into a throw-away reports folder,
``--repeat`` times, alternating, and the tables of both are compared byte for byte.

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

from benchmarks.common import markdown_table

ROOT = Path(__file__).resolve().parents[1]
RUN = ("import sys; from portfolio_kit.runner import suite; from portfolio_kit.data import load_config; "
       "suite.PARALLEL_NOTEBOOKS = int(sys.argv[1]); "
       "print(suite.run_suite(load_config(sys.argv[2]), reports=sys.argv[3]).run_dir)")


def run(workers: int, reports: Path) -> tuple[float, Path]:
    """Wall seconds of one whole run with ``workers`` notebooks at a time, and its run folder."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, str(workers), str(ROOT / "data/sample/portfolio.yaml"),
                           str(reports)], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, Path(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    seconds: dict[int, list[float]] = {1: [], 2: []}
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for workers in (1, 2):
                took, runs[workers] = run(workers, Path(tmp) / f"{workers}-{i}")
                seconds[workers].append(took)
        tables = sorted(p.name for p in (runs[1] / "tables").glob("*.csv"))
        same = all(filecmp.cmp(runs[1] / "tables" / t, runs[2] / "tables" / t, shallow=False) for t in tables)
    best = {w: min(s) for w, s in seconds.items()}
    print(markdown_table([{"notebooks at a time": w, "best of runs, s": round(best[w], 1),
                           "runs, s": ", ".join(f"{s:.1f}" for s in seconds[w])} for w in (1, 2)]))
    print(f"\nside by side: {best[1] / best[2]:.2f}x faster; {len(tables)} tables byte-identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
