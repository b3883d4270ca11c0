"""``portfolio-kit``: the command line that consultants, analysts and schedulers call.

Exit codes: 0 success, 1 a notebook failed (the run is kept as ``<run_id>.failed/``), 2 bad input (config,
data, parameters, arguments): a one-paragraph message on stderr, never a bare traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from portfolio_kit import __version__
from portfolio_kit.data.config import ConfigError, load_config
from portfolio_kit.data import DataValidationError, check_portfolio
from portfolio_kit.runner.suite import (DEFAULT_REPORTS, NOTEBOOKS_DIR, RunError, RunFailed, check_config_rules,
                                        discover_notebooks, list_runs, notebook_parameters, plan_run, reports_root,
                                        run_suite)
from portfolio_kit.report.texts import LANGUAGES, texts

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RunError(f"-p {pair!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


class _Progress:
    """Per-notebook progress on stderr (plain or JSON lines), silent when quiet."""

    def __init__(self, mode: str):
        self.mode = mode

    def __call__(self, event: dict) -> None:
        if self.mode == "json":
            print(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **event}), file=sys.stderr, flush=True)
        elif self.mode == "plain" and event["event"] == "end":  # notebooks run side by side: one line at the end
            print(f"[{event['index']}/{event['total']}] {event['notebook']} ... {event['status']} "
                  f"({event['seconds']:.1f} s)", file=sys.stderr, flush=True)
        elif self.mode == "plain" and event["event"] == "skip":
            reason = texts("en")(f"common.not_run.{event['reason']}")
            print(f"[{event['index']}/{event['total']}] {event['notebook']} ... not run: {reason}", file=sys.stderr,
                  flush=True)


def cmd_run(args) -> int:
    cfg = load_config(args.config, as_of=args.as_of)
    mode = "json" if args.log_json else ("quiet" if args.quiet else "plain")
    result = run_suite(cfg, only=args.only, overrides=_overrides(args.param), reports=args.reports,
                       pseudonymise=args.pseudonymise, progress=_Progress(mode), pdf=args.pdf,
                       language=args.language)
    if mode == "json":
        print(json.dumps({"event": "done", "run": str(result.run_dir), "index": str(result.index)}), file=sys.stderr)
    print(result.index)
    return EXIT_OK


def cmd_validate(args) -> int:
    cfg = load_config(args.config, as_of=args.as_of)
    check_config_rules(cfg)  # as run does: an unknown rule, field or lever is an error naming it
    plan_run(cfg, discover_notebooks(NOTEBOOKS_DIR), None, {  # the config's notebook parameters, as run checks them
        "config_path": str(cfg.source), "as_of": cfg.as_of.isoformat(), "pseudonymise": False, "previous_run": "",
        "language": cfg.language})
    _, report = check_portfolio(cfg, rows=False)
    with pd.option_context("display.width", 140, "display.max_columns", 20, "display.max_colwidth", 200):
        print(f"Client {cfg.client}, as of {cfg.as_of}\n")
        print(report.summary_table().to_string(index=False))
        print()
        for p in report.problems:
            print(f"{p.severity.upper():8s}{p}")
    print(f"\n{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return EXIT_OK if report.ok else EXIT_BAD_INPUT


def cmd_sample(args) -> int:
    from portfolio_kit.data.sample import make_sample

    for path in make_sample(args.out, n_customers=args.customers, seed=args.seed, as_of=args.as_of,
                            fmt=args.format, years=args.years, lines_per_invoice=args.lines_per_invoice):
        print(path)
    return EXIT_OK


def cmd_runs(args) -> int:
    root = reports_root(load_config(args.config), args.reports) if args.config else Path(args.reports or DEFAULT_REPORTS)
    if args.remove_interrupted:
        for run in (r for r in list_runs(root, args.client) if r["status"] == "interrupted"):
            shutil.rmtree(run["path"])
            print(f"removed the interrupted run {run['path']}")
    rows = [{"as_of": r["as_of"], "run_id": r["run_id"], "status": r["status"], "client": r["client"],
             **{f"{nb}.{k}": f["value"] for nb, figs in r["key_figures"].items() for k, f in list(figs.items())[:2]}}
            for r in list_runs(root, args.client)]
    if not rows:
        print(f"no runs under {root}")
        return EXIT_OK
    with pd.option_context("display.width", 200, "display.max_columns", 12):
        print(pd.DataFrame(rows).to_string(index=False))
    return EXIT_OK


def cmd_show(args) -> int:
    run = Path(args.run)
    manifest_path = run / "manifest.json"
    if not manifest_path.is_file():
        raise RunError(f"{run}: not a run folder (no manifest.json)")
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    print(f"run {m['run_id']}  client {m['client']}  as of {m['as_of']}  status {m['status']}  "
          f"{m.get('seconds', 0):.1f} s")
    if m.get("error"):
        print(f"error: {m['error']}")
    if m.get("git"):
        print(f"code: {m['git']['commit'][:12]}{' (uncommitted changes)' if m['git']['dirty'] else ''}")
    for nb in m["notebooks"]:
        extra = {k: v for k, v in nb["parameters"].items() if k not in ("config_path", "as_of")}
        print(f"  {nb['name']:20s} {nb['status']:8s} {nb['seconds']:7.1f} s  {extra if extra else ''}")
    print(f"inputs: {len(m['inputs'])} file(s); index: {run / 'index.html'}")
    return EXIT_OK


def cmd_params(args) -> int:
    (path,) = discover_notebooks(NOTEBOOKS_DIR, [args.notebook])
    print(f"{path.name}")
    for p in notebook_parameters(path).values():
        print(f"  {p.name:18s} {p.type:10s} default {p.default:28s} {p.help}")
    return EXIT_OK


def cmd_init(args) -> int:
    from portfolio_kit.data.draft import write_draft

    draft = write_draft(args.folder, out=args.out, client=args.client, as_of=args.as_of)
    print(f"wrote {draft.path}")
    found = ", ".join(f"{table} ({path})" for table, path in draft.tables.items())
    print(f"tables found: {found or 'none'}")
    unmapped = "; ".join(f"{table}: {', '.join(cols)}" for table, cols in draft.unmapped.items())
    print(f"columns unmapped (kept as they are): {unmapped or 'none'}")
    print(f"checks to do (lines marked CHECK): {len(draft.checks)}")
    for check in draft.checks:
        print(f"  - {check}")
    if draft.missing:
        print(f"missing (lines marked MISSING): {', '.join(draft.missing)}")
    for line in draft.unplaced:
        print(f"not placed: {line}")
    print(f"next: edit the draft, then run `portfolio-kit validate {draft.path}`")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portfolio-kit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"portfolio-kit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the notebook suite into a new versioned report")
    run.add_argument("config", help="the client's portfolio.yaml")
    run.add_argument("--as-of", help="analysis date YYYY-MM-DD (default: the config's)")
    run.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (e.g. clv)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a notebook parameter (repeatable)")
    run.add_argument("--reports", help="root folder of the reports (default: the config's, else reports/)")
    run.add_argument("--pseudonymise", action="store_true", help="replace customer names by stable pseudonyms")
    run.add_argument("--language", choices=list(LANGUAGES),
                     help="report language of headings, tables and messages (default: the config's language)")
    run.add_argument("--pdf", action="store_true",
                     help="also print the whole report into <client>_<as_of>.pdf (needs Debian's chromium)")
    run.add_argument("--quiet", action="store_true", help="print only the path of the new index.html")
    run.add_argument("--log-json", action="store_true", help="progress as JSON lines on stderr (for schedulers)")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init", help="draft a commented portfolio.yaml from the exports in a folder")
    init.add_argument("folder", help="the client's folder of exports (CSV or other delimited text, Excel, Parquet)")
    init.add_argument("--out", help="where to write the draft (default FOLDER/portfolio.yaml; never overwritten)")
    init.add_argument("--client", help="client name (default: the folder's name)")
    init.add_argument("--as-of", help="analysis date YYYY-MM-DD (default: the latest date in the data)")
    init.set_defaults(func=cmd_init)

    val = sub.add_parser("validate", help="check a client's data and print a data-quality summary")
    val.add_argument("config")
    val.add_argument("--as-of")
    val.set_defaults(func=cmd_validate)

    sample = sub.add_parser("sample", help="generate a synthetic client")
    sample.add_argument("--out", default="data/sample", help="output folder (default data/sample)")
    sample.add_argument("--customers", type=int, default=2000)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--as-of", default="2026-10-31")
    sample.add_argument("--format", choices=["csv", "parquet"], default="csv")
    sample.add_argument("--years", type=float, default=3.0, help="years of history (default 3)")
    sample.add_argument("--lines-per-invoice", type=float, default=1.0,
                        help="mean transaction lines per invoice, >= 1 (default 1; about 3.3 gives a retail-like "
                             "client with 20 lines per customer)")
    sample.set_defaults(func=cmd_sample)

    runs = sub.add_parser("runs", help="list the runs with status, as-of date and key figures")
    runs.add_argument("--config", help="a portfolio.yaml whose reports folder to list")
    runs.add_argument("--reports", help="root folder of the reports")
    runs.add_argument("--client")
    runs.add_argument("--remove-interrupted", action="store_true",
                      help="delete the folders of runs that were interrupted (killed); finished runs are never touched")
    runs.set_defaults(func=cmd_runs)

    show = sub.add_parser("show", help="print the manifest summary of a run")
    show.add_argument("run", help="the run folder")
    show.set_defaults(func=cmd_show)

    params = sub.add_parser("params", help="the parameters a notebook takes")
    params.add_argument("notebook", help="e.g. clv or 03_clv")
    params.set_defaults(func=cmd_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("traitlets").setLevel(logging.ERROR)  # nbconvert's notes on image alt text
    try:
        return args.func(args)
    except RunFailed as exc:
        print(f"portfolio-kit {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (ConfigError, DataValidationError, RunError, FileNotFoundError, ValueError) as exc:
        print(f"portfolio-kit {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
