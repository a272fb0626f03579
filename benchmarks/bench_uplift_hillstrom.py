"""``experiments uplift-eval`` against scikit-uplift on Hillstrom with a fixed score column.

Hillstrom's e-mail test (Womens E-Mail vs No E-Mail; the Mens E-Mail rows are left out by the
command) gets a fixed, tie-rich score (``history / 100 - recency``, one decimal). The command runs as
a subprocess on a parquet copy; scikit-uplift 0.5 runs on the same arrays. Prints the max absolute
difference of every metric and of the curve (scikit-uplift's curve read at the same shares). Spend is
continuous, which scikit-uplift 0.5 refuses; its formulas are applied with that check switched off.
Target: every difference under 1e-9.

    python benchmarks/bench_uplift_hillstrom.py [--k 0.3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import polars as pl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=float, default=0.3)
    args = ap.parse_args()
    import sklift.metrics.metrics as sk

    from experiments.datasets import load_hillstrom

    warnings.simplefilter("ignore")
    df = load_hillstrom().with_columns(
        ((pl.col("history") / 100 - pl.col("recency")).round(1)).alias("fixed_score"))
    two = df.filter(pl.col("segment").is_in(["Womens E-Mail", "No E-Mail"]))
    t = (two["segment"] == "Womens E-Mail").to_numpy().astype(int)
    s = two["fixed_score"].to_numpy()
    exe = str(Path(sys.executable).with_name("experiments"))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hillstrom_scored.parquet"
        df.write_parquet(path)
        for outcome in ("visit", "conversion", "spend"):
            done = subprocess.run(
                [exe, "uplift-eval", str(path), "--arm", "segment", "--treatment", "Womens E-Mail",
                 "--control", "No E-Mail", "--outcome", outcome, "--score", "fixed_score", "--k", str(args.k),
                 "--json", "-"],
                capture_output=True, text=True, check=True)
            mine = json.loads(done.stdout)
            y = two[outcome].to_numpy()
            original = sk.check_is_binary
            if outcome == "spend":
                sk.check_is_binary = lambda array: None
            try:
                ref = {"qini_auc": sk.qini_auc_score(y, s, t), "uplift_auc": sk.uplift_auc_score(y, s, t),
                       "uplift_at_k": sk.uplift_at_k(y, s, t, strategy="overall", k=args.k)}
                xq, q = sk.qini_curve(y, s, t)
                xu, u = sk.uplift_curve(y, s, t)
            finally:
                sk.check_is_binary = original
            share = np.array([p["share"] for p in mine["curve"]])
            diffs = {key: abs(mine[key] - float(ref[key])) for key in ref}
            diffs["qini curve"] = float(np.max(np.abs(np.array([p["qini"] for p in mine["curve"]])
                                                      - np.interp(share * mine["n_rows"], xq, q))))
            diffs["uplift curve"] = float(np.max(np.abs(np.array([p["uplift"] for p in mine["curve"]])
                                                        - np.interp(share * mine["n_rows"], xu, u))))
            worst = max(worst, *diffs.values())
            print(f"{outcome:10s} n={mine['n_rows']:,} (left out {mine['n_left_out']:,}): qini_auc "
                  f"{mine['qini_auc']:.12f}, uplift_auc {mine['uplift_auc']:.12f}, uplift_at_k "
                  f"{mine['uplift_at_k']:.12f}; max abs differences "
                  + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
    print(f"largest difference {worst:.1e}; target < 1e-9: {'PASS' if worst < 1e-9 else 'FAIL'}")


if __name__ == "__main__":
    main()
