"""Speed of the full battery: ``analyze`` on 10,000,000 rows (three arms, three metrics, one covariate).

Run: ``.venv/bin/python benchmarks/bench_stats.py [--rows N] [--repeat R]``. Prints the best wall time
of R runs (data generation excluded; the table is an in-memory polars frame) and one per-stage line.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from experiments.stats.row_analysis import analyze


def make_table(n: int, seed: int = 0) -> pl.DataFrame:
    """Synthetic experiment: arm, converted (0/1), revenue (zero-inflated), orders, pre (covariate)."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 3, n).astype(np.int8)
    pre = rng.gamma(0.5, 80, n)
    converted = (rng.random(n) < 0.05 + 0.005 * arm).astype(np.int8)
    revenue = converted * rng.lognormal(4, 1, n) + 0.05 * pre
    orders = converted * (1 + rng.poisson(0.3, n))
    labels = pl.Series("arm", arm).cast(pl.String).replace({"0": "control", "1": "a", "2": "b"})
    return pl.DataFrame({"arm": labels, "converted": converted, "revenue": revenue, "orders": orders,
                         "pre": pre})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    table = make_table(args.rows)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.2f} s")
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = analyze(table, arm="arm", control="control", metrics=["converted", "revenue", "orders"],
                         covariates=["pre"])
        times.append(time.perf_counter() - t)
    print(f"analyze (3 arms, 3 metrics, 1 covariate, CUPED, SRM, quality): best {min(times):.3f} s, "
          f"runs {', '.join(f'{x:.3f}' for x in times)}")
    print(f"{len(result.results)} effects + {len(result.adjusted_results)} adjusted; "
          f"SRM p = {result.srm.p_value:.3f}")


if __name__ == "__main__":
    main()
