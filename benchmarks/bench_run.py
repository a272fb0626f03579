"""Wall time of ``experiments run STUDY`` at its defaults, whole process (kernel start and HTML included).

    python benchmarks/bench_run.py [--study remarketing] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default="remarketing")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--target", type=float, default=10.0)
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("experiments")
    times = []
    with tempfile.TemporaryDirectory() as reports:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            done = subprocess.run([str(exe), "run", args.study, "--reports-dir", reports],
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if done.returncode != 0:
                sys.exit(f"run failed: {done.stderr.strip()[-500:]}")
        html = done.stdout.strip().splitlines()[-1]
        size = Path(html).stat().st_size
    med = statistics.median(times)
    print(f"experiments run {args.study}: median {med:.2f} s over {args.repeat} runs "
          f"({', '.join(f'{t:.2f}' for t in times)}); HTML {size / 1e6:.2f} MB; "
          f"target < {args.target:g} s: {'PASS' if med < args.target else 'FAIL'}")


if __name__ == "__main__":
    main()
