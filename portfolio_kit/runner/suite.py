"""Run the notebook suite with papermill into an immutable, versioned report.

A run lands in ``<reports>/<client>/<as_of>/<run_id>/`` where ``run_id`` = UTC start time (sortable) +
a short hash of (parameters, input file hashes). It is assembled in a hidden ``.<run_id>.partial/`` folder
and renamed into place only when complete; a failed run is renamed to ``<run_id>.failed/`` with the
executed notebook showing the failing cell. Nothing existing is ever overwritten or deleted.

A run folder holds::

    index.html                 links to every notebook page (the summary first), with the run's key figures
    NN_name.html               one page per notebook, without code (nbconvert ``exclude_input``), loading
                               nothing from the network (no require.js, MathJax or Mermaid from a CDN)
    notebooks/NN_name.ipynb    the executed notebooks
    tables/*.csv, tables/<client>_<as_of>.xlsx    every table the notebooks saved, one sheet each
    key_figures/<name>.json    each notebook's headline numbers
    manifest.json              parameters, input SHA-256, package versions, git commit, timings, status
    <client>_<as_of>.pdf       with ``pdf=True``: index and every page in order, printed by headless Chromium
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import html
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable

import nbformat
import pandas as pd
import papermill
import yaml
from jinja2 import DictLoader
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from nbconvert import HTMLExporter
from traitlets import CaselessStrEnum

from portfolio_kit.report.browser import chromium_version, find_chromium, print_report_pdf
from portfolio_kit.data.config import PortfolioConfig, input_files
from portfolio_kit.data.exports import DataValidationError, file_sha256
from portfolio_kit.data.portfolio import HANDED_OVER, checked_portfolio, hand_over, portfolio_key
from portfolio_kit.clv import PURCHASE_MODELS
from portfolio_kit.actions import check_levers, parse_action_rules
from portfolio_kit.monitoring import parse_alert_rules
from portfolio_kit.report.texts import LANGUAGES, texts
from portfolio_kit.report.tables import NOT_RUN_FILE, read_key_figures, write_workbook
from portfolio_kit.runner.needs import READS_FROM, unmet_need

__all__ = ["NOTEBOOKS_DIR", "DEFAULT_REPORTS", "RunError", "ParameterError", "RunFailed", "Param", "discover_notebooks",
           "notebook_parameters", "plan_run", "run_suite", "list_runs", "previous_run", "RUNNER_PARAMETERS",
           "check_config_rules", "depends_on", "run_order", "run_scheduled", "KernelPool"]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout, when the kit runs from one (git commit)
#: The suite's notebooks, shipped inside the package (in a checkout, ``portfolio_kit/notebooks`` links to the
#: top-level ``notebooks/`` folder).
NOTEBOOKS_DIR = Path(str(resources.files("portfolio_kit") / "notebooks"))
#: Where runs land unless the config (``reports:``) or the command line says otherwise: ``./reports`` of the
#: folder the kit is run from, never inside the installed package.
DEFAULT_REPORTS = Path("reports")
KERNEL_NAME = "python3"
#: Parameters the runner itself supplies; every notebook declares the first three. ``language`` is the report
#: language (the config's, or the run's ``--language``).
RUNNER_PARAMETERS = ("config_path", "as_of", "output_dir", "pseudonymise", "previous_run", "language")
REQUIRED_PARAMETERS = RUNNER_PARAMETERS[:3]
#: The notebook that summarises the others: it runs last (it reads their tables) and is read first.
SUMMARY_NOTEBOOK = "summary"
#: What some notebook parameters may take, beyond their type (papermill checks neither): choices, or an
#: inclusive range. Checked by ``run`` and ``validate`` before any kernel starts.
PARAMETER_LIMITS: dict[str, tuple] = {
    "model": tuple(PURCHASE_MODELS), "purchase_model": tuple(PURCHASE_MODELS),
    "discount_rate": (0.0, 1.0), "margin_rate": (0.0, 1.0), "interval": (0.01, 0.999), "n_draws": (0, 100_000),
    "horizon_months": (0, 120), "holdout_months": (1, 120), "value_months": (1, 120), "active_months": (1, 120),
    "seed": (0, 2**32 - 1),
    "default_days": (91, 3650), "lookback_months": (1, 240), "forward_adjustment": (-0.99, 10.0),
    "roll_months": (1, 120), "cost_of_capital": (0.0, 0.99), "limit_buffer": (0.0, 10.0), "limit_band": (0.0, 0.99),
    "max_share_of_book": (0.001, 1.0), "limit_round_to": (0.01, 1e9), "limit_floor": (0.0, 1e12),
    "new_terms_days": (0, 3650), "terms_mode": ("cap", "set"),
    "max_lines": (2, 1000), "min_penetration": (0.0, 1.0), "min_group": (1, 10**9), "min_support": (0.0, 1.0),
    "min_pair_customers": (1, 10**9), "alpha": (1e-6, 0.5), "prior": (0.0, 1e6), "top_rows": (1, 10_000),
}
#: The file of a run in progress holding the runner's process id.
RUNNER_PID = "runner.pid"
#: Notebooks run side by side: one per core.
PARALLEL_NOTEBOOKS = max(1, os.cpu_count() or 1)
#: Whether the notebooks a core runs one after the other share its kernel (:class:`KernelPool`).
REUSE_KERNELS = True
_VERSIONED = ("portfolio-kit", "pandas", "numpy", "scipy", "statsmodels", "lifetimes", "seaborn",
              "matplotlib", "papermill", "nbconvert", "pyarrow", "openpyxl", "pypdf")


class LocalKernelManager(AsyncKernelManager):
    """Kernels talk to the runner over Unix sockets in the user's Jupyter runtime folder (IPC), not over
    TCP on localhost, which ipykernel rightly warns is unencrypted. Each kernel's sockets have a name of their
    own (jupyter_client's default, ``kernel-ipc-N`` in the working folder, makes kernels started side by side,
    or by two runs at once, talk over each other's sockets)."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    def _ip_default(self) -> str:
        if self.transport != "ipc":
            return super()._ip_default()
        folder = Path(jupyter_runtime_dir())
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"portfolio-kit-{uuid.uuid4().hex}-ipc")


