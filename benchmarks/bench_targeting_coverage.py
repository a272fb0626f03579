"""Targeting study over seeded replications: interval coverage, share of the oracle, propensity gap.

Each replication simulates the study's default campaign with its own seed (new customers, new split,
new folds), fits the targeting learner (the X-learner; the other learners are left out to save time:
they do not enter the policies) and judges the five policies on the evaluation part
(:func:`experiments.studies.targeting.result.result_from_table`). Prints, over the replications:

- how often each policy's 95% interval (inverse-propensity weighting) holds its true value, and all
  policies pooled ("treat nobody" is exact and left out). Target: 90-98%;
- the uplift policy's true profit as a share of the oracle's (target at defaults: at least 70%);
- the true gap between the uplift policy and the likeliest-buyer policy at the same share.

    python benchmarks/bench_targeting_coverage.py [--replications 200] [--workers 1] [--n-customers N]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

POLICIES = ("uplift", "likely buyers", "everyone", "oracle")


def one(args: tuple[int, dict[str, object]]) -> dict[str, float]:
    """One replication: covered flags, share of the oracle and the propensity gap."""
    from experiments.studies.targeting import STUDY
    from experiments.studies.targeting.numbers import simulate
    from experiments.studies.targeting.result import result_from_table

    seed, params = args
    scenario = STUDY.scenario.from_params({**params, "seed": seed})
    r = result_from_table(simulate(scenario), scenario, with_delay=False, with_offers=False)
    out: dict[str, float] = {f"covered {p}": float(r.policies[p].covered) for p in POLICIES}
    out["share of oracle"] = r.true_share_of_oracle
    out["gap"] = r.uplift.truth - r.policies["likely buyers"].truth
    out["gap covered"] = float(r.gap_to_likely[1] <= out["gap"] <= r.gap_to_likely[2])
    ratio = r.share_of_oracle
    out["ratio covered"] = float(ratio[1] <= out["share of oracle"] <= ratio[2])
    out["share"] = r.uplift.treated_share
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--n-customers", type=int, default=None, help="customers per replication (default: "
                    "the study's)")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    params: dict[str, object] = {"other_learners": ""}
    if args.n_customers:
        params["n_customers"] = args.n_customers
    jobs = [(args.first_seed + i, params) for i in range(args.replications)]
    t0, c0 = time.perf_counter(), time.process_time()
    if args.workers == 1:
        rows = [one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(one, jobs))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    cols = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    n = len(rows)
    print(f"{n} replications of the targeting study at its defaults (seeds {args.first_seed} to "
          f"{args.first_seed + n - 1}), {elapsed:.0f} s wall, main-process CPU {cpu:.0f} s, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    pooled = np.concatenate([cols[f"covered {p}"] for p in POLICIES])
    for p in POLICIES:
        c = cols[f"covered {p}"].mean()
        print(f"  95% interval of '{p}' holds the truth in {c:.1%} of replications")
    ok = 0.90 <= pooled.mean() <= 0.98
    print(f"pooled coverage {pooled.mean():.1%} of {pooled.size} intervals; target 90-98%: "
          f"{'PASS' if ok else 'FAIL'}")
    print(f"  paired interval of the uplift - likeliest-buyer gap holds the truth in "
          f"{cols['gap covered'].mean():.1%}; of the share of the oracle in "
          f"{cols['ratio covered'].mean():.1%}")
    s = cols["share of oracle"]
    print(f"uplift policy's true share of the oracle: mean {s.mean():.1%}, median {np.median(s):.1%}, 5th "
          f"percentile {np.quantile(s, 0.05):.1%}, min {s.min():.1%}; at least 70% in "
          f"{np.mean(s >= 0.7):.1%} of replications")
    g = cols["gap"]
    print(f"true gap, uplift policy minus likeliest buyers at the same share: mean ${g.mean():,.0f} per "
          f"1,000 customers (min ${g.min():,.0f}); share treated by the uplift policy: median "
          f"{np.median(cols['share']):.0%} (5th-95th percentile {np.quantile(cols['share'], 0.05):.0%} to "
          f"{np.quantile(cols['share'], 0.95):.0%})")


if __name__ == "__main__":
    main()
