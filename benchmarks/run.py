"""Run every benchmark in turn (``make bench``); each prints its own markdown table with ratios.

Benchmarks measure speed and memory against the reference libraries in the same run; they are not part of
the test suite. Copy the tables into ``benchmarks/RESULTS.md`` with the date and the machine.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("bench_sample", "bench_segmentation", "bench_clv", "bench_payments", "bench_churn", "bench_monitoring", "bench_pdf",
              "bench_engines", "bench_texts", "bench_run", "bench_sample_report")


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHMARKS:
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"]).returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
