"""Speed of the loyalty simulator and coverage of the randomised interval.

Run: ``.venv/bin/python benchmarks/bench_loyalty.py [--coverage-reps 200]``.
Targets: 1,000,000 customers over 52 weeks under 10 s; ITT coverage within 92-98% over 200 replications.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from experiments.simulate.loyalty import simulate_loyalty
from experiments.stats.retention import itt_effect
from experiments.studies.loyalty.scenario import LoyaltyScenario


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--coverage-reps", type=int, default=200)
    parser.add_argument("--coverage-customers", type=int, default=20_000)
    args = parser.parse_args()

    scenario = LoyaltyScenario.from_params({"n_customers": args.customers, "horizon": 52})
    t0 = time.perf_counter()
    sim = simulate_loyalty(scenario)
    elapsed = time.perf_counter() - t0
    print(
        f"simulate {args.customers:,} customers x 52 weeks: {elapsed:.2f} s "
        f"({sim.purchases.height:,} customer-weeks with purchases) [target < 10 s]"
    )

    hits, widths = [], []
    t0 = time.perf_counter()
    for seed in range(args.coverage_reps):
        rep = simulate_loyalty(
            LoyaltyScenario.from_params({"n_customers": args.coverage_customers, "seed": 1000 + seed})
        )
        est = itt_effect(rep.programme().customers, "revenue")  # both levers against the control
        hits.append(est.covers(rep.truth()["itt_revenue"]))
        widths.append(est.ci_high - est.ci_low)
    cov = float(np.mean(hits))
    se = float(np.sqrt(cov * (1 - cov) / len(hits)))
    print(
        f"ITT revenue 95% interval coverage of the true incremental revenue per customer: {cov:.1%} "
        f"(+/- {se:.1%}) over {len(hits)} replications of {args.coverage_customers:,} customers, "
        f"mean width ${np.mean(widths):.2f} [target 92-98%] ({time.perf_counter() - t0:.0f} s)"
    )


if __name__ == "__main__":
    main()
