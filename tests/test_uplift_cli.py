"""``experiments uplift-eval`` and ``experiments uplift``: JSON contracts, files, report, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sklift.metrics as skm

from experiments.cli import main
from experiments.commands.uplift_eval import RESULT_KEYS
from tests.conftest import dump_dom

pytestmark = pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")

TREAT = "e-mail <b>&"  # a label that must be escaped in HTML


@pytest.fixture(autouse=True)
def _one_openmp_thread():  # type: ignore[no-untyped-def]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("uplift")
    rng = np.random.default_rng(4)
    n = 3000
    arm = rng.choice([TREAT, "none", "other"], n, p=[0.45, 0.45, 0.1])
    recency = rng.integers(1, 13, n)
    channel = rng.choice(["web", "phone", "both"], n)
    tau = np.where(recency <= 4, 0.25, 0.0)
    converted = (rng.random(n) < 0.1 + (arm == TREAT) * tau).astype(np.int64)
    score = np.round(-recency + rng.normal(size=n), 1)
    frame = pl.DataFrame({
        "arm": arm, "converted": converted, "spend": converted * rng.gamma(2, 40, n), "recency": recency,
        "channel": channel, "flag": rng.random(n) < 0.3, "email": [f"c{i}@shop.example" for i in range(n)],
        "score": score, "score_nan": np.where(np.arange(n) == 7, np.nan, score),
        "outcome_text": np.where(converted == 1, "yes", "no"),
    })
    out = {"csv": d / "exp.csv", "parquet": d / "exp.parquet", "dir": d}
    frame.write_csv(out["csv"])
    frame.write_parquet(out["parquet"])
    out["tiny"] = d / "tiny.csv"
    frame.head(40).write_csv(out["tiny"])
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


EVAL = ["--arm", "arm", "--treatment", TREAT, "--control", "none", "--outcome", "converted", "--score",
        "score"]
FIT = ["--arm", "arm", "--treatment", TREAT, "--control", "none", "--outcome", "converted", "--feature",
       "recency", "--feature", "channel", "--feature", "flag", "--folds", "3", "--bootstrap", "50"]


# ------------------------------------------------------------------------------------ uplift-eval


def test_uplift_eval_json_contract_matches_sklift(files: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "uplift-eval", str(files["parquet"]), *EVAL, "--k", "0.2", "--json", "-")
    assert code == 0, err
    d = json.loads(out)
    assert list(d)[: len(RESULT_KEYS) - 1] == list(RESULT_KEYS[:-1]) and "curve" in d
    df = pl.read_parquet(files["parquet"]).filter(pl.col("arm").is_in([TREAT, "none"]))
    y, s = df["converted"].to_numpy(), df["score"].to_numpy()
    t = (df["arm"] == TREAT).to_numpy().astype(int)
    assert d["n_rows"] == df.height and d["n_treatment"] == t.sum() and d["n_control"] == df.height - t.sum()
    assert d["n_left_out"] == 3000 - df.height and d["k"] == 0.2
    assert d["qini_auc"] == pytest.approx(skm.qini_auc_score(y, s, t), abs=1e-9)
    assert d["uplift_auc"] == pytest.approx(skm.uplift_auc_score(y, s, t), abs=1e-9)
    assert d["uplift_at_k"] == pytest.approx(skm.uplift_at_k(y, s, t, strategy="overall", k=0.2), abs=1e-9)
    shares = [p["share"] for p in d["curve"]]
    assert len(shares) == 101 and np.allclose(np.diff(shares), 0.01)
    assert {"share", "qini", "uplift"} <= set(d["curve"][0])
    code, out_csv, _ = _run(capsys, "uplift-eval", str(files["csv"]), *EVAL, "--k", "0.2", "--json", "-")
    d_csv = json.loads(out_csv)
    for key in ("qini_auc", "uplift_auc", "uplift_at_k", "n_rows", "curve"):
        assert d_csv[key] == d[key]


def test_uplift_eval_summary_and_json_file(files: dict[str, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = files["dir"] / "eval.json"
    code, out, _ = _run(capsys, "uplift-eval", str(files["csv"]), *EVAL, "--json", str(target))
    assert code == 0
    assert "rows of other arms left out" in out and "Qini coefficient" in out
    assert json.loads(target.read_text())["n_rows"] > 0
    code, _, err = _run(capsys, "uplift-eval", str(files["csv"]), *EVAL, "--json", str(target))
    assert code == 2 and "file exists; pass --overwrite" in err
    code, _, _ = _run(capsys, "uplift-eval", str(files["csv"]), *EVAL, "--json", str(target), "--overwrite")
    assert code == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"--score": "score_nan"}, "score column 'score_nan' has 1 missing"),
    ({"--treatment": "mail"}, "treatment label 'mail' not found in column 'arm'; labels present: "
                              "'e-mail <b>&', 'none', 'other'"),
    ({"--outcome": "outcome_text"}, "outcome column 'outcome_text' is not numeric"),
    ({"--outcome": "nope"}, "unknown column(s) 'nope'"),
    ({"--control": TREAT}, "parameter 'treatment'"),
    ({"--k": "1.5"}, "parameter 'k': got '1.5'"),
])
def test_uplift_eval_bad_input(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                               change: dict[str, str], message: str) -> None:
    args = [*EVAL, "--k", "0.3"]
    for option, value in change.items():
        args[args.index(option) + 1] = value
    code, out, err = _run(capsys, "uplift-eval", str(files["parquet"]), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_uplift_eval_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "uplift-eval", str(tmp_path / "none.csv"), *EVAL)
    assert code == 2 and "does not exist" in err


# ------------------------------------------------------------------------------------ uplift


@pytest.fixture(scope="module")
def fitted(files: dict[str, Path]) -> dict[str, Path]:
    d = files["dir"]
    paths = {"json": d / "fit.json", "html": d / "fit.html", "scores": d / "scores.parquet"}
    code = main(["uplift", str(files["csv"]), *FIT, "--learner", "t", "--value-per-outcome", "30",
                 "--cost-per-treated", "0.5", "--json", str(paths["json"]), "--html", str(paths["html"]),
                 "--scores-out", str(paths["scores"])])
    assert code == 0
    return paths


def test_uplift_json_contract(fitted: dict[str, Path]) -> None:
    d = json.loads(fitted["json"].read_text())
    assert list(d)[:7] == list(RESULT_KEYS[:-1])
    assert d["learner"] == "t" and d["folds"] == 3 and d["n_left_out"] > 0
    q = d["qini"]
    assert q["ci_low"] < q["estimate"] < q["ci_high"] and q["estimate"] == d["qini_auc"]
    assert q["ci_low"] > 0  # recency drives the effect and the learner finds it
    assert len(d["bins"]) == 10 and d["bins"][0]["estimate"] > d["bins"][-1]["estimate"]
    pol = d["policy"]
    assert pol["value_per_outcome"] == 30 and pol["cost_per_treated"] == 0.5
    assert 0 < d["best_share"] < 1 and pol["best"]["share"] == d["best_share"]
    assert pol["best"]["estimate"] == max(p["estimate"] for p in pol["curve"])
    assert pol["treat_all"]["share"] == 1.0 and len(pol["curve"]) == 101 and len(d["curve"]) == 101
    assert [e["kind"] for e in d["encoded_features"]] == ["number", "one-hot", "boolean"]


def test_uplift_scores_file(fitted: dict[str, Path], files: dict[str, Path]) -> None:
    scores = pl.read_parquet(fitted["scores"])
    source = pl.read_csv(files["csv"])
    assert scores.columns == ["row", "arm", "outcome", "uplift_score", "fold"]
    assert scores.height == json.loads(fitted["json"].read_text())["n_rows"]
    assert scores["arm"].to_list() == source["arm"].gather(scores["row"]).to_list()
    assert set(scores["fold"].unique().to_list()) == {0, 1, 2}


def test_uplift_html_verdict_first_and_escaped(fitted: dict[str, Path]) -> None:
    text = fitted["html"].read_text()
    body = text[text.index("<body>"):]
    assert body.index('class="verdict"') < body.index('<div class="chart"') < body.index("<table")
    assert text.count('<div class="chart"') == 3
    assert "e-mail &lt;b&gt;&amp;" in text and "e-mail <b>&" not in body.split("<script")[0]
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", text)
    assert "per 1,000 customers" in text


@pytest.mark.browser
def test_uplift_html_draws_offline_in_chromium(fitted: dict[str, Path], chromium: str) -> None:
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, fitted["html"]), flags=re.S)
    assert '<pre style="color:red">' not in dom
    assert len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom)) == 3


def test_uplift_prints_a_summary(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "uplift", str(files["parquet"]), *FIT, "--learner", "transformed",
                        "--outcome", "spend", "--propensity", "0.5")
    assert code == 0
    assert "per 1,000 customers" in out and "uplift by bin" in out and "transformed outcome" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--feature", "email"], "feature 'email' is text with 2,685 levels (more than 64); refused"),
    (["--feature", "zip"], "unknown column(s) 'zip'"),
    (["--outcome", "outcome_text"], "outcome column 'outcome_text' is not numeric"),
    (["--treatment", "mail"], "labels present: 'e-mail <b>&', 'none', 'other'"),
    (["--control", TREAT], "parameter 'treatment'"),
    (["--folds", "1"], "parameter 'folds'"),
    (["--scores-out", "scores.csv"], "parameter 'scores_out'"),
])
def test_uplift_bad_input(files: dict[str, Path], capsys: pytest.CaptureFixture[str], extra: list[str],
                          message: str) -> None:
    args = list(FIT)
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        if option in args and option != "--feature":
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    code, out, err = _run(capsys, "uplift", str(files["parquet"]), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_uplift_needs_two_rows_per_arm_and_fold(files: dict[str, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = list(FIT)
    args[args.index("--folds") + 1] = "10"
    code, _, err = _run(capsys, "uplift", str(files["tiny"]), *args)
    assert code == 2 and "needs at least 2 per arm and fold (20)" in err


def test_outputs_are_checked_before_any_work(files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    existing = tmp_path / "report.html"
    existing.write_text("keep me")
    scores = tmp_path / "s.parquet"
    code, _, err = _run(capsys, "uplift", str(files["csv"]), *FIT, "--scores-out", str(scores),
                        "--html", str(existing))
    assert code == 2 and "--html" in err and "--overwrite" in err
    assert existing.read_text() == "keep me" and not scores.exists()
    code, _, err = _run(capsys, "uplift", str(files["csv"]), *FIT, "--json", str(tmp_path / "no" / "x.json"))
    assert code == 2 and "does not exist" in err


def test_the_metrics_import_no_scikit_learn() -> None:
    """Scoring a ranking (Qini, uplift areas) never loads scikit-learn, statsmodels or scipy."""
    import subprocess
    import sys

    code = ("import sys\nimport experiments.models.uplift.metrics\n"
            "assert not {'sklearn', 'scipy', 'statsmodels'} & set(sys.modules), sorted(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


