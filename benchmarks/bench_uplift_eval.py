"""``experiments uplift-eval`` on 10,000,000 rows against scikit-uplift's three metric calls.

Writes a parquet file of ``--rows`` customers (arm label, 0/1 outcome, a continuous score with
heterogeneous uplift; two arms plus a third that is left out) into ``--dir`` (default /tmp), then
alternates, ``--pairs`` times:

- the whole ``experiments uplift-eval FILE ... --json PATH`` process (start-up, lazy read, checks,
  metrics, JSON);
- a separate Python process that reads the same columns into numpy arrays (not timed) and times
  scikit-uplift's ``qini_auc_score``, ``uplift_auc_score`` and ``uplift_at_k(strategy="overall")``.

Each child's peak memory (max RSS) comes from ``os.wait4``. The two processes' numbers are compared
(max abs difference). Targets: the whole process at least 5 times faster than the three calls, peak
memory under 2 GB.

    python benchmarks/bench_uplift_eval.py [--rows 10000000] [--pairs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKLIFT_CHILD = r"""
import json, sys, time, warnings
import numpy as np, polars as pl
from sklift.metrics import qini_auc_score, uplift_at_k, uplift_auc_score
warnings.simplefilter("ignore")
path, k = sys.argv[1], float(sys.argv[2])
df = pl.read_parquet(path, columns=["arm", "outcome", "score"])
df = df.filter(pl.col("arm").is_in(["treatment", "control"]))
y = df["outcome"].to_numpy()
s = df["score"].to_numpy()
t = (df["arm"] == "treatment").cast(pl.Int8).to_numpy()
del df
times, out = {}, {}
calls = {"qini_auc": lambda: qini_auc_score(y, s, t), "uplift_auc": lambda: uplift_auc_score(y, s, t),
         "uplift_at_k": lambda: uplift_at_k(y, s, t, strategy="overall", k=k)}
cpu0 = time.process_time()
for key, call in calls.items():
    t0 = time.perf_counter()
    out[key] = call()
    times[key] = time.perf_counter() - t0
cpu = time.process_time() - cpu0
print(json.dumps({"times": times, "cpu": cpu, "values": {a: float(b) for a, b in out.items()}}))
"""


def make_file(path: Path, rows: int, seed: int = 0) -> None:
    """Customers with a score that carries some of their true uplift, in three arms."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    arm_code = rng.choice(3, size=rows, p=[0.45, 0.45, 0.10])
    treated = arm_code == 0
    base = 1 / (1 + np.exp(-(-2.5 + 0.4 * x)))
    uplift = 0.03 * (x > 0) - 0.01 * (x < -1)
    outcome = (rng.random(rows) < base + treated * uplift).astype(np.int8)
    score = 0.02 * x + rng.normal(scale=0.02, size=rows)
    labels = np.array(["treatment", "control", "other"])
    pl.DataFrame({"arm": labels[arm_code], "outcome": outcome, "score": score}).write_parquet(path)


def run_child(cmd: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in GB, standard output and CPU seconds of one child process."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[:3]} failed: {err[-2000:]}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024**2, out.read().decode(), usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--k", default="0.3")
    args = ap.parse_args()
    path = Path(args.dir) / f"uplift_eval_{args.rows}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        make_file(path, args.rows)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    exe = str(Path(sys.executable).with_name("experiments"))
    json_out = Path(args.dir) / "uplift_eval_bench.json"
    ours_cmd = [exe, "uplift-eval", str(path), "--arm", "arm", "--treatment", "treatment", "--control",
                "control", "--outcome", "outcome", "--score", "score", "--k", args.k, "--json", str(json_out),
                "--overwrite"]
    ref_cmd = [sys.executable, "-c", SKLIFT_CHILD, str(path), args.k]
    ours, ref_calls, ref_wall, ratios, cpu_ratios = [], [], [], [], []
    for i in range(args.pairs):
        order = ("ours", "ref") if i % 2 == 0 else ("ref", "ours")
        for which in order:
            if which == "ours":
                wall, rss_ours, _, cpu_ours = run_child(ours_cmd)
                ours.append(wall)
            else:
                wall, rss_ref, out, _ = run_child(ref_cmd)
                ref = json.loads(out)
                ref_calls.append(sum(ref["times"].values()))
                ref_wall.append(wall)
        ratios.append(ref_calls[-1] / ours[-1])
        cpu_ratios.append(ref["cpu"] / cpu_ours)
        print(f"pair {i + 1}: uplift-eval whole process {ours[-1]:.2f} s, CPU {cpu_ours:.2f} s "
              f"(peak {rss_ours:.2f} GB); "
              f"scikit-uplift three calls {ref_calls[-1]:.2f} s "
              f"({', '.join(f'{k} {v:.2f}' for k, v in ref['times'].items())}; CPU {ref['cpu']:.2f} s; "
              f"process {ref_wall[-1]:.1f} s, peak {rss_ref:.2f} GB); ratio {ratios[-1]:.1f}x "
              f"(CPU {cpu_ratios[-1]:.1f}x)")
    mine = json.loads(json_out.read_text())
    diffs = {key: abs(mine[key] - ref["values"][key]) for key in ("qini_auc", "uplift_auc", "uplift_at_k")}
    print(f"rows evaluated {mine['n_rows']:,} (left out {mine['n_left_out']:,}); max abs differences from "
          "scikit-uplift: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    ratios.sort()
    cpu_ratios.sort()
    median = ratios[len(ratios) // 2]
    print(f"median paired ratio {median:.1f}x (min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x; CPU-time median "
          f"{cpu_ratios[len(cpu_ratios) // 2]:.1f}x); target >= 5x: "
          f"{'PASS' if median >= 5 else 'FAIL'}; peak memory {rss_ours:.2f} GB, target < 2 GB: "
          f"{'PASS' if rss_ours < 2 else 'FAIL'}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
