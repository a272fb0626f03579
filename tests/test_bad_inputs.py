"""A catalogue of bad inputs over every command: each exits 2 with one stderr line naming what is wrong,
and writes nothing.

Every case runs in this process through :func:`experiments.cli.main` (fast); a representative few also
run as real processes. "Writes nothing" is checked on the whole folder the cases read from and write
into: no file or folder appears, changes or disappears.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")


def _write(path: Path, frame: pl.DataFrame) -> None:
    frame.write_parquet(path) if path.suffix == ".parquet" else frame.write_csv(path)


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the cases read, and the places they try to write."""
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(5)
    n = 400
    exp = pl.DataFrame({"arm": rng.choice(["ctl", "trt"], n), "y": rng.integers(0, 2, n),
                        "spend": rng.gamma(2.0, 10.0, n).round(2), "x": rng.normal(size=n).round(3),
                        "seg": rng.choice(["a", "b"], n), "uid": np.arange(n), "score": rng.normal(size=n)})
    _write(d / "exp.csv", exp)
    row3 = pl.int_range(pl.len()) == 3

    def poke(column: str, value: object) -> pl.DataFrame:
        return exp.with_columns(pl.when(row3).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))

    _write(d / "exp_nan.csv", poke("spend", float("nan")))
    _write(d / "exp_inf.csv", poke("spend", float("inf")))
    _write(d / "exp_huge.csv", poke("spend", 1e300))
    _write(d / "exp_xnan.csv", poke("x", float("nan")))
    _write(d / "exp_xinf.csv", poke("x", float("-inf")))
    _write(d / "exp_empty.csv", exp.head(0))
    (d / "empty.csv").write_bytes(b"")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "ctrl.csv").write_bytes(b"arm\x1b[31m,\x07y\r\nctl,1\r\n")
    _write(d / "summary_negvar.csv", pl.DataFrame({"arm": ["c", "t"], "metric": ["m", "m"],
                                                   "count": [100, 100], "mean": [1.0, 1.2],
                                                   "variance": [1.0, -1.0]}))
    _write(d / "summary_count1.csv", pl.DataFrame({"arm": ["c", "t"], "metric": ["m", "m"], "count": [1, 100],
                                                   "mean": [1.0, 1.2], "variance": [1.0, 1.0]}))
    _write(d / "summary_nan.csv", pl.DataFrame({"arm": ["c", "t"], "metric": ["m", "m"], "count": [100, 100],
                                                "mean": [float("nan"), 1.2], "variance": [1.0, 1.0]}))
    _write(d / "summary_huge.csv", pl.DataFrame({"arm": ["c", "t"], "metric": ["m", "m"], "count": [100, 100],
                                                 "mean": [1e200, 1.2], "variance": [1.0, 1.0]}))
    tx = pl.DataFrame({"id": [1, 1, 2, 2, 3, 3, 3] * 10,
                       "date": ["2020-01-01", "2020-02-01", "2020-01-05", "2020-03-01", "2020-01-10",
                                "2020-02-10", "2020-04-01"] * 10,
                       "amt": [10.0, 20, 30, 40, 50, 60, 70] * 10})
    _write(d / "tx.csv", tx)
    row2 = pl.int_range(pl.len()) == 2

    def tx_poke(column: str, value: object) -> pl.DataFrame:
        return tx.with_columns(pl.when(row2).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))

    _write(d / "tx_inf.csv", tx_poke("amt", float("inf")))
    _write(d / "tx_nan.csv", tx_poke("amt", float("nan")))
    _write(d / "tx_neg.csv", tx_poke("amt", -5.0))
    _write(d / "tx_text.csv", tx.with_columns(pl.col("amt").cast(pl.String)).with_columns(
        pl.when(row2).then(pl.lit("ten")).otherwise(pl.col("amt")).alias("amt")))
    _write(d / "tx_baddate.csv", tx_poke("date", "2020-13-45"))
    _write(d / "tx_nodate.csv", tx_poke("date", None))
    _write(d / "tx_noid.csv", tx.with_columns(pl.when(row2).then(None).otherwise(pl.col("id")).alias("id")))
    _write(d / "tx_empty.csv", tx.head(0))
    (d / "tx.xlsx").write_bytes(b"PK\x03\x04")
    touch = pl.DataFrame({"j": [1, 1, 2, 2, 3], "t": [0.0, 1.0, 0.0, 2.0, 0.0],
                          "ch": ["a", "b", "a", "c", "b"], "conv": [1, 1, 0, 0, 1],
                          "val": [5.0, 5.0, 0.0, 0.0, 3.0]})
    _write(d / "touch.csv", touch)
    first2 = pl.int_range(pl.len()) < 2

    def touch_poke(column: str, value: object) -> pl.DataFrame:
        return touch.with_columns(pl.when(first2).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))

    _write(d / "touch_negval.csv", touch_poke("val", -5.0))
    _write(d / "touch_infval.csv", touch_poke("val", float("inf")))
    _write(d / "touch_conv2.csv", touch_poke("conv", 2))
    _write(d / "touch_nantime.csv", touch_poke("t", float("nan")))
    _write(d / "touch_notime.csv", touch_poke("t", None))
    _write(d / "touch_badtime.csv", touch.with_columns(t=pl.Series(["2020-01-01", "2020-13-02", "2020-01-01",
                                                                     "2020-01-05", "2020-01-03"])))
    _write(d / "touch_nochannel.csv", touch_poke("ch", None))
    _write(d / "touch_varconv.csv", touch.with_columns(conv=pl.Series([1, 0, 0, 0, 1])))
    _write(d / "touch_empty.csv", touch.head(0))
    paths = pl.DataFrame({"path": ["a > b", "b", "a>c"], "conv": [3, 1, 0], "null": [5, 10, 4],
                          "val": [30.0, 10.0, 0.0]})
    _write(d / "paths.csv", paths)
    _write(d / "paths_neg.csv", paths.with_columns(conv=pl.Series([3, -1, 0])))
    _write(d / "paths_nan.csv", paths.with_columns(conv=pl.Series([3.0, float("nan"), 0.0])))
    _write(d / "paths_negval.csv", paths.with_columns(val=pl.Series([30.0, -10.0, 0.0])))
    _write(d / "paths_emptypath.csv", paths.with_columns(path=pl.Series(["a > b", " ", "a>c"])))
    _write(d / "paths_emptychannel.csv", paths.with_columns(path=pl.Series(["a > > b", "b", "a>c"])))
    many = [f"c{i}" for i in range(20)]
    _write(d / "paths_many.csv", pl.DataFrame({"path": [" > ".join(many[i:i + 3]) for i in range(18)],
                                               "conv": [1] * 18, "null": [2] * 18}))
    (d / "out").mkdir()
    (d / "folder").mkdir()
    (d / "existing.json").write_text("keep me")
    (d / "existing.html").write_text("keep me")
    (d / "existing.parquet").write_bytes(b"keep me")
    return d


