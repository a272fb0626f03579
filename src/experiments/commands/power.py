"""``experiments power``: sample size per arm, and with ``--n`` the minimum detectable effect."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from experiments.commands import COMMANDS
from experiments.errors import ParameterError
from experiments.outputs import OUTPUT_RULE, check_output, write_results
from experiments.stats.power import (
    MAX_ARMS,
    MAX_LOOKS,
    MAX_N_PER_ARM,
    minimum_detectable_effect,
    sample_size,
    sequential_sample_size,
)
from experiments.validation import as_float, as_int

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``power`` parser."""
    p = subparsers.add_parser(
        "power", help=COMMANDS["power"],
        description="Sample size per arm to detect an effect (binary rate or continuous mean); with --n, "
        "the minimum detectable effect of that many units per arm. --r2 plans for a regression-adjusted "
        "(CUPED) estimate; --sequential for monitoring at several looks (maximum and expected sizes). "
        "Several arms: each treatment against the control, Bonferroni-adjusted alpha. Sizes are bounded: "
        "at most 1,000 arms and 10^12 units per arm (an effect too small for that is refused in one "
        "line). " + OUTPUT_RULE,
    )
    p.add_argument("--baseline", required=True, help="control rate (binary, in (0, 1)) or mean (continuous)")
    p.add_argument("--mde", help="effect to detect: absolute (0.01 = 1 pp) or, with --relative, a fraction")
    p.add_argument("--relative", action="store_true", help="--mde is relative to the baseline")
    p.add_argument("--alpha", default="0.05", help="family-wise two-sided significance level (0.05)")
    p.add_argument("--power", default="0.8", help="power of each comparison (0.8)")
    p.add_argument("--arms", default="2", help="number of arms including the control (2)")
    p.add_argument("--kind", choices=["binary", "continuous"], default="binary", help="metric kind")
    p.add_argument("--sd", help="standard deviation of a continuous metric")
    p.add_argument("--n", help="units per arm: report the minimum detectable effect")
    p.add_argument("--r2", default="0", metavar="R2",
                   help="variance reduction of a regression adjustment (CUPED, covariates): the share of the "
                   "metric's variance the pre-period covariates explain, in [0, 1); sizes scale by (1 - R2) "
                   "(0: none)")
    p.add_argument("--sequential", nargs="?", const="cs", choices=["cs", "msprt"],
                   help="also plan for monitoring at --looks looks with the asymptotic confidence sequence "
                   "(cs, the default) or the mSPRT, as 'experiments analyze --time' runs them: the maximum "
                   "units per arm that reach --power and the expected units under the effect (Brownian "
                   "paths simulated at the looks, normal approximation); needs --mde")
    p.add_argument("--looks", default="20", metavar="K",
                   help="equally spaced looks of the sequential plan, the last at its maximum "
                   "(1 to 1000; 20)")
    p.add_argument("--seed", default="0", metavar="S", help="seed of the sequential plan's simulation (0)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = stdout only)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments power``."""
    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    common = dict(
        baseline=as_float("baseline", args.baseline), alpha=as_float("alpha", args.alpha),
        power=as_float("power", args.power), arms=as_int("arms", args.arms, low=2, high=MAX_ARMS),
        kind=args.kind,
        sd=None if args.sd is None else as_float("sd", args.sd, low=0, low_open=True),
        r2=as_float("r2", args.r2, low=0, high=1, high_open=True),
    )
    if args.mde is None and args.n is None:
        raise ParameterError("mde", None, "an effect to detect (--mde), or units per arm (--n), or both")
    looks = as_int("looks", args.looks, low=1, high=MAX_LOOKS)
    seed = as_int("seed", args.seed, low=0)
    if args.sequential and args.mde is None:
        raise ParameterError("sequential", args.sequential, "used with --mde (the effect to plan for)")
    size = mde = plan = None
    if args.mde is not None:
        size = sample_size(mde=as_float("mde", args.mde), relative=args.relative, **common)
        if args.sequential:
            plan = sequential_sample_size(mde=as_float("mde", args.mde), relative=args.relative, looks=looks,
                                          method=args.sequential, seed=seed, **common)
    if args.n is not None:
        mde = minimum_detectable_effect(n_per_arm=as_int("n", args.n, low=2, high=MAX_N_PER_ARM),
                                        relative=args.relative,
                                        **common)
    if size is not None:
        payload = size.to_dict()
        if mde is not None:
            payload["minimum_detectable_effect"] = mde.to_dict()
        if plan is not None:
            payload["sequential"] = {k: v for k, v in plan.to_dict().items() if k != "fixed"}
    else:
        assert mde is not None
        payload = mde.to_dict()
    text = json.dumps(payload, indent=2)
    if write_results(text, json_out, json_option=args.json):
        return 0
    if size is not None:
        print(f"Sample size: {size.summary()}")
        print(f"  method: {size.method}")
    if plan is not None:
        print(f"Sequential: {plan.summary()}")
        print(f"  power at the maximum {plan.power_at_max:.1%} (simulation se {plan.power_se:.1%}); "
              f"final-look |z| boundary {plan.final_boundary:.3f}")
        print(f"  method: {plan.description}")
        print(f"  monitor with: experiments analyze ... --time COLUMN --planned-n {plan.planned_n}")
    if mde is not None:
        unit = "pp" if mde.kind == "binary" else "units"
        amount = 100 * mde.mde if mde.kind == "binary" else mde.mde
        print(f"Minimum detectable effect with {mde.n_per_arm:,} per arm: {amount:+.4g} {unit} "
              f"({mde.mde_relative:+.2%} of the baseline), {mde.power:.0%} power, alpha {mde.alpha:g}")
    sys.stdout.flush()
    return 0
