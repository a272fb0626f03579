"""Whole-process time and peak memory of ``experiments analyze --db`` on a large DuckDB table.

Makes a table of ``--rows`` rows inside DuckDB with SQL (``range()`` and ``random()`` after ``setseed``:
an arm of three, a 0/1 conversion, a revenue amount, a pre-period covariate and a region), then runs
``experiments analyze --db duckdb:///FILE --table experiment`` as a subprocess (metrics conversion and
revenue, covariate pre, segment region) and prints the wall time and the process's peak resident memory
(``os.wait4``'s ``ru_maxrss``: the Python process that embeds DuckDB, so DuckDB's own memory is in it),
with its CPU time (user + system, all threads: the figure to compare on a shared machine).
``--file`` also exports the table to parquet and times the polars path on that file, for comparison
(the two JSON results are checked to agree). ``--keep`` keeps the DuckDB file for another run::

    .venv/bin/python benchmarks/bench_analyze_db.py --rows 10000000 --file
    .venv/bin/python benchmarks/bench_analyze_db.py --rows 100000000
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

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = Path(sys.executable).parent / "experiments"
ARGS = ["--arm", "arm", "--control", "control", "--metric", "converted", "--metric", "revenue",
        "--covariate", "pre", "--segment", "region", "--json", "-"]

MAKE = """
SELECT setseed(0.42);
CREATE TABLE experiment AS
SELECT
    i AS user_id,
    CASE WHEN u < 1 / 3 THEN 'control' WHEN u < 2 / 3 THEN 'offer' ELSE 'reminder' END AS arm,
    CAST(c < CASE WHEN u < 1 / 3 THEN 0.05 ELSE 0.055 END AS INTEGER) AS converted,
    CASE WHEN c < 0.06 THEN round(20 + 80 * random(), 2) ELSE 0.0 END + 0.1 * pre AS revenue,
    pre,
    CASE WHEN r < 0.5 THEN 'north' ELSE 'south' END AS region
FROM (SELECT i, random() AS u, random() AS c, random() AS r, round(50 * random() * random(), 2) AS pre
      FROM range({rows}) t(i));
"""


def _timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system, all threads), peak RSS in MiB, stdout of one subprocess."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd[:3])}... failed: {err}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--dir", type=Path, help="folder for the DuckDB file (a temporary one by default)")
    ap.add_argument("--keep", action="store_true", help="keep the DuckDB file (and reuse it if present)")
    ap.add_argument("--file", action="store_true", help="also time the polars path on a parquet export")
    a = ap.parse_args()
    import duckdb

    folder = a.dir or Path(tempfile.mkdtemp(prefix="bench-db-"))
    db = folder / f"experiment-{a.rows}.duckdb"
    if not db.exists():
        start = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            con.execute(MAKE.format(rows=a.rows))
        print(f"made {a.rows:,} rows in DuckDB in {time.perf_counter() - start:.1f} s "
              f"({db.stat().st_size / 2**20:,.0f} MiB on disk)")
    try:
        wall, cpu, rss, out = _timed([str(EXPERIMENTS), "analyze", "--db", f"duckdb://{db}", "--table",
                                 "experiment", *ARGS])
        res = json.loads(out)
        print(f"analyze --db (DuckDB, {os.cpu_count()} cores): {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"peak RSS {rss:,.0f} MiB; "
              f"{res['n_rows']:,} rows")
        if a.file:
            parquet = folder / f"experiment-{a.rows}.parquet"
            with duckdb.connect(str(db), read_only=True) as con:
                con.execute(f"COPY experiment TO '{parquet}' (FORMAT parquet)")
            fwall, fcpu, frss, fout = _timed([str(EXPERIMENTS), "analyze", str(parquet), *ARGS])
            fres = json.loads(fout)
            same = all(abs(x["estimate"] - y["estimate"]) <= 1e-12 * max(1.0, abs(y["estimate"]))
                       for x, y in zip(res["results"], fres["results"], strict=True))
            print(f"analyze FILE (polars, parquet): {fwall:.1f} s wall, {fcpu:.1f} s CPU, "
                  f"peak RSS {frss:,.0f} MiB; estimates agree to 1e-12: {same}")
            parquet.unlink()
    finally:
        if not a.keep:
            db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