class RunError(RuntimeError):
    """A run could not start (bad notebook selection, missing files, ...)."""


class ParameterError(RunError):
    """A parameter is unknown to a notebook or has the wrong type."""


class RunFailed(RunError):
    """A notebook failed; the run was kept as ``<run_id>.failed/``."""

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = run_dir


@dataclass(frozen=True)
class Param:
    """One parameter of a notebook's ``parameters`` cell."""

    name: str
    type: str
    default: str
    help: str


@dataclass
class NotebookPlan:
    path: Path
    parameters: dict[str, Any]  # what the runner injects
    defaults: dict[str, Any] = field(default_factory=dict)  # the notebook's own values for the rest

    @property
    def effective(self) -> dict[str, Any]:
        return self.defaults | self.parameters

    @property
    def name(self) -> str:
        return notebook_name(self.path)


@dataclass
class RunResult:
    run_dir: Path
    manifest: dict = field(default_factory=dict)

    @property
    def index(self) -> Path:
        return self.run_dir / "index.html"


def notebook_name(path: Path) -> str:
    """``03_clv.ipynb`` -> ``clv``."""
    stem = Path(path).stem
    prefix, _, rest = stem.partition("_")
    return rest if prefix.isdigit() and rest else stem


def _run_order(path: Path) -> tuple[bool, str]:
    return notebook_name(path) == SUMMARY_NOTEBOOK, path.name


def _reading_order(entries: list[dict]) -> list[dict]:
    """The manifest's notebooks as the index and the PDF show them: the summary first, then the others."""
    return sorted(entries, key=lambda nb: nb["name"] != SUMMARY_NOTEBOOK)


def discover_notebooks(folder: Path = NOTEBOOKS_DIR, only: list[str] | None = None) -> list[Path]:
    """The suite in the order it runs (``NN_*.ipynb`` by number, the summary last), or the notebooks named in
    ``only`` (``clv`` or ``03_clv``), in the same order."""
    suite = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"), key=_run_order)
    if not suite:
        raise RunError(f"no notebooks NN_*.ipynb in {folder}")
    if not only:
        return suite
    by_name = {notebook_name(p): p for p in suite} | {p.stem: p for p in suite}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise RunError(f"unknown notebook(s) {unknown}; the suite has {[notebook_name(p) for p in suite]}")
    return sorted({by_name[n] for n in only}, key=_run_order)


