"""``experiments simulate``: write a simulated experiment table (with its truth) to parquet.

The table is streamed: blocks of customers are made in parallel (``--workers``, all cores by default)
and written in order, row group by row group, into one parquet file, so memory stays flat however many
customers are simulated, and the file is byte-identical whatever the worker count and block size
(:mod:`experiments.simulate.streaming`). A study with several tables writes the others beside ``--out``
as ``<stem>.<table>.parquet``. Files appear whole or not at all.

Example::

    experiments simulate remarketing -p audience all -p frequency_cap 6 \\
        --n-customers 1000000 --seed 7 --out data/remarketing.parquet
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

import polars as pl

from experiments.commands import COMMANDS
from experiments.errors import DataError, ParameterError
from experiments.outputs import OUTPUT_RULE, atomic_path, check_output
from experiments.resources import memory_budget
from experiments.simulate.blocks import BlockPlan, capture_plan, default_workers
from experiments.simulate.streaming import table_names, write_parquet_stream
from experiments.studies import registry
from experiments.validation import as_int

__all__ = ["BLOCK_SIZE", "handler", "max_block_size", "register", "run_simulate", "simulated_studies",
           "table_paths"]

#: Customers per unit of work of the command (16 chunks): small enough that the few blocks in flight
#: stay well under a gigabyte, big enough that handing blocks over costs little.
BLOCK_SIZE: int = 262_144


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def simulated_studies() -> list[str]:
    """The studies of the registry that have a simulator (imports every study module)."""
    return [s.name for s in registry.all_studies() if s.simulated]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` parser."""
    cores = _cores()
    p = subparsers.add_parser(
        "simulate",
        help=COMMANDS["simulate"],
        description="Simulate a study's data (remarketing, loyalty: one row per customer with the outcome "
        "under every arm; omnichannel: the observed touch log with its truth; lifecycle: one row per "
        "customer with every lever's value on and off) and stream it into a parquet "
        "file, row group by row group, as blocks of customers are made in parallel: memory does not grow "
        "with the number of customers, and the file is byte-identical whatever --workers and "
        "--block-size. Other tables of the study (loyalty, lifecycle: purchases) go beside it as "
        "<stem>.<table>.parquet; the path is printed last. --n-customers may go past what a study run in "
        "memory allows (the parameter's own bound holds); --block-size is bounded by this machine's "
        "memory. " + OUTPUT_RULE,
    )
    p.add_argument("study", help="a study with a simulator (see: experiments studies)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a scenario parameter (repeatable)")
    p.add_argument("--n-customers", help="number of customers (overrides -p n_customers)")
    p.add_argument("--seed", help="random seed (overrides -p seed)")
    p.add_argument("--out", required=True, help="output .parquet file (one file, written in row "
                   "groups); its folder must exist")
    p.add_argument("--block-size", default=str(BLOCK_SIZE),
                   help=f"customers per unit of work (default {BLOCK_SIZE:,}); each worker holds one "
                   "block, so memory grows with it; does not change the output")
    p.add_argument("--workers", default=None,
                   help=f"threads making blocks (default: the cores this process may use, {cores} "
                   "here); does not change the output")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=handler)


def max_block_size(scenario: Any, workers: int) -> int | None:
    """The largest ``--block-size`` whose blocks in flight (two per worker) fit this machine's memory
    budget, at the scenario's bytes per customer of an in-memory run (more than a block needs); None
    when either is unknown."""
    budget = memory_budget()
    memory = getattr(scenario, "memory", None)
    if budget is None or memory is None:
        return None
    return max(1, budget // (memory[1] * 2 * workers))


def table_paths(out: Path, names: list[str]) -> dict[str, Path]:
    """Where each table goes: the main (first) table to ``out``, any other table NAME to
    ``<out stem>.NAME<out suffix>`` beside it (``.parquet`` when ``out`` has no suffix)."""
    paths = {names[0]: out}
    for name in names[1:]:
        paths[name] = out.with_name(f"{out.stem}.{name}{out.suffix or '.parquet'}")
    return paths


def run_simulate(
    study: str,
    params: dict[str, object],
    out: str | Path,
    *,
    block_size: int = BLOCK_SIZE,
    workers: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Validate ``params``, simulate ``study`` and stream its tables to ``out`` (and beside it).

    Parameters
    ----------
    study, params
        A registered study and its scenario parameters (``n_customers``, ``seed``, ...).
    out
        The main table's parquet file; other tables go to ``<stem>.<table>.parquet`` beside it.
    block_size, workers
        Customers per unit of work and threads (default: every core this process may use); neither
        changes a byte of the output.
    overwrite
        Whether existing files may be replaced.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ParameterError
        A parameter is invalid (nothing is written).
    OutputError
        An output folder does not exist or is not writable, or a file exists and ``overwrite`` is
        false (checked before any simulation).
    """
    spec = registry.get(study)
    if not spec.simulated:
        raise ParameterError("study", study, "a study with a simulator: " + ", ".join(simulated_studies()))
    workers = default_workers() if workers is None else as_int("workers", workers, low=1, high=256)
    block_size = as_int("block_size", block_size, low=1, high=max_block_size(spec.scenario, workers))
    target = check_output(out, option="--out", overwrite=overwrite)
    assert target is not None
    scenario = spec.scenario.from_params(params)
    plan = capture_plan(spec.simulate, scenario, block_size=block_size, workers=workers)
    if not isinstance(plan, BlockPlan):  # a simulator outside the block mechanism: written from memory
        _write_tables(_tables(plan, target), overwrite=overwrite)
        return target

    paths = table_paths(target, table_names(plan))
    for path in list(paths.values())[1:]:
        check_output(path, option="--out", overwrite=overwrite)
    write_parquet_stream(plan, paths, block_size=block_size, workers=workers)
    return target


def _write_tables(tables: list[tuple[Any, Path]], *, overwrite: bool) -> None:
    for _, path in tables[1:]:
        check_output(path, option="--out", overwrite=overwrite)
    with contextlib.ExitStack() as stack:
        for frame, path in tables:
            frame.write_parquet(stack.enter_context(atomic_path(path)))


def _tables(result: Any, out: Path) -> list[tuple[Any, Path]]:
    """The frames a simulator returned and their files: a lone frame goes to ``out``; a result object
    writes ``customers`` to ``out`` and any other frame attribute NAME to ``<out stem>.NAME.parquet``."""
    if isinstance(result, pl.DataFrame):
        return [(result, out)]
    main = getattr(result, "customers", None)
    if not isinstance(main, pl.DataFrame):
        raise DataError(f"simulator returned {type(result).__name__}, not a table")
    others = sorted(n for n, v in vars(result).items() if n != "customers" and isinstance(v, pl.DataFrame))
    paths = table_paths(out, ["customers", *others])
    return [(main, out)] + [(getattr(result, n), paths[n]) for n in others]


def handler(args: argparse.Namespace) -> int:
    """Run ``experiments simulate`` from parsed arguments."""
    params: dict[str, object] = dict(args.parameter)
    if args.n_customers is not None:
        params["n_customers"] = args.n_customers
    if args.seed is not None:
        params["seed"] = args.seed
    out = run_simulate(args.study, params, args.out, block_size=args.block_size,
                       workers=args.workers, overwrite=args.overwrite)
    print(out)
    return 0
