"""``experiments analyze`` with several covariates (Lin 2013) and ``--exposed`` (2SLS): JSON contract,
equality with statsmodels / linearmodels on the rows, text and HTML, refusals (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

from experiments.cli import main
from experiments.stats.row_analysis import RESULT_KEYS

FIXTURE = Path(__file__).parent / "fixtures" / "remarketing_exposed.csv.gz"
COVS = ["history", "recency", "frequency"]
BASE = ["--arm", "arm", "--control", "holdout", "--metric", "converted", "--metric", "spend"]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return pl.read_csv(FIXTURE)


@pytest.fixture(scope="module")
def result(rows: pl.DataFrame) -> dict:
    from experiments.commands.analyze import analyze_file

    res = analyze_file(str(FIXTURE), arm="arm", control="holdout", metrics=["converted", "spend"],
                       covariates=COVS, exposure="exposed")
    return res.to_dict()


def test_json_contract_and_estimands(result: dict) -> None:
    d = result
    for key in ("results", "adjusted_results", "ratio_results", "bootstrap"):
        assert all(e["estimand"] == "itt" for e in d[key])
    assert len(d["exposed_results"]) == 4 and all(e["estimand"] == "exposed" for e in d["exposed_results"])
    assert all(list(e)[: len(RESULT_KEYS)] == list(RESULT_KEYS) for e in d["exposed_results"])
    assert d["exposure"]["column"] == "exposed" and d["exposure"]["one_sided"] is True
    assert d["exposure"]["exposed"]["holdout"] == 0
    assert 0.55 < d["exposure"]["rate"]["display"] < 0.7 and 0.7 < d["exposure"]["rate"]["email"] < 0.8
    assert all(e["method"].startswith("Lin (2013)") for e in d["adjusted_results"])
    plain = {(e["metric"], e["arm"]): e for e in d["results"] if e["segment"] is None}
    for e in d["adjusted_results"]:
        p = plain[(e["metric"], e["arm"])]
        assert e["width_ratio"] == pytest.approx((e["ci_high"] - e["ci_low"]) / (p["ci_high"] - p["ci_low"]))
    # the effect on the exposed is the ITT over the exposure-rate difference (one-sided: the arm's rate)
    for e in d["exposed_results"]:
        p = plain[(e["metric"], e["arm"])]
        assert e["estimate"] == pytest.approx(p["estimate"] / d["exposure"]["rate"][e["arm"]], rel=1e-9)


def test_adjusted_equals_statsmodels_and_exposed_equals_linearmodels(rows: pl.DataFrame,
                                                                    result: dict) -> None:
    """Through the whole command path (one polars pass, exact sums) against the references on the rows."""
    for e in result["adjusted_results"]:
        sub = rows.filter(pl.col("arm").is_in([e["arm"], "holdout"]))
        t = (sub["arm"] == e["arm"]).to_numpy().astype(float)[:, None]
        x = sub.select(COVS).to_numpy().astype(float)
        xc = x - x.mean(axis=0)
        fit = sm.OLS(sub[e["metric"]].to_numpy().astype(float),
                     np.hstack([np.ones_like(t), t, xc, t * xc])).fit(cov_type="HC1")
        low, high = fit.conf_int()[1]
        for key, ref in (("estimate", fit.params[1]), ("se", fit.bse[1]), ("p_value", fit.pvalues[1]),
                         ("ci_low", low), ("ci_high", high)):
            assert e[key] == pytest.approx(ref, rel=1e-9), (e["metric"], e["arm"], key)
    for e in result["exposed_results"]:
        sub = rows.filter(pl.col("arm").is_in([e["arm"], "holdout"]))
        z = (sub["arm"] == e["arm"]).to_numpy().astype(float)[:, None]
        fit = IV2SLS(sub[e["metric"]].to_numpy().astype(float), np.ones_like(z),
                     sub["exposed"].to_numpy().astype(float)[:, None], z).fit(cov_type="robust")
        ci = fit.conf_int().to_numpy()[1]
        for key, ref in (("estimate", fit.params.iloc[1]), ("se", fit.std_errors.iloc[1]),
                         ("p_value", fit.pvalues.iloc[1]), ("ci_low", ci[0]), ("ci_high", ci[1])):
            assert e[key] == pytest.approx(ref, rel=1e-9), (e["metric"], e["arm"], key)


def test_one_covariate_stays_cuped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(FIXTURE), *BASE, "--covariate", "history", "--json", "-")
    d = json.loads(out)
    assert code == 0 and all(e["method"].startswith("CUPED") for e in d["adjusted_results"])
    assert "exposure" not in d and "exposed_results" not in d


def test_text_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "r.html"
    cov = [a for c in COVS for a in ("--covariate", c)]
    code, out, _ = _run(capsys, str(FIXTURE), *BASE, *cov, "--exposed", "exposed", "--html", str(page))
    assert code == 0
    assert "spend, display: Adjusted for history, recency, frequency (Lin 2013, HC1): +" in out
    assert "narrower" in out and "2SLS" in out
    assert ("converted, display: On the exposed (62% of the treatment arm was reached, 0% of the control): +"
            in out)
    html = page.read_text()
    assert "On the exposed (62% of the treatment arm was reached" in html
    assert "Effect on the exposed: 2SLS" in html and "Lin 2013 interacted regression" in html


def test_two_sided_exposure_is_reported(tmp_path: Path, rows: pl.DataFrame,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ghost.parquet"
    rows.with_columns(pl.when(pl.col("customer_id") < 50).then(1).otherwise(pl.col("exposed"))
                      .alias("exposed")).write_parquet(path)
    code, out, _ = _run(capsys, str(path), *BASE, "--exposed", "exposed")
    assert code == 0 and "control unit(s) were exposed: non-compliance is two-sided" in out


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, rows: pl.DataFrame) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("exposed")
    out = {}
    variants = {
        "not01": rows.with_columns(pl.when(pl.col("customer_id") == 3).then(2).otherwise(pl.col("exposed"))
                                   .alias("exposed")),
        "missing": rows.with_columns(pl.when(pl.col("customer_id") == 3).then(None)
                                     .otherwise(pl.col("exposed")).alias("exposed")),
        "none": rows.with_columns(pl.when(pl.col("arm") == "email").then(0).otherwise(pl.col("exposed"))
                                  .alias("exposed")),
        "text": rows.with_columns(pl.col("arm").alias("exposed")),
    }
    for name, frame in variants.items():
        out[name] = d / f"{name}.parquet"
        frame.write_parquet(out[name])
    summary = pl.DataFrame({"arm": ["holdout", "display"], "metric": ["m", "m"], "count": [100, 100],
                            "mean": [1.0, 1.1], "variance": [1.0, 1.0], "exposed": [0, 1]})
    out["summary"] = d / "summary.csv"
    summary.write_csv(out["summary"])
    return out


@pytest.mark.parametrize(
    ("file", "extra", "message"),
    [
        ("not01", ["--exposed", "exposed"], "exposure 'exposed' has 1 value(s) other than 0 and 1"),
        ("missing", ["--exposed", "exposed"], "exposure 'exposed' has 1 missing value(s)"),
        ("none", ["--exposed", "exposed"], "no unit of arm 'email' was exposed"),
        ("text", ["--exposed", "exposed"], "exposure 'exposed' holds text"),
        ("not01", ["--exposed", "spend"], "--exposed 'spend' is also the metric"),
        ("not01", ["--exposed", "arm"], "--exposed 'arm' is also the arm column"),
        ("not01", ["--exposed", "history", "--covariate", "history"], "is also the covariate"),
        ("not01", ["--exposed", "nope"], "unknown column 'nope'"),
    ],
)
def test_exposed_refusals(bad_files: dict[str, Path], tmp_path: Path, file: str, extra: list[str],
                          message: str, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "x.json"
    code, out, err = _run(capsys, str(bad_files[file]), *BASE, *extra, "--json", str(out_json))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not out_json.exists() and not out


def test_summary_input_refuses_exposed(bad_files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "x.json"
    code, out, err = _run(capsys, str(bad_files["summary"]), "--arm", "arm", "--control", "holdout",
                          "--exposed", "exposed", "--json", str(out_json))
    assert code == 2 and "parameter 'exposed'" in err and "summary-statistics input has no rows" in err
    assert not out_json.exists() and not out
