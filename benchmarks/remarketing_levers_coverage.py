"""Coverage of the 95% intervals of the remarketing levers' estimates over seeded replications.

Each replication simulates the remarketing scenario with every audience (``audience=all``) and its own
seed, reads the levers (:func:`experiments.studies.remarketing.numbers.measure_levers`) and checks whether
each interval holds its truth (the mean over the group's customers of their potential-outcome
difference): profit and purchases per 1,000 targeted in each audience, the cross-sell and upgrade margin
per 1,000 past purchasers, the subscriber loss, the purchases after the window and in and after it.
Coverage is printed per measure (pooled over arms and audiences) and per measure and audience, with a
Wilson interval for the coverage itself.

    python benchmarks/remarketing_levers_coverage.py [--reps 200] [--n 40000] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

from statsmodels.stats.proportion import proportion_confint


def one(seed: int, n: int) -> list[tuple[str, str, str, bool]]:
    from experiments.simulate.remarketing import simulate_remarketing
    from experiments.studies.remarketing.numbers import measure_levers
    from experiments.studies.remarketing.scenario import RemarketingScenario

    s = RemarketingScenario.from_params({"n_customers": n, "seed": seed, "audience": "all"})
    frame = simulate_remarketing(s)
    levers = measure_levers(frame, arms=s.arms, subscriber_value=s.subscriber_value, burn_pixel=s.burn_pixel)
    return [(g.measure, g.group, g.arm, bool(g.covered)) for g in levers.estimates()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=40_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one, range(1, args.reps + 1), [args.n] * args.reps))
    by_measure: dict[str, list[bool]] = defaultdict(list)
    by_group: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for rows in results:
        for measure, group, _arm, covered in rows:
            by_measure[measure].append(covered)
            by_group[(measure, group)].append(covered)
    print(f"{args.reps} replications of {args.n:,} customers (audience=all, default arms), "
          f"{time.perf_counter() - t0:.0f} s")
    print(f"{'measure':<18} {'group':<18} {'intervals':>9} {'coverage':>9}  95% interval of the coverage")
    for measure, hits in by_measure.items():
        low, high = proportion_confint(sum(hits), len(hits), method="wilson")
        print(f"{measure:<18} {'(all groups)':<18} {len(hits):>9} {sum(hits) / len(hits):>9.1%}  "
              f"{low:.1%} to {high:.1%}")
    for (measure, group), hits in sorted(by_group.items()):
        if group != "all":
            low, high = proportion_confint(sum(hits), len(hits), method="wilson")
            print(f"{measure:<18} {group:<18} {len(hits):>9} {sum(hits) / len(hits):>9.1%}  "
                  f"{low:.1%} to {high:.1%}")


if __name__ == "__main__":
    main()
