"""``experiments analyze``: the newer options (--cap, --quantile, --bayesian, --time) combined with the
older ones on independent data, checked against scipy / numpy / statsmodels references; regressions."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(2026)
    n = 4_000
    arm = rng.choice(["ctl", "t1", "t2"], n)
    conv = rng.random(n) < np.where(arm == "t2", 0.14, 0.1)
    df = pl.DataFrame({
        "arm": arm, "conv_txt": np.where(conv, "yes", "no"), "conv_int": conv.astype(np.int64),
        "rev": np.where(conv, rng.lognormal(3, 1.5, n), 0.0), "zero": np.zeros(n),
        "neg": rng.normal(-5, 3, n), "day": rng.integers(0, 14, n),
    })
    path = tmp_path_factory.mktemp("review") / "rows.csv"
    df.write_csv(path)
    return path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["analyze", *args, "--json", "-"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return json.loads(cap.out)


def test_time_reads_yes_no_text_like_the_other_tests(rows: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A yes/no metric is binary for the fixed-horizon tests; --time gives it looks too (it was refused)."""
    base = ["--arm", "arm", "--control", "ctl", "--time", "day"]
    text = _json(capsys, str(rows), *base, "--metric", "conv_txt")
    ints = _json(capsys, str(rows), *base, "--metric", "conv_int")
    assert len(text["sequential"]) == 2
    for a, b in zip(text["sequential"], ints["sequential"], strict=True):
        assert a["arm"] == b["arm"]
        assert a["by_look"] == b["by_look"]


