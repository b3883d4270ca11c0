"""The kit installs like a package: the wheel built from the project carries the notebooks and the catalogue,
and ``portfolio-kit run`` works from any folder, writing its reports there and nothing inside the install.

The wheel goes into a fresh virtual environment; its dependencies are borrowed from the project's own
environment (a path entry, so the checkout's editable install stays out of sight, and ``JUPYTER_PATH`` for
the data files nbconvert installs beside itself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import SAMPLE_DIR

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


def test_the_wheel_runs_the_sample_from_any_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path)
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder in the checkout
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")  # the dependencies, not the kit
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(next(wheels.glob("*.whl")))], check=True)
    package = site / "portfolio_kit"
    assert (package / "notebooks" / "00_data_overview.ipynb").is_file()
    assert (package / "report" / "catalogue" / "common.yaml").is_file()
    before = _tree(package)

    client = tmp_path / "client"
    shutil.copytree(SAMPLE_DIR, client)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # the borrowed nbconvert's templates
    done = subprocess.run([str(venv / "bin" / "portfolio-kit"), "run", str(client / "portfolio.yaml"),
                           "--only", "data_overview", "--quiet"], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (run,) = (work / "reports" / "sample-client" / "2026-10-31").iterdir()
    assert (run / "00_data_overview.html").is_file() and (run / "index.html").is_file()
    where = subprocess.run([str(python), "-c", "import portfolio_kit; print(portfolio_kit.__file__)"],
                           check=True, capture_output=True, text=True, env=env, cwd=work).stdout
    assert where.startswith(str(package)), where  # the kit ran from the wheel, not from the checkout
    assert _tree(package) == before  # nothing written inside the install
