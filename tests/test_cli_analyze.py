"""``experiments analyze``: JSON contract, HTML report, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main
from experiments.stats.row_analysis import RESULT_KEYS


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
    df = df.with_columns(pl.Series("orders", rng.poisson(1.0, n) + conv, dtype=pl.Float64))
    out = {"csv": d / "exp.csv", "parquet": d / "exp.parquet", "parts": d / "parts"}
    df.write_csv(out["csv"])
    df.write_parquet(out["parquet"])
    out["parts"].mkdir()
    for i, part in enumerate(df.iter_slices(2_500)):
        part.write_parquet(out["parts"] / f"part-{i}.parquet")
    odd = df.with_columns(
        pl.when(pl.col("user") < 2).then(float("nan")).otherwise(pl.col("revenue")).alias("revenue"),
        pl.when(pl.col("user") == 5).then(float("inf")).otherwise(pl.col("pre")).alias("pre"))
    out["nonfinite"] = d / "nonfinite.parquet"
    odd.write_parquet(out["nonfinite"])
    summary = pl.DataFrame({
        "arm": ["ctrl", "A"] * 3, "metric": ["m"] * 6, "look": [1, 1, 2, 2, 3, 3],
        "count": [1000, 1000, 2000, 2000, 3000, 3000], "mean": [1.0, 1.1, 1.0, 1.1, 1.0, 1.1],
        "variance": [4.0] * 6,
    })
    out["summary"] = d / "summary.csv"
    summary.write_csv(out["summary"])
    for name, col, value in (("negvar", "variance", -4.0), ("negcount", "count", -3),
                             ("onecount", "count", 1), ("nanvar", "variance", float("nan"))):
        bad = summary.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(value).otherwise(pl.col(col))
                                   .alias(col))
        out[name] = d / f"{name}.parquet"
        bad.write_parquet(out[name])
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
        (["--metric", "arm"], "'arm' is the arm column; it cannot also be the metric"),
        (["--metric", "revenue", "--covariate", "arm"], "cannot also be the covariate"),
        (["--metric", "revenue", "--segment", "arm"], "cannot also be the segment"),
        (["--metric", "revenue", "--covariate", "revenue"], "both a metric and a covariate"),
        (["--metric", "revenue", "--ratio", "revenue/nope"], "no split into NUMERATOR/DENOMINATOR"),
        (["--metric", "revenue", "--ratio", "revenue"], "NUMERATOR/DENOMINATOR"),
        (["--metric", "revenue", "--bootstrap", "5"], "parameter 'bootstrap': got 5"),
        (["--metric", "revenue", "--bootstrap", "many"], "parameter 'bootstrap'"),
        (["--metric", "revenue", "--seed", "-1"], "parameter 'seed'"),
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


def _refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    out_json, out_html = tmp_path / "x.json", tmp_path / "x.html"
    code, out, err = _run(capsys, *args, "--json", str(out_json), "--html", str(out_html))
    assert code == 2 and err.count("\n") == 1 and err.startswith("experiments analyze: error:")
    assert not out and not out_json.exists() and not out_html.exists()
    return err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--metric", "revenue"], "metric 'revenue' has 2 NaN value(s) (arms: "),
        (["--metric", "converted", "--covariate", "pre"], "covariate 'pre' has 1 infinite value(s) (arms: "),
        (["--metric", "converted", "--ratio", "revenue/orders"], "ratio column 'revenue' has 2 NaN"),
    ],
)
def test_nonfinite_values_refused(files: dict[str, Path], tmp_path: Path, extra: list[str], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, tmp_path, str(files["nonfinite"]), "--arm", "arm", "--control", "ctrl", *extra)
    assert message in err and "--drop-nonfinite" in err


def test_nonfinite_values_dropped_and_reported(files: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(files["nonfinite"]), "--arm", "arm", "--control", "ctrl", "--metric", "revenue", "--metric",
            "pre", "--ratio", "revenue/orders", "--drop-nonfinite"]
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "were dropped from its statistics" in out
    html_path = tmp_path / "r.html"
    code, out, _ = _run(capsys, *args, "--json", "-", "--html", str(html_path))
    q = json.loads(out)["data_quality"]
    assert (q["nan"]["revenue"], q["infinite"]["pre"], q["nonfinite"]) == (2, 1, "drop")
    d = json.loads(out)
    assert q["issues"] and all(r["p_value"] is not None for r in [*d["results"], *d["ratio_results"]])
    rr = d["ratio_results"]  # the two NaN revenues leave their units out of the ratio
    assert sum(r["n_arm"] for r in rr) + rr[0]["n_control"] == d["n_rows"] - 2
    page = html_path.read_text()
    assert "NaN / infinite values per column (dropped like missing values)" in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("negvar", "a negative variance in row 5 (arm 'ctrl', metric 'm', look 3)"),
        ("negcount", "a negative count in row 5"),
        ("onecount", "a count below 2 in row 5"),
        ("nanvar", "a variance that is not a finite number in row 5"),
    ],
)
def test_broken_summary_statistics_refused(files: dict[str, Path], tmp_path: Path, name: str, message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, tmp_path, str(files[name]), "--arm", "arm", "--control", "ctrl")
    assert message in err


@pytest.mark.parametrize("option", [["--ratio", "count/mean"], ["--bootstrap", "100"], ["--drop-nonfinite"]])
def test_row_options_refused_on_summary_input(files: dict[str, Path], tmp_path: Path, option: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, tmp_path, str(files["summary"]), "--arm", "arm", "--control", "ctrl", *option)
    assert "summary-statistics input has no rows" in err


def test_ratio_and_bootstrap(files: dict[str, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(files["parquet"]), "--arm", "arm", "--control", "ctrl", "--metric", "converted", "--metric",
            "revenue", "--ratio", "revenue/orders", "--bootstrap", "200", "--seed", "7"]
    html_path = tmp_path / "r.html"
    code, out, _ = _run(capsys, *args, "--json", "-", "--html", str(html_path))
    d = json.loads(out)
    assert code == 0 and len(d["ratio_results"]) == 2 and d["seed"] == 7
    assert all(list(r)[: len(RESULT_KEYS)] == list(RESULT_KEYS) for r in d["ratio_results"])
    assert {r["metric"] for r in d["ratio_results"]} == {"revenue/orders"}
    assert len(d["bootstrap"]) == 4
    b = d["bootstrap"][0]
    assert {"metric", "arm", "estimate", "ci_low", "ci_high", "method", "n_resamples"} <= set(b)
    assert b["n_resamples"] == 200 and b["ci_low"] < b["estimate"] < b["ci_high"]
    plain = next(r for r in d["results"] if (r["metric"], r["arm"]) == (b["metric"], b["arm"]))
    assert b["estimate"] == pytest.approx(plain["estimate"], rel=1e-9)
    page = html_path.read_text()
    assert "Ratio metrics" in page and "revenue/orders" in page and "Percentile bootstrap" in page
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "revenue/orders" in out and "Bootstrap (95% percentile intervals, seed 7)" in out
    again = json.loads(_run(capsys, *args, "--json", "-")[1])
    assert again["bootstrap"] == d["bootstrap"]


@pytest.mark.parametrize("source", ["parts", "glob"])
def test_folder_and_glob_of_parquet_parts(files: dict[str, Path], source: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = str(files["parts"]) if source == "parts" else str(files["parts"] / "part-*.parquet")
    args = ["--arm", "arm", "--control", "ctrl", "--metric", "converted", "--metric", "revenue",
            "--json", "-"]
    one = json.loads(_run(capsys, str(files["parquet"]), *args)[1])
    parts = json.loads(_run(capsys, path, *args)[1])
    assert parts["n_rows"] == one["n_rows"] == 6_000
    for a, b in zip(parts["results"], one["results"], strict=True):
        assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-12)


FIXTURE_DAILY = Path(__file__).parent / "fixtures" / "daily_experiment.csv.gz"


def test_rows_with_time_give_confidence_sequences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--time on rows: daily looks built from the rows equal the cumulative statistics of each day."""
    from experiments.stats.sequential import msprt
    from experiments.stats.sufficient import SampleStats

    html_path = tmp_path / "seq.html"
    code, out, _ = _run(capsys, str(FIXTURE_DAILY), "--arm", "arm", "--control", "control", "--metric",
                        "converted", "--time", "date", "--planned-n", "8000", "--json", "-",
                        "--html", str(html_path))
    seq = json.loads(out)["sequential"][0]
    assert code == 0 and seq["looks"] == 14 and seq["confidence_sequence"]["planned_n"] == 8000
    assert seq["confidence_sequence"]["decision"] in ("positive", "negative", "inconclusive")
    assert seq["look_labels"][:2] == ["2026-03-02", "2026-03-03"]
    assert seq["look_every"] == "day" and len(seq["look_labels"]) == 14
    # the same looks computed independently from the rows, one cumulative filter per day
    rows = pl.read_csv(FIXTURE_DAILY, try_parse_dates=True)
    days = rows["date"].unique().sort().to_list()
    pairs = []
    for d in days:
        upto = rows.filter(pl.col("date") <= d)
        t, c = (upto.filter(pl.col("arm") == a)["converted"].cast(pl.Float64)
                for a in ("treatment", "control"))
        pairs.append((SampleStats.from_moments(t.len(), t.mean(), t.var()),
                      SampleStats.from_moments(c.len(), c.mean(), c.var())))
    ref = msprt(pairs, planned_n=8000)
    np.testing.assert_allclose(seq["by_look"]["cs_low"], ref.cs_low, rtol=1e-9)
    np.testing.assert_allclose(seq["by_look"]["cs_high"], ref.cs_high, rtol=1e-9)
    assert seq["confidence_sequence"]["rejected_at"] == ref.cs_rejected_at
    assert "confidence sequence" in html_path.read_text()
    code, weekly, _ = _run(capsys, str(FIXTURE_DAILY), "--arm", "arm", "--control", "control", "--metric",
                           "revenue", "--time", "date", "--look-every", "week")
    assert code == 0 and "after 2 looks" in weekly and "decision" in weekly


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--metric", "converted", "--look-every", "day"], "look-every"),
        (["--metric", "converted", "--planned-n", "5000"], "planned-n"),
        (["--metric", "converted", "--time", "date", "--planned-n", "1"], "planned-n"),
        (["--metric", "converted", "--time", "nope"], "unknown column 'nope'"),
        (["--metric", "converted", "--time", "arm"], "not dates"),
    ],
)
def test_bad_sequential_options(extra: list[str], message: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "x.json"
    code, _, err = _run(capsys, str(FIXTURE_DAILY), "--arm", "arm", "--control", "control", *extra,
                        "--json", str(out_json))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and not out_json.exists()


def test_summary_input_time_names_the_look_column(files: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    base = [str(files["summary"]), "--arm", "arm", "--control", "ctrl"]
    code, out, _ = _run(capsys, *base, "--time", "look", "--planned-n", "12000", "--json", "-")
    seq = json.loads(out)["sequential"][0]
    assert code == 0 and seq["look_labels"] == ["1", "2", "3"] and seq["look_every"] is None
    assert seq["confidence_sequence"]["planned_n"] == 12000
    code, _, err = _run(capsys, *base, "--time", "look", "--look-every", "week")
    assert code == 2 and "look-every" in err
    code, _, err = _run(capsys, *base, "--time", "nope")
    assert code == 2 and "unknown look column 'nope'" in err
