"""Coverage of the 95% interval of the conversion effect over seeded replications.

Each replication simulates the default remarketing scenario with its own seed (200,000 customers by
default), estimates the intent-to-treat conversion effect of every treatment arm and checks whether the
interval holds the true effect (the mean of each customer's potential-outcome difference).

    python benchmarks/bench_remarketing_coverage.py [--reps 500] [--n 200000] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from statsmodels.stats.proportion import proportion_confint


def one(seed: int, n: int) -> dict[str, bool]:
    from experiments.simulate.remarketing import simulate_remarketing
    from experiments.simulate.truth import true_effects
    from experiments.studies.remarketing.numbers import measure
    from experiments.studies.remarketing.scenario import RemarketingScenario

    s = RemarketingScenario.from_params({"n_customers": n, "seed": seed})
    frame = simulate_remarketing(s)
    truth = true_effects(frame, s.arms)
    a = measure(frame, arms=s.arms, shares=s.shares, truth=truth)
    out = {}
    for row in truth.iter_rows(named=True):
        e = a.effect("converted", row["arm"])
        out[row["arm"]] = e.ci_low <= row["ate_converted"] <= e.ci_high
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one, range(1, args.reps + 1), [args.n] * args.reps))
    seconds = time.perf_counter() - t0
    print(f"{args.reps} replications of {args.n:,} customers in {seconds:.1f} s")
    for arm in results[0]:
        hits = sum(r[arm] for r in results)
        low, high = proportion_confint(hits, args.reps, method="wilson")
        rate = hits / args.reps
        ok = "PASS" if 0.93 <= rate <= 0.97 else "FAIL"
        print(f"  {arm:>20}: coverage {rate:.1%} (Wilson 95% {low:.1%} to {high:.1%}) "
              f"target 93-97%: {ok}")
    first = results[0]
    print(f"  seed 1 intervals hold the truth: {first}")


if __name__ == "__main__":
    main()
