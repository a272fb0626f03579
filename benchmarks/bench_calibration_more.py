"""The calibration study's capping, regression-adjustment and exposed-effect checks at full size, timed.

Run: ``.venv/bin/python benchmarks/bench_calibration_more.py [--replications 2000] [--seed 20261206]``.
Prints, over ``--replications`` simulated experiments each (the study's defaults run 500 and 50):

- capping heavy-tailed spend (CV 10) at p99 and p99.9: bias of the capped estimate against the true uncapped
  difference, variance ratio, RMSE, interval-width ratio, coverage of the capped interval for the capped
  estimand (:func:`experiments.studies.calibration_checks.capping_study`);
- Lin's regression adjustment on three covariates: coverage, and width against unadjusted and CUPED on one
  covariate (:func:`~experiments.studies.calibration_checks.regression_study`);
- 40 % of the treatment arm never reached: coverage of the effect on the exposed (2SLS), and how often the
  intent-to-treat interval holds that truth (:func:`~experiments.studies.calibration_checks.exposure_study`).

Each rate carries its Wilson 95% interval; with 2,000 experiments a 95% coverage is known to about ±1 point.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from experiments.studies import calibration_checks as cal


def main() -> None:
    """Run the three checks and print their figures and timing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--n-per-arm", type=int, default=5000, help="customers per arm in the capping check")
    ap.add_argument("--units", type=int, default=2000, help="customers per regression / exposure experiment")
    args = ap.parse_args()
    r, seed = args.replications, args.seed

    def timed(label: str, fn: Callable[..., Any], **kw: Any) -> Any:
        t = time.perf_counter()
        out = fn(**kw)
        print(f"\n== {label}  [{time.perf_counter() - t:.2f} s]\n{out.summary()}")
        return out

    timed(f"capping heavy-tailed spend ({args.n_per_arm:,} per arm)", cal.capping_study, replications=r,
          n_per_arm=args.n_per_arm, seed=seed)
    timed(f"Lin on 3 covariates vs CUPED vs unadjusted ({args.units:,} customers)", cal.regression_study,
          replications=r, units=args.units, seed=seed + 1)
    timed(f"cookie loss, 40% of the treated never reached ({args.units:,} customers)", cal.exposure_study,
          replications=r, units=args.units, seed=seed + 2)


if __name__ == "__main__":
    main()
