"""``experiments sweep STUDY -g NAME=V1,V2,... [-g ...] [-p NAME VALUE]... [--workers N | --scheduler ADDR]``.

Runs the grid of a study's parameters on Dask's ``distributed`` (a local cluster, or an existing
scheduler), each point a normal run in the registry, then writes the sweep report
``REPORTS_DIR/STUDY/sweeps/SWEEP_ID/sweep.html`` (and ``sweep.json``) and rewrites the index.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from experiments.commands import COMMANDS
from experiments.commands.run import coerce_cli_value, parameter_kinds, parse_overrides
from experiments.errors import ExperimentsError
from experiments.outputs import check_folder
from experiments.paths import REPORTS_DIR
from experiments.runs.progress import wanted
from experiments.runs.sweeps import build_grid, check_scheduler, parse_axis, run_sweep, worker_bound

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command."""
    p = sub.add_parser(
        "sweep",
        help=COMMANDS["sweep"],
        description="Run STUDY at every point of the grid (the cartesian product of the -g lists, with the "
        "-p values fixed) on a Dask cluster, each point a normal run recorded in the run registry; then "
        "write the sweep report (headline figures against each swept parameter, with intervals and truth; "
        "the best point by the study's sweep figure; the grid with links to each run). Every point is "
        "validated before anything runs. The first line printed names the figure the points are ranked by "
        "(one a user can deploy, e.g. targeting: the uplift policy's profit, never the oracle's) and the "
        "best point; the last line is the path of the sweep report.",
    )
    p.add_argument("study", help="study name (see: experiments studies)")
    p.add_argument("-g", "--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="a swept parameter and its values (repeatable; separate values with ; when they "
                   "contain commas, e.g. -g 'channels=display,email;display')")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a fixed parameter value for every point (repeatable)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local Dask cluster: at most one per core and as many as fit "
                   "in memory with their largest point (default: that bound; a larger N is refused)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of an existing Dask scheduler (tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786) "
                   "instead of a local cluster; its workers must see --reports-dir at the same path. Checked "
                   "before any work: a refused connection, no answer within 5 s or no Dask scheduler there "
                   "is one line")
    p.add_argument("--reports-dir", type=Path, default=None, help="root folder of reports (default reports/)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: on a terminal, not in CI)")
    p.add_argument("--fresh-kernels", action="store_true",
                   help="a fresh kernel for every point (started while the previous point runs) instead of "
                   "one kernel per worker, reset between points")
    p.add_argument("--verbose", action="store_true", help="let the kernels' and workers' messages through")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.workers is not None and args.scheduler is not None:
        raise ExperimentsError("give --workers (local cluster) or --scheduler (existing cluster), not both")
    if args.workers is not None and args.workers < 1:
        raise ExperimentsError(f"--workers: got {args.workers}; allowed: an integer >= 1")
    if args.scheduler is not None:  # before any work: a wrong address fails in seconds, in one line
        check_scheduler(args.scheduler)
    check_folder(args.reports_dir if args.reports_dir is not None else REPORTS_DIR, option="--reports-dir")
    kinds = parameter_kinds(args.study)
    fixed = parse_overrides(args.parameter, kinds)
    axes = [parse_axis(text, functools.partial(coerce_cli_value,
                                               kind=kinds.get(text.partition("=")[0].strip())))
            for text in args.grid]
    grid = build_grid(args.study, axes, fixed)
    if args.workers is not None:
        most, why = worker_bound(grid)
        if args.workers > most:
            raise ExperimentsError(f"--workers: got {args.workers}; allowed: at most {most} on this machine "
                                   f"({why})")
    progress = wanted() if args.progress is None else args.progress
    result = run_sweep(grid, reports_dir=args.reports_dir, workers=args.workers, scheduler=args.scheduler,
                       kernel=args.kernel, verbose=args.verbose, progress=progress,
                       reuse_kernels=not args.fresh_kernels)
    # the first line names the figure the points are ranked by, and the best point
    if result.best is not None:
        print(result.best["sentence"], file=sys.stderr)
    else:
        print(f"No point of the sweep has {result.ranked_by}.", file=sys.stderr)
    for p in result.failed:
        words = ", ".join(f"{k}={v}" for k, v in p["point"].items())
        print(f"experiments sweep: point {words} failed: {p['error']}", file=sys.stderr)
    print(str(result.html))
    return 1 if result.failed else 0
