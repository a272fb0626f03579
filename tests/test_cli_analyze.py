"""``experiments analyze``: JSON contract, HTML report, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main
from experiments.stats.runner import RESULT_KEYS


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("analyze")
    rng = np.random.default_rng(3)
    n = 6_000
    arm = rng.choice(["ctrl", "A", "B"], n)
    pre = rng.gamma(1, 20, n)
    conv = rng.random(n) < np.where(arm == "ctrl", 0.05, 0.08)
    df = pl.DataFrame({
        "user": np.arange(n), "arm": arm, "converted": np.where(conv, "yes", "no"),
        "revenue": conv * rng.gamma(2, 30, n) + 0.2 * pre, "pre": pre, "region": rng.choice(["n", "s"], n),
        "note": rng.choice(["x", "y"], n), "tri": np.where(conv, "true", rng.choice(["false", "maybe"], n)),
    })
    out = {"csv": d / "exp.csv", "parquet": d / "exp.parquet"}
    df.write_csv(out["csv"])
    df.write_parquet(out["parquet"])
    summary = pl.DataFrame({
        "arm": ["ctrl", "A"] * 3, "metric": ["m"] * 6, "look": [1, 1, 2, 2, 3, 3],
        "count": [1000, 1000, 2000, 2000, 3000, 3000], "mean": [1.0, 1.1, 1.0, 1.1, 1.0, 1.1],
        "variance": [4.0] * 6,
    })
    out["summary"] = d / "summary.csv"
    summary.write_csv(out["summary"])
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_json_contract(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(files["parquet"]), "--arm", "arm", "--control", "ctrl", "--metric",
                        "converted", "--metric", "revenue", "--covariate", "pre", "--segment", "region",
                        "--unit", "user", "--json", "-")
    assert code == 0
    d = json.loads(out)
    assert d["n_rows"] == 6_000 and set(d["arms"]) == {"ctrl", "A", "B"}
    assert {"chi2", "p_value"} <= set(d["srm"])
    assert d["data_quality"]["duplicate_units"] == 0 and d["data_quality"]["missing"]["revenue"] == 0
    assert d["metrics"] == {"converted": "binary", "revenue": "continuous"}
    assert len(d["results"]) == 2 * 2 * (1 + 2)  # metrics x arms x (overall + 2 segments)
    assert all(list(r)[: len(RESULT_KEYS)] == list(RESULT_KEYS) for r in d["results"])
    assert len(d["adjusted_results"]) == 4 and len(d["heterogeneity"]) == 4


def test_table_html_and_json_file(files: dict[str, Path], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    html_path, json_path = tmp_path / "r.html", tmp_path / "r.json"
    code, out, _ = _run(capsys, str(files["csv"]), "--arm", "arm", "--control", "ctrl", "--metric",
                        "converted", "--shares", "ctrl:0.34,A:0.33,B:0.33", "--correction", "bh",
                        "--html", str(html_path), "--json", str(json_path))
    assert code == 0 and "converted" in out and "SRM" in out
    page = html_path.read_text()
    body = page[page.index("<h1>Experiment analysis"):]
    assert body.index('class="verdict"') < body.index('class="result-table"') and "vega" in page
    assert "<h1>" in body and "https://cdn" not in page
    assert json.loads(json_path.read_text())["correction"] == "bh"


def test_summary_statistics_input(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(files["summary"]), "--arm", "arm", "--control", "ctrl", "--json", "-")
    d = json.loads(out)
    assert code == 0 and d["source"] == "summary statistics" and d["arms"] == {"ctrl": 3000, "A": 3000}
    assert d["results"][0]["diff"] == pytest.approx(0.1)
    assert d["sequential"][0]["looks"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--metric", "nope"], "unknown column 'nope'"),
        (["--metric", "note"], "holds text"),
        (["--metric", "tri"], "values other than two"),
        (["--metric", "revenue", "--control", "zzz"], "control label 'zzz'"),
        (["--metric", "revenue", "--shares", "ctrl:0.5,A:0.6"], "shares"),
        (["--metric", "revenue", "--shares", "ctrl:0.25,A:0.25,B:0.25,C:0.25"], "have no rows"),
        (["--metric", "revenue", "--alpha", "1.5"], "alpha"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: dict[str, Path], tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(files["csv"]), "--arm", "arm", "--control", "ctrl", *extra]
    if "--control" in extra:
        args = [str(files["csv"]), "--arm", "arm", *extra]
    out_json = tmp_path / "x.json"
    code, out, err = _run(capsys, *args, "--json", str(out_json))
    assert code == 2 and message in err and err.count("\n") == 1
    assert err.startswith("experiments analyze: error:")
    assert not out_json.exists() and not out


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path / "none.csv"), "--arm", "a", "--control", "c", "--metric", "y")
    assert code == 2 and "does not exist" in err
