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
