"""``experiments run STUDY [-p NAME VALUE]... [--reports-dir DIR]`` and ``experiments run --all``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.errors import ExperimentsError
from experiments.paths import REPORTS_DIR

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    p = sub.add_parser(
        "run",
        help="execute a study notebook and render its HTML report",
        description="Execute notebooks/STUDY.ipynb with papermill and write the executed notebook, an "
        "HTML report (code hidden) and the run's metadata to REPORTS_DIR/STUDY/RUN_ID/. "
        "The last line printed is the path of the HTML report.",
    )
    p.add_argument("study", nargs="?", help="study name (a notebook in notebooks/)")
    p.add_argument("--all", action="store_true", help="run every study at its defaults (the main job)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a notebook parameter (repeatable)")
    p.add_argument("--reports-dir", type=Path, default=None, help="root folder of reports (default reports/)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--progress", action="store_true", help="show papermill's progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from experiments.report.runner import run_study
    from experiments.report.studies import available_studies, coerce_cli_value

    if args.all == bool(args.study):
        raise ExperimentsError("give either a study name or --all (studies: "
                               + ", ".join(available_studies()) + ")")
    overrides = {}
    for name, value in args.parameter:
        if name in overrides:
            raise ExperimentsError(f"parameter {name!r} given twice")
        overrides[name] = coerce_cli_value(value)
    if args.all:
        if overrides:
            raise ExperimentsError("--all runs every study at its defaults; -p is not allowed with it")
        failures = 0
        html = []
        for study in available_studies():
            try:
                result = run_study(study, reports_dir=args.reports_dir, kernel=args.kernel,
                                   progress=args.progress)
            except ExperimentsError as exc:
                failures += 1
                print(f"experiments run: {study} failed: {exc}", file=sys.stderr)
                continue
            print(f"{study}: {result.headline or 'done'}", file=sys.stderr)
            html.append(result.html)
        for path in html:
            print(path)
        root = args.reports_dir if args.reports_dir is not None else REPORTS_DIR
        print(root / "index.html")
        if failures:
            noun = "study" if failures == 1 else "studies"
            print(f"experiments run: {failures} {noun} failed", file=sys.stderr)
            return 1
        return 0
    result = run_study(args.study, overrides, reports_dir=args.reports_dir, kernel=args.kernel,
                       progress=args.progress)
    if result.headline:
        print(result.headline, file=sys.stderr)
    print(result.html)
    return 0
