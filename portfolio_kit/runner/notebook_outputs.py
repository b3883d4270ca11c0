"""Store, in the committed notebooks, the key-figure outputs that the notebook tests compare.

``python -m portfolio_kit.runner.notebook_outputs notebooks`` (``make notebook-outputs``) executes every notebook
of the suite with its default parameters (the sample client), keeps the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT`` and clears every other output, so the stored notebooks stay small and nbval
(``--nbval-lax``) compares exactly the deterministic tables. Run it after changing a notebook, the sample
client or an analysis, and review the diff of the stored numbers.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
import papermill

from portfolio_kit.runner.suite import KERNEL_NAME, LocalKernelManager, discover_notebooks

MARK = "NBVAL_CHECK_OUTPUT"


def store_outputs(path: Path) -> int:
    """Execute ``path`` and keep only the checked cells' outputs; returns how many cells keep outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / path.name
        papermill.execute_notebook(str(path), str(executed), kernel_name=KERNEL_NAME, cwd=str(path.parent),
                                   progress_bar=False, kernel_manager_class=LocalKernelManager)
        ran = nbformat.read(executed, as_version=4)
    source = nbformat.read(path, as_version=4)
    by_id = {cell.get("id"): cell for cell in ran.cells}
    kept = 0
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        checked = MARK in cell.source
        outputs = by_id[cell.get("id")].outputs
        if checked and any(o.get("name") == "stderr" for o in outputs):
            raise RuntimeError(f"{path.name}: a checked cell writes to stderr (a warning?); its text holds "
                               f"temporary paths that would never compare equal: fix it first\n{cell.source}")
        cell.outputs = outputs if checked else []
        cell.execution_count = by_id[cell.get("id")].execution_count if checked else None
        cell.metadata.pop("execution", None)
        kept += checked
    nbformat.write(source, path)
    return kept


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("notebooks")
    for path in discover_notebooks(folder, argv[1:] or None):
        print(f"{path.name}: {store_outputs(path)} checked cell(s) stored")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
