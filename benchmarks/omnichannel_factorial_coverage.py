"""Coverage of the factorial holdout's 95% intervals over seeded replications of the omnichannel world.

Each replication draws the default omnichannel world (display synergy on) with its own seed, runs the
factorial user holdout of the factorial channels (each customer held out of each independently), and
checks whether the HC2 intervals of each channel's extra purchases and revenue, each pair's interaction
and the plan's total hold the truth (the same world re-run with every subset of the channels off). A
profit interval is the revenue interval times the margin less the channel's (known) spend, so its
coverage is the revenue interval's. Also prints the mean truth and mean estimate of each term (bias),
and the width of its interval. The plan's total rests on the cell held out of every channel (a share of
``share**k`` of the customers, 1/64 at the defaults): with few buyers there and heavy-tailed order values
its normal interval is the least reliable (revenue especially); a larger share widens that cell.

    python benchmarks/omnichannel_factorial_coverage.py [--reps 400] [--n 100000] [--synergy 1.4]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from statsmodels.stats.proportion import proportion_confint


def one(seed: int, n: int, synergy: float, share: float) -> dict[str, tuple[float, ...]]:
    from experiments.simulate.journeys import (
        draw_world,
        factorial_holdout_table,
        interaction_truth,
        subsets_off,
    )
    from experiments.stats.factorial import cell_statistics
    from experiments.studies.omnichannel.numbers import holdout_contrasts
    from experiments.studies.omnichannel.scenario import OmnichannelScenario

    s = OmnichannelScenario.from_params({"n_customers": n, "seed": seed, "display_synergy": synergy,
                                         "factorial_holdout_share": share})
    channels = s.factorial_channels
    world = draw_world(s)
    outcomes = subsets_off(world, channels)
    truth = {r["term"]: r for r in interaction_truth(outcomes, channels).iter_rows(named=True)}
    cells = cell_statistics(factorial_holdout_table(world, channels, share, outcomes),
                            factors={c: f"exposed_{c}" for c in channels}, metrics=["purchased", "revenue"])
    out = {}
    for metric, column in (("purchased", "conversions"), ("revenue", "revenue")):
        contrasts = holdout_contrasts(cells, channels, metric, alpha=0.05, scale=n)
        for c in contrasts:
            t = truth[c.term][column]
            out[f"{c.term} [{column}]"] = (float(c.ci_low <= t <= c.ci_high), t, c.estimate,
                                           c.ci_high - c.ci_low)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--synergy", type=float, default=1.4)
    ap.add_argument("--share", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()
    start = time.perf_counter()
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in range(args.reps):
        for term, values in one(args.seed + r, args.n, args.synergy, args.share).items():
            for i, v in enumerate(values):
                sums[term][i] += v
    elapsed = time.perf_counter() - start
    print(f"{args.reps} replications, {args.n:,} customers, display_synergy {args.synergy:g}, holdout share "
          f"{args.share:g} per channel: {elapsed:.0f} s")
    print(f"{'term':48s} {'coverage':>9s} {'(95% CI of it)':>16s} {'mean truth':>12s} {'mean est.':>12s} "
          f"{'mean width':>12s}")
    for term, (hits, truth, est, width) in sums.items():
        lo, hi = proportion_confint(int(hits), args.reps, method="wilson")
        k = args.reps
        print(f"{term:48s} {hits / k:9.1%} {f'{lo:.1%}-{hi:.1%}':>16s} {truth / k:12,.1f} {est / k:12,.1f} "
              f"{width / k:12,.1f}")


if __name__ == "__main__":
    main()
