"""Data-quality checks: counts computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from experiments.errors import DataError
from experiments.stats.quality import check_quality, classify, column_checks, read_checks, refuse_nonfinite


def test_counts_every_problem() -> None:
    df = pl.DataFrame({
        "user": [1, 2, 2, 3, 4, 4, None],
        "arm": ["a", "a", "b", "b", None, "a", "b"],
        "conv": [0, 1, 2, 1, 0, None, 1],
        "flag": ["yes", "no", "maybe", "Y", "n", "TRUE", None],
        "rev": [1.0, None, 2.0, 3.0, None, 4.0, 5.0],
    })
    q = check_quality(df.lazy(), arm="arm", metrics=["conv", "flag", "rev"], unit="user",
                      binary=["conv", "flag"])
    assert q.n_rows == 7
    assert q.missing == {"arm": 1, "user": 1, "conv": 1, "flag": 1, "rev": 2}
    assert q.non_binary == {"conv": 1, "flag": 1}
    assert q.duplicate_units == 2  # users 2 and 4 appear twice
    assert q.units_in_several_arms == 1  # user 2 in a and b (user 4's second arm is missing)
    assert not q.ok and len(q.issues) == 5 + 2 + 2
    d = q.to_dict()
    assert d["duplicate_units"] == 2 and d["missing"]["rev"] == 2
    assert q.to_frame().height == 5 + 2 + 2


def test_clean_table_and_unknown_column() -> None:
    df = pl.DataFrame({"arm": ["a", "b"], "y": [0, 1]})
    q = check_quality(df, arm="arm", metrics=["y"], binary=["y"])
    assert q.ok and "duplicate_units" not in q.to_dict()
    assert "no issue" in q.summary()
    with pytest.raises(DataError, match="unknown column"):
        check_quality(df, arm="arm", metrics=["z"])


def test_nonfinite_counted_per_arm_and_refused() -> None:
    nan, inf = float("nan"), float("inf")
    df = pl.DataFrame({
        "arm": ["a", "a", "b", "b", None],
        "rev": [1.0, nan, inf, -inf, nan],
        "pre": [1.0, 2.0, 3.0, 4.0, 5.0],
        "n": [1, 2, 3, 4, 5],
    })
    q = check_quality(df, arm="arm", metrics=["rev", "pre", "n"])
    assert (q.nan, q.infinite) == ({"rev": 2, "pre": 0, "n": 0}, {"rev": 2, "pre": 0, "n": 0})
    assert q.missing == {"arm": 1, "rev": 0, "pre": 0, "n": 0}
    assert any("2 NaN and 2 infinite value(s) (arms: '(missing arm)' 1, 'a' 1, 'b' 2)" in i for i in q.issues)
    assert q.to_dict()["nan"]["rev"] == 2 and q.to_dict()["nonfinite"] == "refuse"
    checks = read_checks(df.lazy().group_by("arm").agg(column_checks("rev", pl.Float64)).collect(),
                         {"rev": pl.Float64}, arm="arm")
    with pytest.raises(DataError, match=r"^metric 'rev' has 2 NaN and 2 infinite value\(s\)"):
        refuse_nonfinite(checks, {"rev": "metric"})
    refuse_nonfinite(read_checks(pl.DataFrame({"arm": ["a"]}), {"pre": pl.Float64}), {"pre": "covariate"})


def test_text_metrics_classified_or_refused() -> None:
    df = pl.DataFrame({"ok": ["Yes", "no", None, "y"], "text": ["x", "z", "x", None],
                       "three": ["true", "false", "maybe", "true"], "num": [0, 1, 1, 0]})
    checks = read_checks(df.select(*[e for c in df.columns for e in column_checks(c, df.schema[c])]),
                         dict(df.schema))
    assert classify(checks, ["ok", "num"]) == {"ok": "binary", "num": "binary"}
    with pytest.raises(DataError, match=r"metric 'text' holds text \(e.g. 'x', 'z'\)"):
        classify(checks, ["text"])
    with pytest.raises(DataError, match=r"binary metric 'three' has values other than two \(e.g. 'maybe'\)"):
        classify(checks, ["three"])
