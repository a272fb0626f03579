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
