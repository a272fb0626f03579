"""Coverage of the loyalty study's factorial effects: each lever's main effect and their interaction.

Each replication simulates the loyalty world at its defaults with a new seed, estimates the main effects
of rewards and messages and their interaction on the net value per offered customer (2 x 2 OLS, HC2
intervals, :func:`experiments.studies.loyalty.numbers.lever_effects`), and checks whether each 95% interval
holds the truth (the mean over the offered customers of the contrast of their potential outcomes). It
prints the coverage of each term, the mean width, the mean estimate against the mean truth, and the run
time. Target: 93-97% for each term.

Run: ``.venv/bin/python benchmarks/loyalty_factorial_coverage.py [--reps 200] [--customers 30000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from experiments.simulate.loyalty import simulate_loyalty
from experiments.studies.loyalty.numbers import lever_effects
from experiments.studies.loyalty.scenario import LoyaltyScenario

TRUTH = {"rewards": "rewards_effect", "messages": "messages_effect",
         "rewards x messages": "lever_interaction"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--customers", type=int, default=None, help="default: the scenario's n_customers")
    parser.add_argument("--seed", type=int, default=5000, help="first seed; replication i uses seed + i")
    args = parser.parse_args()

    params = {} if args.customers is None else {"n_customers": args.customers}
    rows: dict[str, list[tuple[bool, float, float, float]]] = {k: [] for k in TRUTH}
    t0 = time.perf_counter()
    for i in range(args.reps):
        s = LoyaltyScenario.from_params({**params, "seed": args.seed + i})
        sim = simulate_loyalty(s)
        truth = sim.truth()
        for eff in lever_effects(sim.customers, margin=s.margin, referral_bonus=s.referral_bonus):
            t = truth[TRUTH[eff.lever]]
            rows[eff.lever].append((eff.covers(t), eff.ci_high - eff.ci_low, eff.estimate, t))
    elapsed = time.perf_counter() - t0
    n = LoyaltyScenario.from_params(params).n_customers
    print(f"{args.reps} replications of {n:,} customers at the loyalty defaults ({elapsed:.0f} s)")
    for lever, hits in rows.items():
        arr = np.array(hits, dtype=float)
        cov = arr[:, 0].mean()
        se = np.sqrt(cov * (1 - cov) / len(arr))
        print(f"{lever:>20}: coverage {cov:.1%} (+/- {se:.1%}), mean width ${arr[:, 1].mean():.2f}, "
              f"mean estimate ${arr[:, 2].mean():.3f} vs mean truth ${arr[:, 3].mean():.3f} [target 93-97%]")


if __name__ == "__main__":
    main()
