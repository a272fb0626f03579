"""Streaming simulation to parquet: block plans, byte-identity whatever the workers and block size,
atomic writes, and ``experiments simulate`` writing row group by row group."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.commands.simulate import run_simulate, table_paths
from experiments.errors import DataError, ParameterError
from experiments.outputs import OutputError
from experiments.simulate.blocks import (
    CHUNK_SIZE,
    BlockPlan,
    capture_plan,
    default_workers,
    simulate_in_blocks,
)
from experiments.simulate.loyalty import simulate_loyalty
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.streaming import table_names, write_parquet_stream
from experiments.studies.loyalty.scenario import LoyaltyScenario
from experiments.studies.remarketing.scenario import RemarketingScenario

N = 3 * CHUNK_SIZE + 1234  # four chunks, the last one short


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _remarketing(n: int = N, seed: int = 5) -> RemarketingScenario:
    return RemarketingScenario.from_params({"n_customers": n, "seed": seed})


def _toy_chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": np.arange(start, stop), "x": rng.random(stop - start)})


def test_captured_plan_is_the_simulation():
    scenario = _remarketing()
    plan = capture_plan(simulate_remarketing, scenario)
    assert isinstance(plan, BlockPlan) and (plan.n, plan.seed, plan.stream) == (N, 5, 1)
    assert plan.collect(block_size=CHUNK_SIZE, workers=2).equals(simulate_remarketing(scenario))
    assert [len(b) for b in plan.blocks(2 * CHUNK_SIZE)] == [2, 2]
    assert [len(b) for b in plan.blocks(1)] == [1, 1, 1, 1]  # rounded up to whole chunks
    with pytest.raises(ParameterError, match="block_size"):
        plan.blocks(0)


def test_capture_returns_what_a_simulator_outside_blocks_returns():
    assert capture_plan(lambda scenario: ("whole", scenario), 3) == ("whole", 3)


def test_a_pickled_plan_is_captured_again():
    plan = capture_plan(simulate_remarketing, _remarketing())
    again = pickle.loads(pickle.dumps(plan))
    assert again.run(plan.blocks(CHUNK_SIZE)[1]).equals(plan.run(plan.blocks(CHUNK_SIZE)[1]))


def test_at_most_workers_plus_one_blocks_ahead():
    started: list[int] = []
    lock = threading.Lock()

    def chunk(rng, start, stop):
        with lock:
            started.append(start)
        return _toy_chunk(rng, start, stop)

    plan = BlockPlan(chunk, 20 * CHUNK_SIZE, seed=1)
    blocks = plan.iter_blocks(block_size=CHUNK_SIZE, workers=2)
    first = next(blocks)
    time.sleep(0.2)
    assert first["customer_id"][0] == 0 and len(started) <= 4  # the one handed over and three ahead
    blocks.close()
    assert len(started) <= 5


def test_simulate_in_blocks_stacks_named_tables_in_order():
    def chunk(rng, start, stop):
        return {"main": _toy_chunk(rng, start, stop), "log": pl.DataFrame({"at": [start]})}

    tables = simulate_in_blocks(chunk, n=N, seed=2, block_size=2 * CHUNK_SIZE, workers=2)
    assert list(tables) == ["main", "log"]
    assert tables["log"]["at"].to_list() == [0, CHUNK_SIZE, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE]
    assert tables["main"]["customer_id"].to_list() == list(range(N))
    with pytest.raises(ParameterError, match="n_customers"):
        simulate_in_blocks(chunk, n=0, seed=2)


def test_stream_is_byte_identical_whatever_workers_and_block_size(tmp_path):
    plan = capture_plan(simulate_remarketing, _remarketing())
    hashes = set()
    for k, (block_size, workers) in enumerate([(CHUNK_SIZE, 1), (CHUNK_SIZE, 2), (3 * CHUNK_SIZE, 2),
                                               (10**6, 1)]):
        out = tmp_path / f"run{k}.parquet"
        rows = write_parquet_stream(plan, {"": out}, block_size=block_size, workers=workers)
        assert rows == {"": N}
        hashes.add(_sha(out))
    assert len(hashes) == 1
    assert pl.read_parquet(tmp_path / "run0.parquet").equals(simulate_remarketing(_remarketing()))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"run{k}.parquet" for k in range(4)]


def test_stream_through_a_process_pool(tmp_path):
    plan = capture_plan(simulate_remarketing, _remarketing(n=2 * CHUNK_SIZE))
    write_parquet_stream(plan, {"": tmp_path / "a.parquet"}, block_size=CHUNK_SIZE)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        write_parquet_stream(plan, {"": tmp_path / "b.parquet"}, block_size=CHUNK_SIZE, executor=pool)
    assert _sha(tmp_path / "a.parquet") == _sha(tmp_path / "b.parquet")


def test_loyalty_streams_both_tables(tmp_path):
    scenario = LoyaltyScenario.from_params({"n_customers": 2 * CHUNK_SIZE + 500, "seed": 4})
    plan = capture_plan(simulate_loyalty, scenario)
    assert table_names(plan) == ["customers", "purchases"]
    sim = simulate_loyalty(scenario)
    digests = []
    for k, (block_size, workers) in enumerate([(CHUNK_SIZE, 1), (2 * CHUNK_SIZE, 2)]):
        paths = table_paths(tmp_path / f"loyalty{k}.parquet", ["customers", "purchases"])
        assert paths["purchases"].name == f"loyalty{k}.purchases.parquet"
        rows = write_parquet_stream(plan, paths, block_size=block_size, workers=workers)
        assert rows == {"customers": sim.customers.height, "purchases": sim.purchases.height}
        digests.append([_sha(p) for p in paths.values()])
        assert pl.read_parquet(paths["customers"]).equals(sim.customers)
        assert pl.read_parquet(paths["purchases"]).equals(sim.purchases)
    assert digests[0] == digests[1]
    assert len(list(tmp_path.iterdir())) == 4  # no parked blocks left behind


def _failing_chunk(rng, start, stop):
    if start >= 2 * CHUNK_SIZE:
        raise DataError("chunk three failed")
    return {"main": _toy_chunk(rng, start, stop), "log": pl.DataFrame({"at": [start]})}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_leaves_nothing_and_keeps_the_old_file(tmp_path, workers):
    out = tmp_path / "t.parquet"
    out.write_bytes(b"old")
    plan = BlockPlan(_failing_chunk, 5 * CHUNK_SIZE, seed=1)
    with pytest.raises(DataError, match="chunk three failed"):
        write_parquet_stream(plan, {"main": out, "log": tmp_path / "t.log.parquet"},
                             block_size=CHUNK_SIZE, workers=workers)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"] and out.read_bytes() == b"old"


def test_a_block_with_another_schema_is_refused(tmp_path):
    def chunk(rng, start, stop):
        frame = _toy_chunk(rng, start, stop)
        return frame if start == 0 else frame.with_columns(pl.col("x").cast(pl.Float32))

    with pytest.raises(DataError, match="schema"):
        write_parquet_stream(BlockPlan(chunk, 2 * CHUNK_SIZE, seed=1), {"": tmp_path / "t.parquet"},
                             block_size=CHUNK_SIZE)
    assert list(tmp_path.iterdir()) == []


def test_run_simulate_checks_outputs_before_work(tmp_path):
    out = tmp_path / "l.parquet"
    (tmp_path / "l.purchases.parquet").write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists"):
        run_simulate("loyalty", {"n_customers": 500}, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.purchases.parquet"]
    with pytest.raises(OutputError, match="does not exist"):
        run_simulate("remarketing", {"n_customers": 500}, tmp_path / "no" / "r.parquet")
    run_simulate("loyalty", {"n_customers": 500}, out, overwrite=True, workers=2)
    assert pl.read_parquet(tmp_path / "l.purchases.parquet").height > 0


def test_default_workers_follow_the_affinity_mask():
    assert default_workers() == len(os.sched_getaffinity(0))


def _cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", "simulate", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_cli_files_identical_whatever_workers_and_block_size(tmp_path):
    runs = [("1", str(CHUNK_SIZE)), ("2", str(2 * CHUNK_SIZE))]
    for k, (workers, block) in enumerate(runs):
        done = _cli("loyalty", "--n-customers", str(2 * CHUNK_SIZE + 500), "--seed", "3",
                    "--workers", workers, "--block-size", block, "--out", str(tmp_path / f"r{k}.parquet"),
                    cwd=tmp_path)
        stdout, stderr = done.communicate(timeout=120)
        assert done.returncode == 0, stderr
        assert stdout.strip().splitlines()[-1] == str(tmp_path / f"r{k}.parquet")
    for suffix in ("parquet", "purchases.parquet"):
        assert _sha(tmp_path / f"r0.{suffix}") == _sha(tmp_path / f"r1.{suffix}")


def test_cli_ctrl_c_leaves_nothing(tmp_path):
    proc = _cli("remarketing", "--n-customers", "20000000", "--workers", "2", "--out",
                str(tmp_path / "big.parquet"), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.suffix == ".part" for p in tmp_path.iterdir()):
        time.sleep(0.05)  # the temporary file appears once the simulation has started
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert list(tmp_path.iterdir()) == []
