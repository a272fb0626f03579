"""Whole-process speed and memory of ``experiments simulate loyalty`` (prints figures; not a test).

The same harness as ``bench_simulate_remarketing.py`` (fresh process per run, peak RSS of that run,
paired medians, optional ``--baseline-src``, byte-identity across worker counts and block sizes),
for the loyalty study at 52 weeks. Target: 10,000,000 customers in under 20 s, under 3 GB.

Usage::

    .venv/bin/python benchmarks/bench_simulate_loyalty.py [--n 10000000] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulate_remarketing import main

__all__ = ["main"]

if __name__ == "__main__":
    main(study="loyalty")
