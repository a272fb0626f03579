"""Whole-process speed and memory of the lifecycle world (prints figures; not a test).

Each run is a fresh Python process started by a small wrapper that reports its peak resident memory
(``RUSAGE_CHILDREN`` of the wrapper, so one run's figure is never the maximum over earlier runs) and
its CPU time. Two runs per configuration by default, alternating: ``simulate_lifecycle`` into memory
(both tables), and ``write_lifecycle`` streaming them to parquet. The machine's load average is printed
beside the figures: on a shared machine the wall time grows with the load while the CPU time does not.
``--identity`` also checks that the parquet files of 1 and 2 workers and two block sizes are
byte-identical. Target: 1,000,000 customers x 104 weeks under 30 s and 3 GB on two cores.

Usage::

    .venv/bin/python benchmarks/bench_simulate_lifecycle.py [--n 1000000] [--workers 2] [--repeat 2]
        [--identity]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["main", "run"]

_WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True)
wall = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "out": done.stdout[-2000:], "err": done.stderr[-2000:],
                  "wall_s": wall, "peak_gb": use.ru_maxrss * 1024 / 1e9,
                  "cpu_s": use.ru_utime + use.ru_stime}))
"""

_MEMORY = """
from experiments.simulate.lifecycle import LifecycleSettings, simulate_lifecycle
sim = simulate_lifecycle(LifecycleSettings(n_customers={n}), seed=1, workers={workers},
                         block_size={block})
print(sim.customers.height, sim.purchases.height)
"""

_STREAM = """
from experiments.simulate.lifecycle import LifecycleSettings, write_lifecycle
rows = write_lifecycle(LifecycleSettings(n_customers={n}),
                       {{"customers": {folder!r} + "/customers.parquet",
                        "purchases": {folder!r} + "/purchases.parquet"}},
                       seed=1, workers={workers}, block_size={block})
print(rows["customers"], rows["purchases"])
"""


def run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh process; its wall time, CPU time and peak memory."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", _WRAPPER, code], capture_output=True, text=True,
                          env=env, check=True)
    out = json.loads(done.stdout)
    if out["rc"] != 0:
        raise RuntimeError(out["err"])
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Parse the options, run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=1_048_576)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--identity", action="store_true")
    args = ap.parse_args()
    print(f"lifecycle world: {args.n:,} customers x 104 weeks, {args.workers} workers, "
          f"cores {os.cpu_count()}, load average before {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        results: dict[str, list[dict[str, object]]] = {"memory": [], "stream": []}
        for _ in range(args.repeat):
            for kind, template in (("memory", _MEMORY), ("stream", _STREAM)):
                code = template.format(n=args.n, workers=args.workers, block=args.block, folder=folder)
                out = run(code)
                results[kind].append(out)
                print(f"  {kind:6s} wall {out['wall_s']:6.1f} s  cpu {out['cpu_s']:6.1f} s  "
                      f"peak {out['peak_gb']:.2f} GB  rows {out['out'].strip()}  "
                      f"load {os.getloadavg()[0]:.1f}")
        for kind, runs in results.items():
            print(f"{kind:6s} median wall {statistics.median(r['wall_s'] for r in runs):.1f} s, "
                  f"cpu {statistics.median(r['cpu_s'] for r in runs):.1f} s, "
                  f"peak {max(r['peak_gb'] for r in runs):.2f} GB")
        sizes = {p.name: p.stat().st_size / 1e6 for p in Path(folder).glob("*.parquet")}
        print("parquet MB:", {k: round(v, 1) for k, v in sorted(sizes.items())})
        if args.identity:
            digests = []
            for workers, block in ((1, 65_536), (2, 4 * 65_536)):
                sub = Path(folder) / f"w{workers}"
                sub.mkdir()
                run(_STREAM.format(n=args.n, workers=workers, block=block, folder=str(sub)))
                digests.append(sorted(_sha(p) for p in sub.glob("*.parquet")))
            print("parquet byte-identical across workers and block sizes:", digests[0] == digests[1])


if __name__ == "__main__":
    main()
