"""Loaders of the real files shipped in data/real (they must be present: these tests fail, never skip)."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from experiments import datasets, paths
from experiments.errors import DataError


def test_load_hillstrom_verifies_and_types() -> None:
    df = datasets.load_hillstrom()
    assert df.shape == (64_000, 12)
    assert set(df["segment"].unique()) == set(datasets.HILLSTROM_ARMS)
    assert df.schema["spend"] == pl.Float64 and df.schema["visit"] == pl.Int64


def test_load_asos() -> None:
    df = datasets.load_asos()
    assert df.height == 24_153 and df["experiment_id"].n_unique() == 78


def test_wrong_file(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="sha256"):
        datasets.load_hillstrom(bad)
    with pytest.raises(DataError, match="not found"):
        datasets.load_hillstrom(tmp_path / "none.csv")


def test_shipped_files_match_their_readmes() -> None:
    """The checksums the loaders verify are the ones each data README states."""
    for path, digest in ((paths.HILLSTROM_CSV, datasets.HILLSTROM_SHA256),
                         (paths.ASOS_PARQUET, datasets.ASOS_SHA256)):
        assert path.is_relative_to(paths.PROJECT_ROOT / "data" / "real")
        assert datasets.sha256_of(path) == digest
        assert digest in (path.parent / "README.md").read_text()


def test_decompressed_hillstrom_is_the_published_file(tmp_path: Path) -> None:
    raw = tmp_path / "hillstrom.csv"
    raw.write_bytes(gzip.decompress(paths.HILLSTROM_CSV.read_bytes()))
    assert datasets.sha256_of(raw) == datasets.HILLSTROM_CSV_SHA256
    assert datasets.load_hillstrom(raw).equals(datasets.load_hillstrom())


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


def _parts(folder: Path) -> pl.DataFrame:
    folder.mkdir()
    whole = pl.DataFrame({"arm": ["a", "b"] * 6, "y": list(range(12))})
    for k in range(3):
        whole.slice(4 * k, 4).write_parquet(folder / f"part-{k:03d}.parquet")
    (folder / ".part-999.parquet.tmp").write_text("a temporary file being written")
    (folder / "_SUCCESS").write_text("")
    return whole


def test_scan_table_reads_a_folder_of_parts_as_one_table(tmp_path: Path) -> None:
    whole = _parts(tmp_path / "table.parquet")
    lf = datasets.scan_table(tmp_path / "table.parquet")
    assert isinstance(lf, pl.LazyFrame) and lf.collect().equals(whole)  # parts in name order
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no \.parquet file"):
        datasets.scan_table(tmp_path / "empty")


def test_scan_table_reads_a_glob(tmp_path: Path) -> None:
    whole = _parts(tmp_path / "t")
    assert datasets.scan_table(tmp_path / "t" / "part-00[12].parquet").collect().equals(whole.slice(4))
    for k in range(2):
        whole.slice(6 * k, 6).write_csv(tmp_path / f"day{k}.csv")
    assert datasets.scan_table(tmp_path / "day*.csv").collect().equals(whole)
    with pytest.raises(DataError, match="no file matches"):
        datasets.scan_table(tmp_path / "nothing-*.parquet")
    whole.write_parquet(tmp_path / "day9.parquet")
    with pytest.raises(DataError, match="both parquet and other"):
        datasets.scan_table(tmp_path / "day*")


def test_analyze_a_folder_of_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from experiments.cli import main

    folder = tmp_path / "exp"
    folder.mkdir()
    for k in range(2):
        pl.DataFrame({"arm": ["c", "t"] * 500, "converted": [k % 2, 1, 0, 0] * 250}).write_parquet(
            folder / f"part-{k}.parquet")
    assert main(["analyze", str(folder), "--arm", "arm", "--control", "c", "--metric", "converted",
                 "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 2000
