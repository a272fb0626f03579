"""Regression tests from a review of clv and analyze --db: each failed before its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from experiments.cli import main
from tests.pg_server import find_binaries, postgres_server

_TX = pl.DataFrame({
    "id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
    "day": ["2021-01-04", "2021-02-01", "2021-03-15", "2021-01-11", "2021-04-01", "2021-01-18",
            "2021-01-25", "2021-05-02", "2021-02-20"],
    "amount": [10.0, 12.5, 8.0, 30.0, 25.0, 5.0, 7.5, 6.0, 40.0],
})
CDNOW = Path(__file__).parent / "fixtures" / "cdnow_sample.csv"
_CLV = ["--customer", "id", "--date", "day", "--amount", "amount"]


def test_slash_dates_with_a_time_read_as_the_help_says(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--help promises DD/MM/YYYY (and the other spellings) 'optionally with a time'; only YYYY-MM-DD
    with a time was read, and the refusal named two formats."""
    iso, slash = CDNOW, tmp_path / "slash.csv"
    (pl.read_csv(CDNOW).with_columns(pl.col("date").cast(pl.String).str.to_date("%Y%m%d")
                                     .dt.strftime("%d/%m/%Y 13:45")).write_csv(slash))
    out = []
    for path in (iso, slash):
        assert main(["clv", str(path), "--customer", "customer_id", "--date", "date", "--amount", "amount",
                     "--calibration-end", "1997-09-30", "--json", "-"]) == 0
        r = json.loads(capsys.readouterr().out)
        del r["file"]
        out.append(r)
    assert out[0] == out[1]


def test_calibration_end_on_every_first_day_is_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Every T = 0 (the calibration end on the first purchase day of everyone in it) gave 'BG/NBD fit did
    not converge (ABNORMAL: )'; now one line naming the option."""
    path = tmp_path / "tx.csv"
    _TX.write_csv(path)
    out = tmp_path / "r.json"
    assert main(["clv", str(path), *_CLV, "--calibration-end", "2021-01-04", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "calibration_end" in err and "2021-01-04" in err, err
    assert not out.exists()


def test_sbg_on_one_period_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Periods 0 and 1 only: alpha and beta are not identified (any pair with alpha / (alpha + beta) =
    0.2 fits), yet an arbitrary point of that ridge was reported and projected."""
    path = tmp_path / "s.csv"
    pl.DataFrame({"t": [0, 1, 2], "s": [1000, 800, 700]}).write_csv(path)
    out = tmp_path / "r.json"
    args = ["clv", str(path), "--kind", "survival", "--period", "t", "--survivors", "s"]
    assert main([*args, "--fit-periods", "1", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 2 periods" in err and "--fit-periods" in err, err
    assert not out.exists()
    assert main([*args, "--fit-periods", "2", "--json", str(out)]) == 0


def test_postgres_query_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With sqlglot 30 every --query on PostgreSQL failed ('syntax error at end of input': Ibis's
    DROP VIEW IF EXISTS lost its view name); the query gives the table's numbers."""
    bin_dir = find_binaries()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed; CI installs it (.ci/run)")
        pytest.skip("PostgreSQL is not installed")
    import psycopg

    with postgres_server(bin_dir) as url:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as con:
            con.execute("CREATE TABLE t AS SELECT (i % 2)::text AS arm, (i % 7)::double precision AS y "
                        "FROM generate_series(1, 200) AS i")
        results = []
        for source in (["--table", "t"], ["--query", "SELECT arm, y FROM t"]):
            code = main(["analyze", "--db", url, *source, "--arm", "arm", "--control", "0", "--metric", "y",
                         "--json", "-"])
            cap = capsys.readouterr()
            assert code == 0, cap.err
            r = json.loads(cap.out)
            r.pop("source", None)
            r.pop("database", None)
            results.append(r)
    assert results[0]["results"] and results[0] == results[1]


@pytest.mark.parametrize("url", ["nosuch://me:Hush7Word@db.example/shop", "me:Hush7Word@db.example/shop"])
@pytest.mark.parametrize("command", ["analyze", "clv"])
def test_password_is_never_printed(url: str, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown scheme printed the driver's message quoting the whole URL, and a URL without a scheme
    was echoed as given: both showed the password."""
    args = (["--arm", "a", "--control", "c", "--metric", "m"] if command == "analyze" else
            ["--customer", "c", "--date", "d", "--amount", "a", "--calibration-end", "2020-01-01"])
    assert main([command, "--db", url, "--table", "t", *args]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "me:***@db.example" in cap.err, cap.err
    assert "Hush7Word" not in cap.err + cap.out


def test_row_only_options_with_db_are_named_as_typed(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--cap / --quantile with --db were refused as "got ['spend=p99']" (a Python list), unlike the
    summary-statistics refusals of the same options."""
    import duckdb

    db = tmp_path / "e.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT (i % 2)::VARCHAR AS arm, (i % 7)::DOUBLE AS y "
                    "FROM range(100) r(i)")
    for flag, value in (("--cap", "y=p99"), ("--quantile", "y=0.5")):
        argv = ["analyze", "--db", f"duckdb://{db}", "--table", "t", "--arm", "arm", "--control", "0",
                "--metric", "y", flag, value]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"got '{value}'" in err and "[" not in err, err


def test_bgbb_rows_out_of_range_name_the_columns_and_row(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A row with recency below frequency was refused with 'each row needs frequency <= recency <= ...':
    no column, no row, no value."""
    path = tmp_path / "o.csv"
    pl.DataFrame({"x": [0, 2, 3], "last": [0, 5, 2], "n": [6, 6, 6]}).write_csv(path)
    out = tmp_path / "r.json"
    assert main(["clv", str(path), "--kind", "opportunities", "--frequency", "x", "--recency", "last",
                 "--opportunities", "n", "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 3" in err and "--recency 'last' 2" in err, err
    assert not out.exists()


def test_bgbb_with_no_transaction_is_not_fitted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nobody ever transacting gave a silent 'fit' (alpha -> 0, gamma -> inf) and a mean P(alive) of 1e-10,
    though dropout cannot be told from never buying; now a warning and an error entry, as sBG without
    churn."""
    path = tmp_path / "o.csv"
    pl.DataFrame({"x": [0, 0], "tx": [0, 0], "n": [5, 5], "w": [40, 60]}).write_csv(path)
    assert main(["clv", str(path), "--kind", "opportunities", "--frequency", "x", "--recency", "tx",
                 "--opportunities", "n", "--weight", "w", "--json", "-"]) == 0
    cap = capsys.readouterr()
    r = json.loads(cap.out)
    assert "nobody transacted" in r["bgbb"]["error"] and "mean_probability_alive" not in r
    assert "warning: BG/BB not fitted" in cap.err


def test_sbg_when_everyone_churns_at_once_is_not_fitted(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Survivors 1000, 0, 0 gave a silent 'fit' at the edge (alpha 2679, beta 0.0009) with retention rates
    rising from 3e-7; now a warning and an error entry, as when nobody churns."""
    path = tmp_path / "s.csv"
    pl.DataFrame({"t": [0, 1, 2], "s": [1000, 0, 0]}).write_csv(path)
    assert main(["clv", str(path), "--kind", "survival", "--period", "t", "--survivors", "s",
                 "--json", "-"]) == 0
    cap = capsys.readouterr()
    cohort = json.loads(cap.out)["cohorts"][0]
    assert "everyone churned" in cohort["error"] and "alpha" not in cohort
    assert "warning: sBG not fitted" in cap.err
