"""T-learner cross-fitting on 1,000,000 customers: out-of-fold scores from 5 folds, default learners.

A randomised campaign of ``--n`` customers with seven features (recency, frequency, monetary value,
tenure, a device and a region as text, a newsletter flag), a 0/1 outcome and a heterogeneous effect.
Times the feature matrix (one-hot encoding included) and ``cross_fit(TLearner(), ...)`` with the
default histogram gradient boosting (2 x 5 fits and predictions): each fit on one OpenMP thread, the
folds in parallel threads (default: one per core), and with ``n_jobs=1`` for comparison. Target:
under 60 s on 2 cores.

    python benchmarks/bench_uplift_tlearner.py [--n 1000000] [--folds 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import polars as pl


def make_frame(n: int, seed: int = 0) -> pl.DataFrame:
    """Customers, arm, outcome; the campaign helps recent, low-frequency customers on mobile."""
    rng = np.random.default_rng(seed)
    recency = rng.integers(1, 365, n)
    frequency = rng.poisson(2.0, n)
    monetary = rng.gamma(2.0, 40.0, n)
    tenure = rng.integers(1, 120, n)
    device = rng.choice(["mobile", "desktop", "tablet"], n, p=[0.6, 0.3, 0.1])
    region = rng.choice(["north", "south", "east", "west", "centre"], n)
    newsletter = rng.random(n) < 0.4
    treated = rng.random(n) < 0.5
    base = 1 / (1 + np.exp(-(-3.0 + 0.3 * np.log1p(frequency) - 0.002 * recency)))
    tau = 0.03 * (recency < 60) * (frequency < 3) + 0.01 * (device == "mobile") - 0.005 * newsletter
    outcome = (rng.random(n) < np.clip(base + treated * tau, 0, 1)).astype(np.int8)
    return pl.DataFrame({
        "arm": np.where(treated, "email", "none"), "outcome": outcome, "recency": recency,
        "frequency": frequency, "monetary": monetary, "tenure": tenure, "device": device, "region": region,
        "newsletter": newsletter,
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    from experiments.models.uplift.data import read_uplift_table
    from experiments.models.uplift.learners import TLearner, cross_fit
    from experiments.models.uplift.metrics import qini_auc_score

    frame = make_frame(args.n)
    features = ["recency", "frequency", "monetary", "tenure", "device", "region", "newsletter"]
    t0 = time.perf_counter()
    table = read_uplift_table(frame, arm="arm", treatment="email", control="none", outcome="outcome",
                              features=features)
    assert table.design is not None
    prep = time.perf_counter() - t0
    print(f"{args.n:,} customers, {table.design.X.shape[1]} encoded feature columns: read and encoded in "
          f"{prep:.2f} s")
    for label, n_jobs in (("folds in parallel (one thread per core)", None), ("n_jobs=1", 1)):
        t0, c0 = time.perf_counter(), time.process_time()
        fit = cross_fit(TLearner(), table.design.X, table.outcome, table.treatment, folds=args.folds,
                        seed=0, n_jobs=n_jobs)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        qini = qini_auc_score(table.outcome, fit.scores, table.treatment)
        print(f"T-learner cross-fitting, {args.folds} folds, {label}: {elapsed:.1f} s, CPU {cpu:.1f} s "
              f"(with encoding "
              f"{elapsed + prep:.1f} s); Qini coefficient of the out-of-fold scores {qini:.3f}; "
              f"target < 60 s: {'PASS' if elapsed + prep < 60 else 'FAIL'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak memory {peak:.2f} GB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
