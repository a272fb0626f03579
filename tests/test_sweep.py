"""Sweeps: the grid, validation before anything runs, a small sweep on a LocalCluster, the sweep report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from experiments.commands.run import coerce_cli_value
from experiments.errors import ExperimentsError, ParameterError
from experiments.render.sweep_page import render_sweep
from experiments.runs.index_file import collect_sweeps
from experiments.runs.registry import RunRegistry
from experiments.runs.study_run import run_study
from experiments.runs.sweeps import MAX_POINTS, SweepResult, best_point, build_grid, parse_axis, run_sweep
from tests.conftest import dump_dom

HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><!--'
SMALL = {"n_customers": 4000, "seed": 7}


def test_parse_axis_reads_values_like_the_cli() -> None:
    assert parse_axis("frequency_cap=2,4, 8", coerce_cli_value) == ("frequency_cap", (2, 4, 8))
    assert parse_axis("discount=0.05,0.15", coerce_cli_value) == ("discount", (0.05, 0.15))
    assert parse_axis("channels=display,email;display", coerce_cli_value) == (
        "channels", ("display,email", "display"))
    for bad in ("frequency_cap", "=2,4", "frequency_cap=", "frequency_cap=2,,4", "frequency_cap=2,2"):
        with pytest.raises(ExperimentsError, match="-g"):
            parse_axis(bad, coerce_cli_value)


def test_grid_is_the_cartesian_product_first_axis_slowest() -> None:
    grid = build_grid("remarketing", [("frequency_cap", (2, 4)), ("discount", (0.05, 0.1, 0.15))],
                      {"n_customers": 1000})
    points = grid.points()
    assert len(grid) == len(points) == 6
    assert points[:4] == [{"frequency_cap": 2, "discount": 0.05}, {"frequency_cap": 2, "discount": 0.1},
                          {"frequency_cap": 2, "discount": 0.15}, {"frequency_cap": 4, "discount": 0.05}]
    assert grid.parameters(points[0]) == {"n_customers": 1000, "frequency_cap": 2, "discount": 0.05}


@pytest.mark.parametrize(
    ("axes", "fixed", "error", "fragment"),
    [
        ([("discount", (0.1, 1.5))], {}, ParameterError, "discount"),  # the second point is bad
        ([("frequency_cap", (2, 4))], {"n_customers": -3}, ParameterError, "n_customers"),
        ([("frequency_kap", (2, 4))], {}, ParameterError, "frequency_kap"),
        ([("frequency_cap", (2,)), ("frequency_cap", (4,))], {}, ExperimentsError, "swept twice"),
        ([("frequency_cap", (2, 4))], {"frequency_cap": 3}, ExperimentsError, "both swept"),
        ([], {}, ExperimentsError, "-g"),
        ([("seed", tuple(range(MAX_POINTS + 1)))], {}, ExperimentsError, "at most"),
    ],
)
def test_bad_grids_fail_whole(axes: list, fixed: dict, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        build_grid("remarketing", axes, fixed)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "CI": "true"})


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-g", "discount=0.1,1.5"], "discount"),
        (["-g", "frequency_cap=2,4", "-p", "cookie_match_rate", "2"], "cookie_match_rate"),
        (["-g", "frequency_cap"], "NAME=V1"),
        (["-g", "frequency_cap=2,4", "--workers", "0"], "--workers"),
        (["-g", "frequency_cap=2,4", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["-g", "frequency_cap=2,4", "--kernel", "no-such-kernel"], "kernel"),
        (["-g", "frequency_kap=2,4"], "frequency_kap"),
    ],
)
def test_bad_sweeps_exit_2_in_one_line_and_write_nothing(tmp_path: Path, args: list[str],
                                                          fragment: str) -> None:
    done = _cli("sweep", "remarketing", *args, "--reports-dir", str(tmp_path / "r"))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    done = _cli("sweep", "remarketing", "-g", "frequency_cap=2,4", "--scheduler", "tcp://127.0.0.1:9",
                "--reports-dir", str(tmp_path))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--scheduler" in done.stderr and not list(tmp_path.iterdir())


def _meta(points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"sweep_id": "S", "study": "remarketing", "question": "Q?", "started": "2026-11-29T10:00:00+00:00",
            "seconds": 1.0, "grid": {"frequency_cap": [2, 4]}, "fixed": {},
            "sweep_figure": "incremental_profit", "engine": "local", "points": points,
            "failed": sum(1 for p in points if p.get("error")), **extra}


def _point(i: int, cap: int, profit: float | None, *, label: str = "Incremental profit (dynamic)",
           headline: str = "Act.") -> dict[str, Any]:
    figs = [] if profit is None else [
        {"name": "incremental_profit", "label": label, "estimate": profit, "ci_low": profit - 10,
         "ci_high": profit + 10, "truth": profit + 1, "unit": "$", "group": "dynamic"}]
    return {"index": i, "point": {"frequency_cap": cap}, "run_id": f"R{i}",
            "html": f"remarketing/R{i}/r.html",
            "headline": {"headline": headline, "tone": "good", "details": [], "figures": figs}}


def test_best_point_by_the_sweep_figure() -> None:
    points = [_point(0, 2, 5.0), _point(1, 4, 9.0), {"index": 2, "point": {"frequency_cap": 6}, "error": "x"}]
    best = best_point(points, "incremental_profit")
    assert best is not None and best["index"] == 1 and best["point"] == {"frequency_cap": 4}
    assert best_point(points, None)["index"] == 1  # the first figure by default
    assert best_point(points[2:], "incremental_profit") is None


def test_sweep_page_states_the_best_point_first_and_escapes_text() -> None:
    points = [_point(0, 2, 5.0, label=f"Profit {HOSTILE} (dynamic)", headline=f"Do {HOSTILE}."),
              _point(1, 4, 9.0), {"index": 2, "point": {"frequency_cap": 6}, "error": f"boom {HOSTILE}"}]
    meta = _meta(points, grid={"frequency_cap": [2, 4, 6]}, fixed={"channels": HOSTILE})
    meta["best"] = best_point(points, "incremental_profit")
    page = render_sweep(meta)
    assert HOSTILE not in page and "<script>window.__pwned" not in page
    body = page[page.index("</head>"):]
    assert body.index('class="verdict"') < body.index('class="chart"') < body.index("<table class='result")
    assert "frequency_cap = 4" in body[: body.index('class="chart"')]
    assert page.count('<div class="chart"') == 1 and "1 of 3 points failed" in page
    assert page.count(">report</a>") == 2 and "href='../../../remarketing/R1/r.html'" in page
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", page)


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SweepResult]:
    """Four points of remarketing on a two-worker LocalCluster."""
    root = tmp_path_factory.mktemp("sweep")
    grid = build_grid("remarketing", [("frequency_cap", (2, 8)), ("discount", (0.05, 0.15))], SMALL)
    return root, run_sweep(grid, reports_dir=root, workers=2)


def test_small_sweep_on_a_local_cluster_equals_single_runs(
    small_sweep: tuple[Path, SweepResult], tmp_path: Path
) -> None:
    root, result = small_sweep
    assert not result.failed and len(result.points) == 4
    # the same points as single runs, one after another in this process
    for p in result.points[:2]:
        single = run_study("remarketing", {**SMALL, **p["point"]}, reports_dir=tmp_path)
        assert single.record["figures"] == p["headline"]["figures"]
        assert single.record["headline"] == p["headline"]["headline"]
    runs = RunRegistry(root).runs(sweep_id=result.sweep_id)
    assert len(runs) == 4 and {r["sweep_id"] for r in runs} == {result.sweep_id}
    assert all((root / r["html"]).is_file() for r in runs)


def test_small_sweep_writes_its_report_json_and_index(small_sweep: tuple[Path, SweepResult]) -> None:
    root, result = small_sweep
    assert result.folder == root / "remarketing" / "sweeps" / result.sweep_id
    meta = json.loads((result.folder / "sweep.json").read_text())
    assert meta["grid"] == {"frequency_cap": [2, 8], "discount": [0.05, 0.15]} and meta["fixed"] == SMALL
    assert meta["best"]["figure"]["name"] == "incremental_profit"
    best_profit = max(f["estimate"] for p in meta["points"] for f in p["headline"]["figures"]
                      if f["name"] == "incremental_profit")
    assert meta["best"]["figure"]["estimate"] == best_profit
    page = result.html.read_text()
    assert page.count('<div class="chart"') == 2  # one per swept parameter
    for p in meta["points"]:  # every link resolves
        assert (result.folder / ("../../../" + p["html"])).resolve().is_file()
    sweeps = collect_sweeps(root)
    assert [s["sweep_id"] for s in sweeps] == [result.sweep_id]
    index = (root / "index.html").read_text()
    assert f"remarketing/sweeps/{result.sweep_id}/sweep.html" in index and index.count("Open report") == 4
    assert not list(root.glob("**/.staging-*"))


@pytest.mark.browser
def test_sweep_report_draws_offline_in_chromium(small_sweep: tuple[Path, SweepResult], chromium: str) -> None:
    page = small_sweep[1].html
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page, window=(1280, 900)), flags=re.S)
    assert "<pre style=" not in dom and 'class="error"' not in dom  # the error box of a chart that failed
    assert len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom)) == 2


def test_ctrl_c_stops_a_sweep_in_one_line(tmp_path: Path) -> None:
    import signal
    import time

    command = [sys.executable, "-m", "experiments.cli", "sweep", "remarketing", "-g", "frequency_cap=2,4,6",
               "-p", "n_customers", "500000", "--workers", "2", "--reports-dir", str(tmp_path / "r")]
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, env={**os.environ, "CI": "true"})
    time.sleep(4)
    os.killpg(p.pid, signal.SIGINT)  # what a terminal does: the whole process group, workers included
    _, err = p.communicate(timeout=180)
    assert p.returncode == 130 and err.strip().splitlines() == ["experiments sweep: interrupted"], err
    assert not list(tmp_path.rglob(".staging-*"))
