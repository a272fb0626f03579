"""The run registry and ``experiments runs``: contract, sync with the folders, concurrency, killed writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.runs.run_registry import REGISTRY_FILE, RunRegistry, public_run

CONTRACT = {"study", "run_id", "started", "parameters", "headline", "html", "sweep_id"}


def fake_run(root: Path, study: str, minute: int, *, sweep_id: str | None = None, **changed: object) -> dict:
    """A run folder as ``run_study`` leaves it (run.json and the report), not yet in the registry."""
    run_id = f"20261129T10{minute:02d}00Z-000000-abcdef"
    folder = root / study / run_id
    folder.mkdir(parents=True)
    (folder / f"{study}.html").write_text("<html><body>report</body></html>")
    meta = {"study": study, "run_id": run_id, "started": f"2026-11-29T10:{minute:02d}:00+00:00",
            "params": {"n_customers": 200000, "seed": 1, **changed}, "changed": changed, "sweep_id": sweep_id,
            "question": f"What does {study} answer?",
            "headline": {"headline": f"Run {minute}.", "tone": "good", "details": [], "figures": [
                {"name": "incremental_profit", "label": "Incremental profit", "estimate": 1.0, "ci_low": 0.0,
                 "ci_high": 2.0, "truth": 1.5, "unit": "$", "group": ""}]}}
    (folder / "run.json").write_text(json.dumps(meta))
    return meta


def test_add_and_read_newest_first_with_the_contract(tmp_path: Path) -> None:
    reg = RunRegistry(tmp_path)
    for minute in (3, 1, 2):
        reg.add_run(fake_run(tmp_path, "remarketing", minute, seed=minute))
    runs = reg.runs()
    assert [r["run_id"][11:13] for r in runs] == ["03", "02", "01"]
    out = public_run(runs[0], tmp_path)
    assert set(out) == CONTRACT
    assert out["parameters"]["seed"] == 3 and out["headline"]["figures"][0]["truth"] == 1.5
    assert Path(out["html"]).is_file() and out["sweep_id"] is None
    assert reg.integrity() == "ok"


def test_sync_adopts_folders_and_prunes_deleted_ones(tmp_path: Path) -> None:
    fake_run(tmp_path, "remarketing", 1)  # made before the registry existed
    fake_run(tmp_path, "loyalty", 2)
    (tmp_path / "remarketing" / ".staging-x-1").mkdir()  # never adopted
    reg = RunRegistry(tmp_path)
    assert {r["study"] for r in reg.runs()} == {"remarketing", "loyalty"}  # adopted on creation
    fake_run(tmp_path, "remarketing", 3)  # e.g. a run killed between its rename and its insert
    assert reg.sync() == (1, 0)
    import shutil

    shutil.rmtree(tmp_path / "loyalty")  # deleted by hand
    assert [r["study"] for r in reg.runs()] == ["remarketing", "remarketing"]  # skipped at once
    assert reg.sync() == (0, 1)  # and pruned
    with sqlite3.connect(tmp_path / REGISTRY_FILE) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_a_folder_without_run_json_or_report_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "remarketing" / "junk").mkdir(parents=True)
    meta = fake_run(tmp_path, "remarketing", 4)
    (tmp_path / "remarketing" / meta["run_id"] / "remarketing.html").unlink()
    assert RunRegistry(tmp_path).runs() == []


def _writer(root: str, worker: int, n: int) -> None:
    reg = RunRegistry(root)
    for i in range(n):
        study = "remarketing"
        run_id = f"20261129T1000{worker:02d}Z-{i:06d}-abcdef"
        folder = Path(root) / study / run_id
        folder.mkdir(parents=True)
        (folder / f"{study}.html").write_text("x")
        reg.add_run({"study": study, "run_id": run_id, "started": f"2026-11-29T10:00:{worker:02d}+00:00",
                     "params": {"seed": i}, "headline": {}, "sweep_id": f"s{worker}"})
        if i % 5 == 0:
            reg.sync()  # readers and syncs interleave with other processes' inserts


def test_concurrent_writers_never_corrupt_it(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 15)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    reg = RunRegistry(tmp_path)
    assert reg.integrity() == "ok"
    assert len(reg.runs()) == 90 and len(reg.runs(sweep_id="s3")) == 15


KILLED_WRITER = """
import os, signal, sqlite3, sys
from experiments.runs.run_registry import RunRegistry
reg = RunRegistry(sys.argv[1])
reg.runs()
con = sqlite3.connect(reg.path, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("INSERT INTO runs VALUES ('remarketing', 'half', '2026', NULL, 'remarketing/half/r.html', '{}')")
print("inserted", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_mid_transaction_leaves_no_half_entry(tmp_path: Path) -> None:
    RunRegistry(tmp_path).add_run(fake_run(tmp_path, "remarketing", 1))
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL and "inserted" in done.stdout
    reg = RunRegistry(tmp_path)
    assert [r["run_id"] for r in reg.runs()] == ["20261129T100100Z-000000-abcdef"]
    assert reg.integrity() == "ok"
    reg.add_run(fake_run(tmp_path, "remarketing", 2))  # the next writer goes ahead
    assert len(reg.runs()) == 2
    assert not list(tmp_path.glob(f"{REGISTRY_FILE}-journal"))  # nothing left beside the file


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CI": "true"})


def test_runs_command_json_and_text(tmp_path: Path) -> None:
    fake_run(tmp_path, "remarketing", 1, sweep_id="S1", frequency_cap=4)
    fake_run(tmp_path, "loyalty", 2)
    done = _cli("runs", "--reports-dir", str(tmp_path), "--json", "-")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["study"] for r in runs] == ["loyalty", "remarketing"]
    assert all(set(r) == CONTRACT for r in runs)
    assert runs[1]["sweep_id"] == "S1" and runs[1]["parameters"]["frequency_cap"] == 4
    assert Path(runs[1]["html"]).is_file()
    only = json.loads(_cli("runs", "--reports-dir", str(tmp_path), "--study", "loyalty", "--json",
                           "-").stdout)
    assert [r["study"] for r in only] == ["loyalty"]
    swept = json.loads(_cli("runs", "--reports-dir", str(tmp_path), "--sweep", "S1", "--json", "-").stdout)
    assert [r["study"] for r in swept] == ["remarketing"]
    text = _cli("runs", "--reports-dir", str(tmp_path))
    assert text.returncode == 0 and "frequency_cap=4" in text.stdout and "Run 2." in text.stdout
    target = tmp_path / "out" / "runs.json"
    target.parent.mkdir()
    assert _cli("runs", "--reports-dir", str(tmp_path), "--json", str(target)).returncode == 0
    assert len(json.loads(target.read_text())) == 2


def test_runs_command_on_no_reports_creates_nothing(tmp_path: Path) -> None:
    done = _cli("runs", "--reports-dir", str(tmp_path / "none"), "--json", "-")
    assert done.returncode == 0 and json.loads(done.stdout) == []
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("case", ["file", "under-file", "unknown-study", "json-dir"])
def test_runs_command_bad_input_is_one_line(tmp_path: Path, case: str) -> None:
    (tmp_path / "f").write_text("x")
    args = {"file": ["--reports-dir", str(tmp_path / "f")],
            "under-file": ["--reports-dir", str(tmp_path / "f" / "r")],
            "unknown-study": ["--reports-dir", str(tmp_path), "--study", "nosuch"],
            "json-dir": ["--reports-dir", str(tmp_path), "--json", str(tmp_path)]}[case]
    done = _cli("runs", *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr

