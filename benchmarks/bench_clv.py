"""Speed and parameter recovery of the CLV models and the ``experiments clv`` command.

Run: ``.venv/bin/python benchmarks/bench_clv.py``.
Targets: every BG/NBD and Gamma-Gamma parameter within 5% on 100,000 simulated customers; a BG/NBD fit
on 100,000 customers under 1 s; ``experiments clv`` on a 70,000-transaction log, whole process, under 3 s.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from experiments.models.clv import fit_bgnbd, fit_gamma_gamma

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}


def simulate_summary(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """BG/NBD + Gamma-Gamma customers observed for 39 to 78 weeks (continuous times)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    drop = rng.beta(TRUTH["a"], TRUTH["b"], n)
    big_t = rng.uniform(39.0, 78.0, n)  # cohorts observed 39 to 78 weeks, as CDNOW's window
    k = rng.poisson(lam * big_t)
    x = np.minimum(k, rng.geometric(drop))
    tx = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    nu = rng.gamma(TRUTH["q"], 1 / TRUTH["v"], n)
    m = np.where(x > 0, rng.gamma(TRUTH["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return x, tx, big_t, m


def transaction_log(n_transactions: int, seed: int) -> pl.DataFrame:
    """A day-level transaction log of BG/NBD customers, cut to ``n_transactions`` rows."""
    rng = np.random.default_rng(seed)
    n = n_transactions // 2
    lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n) / 7  # per day
    drop = rng.beta(TRUTH["a"], TRUTH["b"], n)
    first = rng.integers(0, 90, n)
    k = np.minimum(rng.poisson(lam * 540), rng.geometric(drop))
    cust = np.repeat(np.arange(n), k)
    days = np.repeat(first, k) + rng.integers(1, 540, k.sum())
    ids = np.concatenate([np.arange(n), cust])
    day = np.concatenate([first, days])
    amount = rng.gamma(6.0, 6.0, ids.size).round(2)
    frame = pl.DataFrame({"customer_id": ids, "day": day, "amount": amount}).head(n_transactions)
    start = dt.date(2024, 1, 1)
    return frame.with_columns((pl.lit(start) + pl.duration(days=pl.col("day"))).alias("date")).drop("day")


def main() -> None:
    worst = []
    for seed in range(5):
        x, tx, t, m = simulate_summary(100_000, seed=seed)
        t0 = time.perf_counter()
        bg = fit_bgnbd(x, tx, t)
        fit_s = time.perf_counter() - t0
        gg = fit_gamma_gamma(x, m)
        fitted = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "p": gg.p, "q": gg.q, "v": gg.v}
        errors = {k: v / TRUTH[k] - 1 for k, v in fitted.items()}
        worst.append(max(abs(e) for e in errors.values()))
        print(
            f"seed {seed}: 100,000 customers, BG/NBD fit {fit_s:.3f} s [target < 1 s]; errors "
            + " ".join(f"{k} {e:+.1%}" for k, e in errors.items())
        )
    print(f"largest parameter error per seed: {', '.join(f'{w:.1%}' for w in worst)} [target < 5%]")

    log = transaction_log(70_000, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tx.csv"
        log.write_csv(path)
        exe = Path(sys.executable).with_name("experiments")
        cmd = [
            str(exe),
            "clv",
            str(path),
            "--customer",
            "customer_id",
            "--date",
            "date",
            "--amount",
            "amount",
            "--calibration-end",
            "2024-09-30",
            "--holdout-end",
            "2025-03-31",
            "--json",
            "-",
        ]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
    status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()}"
    print(
        f"experiments clv on {log.height:,} transactions, whole process: {elapsed:.2f} s "
        f"[target < 3 s] ({status})"
    )


if __name__ == "__main__":
    main()
