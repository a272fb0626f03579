"""Speed, memory and accuracy of ``experiments attribute`` and of the omnichannel study computations.

    python benchmarks/bench_attribution.py [--journeys 1000000] [--repeat 3] [--skip-study]

Prints, for a touchpoint file of ``--journeys`` journeys (about 5 touches each, 8 channels):

- ``experiments attribute FILE ... --json -`` as a subprocess, all eight models: wall time and peak
  resident memory of the whole process (targets: under 10 s and 3 GB), and the same on the file
  aggregated into paths (ChannelAttribution form);
- the largest gap between the command's rule-based credits and a polars computation written
  independently, and between its order-1 removal effects and a dense numpy solve of the absorbing chain
  built from polars transition counts (target: 1e-9);
- the omnichannel study computations at default parameters (draw the world, attribute its log, every
  re-run; target: about 10 s), in process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

CHANNELS = ["affiliate", "direct", "display", "email", "search_brand", "search_nonbrand", "sms", "social"]
TOUCH = ["--journey", "journey_id", "--time", "time", "--channel", "channel", "--converted", "converted",
         "--value", "value"]


def touch_table(n: int, seed: int = 1) -> pl.DataFrame:
    """``n`` journeys of 1 + Poisson(4) touches; later touches lean to the lower-funnel channels."""
    rng = np.random.default_rng(seed)
    lengths = 1 + rng.poisson(4.0, n)
    journey = np.repeat(np.arange(n, dtype=np.int64), lengths)
    start = np.repeat(np.cumsum(lengths) - lengths, lengths)
    pos = (np.arange(journey.size) - start) / np.repeat(lengths, lengths)
    upper = rng.integers(0, 8, journey.size)
    lower = rng.choice([0, 1, 2, 3, 4], journey.size)  # affiliate, direct, display, email, brand search
    channel = np.where(rng.random(journey.size) < pos, lower, upper)
    p = 0.02 + 0.01 * np.minimum(lengths, 8)
    converted = (rng.random(n) < p).astype(np.int8)
    value = np.where(converted == 1, rng.gamma(2.0, 45.0, n).round(2), 0.0)
    time_ = np.repeat(rng.random(n) * 14, lengths) + pos * 14  # days, increasing within a journey
    return pl.DataFrame({
        "journey_id": journey, "time": time_,
        "channel": pl.Series(np.array(CHANNELS)[channel]),
        "converted": converted[journey], "value": value[journey],
    })


def run_cli(args: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (GB, Linux ``VmHWM``) and the JSON of one ``experiments attribute`` process."""
    # VmHWM (peak resident set of this process's own memory map, from /proc) rather than ru_maxrss,
    # which a child inherits from the parent it was forked from
    probe = ("import runpy, sys; sys.argv = ['experiments'] + sys.argv[1:]; "
             "code = 0\ntry:\n    runpy.run_module('experiments.cli', run_name='__main__')\n"
             "except SystemExit as e:\n    code = e.code or 0\n"
             "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
             "print('MAXRSS', hwm, file=sys.stderr)\n"
             "sys.exit(code)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, "attribute", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"attribute failed: {done.stderr.strip()[-800:]}")
    rss = max(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("MAXRSS"))
    return wall, rss / 1024**2, json.loads(done.stdout)


def independent_heuristics(table: pl.DataFrame) -> dict[str, dict[str, float]]:
    """First touch, last touch and linear credits from polars window expressions (no shared code)."""
    conv = table.filter(pl.col("converted") == 1).with_columns(
        n=pl.len().over("journey_id"), i=pl.int_range(pl.len()).over("journey_id"))
    out = {
        "first_touch": conv.filter(pl.col("i") == 0).group_by("channel").len(),
        "last_touch": conv.filter(pl.col("i") == pl.col("n") - 1).group_by("channel").len(),
        "linear": conv.group_by("channel").agg((1.0 / pl.col("n")).sum().alias("len")),
    }
    return {m: dict(f.select("channel", "len").iter_rows()) for m, f in out.items()}


def independent_removal_effects(table: pl.DataFrame) -> dict[str, float]:
    """Order-1 removal effects from transition counts (polars) and a dense solve per removal (numpy)."""
    steps = table.select(
        "journey_id", "converted",
        pl.col("channel").shift(1).over("journey_id").fill_null("(start)").alias("src"),
        pl.col("channel").alias("dst"),
        pl.col("channel").shift(-1).over("journey_id").is_null().alias("last"),
    )
    ends = steps.filter(pl.col("last")).select(
        pl.col("dst").alias("src"),
        pl.when(pl.col("converted") == 1).then(pl.lit("(conversion)")).otherwise(pl.lit("(null)"))
        .alias("dst"))
    pairs = pl.concat([steps.select("src", "dst"), ends]).group_by("src", "dst").len()
    names = ["(start)", *sorted(set(table["channel"].unique().to_list()))]
    idx = {s: i for i, s in enumerate(names)}
    m = len(names)
    counts = np.zeros((m, m + 2))
    for src, dst, k in pairs.iter_rows():
        col = m if dst == "(conversion)" else m + 1 if dst == "(null)" else idx[dst]
        counts[idx[src], col] += k
    probs = counts / counts.sum(axis=1, keepdims=True)

    def p_conv(removed: str | None) -> float:
        keep = [i for i, s in enumerate(names) if s != removed]
        q = probs[np.ix_(keep, keep)]
        return float(np.linalg.solve(np.eye(len(keep)) - q, probs[keep, m])[0])

    full = p_conv(None)
    return {c: 1 - p_conv(c) / full for c in names[1:]}


def bench_cli(n: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table = touch_table(n)
        touches = Path(tmp) / "touches.parquet"
        table.write_parquet(touches)
        paths = Path(tmp) / "paths.csv"
        (table.group_by("journey_id", maintain_order=True)
         .agg(pl.col("channel").str.join(" > ").alias("path"), pl.col("converted").first(),
              pl.col("value").first())
         .group_by("path").agg(pl.col("converted").sum().alias("conversions"),
                               (1 - pl.col("converted")).sum().alias("nulls"), pl.col("value").sum())
         .write_csv(paths))
        print(f"touchpoint file: {n:,} journeys, {table.height:,} touches, {len(CHANNELS)} channels")
        runs = [run_cli([str(touches), *TOUCH, "--json", "-"]) for _ in range(repeat)]
        walls, rss = [r[0] for r in runs], [r[1] for r in runs]
        out = runs[-1][2]
        print(f"  experiments attribute (8 models, touch rows): median {statistics.median(walls):.2f} s "
              f"({', '.join(f'{w:.2f}' for w in walls)}); peak RSS {max(rss):.2f} GB; "
              f"targets < 10 s and < 3 GB: "
              f"{'PASS' if statistics.median(walls) < 10 and max(rss) < 3 else 'FAIL'}")
        prun = [run_cli([str(paths), "--path", "path", "--conversions", "conversions", "--nulls", "nulls",
                         "--value", "value", "--json", "-"]) for _ in range(repeat)]
        print(f"  experiments attribute (7 models, {pl.read_csv(paths).height:,} aggregated paths): median "
              f"{statistics.median([r[0] for r in prun]):.2f} s; peak RSS {max(r[1] for r in prun):.2f} GB")
        ref = independent_heuristics(table)
        gap = max(abs(out["models"][m][c] - ref[m].get(c, 0.0)) for m in ref for c in out["channels"])
        print(f"  rule-based credits vs an independent polars computation: largest gap {gap:.3g} "
              "conversions (first/last touch exact integers)")
        removal = independent_removal_effects(table)
        gap = max(abs(out["removal_effects"][c] - removal[c]) for c in out["channels"])
        print(f"  Markov removal effects vs a dense absorbing-chain solve: largest gap {gap:.3g} "
              f"(target 1e-9: {'PASS' if gap < 1e-9 else 'FAIL'})")
        for m, credit in out["models"].items():
            assert abs(sum(credit.values()) - out["n_conversions"]) < 1e-6 * out["n_conversions"], m
        same = all(abs(a - b) < 1e-6 for a, b in zip(out["models"]["markov"].values(),
                                                     prun[-1][2]["models"]["markov"].values(), strict=True))
        print(f"  Markov credits from touch rows and from aggregated paths agree: {same}")


_STUDY = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from experiments.studies.omnichannel.scenario import OmnichannelScenario
from experiments.simulate.journeys import draw_world
from experiments.studies.omnichannel.numbers import measure, headline_numbers
s = OmnichannelScenario.from_params({})
t1 = time.perf_counter()
world = draw_world(s)
t2 = time.perf_counter()
a = measure(s, world=world)
t3, c3 = time.perf_counter(), time.process_time()
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(json.dumps({"imports": t1 - t0, "draw": t2 - t1, "rest": t3 - t2, "total": t3 - t0, "cpu": c3 - c0,
                  "rss_gb": int(hwm) / 1024**2, "customers": s.n_customers, "rows": a.log_rows,
                  "h": headline_numbers(a)}))
"""


def bench_study(repeat: int) -> None:
    """The study computations at defaults, whole process (imports included), ``repeat`` times."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", _STUDY], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"study failed: {done.stderr.strip()[-800:]}")
        runs.append(json.loads(done.stdout))
    r = runs[-1]
    totals = [x["total"] for x in runs]
    print(f"omnichannel study computations at defaults ({r['customers']:,} customers, {r['rows']:,} logged "
          f"touches, 25 re-runs, 2 logs x 8 models), whole process: median {statistics.median(totals):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in totals)}; last run: imports {r['imports']:.2f} s, draw "
          f"{r['draw']:.2f} s, the rest {r['rest']:.2f} s, {r['cpu']:.2f} s CPU); peak RSS "
          f"{max(x['rss_gb'] for x in runs):.2f} GB; target about 10 s: "
          f"{'PASS' if statistics.median(totals) < 10 else 'OVER'}")
    h = r["h"]
    print(f"  last touch: display {h['display_credit_share']:.1%} of credit vs {h['display_true_share']:.1%} "
          f"of true incremental; brand search {h['search_brand_credit_share']:.1%} vs "
          f"{h['search_brand_true_share']:.1%}; profit change of the last-touch plan "
          f"{h['model_plan_profit_change']:+,.0f} $, the experiments' plan "
          f"{h['experiment_plan_profit_change']:+,.0f} $, the true-incrementality plan "
          f"{h['truth_plan_profit_change']:+,.0f} $")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-study", action="store_true")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start (timings are wall clock, "
          "whole process: other work on the machine slows them)")
    bench_cli(args.journeys, args.repeat)
    if not args.skip_study:
        bench_study(args.repeat)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
