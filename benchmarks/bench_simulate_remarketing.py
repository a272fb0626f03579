"""Whole-process speed and memory of ``experiments simulate remarketing`` (prints figures; not a test).

Each run is the command itself in a fresh process, started through a small wrapper process that
reports the command's peak resident memory (``RUSAGE_CHILDREN`` of the wrapper, so one run's figure
is never the maximum over earlier runs). The command makes its blocks on threads in one process, so
that figure is all of its memory. Runs of the configurations alternate (paired), and the medians are
printed. The files of several worker counts and block sizes are compared byte for byte. Last, the
remarketing study's frequency curve (ten caps on one simulation with common random numbers) is timed
in a fresh process too.

``--baseline-src PATH`` also runs, paired with each run, the command of another checkout of the
project (its ``src`` folder put first on the path), for a before/after comparison, and prints the
median of the paired ratios (this checkout over the baseline) of wall time, CPU time (user + system)
and peak RSS: on a loaded machine the CPU-time ratio is the steadier figure. For example, against the
remarketing simulator before channel traits, channel holdouts and the levers (commit 3b3d758)::

    git worktree add ../speed-base 3b3d758
    .venv/bin/python benchmarks/bench_simulate_remarketing.py --n 10000000 --repeat 3 \
        --baseline-src ../speed-base/src --identity-n 0

Measured so (2 shared, loaded cores, default workers, 3 paired runs): CPU-time ratio 1.60 before the
response factors were shared and the truth's deliveries trimmed, 1.58 after (about 16 s against 10 s
of CPU; the file is 0.76 GB against 0.56 GB, and writing it is about 40% of the CPU); peak RSS 0.50 GB
against 0.37 GB. In the simulator's threads the chunks take 1.75 times the baseline's CPU, a third of
it the channels' truth, whose deliveries redraw the cap's split (hypergeometric) for their customers.

Usage::

    .venv/bin/python benchmarks/bench_simulate_remarketing.py [--n 10000000] [--repeat 3]
        [--baseline-src ../other/src] [--folder DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["bench", "main", "run_command", "sha256", "time_curve"]

_WRAPPER = r"""
import json, os, resource, subprocess, sys, time
env = dict(os.environ)
src = sys.argv[1]
if src != "-":
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
t0 = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "experiments.cli", *sys.argv[2:]], env=env,
                      capture_output=True, text=True)
wall = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "stderr": done.stderr[-2000:], "wall_s": wall,
                  "peak_gb": use.ru_maxrss * 1024 / 1e9, "cpu_s": use.ru_utime + use.ru_stime}))
"""


_CURVE = r"""
import json, sys, time
from experiments.studies.remarketing.scenario import RemarketingScenario
from experiments.simulate.truth import frequency_curve
from experiments.studies.remarketing import result as study
scenario = RemarketingScenario.from_params({})
t0 = time.perf_counter()
frequency_curve(scenario, caps=study.FREQUENCY_CAPS, n_customers=study.curve_size(scenario))
print(json.dumps({"curve_s": time.perf_counter() - t0, "customers": study.curve_size(scenario),
                  "caps": len(study.FREQUENCY_CAPS)}))
