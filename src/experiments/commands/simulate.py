"""``experiments simulate``: write a simulated experiment table (with its truth) to parquet.

Example::

    experiments simulate remarketing -p audience all -p frequency_cap 6 \\
        --n-customers 1000000 --seed 7 --out data/remarketing.parquet
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from experiments.errors import DataError

__all__ = ["STUDIES", "Study", "handler", "register", "register_study", "run_simulate"]

#: ``(scenario class with from_params, simulate(scenario, *, block_size, workers))`` of a study.
Study = tuple[Any, Callable[..., Any]]
#: Studies ``experiments simulate`` knows; other modules may add theirs with :func:`register_study`.
STUDIES: dict[str, Study] = {}


def register_study(name: str, scenario_class: Any, simulate: Callable[..., Any]) -> None:
    """Make ``experiments simulate NAME`` build ``scenario_class.from_params`` and call ``simulate``."""
    STUDIES[name] = (scenario_class, simulate)


def _register_builtin() -> None:
    from experiments.scenarios.remarketing import RemarketingScenario
    from experiments.simulate.remarketing import simulate_remarketing

    register_study("remarketing", RemarketingScenario, simulate_remarketing)
    # A loyalty simulator registers itself here once its modules exist.
    try:
        scenario_module = importlib.import_module("experiments.scenarios.loyalty")
        simulate_module = importlib.import_module("experiments.simulate.loyalty")
    except ModuleNotFoundError:
        return
    scenario_class = getattr(scenario_module, "LoyaltyScenario", None)
    simulate = getattr(simulate_module, "simulate_loyalty", None)
    if scenario_class is not None and simulate is not None:
        register_study("loyalty", scenario_class, simulate)


_register_builtin()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` parser."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate an experiment table with its true effects and write it to parquet",
        description="Simulate a study's experiment (one row per customer, with the outcome under "
        "every arm) and write it atomically to a parquet file; the path is printed last.",
    )
    p.add_argument("study", choices=sorted(STUDIES), help="which simulator")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a scenario parameter (repeatable)")
    p.add_argument("--n-customers", help="number of customers (overrides -p n_customers)")
    p.add_argument("--seed", help="random seed (overrides -p seed)")
    p.add_argument("--out", required=True, help="output .parquet file; its folder must exist")
    p.add_argument("--block-size", default="1048576", help="customers per unit of work")
    p.add_argument("--workers", default="1", help="threads (does not change the result)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=handler)


def run_simulate(
    study: str,
    params: dict[str, object],
    out: str | Path,
    *,
    block_size: int = 1_048_576,
    workers: int = 1,
    overwrite: bool = False,
) -> Path:
    """Validate ``params``, simulate ``study`` and write the table to ``out`` atomically.

    Raises
    ------
    ParameterError
        A parameter is invalid (nothing is written).
    DataError
        The output folder does not exist, or the file exists and ``overwrite`` is false.
    """
    from experiments.validation import as_choice, as_int

    study = as_choice("study", study, sorted(STUDIES))
    block_size = as_int("block_size", block_size, low=1)
    workers = as_int("workers", workers, low=1, high=256)
    out = Path(out)
    if not out.parent.is_dir():
        raise DataError(f"output folder {str(out.parent)!r} does not exist")
    if out.exists() and not overwrite:
        raise DataError(f"output file {str(out)!r} exists; pass --overwrite to replace it")
    scenario_class, simulate = STUDIES[study]
    scenario = scenario_class.from_params(params)
    result = simulate(scenario, block_size=block_size, workers=workers)
    tables = _tables(result, out)
    for _, path in tables[1:]:
        if path.exists() and not overwrite:
            raise DataError(f"output file {str(path)!r} exists; pass --overwrite to replace it")
    temps: list[Path] = []
    try:
        for frame, path in tables:
            tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
            temps.append(tmp)
            frame.write_parquet(tmp)
        for tmp, (_, path) in zip(temps, tables, strict=True):
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    return out


def _tables(result: Any, out: Path) -> list[tuple[pl.DataFrame, Path]]:
    """The frames a simulator returned and their files: a lone frame goes to ``out``; a result object
    (e.g. the loyalty simulation) writes ``customers`` to ``out`` and any other frame attribute NAME
    to ``<out stem>.NAME.parquet`` beside it."""
    if isinstance(result, pl.DataFrame):
        return [(result, out)]
    main = getattr(result, "customers", None)
    if not isinstance(main, pl.DataFrame):
        raise DataError(f"simulator returned {type(result).__name__}, not a table")
    tables = [(main, out)]
    for name, value in sorted(vars(result).items()):
        if name != "customers" and isinstance(value, pl.DataFrame):
            tables.append((value, out.with_name(f"{out.stem}.{name}{out.suffix or '.parquet'}")))
    return tables


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