def notebook_parameters(path: Path) -> dict[str, Param]:
    """The parameters a notebook takes (from its cell tagged ``parameters``), with types, defaults, help."""
    found = papermill.inspect_notebook(str(path))
    return {n: Param(n, p["inferred_type_name"], p["default"], p["help"]) for n, p in found.items()}


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _coerce(value: Any, type_name: str, where: str) -> Any:
    """``value`` as the declared type (strings from the command line are parsed), or a ParameterError."""
    base = type_name.split("[")[0].strip().lower()
    if base in ("none", "any", ""):
        return value
    try:
        if isinstance(value, str) and base in ("int", "float"):
            value = {"int": int, "float": float}[base](value)
        if isinstance(value, str) and base == "bool":
            if value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise ValueError
        if isinstance(value, str) and base in ("list", "dict"):
            value = yaml.safe_load(value)
        if base == "str" and isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            return value.isoformat() if isinstance(value, dt.date) else str(value)
    except (ValueError, yaml.YAMLError):
        raise ParameterError(f"{where}: expected {type_name}, got {value!r}") from None
    expected = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
                "dict": (dict,)}.get(base)
    if expected and (not isinstance(value, expected) or (base != "bool" and isinstance(value, bool))):
        raise ParameterError(f"{where}: expected {type_name}, got {type(value).__name__} {value!r}")
    if base == "float" and not math.isfinite(value):
        raise ParameterError(f"{where}: expected a finite number, got {value!r}")
    return float(value) if base == "float" else value


def _check_limits(name: str, value: Any, where: str) -> None:
    """A ParameterError when ``value`` is outside what :data:`PARAMETER_LIMITS` allows for ``name``."""
    limit = PARAMETER_LIMITS.get(name)
    if limit is None:
        return
    if isinstance(limit, tuple) and isinstance(limit[0], str):
        if value not in limit:
            raise ParameterError(f"{where}: expected one of {list(limit)}, got {value!r}")
    elif not limit[0] <= value <= limit[1]:
        raise ParameterError(f"{where}: expected a value from {limit[0]} to {limit[1]}, got {value!r}")


def _literal(source: str) -> Any:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source  # an expression: recorded as written


def plan_run(cfg: PortfolioConfig, notebooks: list[Path], overrides: dict[str, Any] | None = None,
             runner_values: dict[str, Any] | None = None) -> list[NotebookPlan]:
    """Each notebook with its validated parameters: runner values, then the config's ``parameters.<name>``,
    then command-line ``overrides`` (applied to every selected notebook that declares them).

    Raises :class:`ParameterError` naming the notebook and parameter for an unknown name or a wrong type.
    """
    overrides = overrides or {}
    names = {notebook_name(p) for p in notebooks}
    all_names = {notebook_name(p) for p in discover_notebooks(notebooks[0].parent)} if notebooks else set()
    stray = sorted(set(cfg.parameters) - all_names)
    if stray:
        raise ParameterError(f"{cfg.source}: parameters for unknown notebook(s) {stray}")
    declared_anywhere: set[str] = set()
    plans = []
    for path in notebooks:
        declared = notebook_parameters(path)
        declared_anywhere |= set(declared)
        name = notebook_name(path)
        missing = [p for p in REQUIRED_PARAMETERS if p not in declared]
        if missing:
            raise ParameterError(f"notebook {path.name}: its parameters cell must declare {missing}")
        values: dict[str, Any] = {k: v for k, v in (runner_values or {}).items() if k in declared}
        for source, given in ((f"config parameters.{name}", cfg.parameters.get(name, {})),
                              ("-p", {k: v for k, v in overrides.items() if k in declared})):
            for key, value in given.items():
                if key not in declared:
                    raise ParameterError(f"notebook {path.name}: unknown parameter {key!r} (from {source}); "
                                         f"it takes {sorted(declared)}")
                if key in RUNNER_PARAMETERS:
                    raise ParameterError(f"notebook {path.name}: parameter {key!r} is set by the runner")
                where = f"notebook {path.name}, parameter {key!r}"
                values[key] = _coerce(value, declared[key].type, where)
                _check_limits(key, values[key], where)
        plans.append(NotebookPlan(path, values, {k: _literal(p.default) for k, p in declared.items()}))
    unused = sorted(set(overrides) - declared_anywhere)
    if unused:
        raise ParameterError(f"-p {unused[0]}: no selected notebook ({', '.join(sorted(names))}) takes it")
    return plans


