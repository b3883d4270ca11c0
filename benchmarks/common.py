"""What the benchmarks share: a single-threaded environment for child processes and markdown tables."""

from __future__ import annotations

import os
import time
from typing import Callable

import pandas as pd

#: Environment of a benchmark's child process: BLAS pinned to one thread, so that a busy second core does
#: not stall one library's threads and not the other's.
SINGLE_THREAD = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def markdown_table(rows: list[dict], note: str = "") -> str:
    """``rows`` (one dict per line, same keys) as a markdown table, followed by ``note``."""
    table = pd.DataFrame(rows)
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join(r) + " |\n" for r in table.astype(str).to_numpy())
    return header + body + (f"\n{note}\n" if note else "")


def _memory_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def timed(work: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``work()`` once: its result, seconds, and peak resident memory it added in MB (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak resident memory
    except OSError:
        pass
    before = _memory_mb("VmRSS")
    start = time.perf_counter()
    out = work()
    seconds = time.perf_counter() - start
    return out, seconds, _memory_mb("VmHWM") - before
