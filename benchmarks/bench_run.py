"""Wall time of ``experiments run STUDY`` at its defaults, whole process (kernel start and HTML included).

    python benchmarks/bench_run.py [--study remarketing | --all] [--repeat 5] [--baseline OTHER_EXPERIMENTS]

Each repeat runs the command as a fresh process into an empty reports folder and measures its wall time
and the CPU time of the process and its children (the kernel). With ``--baseline`` the two executables
alternate (A B A B ...), so both see the same load, and the paired ratio is reported. The breakdown
comes from the ``phases`` of each run's ``run.json`` (absent in older versions): from process start to
the kernel launch, waiting for the kernel (start-up and the study's imports), the notebook's cells,
rendering the HTML, and the rest (registry, index, exit). With ``--all`` it times ``experiments run --all``
(every study, one kernel for all of them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(exe: str, study: str | None, extra: list[str]) -> dict[str, float]:
    """One whole-process run: wall and CPU seconds, and the phases of its run.json when present."""
    with tempfile.TemporaryDirectory() as reports:
        env = {**os.environ, "CI": "true"}
        what = ["--all"] if study is None else [study, *extra]
        cpu0, t0 = _children_cpu(), time.perf_counter()
        done = subprocess.run([exe, "run", *what, "--reports-dir", reports], capture_output=True, text=True,
                              env=env)
        wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
        if done.returncode != 0:
            sys.exit(f"{exe} run failed: {done.stderr.strip()[-500:]}")
        if study is None:
            return {"wall": wall, "cpu": cpu, "html_mb": 0.0}
        html = Path(done.stdout.strip().splitlines()[-1])
        meta = json.loads((html.parent / "run.json").read_text())
        out = {"wall": wall, "cpu": cpu, "html_mb": html.stat().st_size / 1e6}
        phases = meta.get("phases") or {}
        if phases:
            inside = sum(phases.get(k, 0.0)
                         for k in ("start", "kernel_ready", "cells", "after_cells", "render"))
            out.update({f"phase_{k}": v for k, v in phases.items()})
            out["phase_process_and_index"] = wall - inside
        return out


def _summary(label: str, rows: list[dict[str, float]]) -> str:
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    phases = ", ".join(f"{k[6:]} {v:.2f}" for k, v in med.items() if k.startswith("phase_"))
    walls = ", ".join(f"{r['wall']:.2f}" for r in rows)
    return (f"{label}: wall median {med['wall']:.2f} s ({walls}); "
            f"CPU (process + kernel) median {med['cpu']:.2f} s; HTML {med['html_mb']:.2f} MB"
            + (f"\n  phases (medians, s): {phases}" if phases else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default="remarketing")
    ap.add_argument("--all", action="store_true", help="time `experiments run --all` instead")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--target", type=float, default=3.0, help="seconds the median wall time must beat")
    ap.add_argument("--baseline", help="another `experiments` executable to pair with (e.g. main's)")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("experiments"))
    extra = [x for pair in args.parameter for x in ("-p", *pair)]
    study = None if args.all else args.study
    ours: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    run_once(exe, study, extra)  # warm the file cache and the vega bundle cache
    for i in range(args.repeat):
        order = [(exe, ours), (args.baseline, base)] if args.baseline else [(exe, ours)]
        if i % 2:
            order.reverse()
        for which, rows in order:
            rows.append(run_once(which, study, extra))
    med = statistics.median(r["wall"] for r in ours)
    print(f"load average before/after: {os.getloadavg()[0]:.1f}")
    print(_summary(f"experiments run {'--all' if study is None else study}", ours))
    if base:
        print(_summary("baseline", base))
        ratios = [a["wall"] / b["wall"] for a, b in zip(ours, base, strict=True)]
        cpu = [a["cpu"] / b["cpu"] for a, b in zip(ours, base, strict=True)]
        print(f"paired ratio this / baseline: wall median {statistics.median(ratios):.2f} "
              f"({', '.join(f'{r:.2f}' for r in ratios)}); CPU median {statistics.median(cpu):.2f}")
    print(f"target < {args.target:g} s: {'PASS' if med < args.target else 'FAIL'} (median {med:.2f} s)")


if __name__ == "__main__":
    main()
