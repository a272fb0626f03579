"""Speed and memory of the remarketing simulator at scale (prints figures; not a timed test).

Each run happens in a fresh child process, which reports its own peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at exit, kB on Linux); the parent's
``RUSAGE_CHILDREN`` figure (maximum over all children so far) is printed as a cross-check.
The parquet files of two block sizes are compared byte for byte. Last, the study's frequency curve
(ten caps on one simulation with common random numbers) is timed in a fresh process too.

Usage::

    .venv/bin/python benchmarks/bench_simulate_remarketing.py [--n 10000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "run_child", "time_curve"]

_CHILD = r"""
import json, resource, sys, time
from experiments.scenarios.remarketing import RemarketingScenario
from experiments.simulate.remarketing import simulate_remarketing
n, workers, block, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
scenario = RemarketingScenario.from_params({"n_customers": n})
t0, c0 = time.perf_counter(), time.process_time()
frame = simulate_remarketing(scenario, block_size=block, workers=workers)
t1, c1 = time.perf_counter(), time.process_time()
if out != "-":
    frame.write_parquet(out)
t2 = time.perf_counter()
print(json.dumps({"simulate_s": t1 - t0, "simulate_cpu_s": c1 - c0, "write_s": t2 - t1, "rows": frame.height,
                  "columns": frame.width, "frame_gb": frame.estimated_size() / 1e9,
                  "child_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}))
"""


_CURVE = r"""
import json, sys, time
from experiments.scenarios.remarketing import RemarketingScenario
from experiments.simulate.truth import frequency_curve
from experiments.studies import remarketing as study
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


def run_child(n: int, workers: int, block_size: int, out: str) -> dict[str, float]:
    """Simulate in a fresh process; return its timings and peak resident memory in GB."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(workers), str(block_size), out],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(process_wall_s=wall, children_peak_gb=peak_kb * 1024 / 1e9)
    return result


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def main() -> None:
    """Run the benchmark and print one line per run plus the identity check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--block-sizes", default="1048576,262144")
    args = parser.parse_args()
    blocks = [int(b) for b in args.block_sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k, block in enumerate(blocks):
            path = Path(tmp) / f"run{k}.parquet"
            workers = args.workers if k == 0 else 1
            r = run_child(args.n, workers, block, str(path))
            files.append(path)
            print(f"n={args.n:,} workers={workers} block_size={block:,}: "
                  f"simulate {r['simulate_s']:.2f} s (CPU {r['simulate_cpu_s']:.2f} s), "
                  f"write parquet {r['write_s']:.2f} s, "
                  f"process {r['process_wall_s']:.2f} s, frame {r['frame_gb']:.2f} GB, "
                  f"peak RSS {r['child_peak_gb']:.2f} GB "
                  f"(children so far {r['children_peak_gb']:.2f} GB), "
                  f"{r['columns']} columns, parquet {path.stat().st_size / 1e6:.0f} MB")
        same = len({_sha(p) for p in files}) == 1
        print(f"parquet bytes identical across block sizes {blocks} "
              f"(workers {args.workers} vs 1): {same}")
    c = time_curve()
    print(f"frequency curve at study defaults: {c['curve_s']:.2f} s "
          f"({c['caps']} caps on one simulation of {c['customers']:,} customers)")


if __name__ == "__main__":
    main()
