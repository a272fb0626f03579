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
from experiments.runs.run_registry import RunRegistry
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


# ------------------------------------------------------------ clusters: a real scheduler, and what is not one
def test_sweep_through_a_real_scheduler_equals_the_local_sweep(
    small_sweep: tuple[Path, SweepResult], tmp_path: Path
) -> None:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1; two of the local sweep's points."""
    from tests.dask_local import dask_cluster

    local = {tuple(p["point"].items()): p["headline"]["figures"] for p in small_sweep[1].points}
    from distributed import Client

    from experiments.runs.sweeps import check_scheduler

    with dask_cluster(workers=1) as address:
        check_scheduler(address)
        done = _cli("sweep", "remarketing", "-g", "frequency_cap=2,8", "-p", "discount", "0.05",
                    *(a for k, v in SMALL.items() for a in ("-p", k, str(v))), "--scheduler", address,
                    "--reports-dir", str(tmp_path))
        with Client(address, timeout=10) as client:
            (worker,) = client.scheduler_info()["workers"]
        with pytest.raises(ExperimentsError, match="a Dask Worker answers there, not a scheduler"):
            check_scheduler(worker)  # a worker's address given by mistake
    assert done.returncode == 0, done.stderr
    meta = json.loads((Path(done.stdout.strip().splitlines()[-1]).parent / "sweep.json").read_text())
    assert meta["engine"] == f"scheduler at {address}" and len(meta["points"]) == 2
    for p in meta["points"]:
        assert p["headline"]["figures"] == local[(("frequency_cap", p["point"]["frequency_cap"]),
                                                  ("discount", 0.05))]


@pytest.mark.parametrize("address", ["", "  ", "10.0.0.5:notaport", "http://127.0.0.1:8786", "tcp://127.0.0.1",
                                     "tcp://127.0.0.1:70000", "tcp://:8786", "ucx://127.0.0.1:8786"])
def test_scheduler_address_syntax_is_refused_before_anything(address: str) -> None:
    from experiments.runs.sweeps import check_scheduler

    with pytest.raises(ParameterError, match=r"--scheduler.*tcp://HOST:PORT"):
        check_scheduler(address)  # refused by the parser: nothing is contacted


def _refusal_seconds(address: str, fragment: str) -> float:
    import time

    from experiments.runs.sweeps import check_scheduler

    start = time.monotonic()
    with pytest.raises(ExperimentsError) as info:
        check_scheduler(address)
    seconds = time.monotonic() - start
    message = str(info.value)
    assert len(message.splitlines()) == 1 and address in message and fragment in message, message
    return seconds


def test_refused_port_fails_at_once() -> None:
    from tests.dask_local import free_port

    assert _refusal_seconds(f"tcp://127.0.0.1:{free_port()}", "connection refused") < 2


def test_http_server_is_not_a_scheduler(tmp_path: Path) -> None:
    """A plain HTTP server on 127.0.0.1: the command ends in one line within 10 s, naming the address."""
    import time

    from tests.dask_local import http_listener

    with http_listener() as port:
        address = f"tcp://127.0.0.1:{port}"
        start = time.monotonic()
        done = _cli("sweep", "remarketing", "-g", "frequency_cap=2,4", "--scheduler", address,
                    "--reports-dir", str(tmp_path / "r"))
        seconds = time.monotonic() - start
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert address in lines[0] and "an HTTP server answers there, not a Dask scheduler" in lines[0]
    assert seconds < 10 and not (tmp_path / "r").exists()


def test_silent_listener_fails_on_the_handshake_timeout() -> None:
    """A socket that accepts and never answers: Dask's handshake times out (5 s), then one line."""
    from tests.dask_local import silent_listener

    with silent_listener() as port:
        assert _refusal_seconds(f"tcp://127.0.0.1:{port}", "no Dask scheduler answered the handshake") < 10


