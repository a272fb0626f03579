"""Bayesian results (``analyze --bayesian``) against GrowthBook's stats engine, gbstats 0.8.0.

gbstats pins numpy < 2 and pandas < 2, so it is not installed beside the project: the reference numbers
below were printed by ``tests/fixtures/gbstats_reference.py`` run in a venv of its own (the call is
written above each case). gbstats computes everything here in closed form (normal posterior; the risk
through scipy's truncated-normal mean), so the tolerance is 1e-12.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from experiments.cli import main
from experiments.errors import ParameterError
from experiments.stats.bayesian import BAYES_KEYS, bayesian_effect, parse_values
from experiments.stats.row_analysis import analyze
from experiments.stats.sufficient import SampleStats
from experiments.stats.summary_input import analyze_summary

TOL = 1e-12


def _values(n: int, mult: int, mod: int, shift: int) -> list[int]:
    """The integer data of tests/fixtures/gbstats_reference.py: ``(i * mult) % mod + shift``."""
    return [(i * mult) % mod + shift for i in range(n)]


CONTROL_REV = _values(500, 37, 101, 0)
ARM_REV = _values(520, 41, 103, 3)


def _stats(xs: list[int]) -> SampleStats:
    return SampleStats(n=len(xs), sum=float(sum(xs)), sum_squares=float(sum(x * x for x in xs)))


def _binary(k: int, n: int) -> SampleStats:
    return SampleStats(n=n, sum=float(k), sum_squares=float(k))


# (control, arm, binary, prior sd, alpha, gbstats' result). Each result is
#   config = EffectBayesianConfig(alpha=alpha, prior_effect=prior)
#   res = EffectBayesianABTest(stat_a, stat_b, config).compute_result()
# with prior = GaussianPrior() (flat) or GaussianPrior(mean=0, variance=sd**2, proper=True), stat_a/stat_b
# ProportionStatistic(n, sum=k) or SampleMeanStatistic(n, sum, sum_squares) of the same data; chance is
# res.chance_to_win, ci res.ci, risk res.risk[1] (loss of shipping the arm), mean/sd res.uplift.
CASES = {
    "binary_flat": (_binary(100, 1000), _binary(120, 1000), True, None, 0.05, dict(
        chance=0.9039004818067533, ci=(-0.1005846161444825, 0.5005846161444822), risk=0.006921607912677944,
        mean=0.1999999999999999, sd=0.1533623161014465)),
    "binary_prior": (_binary(100, 1000), _binary(120, 1000), True, 0.3, 0.05, dict(
        chance=0.8772139365083016, ci=(-0.10907812022274699, 0.42620285595213364), risk=0.008291420710806904,
        mean=0.15856236786469335, sd=0.13655377864009458)),
    "binary_worse": (_binary(260, 5000), _binary(231, 4900), True, None, 0.05, dict(
        chance=0.12125068860316679, ci=(-0.2500460762357664, 0.06323288942257976), risk=0.09818526299770462,
        mean=-0.0934065934065933, sd=0.07991957202516237)),
    "binary_alpha10": (_binary(64, 800), _binary(70, 820), True, 0.1, 0.1, dict(
        chance=0.5741058432626072, ci=(-0.12690197310540915, 0.1594256163375127), risk=0.027196289626646407,
        mean=0.016261821616051796, sd=0.08703740708332623)),
    "continuous_flat": (_stats(CONTROL_REV), _stats(ARM_REV), False, None, 0.05, dict(
        chance=0.9790721146892132, ci=(0.00288046141244519, 0.1534552219464809), risk=0.0002968441766279901,
        mean=0.07816784167946306, sd=0.03841263454883615)),
    "continuous_prior": (_stats(CONTROL_REV), _stats(ARM_REV), False, 0.05, 0.05, dict(
        chance=0.94670522952889, ci=(-0.010547188148494736, 0.10885839695124949), risk=0.0006854012949455404,
        mean=0.04915560440137738, sd=0.030461168174925723)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bayesian_effect_equals_gbstats(name: str) -> None:
    control, arm, binary, sd, alpha, ref = CASES[name]
    b = bayesian_effect(arm, control, binary=binary, alpha=alpha, prior_sd=sd)
    assert b.chance_to_beat_control == pytest.approx(ref["chance"], abs=TOL)
    assert b.credible_low == pytest.approx(ref["ci"][0], abs=TOL)
    assert b.credible_high == pytest.approx(ref["ci"][1], abs=TOL)
    assert b.risk == pytest.approx(ref["risk"], abs=TOL)
    assert b.lift_mean == pytest.approx(ref["mean"], abs=TOL)
    assert b.lift_sd == pytest.approx(ref["sd"], abs=TOL)
    assert b.expected_loss == pytest.approx(ref["risk"] * control.mean, abs=TOL)


def test_zero_control_rate_gives_nan_not_gbstats_placeholder() -> None:
    # gbstats returns chance 0.5, ci [0, 0], risk 0 with error 'ZERO_NEGATIVE_BASELINE_VARIATION' for
    # ProportionStatistic(n=60, sum=0) against (n=60, sum=3): no relative lift exists; here it is nan.
    b = bayesian_effect(_binary(3, 60), _binary(0, 60), binary=True)
    assert all(math.isnan(getattr(b, k)) for k in BAYES_KEYS)
    assert all(b.fields()[k] is None for k in BAYES_KEYS)


def _rows() -> pl.DataFrame:
    """1,000 control rows with 100 conversions and CONTROL_REV, 1,000 arm rows with 120 and ARM_REV."""
    def arm(label: str, k: int, rev: list[int]) -> pl.DataFrame:
        n = 1000
        return pl.DataFrame({"arm": [label] * n, "converted": [1] * k + [0] * (n - k),
                             "revenue": [float(x) for x in rev] + [None] * (n - len(rev))})
    return pl.concat([arm("ctrl", 100, CONTROL_REV), arm("B", 120, ARM_REV)])


def test_row_input_equals_gbstats_with_money() -> None:
    res = analyze(_rows(), arm="arm", control="ctrl", metrics=["converted", "revenue"], bayesian=True,
                  values={"converted": 12.5})
    entries = {r["metric"]: r for r in res.to_dict()["results"]}
    conv, rev = entries["converted"], entries["revenue"]
    ref = CASES["binary_flat"][5]
    assert conv["chance_to_beat_control"] == pytest.approx(ref["chance"], abs=TOL)
    assert (conv["credible_low"], conv["credible_high"]) == pytest.approx(ref["ci"], abs=TOL)
    assert conv["expected_loss"] == pytest.approx(ref["risk"] * 0.1, abs=TOL)
    assert conv["expected_loss_money"] == pytest.approx(ref["risk"] * 0.1 * 12.5, abs=TOL)
    ref = CASES["continuous_flat"][5]
    assert rev["chance_to_beat_control"] == pytest.approx(ref["chance"], abs=TOL)
    assert (rev["credible_low"], rev["credible_high"]) == pytest.approx(ref["ci"], abs=TOL)
    assert rev["expected_loss"] == pytest.approx(ref["risk"] * _stats(CONTROL_REV).mean, abs=TOL)
    assert "expected_loss_money" not in rev
    plain = analyze(_rows(), arm="arm", control="ctrl", metrics=["converted"]).to_dict()
    assert "bayesian" not in plain and not set(BAYES_KEYS) & set(plain["results"][0])


def test_summary_input_equals_gbstats_with_prior() -> None:
    c, a = _stats(CONTROL_REV), _stats(ARM_REV)
    summary = pl.DataFrame({
        "arm": ["ctrl", "B", "ctrl", "B"], "metric": ["converted", "converted", "revenue", "revenue"],
        "count": [1000, 1000, c.n, a.n], "mean": [0.1, 0.12, c.mean, a.mean],
        "variance": [0.1 * 0.9 * 1000 / 999, 0.12 * 0.88 * 1000 / 999, c.variance, a.variance],
    })
    res = analyze_summary(summary, arm="arm", control="ctrl", bayesian=True, prior_sd=0.05)
    assert res.metrics == {"converted": "binary", "revenue": "continuous"}
    rev = next(b for b in res.bayesian if b.metric == "revenue")
    ref = CASES["continuous_prior"][5]
    assert rev.chance_to_beat_control == pytest.approx(ref["chance"], abs=1e-10)
    assert (rev.credible_low, rev.credible_high) == pytest.approx(ref["ci"], abs=1e-10)
    assert rev.risk == pytest.approx(ref["risk"], abs=1e-10)
    res = analyze_summary(summary, arm="arm", control="ctrl", bayesian=True, prior_sd=0.3)
    conv = next(b for b in res.bayesian if b.metric == "converted")
    ref = CASES["binary_prior"][5]
    assert conv.chance_to_beat_control == pytest.approx(ref["chance"], abs=1e-10)
    assert (conv.credible_low, conv.credible_high) == pytest.approx(ref["ci"], abs=1e-10)


def test_segments_get_their_own_bayesian_results() -> None:
    day = pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("a")).otherwise(pl.lit("b"))
    df = _rows().with_columns(day.alias("day"))
    res = analyze(df, arm="arm", control="ctrl", metrics=["converted"], segment="day", bayesian=True)
    assert [(b.metric, b.arm, b.segment) for b in res.bayesian] == [
        (e.metric, e.arm, e.segment) for e in res.results]
    seg = next(b for b in res.bayesian if b.segment == "a")
    # the same call on segment a's own counts (50 of 500 and 60 of 500)
    own = bayesian_effect(_binary(60, 500), _binary(50, 500), binary=True)
    assert seg.chance_to_beat_control == pytest.approx(own.chance_to_beat_control, abs=TOL)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(bayesian=True, prior_sd=0), "prior-sd"),
    (dict(bayesian=True, prior_sd=-1), "prior-sd"),
    (dict(bayesian=True, prior_sd="abc"), "prior-sd"),
    (dict(bayesian=True, values=["spend=3"]), "a metric of the analysis: converted"),
    (dict(bayesian=True, values=["converted=-3"]), "positive number"),
    (dict(bayesian=True, values=["converted"]), "METRIC=AMOUNT"),
    (dict(values=["converted=3"]), "only with --bayesian"),
    (dict(prior_sd=0.3), "only with --bayesian"),
])
def test_bad_bayesian_options_refused(kw: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        analyze(_rows(), arm="arm", control="ctrl", metrics=["converted"], **kw)


def test_values_parse_currency() -> None:
    v = parse_values(["converted=£12.5", "revenue=3"], ["converted", "revenue"])
    assert (v["converted"].amount, v["converted"].currency, v["revenue"].currency) == (12.5, "£", "")


def test_cli_text_json_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.csv"
    _rows().write_csv(path)
    args = ["analyze", str(path), "--arm", "arm", "--control", "ctrl", "--metric", "converted", "--bayesian",
            "--value", "converted=$12.5"]
    assert main(args) == 0
    out = capsys.readouterr().out
    b = bayesian_effect(_binary(120, 1000), _binary(100, 1000), binary=True)
    money = f"${b.expected_loss * 12.5:.2f}"
    assert f"Chance to beat control 90.4%; expected loss if shipped: {money} per customer" in out
    assert main([*args, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]) == 0
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["bayesian"]["prior"] == "flat" and d["bayesian"]["values"] == {"converted": 12.5}
    assert d["results"][0]["expected_loss_money"] == pytest.approx(b.expected_loss * 12.5, abs=TOL)
    page = (tmp_path / "r.html").read_text()
    assert f"Chance to beat control 90.4%; expected loss if shipped: {money}" in page


@pytest.mark.parametrize(("extra", "message"), [
    (["--bayesian", "--prior-sd", "0"], "prior-sd"),
    (["--bayesian", "--value", "nope=3"], "value"),
    (["--value", "converted=3"], "only with --bayesian"),
])
def test_cli_bad_options_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
                                         message: str) -> None:
    path = tmp_path / "exp.csv"
    _rows().write_csv(path)
    out = tmp_path / "r.json"
    code = main(["analyze", str(path), "--arm", "arm", "--control", "ctrl", "--metric", "converted",
                 "--json", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1 and not out.exists()
