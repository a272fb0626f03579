"""``experiments power``: sample size per arm, and with ``--n`` the minimum detectable effect."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from experiments.errors import ParameterError
from experiments.outputs import OUTPUT_RULE

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``power`` parser."""
    p = subparsers.add_parser(
        "power", help="sample size per arm or minimum detectable effect",
        description="Sample size per arm to detect an effect (binary rate or continuous mean); with --n, "
        "the minimum detectable effect of that many units per arm. Several arms: each treatment against "
        "the control, Bonferroni-adjusted alpha. Sizes are bounded: at most 1,000 arms and 10^12 units "
        "per arm (an effect too small for that is refused in one line). " + OUTPUT_RULE,
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
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = stdout only)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments power``."""
    from experiments.outputs import check_output, write_results
    from experiments.stats.power import MAX_ARMS, MAX_N_PER_ARM, minimum_detectable_effect, sample_size
    from experiments.validation import as_float, as_int

    json_out = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    common = dict(
        baseline=as_float("baseline", args.baseline), alpha=as_float("alpha", args.alpha),
        power=as_float("power", args.power), arms=as_int("arms", args.arms, low=2, high=MAX_ARMS),
        kind=args.kind,
        sd=None if args.sd is None else as_float("sd", args.sd, low=0, low_open=True),
    )
    if args.mde is None and args.n is None:
        raise ParameterError("mde", None, "an effect to detect (--mde), or units per arm (--n), or both")
    size = mde = None
    if args.mde is not None:
        size = sample_size(mde=as_float("mde", args.mde), relative=args.relative, **common)
    if args.n is not None:
        mde = minimum_detectable_effect(n_per_arm=as_int("n", args.n, low=2, high=MAX_N_PER_ARM),
                                        relative=args.relative,
                                        **common)
    if size is not None:
        payload = size.to_dict()
        if mde is not None:
            payload["minimum_detectable_effect"] = mde.to_dict()
    else:
        assert mde is not None
        payload = mde.to_dict()
    text = json.dumps(payload, indent=2)
    if write_results(text, json_out, json_option=args.json):
        return 0
    if size is not None:
        print(f"Sample size: {size.summary()}")
        print(f"  method: {size.method}")
    if mde is not None:
        unit = "pp" if mde.kind == "binary" else "units"
        amount = 100 * mde.mde if mde.kind == "binary" else mde.mde
        print(f"Minimum detectable effect with {mde.n_per_arm:,} per arm: {amount:+.4g} {unit} "
              f"({mde.mde_relative:+.2%} of the baseline), {mde.power:.0%} power, alpha {mde.alpha:g}")
    sys.stdout.flush()
    return 0
