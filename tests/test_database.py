"""Experiment tables in a database (``analyze --db``): the same numbers as a file of the same rows.

The same rows are written as a parquet file, a DuckDB table and a PostgreSQL table (a throwaway server,
see ``tests/pg_server.py``); every number of ``analyze``'s JSON must agree within 1e-12. PostgreSQL is
skipped (with the reason) where no server binaries are installed, and a failure when ``CI=true``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from experiments.cli import main
from tests.pg_server import find_binaries, postgres_server

CDNOW = Path(__file__).parent / "fixtures" / "cdnow_sample.csv"

ODD = 'spend "x"; DROP TABLE t; --'  # a column name that must be quoted, never pasted into SQL
TABLE = "exp table"
BASE = ["--arm", "arm", "--control", "ctrl", "--metric", "converted", "--metric", "revenue", "--metric",
        "flag", "--metric", "items", "--metric", ODD, "--covariate", "pre", "--segment", "region", "--ratio",
        "revenue/orders", "--unit", "user", "--bayesian"]


def _frame() -> pl.DataFrame:
    rng = np.random.default_rng(11)
    n = 5_000
    arm = pl.Series(rng.choice(["ctrl", "A", "B"], n)).set(pl.Series(rng.random(n) < 0.004), None)
    pre = rng.gamma(1, 20, n)
    conv = rng.random(n) < 0.07
    region = pl.Series(rng.choice(["north", "south", "west"], n)).set(pl.Series(rng.random(n) < 0.01), None)
    orders = (rng.poisson(1.0, n) + conv).astype(float)
    return pl.DataFrame({
        "user": np.arange(n) % 4_950, "arm": arm, "converted": np.where(conv, "Yes", "no"),
        "revenue": conv * rng.gamma(2, 30, n) + 0.2 * pre - 4.0, "pre": pre, "region": region,
        "flag": rng.random(n) < 0.3, "items": pl.Series(rng.integers(0, 6, n), dtype=pl.Int16),
        ODD: rng.normal(1e6, 3e5, n), "orders": pl.Series(orders).set(pl.Series(rng.random(n) < 0.02), None),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("db")
    frame = _frame()
    parquet = d / "exp.parquet"
    frame.write_parquet(parquet)
    odd = frame.with_columns(
        pl.when(pl.col("user") % 500 == 1).then(float("nan")).otherwise(pl.col("revenue")).alias("revenue"),
        pl.when(pl.col("user") == 7).then(float("-inf")).otherwise(pl.col("pre")).alias("pre"),
        pl.when(pl.col("user") == 9).then(pl.lit("maybe")).otherwise(pl.col("converted")).alias("text"))
    nonfinite = d / "nonfinite.parquet"
    odd.write_parquet(nonfinite)
    # CDNOW transactions with dates, plus a second purchase on some days (amounts added per day)
    cdnow = pl.read_csv(CDNOW).select(
        "customer_id", pl.col("date").cast(pl.String).str.to_date("%Y%m%d"), "amount")
    tx = pl.concat([cdnow, cdnow.filter(pl.col("customer_id") % 3 == 0)
                    .with_columns(pl.col("amount") * 0.37 + 0.013)])
    transactions = d / "tx.parquet"
    tx.write_parquet(transactions)
    db = d / "exp.duckdb"
    with duckdb.connect(str(db)) as con:
        for name, path in ((TABLE, parquet), ("nonfinite", nonfinite), ("tx", transactions)):
            con.execute(f"CREATE TABLE \"{name}\" AS SELECT * FROM read_parquet('{path}')")
        con.execute("CREATE TABLE tx_text AS SELECT customer_id, CAST(date AS VARCHAR) AS date, amount "
                    "FROM tx")
    return {"frame": frame, "odd": odd, "parquet": parquet, "nonfinite": nonfinite, "duckdb": db, "tx": tx,
            "transactions": transactions}


_PG_TYPES = {pl.String: "text", pl.Int64: "bigint", pl.Int16: "smallint", pl.Float64: "double precision",
             pl.Boolean: "boolean", pl.Date: "date"}


def _load_postgres(url: str, tables: dict[str, pl.DataFrame]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as con, con.cursor() as cur:
        for name, frame in tables.items():
            cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_PG_TYPES[t]))
                                      for c, t in frame.schema.items())
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name), cols))
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, frame.columns)))
            with cur.copy(copy) as out:
                for row in frame.iter_rows():
                    out.write_row(row)


@pytest.fixture(scope="module")
def postgres(data: dict[str, Any]) -> Iterator[str]:
    """URL of a throwaway PostgreSQL server holding the test tables."""
    bin_dir = find_binaries()
    if bin_dir is None:
        reason = ("PostgreSQL is not installed (initdb and pg_ctl are neither under "
                  "/usr/lib/postgresql/*/bin nor on PATH)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI installs it (.ci/run)")
        pytest.skip(reason)
    with postgres_server(bin_dir) as url:
        _load_postgres(url, {TABLE: data["frame"], "nonfinite": data["odd"], "tx": data["tx"]})
        yield url


@pytest.fixture(params=["duckdb", "postgres"])
def db_url(request: pytest.FixtureRequest, data: dict[str, Any]) -> str:
    if request.param == "duckdb":
        return f"duckdb://{data['duckdb']}"
    return str(request.getfixturevalue("postgres"))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = _run(capsys, *args, "--json", "-")
    assert code == 0, err
    return json.loads(out)


def _assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal structure and text; numbers within 1e-12 (relative, or absolute near zero)."""
    if isinstance(a, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for k in a:
            _assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), \
            (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_database_table_gives_the_numbers_of_the_file(data: dict[str, Any], db_url: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Every metric kind (yes/no text, amounts, booleans, small integers, a column named like SQL), CUPED,
    segments, a ratio with missing values, unit checks, missing arms: the JSON of the file and of the
    table agree to 1e-12."""
    from_file = _json(capsys, str(data["parquet"]), *BASE)
    from_db = _json(capsys, "--db", db_url, "--table", TABLE, *BASE)
    assert from_db.pop("database") == {"url": db_url, "table": TABLE, "query": None}
    _assert_same(from_file, from_db)
    assert from_db["metrics"] == {"converted": "binary", "revenue": "continuous", "flag": "binary",
                                  "items": "continuous", ODD: "continuous"}
    assert from_db["data_quality"]["missing"]["arm"] > 0 and from_db["data_quality"]["duplicate_units"] == 50
    assert len(from_db["ratio_results"]) == 2 and len(from_db["adjusted_results"]) == 2 * 5


def test_nonfinite_values_are_refused_or_dropped_alike(data: dict[str, Any], db_url: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--arm", "arm", "--control", "ctrl", "--metric", "revenue", "--metric", "pre"]
    code_f, _, err_f = _run(capsys, str(data["nonfinite"]), *args)
    code_d, _, err_d = _run(capsys, "--db", db_url, "--table", "nonfinite", *args)
    assert code_f == code_d == 2 and err_f == err_d and "NaN" in err_d and "'B'" in err_d
    from_file = _json(capsys, str(data["nonfinite"]), *args, "--drop-nonfinite")
    from_db = _json(capsys, "--db", db_url, "--table", "nonfinite", *args, "--drop-nonfinite")
    del from_db["database"]
    _assert_same(from_file, from_db)
    assert from_db["data_quality"]["nan"]["revenue"] > 0 and from_db["data_quality"]["infinite"]["pre"] > 0
    # a yes/no column with a third spelling: the same line, with the same example
    code_f, _, err_f = _run(capsys, str(data["nonfinite"]), "--arm", "arm", "--control", "ctrl", "--metric",
                            "text")
    code_d, _, err_d = _run(capsys, "--db", db_url, "--table", "nonfinite", "--arm", "arm", "--control",
                            "ctrl", "--metric", "text")
    assert code_f == code_d == 2 and err_f == err_d and "'maybe'" in err_d


def test_duckdb_query_reads_a_parquet_file_in_place(data: dict[str, Any],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``--db duckdb:// --query``: DuckDB in memory scans the file itself (for files beyond memory)."""
    query = f"SELECT * FROM read_parquet('{data['parquet']}') WHERE arm IS NOT NULL"
    from_db = _json(capsys, "--db", "duckdb://", "--query", query, *BASE)
    from_file = _json(capsys, str(data["parquet"]), *BASE)
    assert from_db["n_rows"] == from_file["n_rows"] - from_file["data_quality"]["missing"]["arm"]
    assert from_db["arms"] == from_file["arms"]
    for a, b in zip(from_db["results"], from_file["results"], strict=True):
        assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("args", "words"), [
    (["--table", "nope"], ["--table", "'nope'", "no such table", "exp table"]),
    (["--table", TABLE, "--metric", "nope"], ["unknown column 'nope'", "revenue"]),
    (["--query", "SELECT * FROM nowhere"], ["--query failed", "nowhere"]),
    ([], ["--table", "exactly one of --table NAME or --query SQL"]),
    (["--table", TABLE, "--query", "SELECT 1"], ["exactly one of --table NAME or --query SQL"]),
    (["--table", TABLE, "--bootstrap", "100"], ["bootstrap", "rows"]),
    (["--table", TABLE, "--cap", "revenue=p99"], ["'cap'", "rows"]),
    (["--table", TABLE, "--quantile", "revenue=0.5"], ["'quantile'", "rows"]),
    (["--table", TABLE, "--time", "user"], ["'time'", "--db"]),
])
def test_bad_database_input_is_one_line(data: dict[str, Any], tmp_path: Path, args: list[str],
                                        words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code, _, err = _run(capsys, "--db", f"duckdb://{data['duckdb']}", "--arm", "arm", "--control", "ctrl",
                        "--metric", "revenue", *args, "--json", str(out))
    assert code == 2 and err.count("\n") == 1 and not out.exists(), err
    assert all(w in err for w in words), err


@pytest.mark.parametrize(("args", "words"), [
    (["FILE", "--db", "duckdb://", "--table", "t"], ["'db'", "exactly one of FILE or --db"]),
    (["--db", "postgres://me:secret@127.0.0.1:1/db", "FILE", "--table", "t"], ["***", "exactly one"]),
    (["FILE", "--table", "t"], ["'table'", "without --db"]),
    ([], ["exactly one of FILE or --db"]),
    (["--db", "duckdb:///no/such/file.duckdb", "--table", "t"], ["no DuckDB file", "'/no/such/file.duckdb'"]),
    (["--db", "duckdb://no/such.duckdb", "--table", "t"], ["no DuckDB file", f"'{Path.cwd()}/no/such."]),
    (["--db", "nonsense", "--table", "t"], ["'db'", "connection URL"]),
    (["--db", "postgres://me:secret@127.0.0.1:1/db", "--table", "t"], ["cannot connect", "***"]),
])
def test_bad_source_options_are_one_line(data: dict[str, Any], args: list[str], words: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(data["parquet"]) if a == "FILE" else a for a in args]
    code, _, err = _run(capsys, *args, "--arm", "arm", "--control", "ctrl", "--metric", "revenue")
    assert code == 2 and err.count("\n") == 1 and "secret" not in err, err
    assert all(w in err for w in words), err


@pytest.mark.parametrize("argv", [["analyze", "--help"], ["clv", "--help"]])
def test_help_names_the_database_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from experiments.cli import main

    with pytest.raises(SystemExit):
        main(argv)
    assert "--db" in capsys.readouterr().out


CLV = ["--customer", "customer_id", "--date", "date", "--amount", "amount", "--calibration-end", "1997-09-30",
       "--holdout-end", "1998-06-30", "--pareto", "--json", "-"]


def test_clv_summary_in_the_database_equals_the_file(data: dict[str, Any], db_url: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The per-customer RFM summary computed in SQL is the file path's (to 1e-12; in fact to the bit,
    days with two purchases included), so the fits and the JSON agree too."""
    import datetime as dt

    from experiments.stats.database import open_table, rfm_summary_db
    from experiments.transactions import load_transactions, rfm_summary

    cols = {"customer": "customer_id", "date": "date", "amount": "amount"}
    tx = load_transactions(data["transactions"], **cols)
    ends = {"calibration_end": dt.date(1997, 9, 30), "holdout_end": dt.date(1998, 6, 30)}
    want = rfm_summary(tx, **ends).frame
    n, got = rfm_summary_db(open_table(db_url, table="tx"), **cols, **ends)
    assert n == tx.height and got.frame.columns == want.columns and got.frame.height == want.height == 2357
    assert got.frame["customer"].to_list() == want["customer"].to_list()
    for c in want.columns[1:]:
        assert np.allclose(got.frame[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, atol=0), c
    assert got.frame.equals(want)  # the same bits
    assert main(["clv", str(data["transactions"]), *CLV]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert main(["clv", "--db", db_url, "--table", "tx", *CLV]) == 0
    from_db = json.loads(capsys.readouterr().out)
    assert from_db.pop("database")["table"] == "tx" and from_db.pop("file") is None
    del from_file["file"]
    _assert_same(from_file, from_db)


@pytest.mark.parametrize(("args", "words"), [
    (["--table", "tx_text"], ["date column 'date'", "DATE or TIMESTAMP"]),
    (["--table", "tx", "--amount", "nope"], ["--amount column 'nope'", "customer_id"]),
    (["--query", "SELECT customer_id, date, -amount AS amount FROM tx"], ["negative amounts"]),
    (["--query", "SELECT * FROM tx WHERE amount < 0"], ["holds no transactions"]),
    (["--table", "tx", "--calibration-end", "2001-01-01"], ["calibration end 2001-01-01 lies outside"]),
])
def test_clv_bad_database_input_is_one_line(data: dict[str, Any], args: list[str], words: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = {"--customer": "customer_id", "--date": "date", "--amount": "amount",
            "--calibration-end": "1997-09-30"}
    for flag in [a for a in args if a in base]:
        del base[flag]
    argv = ["clv", "--db", f"duckdb://{data['duckdb']}", *args, *[x for kv in base.items() for x in kv]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(w in err for w in words), err


def test_engines_with_64_bit_sums_take_the_split_fractions(
        data: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """On an engine whose SUM(BIGINT) is 64 bits (BigQuery), each fraction part is summed as two 31-bit
    halves: forced here on DuckDB, the numbers are still the file's."""
    import datetime as dt

    from experiments.stats import database
    from experiments.stats.database import open_table, rfm_summary_db
    from experiments.transactions import load_transactions, rfm_summary

    monkeypatch.setattr(database, "WIDE_SUMS", frozenset())
    url = f"duckdb://{data['duckdb']}"
    assert not open_table(url, table="tx").wide_sums
    from_file = _json(capsys, str(data["parquet"]), *BASE)
    from_db = _json(capsys, "--db", url, "--table", TABLE, *BASE)
    del from_db["database"]
    _assert_same(from_file, from_db)
    cols = {"customer": "customer_id", "date": "date", "amount": "amount"}
    want = rfm_summary(load_transactions(data["transactions"], **cols), calibration_end=dt.date(1997, 9, 30))
    _, got = rfm_summary_db(open_table(url, table="tx"), **cols, calibration_end=dt.date(1997, 9, 30))
    assert got.frame.equals(want.frame)


def test_html_page_and_text_name_the_table(data: dict[str, Any], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from experiments.stats.database import DatabaseTable, redact

    assert redact("postgres://me:s3cret@db.example:5432/shop") == "postgres://me:***@db.example:5432/shop"
    assert "s3cret" not in str(DatabaseTable("postgres://me:s3cret@h/db", table="t").to_dict())
    page = tmp_path / "r.html"
    code, out, err = _run(capsys, "--db", f"duckdb://{data['duckdb']}", "--table", TABLE, "--arm", "arm",
                          "--control", "ctrl", "--metric", "revenue", "--html", str(page))
    assert code == 0, err
    assert f"Aggregated in the database: table {TABLE!r} in duckdb://" in out
    assert "<h1>Experiment analysis: table &#x27;exp table&#x27; in duckdb://" in page.read_text()