def _git_commit() -> dict[str, Any] | None:
    if not (PROJECT_ROOT / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": head, "dirty": bool(dirty)}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def reports_root(cfg: PortfolioConfig, override: str | Path | None = None) -> Path:
    """The folder runs of ``cfg`` land in, as an absolute path: ``override``, else the config's ``reports``,
    else ``./reports``."""
    return Path(override or cfg.reports or DEFAULT_REPORTS).resolve()


def list_runs(root: Path, client: str | None = None) -> list[dict[str, Any]]:
    """Every run under ``root`` (optionally one client's), oldest first: path, status, as-of, key figures.

    Runs not finished are listed too, from their hidden ``.<run_id>.partial`` folder: ``running`` while the
    process that started them lives, else ``interrupted`` (killed, machine stopped): such a folder holds no
    finished report and can be removed (``portfolio-kit runs --remove-interrupted``).
    """
    runs = []
    for manifest in sorted(Path(root).glob(f"{client or '*'}/*/*/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        runs.append({"path": manifest.parent, "client": data.get("client"), "as_of": data.get("as_of"),
                     "run_id": data.get("run_id"), "status": data.get("status"),
                     "key_figures": read_key_figures(manifest.parent)})
    for partial in sorted(Path(root).glob(f"{client or '*'}/*/.*.partial")):
        runs.append({"path": partial, "client": partial.parent.parent.name, "as_of": partial.parent.name,
                     "run_id": partial.name[1:-len(".partial")], "key_figures": {},
                     "status": "running" if _alive(partial / RUNNER_PID) else "interrupted"})
    return sorted(runs, key=lambda r: (str(r["client"]), str(r["as_of"]), str(r["run_id"])))


def _alive(pid_file: Path) -> bool:
    """Whether the process whose id the file holds still runs (on this machine)."""
    try:
        os.kill(int(pid_file.read_text(encoding="utf-8")), 0)
    except (OSError, ValueError):
        return False
    return True


def _check_writable(root: Path) -> None:
    """A RunError in one sentence, before any work, when runs cannot be written under ``root``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{uuid.uuid4().hex}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise RunError(f"the reports folder {root} cannot be written ({exc.strerror or exc}): choose another with "
                       "--reports or 'reports:' in the config") from None


def previous_run(root: Path, client: str, as_of: dt.date) -> Path | None:
    """The newest complete run of ``client`` with an earlier as-of date (for monitoring diffs)."""
    earlier = [r for r in list_runs(root, client) if r["status"] == "success" and str(r["as_of"]) < as_of.isoformat()]
    return earlier[-1]["path"] if earlier else None


def _run_id(start: dt.datetime, params: list[NotebookPlan], hashes: dict[str, str]) -> str:
    payload = json.dumps({"params": {p.name: p.parameters for p in params}, "inputs": hashes},
                         sort_keys=True, default=str)
    return f"{start:%Y%m%dT%H%M%S}.{start.microsecond // 1000:03d}Z-{hashlib.sha256(payload.encode()).hexdigest()[:8]}"


#: nbconvert's ``lab`` page without its CDN scripts (require.js, MathJax, Mermaid, widgets): the report is read
#: offline and the notebooks' outputs need none of them (figures are embedded PNG, tables HTML; TeX in markdown
#: would show as written). Printed on A4 portrait, tables in a smaller type and not clipped to a scroll box.
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock -%}
{%- block jupyter_widgets -%}{%- endblock -%}
{%- block html_head_js_mathjax -%}{%- endblock -%}
{%- block html_head_js_mermaidjs -%}{%- endblock -%}
{%- block html_head_css -%}
<style>
@page { size: A4; }
@media print {
  .jp-OutputArea-output { overflow: visible; }
  .jp-RenderedHTMLCommon table { font-size: 10px; }
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 1px 3px; white-space: normal; }
  .jp-RenderedHTMLCommon thead th { overflow-wrap: anywhere; }
  img, tr { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
}
</style>
{%- endblock -%}
"""


def _export_html(executed: Path, target: Path, title: str) -> None:
    exporter = HTMLExporter(template_name="lab", template_file="report.html.j2",
                            extra_loaders=[DictLoader({"report.html.j2": _OFFLINE_TEMPLATE})], embed_images=True,
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:  # warnings stay in the executed notebook, for the analyst, not on the page
        cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    target.write_text(body, encoding="utf-8")


def _index_html(cfg: PortfolioConfig, manifest: dict, key_figures: dict[str, dict]) -> str:
    """The run's first page, in the report's language: every notebook page with its status and key figures,
    each written as its kind (amounts with the currency, shares in %), like the pages themselves."""
    esc, t = html.escape, texts.for_config(cfg)
    rows = []
    for nb in _reading_order(manifest["notebooks"]):
        figures = key_figures.get(nb["name"], {})
        items = "".join(f"<li>{esc(t.figure_label(f['label']))}: <b>{esc(t.write(f['value'], f['kind']))}</b></li>"
                        for f in figures.values())
        if nb["status"] == "not_run":
            status = t("common.index_not_run", reason=t(f"common.not_run.{nb['reason']}"))
        else:
            status = t("common.index_status", status=t(f"common.status.{nb['status']}"),
                       seconds=t.number(nb["seconds"], 1))
            status += f" ({nb['error']})" if nb.get("error") else ""
        title = f'<a href="{esc(nb["html"])}">{esc(nb["title"])}</a>' if nb.get("html") else esc(nb["title"])
        rows.append(f'<section><h2>{title}</h2><p class="meta">{esc(status)}</p><ul>{items}</ul></section>')
    title = esc(t("common.report_title", client=cfg.client, as_of=pd.Timestamp(manifest["as_of"])))
    tables = esc(t.template("common.index_tables")).format(
        workbook=f'<a href="{esc(manifest["workbook"] or "")}">{esc(t("common.workbook"))}</a>',
        csv=f'<a href="tables/">{esc(t("common.csv_files"))}</a>')
    return f"""<!DOCTYPE html>
<html lang="{esc(cfg.language)}"><head><meta charset="utf-8">
<title>{title}</title>
<style>@page{{size:A4}} body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
section{{border-top:1px solid #ddd;padding:.5rem 0}} .meta{{color:#777;font-size:.9em}}</style>
</head><body>
<h1>{title}</h1>
<p class="meta">{esc(t("common.index_run", run_id=manifest["run_id"]))} {tables}</p>
{''.join(rows)}
</body></html>
"""


def _title(path: Path) -> str:
    """The notebook's first Markdown heading: in a markdown cell or in a code cell's Markdown output (the
    headings notebooks display from the text catalogue, in the report's language); else its name."""
    for cell in nbformat.read(path, as_version=4).cells:
        found = [cell.source] if cell.cell_type == "markdown" else [
            o.get("data", {}).get("text/markdown", "") for o in cell.get("outputs", [])]
        for text in found:
            if text.lstrip().startswith("#"):
                return text.lstrip().splitlines()[0].lstrip("#").strip()
    return notebook_name(path).replace("_", " ").capitalize()


def check_config_rules(cfg: PortfolioConfig) -> None:
    """The config's rule lists as a run uses them, checked before anything runs: alert rules, action rules and
    strategy levers (an unknown rule, field or lever is a ``ValueError`` naming it)."""
    if cfg.alerts:
        parse_alert_rules(cfg.alerts)
    if cfg.actions:
        parse_action_rules(cfg.actions)
    if cfg.levers:
        check_levers(cfg.levers)


def depends_on(plan: NotebookPlan, names: set[str]) -> set[str]:
    """The notebooks among ``names`` (those of the run) that ``plan`` waits for: those whose tables it reads
    (:data:`~portfolio_kit.runner.needs.READS_FROM`); the summary waits for every other."""
    if plan.name == SUMMARY_NOTEBOOK:
        return names - {plan.name}
    return set(READS_FROM.get(plan.name, ())) & names


def run_order(plans: list[NotebookPlan]) -> list[NotebookPlan]:
    """The plans in the order they are started when cores free up: a notebook whose tables more of the others
    wait for (directly or not) first, else in reading order."""
    names = {p.name for p in plans}
    direct = {p.name: depends_on(p, names) for p in plans}

    def waiting_for(name: str) -> set[str]:
        out = {n for n, deps in direct.items() if name in deps}
        return out.union(*(waiting_for(n) for n in out)) if out else out

    return sorted(plans, key=lambda p: -len(waiting_for(p.name)))  # stable: reading order among equals


class KernelPool:
    """One kernel per worker thread, reused by the notebooks that thread runs: a notebook after the first finds
    pandas and the kit already imported. Between notebooks the kernel's namespace is emptied (``%reset -f``,
    figures closed); a kernel that died, or that holds more than :data:`KERNEL_MEMORY_LIMIT` bytes after the
    reset, is replaced by a fresh one. ``reuse=False`` gives every notebook a kernel of its own, as before."""

    def __init__(self, reuse: bool = True):
        self.reuse = reuse
        self._local = threading.local()
        self._all: list[AsyncKernelManager] = []
        self._lock = threading.Lock()

    def manager(self) -> AsyncKernelManager | None:
        """This thread's kernel manager (None without reuse: papermill starts and stops a kernel itself)."""
        if not self.reuse:
            return None
        km = getattr(self._local, "km", None)
        if km is None:
            km = self._local.km = LocalKernelManager(kernel_name=KERNEL_NAME)
            with self._lock:
                self._all.append(km)
        return km

    def release(self) -> None:
        """After a notebook: empty this thread's kernel for the next one, or drop it if it died or grew."""
        km = getattr(self._local, "km", None)
        if km is None:
            return
        try:
            alive = km.has_kernel and run_sync(km.is_alive)()
            if alive:
                run_sync(_reset_kernel)(km)
            if not alive or _kernel_bytes(km) > KERNEL_MEMORY_LIMIT:
                self._stop(km)
                self._local.km = None
        except Exception as exc:  # a kernel that cannot be reset is not reused
            log.warning("kernel not reused: %s", exc)
            self._stop(km)
            self._local.km = None

    def _stop(self, km: AsyncKernelManager) -> None:
        with self._lock:
            if km in self._all:
                self._all.remove(km)
        try:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            run_sync(km.cleanup_resources)()
        except Exception as exc:
            log.warning("kernel shutdown: %s", exc)

    def close(self) -> None:
        """Stop every kernel of the pool."""
        for km in list(self._all):
            self._stop(km)


#: Resident memory above which a kernel is not reused for the next notebook (it starts fresh instead).
KERNEL_MEMORY_LIMIT = 2 * 2**30
_RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


async def _reset_kernel(km: AsyncKernelManager) -> None:
    kc = km.client()
    kc.start_channels()
    try:
        reply = await kc.execute(_RESET, reply=True, timeout=120)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"reset failed: {reply['content'].get('evalue')}")
    finally:
        kc.stop_channels()


def _kernel_bytes(km: AsyncKernelManager) -> int:
    """Resident memory of the kernel's process (0 when unknown)."""
    try:
        pid = km.provisioner.process.pid
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 0


def run_scheduled(plans: list[NotebookPlan], execute: Callable[[NotebookPlan], dict], workers: int) -> dict[str, dict]:
    """Run every plan with ``execute`` (its manifest entry), up to ``workers`` at a time, each as soon as the
    notebooks it waits for (:func:`depends_on`) are done, in :func:`run_order`; the entries by notebook name."""
    names = {p.name for p in plans}
    pending, running, entries = run_order(plans), {}, {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(plans)))) as pool:
        while pending or running:
            for plan in [p for p in pending if depends_on(p, names) <= set(entries)][:workers - len(running)]:
                pending.remove(plan)
                running[pool.submit(execute, plan)] = plan
            if not running:
                raise RunError(f"notebooks waiting for each other: {[p.name for p in pending]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                entries[running.pop(future).name] = future.result()
    return entries


def _execute(plan: NotebookPlan, run: Path, kernels: KernelPool) -> dict:
    """Execute one notebook into the run folder (in this thread's kernel of ``kernels``) and export its page:
    its manifest entry, with ``error`` when it failed (the cell and the exception).

    The kernel starts in the runner's working folder (papermill's ``cwd`` changes the whole process's, which
    notebooks running side by side cannot share); every path a notebook needs is passed absolute, and its
    sockets live in the Jupyter runtime folder (:class:`LocalKernelManager`), so nothing is written beside the
    notebooks, inside the install."""
    params = dict(plan.parameters, output_dir=str(run))
    executed = run / "notebooks" / plan.path.name
    entry = _entry(plan, parameters={k: v for k, v in (plan.effective | params).items() if k != "output_dir"})
    t0 = time.perf_counter()
    km = kernels.manager()
    try:
        papermill.execute_notebook(str(plan.path), str(executed), parameters=params, kernel_name=KERNEL_NAME,
                                   progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                                   **({"km": km} if km is not None else {"kernel_manager_class": LocalKernelManager}))
        entry["status"] = "success"
    except papermill.PapermillExecutionError as exc:
        entry.update(status="failed", error=f"notebook {plan.path.name} failed in cell {exc.cell_index} (execution "
                                             f"count {exc.exec_count}): {exc.ename}: {exc.evalue}")
    except Exception as exc:  # kernel died, notebook unreadable...
        entry.update(status="failed", error=f"notebook {plan.path.name} could not run: {type(exc).__name__}: {exc}")
    finally:
        kernels.release()
    entry["seconds"] = round(time.perf_counter() - t0, 3)
    if executed.exists():
        entry["title"] = _title(executed)  # the heading as the notebook displayed it, in the run's language
        _export_html(executed, run / entry["html"], entry["title"])
    return entry


def _entry(plan: NotebookPlan, **fields) -> dict:
    """A notebook's entry in the manifest: its name, file, page and title, and ``fields``."""
    return {"name": plan.name, "notebook": f"notebooks/{plan.path.name}", "html": f"{plan.path.stem}.html",
            "title": _title(plan.path)} | fields


def _print_pdf(cfg: PortfolioConfig, manifest: dict, run: Path) -> tuple[dict | None, str | None]:
    """Print the run's index and notebook pages into one PDF: (the manifest's ``pdf`` entry, failure or None)."""
    name = f"{cfg.client}_{cfg.as_of.isoformat()}.pdf"
    t = texts.for_config(cfg)
    notebooks = [nb for nb in _reading_order(manifest["notebooks"]) if nb.get("html")]
    pages = ["index.html"] + [nb["html"] for nb in notebooks]
    t0 = time.perf_counter()
    try:
        counts = print_report_pdf([run / p for p in pages], run / name,
                                  titles=[t("common.contents")] + [nb["title"] for nb in notebooks],
                                  title=t("common.report_title", client=cfg.client,
                                          as_of=pd.Timestamp(manifest["as_of"])))
    except (OSError, RuntimeError) as exc:
        return None, f"the PDF could not be printed: {exc}"
    return {"file": name, "pages": dict(zip(pages, counts)), "seconds": round(time.perf_counter() - t0, 3)}, None


def run_suite(cfg: PortfolioConfig, *, only: list[str] | None = None, overrides: dict[str, Any] | None = None,
              reports: str | Path | None = None, notebooks_dir: Path = NOTEBOOKS_DIR, pseudonymise: bool = False,
              progress: Callable[[dict], None] | None = None, pdf: bool = False,
              language: str | None = None) -> RunResult:
    """Execute the suite (or ``only`` some notebooks) on ``cfg`` into a new run folder.

    ``language`` (``en`` or ``it``) overrides the config's report language for this run; the manifest
    records the language used.

    With ``pdf``, the index and every notebook page are then printed, in order, into ``<client>_<as_of>.pdf``
    (headless Chromium, see :func:`~portfolio_kit.report.browser.print_report_pdf`) inside the run before it is
    moved into place.

    A notebook whose needs (:mod:`portfolio_kit.runner.needs`) the client's data do not meet is not run: the
    manifest records it as ``not run`` with the reason, and the index and the summary show it. A notebook that
    fails does not stop the others: every page that succeeded is kept.

    Raises :class:`ParameterError` or :class:`~portfolio_kit.data.exports.DataValidationError` before anything runs
    for bad parameters or bad data, :class:`~portfolio_kit.report.browser.ChromiumNotFound` likewise when ``pdf``
    is asked without Chromium, and :class:`RunFailed` (after keeping ``<run_id>.failed/`` with every page that
    succeeded) when a notebook or the PDF fails.
    """
    emit = progress or (lambda event: None)
    if language:
        if language not in LANGUAGES:
            raise ParameterError(f"language: expected one of {list(LANGUAGES)}, got {language!r}")
        cfg = cfg.model_copy(update={"language": language})
    chromium = find_chromium() if pdf else None
    notebooks = discover_notebooks(notebooks_dir, only)
    root = reports_root(cfg, reports)
    _check_writable(root)
    prev = previous_run(root, cfg.client, cfg.as_of)
    runner_values = {"config_path": str(Path(cfg.source).resolve()), "as_of": cfg.as_of.isoformat(),
                     "pseudonymise": pseudonymise,
                     "previous_run": str(prev) if prev else "", "language": cfg.language}
    plans = plan_run(cfg, notebooks, overrides, runner_values)
    check_config_rules(cfg)
    portfolio, report = checked_portfolio(cfg, pseudonymise)
    if not report.ok:
        raise DataValidationError(report)
    not_run = {plan.name: reason for plan in plans
               if (reason := unmet_need(plan.name, portfolio, runner_values["previous_run"])) is not None}
    start = dt.datetime.now(dt.timezone.utc)
    hashes = {str(p.relative_to(cfg.source.parent) if p.is_relative_to(cfg.source.parent) else p): file_sha256(p)
              for p in input_files(cfg)}
    run_id = _run_id(start, plans, hashes)
    parent = root / cfg.client / cfg.as_of.isoformat()
    parent.mkdir(parents=True, exist_ok=True)
    final, partial = parent / run_id, parent / f".{run_id}.partial"
    if final.exists() or partial.exists():
        raise RunError(f"{final} exists already; runs are never overwritten")
    partial.mkdir()
    (partial / "notebooks").mkdir()
    (partial / RUNNER_PID).write_text(str(os.getpid()), encoding="utf-8")  # tells a live run from an interrupted one
    manifest: dict[str, Any] = {
        "client": cfg.client, "as_of": cfg.as_of.isoformat(), "run_id": run_id, "status": "running",
        "started": start.isoformat(), "config": str(cfg.source), "inputs": hashes, "versions": _versions(),
        "git": _git_commit(), "previous_run": runner_values["previous_run"], "pseudonymised": pseudonymise,
        "language": cfg.language, "kernel": KERNEL_NAME, "notebooks": [], "workbook": None, "pdf": None,
    }
    if chromium:
        manifest["versions"]["chromium"] = chromium_version(chromium)
    (partial / NOT_RUN_FILE).write_text(json.dumps(not_run, indent=2), encoding="utf-8")
    entries: dict[str, dict] = {}
    for i, plan in enumerate(plans, 1):
        if plan.name in not_run:
            entries[plan.name] = _entry(plan, html=None, status="not_run", reason=not_run[plan.name], seconds=0.0)
            emit({"event": "skip", "notebook": plan.name, "index": i, "total": len(plans),
                  "reason": not_run[plan.name]})
    position = {plan.name: i for i, plan in enumerate(plans, 1)}

    kernels = KernelPool(reuse=REUSE_KERNELS)
    # the kernels read the portfolio checked above instead of reading and checking the exports again
    handed = Path(tempfile.mkdtemp(prefix="portfolio-kit-")) / "portfolio.pickle"
    hand_over(portfolio, portfolio_key(cfg, pseudonymise), handed)
    del portfolio, report  # the kernels have it now: the runner does not hold a large client for the whole run
    os.environ[HANDED_OVER] = str(handed)

    def execute(plan: NotebookPlan) -> dict:
        emit({"event": "start", "notebook": plan.name, "index": position[plan.name], "total": len(plans)})
        entry = _execute(plan, partial, kernels)
        emit({"event": "end", "notebook": plan.name, "index": position[plan.name], "total": len(plans),
              "status": entry["status"], "seconds": entry["seconds"]})
        return entry

    # notebooks run side by side, one per core, each once the notebooks whose tables it reads are done
    try:
        entries |= run_scheduled([plan for plan in plans if plan.name not in not_run], execute, PARALLEL_NOTEBOOKS)
    finally:
        kernels.close()
        os.environ.pop(HANDED_OVER, None)
        shutil.rmtree(handed.parent, ignore_errors=True)
    manifest["notebooks"] = [entries[plan.name] for plan in plans]
    failures = [entry["error"] for entry in manifest["notebooks"] if entry.get("error")]
    workbook = write_workbook(partial / "tables", partial / "tables" / f"{cfg.client}_{cfg.as_of.isoformat()}.xlsx",
                              texts=texts(cfg.language, cfg.currency))
    manifest["workbook"] = str(workbook.relative_to(partial)) if workbook else None
    (partial / "index.html").write_text(_index_html(cfg, manifest, read_key_figures(partial)), encoding="utf-8")
    failure = "; ".join(failures) or None
    if pdf and not failure:
        manifest["pdf"], failure = _print_pdf(cfg, manifest, partial)
    end = dt.datetime.now(dt.timezone.utc)
    manifest.update(status="failed" if failure else "success", finished=end.isoformat(),
                    seconds=round((end - start).total_seconds(), 3), error=failure)
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    target = parent / f"{run_id}.failed" if failure else final
    (partial / RUNNER_PID).unlink()
    os.rename(partial, target)
    if failure:
        raise RunFailed(f"{failure}; the partial run is kept in {target}", target)
    return RunResult(target, manifest)