"""


def time_curve() -> dict[str, float]:
    """Seconds the remarketing study's frequency curve takes at defaults, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _CURVE], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_command(args: list[str], *, src: str | None = None) -> dict[str, float]:
    """Run ``experiments ARGS`` in a fresh process; its wall time, CPU time and peak RSS (GB)."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, src or "-", *args],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"experiments {' '.join(args)} failed: {result['stderr']}")
    return result


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def bench(study: str, n: int, *, repeat: int, folder: Path, baseline_src: str | None,
          workers: list[int] | None = None, extra: list[str] | None = None) -> None:
    """Print paired medians of the command (per worker count, and of the baseline checkout)."""
    extra = extra or []
    configs: list[tuple[str, str | None, list[str]]] = [
        (f"this checkout, --workers {w}", None, ["--workers", str(w)]) for w in workers or []
    ] or [("this checkout", None, [])]
    if baseline_src:
        configs.append((f"baseline {baseline_src}", baseline_src, []))
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in configs}
    out = folder / f"{study}.parquet"
    for _ in range(repeat):
        for label, src, opts in configs:
            args = ["simulate", study, "--n-customers", str(n), "--out", str(out), "--overwrite",
                    *opts, *extra]
            r = run_command(args, src=src)
            size = sum(p.stat().st_size for p in folder.glob(f"{study}*.parquet"))
            r["file_gb"] = size / 1e9
            runs[label].append(r)
            print(f"  {label}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, peak RSS "
                  f"{r['peak_gb']:.2f} GB, files {r['file_gb']:.2f} GB", flush=True)
    for label, rs in runs.items():
        print(f"{study} n={n:,} {label}: median of {len(rs)}: "
              f"{statistics.median(r['wall_s'] for r in rs):.2f} s wall, "
              f"{statistics.median(r['cpu_s'] for r in rs):.2f} s CPU, "
              f"peak RSS {statistics.median(r['peak_gb'] for r in rs):.2f} GB "
              f"(max {max(r['peak_gb'] for r in rs):.2f})")
    if baseline_src:
        base = runs[configs[-1][0]]
        for label, rs in runs.items():
            if label == configs[-1][0]:
                continue
            for key, name in (("wall_s", "wall"), ("cpu_s", "CPU"), ("peak_gb", "peak RSS")):
                ratios = [r[key] / b[key] for r, b in zip(rs, base, strict=True)]
                print(f"{study} n={n:,} {label} / baseline, {name}: median of {len(ratios)} paired "
                      f"ratios {statistics.median(ratios):.2f} (each: "
                      f"{', '.join(f'{x:.2f}' for x in ratios)})")
    for p in folder.glob(f"{study}*.parquet"):
        p.unlink()


def identity(study: str, n: int, folder: Path, layouts: list[tuple[int, int]]) -> bool:
    """Whether the files of every ``(workers, block_size)`` layout are byte-identical."""
    digests = []
    for k, (workers, block) in enumerate(layouts):
        out = folder / f"same{k}.parquet"
        run_command(["simulate", study, "--n-customers", str(n), "--out", str(out), "--workers",
                     str(workers), "--block-size", str(block)])
        digests.append(tuple(sha256(p) for p in sorted(folder.glob(f"same{k}*.parquet"))))
    for p in folder.glob("same*.parquet"):
        p.unlink()
    return len(set(digests)) == 1


def main(study: str = "remarketing", default_n: int = 10_000_000) -> None:
    """Parse the options, run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=default_n)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", default=None, help="src folder of another checkout")
    parser.add_argument("--workers", default="", help="worker counts to pair, e.g. 2,1 (default: the "
                        "command's default)")
    parser.add_argument("--folder", default=None, help="where files go (default: a temporary folder)")
    parser.add_argument("--identity-n", type=int, default=1_000_000,
                        help="customers for the byte-identity check (0 to skip)")
    parser.add_argument("--no-curve", action="store_true", help="skip timing the frequency curve")
    args = parser.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-simulate-"))
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free / 1e9
    print(f"{os.cpu_count()} cores, {free:.0f} GB free in {folder}", flush=True)
    try:
        workers = [int(w) for w in args.workers.split(",") if w]
        bench(study, args.n, repeat=args.repeat, folder=folder, baseline_src=args.baseline_src,
              workers=workers)
        if args.identity_n:
            layouts = [(1, 16_384), (2, 262_144), (2, 1_048_576)]
            same = identity(study, args.identity_n, folder, layouts)
            print(f"files of {args.identity_n:,} customers byte-identical for (workers, block size) "
                  f"{layouts}: {same}")
        if study == "remarketing" and not args.no_curve:
            c = time_curve()
            print(f"frequency curve at study defaults: {c['curve_s']:.2f} s "
                  f"({c['caps']} caps on one simulation of {c['customers']:,} customers)")
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