def test_unanswered_connection_fails_on_the_connect_timeout() -> None:
    """A listener whose queue is full answers no connection (as a host that drops it): the 5 s connect
    timeout ends it."""
    from tests.dask_local import full_listener

    with full_listener() as port:
        assert _refusal_seconds(f"tcp://127.0.0.1:{port}", "no answer to the connection within 5 s") < 10


def test_workers_are_bounded_by_cores_and_memory(tmp_path: Path) -> None:
    from experiments.runs.sweeps import WORKER_BYTES, worker_bound

    cores = os.cpu_count() or 1
    small = build_grid("remarketing", [("frequency_cap", (2, 4))], SMALL)
    most, why = worker_bound(small)
    assert most <= cores and f"{cores} core" in why
    # a point of 20 million customers needs 12 GB in memory: far fewer of those fit at once
    big = build_grid("remarketing", [("frequency_cap", (2, 4))], {"n_customers": 20_000_000})
    big_most, _ = worker_bound(big)
    from experiments.resources import memory_budget

    budget = memory_budget()
    assert budget is not None
    assert big_most == min(cores, max(1, budget // (WORKER_BYTES + 20_000_000 * 600)))
    done = _cli("sweep", "remarketing", "-g", "frequency_cap=2,4", "--workers", str(cores + 1),
                "--reports-dir", str(tmp_path / "r"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "--workers" in lines[0], done.stderr
    assert f"at most {most} on this machine" in lines[0] and "core" in lines[0] and "memory" in lines[0]


# ------------------------------------------------------------ the best point is one a user can deploy
def _policy_point(i: int, share: float, uplift: float, oracle: float) -> dict[str, Any]:
    figs = [{"name": "policy_profit", "label": f"Incremental profit per 1,000 customers ({g})", "estimate": v,
             "ci_low": v - 50, "ci_high": v + 50, "truth": v, "unit": "$", "group": g}
            for g, v in (("uplift", uplift), ("likely buyers", uplift - 100), ("oracle", oracle))]
    return {"index": i, "point": {"policy_share": share}, "run_id": f"R{i}", "html": f"targeting/R{i}/t.html",
            "headline": {"headline": "Target.", "tone": "good", "details": [], "figures": figs}}


def test_every_study_declares_one_deployable_sweep_figure() -> None:
    from experiments.studies import registry
    from experiments.studies.base import SweepFigure

    for study in registry.all_studies():
        figure = study.sweep_figure
        assert isinstance(figure, SweepFigure) and figure.label, study.name
        assert figure.group not in ("oracle", "true incrementality"), study.name
        assert study.to_dict()["sweep_figure"] == figure.to_dict()  # shown by experiments studies
    assert registry.get("targeting").sweep_figure.group == "uplift"


def test_a_targeting_sweep_never_ranks_by_the_oracle() -> None:
    """The oracle earns most at every point (it knows each customer's true effect); the sweep ranks by the
    uplift policy, which one can deploy: point 1, not point 0 where the oracle peaks."""
    from experiments.studies import registry

    figure = registry.get("targeting").sweep_figure
    points = [_policy_point(0, 0.2, uplift=300.0, oracle=900.0),
              _policy_point(1, 0.35, uplift=500.0, oracle=600.0)]
    best = best_point(points, figure)
    assert best is not None and best["index"] == 1 and best["figure"]["group"] == "uplift"
    meta = _meta(points, study="targeting", grid={"policy_share": [0.2, 0.35]}, sweep_figure=figure.to_dict(),
                 ranked_by=figure.words())
    meta["best"] = best
    from experiments.render.sweep_page import best_sentence

    sentence = best_sentence(best, meta)
    assert sentence.startswith("Best of 2 points by the uplift policy's incremental profit per 1,000 "
                               "customers (policy_profit, group uplift): policy_share = 0.35"), sentence
    page = render_sweep(meta)
    assert "(policy_profit, group uplift)" in page[: page.index('class="chart"')]
    assert best_point(points, "policy_profit")["figure"]["group"] == "oracle"  # what a bare name would do
