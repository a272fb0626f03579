"""Loaders of the real files (shared copies; they must be present, so these tests fail, never skip)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from experiments import datasets
from experiments.errors import DataError


def test_load_hillstrom_verifies_and_types() -> None:
    df = datasets.load_hillstrom()
    assert df.shape == (64_000, 12)
    assert set(df["segment"].unique()) == set(datasets.HILLSTROM_ARMS)
    assert df.schema["spend"] == pl.Float64 and df.schema["visit"] == pl.Int64


def test_load_asos() -> None:
    df = datasets.load_asos()
    assert df.height == 24_153 and df["experiment_id"].n_unique() == 78


def test_wrong_file_and_failed_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="sha256"):
        datasets.load_hillstrom(bad)
    with pytest.raises(DataError, match="not found"):
        datasets.load_hillstrom(tmp_path / "none.csv")
    monkeypatch.setattr(datasets, "HILLSTROM_URL", "http://127.0.0.1:9/none.csv")
    target = tmp_path / "dl" / "h.csv"
    with pytest.raises(DataError, match="could not download"):
        datasets.load_hillstrom(target, download=True)
    assert not target.exists() and not list((tmp_path / "dl").iterdir())  # nothing half-written


def test_scan_table(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("arm,y\na,1\nb,2\n")
    assert datasets.scan_table(p).collect().height == 2
    with pytest.raises(DataError, match="does not exist"):
        datasets.scan_table(tmp_path / "x.parquet")
    broken = tmp_path / "b.parquet"
    broken.write_text("not parquet")
    with pytest.raises(DataError, match="cannot read"):
        datasets.scan_table(broken)
