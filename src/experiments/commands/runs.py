"""``experiments runs [--study S] [--sweep ID] [--reports-dir DIR] [--json PATH|-]``: the runs on record.

Reads the run registry of the reports folder (synced with its run folders first). The JSON is a list of
``{study, run_id, started, parameters, headline, html, sweep_id}``, newest first, where ``headline`` is
the run's verdict ``{headline, tone, details, figures}`` and ``html`` the path of its report.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from experiments.commands import COMMANDS
from experiments.outputs import OUTPUT_RULE, atomic_write_text, check_folder, check_output
from experiments.paths import REPORTS_DIR
from experiments.runs.run_registry import RunRegistry, public_run
from experiments.studies import registry
from experiments.studies.base import first_sentence

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``runs`` sub-command."""
    p = sub.add_parser(
        "runs",
        help=COMMANDS["runs"],
        description="List the runs recorded in REPORTS_DIR's run registry, newest first: when, the study, "
        "the verdict's first sentence, the parameters changed from the defaults and the report's path. "
        "The JSON is a list of {study, run_id, started, parameters, headline, html, sweep_id}. "
        + OUTPUT_RULE,
    )
    p.add_argument("--study", help="only the runs of this study")
    p.add_argument("--sweep", metavar="SWEEP_ID", help="only the runs of this sweep")
    p.add_argument("--reports-dir", type=Path, default=None, help="root folder of reports (default reports/)")
    p.add_argument("--json", metavar="PATH|-", help="write the list as JSON ('-' = standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    target = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    root = check_folder(args.reports_dir if args.reports_dir is not None else REPORTS_DIR,
                        option="--reports-dir")
    if args.study is not None and args.study not in registry.names():
        registry.get(args.study)  # the one-line error naming the studies
    runs = []
    if root.is_dir():
        reg = RunRegistry(root)
        reg.sync()
        runs = reg.runs(study=args.study, sweep_id=args.sweep)
    if args.json is not None:
        text = json.dumps([public_run(m, root) for m in runs], indent=2, default=str) + "\n"
        if target is None:
            print(text, end="")
        else:
            atomic_write_text(target, text)
        return 0
    if not runs:
        print(f"no runs in {root}" + (f" for study {args.study}" if args.study else ""))
        return 0

    for m in runs:
        changed = m.get("changed") or {}
        params = ", ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"
        head = (m.get("headline") or {}).get("headline") or "(no verdict recorded)"
        sweep = f"  [sweep {m['sweep_id']}]" if m.get("sweep_id") else ""
        print(f"{str(m.get('started', '')).replace('T', ' ')}  {m['study']}  {params}{sweep}")
        print(f"    {first_sentence(head)}")
        print(f"    {root / m['html']}")
    return 0
