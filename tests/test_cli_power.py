"""``experiments power``."""

from __future__ import annotations

import json

import pytest

from experiments.cli import main


def test_sample_size_and_mde(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--baseline", "0.1", "--mde", "0.02", "--json", "-"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_per_arm"] == 3839 and d["arms"] == 2
    args = ["--baseline", "0.05", "--mde", "0.1", "--relative", "--arms", "3", "--n", "20000"]
    assert main(["power", *args]) == 0
    out = capsys.readouterr().out
    assert "per arm" in out and "Minimum detectable effect" in out


@pytest.mark.parametrize(
    "args", [["--baseline", "2", "--mde", "0.1"], ["--baseline", "0.1"], ["--baseline", "0.1", "--mde", "x"],
             ["--baseline", "0.1", "--mde", "0.01", "--alpha", "0"]]
)
def test_bad_input(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("experiments power: error:") and err.count("\n") == 1


def test_r2_and_sequential_plan(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["power", "--baseline", "0.1", "--mde", "0.02", "--r2", "0.3", "--sequential", "--looks", "10"]
    assert main([*args, "--json", "-"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["r2"] == 0.3 and d["n_per_arm"] == 2687
    seq = d["sequential"]
    assert seq["method"] == "cs" and seq["looks"] == 10
    assert seq["n_max_per_arm"] > d["n_per_arm"] > seq["expected_n_per_arm"] * 0.5
    assert seq["expected_n_per_arm"] < seq["n_max_per_arm"] and seq["planned_n"] == 2 * seq["n_max_per_arm"]
    assert main([*args, "--sequential", "msprt"]) == 0
    out = capsys.readouterr().out
    assert "Sequential:" in out and "mSPRT" in out and "R² = 0.3" in out


@pytest.mark.parametrize(
    ("args", "name"),
    [(["--mde", "0.02", "--r2", "1"], "r2"), (["--n", "5000", "--sequential"], "sequential"),
     (["--mde", "0.02", "--sequential", "--looks", "0"], "looks")],
)
def test_bad_sequential_input(args: list[str], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--baseline", "0.1", *args]) == 2
    err = capsys.readouterr().err
    assert name in err and err.count("\n") == 1
