"""``experiments run STUDY [-p NAME VALUE]... [--reports-dir DIR]`` and ``experiments run --all``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.commands import COMMANDS
from experiments.errors import ExperimentsError
from experiments.outputs import check_folder
from experiments.paths import NOTEBOOKS_DIR, REPORTS_DIR
from experiments.runs.kernels import WarmKernels, check_kernel
from experiments.runs.progress import wanted
from experiments.runs.study_run import run_study, study_modules
from experiments.studies import registry
from experiments.studies.base import first_sentence

__all__ = ["coerce_cli_value", "parameter_kinds", "parse_overrides", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    p = sub.add_parser(
        "run",
        help=COMMANDS["run"],
        description="Execute a study's notebook with papermill and write the executed notebook, an "
        "HTML report (code hidden) and the run's metadata to REPORTS_DIR/STUDY/RUN_ID/. "
        "The last line printed is the path of the HTML report (with --all: of the index).",
    )
    p.add_argument("study", nargs="?", help="study name (see: experiments studies)")
    p.add_argument("--all", action="store_true", help="run every study at its defaults (the main job)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override a parameter (repeatable); the value is read as papermill reads it")
    p.add_argument("--reports-dir", type=Path, default=None, help="root folder of reports (default reports/)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar of the notebook's cells (default: on a terminal, not in CI)")
    p.add_argument("--verbose", action="store_true", help="let the kernel's own messages through to stderr")
    p.set_defaults(func=_run)


def coerce_cli_value(text: str, kind: str | None = None) -> Any:
    """Read a ``-p NAME VALUE`` value: an int or a float when it reads as one, true/false, else the text.

    ``kind`` is the parameter's declared type (``int``, ``float``, ``str``, ``bool``): a text parameter
    (``str``) keeps the text as typed, so ``-p asos_experiment 012345`` stays ``"012345"`` and ``-p
    policy_share 0.35`` is the text ``"0.35"`` its rule reads. The words ``none`` and ``null`` stay text
    (``-p incentive none`` means the incentive called none).
    """
    if kind == "str":
        return text
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


def parse_overrides(pairs: list[list[str]] | list[tuple[str, str]],
                    kinds: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs as a dict, each value read by its parameter's declared type in ``kinds``
    (``{name: "int" | "float" | "str" | "bool"}``, see :func:`parameter_kinds`); a name given twice is an
    error."""
    overrides: dict[str, Any] = {}
    for name, value in pairs:
        if name in overrides:
            raise ExperimentsError(f"parameter {name!r} given twice")
        overrides[name] = coerce_cli_value(value, (kinds or {}).get(name))
    return overrides


def parameter_kinds(study: str | None) -> dict[str, str]:
    """``{name: type}`` of a study's parameters, the types of their declared defaults (read from the
    scenario's declaration, without importing the study); empty for an unknown study (refused later, in
    one line)."""
    if study not in registry.STUDY_MODULES:
        return {}
    return {name: type(value).__name__ for name, value in registry.defaults(study).items()}


def _say(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    print(text, file=stream, flush=True)


def _run(args: argparse.Namespace) -> int:
    if args.all == bool(args.study):
        raise ExperimentsError("give either a study name or --all (studies: "
                               + ", ".join(registry.names()) + ")")
    overrides = parse_overrides(args.parameter, parameter_kinds(args.study))
    if args.all:
        if overrides:
            raise ExperimentsError("--all runs every study at its defaults; -p is not allowed with it")
        return _run_all(args)

    progress = wanted() if args.progress is None else args.progress
    result = run_study(args.study, overrides, reports_dir=args.reports_dir, kernel=args.kernel,
                       progress=progress, verbose=args.verbose)
    if result.headline:
        _say(result.headline, err=True)
    _say(str(result.html))
    return 0


def _run_all(args: argparse.Namespace) -> int:
    root = check_folder(args.reports_dir if args.reports_dir is not None else REPORTS_DIR,
                        option="--reports-dir")
    check_kernel(args.kernel)
    progress = wanted() if args.progress is None else args.progress
    failed = []
    names = registry.names()
    # one kernel for every study, started (with the first study's imports) while this process imports its
    # own, and reset between notebooks
    kernels = WarmKernels(args.kernel, verbose=args.verbose, preload=(study_modules(s) for s in names),
                          cwd=NOTEBOOKS_DIR)
    with kernels:
        for i, study in enumerate(names, 1):
            _say(f"[{i}/{len(names)}] {study}: running")
            start = time.time()
            try:
                result = run_study(study, reports_dir=root, kernel=args.kernel, progress=progress,
                                   verbose=args.verbose, kernels=kernels)
            except ExperimentsError as exc:
                failed.append(study)
                _say(f"[{i}/{len(names)}] {study}: FAILED after {time.time() - start:.1f} s: {exc}", err=True)
                continue
            headline = first_sentence(result.headline) if result.headline else "done"
            _say(f"[{i}/{len(names)}] {study}: done in {result.seconds:.1f} s: {headline}")
    if failed:
        _say(f"experiments run: {len(failed)} of {len(names)} studies failed: {', '.join(failed)}", err=True)
    _say(str(root / "index.html"))
    return 1 if failed else 0
