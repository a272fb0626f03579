"""``experiments analyze --cap / --quantile``: JSON, text, HTML; refusals (exit 2, one line, no file)."""

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
    d = tmp_path_factory.mktemp("tails")
    rng = np.random.default_rng(21)
    n = 6_000
    arm = rng.choice(["ctrl", "A", "B"], n)
    conv = rng.random(n) < np.where(arm == "ctrl", 0.2, 0.25)
    df = pl.DataFrame({"arm": arm, "converted": np.where(conv, "yes", "no"), "bought": conv.astype(np.int64),
                       "revenue": conv * rng.lognormal(3, 1.4, n), "region": rng.choice(["n", "s"], n)})
    out = {"csv": d / "exp.csv", "parquet": d / "exp.parquet", "summary": d / "summary.csv"}
    df.write_csv(out["csv"])
    df.write_parquet(out["parquet"])
    pl.DataFrame({"arm": ["ctrl", "A"], "metric": ["m", "m"], "count": [1000, 1000], "mean": [1.0, 1.1],
                  "variance": [4.0, 4.0]}).write_csv(out["summary"])
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


BASE = ["--arm", "arm", "--control", "ctrl", "--metric", "converted", "--metric", "revenue"]
TAILS = ["--cap", "revenue=p99", "--quantile", "revenue=0.5", "--quantile", "revenue=0.9"]


def test_json_capped_and_quantile_results(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(files["parquet"]), *BASE, *TAILS, "--segment", "region", "--json", "-")
    assert code == 0
    d = json.loads(out)
    _, plain, _ = _run(capsys, str(files["parquet"]), *BASE, "--segment", "region", "--json", "-")
    assert d["results"] == json.loads(plain)["results"]  # the uncapped effects are unchanged
    revenue = np.asarray(pl.read_parquet(files["parquet"])["revenue"])
    cap = np.percentile(revenue, 99)
    assert [c["arm"] for c in d["capped_results"]] == ["A", "B"]
    for c in d["capped_results"]:
        assert list(c)[: len(RESULT_KEYS)] == list(RESULT_KEYS) and c["diff"] == c["estimate"]
        assert c["estimand"] == "itt" and c["segment"] is None and c["metric"] == "revenue"
        assert c["cap"]["kind"] == "percentile" and c["cap"]["percentile"] == 99
        assert c["cap"]["value"] == pytest.approx(cap, rel=1e-15)
        assert c["n_capped_arm"] > 0 and c["n_capped_control"] > 0 and "capped at" in c["method"]
    assert d["capped_results"][0]["n_capped_control"] == d["capped_results"][1]["n_capped_control"]
    assert sum(c["n_capped_arm"] for c in d["capped_results"]) + d["capped_results"][0]["n_capped_control"] \
        == int(np.sum(revenue > cap))
    qs = d["quantile_results"]
    assert [(q["quantile"], q["arm"]) for q in qs] == [(0.5, "A"), (0.5, "B"), (0.9, "A"), (0.9, "B")]
    assert all(q["estimand"] == "itt" for q in qs)
    # most revenue is 0, so both medians sit on that atom: a point interval, nothing to test
    assert all(q["estimate"] == q["se"] == 0 and q["p_value"] is None for q in qs[:2])
    assert all(q["se"] > 0 and 0 < q["p_value"] <= q["p_value_adjusted"] <= 1 for q in qs[2:])
    assert qs[2]["ci_low"] < qs[2]["estimate"] < qs[2]["ci_high"]


def test_absolute_cap(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(files["csv"]), *BASE, "--cap", "revenue=250", "--json", "-")
    c = json.loads(out)["capped_results"][0]
    assert code == 0 and c["cap"] == {"kind": "absolute", "value": 250.0, "percentile": None}


def test_text_and_html_say_it_in_words(files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    html_path = tmp_path / "r.html"
    code, out, _ = _run(capsys, str(files["csv"]), *BASE, *TAILS, "--html", str(html_path))
    assert code == 0
    assert "revenue capped at " in out and "(p99 of all arms; " in out and "values capped: A " in out
    assert "; uncapped " in out and "per unit" in out
    assert "revenue, median: A " in out and "revenue, 90th percentile: B " in out
    page = html_path.read_text()
    assert "Capped metrics" in page and "Quantiles" in page and "90th percentile" in page
    assert "revenue capped at" in page and "q_ctrl" in page


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "--cap METRIC=pNN|VALUE" in out and "--quantile METRIC=Q" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--cap", "nope=p99"], "parameter 'cap': got 'nope=p99'; allowed: METRIC one of the --metric columns"),
    (["--quantile", "nope=0.5"], "parameter 'quantile': got 'nope=0.5'"),
    (["--cap", "converted=p99"], "'converted' is binary (0/1): it has no tail to cap"),
    (["--cap", "bought=100", "--metric", "bought"], "'bought' is binary (0/1)"),
    (["--quantile", "converted=0.5"], "its quantiles are 0 or 1"),
    (["--cap", "revenue=p0"], "a percentile in (0, 100]"),
    (["--cap", "revenue=p100.5"], "a percentile in (0, 100]"),
    (["--quantile", "revenue=1"], "strictly between 0 and 1"),
    (["--quantile", "revenue=0"], "strictly between 0 and 1"),
    (["--cap", "revenue=lots"], "'lots' is not a number"),
    (["--cap", "revenue=p99", "--cap", "revenue=500"], "'revenue' is capped twice"),
])
def test_refusals(files: dict[str, Path], tmp_path: Path, extra: list[str], message: str,
                  capsys: pytest.CaptureFixture[str]) -> None:
    out_json, out_html = tmp_path / "x.json", tmp_path / "x.html"
    code, out, err = _run(capsys, str(files["csv"]), *BASE, *extra, "--json", str(out_json), "--html",
                          str(out_html))
    assert code == 2 and message in err and err.count("\n") == 1
    assert err.startswith("experiments analyze: error:")
    assert not out and not out_json.exists() and not out_html.exists()


@pytest.mark.parametrize("option", [["--cap", "m=p99"], ["--quantile", "m=0.5"]])
def test_refused_on_summary_statistics(files: dict[str, Path], tmp_path: Path, option: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "x.json"
    code, out, err = _run(capsys, str(files["summary"]), "--arm", "arm", "--control", "ctrl", *option,
                          "--json", str(out_json))
    assert code == 2 and "summary-statistics input has no rows" in err and err.count("\n") == 1
    assert f"parameter '{option[0][2:]}'" in err and not out and not out_json.exists()


def test_a_cap_too_low_is_said(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Most revenue is 0: its median caps everything to 0, and the words say so."""
    code, out, _ = _run(capsys, str(files["csv"]), *BASE, "--cap", "revenue=p50")
    assert code == 0 and "revenue capped at 0 (p50 of all arms;" in out
    assert out.count("once capped, no value varies: the cap is too low") == 2
