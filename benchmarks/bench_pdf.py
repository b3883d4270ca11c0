"""The report's PDF: one Chromium print per page merged with pypdf (``print_report_pdf``, what ``--pdf`` does)
against printing one combined HTML page in a single Chromium launch (the alternative: fewer launches, but the
pages' styles, anchors and page breaks mix).

Synthetic pages like the notebooks': a heading, an HTML table of ``--rows`` random rows and an embedded PNG
figure. Every case runs in its own subprocess; peak memory is the largest Chromium process (``ru_maxrss`` of
the children) and of the Python side.

Run: ``python -m benchmarks.bench_pdf [--rows 200] [--seed 1]``
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from benchmarks.common import markdown_table  # noqa: E402
from portfolio_kit.report.browser import print_pdf, print_report_pdf  # noqa: E402

PAGES = (1, 4, 12)
STYLE = "<style>@page { size: A4; } table { border-collapse: collapse; font-size: 9pt; }</style>"


def _body(i: int, rows: int, rng: np.random.Generator) -> str:
    table = pd.DataFrame(rng.gamma(2.0, 1000.0, size=(rows, 5)), columns=list("abcde")).round(2)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(np.cumsum(rng.normal(size=500)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    return f'<h1>Page {i}</h1><img src="data:image/png;base64,{png}">{table.to_html()}'


def _child(case: str, pages: int, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    bodies = [_body(i, rows, rng) for i in range(pages)]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        start = time.perf_counter()
        if case == "per page + pypdf":
            files = []
            for i, body in enumerate(bodies):
                files.append(folder / f"{i:02d}.html")
                files[-1].write_text(f"<!DOCTYPE html><html><head>{STYLE}</head><body>{body}</body></html>")
            print_report_pdf(files, folder / "report.pdf")
        else:
            joined = '<div style="break-after: page"></div>'.join(bodies)
            (folder / "all.html").write_text(f"<!DOCTYPE html><html><head>{STYLE}</head><body>{joined}</body></html>")
            print_pdf(folder / "all.html", folder / "report.pdf")
        seconds = time.perf_counter() - start
        n_pages = len(PdfReader(folder / "report.pdf").pages)
    print(json.dumps({"seconds": seconds, "pdf_pages": n_pages,
                      "chromium_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                      "python_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _run(case: str, pages: int, rows: int, seed: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_pdf", "--child", case, "--pages", str(pages),
                           "--rows", str(rows), "--seed", str(seed)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child")
    parser.add_argument("--pages", type=int)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.pages, args.rows, args.seed)
    rows = []
    for pages in PAGES:
        ours, combined = (_run(case, pages, args.rows, args.seed) for case in ("per page + pypdf", "one combined"))
        for name, r in (("per page + pypdf", ours), ("one combined page", combined)):
            rows.append({"pages": pages, "method": name, "seconds": f"{r['seconds']:.2f}",
                         "s / page": f"{r['seconds'] / pages:.2f}", "PDF pages": r["pdf_pages"],
                         "peak Chromium MB": f"{r['chromium_mb']:.0f}", "peak Python MB": f"{r['python_mb']:.0f}",
                         "time ratio": f"{r['seconds'] / combined['seconds']:.2f}"})
    print(markdown_table(rows, f"HTML pages of {args.rows} table rows and one figure each, seed {args.seed}; "
                               "time ratio against one combined page."))


if __name__ == "__main__":
    main()
