"""Whole-process speed of ``experiments analyze`` against gbstats doing the same tests, in paired runs.

The same tests on Hillstrom's e-mail experiment (metrics visit, conversion, spend; covariate history;
arm segment; control "No E-Mail"): for every metric × treatment arm a two-sided test of the difference
and its CUPED (regression-adjusted) version, and the sample-ratio check. ``experiments analyze`` runs as
the console script; gbstats runs as a small script that reads the CSV (pandas, gbstats' own dependency,
or polars), sums each arm and runs gbstats' ``TwoSidedTTest`` on ``ProportionStatistic`` /
``SampleMeanStatistic`` / ``RegressionAdjustedStatistic`` and its ``check_srm``.

Both run as subprocesses, alternately (``--pairs`` pairs, order swapped each pair); the script prints
each side's median wall time and peak RSS and the ratio of medians (experiments / gbstats). gbstats
lives in its own environment, never in this project's lock files::

    python3 -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip install gbstats
    .venv/bin/python benchmarks/bench_analyze.py --gbstats-python /tmp/gbvenv/bin/python

``--only-experiments --file PATH -- ARGS`` times ``experiments analyze`` alone on another file (a large
parquet file, a folder of parts) with the arguments after ``--``; ``--baseline-src DIR`` pairs it with
the same command run from another checkout's ``src`` (e.g. the main branch) instead of gbstats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HILLSTROM = ROOT / "data" / "real" / "hillstrom" / "hillstrom.csv.gz"
CONTROL = "No E-Mail"
ANALYZE_ARGS = ["--arm", "segment", "--control", CONTROL, "--metric", "visit", "--metric", "conversion",
                "--metric", "spend", "--covariate", "history", "--json", "-"]

GBSTATS_SCRIPT = '''
import json, sys
reader, path = sys.argv[1], sys.argv[2]
metrics, binary, arm, control, pre = ["visit", "conversion", "spend"], {"visit", "conversion"}, \\
    "segment", "No E-Mail", "history"
if reader == "polars":
    import polars as pl
    df = pl.read_csv(path, infer_schema_length=10000)
    aggs = [pl.len().alias("n"), pl.col(pre).sum().alias("pre"), (pl.col(pre) ** 2).sum().alias("pre2")]
    for m in metrics:
        aggs += [pl.col(m).sum().alias(m), (pl.col(m) ** 2).sum().alias(m + "2"),
                 (pl.col(m) * pl.col(pre)).sum().alias(m + "x")]
    sums = {r[arm]: r for r in df.group_by(arm).agg(aggs).to_dicts()}
else:
    import pandas as pd
    df = pd.read_csv(path)
    for m in metrics:
        df[m + "2"] = df[m] ** 2
        df[m + "x"] = df[m] * df[pre]
    df["pre2"] = df[pre] ** 2
    g = df.groupby(arm)
    sums = {a: {"n": int(len(part)), "pre": part[pre].sum(), "pre2": part["pre2"].sum(),
                **{c: part[c].sum() for m in metrics for c in (m, m + "2", m + "x")}} for a, part in g}
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (ProportionStatistic, RegressionAdjustedStatistic,
                                       SampleMeanStatistic, compute_theta)
from gbstats.utils import check_srm

config = FrequentistConfig(difference_type="absolute")
def stat(s, m):
    if m in binary:
        return ProportionStatistic(n=s["n"], sum=s[m])
    return SampleMeanStatistic(n=s["n"], sum=s[m], sum_squares=s[m + "2"])
def adjusted(s, m):
    return RegressionAdjustedStatistic(n=s["n"], post_statistic=stat(s, m),
        pre_statistic=SampleMeanStatistic(n=s["n"], sum=s["pre"], sum_squares=s["pre2"]),
        post_pre_sum_of_products=s[m + "x"], theta=0)
out = {"srm_p": check_srm([int(s["n"]) for s in sums.values()], [1 / len(sums)] * len(sums)), "results": []}
for m in metrics:
    for a in sums:
        if a == control:
            continue
        r = TwoSidedTTest(stat(sums[control], m), stat(sums[a], m), config).compute_result()
        ca, ta = adjusted(sums[control], m), adjusted(sums[a], m)
        theta = compute_theta(ca, ta)
        ca.theta = ta.theta = theta
        ra = TwoSidedTTest(ca, ta, config).compute_result()
        out["results"].append({"metric": m, "arm": a, "estimate": r.expected, "ci": r.ci, "p": r.p_value,
                               "cuped": ra.expected, "cuped_ci": ra.ci, "cuped_p": ra.p_value})
print(json.dumps(out, indent=2))
'''


def _experiments_command() -> list[str]:
    script = Path(sys.executable).with_name("experiments")
    return [str(script)] if script.exists() else [sys.executable, "-m", "experiments.cli"]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one subprocess; fails loudly on a non-zero exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-400:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=9, help="paired runs (9)")
    parser.add_argument("--gbstats-python",
                        default=os.environ.get("GBSTATS_PYTHON", "/tmp/gbvenv/bin/python"),
                        help="python of an environment with gbstats (/tmp/gbvenv/bin/python)")
    parser.add_argument("--reader", choices=["pandas", "polars"], default="pandas",
                        help="how the gbstats script reads the CSV (pandas)")
    parser.add_argument("--only-experiments", action="store_true", help="time experiments analyze alone")
    parser.add_argument("--baseline-src", metavar="DIR",
                        help="pair with experiments analyze run from this src folder (PYTHONPATH)")
    parser.add_argument("--file", default=str(HILLSTROM), help="input file (Hillstrom)")
    parser.add_argument("analyze_args", nargs="*", help="arguments of analyze after -- (Hillstrom's)")
    args = parser.parse_args()
    ours = [*_experiments_command(), "analyze", args.file, *(args.analyze_args or ANALYZE_ARGS)]
    sides: dict[str, list[str]] = {"experiments": ours}
    envs: dict[str, dict[str, str] | None] = {"experiments": None}
    if args.baseline_src:
        sides["baseline"] = ours
        envs["baseline"] = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        if not (args.only_experiments or args.baseline_src):
            script = Path(tmp) / "gbstats_same_tests.py"
            script.write_text(GBSTATS_SCRIPT)
            sides["gbstats"] = [args.gbstats_python, str(script), args.reader, args.file]
            envs["gbstats"] = None
        for name, cmd in sides.items():
            timed(cmd, envs[name])  # warm the file cache and byte-code once, not counted
        walls: dict[str, list[float]] = {k: [] for k in sides}
        rss: dict[str, list[float]] = {k: [] for k in sides}
        names = list(sides)
        for i in range(args.pairs):
            for name in names if i % 2 == 0 else names[::-1]:
                w, r = timed(sides[name], envs[name])
                walls[name].append(w)
                rss[name].append(r)
    for name in names:
        print(f"{name:12s} median {statistics.median(walls[name]):.3f} s  (runs "
              f"{', '.join(f'{w:.2f}' for w in walls[name])})  peak RSS {max(rss[name]):.0f} MB")
    other = next((k for k in ("gbstats", "baseline") if k in walls), None)
    if other:
        ratios = [a / b for a, b in zip(walls["experiments"], walls[other], strict=True)]
        ratio = statistics.median(walls["experiments"]) / statistics.median(walls[other])
        print(f"ratio experiments / {other}: {ratio:.3f} (median of paired ratios "
              f"{statistics.median(ratios):.3f}"
              + (f"; gbstats reads with {args.reader})" if other == "gbstats" else ")"))


if __name__ == "__main__":
    main()