def test_time_leaves_out_a_constant_metric(rows: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A metric constant in every arm has nothing to test; the other metrics' looks are still given
    (the whole run was refused with 'no look has a positive variance')."""
    out = _json(capsys, str(rows), "--arm", "arm", "--control", "ctl", "--metric", "zero", "--metric", "neg",
                "--time", "day")
    assert sorted((s["metric"], s["arm"]) for s in out["sequential"]) == [("neg", "t1"), ("neg", "t2")]
    assert {r["metric"] for r in out["results"]} == {"zero", "neg"}


@pytest.mark.parametrize("planned", ["1e20", "4000000000001"])
def test_planned_n_beyond_the_plans_limit_is_refused(rows: Path, planned: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--planned-n above 2 x 10^12 (the sequential plan's limit of 10^12 units per arm) is refused, with
    nothing written (1e20 gave a confidence sequence of +-4e8 'tuned for 10^20 units')."""
    out = tmp_path / "r.json"
    code = main(["analyze", str(rows), "--arm", "arm", "--control", "ctl", "--metric", "rev", "--time", "day",
                 "--planned-n", planned, "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "planned-n" in err[0] and "2_000_000_000_000" in err[0]
    assert not out.exists()


def test_empty_confidence_sequence_gives_no_decision(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Looks whose difference flips from +1 to -1 (sd 1, 1,000 units a look): the sequence intersected
    over the looks becomes empty at look 3 (it read 'CI +0.90 to -0.93' and decided 'positive')."""
    rows = ["arm,metric,count,mean,variance,look"]
    for look, diff in enumerate([1.0, 1.0, -1.0, -1.0], 1):
        rows += [f"c,m,{1000 * look},0,1,{look}", f"t,m,{1000 * look},{diff},1,{look}"]
    path = tmp_path / "looks.csv"
    path.write_text("\n".join(rows) + "\n")
    out = _json(capsys, str(path), "--arm", "arm", "--control", "c", "--time", "look")
    (s,) = out["sequential"]
    cs = s["confidence_sequence"]
    assert cs["ci_low"] > cs["ci_high"]  # what the intersection gives; the decision must not read it
    assert cs["empty_at"] == 2 and cs["decision"] == "inconsistent"
    assert main(["analyze", str(path), "--arm", "arm", "--control", "c", "--time", "look"]) == 0
    text = capsys.readouterr().out
    assert "empty from look 3" in text and "decision inconsistent" in text and "+0.90" not in text


def test_consistent_looks_have_no_empty_sequence(rows: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, str(rows), "--arm", "arm", "--control", "ctl", "--metric", "rev", "--time", "day")
    for s in out["sequential"]:
        lo, hi = s["by_look"]["cs_low"], s["by_look"]["cs_high"]
        assert all(b >= a for a, b in itertools.pairwise(lo))  # intersected: never narrows back
        assert all(b <= a for a, b in itertools.pairwise(hi))
        assert s["confidence_sequence"]["empty_at"] is None
        assert s["confidence_sequence"]["decision"] in ("positive", "negative", "inconclusive")


@pytest.mark.parametrize(("option", "shown"), [
    (["--cap", "rev=p99"], "parameter 'cap': got 'rev=p99'"),
    (["--quantile", "rev=0.5", "--quantile", "rev=0.9"], "parameter 'quantile': got 'rev=0.5, rev=0.9'"),
    (["--covariate", "pre"], "parameter 'covariate': got 'pre'"),
])
def test_summary_input_refusals_name_the_option_and_value_as_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], shown: str) -> None:
    """Row-only options on summary statistics: the option's name and its values as given (they read
    "got ['rev=p99']" and "parameter 'covariates'")."""
    path = tmp_path / "summary.csv"
    path.write_text("arm,metric,count,mean,variance\nc,rev,100,1.0,2.0\nt,rev,100,1.2,2.0\n")
    out = tmp_path / "r.html"
    code = main(["analyze", str(path), "--arm", "arm", "--control", "c", *option, "--html", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and shown in err[0] and "[" not in err[0]
    assert not out.exists()


def test_an_arm_of_one_unit_has_no_interval(rows: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """One unit in an arm: its variance is unknown, so the Welch, capped and quantile effects have no
    interval (they gave a zero-width one, 'CI +77.87 to +77.87', and blamed the cap for it)."""
    df = pl.read_csv(rows)
    path = tmp_path / "solo.csv"
    pl.concat([df, df.filter(pl.col("rev") > 0).head(1).with_columns(arm=pl.lit("solo"))]).write_csv(path)
    args = [str(path), "--arm", "arm", "--control", "ctl", "--metric", "rev", "--cap", "rev=p99",
            "--quantile", "rev=0.9"]
    out = _json(capsys, *args)
    for key in ("results", "capped_results", "quantile_results"):
        solo = [r for r in out[key] if r["arm"] == "solo"]
        assert len(solo) == 1 and solo[0]["n_arm"] == 1
        assert solo[0]["estimate"] is not None
        assert solo[0]["ci_low"] is None and solo[0]["ci_high"] is None and solo[0]["p_value"] is None
        others = [r for r in out[key] if r["arm"] != "solo"]
        assert all(r["ci_low"] < r["ci_high"] for r in others)  # the other arms keep their intervals
    assert main(["analyze", *args]) == 0
    text = capsys.readouterr().out
    assert "an arm with one unit has no variance" in text and "the cap is too low" not in text


def test_time_reads_iso_text_with_an_offset_in_utc(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """ISO datetimes with an offset in a CSV ('2026-03-01T23:30:00+02:00') were refused with polars'
    'called with no format and no time zone'; they are read in UTC, like the same instants written
    naive in UTC."""
    rng = np.random.default_rng(4)
    n = 600
    hours = rng.integers(0, 24 * 6, n)
    utc = [np.datetime64("2026-03-01T00:00") + np.timedelta64(int(h), "h") for h in hours]
    offset = [str((t + np.timedelta64(2, "h")).astype("datetime64[s]")) + "+02:00" for t in utc]
    df = pl.DataFrame({"arm": rng.choice(["c", "t"], n), "y": rng.normal(0, 1, n),
                       "naive": [str(t.astype("datetime64[s]")) for t in utc], "offset": offset})
    path = tmp_path / "tz.csv"
    df.write_csv(path)
    base = [str(path), "--arm", "arm", "--control", "c", "--metric", "y"]
    with_offset = _json(capsys, *base, "--time", "offset")["sequential"]
    naive = _json(capsys, *base, "--time", "naive")["sequential"]
    assert with_offset[0]["looks"] == 6
    assert with_offset[0]["look_labels"] == naive[0]["look_labels"]
    assert with_offset[0]["by_look"] == naive[0]["by_look"]


def test_chart_title_does_not_deny_a_significant_effect_it_cannot_draw() -> None:
    """A control mean of 0 leaves the relative lift undefined, so the chart draws nothing; its title
    said 'No arm moved a metric beyond chance' under a verdict of p < 0.001."""
    from experiments.charts.analysis import effects_chart
    from experiments.stats.effects import mean_effect
    from experiments.stats.sufficient import SampleStats

    e = mean_effect(SampleStats.from_moments(4000, -1.0, 1.0), SampleStats.from_moments(4000, 0.0, 1.0),
                    metric="m", arm="t", control_label="c")
    assert e.p_value < 1e-6 and not math.isfinite(e.rel_lift)
    title = effects_chart([e]).to_dict()["title"]
    assert "No arm moved" not in title and "see the table" in title
    null = mean_effect(SampleStats.from_moments(4000, 0.01, 1.0), SampleStats.from_moments(4000, 0.0, 1.0))
    assert effects_chart([null]).to_dict()["title"] == "No arm moved a metric beyond chance"


@pytest.mark.parametrize(("option", "name"), [
    (["--bayesian", "--prior-sd", "1e-300"], "prior-sd"),  # was ZeroDivisionError (1 / sd**2)
    (["--bayesian", "--prior-sd", "1e300"], "prior-sd"),  # was OverflowError (sd**2)
    (["--cap", "rev=-1e300"], "cap"),  # was OverflowError in the capped sums of squares
    (["--cap", "rev=1e101"], "cap"),
    (["--bayesian", "--value", "rev=1e300"], "value"),  # the loss in money overflowed to inf
])
def test_extreme_values_of_the_new_options_are_refused(rows: Path, tmp_path: Path, option: list[str],
                                                       name: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code = main(["analyze", str(rows), "--arm", "arm", "--control", "ctl", "--metric", "rev", *option,
                 "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"parameter '{name}'" in err[0]
    assert option[-1].split("=")[-1] in err[0]
    assert not out.exists()


def test_bounds_of_the_new_options_are_accepted(rows: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, str(rows), "--arm", "arm", "--control", "ctl", "--metric", "rev", "--bayesian",
                "--prior-sd", "1e-6", "--value", "rev=1e100", "--cap", "rev=-1e100")
    r = out["results"][0]
    assert 0 <= r["chance_to_beat_control"] <= 1 and math.isfinite(r["expected_loss_money"])
    assert out["capped_results"][0]["cap"]["value"] == -1e100


def test_html_sequential_section_names_the_control_and_escapes_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hostile arm and metric labels in the sequential and Bayesian sections of the page are escaped; the
    sequential lines name the comparison ('arm vs control', as the printed text does)."""
    arm, ctl, metric = "</script><b>t", 'c"&', "m<i>"
    rows = ["arm,metric,count,mean,variance,look"]
    for look, diff in enumerate([1.0, 1.0, -1.0, -1.0], 1):
        rows += [f'"{ctl.replace(chr(34), chr(34) * 2)}",{metric},{1000 * look},1,1,{look}',
                 f"{arm},{metric},{1000 * look},{1 + diff},1,{look}"]
    path = tmp_path / "looks.csv"
    path.write_text("\n".join(rows) + "\n")
    page = tmp_path / "r.html"
    code = main(["analyze", str(path), "--arm", "arm", "--control", ctl, "--time", "look", "--bayesian",
                 "--html", str(page)])
    assert code == 0, capsys.readouterr().err
    text = page.read_text()
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert "<b>t" not in body and "m<i>" not in body
    assert "m&lt;i&gt;: &lt;/script&gt;&lt;b&gt;t vs c&quot;&amp;:" in body
    assert "decision inconsistent" in body


def test_planned_n_on_summary_without_looks_is_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """--planned-n tunes the sequential tests; a summary with no look column has none (it was silently
    ignored, while on rows it is refused without --time)."""
    path = tmp_path / "summary.csv"
    path.write_text("arm,metric,count,mean,variance\nc,rev,100,1.0,2.0\nt,rev,100,1.2,2.0\n")
    out = tmp_path / "r.json"
    code = main(["analyze", str(path), "--arm", "arm", "--control", "c", "--planned-n", "500",
                 "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "parameter 'planned-n': got 500" in err[0] and "look" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("dtype", [pl.Categorical, pl.Enum(["no", "yes"])])
def test_categorical_yes_no_metric_in_parquet_reads_like_text(rows: Path, tmp_path: Path, dtype: pl.DataType,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """pandas writes text columns as categoricals; a categorical yes/no metric was refused with polars'
    'cannot cast categorical types to Float64'. It now gives the numbers of the same text column."""
    df = pl.read_csv(rows)
    text, coded = tmp_path / "text.parquet", tmp_path / "coded.parquet"
    df.write_parquet(text)
    df.with_columns(pl.col("conv_txt").cast(dtype), pl.col("arm").cast(pl.Categorical)).write_parquet(coded)
    args = ["--arm", "arm", "--control", "ctl", "--metric", "conv_txt", "--time", "day", "--bayesian"]
    a, b = _json(capsys, str(text), *args), _json(capsys, str(coded), *args)
    assert a["results"] == b["results"] and a["sequential"] == b["sequential"]
    assert a["metrics"] == {"conv_txt": "binary"}
    bad = tmp_path / "bad.parquet"
    df.with_columns(pl.Series("conv_txt", ["red", "blue"] * (df.height // 2), dtype=pl.Categorical)
                    ).write_parquet(bad)
    assert main(["analyze", str(bad), "--arm", "arm", "--control", "ctl", "--metric", "conv_txt"]) == 2
    err = capsys.readouterr().err
    assert "conv_txt" in err and "cast" not in err and err.count("\n") == 1
