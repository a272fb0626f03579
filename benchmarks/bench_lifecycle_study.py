"""Calibration of the lifecycle study over seeded replications (prints figures; not a test).

Each replication simulates the study's world at a small size with its own seed (``seed + i``) and reads
every lever at the short and the long horizon. Printed:

- the coverage of the long-run 95% intervals of the six levers' value per customer (target 93-97%),
  with its Wilson interval;
- how often deciding on the short read picks the wrong lever (its best lever is not the one with the
  highest true long-run value), against how often the long read does, with Wilson intervals;
- with ``--project``, the long run projected from the short test (BG/NBD per arm, Gamma-Gamma): the median
  absolute error of the arms' projected values for the discount (forward buying) and for the other
  levers, the quartiles across seeds, the share of seeds where the discount's error is the larger, and
  the miss of the projected long-run effect ($ per customer) by lever.

Usage::

    .venv/bin/python benchmarks/bench_lifecycle_study.py [--replications 200] [--n 4000] [--project]
"""

from __future__ import annotations

import argparse
import os
import time

import polars as pl
from statsmodels.stats.proportion import proportion_confint

from experiments.studies import lifecycle as study
from experiments.studies.lifecycle import numbers

__all__ = ["main"]


def _share(hits: int, n: int) -> str:
    low, high = proportion_confint(hits, n, method="wilson")
    return f"{hits / n:.1%} (95% CI {low:.1%} to {high:.1%}, {hits}/{n})"


def main() -> None:
    """Run the replications and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--n", type=int, default=4000, help="acquired customers per replication")
    ap.add_argument("--project", action="store_true", help="also project the long run in every replication")
    args = ap.parse_args()
    scenario = study.STUDY.scenario.from_params({})
    t0 = time.perf_counter()
    frame = numbers.replicate(scenario, args.replications, n_customers=args.n, project=args.project)
    wall = time.perf_counter() - t0
    s = numbers.replication_summary(frame)
    runs = int(s["replications"])
    cells = frame.height
    inside = (pl.col("long_low") <= pl.col("long_truth")) & (pl.col("long_truth") <= pl.col("long_high"))
    covered = int(frame.select(inside.sum()).item())
    print(f"{runs} replications of {args.n:,} acquired customers, {wall:.0f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"coverage of the long-run 95% intervals (6 levers x {runs}): {_share(covered, cells)}")
    by_lever = frame.group_by("lever", maintain_order=True).agg(coverage=inside.mean())
    print("  by lever: " + ", ".join(f"{r['lever']} {r['coverage']:.1%}"
                                     for r in by_lever.iter_rows(named=True)))
    wrong_short = round(s["wrong_pick_short"] * runs)
    wrong_long = round(s["wrong_pick_long"] * runs)
    print(f"short read picks a lever that is not the long run's true best: {_share(wrong_short, runs)}")
    print(f"long read picks a lever that is not the long run's true best:  {_share(wrong_long, runs)}")
    if args.project:
        per_seed = (frame.unpivot(["error_on", "error_off"], index=["replication", "lever"])
                    .with_columns(discount=pl.col("lever") == "discount")
                    .group_by("replication", "discount").agg(pl.col("value").median())
                    .pivot("discount", index="replication", values="value"))
        d, o = per_seed["true"], per_seed["false"]
        print(f"projection, median absolute error of the arms' long-run value: discount "
              f"{s['projection_error_discount']:.1%}, other levers {s['projection_error_others']:.1%}")
        print(f"  across seeds, quartiles: discount {d.quantile(0.25):.1%} / {d.median():.1%} / "
              f"{d.quantile(0.75):.1%}; others {o.quantile(0.25):.1%} / {o.median():.1%} / "
              f"{o.quantile(0.75):.1%}")
        print(f"  seeds where the discount's error is the larger: {_share(int((d > o).sum()), runs)}")
        print(f"projected long-run effect, median absolute miss per customer: discount "
              f"${s['effect_miss_discount']:.2f}, other levers ${s['effect_miss_others']:.2f}")
        by = (frame.group_by("lever", maintain_order=True)
              .agg(miss=(pl.col("projected_effect") - pl.col("true_effect")).abs().median(),
                   bias=(pl.col("projected_effect") - pl.col("true_effect")).mean()))
        print("  by lever (median miss / mean bias): " + ", ".join(
            f"{r['lever']} ${r['miss']:.2f} / ${r['bias']:+.2f}" for r in by.iter_rows(named=True)))


if __name__ == "__main__":
    main()