def _snapshot(d: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p.relative_to(d)), p.stat().st_size if p.is_file() else -1,
                   p.stat().st_mtime_ns if p.is_file() else 0) for p in d.rglob("*"))


#: One case: (what it checks, the command line with {d} for the data folder, a fragment the line holds).
CASES: list[tuple[str, str, str]] = [
    # --- the command line itself
    ("no command", "", "required"),
    ("unknown command", "bogus", "invalid choice"),
    ("unknown option", "studies --bogus", "unrecognized"),
    ("missing required option", "analyze {d}/exp.csv --arm arm", "--control"),
    # --- run
    ("run: unknown study", "run nosuchstudy --reports-dir {d}/out/r", "nosuchstudy"),
    ("run: unknown parameter", "run remarketing -p frequency_kap 3 --reports-dir {d}/out/r", "frequency_kap"),
    ("run: parameter twice", "run remarketing -p seed 1 -p seed 2 --reports-dir {d}/out/r", "twice"),
    ("run: neither study nor --all", "run --reports-dir {d}/out/r", "--all"),
    ("run: study and --all", "run remarketing --all --reports-dir {d}/out/r", "--all"),
    ("run: --all with -p", "run --all -p seed 1 --reports-dir {d}/out/r", "-p"),
    ("run: -p with one value", "run remarketing -p seed", "-p"),
    ("run: reports dir is a file", "run remarketing --reports-dir {d}/exp.csv", "not a folder"),
    ("run: reports dir under a file", "run remarketing --reports-dir {d}/exp.csv/sub", "not a folder"),
    ("run: empty reports dir", "run remarketing --reports-dir ''", "empty path"),
    ("run: reports dir in /proc", "run remarketing --reports-dir /proc/reports", "not writable"),
    ("run: reports dir in /sys", "run remarketing --reports-dir /sys/reports", "not writable"),
    ("run: unknown kernel", "run remarketing --kernel no-such-kernel --reports-dir {d}/out/r", "kernel"),
    # --- sweep
    ("sweep: no grid", "sweep remarketing --reports-dir {d}/out/r", "-g"),
    ("sweep: axis without values", "sweep remarketing -g frequency_cap --reports-dir {d}/out/r", "NAME=V1"),
    ("sweep: axis without name", "sweep remarketing -g =2,4 --reports-dir {d}/out/r", "-g"),
    ("sweep: repeated value", "sweep remarketing -g frequency_cap=2,2 --reports-dir {d}/out/r", "-g"),
    ("sweep: unknown parameter", "sweep remarketing -g frequency_kap=2,4 --reports-dir {d}/out/r",
     "frequency_kap"),
    ("sweep: bad point", "sweep remarketing -g discount=0.1,1.5 --reports-dir {d}/out/r", "discount"),
    ("sweep: bad fixed value", "sweep remarketing -g frequency_cap=2,4 -p cookie_match_rate 2 "
     "--reports-dir {d}/out/r", "cookie_match_rate"),
    ("sweep: swept and fixed", "sweep remarketing -g frequency_cap=2,4 -p frequency_cap 3 "
     "--reports-dir {d}/out/r", "both swept"),
    ("sweep: swept twice", "sweep remarketing -g frequency_cap=2 -g frequency_cap=4 --reports-dir {d}/out/r",
     "twice"),
    ("sweep: too many points", "sweep remarketing -g seed=" + ",".join(map(str, range(1001)))
     + " --reports-dir {d}/out/r", "at most"),
    ("sweep: unknown study", "sweep nosuchstudy -g seed=1,2 --reports-dir {d}/out/r", "nosuchstudy"),
    ("sweep: zero workers", "sweep remarketing -g frequency_cap=2,4 --workers 0 --reports-dir {d}/out/r",
     "--workers"),
    ("sweep: workers and scheduler", "sweep remarketing -g frequency_cap=2,4 --workers 2 --scheduler "
     "tcp://127.0.0.1:1 --reports-dir {d}/out/r", "not both"),
    ("sweep: reports dir is a file", "sweep remarketing -g frequency_cap=2,4 --reports-dir {d}/exp.csv",
     "not a folder"),
    ("sweep: empty reports dir", "sweep remarketing -g frequency_cap=2,4 --reports-dir ''", "empty path"),
    # --- runs
    ("runs: --json into a missing folder", "runs --reports-dir {d}/out --json {d}/nodir/x.json",
         "does not exist"),
    ("runs: empty --json", "runs --reports-dir {d}/out --json ''", "empty path"),
    ("runs: --json is a folder", "runs --reports-dir {d}/out --json {d}/folder", "is a folder"),
    ("runs: --json exists", "runs --reports-dir {d}/out --json {d}/existing.json", "--overwrite"),
    ("runs: unknown study", "runs --reports-dir {d}/out --study nosuchstudy", "nosuchstudy"),
    ("runs: reports dir is a file", "runs --reports-dir {d}/exp.csv", "not a folder"),
    ("runs: empty reports dir", "runs --reports-dir ''", "empty path"),
    # --- studies
    ("studies: --json into a missing folder", "studies --json {d}/nodir/x.json", "does not exist"),
    ("studies: empty --json", "studies --json ''", "empty path"),
    ("studies: --json is a folder", "studies --json {d}/folder", "is a folder"),
    ("studies: --json exists", "studies --json {d}/existing.json", "--overwrite"),
    ("studies: --json in /proc", "studies --json /proc/x.json", "not writable"),
    ("studies: --json in /sys", "studies --json /sys/x.json", "not writable"),
    ("studies: --json under a file", "studies --json {d}/exp.csv/x.json", "not a folder"),
    ("studies: --json ends in a slash", "studies --json {d}/out/", "slash"),
    ("studies: --json is a device", "studies --json /dev/null --overwrite", "not a regular file"),
    ("studies: --json name too long", "studies --json {d}/out/" + "n" * 300 + ".json", "longer than"),
    # --- simulate
    ("simulate: unknown study", "simulate nosuchstudy --out {d}/out/x.parquet", "nosuchstudy"),
    ("simulate: study without simulator", "simulate real_experiment --out {d}/out/x.parquet", "simulator"),
    ("simulate: no --out", "simulate remarketing", "--out"),
    ("simulate: empty --out", "simulate remarketing --out ''", "empty path"),
    ("simulate: --out into a missing folder", "simulate remarketing --out {d}/nodir/x.parquet",
     "does not exist"),
    ("simulate: --out is a folder", "simulate remarketing --out {d}/folder", "is a folder"),
    ("simulate: --out exists", "simulate remarketing --out {d}/existing.parquet", "--overwrite"),
    ("simulate: --out in /proc", "simulate remarketing --out /proc/x.parquet", "not writable"),
    ("simulate: --out ends in a slash", "simulate loyalty --out {d}/out/", "slash"),
    ("simulate: --out is a device", "simulate remarketing --out /dev/null --overwrite", "not a regular file"),
    ("simulate: negative customers", "simulate remarketing --n-customers -5 --out {d}/out/x.parquet",
     "n_customers"),
    ("simulate: text customers", "simulate remarketing --n-customers abc --out {d}/out/x.parquet",
     "n_customers"),
    ("simulate: fractional customers", "simulate remarketing --n-customers 2.5 --out {d}/out/x.parquet",
     "n_customers"),
    ("simulate: absurd customers", "simulate remarketing --n-customers 1e20 --out {d}/out/x.parquet",
     "n_customers"),
    ("simulate: negative seed", "simulate remarketing --seed -1 --out {d}/out/x.parquet", "seed"),
    ("simulate: zero block size", "simulate remarketing --block-size 0 --out {d}/out/x.parquet",
         "block_size"),
    ("simulate: block size beyond memory", "simulate remarketing --block-size 1e13 --out {d}/out/x.parquet",
     "block_size"),
    ("simulate: zero workers", "simulate remarketing --workers 0 --out {d}/out/x.parquet", "workers"),
    ("simulate: absurd workers", "simulate remarketing --workers 100000 --out {d}/out/x.parquet", "workers"),
    ("simulate: -inf margin", "simulate remarketing -p margin -inf --out {d}/out/x.parquet", "margin"),
    ("simulate: nan margin", "simulate remarketing -p margin nan --out {d}/out/x.parquet", "margin"),
    ("simulate: unknown parameter", "simulate remarketing -p nope 1 --out {d}/out/x.parquet", "nope"),
    ("simulate: unknown channel", "simulate remarketing -p channels display,billboard "
     "--out {d}/out/x.parquet", "billboard"),
    ("simulate: shares above 1", "simulate remarketing -p arm_shares holdout:0.5,dynamic:0.6 "
     "--out {d}/out/x.parquet", "arm_shares"),
    ("simulate: loyalty horizon", "simulate loyalty -p horizon 0 --out {d}/out/x.parquet", "horizon"),
    ("simulate: omnichannel weeks", "simulate omnichannel -p weeks 100 --out {d}/out/x.parquet", "weeks"),
    ("simulate: incentive unknown", "simulate remarketing -p incentive bogus --out {d}/out/x.parquet",
     "incentive"),
    # --- analyze: files
    ("analyze: missing file", "analyze {d}/nofile.csv --arm arm --control ctl --metric y", "does not exist"),
    ("analyze: empty file", "analyze {d}/empty.csv --arm arm --control ctl --metric y", "empty"),
    ("analyze: header only", "analyze {d}/exp_empty.csv --arm arm --control ctl --metric y", "no rows"),
    ("analyze: binary file", "analyze {d}/binary.csv --arm arm --control ctl --metric y", "unknown column"),
    ("analyze: control characters in names", "analyze {d}/ctrl.csv --arm a --control ctl --metric y",
     "\\x1b"),
    ("analyze: folder without parquet", "analyze {d}/folder --arm arm --control ctl --metric y", "parquet"),
    ("analyze: glob matching nothing", "analyze '{d}/*.nothing' --arm arm --control ctl --metric y",
     "no file matches"),
    # --- analyze: columns and roles
    ("analyze: unknown arm column", "analyze {d}/exp.csv --arm nope --control ctl --metric y", "nope"),
    ("analyze: unknown metric", "analyze {d}/exp.csv --arm arm --control ctl --metric nope", "nope"),
    ("analyze: unknown control", "analyze {d}/exp.csv --arm arm --control nope --metric y", "nope"),
    ("analyze: arm as metric", "analyze {d}/exp.csv --arm arm --control ctl --metric arm", "arm column"),
    ("analyze: metric as covariate", "analyze {d}/exp.csv --arm arm --control ctl --metric y --covariate y",
     "covariate"),
    ("analyze: metric as segment", "analyze {d}/exp.csv --arm arm --control ctl --metric y --segment y",
     "segment"),
    ("analyze: arm as segment", "analyze {d}/exp.csv --arm arm --control ctl --metric y --segment arm",
     "arm column"),
    ("analyze: arm as unit", "analyze {d}/exp.csv --arm arm --control ctl --metric y --unit arm",
         "arm column"),
    ("analyze: text metric", "analyze {d}/exp.csv --arm arm --control ctl --metric seg", "text"),
    ("analyze: text covariate", "analyze {d}/exp.csv --arm arm --control ctl --metric y --covariate seg",
     "covariate"),
    ("analyze: no metric", "analyze {d}/exp.csv --arm arm --control ctl", "metric"),
    ("analyze: ratio without slash", "analyze {d}/exp.csv --arm arm --control ctl --metric y --ratio spend",
     "ratio"),
    ("analyze: ratio unknown column", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--ratio spend/nope", "ratio"),
    # --- analyze: values
    ("analyze: NaN metric", "analyze {d}/exp_nan.csv --arm arm --control ctl --metric spend", "NaN"),
    ("analyze: infinite metric", "analyze {d}/exp_inf.csv --arm arm --control ctl --metric spend",
         "infinite"),
    ("analyze: huge metric", "analyze {d}/exp_huge.csv --arm arm --control ctl --metric spend", "1e+100"),
    ("analyze: NaN covariate", "analyze {d}/exp_xnan.csv --arm arm --control ctl --metric y --covariate x",
     "NaN"),
    ("analyze: infinite covariate", "analyze {d}/exp_xinf.csv --arm arm --control ctl --metric y "
     "--covariate x", "infinite"),
    ("analyze: negative variance", "analyze {d}/summary_negvar.csv --arm arm --control c",
         "negative variance"),
    ("analyze: count below 2", "analyze {d}/summary_count1.csv --arm arm --control c", "count below 2"),
    ("analyze: NaN summary mean", "analyze {d}/summary_nan.csv --arm arm --control c", "mean"),
    ("analyze: huge summary mean", "analyze {d}/summary_huge.csv --arm arm --control c", "1e100"),
    ("analyze: segment with summary input", "analyze {d}/summary_negvar.csv --arm arm --control c "
     "--segment metric", "summary"),
    ("analyze: drop-nonfinite with summary input", "analyze {d}/summary_negvar.csv --arm arm --control c "
     "--drop-nonfinite", "summary"),
    # --- analyze: options
    ("analyze: alpha 0", "analyze {d}/exp.csv --arm arm --control ctl --metric y --alpha 0", "alpha"),
    ("analyze: alpha 1", "analyze {d}/exp.csv --arm arm --control ctl --metric y --alpha 1", "alpha"),
    ("analyze: alpha nan", "analyze {d}/exp.csv --arm arm --control ctl --metric y --alpha nan", "alpha"),
    ("analyze: alpha -inf", "analyze {d}/exp.csv --arm arm --control ctl --metric y --alpha -inf", "alpha"),
    ("analyze: negative bootstrap", "analyze {d}/exp.csv --arm arm --control ctl --metric y --bootstrap -1",
     "bootstrap"),
    ("analyze: absurd bootstrap", "analyze {d}/exp.csv --arm arm --control ctl --metric y --bootstrap 1e7",
     "bootstrap"),
    ("analyze: too few resamples", "analyze {d}/exp.csv --arm arm --control ctl --metric y --bootstrap 5",
     "bootstrap"),
    ("analyze: negative seed", "analyze {d}/exp.csv --arm arm --control ctl --metric y --seed -1", "seed"),
    ("analyze: shares above 1", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--shares ctl:0.5,trt:0.7", "shares"),
    ("analyze: unknown correction", "analyze {d}/exp.csv --arm arm --control ctl --metric y --correction x",
     "correction"),
    # --- analyze: outputs
    ("analyze: --json into a missing folder", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--json {d}/nodir/x.json", "does not exist"),
    ("analyze: empty --json", "analyze {d}/exp.csv --arm arm --control ctl --metric y --json ''",
         "empty path"),
    ("analyze: --json is a folder", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--json {d}/folder", "is a folder"),
    ("analyze: --json exists", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--json {d}/existing.json", "--overwrite"),
    ("analyze: --html exists", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--html {d}/existing.html", "--overwrite"),
    ("analyze: --html to standard output", "analyze {d}/exp.csv --arm arm --control ctl --metric y --html -",
     "standard output"),
    ("analyze: --json and --html one file", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--json {d}/out/a.x --html {d}/out/a.x", "same file"),
    ("analyze: --json in /proc", "analyze {d}/exp.csv --arm arm --control ctl --metric y --json /proc/x.json",
     "not writable"),
    ("analyze: --html is a device", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--html /dev/null --overwrite", "not a regular file"),
    ("analyze: --html ends in a slash", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--html {d}/out/", "slash"),
    ("analyze: --html under a file", "analyze {d}/exp.csv --arm arm --control ctl --metric y "
     "--html {d}/exp.csv/x.html", "not a folder"),
    # --- power
    ("power: baseline 0", "power --baseline 0 --mde 0.01", "baseline"),
    ("power: baseline above 1", "power --baseline 1.5 --mde 0.01", "baseline"),
    ("power: baseline -inf", "power --baseline -inf --mde 0.01", "baseline"),
    ("power: baseline nan", "power --baseline nan --mde 0.01", "baseline"),
    ("power: zero mde", "power --baseline 0.05 --mde 0", "mde"),
    ("power: mde too small to converge", "power --baseline 0.05 --mde 1e-12", "mde"),
    ("power: relative mde too small", "power --baseline 0.05 --mde 1e-12 --relative", "mde"),
    ("power: mde out of range", "power --baseline 0.05 --mde -0.9", "mde"),
    ("power: mde nan", "power --baseline 0.05 --mde nan", "mde"),
    ("power: mde -inf", "power --baseline 0.05 --mde -inf", "mde"),
    ("power: continuous mde too small", "power --baseline 5 --mde 1e-12 --kind continuous --sd 1", "mde"),
    ("power: neither mde nor n", "power --baseline 0.05", "mde"),
    ("power: n 1", "power --baseline 0.05 --n 1", "'n'"),
    ("power: absurd n", "power --baseline 0.05 --n 1e20", "'n'"),
    ("power: fractional n", "power --baseline 0.05 --n 2.5", "'n'"),
    ("power: one arm", "power --baseline 0.05 --mde 0.01 --arms 1", "arms"),
    ("power: absurd arms", "power --baseline 0.05 --mde 0.01 --arms 1e9", "arms"),
    ("power: alpha 0", "power --baseline 0.05 --mde 0.01 --alpha 0", "alpha"),
    ("power: power 1", "power --baseline 0.05 --mde 0.01 --power 1", "power"),
    ("power: continuous without sd", "power --baseline 5 --mde 1 --kind continuous", "sd"),
    ("power: sd 0", "power --baseline 5 --mde 1 --kind continuous --sd 0", "sd"),
    ("power: negative sd", "power --baseline 5 --mde 1 --kind continuous --sd -1", "sd"),
    ("power: unknown kind", "power --baseline 0.05 --mde 0.01 --kind weird", "kind"),
    ("power: --json into a missing folder", "power --baseline 0.05 --mde 0.01 --json {d}/nodir/x.json",
     "does not exist"),
    ("power: --json exists", "power --baseline 0.05 --mde 0.01 --json {d}/existing.json", "--overwrite"),
    ("power: empty --json", "power --baseline 0.05 --mde 0.01 --json ''", "empty path"),
    # --- clv
    ("clv: missing file", "clv {d}/nofile.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "not found"),
    ("clv: empty file", "clv {d}/empty.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "empty"),
    ("clv: header only", "clv {d}/tx_empty.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "no transactions"),
    ("clv: unsupported file type", "clv {d}/tx.xlsx --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", ".xlsx"),
    ("clv: binary file", "clv {d}/binary.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "--customer"),
    ("clv: unknown column", "clv {d}/tx.csv --customer nope --date date --amount amt "
     "--calibration-end 2020-02-15", "nope"),
    ("clv: one column in two roles", "clv {d}/tx.csv --customer id --date date --amount id "
     "--calibration-end 2020-02-15", "different columns"),
    ("clv: missing id", "clv {d}/tx_noid.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "missing ids"),
    ("clv: unparseable date", "clv {d}/tx_baddate.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "2020-13-45"),
    ("clv: missing date", "clv {d}/tx_nodate.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "missing dates"),
    ("clv: text amount", "clv {d}/tx_text.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "ten"),
    ("clv: infinite amount", "clv {d}/tx_inf.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "infinite"),
    ("clv: NaN amount", "clv {d}/tx_nan.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "NaN"),
    ("clv: negative amount", "clv {d}/tx_neg.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15", "negative"),
    ("clv: calibration end not a date", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end soon", "calibration_end"),
    ("clv: calibration end 30 February", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-30", "calibration_end"),
    ("clv: calibration end outside", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2019-01-01", "calibration end"),
    ("clv: holdout before calibration", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15 --holdout-end 2020-01-01", "holdout end"),
    ("clv: unknown time unit", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15 --time-unit year", "time_unit"),
    ("clv: --json into a missing folder", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15 --json {d}/nodir/x.json", "does not exist"),
    ("clv: --json exists", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15 --json {d}/existing.json", "--overwrite"),
    ("clv: empty --json", "clv {d}/tx.csv --customer id --date date --amount amt "
     "--calibration-end 2020-02-15 --json ''", "empty path"),
    # --- uplift
    ("uplift: missing file", "uplift {d}/nofile.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x", "does not exist"),
    ("uplift: empty file", "uplift {d}/empty.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x", "empty"),
    ("uplift: header only", "uplift {d}/exp_empty.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x", "no rows"),
    ("uplift: unknown column", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature nope", "nope"),
    ("uplift: text outcome", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome seg "
     "--feature x", "not numeric"),
    ("uplift: arm as outcome", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome arm "
     "--feature x", "outcome"),
    ("uplift: outcome as feature", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature y", "feature"),
    ("uplift: feature twice", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --feature x", "feature"),
    ("uplift: same labels", "uplift {d}/exp.csv --arm arm --treatment trt --control trt --outcome y "
     "--feature x", "treatment"),
    ("uplift: absent label", "uplift {d}/exp.csv --arm arm --treatment nope --control ctl --outcome y "
     "--feature x", "nope"),
    ("uplift: NaN outcome", "uplift {d}/exp_nan.csv --arm arm --treatment trt --control ctl --outcome spend "
     "--feature x", "non-finite"),
    ("uplift: infinite outcome", "uplift {d}/exp_inf.csv --arm arm --treatment trt --control ctl "
     "--outcome spend --feature x", "non-finite"),
    ("uplift: infinite feature", "uplift {d}/exp_xinf.csv --arm arm --treatment trt --control ctl "
         "--outcome y "
     "--feature x", "infinite"),
    ("uplift: one fold", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y --feature x "
     "--folds 1", "folds"),
    ("uplift: absurd folds", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --folds 1000", "folds"),
    ("uplift: zero bins", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
         "--feature x "
     "--bins 0", "bins"),
    ("uplift: absurd bins", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --bins 1e5", "bins"),
    ("uplift: too few resamples", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --bootstrap 10", "bootstrap"),
    ("uplift: absurd resamples", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --bootstrap 1e9", "bootstrap"),
    ("uplift: k 0", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y --feature x "
         "--k 0",
     "'k'"),
    ("uplift: k 1", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y --feature x "
         "--k 1",
     "'k'"),
    ("uplift: alpha 1", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y --feature x "
     "--alpha 1", "alpha"),
    ("uplift: propensity 0", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --propensity 0", "propensity"),
    ("uplift: value nan", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
         "--feature x "
     "--value-per-outcome nan", "value_per_outcome"),
    ("uplift: cost -inf", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
         "--feature x "
     "--cost-per-treated -inf", "cost_per_treated"),
    ("uplift: negative cost", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --cost-per-treated -1", "cost_per_treated"),
    ("uplift: one level", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
         "--feature x "
     "--max-levels 1", "max_levels"),
    ("uplift: unknown learner", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --learner z", "learner"),
    ("uplift: scores not parquet", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --scores-out {d}/out/s.csv", "parquet"),
    ("uplift: empty --scores-out", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --scores-out ''", "empty path"),
    ("uplift: --html into a missing folder", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --feature x --html {d}/nodir/x.html", "does not exist"),
    ("uplift: --json exists", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--feature x --json {d}/existing.json", "--overwrite"),
    ("uplift: --json and --html one file", "uplift {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --feature x --json {d}/out/a.x --html {d}/out/a.x", "same file"),
    # --- uplift-eval
    ("uplift-eval: missing file", "uplift-eval {d}/nofile.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score score", "does not exist"),
    ("uplift-eval: header only", "uplift-eval {d}/exp_empty.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score score", "no rows"),
    ("uplift-eval: unknown score", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score nope", "nope"),
    ("uplift-eval: outcome as score", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score y", "score"),
    ("uplift-eval: arm as score", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score arm", "score"),
    ("uplift-eval: text score", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score seg", "not numeric"),
    ("uplift-eval: text outcome", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome seg --score score", "not numeric"),
    ("uplift-eval: NaN outcome", "uplift-eval {d}/exp_nan.csv --arm arm --treatment trt --control ctl "
     "--outcome spend --score score", "non-finite"),
    ("uplift-eval: NaN score", "uplift-eval {d}/exp_xnan.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score x", "score"),
    ("uplift-eval: absent label", "uplift-eval {d}/exp.csv --arm arm --treatment nope --control ctl "
     "--outcome y --score score", "nope"),
    ("uplift-eval: k 0", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--score score --k 0", "'k'"),
    ("uplift-eval: k 2", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--score score --k 2", "'k'"),
    ("uplift-eval: k -inf", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl --outcome y "
     "--score score --k -inf", "'k'"),
    ("uplift-eval: --json into a missing folder", "uplift-eval {d}/exp.csv --arm arm --treatment trt "
     "--control ctl --outcome y --score score --json {d}/nodir/x.json", "does not exist"),
    ("uplift-eval: --json exists", "uplift-eval {d}/exp.csv --arm arm --treatment trt --control ctl "
     "--outcome y --score score --json {d}/existing.json", "--overwrite"),
    # --- attribute
    ("attribute: no input form", "attribute {d}/touch.csv", "--journey"),
    ("attribute: both forms", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--path p", "one input form"),
    ("attribute: path form incomplete", "attribute {d}/paths.csv --path path", "--conversions"),
    ("attribute: missing file", "attribute {d}/nofile.csv --journey j --time t --channel ch --converted conv",
     "does not exist"),
    ("attribute: empty file", "attribute {d}/empty.csv --journey j --time t --channel ch --converted conv",
     "empty"),
    ("attribute: header only", "attribute {d}/touch_empty.csv --journey j --time t --channel ch "
     "--converted conv", "no touchpoint rows"),
    ("attribute: unknown column", "attribute {d}/touch.csv --journey j --time t --channel nope "
     "--converted conv", "nope"),
    ("attribute: one column in two roles", "attribute {d}/touch.csv --journey j --time t --channel j "
     "--converted conv", "both"),
    ("attribute: value is the flag", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --value conv", "both"),
    ("attribute: flag 2", "attribute {d}/touch_conv2.csv --journey j --time t --channel ch --converted conv",
     "0/1"),
    ("attribute: flag varies in a journey", "attribute {d}/touch_varconv.csv --journey j --time t "
     "--channel ch --converted conv", "not constant"),
    ("attribute: negative value", "attribute {d}/touch_negval.csv --journey j --time t --channel ch "
     "--converted conv --value val", "negative"),
    ("attribute: infinite value", "attribute {d}/touch_infval.csv --journey j --time t --channel ch "
     "--converted conv --value val", "finite"),
    ("attribute: NaN time", "attribute {d}/touch_nantime.csv --journey j --time t --channel ch "
     "--converted conv", "--time"),
    ("attribute: missing time", "attribute {d}/touch_notime.csv --journey j --time t --channel ch "
     "--converted conv", "missing times"),
    ("attribute: unparseable date", "attribute {d}/touch_badtime.csv --journey j --time t --channel ch "
     "--converted conv", "2020-13-02"),
    ("attribute: missing channel", "attribute {d}/touch_nochannel.csv --journey j --time t --channel ch "
     "--converted conv", "channel"),
    ("attribute: negative conversions", "attribute {d}/paths_neg.csv --path path --conversions conv "
     "--nulls null", "negative"),
    ("attribute: NaN conversions", "attribute {d}/paths_nan.csv --path path --conversions conv --nulls null",
     "finite"),
    ("attribute: negative path value", "attribute {d}/paths_negval.csv --path path --conversions conv "
     "--nulls null --value val", "negative"),
    ("attribute: path column as counts", "attribute {d}/paths.csv --path path --conversions path --nulls "
         "null",
     "both"),
    ("attribute: empty path", "attribute {d}/paths_emptypath.csv --path path --conversions conv --nulls null",
     "empty path"),
    ("attribute: empty channel in a path", "attribute {d}/paths_emptychannel.csv --path path "
     "--conversions conv --nulls null", "empty channel"),
    ("attribute: empty separator", "attribute {d}/paths.csv --path path --conversions conv --nulls null "
     "--sep ''", "--sep"),
    ("attribute: Shapley alone past 15 channels", "attribute {d}/paths_many.csv --path path "
     "--conversions conv --nulls null --model shapley", "shapley"),
    ("attribute: order 0", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--order 0", "--order"),
    ("attribute: absurd order", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--order 100", "--order"),
    ("attribute: half-life 0", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--half-life 0", "--half-life"),
    ("attribute: half-life -inf", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --half-life -inf", "--half-life"),
    ("attribute: half-life nan", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --half-life nan", "--half-life"),
    ("attribute: unknown model", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--model bogus", "bogus"),
    ("attribute: --json into a missing folder", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --json {d}/nodir/x.json", "does not exist"),
    ("attribute: --json and --html one file", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --json {d}/out/a.x --html {d}/out/a.x", "same file"),
    ("attribute: --html in /proc", "attribute {d}/touch.csv --journey j --time t --channel ch "
     "--converted conv --html /proc/x.html", "not writable"),
    ("attribute: empty --html", "attribute {d}/touch.csv --journey j --time t --channel ch --converted conv "
     "--html ''", "empty path"),
]


def _argv(line: str, d: Path) -> list[str]:
    return shlex.split(line.replace("{d}", shlex.quote(str(d))))


def _in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # usage errors end in argparse's exit
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("line", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(
    d: Path, line: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(d)
    code, out, err = _in_process(_argv(line, d), capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("experiments") and "error" in lines[0], lines[0]
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert lines[0].isprintable(), lines[0]
    assert out == ""
    assert _snapshot(d) == before, "something was written"


def test_the_catalogue_is_big_enough_and_covers_every_command() -> None:
    from experiments.cli import COMMANDS

    assert len(CASES) >= 150
    assert len({c[0] for c in CASES}) == len(CASES)
    covered = {shlex.split(c[1])[0] for c in CASES if c[1]}
    assert set(COMMANDS) <= covered


#: Bad values that pass the parser and the study's declaration, refused by the notebook's validation cell
#: (a kernel starts for each: a few only).
KERNEL_CASES = [
    ("-inf margin", ["-p", "margin", "-inf"], "margin"),
    ("customers beyond this machine's memory", ["-p", "n_customers", "150000000"], "at most"),
]


@pytest.mark.parametrize(("extra", "fragment"), [c[1:] for c in KERNEL_CASES],
                         ids=[c[0] for c in KERNEL_CASES])
def test_run_refuses_bad_values_from_the_notebook(
    d: Path, extra: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(d)
    code, _, err = _in_process(["run", "remarketing", *extra, "--reports-dir", str(d / "out" / "r")], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and fragment in lines[0], err
    assert "allowed" in lines[0]
    assert _snapshot(d) == before


#: Real processes for a few cases: the exit status and stderr a shell sees.
PROCESS_CASES = ["run: unknown study", "run: empty reports dir", "analyze: control characters in names",
                 "analyze: NaN metric", "power: mde too small to converge", "clv: infinite amount",
                 "attribute: one column in two roles", "simulate: -inf margin"]


@pytest.mark.parametrize("name", PROCESS_CASES)
def test_bad_input_in_a_real_process(d: Path, name: str) -> None:
    line, fragment = next(c[1:] for c in CASES if c[0] == name)
    before = _snapshot(d)
    done = subprocess.run([sys.executable, "-m", "experiments.cli", *_argv(line, d)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CI": "true"})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and fragment.lower() in lines[0].lower(), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert _snapshot(d) == before


def test_outputs_are_checked_before_a_long_simulation_starts(d: Path) -> None:
    """150 million customers would take minutes; a bad --out is refused before any of it."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "simulate", "remarketing",
                           "--n-customers", "150000000", "--out", str(d / "nodir" / "x.parquet")],
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - start
    assert done.returncode == 2 and "does not exist" in done.stderr and took < 15, (took, done.stderr)


def test_outputs_are_checked_before_a_long_fit_starts(d: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An uplift fit with 100 folds and 100,000 resamples would take long; a bad --html is refused first."""
    start = time.monotonic()
    code, _, err = _in_process(["uplift", str(d / "exp.csv"), "--arm", "arm", "--treatment", "trt",
                                "--control", "ctl", "--outcome", "y", "--feature", "x", "--folds", "100",
                                "--bootstrap", "100000", "--html", str(d / "nodir" / "x.html")], capsys)
    assert code == 2 and "does not exist" in err and time.monotonic() - start < 5


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not stop root")
@pytest.mark.parametrize("line", [
    "analyze {d}/exp.csv --arm arm --control ctl --metric y --json {ro}/x.json",
    "run remarketing --reports-dir {ro}/reports",
    "simulate remarketing --out {ro}/x.parquet",
])
def test_read_only_folders(d: Path, tmp_path: Path, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = _in_process(_argv(line.replace("{ro}", str(ro)), d), capsys)
    finally:
        ro.chmod(0o755)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not writable" in err
    assert not list(ro.iterdir())


def test_every_command_that_writes_a_file_states_the_output_rule() -> None:
    """--help of each command with a file output says: checked first, --overwrite to replace, - for stdout."""
    import argparse

    from experiments.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    writers = []
    for name, parser in sub.choices.items():
        options = {o for a in parser._actions for o in a.option_strings}
        if options & {"--json", "--html", "--out", "--scores-out"}:
            writers.append(name)
            text = " ".join((parser.description or "").split())
            assert "before any work" in text and "--overwrite" in text, name
            assert "--overwrite" in options, name
    assert {"studies", "runs", "simulate", "analyze", "power", "clv", "uplift", "uplift-eval",
            "attribute"} <= set(writers)


def test_terminal_escapes_from_a_file_are_printed_escaped(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A label that would set the terminal's title reaches the screen as visible text."""
    path = tmp_path / "esc.csv"
    path.write_text('arm,y\n"ctl\x1b]0;pwned\x07",1\n"ctl\x1b]0;pwned\x07",0\ntrt,1\ntrt,0\n')
    code, out, _ = _in_process(["analyze", str(path), "--arm", "arm", "--control", "trt", "--metric", "y"],
                               capsys)
    assert code == 0 and "\x1b" not in out and "\x07" not in out and "ctl\\x1b]0;pwned\\x07" in out
