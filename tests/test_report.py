"""``experiments run``: run folders, metadata, index, bad input, failures, and offline charts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from experiments.commands.run import coerce_cli_value
from experiments.errors import ExperimentsError, ParameterError
from experiments.paths import NOTEBOOKS_DIR
from experiments.render.display import table, verdict_box
from experiments.runs import study_run as runner
from experiments.runs.study_run import run_study
from experiments.studies.base import Verdict
from tests.conftest import dump_dom

SMALL = {"n_customers": 20000, "seed": 7}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunResult]:
    root = tmp_path_factory.mktemp("reports")
    return root, run_study("remarketing", SMALL, reports_dir=root)


def test_run_writes_its_own_folder_with_metadata(reports: tuple[Path, runner.RunResult]) -> None:
    root, result = reports
    assert result.run_dir.parent == root / "remarketing"
    assert result.html.is_file() and result.notebook.is_file()
    meta = json.loads((result.run_dir / "run.json").read_text())
    assert meta["seed"] == 7 and meta["params"]["n_customers"] == 20000
    assert meta["overrides"] == SMALL
    assert {"python", "numpy", "polars", "statsmodels", "papermill"} <= set(meta["versions"])
    assert meta["git_revision"]
    assert json.loads((result.run_dir / "params.json").read_text())["n_customers"] == 20000
    assert meta["headline"]["headline"] == result.headline and "$" in result.headline
    assert meta["changed"] == SMALL and meta["lock"]["requirements/main.txt"] != "missing"
    names = {f["name"] for f in meta["headline"]["figures"]}
    assert names >= {"incremental_profit", "incremental_conversions"}
    executed = nbformat.read(str(result.notebook), as_version=4)
    assert executed.metadata["papermill"]["parameters"] == SMALL


def test_html_hides_code_and_states_the_verdict_first(reports: tuple[Path, runner.RunResult]) -> None:
    page = reports[1].html.read_text()
    assert "simulate_remarketing(" not in page and "from experiments" not in page
    assert "NBVAL_CHECK_OUTPUT" not in page
    body = page[page.index("<body"):]
    first_verdict = body.index('class="verdict"')
    assert first_verdict < body.index("Each estimate next to the truth")
    # nothing is fetched from the web: no external script, style, font or image
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", page)
    assert "mathjax" not in page.lower().split("<body")[0]


def test_index_lists_runs_and_runs_never_overwrite(reports: tuple[Path, runner.RunResult]) -> None:
    root, first = reports
    second = run_study("remarketing", SMALL, reports_dir=root)
    assert second.run_dir != first.run_dir and first.html.is_file()
    index = (root / "index.html").read_text()
    assert index.count(">Open report</a>") == 2
    assert f"remarketing/{first.run_id}/remarketing.html" in index
    assert "n_customers = 20000" in index and "seed = 7" in index
    # same parameters and seed: identical headline numbers
    h1 = json.loads((first.run_dir / "run.json").read_text())["headline"]
    h2 = json.loads((second.run_dir / "run.json").read_text())["headline"]
    assert h1 == h2 and h1["figures"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("n_customers", "-5", "n_customers"),
        ("n_customers", "2.5", "n_customers"),
        ("n_customers", "abc", "n_customers"),
        ("arm_shares", "holdout:0.5,dynamic:0.6", "arm_shares"),
        ("channels", "display,billboard", "billboard"),
        ("discount", "1.5", "discount"),
        ("cookie_match_rate", "-0.1", "cookie_match_rate"),
        ("no_such_parameter", "1", "no_such_parameter"),
    ],
)
def test_bad_parameters_exit_2_and_write_nothing(
    tmp_path: Path, name: str, value: str, fragment: str
) -> None:
    done = _cli("run", "remarketing", "-p", name, value, "--reports-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "allowed" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_study_exits_2(tmp_path: Path) -> None:
    done = _cli("run", "nosuchstudy", "--reports-dir", str(tmp_path))
    assert done.returncode == 2 and "remarketing" in done.stderr


def test_failed_run_leaves_nothing_and_keeps_the_index(
    reports: tuple[Path, runner.RunResult]
) -> None:
    root, _ = reports
    before = sorted(p.name for p in (root / "remarketing").iterdir())
    index_before = (root / "index.html").read_bytes()
    # the notebook's validation cell is what fails; the runner reads the failure back as one line
    with pytest.raises(ExperimentsError, match="n_customers"):
        run_study("remarketing", {"n_customers": -5}, reports_dir=root)
    assert sorted(p.name for p in (root / "remarketing").iterdir()) == before
    assert (root / "index.html").read_bytes() == index_before


def test_plain_papermill_runs_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"), str(out), parameters={"n_customers": 5000},
                        kernel_name="python3", cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"), str(out),
                            parameters={"discount": 2.0}, kernel_name="python3", cwd=str(NOTEBOOKS_DIR),
                            progress_bar=False)
    assert info.value.ename == "ParameterError" and "discount" in info.value.evalue
    executed = nbformat.read(str(out), as_version=4)
    failed = [c for c in executed.cells if c.cell_type == "code" and any(
        o.get("output_type") == "error" for o in c.outputs)]
    assert len(failed) == 1 and "from_namespace" in failed[0].source


def test_unknown_names_are_rejected_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="frequency_kap"):
        run_study("remarketing", {"frequency_kap": 3}, reports_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_cli_values_are_read_like_papermill_but_none_stays_text() -> None:
    assert coerce_cli_value("3") == 3 and coerce_cli_value("0.5") == 0.5
    assert coerce_cli_value("true") is True and coerce_cli_value("a,b") == "a,b"
    assert coerce_cli_value("none") == "none" and coerce_cli_value("-inf") == float("-inf")


def test_user_text_is_escaped() -> None:
    import polars as pl

    assert "<script>" not in verdict_box(Verdict("<script>alert(1)</script>"))
    assert "&lt;b&gt;" in table(pl.DataFrame({"<b>": ["<i>x</i>"]})).data
    assert "<i>x</i>" not in table(pl.DataFrame({"c": ["<i>x</i>"]})).data


@pytest.mark.browser
def test_every_chart_draws_offline_in_chromium(reports: tuple[Path, runner.RunResult], chromium: str) -> None:
    page = reports[1].html
    n_charts = len(set(re.findall(r'<div id="(altair-viz-[0-9a-f]+)"', page.read_text())))
    assert n_charts >= 4
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page), flags=re.S)
    assert '<div class="error"' not in dom  # altair's loader shows failures in such a div
    drawn = len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom))
    assert drawn == n_charts
    # tooltips: vega-embed installs its tooltip handler
    assert "vg-tooltip" in dom or "vega-embed" in dom


def test_the_verdict_travels_back_in_the_executed_notebook(reports: tuple[Path, runner.RunResult]) -> None:
    record = runner.read_record(nbformat.read(str(reports[1].notebook), as_version=4))
    assert record["study"] == "remarketing" and record["headline"] == reports[1].headline
    assert record["parameters"]["n_customers"] == 20000 and record["tone"] in {"good", "bad", "neutral"}
    assert not list(reports[1].run_dir.glob("headline*"))  # no side file


@pytest.mark.browser
def test_analyze_html_draws_offline_in_chromium(tmp_path: Path, chromium: str) -> None:
    from experiments.paths import HILLSTROM_CSV

    page = tmp_path / "analysis.html"
    done = _cli("analyze", str(HILLSTROM_CSV), "--arm", "segment", "--control", "No E-Mail",
                "--metric", "conversion", "--metric", "spend", "--covariate", "history", "--html", str(page))
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']https?://", text)
    body = text[text.index("<body>"):]
    assert body.index('class="verdict"') < body.index("<table")
    dom = re.sub(r"<script\b.*?</script>", "", dump_dom(chromium, page), flags=re.S)
    assert len(re.findall(r'<(?:canvas|svg)[^>]*class="marks"', dom)) == text.count('<div class="chart"')
    assert text.count('<div class="chart"') >= 1


# ------------------------------------------------------------------------------------ kernels and speed
def test_preloaded_kernel_gives_the_numbers_of_a_plain_papermill_run(tmp_path: Path) -> None:
    params = {"n_customers": 5000, "seed": 3}
    ours = run_study("remarketing", params, reports_dir=tmp_path / "r")
    plain = tmp_path / "plain.ipynb"
    nb = pm.execute_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"), str(plain), parameters=params,
                             kernel_name="python3", cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    assert runner.read_record(nb)["figures"] == ours.record["figures"]
    executed = nbformat.read(str(ours.notebook), as_version=4)
    counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # the preload ran no cell of its own
    assert set(ours.phases) >= {"kernel_ready", "cells", "render"}


def _execute(km: object, code: str) -> str:
    """Run ``code`` in a kernel and return what it printed."""
    from jupyter_core.utils import run_sync

    seen: list[dict] = []

    async def go() -> None:
        kc = km.client()  # type: ignore[attr-defined]
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)  # else output sent before iopub is subscribed can be lost
        reply = await kc.execute_interactive(code, timeout=60, output_hook=seen.append)
        assert reply["content"]["status"] == "ok"

    run_sync(go)()
    km.close_clients()  # type: ignore[attr-defined]
    return "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream").strip()


PROBE = ("import sys; print('experiments.formatting' in sys.modules, get_ipython().execution_count, "
         "sorted(k for k in globals() if not k.startswith('_') and k not in "
         "('In', 'Out', 'exit', 'quit', 'get_ipython', 'open', 'sys')))")


def test_kept_kernel_is_reset_between_notebooks_and_keeps_its_imports() -> None:
    import glob
    import os
    import tempfile

    from experiments.runs.kernels import WarmKernels

    with WarmKernels(preload=("experiments.formatting",)) as kernels:
        km = kernels.take()
        first = _execute(km, PROBE)
        assert first.startswith("True") and first.endswith(" []")  # preloaded, nothing in the namespace
        _execute(km, "x = 41")
        kernels.give_back(km)
        again = kernels.take()
        assert again is km and _execute(again, PROBE) == first  # x is gone, the count is back
        kernels.give_back(again)
    assert kernels.started == 1
    assert not glob.glob(f"{tempfile.gettempdir()}/experiments-kernel-{os.getpid()}-*")


def test_fresh_kernels_follow_their_preload_plan_and_leave_nothing() -> None:
    import glob
    import os
    import tempfile

    from experiments.runs.kernels import WarmKernels

    with WarmKernels(preload=iter([("experiments.formatting",), ()]), reuse=False) as kernels:
        first = kernels.take()
        assert _execute(first, PROBE).startswith("True")
        kernels.give_back(first)  # shut down
        second = kernels.take()
        assert second is not first and _execute(second, PROBE).startswith("False")
        kernels.give_back(second)
        with pytest.raises(RuntimeError, match="ran out"):
            kernels.take()
    assert not glob.glob(f"{tempfile.gettempdir()}/experiments-kernel-{os.getpid()}-*")


# --------------------------------------------------------------------------- hardening: bad places, kills
def _cli_env(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "CI": "true", **(env or {})})


@pytest.mark.parametrize("case", ["kernel", "file", "under-file", "all-kernel"])
def test_bad_kernel_or_reports_dir_is_one_line_before_any_work(tmp_path: Path, case: str) -> None:
    (tmp_path / "f").write_text("x")
    args = {
        "kernel": ["run", "remarketing", "--kernel", "no-such-kernel", "--reports-dir", str(tmp_path / "r")],
        "file": ["run", "remarketing", "--reports-dir", str(tmp_path / "f")],
        "under-file": ["run", "remarketing", "--reports-dir", str(tmp_path / "f" / "r")],
        "all-kernel": ["run", "--all", "--kernel", "no-such-kernel", "--reports-dir", str(tmp_path / "r")],
    }[case]
    done = _cli_env(*args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert ("kernel" if "kernel" in case else "--reports-dir") in lines[0]
    assert not (tmp_path / "r").exists() and (tmp_path / "f").read_text() == "x"


def test_read_only_reports_dir_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    real = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode, **kw: False if Path(p) == folder else real(p, mode, **kw))
    try:
        with pytest.raises(ExperimentsError, match="not writable") as info:
            run_study("remarketing", SMALL, reports_dir=folder / "reports")
        assert len(str(info.value).splitlines()) == 1
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def _hidden(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def _kernel_dirs(pid: int) -> list[str]:
    import glob
    import tempfile

    return glob.glob(f"{tempfile.gettempdir()}/experiments-kernel-{pid}-*")


def _start_run(root: Path, n_customers: int = 20000) -> subprocess.Popen[str]:
    import os

    command = [sys.executable, "-m", "experiments.cli", "run", "remarketing", "-p", "n_customers",
               str(n_customers), "--reports-dir", str(root)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CI": "true"})


def _wait_for_kernel(p: subprocess.Popen[str], timeout: float = 120) -> None:
    import time

    deadline = time.time() + timeout
    while not _kernel_dirs(p.pid) and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)


@pytest.mark.parametrize("after", [0.0, 1.5, 4.0])
def test_ctrl_c_prints_one_line_exits_130_and_leaves_nothing(
    reports: tuple[Path, runner.RunResult], after: float
) -> None:
    import signal
    import time

    root = reports[0]
    before = sorted(p.name for p in (root / "remarketing").iterdir())
    index_before = (root / "index.html").read_bytes()
    p = _start_run(root, n_customers=6_000_000)  # runs ~15 s: interrupted while its cells run
    _wait_for_kernel(p)
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.strip().splitlines() == ["experiments run: interrupted"]
    assert sorted(p.name for p in (root / "remarketing").iterdir()) == before
    assert (root / "index.html").read_bytes() == index_before
    assert not _kernel_dirs(p.pid)
    time.sleep(1.5)  # no kernel outlives the run
    assert p.pid not in _kernel_parents()


def _kernel_parents() -> set[int]:
    done = subprocess.run(["ps", "-eo", "ppid,args"], capture_output=True, text=True)
    return {int(line.split()[0]) for line in done.stdout.splitlines()[1:] if "ipykernel_launcher" in line}


def test_kill_9_leaves_nothing_the_next_run_does_not_clean_up(tmp_path: Path) -> None:
    import sqlite3
    import time

    from experiments.runs.run_registry import RunRegistry

    root = tmp_path / "r"
    first = run_study("remarketing", SMALL, reports_dir=root)
    killed = []
    for seconds in (1, 2, 3, 4):
        p = _start_run(root)
        time.sleep(seconds)
        p.kill()
        p.wait()
        killed.append(p.pid)
    last = run_study("remarketing", SMALL, reports_dir=root)
    assert _hidden(root) == []  # staging folders and temporary index files removed
    assert not [d for pid in killed for d in _kernel_dirs(pid)]
    assert not set(killed) & _kernel_parents()
    reg = RunRegistry(root)
    assert reg.integrity() == "ok"
    done = {r["run_id"] for r in reg.runs()}
    on_disk = {p.parent.name for p in root.glob("remarketing/*/run.json")}
    assert {first.run_id, last.run_id} <= done and done == on_disk  # a run killed after its rename is listed
    index = (root / "index.html").read_text()
    assert index.count(">Open report</a>") == len(done)
    with sqlite3.connect(root / "runs.sqlite") as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == len(done)


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty

    piped = _cli_env("run", "remarketing", "-p", "n_customers", "3000", "--reports-dir", str(tmp_path / "a"),
                     env={"CI": ""})
    assert piped.returncode == 0 and "\r" not in piped.stderr and "cell" not in piped.stderr
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # a 100-column terminal
    command = [sys.executable, "-m", "experiments.cli", "run", "remarketing", "-p", "n_customers", "3000",
               "--reports-dir", str(tmp_path / "b")]
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "CI": ""})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=300)
    os.close(leader)
    assert p.returncode == 0
    assert b"cell" in seen and b"\r" in seen  # tqdm's bar, redrawn in place
    ci = subprocess.Popen([sys.executable, "-m", "experiments.cli", "run", "remarketing", "-p", "n_customers",
                           "3000", "--reports-dir", str(tmp_path / "c")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})
    _, err = ci.communicate(timeout=300)
    assert ci.returncode == 0 and b"cell" not in err


def test_progress_is_wanted_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from experiments.runs.progress import bar, wanted

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert wanted(Terminal()) and not wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not wanted(Terminal())
    assert bar(3, "x").disable and not bar(3, "x", enabled=True).disable


def test_studies_in_one_kept_kernel_give_the_numbers_of_fresh_kernels(tmp_path: Path) -> None:
    from experiments.runs.kernels import WarmKernels

    plan = [("loyalty", {"n_customers": 3000, "seed": 5}), ("remarketing", {"n_customers": 5000, "seed": 5}),
            ("loyalty", {"n_customers": 3000, "seed": 6})]
    with WarmKernels(preload=()) as kernels:
        kept = [run_study(s, p, reports_dir=tmp_path / "kept", kernels=kernels) for s, p in plan]
    assert kernels.started == 1  # one kernel served the three notebooks
    for (study, params), result in zip(plan, kept, strict=True):
        fresh = run_study(study, params, reports_dir=tmp_path / "fresh")
        assert result.record["figures"] == fresh.record["figures"]
        assert result.record["headline"] == fresh.record["headline"]
