"""Data-quality checks: counts computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from experiments.errors import DataError
from experiments.stats.quality import check_quality


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
