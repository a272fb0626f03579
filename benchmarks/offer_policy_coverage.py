"""Which offer for whom over seeded replications: interval coverage and the share of the oracle.

Each replication simulates the targeting study's offer test with its own seed (new customers, new
split, new folds), fits the offer model, assigns offers within the budget and judges every policy on the
evaluation part (:func:`experiments.studies.targeting.numbers.measure_offers`, without the value-of-data
refits). Prints, over the replications:

- how often each policy's 95% interval (doubly robust) holds its true value (target 93-97%), with a
  Wilson interval for that rate;
- how often the interval of the model policy's share of the oracle holds the true share;
- the model policy's true profit as a share of the oracle's (target at the defaults: at least 75%), and
  each policy's mean true profit per 1,000 customers.

    python benchmarks/offer_policy_coverage.py [--replications 200] [--workers 2] [--n-customers N]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from statsmodels.stats.proportion import proportion_confint

POLICIES = ("model", "segment rule", "everyone", "likeliest buyers", "oracle")


def one(args: tuple[int, dict[str, object]]) -> dict[str, float]:
    """One replication: covered flags, true profits and the share of the oracle."""
    from threadpoolctl import threadpool_limits

    from experiments.studies.targeting import STUDY
    from experiments.studies.targeting.numbers import measure_offers

    seed, params = args
    scenario = STUDY.scenario.from_params({**params, "seed": seed})
    with threadpool_limits(limits=1, user_api="openmp"):
        o = measure_offers(scenario, with_data=False)
    out: dict[str, float] = {}
    for name in POLICIES:
        p = o.policies[name]
        out[f"covered {name}"] = float(p.covered)
        out[f"truth {name}"] = p.truth
    out["share of oracle"] = o.true_share_of_oracle
    out["share covered"] = float(o.share_of_oracle[1] <= o.true_share_of_oracle <= o.share_of_oracle[2])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--n-customers", type=int, default=None, help="default: the study's (200,000)")
    ap.add_argument("--seed", type=int, default=1000)
    a = ap.parse_args()
    params: dict[str, object] = {} if a.n_customers is None else {"n_customers": a.n_customers}
    jobs = [(a.seed + i, params) for i in range(a.replications)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        rows = list(pool.map(one, jobs))
    wall = time.perf_counter() - t0
    n = len(rows)
    size = a.n_customers or 200_000
    print(f"{n} replications of {size:,} customers, {a.workers} workers, {wall:.0f} s")
    for name in POLICIES:
        hits = int(sum(r[f"covered {name}"] for r in rows))
        lo, hi = proportion_confint(hits, n, method="wilson")
        mean = float(np.mean([r[f"truth {name}"] for r in rows]))
        print(f"  {name:17s} coverage {hits / n:6.1%} (Wilson 95% {lo:.1%} to {hi:.1%}); "
              f"mean true profit per 1,000 ${mean:,.0f}")
    hits = int(sum(r["share covered"] for r in rows))
    lo, hi = proportion_confint(hits, n, method="wilson")
    print(f"  share of the oracle: interval coverage {hits / n:.1%} (Wilson 95% {lo:.1%} to {hi:.1%})")
    shares = np.array([r["share of oracle"] for r in rows])
    print(f"  model policy's true share of the oracle: mean {shares.mean():.1%}, "
          f"median {np.median(shares):.1%}, 5th percentile {np.quantile(shares, 0.05):.1%}, "
          f"min {shares.min():.1%}")


if __name__ == "__main__":
    main()
