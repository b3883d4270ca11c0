"""The whole `portfolio-kit run` on large synthetic clients: wall time, peak memory, time per notebook.

For each size a retail-like client is generated once (``portfolio-kit sample --format parquet``, 4 lines per
invoice over 2.25 years: about 20 transaction lines and 5 invoices per customer) into ``--data`` (reused when
present), then the full suite runs on it in a child process into a throw-away reports folder. Memory is the
peak of the summed resident memory of the runner and its kernels, sampled every 0.2 s from ``/proc``, and
the largest single process (``ru_maxrss`` of the children). Targets at 1M customers: under 10 minutes and
under 8 GB. Writes ``benchmarks/run_scaling.png`` (log-log time and memory against customers).

    python -m benchmarks.bench_run --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def _tree_rss_mb(root_pid: int) -> float:
    """Resident memory of ``root_pid`` and all its descendants, in MB (Linux /proc)."""
    parent, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            parent[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += [child for child, p in parent.items() if p == pid]
    return total / 2**20


def make_client(customers: int, data: Path) -> Path:
    folder = data / f"client_{customers}"
    if not (folder / "portfolio.yaml").is_file():
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "portfolio_kit", "sample", "--out", str(folder), "--customers",
                        str(customers), "--format", "parquet", "--lines-per-invoice", "4", "--years", "2.25"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"generated {customers:,} customers in {time.perf_counter() - start:.0f} s", flush=True)
    return folder / "portfolio.yaml"


def run_suite(config: Path, reports: Path, staging: Path) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(staging)}  # a cold staging cache: validation is measured
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "portfolio_kit", "run", str(config), "--reports", str(reports),
                             "--quiet"], env=env)
    peak = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    code = proc.wait()
    done.set()
    watcher.join()
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"portfolio-kit run failed on {config} (exit {code})")
    manifest = json.loads(next(reports.glob("*/*/*/manifest.json")).read_text())
    return {"seconds": seconds, "peak_mb": peak,
            "largest_process_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "notebooks": {nb["name"]: nb["seconds"] for nb in manifest["notebooks"]}}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["customers"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.loglog(n, [r["seconds"] for r in rows], "o-")
    left.set(xlabel="customers", ylabel="wall time (s)", title="Whole run: time")
    right.loglog(n, [r["peak_mb"] for r in rows], "o-", color="C1")
    right.set(xlabel="customers", ylabel="peak memory (MB)", title="Whole run: memory")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "portfolio-kit-bench")
    parser.add_argument("--plot", type=Path, default=ROOT / "benchmarks" / "run_scaling.png")
    args = parser.parse_args(argv)
    rows = []
    for customers in args.sizes:
        config = make_client(customers, args.data)
        import pyarrow.parquet as pq

        lines = pq.ParquetFile(config.parent / "transactions.parquet").metadata.num_rows
        invoices = pq.ParquetFile(config.parent / "invoices.parquet").metadata.num_rows
        with tempfile.TemporaryDirectory() as tmp:
            result = run_suite(config, Path(tmp) / "reports", Path(tmp) / "cache")
        rows.append({"customers": customers, "lines": lines, "invoices": invoices, **result})
        print(f"{customers:,} customers: {result['seconds']:.0f} s, {result['peak_mb']:,.0f} MB", flush=True)
    table = [{"customers": f"{r['customers']:,}", "transaction lines": f"{r['lines']:,}",
              "invoices": f"{r['invoices']:,}", "wall s": f"{r['seconds']:.0f}",
              "peak MB (runner + kernel)": f"{r['peak_mb']:,.0f}",
              "largest process MB": f"{r['largest_process_mb']:,.0f}",
              **{name: f"{s:.0f}" for name, s in r["notebooks"].items()}} for r in rows]
    print(markdown_table(table, "Seconds per notebook as recorded in the run's manifest."))
    if len(rows) > 1:
        steps = [{"from": f"{a['customers']:,}", "to": f"{b['customers']:,}",
                  "time x": f"{b['seconds'] / a['seconds']:.1f}", "memory x": f"{b['peak_mb'] / a['peak_mb']:.1f}",
                  "customers x": f"{b['customers'] / a['customers']:.0f}"} for a, b in zip(rows, rows[1:])]
        print(markdown_table(steps))
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
