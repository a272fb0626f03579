"""Analysing a 10,000,000-customer remarketing table: one polars pass of sufficient statistics.

Times the full analysis (ITT and exposed effects on five outcomes, economics, SRM, rates), and
separately the truth computed from the potential outcomes. Target: analysis under 2 s on 2 cores.

    python benchmarks/bench_remarketing_analysis.py [--n 10000000]
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from experiments.simulate.remarketing import simulate_remarketing
    from experiments.simulate.truth import true_effects
    from experiments.studies.remarketing.numbers import measure
    from experiments.studies.remarketing.scenario import RemarketingScenario

    s = RemarketingScenario.from_params({"n_customers": args.n})
    t0 = time.perf_counter()
    frame = simulate_remarketing(s, workers=2)
    elapsed = time.perf_counter() - t0
    print(f"simulated {args.n:,} customers in {elapsed:.2f} s ({frame.estimated_size() / 1e9:.2f} GB)")
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        a = measure(frame, arms=s.arms, shares=s.shares)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"analysis (one pass, {len(a.itt) + len(a.exposed)} effects): best {best:.2f} s of "
          f"{', '.join(f'{t:.2f}' for t in times)} s; target < 2 s: {'PASS' if best < 2 else 'FAIL'}")
    t0 = time.perf_counter()
    true_effects(frame, s.arms)
    print(f"truth from potential outcomes: {time.perf_counter() - t0:.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
