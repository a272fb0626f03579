"""``experiments uplift`` with ``--treatment`` repeated: one entry per arm and the multi-arm policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")

ARM_B = "coupon <b>&"  # a label that must be escaped in HTML


@pytest.fixture(autouse=True)
def _one_openmp_thread():  # type: ignore[no-untyped-def]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("arms")
    rng = np.random.default_rng(9)
    n = 4000
    arm = rng.choice(["none", "mail", ARM_B, "other"], n, p=[0.3, 0.3, 0.3, 0.1])
    recency = rng.integers(1, 13, n)
    # the mail works on recent customers, the coupon on the others
    effect = np.where(arm == "mail", np.where(recency <= 4, 0.3, 0.0),
                      np.where(arm == ARM_B, np.where(recency > 8, 0.3, 0.0), 0.0))
    converted = (rng.random(n) < 0.1 + effect).astype(np.int64)
    frame = pl.DataFrame({"arm": arm, "converted": converted, "recency": recency,
                          "channel": rng.choice(["web", "phone"], n)})
    path = d / "arms.parquet"
    frame.write_parquet(path)
    return {"file": path, "dir": d}


ARGS = ["--arm", "arm", "--treatment", "mail", "--treatment", ARM_B, "--control", "none", "--outcome",
        "converted", "--feature", "recency", "--feature", "channel", "--folds", "2", "--bootstrap", "20"]


@pytest.fixture(scope="module")
def fitted(data: dict[str, Path]) -> dict[str, Path]:
    out = {"json": data["dir"] / "arms.json", "html": data["dir"] / "arms.html"}
    assert main(["uplift", str(data["file"]), *ARGS, "--value-per-outcome", "20", "--cost-per-treated", "1",
                 "--json", str(out["json"]), "--html", str(out["html"])]) == 0
    return out


def test_json_has_one_entry_per_arm_and_the_budget_curve(fitted: dict[str, Path], data: dict[str, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    d = json.loads(fitted["json"].read_text())
    assert d["treatments"] == ["mail", ARM_B] and [a["treatment"] for a in d["arms"]] == ["mail", ARM_B]
    # each arm's entry is the two-arm analysis of that arm against the control
    assert main(["uplift", str(data["file"]), *ARGS[:4], *ARGS[6:], "--value-per-outcome", "20",
                 "--cost-per-treated", "1", "--json", "-"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert d["arms"][0] == {k: v for k, v in single.items() if k != "scores_out"}
    m = d["multi_arm"]
    assert m["n_by_arm"] == {"none": d["arms"][0]["n_control"], "mail": d["arms"][0]["n_treatment"],
                             ARM_B: d["arms"][1]["n_treatment"]}
    assert sum(m["assigned"].values()) == m["n_rows"] == sum(m["n_by_arm"].values())
    # the policy gives the mail and the coupon each to many customers, and earns more than either alone
    assert m["assigned"]["mail"] > 0.15 * m["n_rows"] and m["assigned"][ARM_B] > 0.15 * m["n_rows"]
    assert m["policy"]["estimate"] > max(v["estimate"] for v in m["everyone"].values())
    assert m["policy"]["ci_low"] > 0
    curve = m["budget_curve"]
    assert m["budget_unit"] == "spend per customer" and len(curve) == 21
    assert curve[0]["estimate"] == 0 and curve[-1]["budget"] == pytest.approx(1.0)
    assert [p["treated_share"] for p in curve] == sorted(p["treated_share"] for p in curve)
    assert curve[-1]["estimate"] == pytest.approx(m["policy"]["estimate"])


def test_text_and_html_show_every_arm(fitted: dict[str, Path], data: dict[str, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["uplift", str(data["file"]), *ARGS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Give each customer the arm with the highest predicted profit")
    assert "budget curve (budget as share of customers" in out
    assert "mail against none:" in out and f"{ARM_B} against none:" in out
    text = fitted["html"].read_text()
    body = text[text.index("<body>"):]
    assert body.index('class="verdict"') < body.index('<div class="chart"')
    assert text.count('<div class="chart"') == 5  # the budget curve, and each arm's Qini and profit
    assert "coupon &lt;b&gt;&amp;" in text and ARM_B not in body.split("<script")[0]
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", text)


@pytest.mark.parametrize(("extra", "message"), [
    (["--treatment", "mail"], "parameter 'treatment'"),
    (["--treatment", "mailx"], "labels present: "),
    (["--propensity", "0.3"], "parameter 'propensity'"),
    (["--scores-out", "s.parquet"], "parameter 'scores_out'"),
])
def test_bad_input_is_one_line_and_writes_nothing(data: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path, extra: list[str], message: str) -> None:
    extra = [str(tmp_path / v) if v.endswith(".parquet") else v for v in extra]
    code = main(["uplift", str(data["file"]), *ARGS, *extra, "--json", str(tmp_path / "x.json")])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == "" and cap.err.count("\n") == 1 and message in cap.err, cap.err
    assert not list(tmp_path.iterdir())
