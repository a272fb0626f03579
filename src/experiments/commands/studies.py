"""``experiments studies [--json PATH|-]``: every study, its question and its parameters."""

from __future__ import annotations

import argparse
import json

from experiments.commands import COMMANDS
from experiments.outputs import OUTPUT_RULE, atomic_write_text, check_output
from experiments.studies import registry
from experiments.studies.base import SweepFigure

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``studies`` sub-command."""
    p = sub.add_parser(
        "studies",
        help=COMMANDS["studies"],
        description="List every study with its question, notebook and parameters (name, default, what is "
        "allowed, help). The JSON is a list of {name, question, notebook, parameters: [{name, default, "
        "allowed, help}], sweep_figure: {name, group, label}} (the figure a sweep ranks its points by); "
        "notebook paths are relative to the project root. " + OUTPUT_RULE,
    )
    p.add_argument("--json", metavar="PATH|-", help="write the list as JSON ('-' = standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    target = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    studies = [s.to_dict() for s in registry.all_studies()]
    if args.json is not None:
        text = json.dumps(studies, indent=2) + "\n"
        if target is None:
            print(text, end="")
        else:
            atomic_write_text(target, text)
        return 0
    for s in studies:
        print(f"{s['name']}  ({s['notebook']})")
        print(f"  {s['question']}")
        if s.get("sweep_figure"):
            print(f"  sweeps rank by {SweepFigure(**s['sweep_figure']).words()}")
        for p in s["parameters"]:
            print(f"    {p['name']} = {p['default']!r}: {p['help']} [{p['allowed']}]")
        print()
    return 0
