"""``experiments clv`` end to end: CDNOW reference numbers, JSON output, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "cdnow_sample.csv"
BASE = [str(FIXTURE), "--customer", "customer_id", "--date", "date", "--amount", "amount"]


def test_cdnow_json_stdout(capsys):
    rc = main(["clv", *BASE, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--json", "-"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert out["n_customers"] == 2357 and out["n_repeat_customers"] == 946
    assert out["bgnbd"]["r"] == pytest.approx(0.243, abs=5e-4)
    assert out["bgnbd"]["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert out["bgnbd"]["a"] == pytest.approx(0.793, abs=5e-4)
    assert out["bgnbd"]["b"] == pytest.approx(2.426, abs=5e-3)
    assert out["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert out["gamma_gamma"]["p"] == pytest.approx(6.25, abs=0.005)
    assert out["gamma_gamma"]["q"] == pytest.approx(3.74, abs=0.005)
    assert out["gamma_gamma"]["v"] == pytest.approx(15.44, abs=0.01)
    h = out["holdout"]
    assert h["actual_repeat_purchases"] > 0 and abs(h["relative_error"]) < 0.15


def test_summary_and_json_file(tmp_path, capsys):
    target = tmp_path / "out.json"
    rc = main(["clv", *BASE, "--calibration-end", "1997-09-30", "--json", str(target), "--pareto"])
    assert rc == 0
    assert "BG/NBD" in capsys.readouterr().out
    data = json.loads(target.read_text())
    assert "pareto_nbd" in data and "holdout" not in data
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--calibration-end", "1996-01-01"], "outside"),
        (["--calibration-end", "1999-01-01"], "outside"),
        (["--calibration-end", "30/09/1997"], "calibration_end"),
        (["--calibration-end", "1997-09-30", "--time-unit", "month"], "time_unit"),
        (["--calibration-end", "1997-09-30", "--holdout-end", "1997-01-01"], "holdout end"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, extra, match):
    target = tmp_path / "out.json"
    rc = main(["clv", *BASE, *extra, "--json", str(target)])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_bad_amounts_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("c,d,a\n1,1997-01-01,3\n1,1997-01-05,-1\n2,1997-02-01,4\n")
    rc = main(
        [
            "clv",
            str(bad),
            "--customer",
            "c",
            "--date",
            "d",
            "--amount",
            "a",
            "--calibration-end",
            "1997-01-10",
        ]
    )
    assert rc == 2 and "negative" in capsys.readouterr().err


FIXTURES = Path(__file__).parent / "fixtures"
MASTER = [str(FIXTURES / "cdnow_master.csv.gz"), "--customer", "customer_id", "--date", "date",
          "--amount", "amount"]


def test_zero_value_repeat_customer_is_left_out_of_gamma_gamma(capsys):
    # the full CDNOW log: customer 10244's only repeat purchase is $0 (this used to exit 2)
    rc = main(["clv", *MASTER, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30",
               "--json", "-"])
    captured = capsys.readouterr()
    assert rc == 0
    out = json.loads(captured.out)
    assert out["n_customers"] == 23570 and out["n_repeat_customers"] == 9451
    gg = out["gamma_gamma"]
    assert gg["n_customers"] == 9450 and gg["n_zero_value"] == 1
    # lifetimes 0.11.3 GammaGammaFitter on the 9,450 positive-value repeat customers
    assert gg["p"] == pytest.approx(6.275358592842282, rel=1e-4)
    assert gg["q"] == pytest.approx(3.624450210390095, rel=1e-4)
    # lifetimes 0.11.3 BetaGeoFitter on the same summary: r, alpha, a, b
    bg = out["bgnbd"]
    assert bg["model"] == "BG/NBD" and bg["limit"] is None
    for name, value in (("r", 0.25162401142410373), ("alpha", 4.788945170327015), ("a", 0.7234330357287254),
                        ("b", 2.161086981372027)):
        assert bg[name] == pytest.approx(value, rel=1e-3), name
    assert out["holdout"]["actual_repeat_purchases"] > 0
    assert out["warnings"] == ["Gamma-Gamma: 1 repeat customer whose repeat purchases have value 0 left out"]
    assert captured.err.strip() == "experiments clv: warning: " + out["warnings"][0]


def test_boundary_optimum_fits_the_limit_and_keeps_the_rest(capsys):
    # CDNOW sample to 1997-01-10 (217 customers, 6 repeat): BG/NBD's maximum is at a, b -> inf
    rc = main(["clv", *BASE, "--calibration-end", "1997-01-10", "--holdout-end", "1998-06-30", "--pareto",
               "--json", "-"])
    captured = capsys.readouterr()
    assert rc == 0
    out = json.loads(captured.out)
    bg = out["bgnbd"]
    assert bg["model"] == "NBD with homogeneous dropout" and bg["limit"].startswith("a, b -> inf")
    assert set(bg) == {"model", "limit", "r", "alpha", "p", "log_likelihood"}
    assert out["pareto_nbd"]["model"] == "Pareto/NBD"
    assert out["holdout"]["model"] == "NBD with homogeneous dropout"
    assert out["holdout"]["predicted_repeat_purchases"] > 0
    # 6 repeat customers: Gamma-Gamma's maximum is at the edge too, q, v -> inf: one spend scale
    assert out["gamma_gamma"]["model"] == "Gamma" and out["gamma_gamma"]["limit"].startswith("q, v -> inf")
    assert len(out["warnings"]) == 2 and len(captured.err.strip().splitlines()) == 2
    rc = main(["clv", *BASE, "--calibration-end", "1997-01-10", "--model", "bgnbd"])
    text = capsys.readouterr().out
    assert rc == 0 and "boundary optimum (a, b -> inf" in text and "fitted its limit Gamma: p=" in text


def test_pareto_boundary_on_the_full_cdnow_log(capsys):
    # the full log to 1997-01-31: Pareto/NBD's maximum is at s -> 0, nobody drops out: NBD
    rc = main(["clv", *MASTER, "--calibration-end", "1997-01-31", "--model", "paretonbd", "--model",
               "bgnbd", "--json", "-"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["models"] == ["paretonbd", "bgnbd"]
    assert out["pareto_nbd"]["model"] == "NBD" and out["pareto_nbd"]["limit"].startswith("s -> 0")
    assert out["bgnbd"]["model"] == "BG/NBD"
    # BG/NBD's fit there has a tiny a: the same likelihood as the NBD limit
    # (up to the optimisers' tolerance)
    assert out["pareto_nbd"]["log_likelihood"] == pytest.approx(out["bgnbd"]["log_likelihood"], abs=1e-3)


def test_survival_kind_fits_sbg_per_cohort(tmp_path, capsys):
    target = tmp_path / "sbg.json"
    args = ["clv", str(FIXTURES / "retention_fader_hardie_2007.csv"), "--kind", "survival", "--cohort",
            "segment", "--period", "year", "--survivors", "survivors", "--fit-periods", "7",
            "--horizon", "12"]
    assert main([*args, "--json", str(target)]) == 0
    text = capsys.readouterr().out
    out = json.loads(target.read_text())
    got = {c["cohort"]: (round(c["alpha"], 3), round(c["beta"], 3)) for c in out["cohorts"]}
    assert got == {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}  # Fader & Hardie (2007)
    high = next(c for c in out["cohorts"] if c["cohort"] == "high_end")
    assert len(high["projection"]) == 13 and high["projection"][12]["survivors_actual"] == 394
    assert high["discounted_expected_residual_lifetime"] == pytest.approx(7.530, abs=5e-4)
    assert "high_end: alpha=0.668 beta=3.806" in text


def test_opportunities_kind_fits_bgbb(capsys):
    rc = main(["clv", str(FIXTURES / "donations.csv.gz"), "--kind", "opportunities", "--frequency",
               "frequency", "--recency", "recency", "--opportunities", "periods", "--weight", "weights",
               "--json", "-"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_customers"] == 11104
    b = out["bgbb"]  # Fader, Hardie & Shang (2010)
    assert [round(b[k], 3) for k in ("alpha", "beta", "gamma", "delta")] == [1.204, 0.750, 0.657, 2.783]
    fit = out["frequency_fit"]
    assert fit[0]["actual_customers"] == 3464
    assert sum(f["expected_customers"] for f in fit) == pytest.approx(11104)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--calibration-end", "1997-09-30", "--survivors", "s"], "only with --kind survival"),
        (["--calibration-end", "1997-09-30", "--model", "bgbb"], "'model'"),
        (["--calibration-end", "1997-09-30", "--kind", "cohorts"], "'kind'"),
        ([], "--calibration-end is required"),
        (["--calibration-end", "1997-09-30", "--horizon", "5"], "only with --kind survival or opportunities"),
    ],
)
def test_bad_kind_options_exit_2(tmp_path, capsys, extra, match):
    target = tmp_path / "out.json"
    rc = main(["clv", *BASE, *extra, "--json", str(target)])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_bad_survival_table_exits_2(tmp_path, capsys):
    bad = tmp_path / "s.csv"
    bad.write_text("period,left\n0,100\n1,80\n2,90\n")
    rc = main(["clv", str(bad), "--kind", "survival", "--period", "period", "--survivors", "left"])
    assert rc == 2 and "must not increase" in capsys.readouterr().err
    bad.write_text("period,left\n0,100\n2,80\n")
    rc = main(["clv", str(bad), "--kind", "survival", "--period", "period", "--survivors", "left"])
    assert rc == 2 and "0, 1, 2" in capsys.readouterr().err
    rc = main(["clv", str(bad), "--kind", "survival", "--period", "period", "--survivors", "nope"])
    assert rc == 2 and "--survivors column 'nope'" in capsys.readouterr().err
