"""``analyze`` and ``clv`` on random tables: a result with finite numbers, or one line and exit 2.

Tables mix types, missing cells, NaN and infinity, extreme and tiny values, unicode and empty labels,
empty columns and single rows. Whatever the table, the command either succeeds (exit 0) with a JSON
whose every number is finite, or refuses it (exit 2) with exactly one line on stderr; it never ends in
a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from experiments.cli import main

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

LABELS = st.one_of(st.sampled_from(["control", "treatment", "b", "", " ", "None", "é<>&\"'", "\u2028",
                                    "日本", "0", "1.5"]),
                   st.text(min_size=0, max_size=6))
NUMBERS = st.one_of(
    st.none(), st.integers(-10**12, 10**12), st.sampled_from([0, 1, 0.0, 1.0, -1.0, 1e300, -1e300, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)
CELLS = st.one_of(NUMBERS, LABELS)


def _finite(obj: Any) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite(v) for v in obj)
    return True


def _no_constant(name: str) -> float:
    raise AssertionError(f"JSON holds {name}")


def _outcome(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """exit 0 with finite JSON, or exit 2 with one stderr line; anything else fails the test."""
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exc:  # usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    event(f"exit {code}" + (": " + err.split("error: ")[-1][:90] if code else ""))
    if code == 0:
        result = json.loads(out, parse_constant=_no_constant)
        assert _finite(result), "a non-finite number in the JSON"
    else:
        assert code == 2, (code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("experiments "), err


def _column(kind: str, n: int) -> st.SearchStrategy[list[Any]]:
    cells = {"numbers": NUMBERS, "labels": LABELS, "mixed": CELLS, "binary": st.sampled_from([0, 1, None]),
             "empty": st.none(), "clean": st.floats(-1e6, 1e6) | st.integers(0, 100),
             "clean01": st.sampled_from([0, 1])}[kind]
    return st.lists(cells, min_size=n, max_size=n)


@st.composite
def experiments(draw: st.DrawFn) -> tuple[pl.DataFrame, str]:
    n = draw(st.integers(1, 25))
    labels = draw(st.lists(LABELS, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):  # well-formed arms: every row in one of them
        arm = draw(st.lists(st.sampled_from(labels), min_size=n, max_size=n))
    else:
        arm = draw(st.lists(st.one_of(st.sampled_from(labels), st.none()), min_size=n, max_size=n))
    columns: dict[str, list[Any]] = {"arm": arm}
    for name in ("m", "x"):
        kind = draw(st.sampled_from(["clean", "clean01", "clean", "numbers", "binary", "mixed", "empty",
                                     "labels"]))
        columns[name] = draw(_column(kind, n))
    frame = pl.DataFrame({k: [None if v is None else str(v) for v in columns[k]] for k in columns})
    return frame, draw(st.sampled_from(labels))


@SETTINGS
@given(data=experiments(), covariate=st.booleans())
def test_analyze_never_crashes(data: tuple[pl.DataFrame, str], covariate: bool,
                               capsys: pytest.CaptureFixture[str]) -> None:
    frame, control = data
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "exp.csv"
        frame.write_csv(path)
        args = ["analyze", str(path), "--arm", "arm", "--control", control, "--metric", "m", "--json", "-"]
        _outcome(args + (["--covariate", "x"] if covariate else []), capsys)


DATES = st.one_of(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)).map(str),
                  st.sampled_from(["2020-02-30", "", "yesterday", "2020/01/05", "05/01/2020", "20200105"]),
                  st.none())


CDNOW = pl.read_csv(Path(__file__).parent / "fixtures" / "cdnow_sample.csv",
                    schema_overrides={"date": pl.String, "customer_id": pl.String, "amount": pl.String})
POISON = st.sampled_from(["1e300", "5e-324", "0", "-0.0", "1e-300", "inf", "nan", "", "abc", "1e15"])


@st.composite
def transactions(draw: st.DrawFn) -> tuple[pl.DataFrame, str]:
    if draw(st.booleans()):  # a real log (part of CDNOW), perhaps with one cell poisoned
        ids = CDNOW["customer_id"].unique(maintain_order=True)
        take = draw(st.integers(60, 400))
        start = draw(st.integers(0, ids.len() - take))
        frame = CDNOW.filter(pl.col("customer_id").is_in(ids[start:start + take].to_list()))
        frame = frame.select(pl.col("customer_id").alias("id"), "date", "amount")
        if draw(st.booleans()):
            row = draw(st.integers(0, frame.height - 1))
            column = draw(st.sampled_from(["id", "date", "amount"]))
            frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(draw(POISON)))
                                       .otherwise(pl.col(column)).alias(column))
        return frame, draw(st.sampled_from(["1997-09-30", "1997-03-31", "1998-06-29", "1996-01-01"]))
    n = draw(st.integers(1, 40))
    ids = draw(st.lists(st.one_of(st.integers(1, 6), LABELS, st.none()), min_size=n, max_size=n))
    amounts = draw(st.lists(st.one_of(NUMBERS, st.floats(0.01, 500)), min_size=n, max_size=n))
    frame = pl.DataFrame({"id": [None if v is None else str(v) for v in ids],
                          "date": draw(st.lists(DATES, min_size=n, max_size=n)),
                          "amount": [None if v is None else str(v) for v in amounts]})
    seen = sorted(d for d in frame["date"].to_list() if d)
    return frame, draw(st.sampled_from([*seen[len(seen) // 2:len(seen) // 2 + 1], "2020-06-30"]))


@SETTINGS
@given(data=transactions(), holdout=st.booleans())
def test_clv_never_crashes(data: tuple[pl.DataFrame, str], holdout: bool,
                           capsys: pytest.CaptureFixture[str]) -> None:
    frame, end = data
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tx.csv"
        frame.write_csv(path)
        args = ["clv", str(path), "--customer", "id", "--date", "date", "--amount", "amount",
                "--calibration-end", end, "--json", "-"]
        _outcome(args + (["--holdout-end", "2031-01-01"] if holdout else []), capsys)
