"""The lifecycle study: its figures and truth, its numbers against references, and its simulate command."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from scipy import stats

from experiments.errors import ParameterError
from experiments.simulate.lifecycle import LEVERS, LifecycleSettings, simulate_lifecycle
from experiments.studies import lifecycle as study
from experiments.studies import registry
from experiments.studies.base import record
from experiments.studies.lifecycle import numbers

SMALL = {"n_customers": 4000, "seed": 11}


@pytest.fixture(scope="module")
def scenario():
    return study.STUDY.scenario.from_params(SMALL)


@pytest.fixture(scope="module")
def sim(scenario):
    return numbers.simulate(scenario)


@pytest.fixture(scope="module")
def result(scenario):
    return study.run(scenario)


def test_registered_with_its_notebook_and_simulator() -> None:
    s = registry.get("lifecycle")
    assert s is study.STUDY and s.notebook == "notebooks/lifecycle.ipynb" and s.simulated


def test_headline_figures_carry_the_contract_names_and_the_truth(result, scenario) -> None:
    figures = result.figures()
    names = {(f.name, f.group) for f in figures}
    for lever in LEVERS:
        assert ("short_run_value", lever) in names and ("long_run_value", lever) in names
    for route in ("acquisition", "retention", "win_back"):
        assert ("marginal_return", route) in names
    assert all(f.truth is not None and np.isfinite(f.truth) for f in figures)
    assert all(f.ci_low <= f.estimate <= f.ci_high for f in figures)
    rec = json.loads(json.dumps(record("lifecycle", result, scenario)))
    assert {(f["name"], f["group"]) for f in rec["figures"]} == names
    assert rec["headline"].startswith("The next $10,000 earns most in ")


def test_verdict_report_parts(result) -> None:
    v = result.verdict()
    assert v.headline.endswith(".") and "move purchases in time" in v.headline
    assert any("would pick" in d for d in v.details)
    tables = result.tables()
    assert set(tables) == {"levers", "marginal_returns", "acquisition", "timing", "projection"}
    assert tables["levers"]["lever"].to_list() == list(LEVERS)
    for name, chart in result.charts().items():
        spec = chart.to_dict()
        assert spec["title"], name
    assert any("assumption" in a for a in result.assumptions())


def test_lever_reads_are_welch_against_scipy(sim) -> None:
    reads = numbers.lever_reads(sim, alpha=0.05)
    c = sim.customers.filter(pl.col("in_experiment"))
    for lever, measure, horizon in (("discount", "value", "long"), ("messages", "purchases", "short")):
        col = c[f"{measure}_{horizon}"].to_numpy()
        arm = c[f"arm_{lever}"].to_numpy()
        ref = stats.ttest_ind(col[arm], col[~arm], equal_var=False)  # scipy's Welch test
        low, high = ref.confidence_interval(0.95)
        row = reads.filter((pl.col("lever") == lever) & (pl.col("measure") == measure)
                           & (pl.col("horizon") == horizon)).row(0, named=True)
        assert row["estimate"] == pytest.approx(col[arm].mean() - col[~arm].mean(), rel=1e-9)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-6)
        truth = c[f"{measure}_{horizon}__{lever}_on"].mean() - c[f"{measure}_{horizon}__{lever}_off"].mean()
        assert row["truth"] == pytest.approx(truth, rel=1e-9)
    after = reads.filter(pl.col("horizon") == "after")
    assert after.height == 2 * len(LEVERS)


def test_expected_margin_matches_the_world_without_levers() -> None:
    """Reference: the simulator itself with every lever's share at zero (no lever acts)."""
    off = {f"{lever}_share": 0.0 for lever in LEVERS}
    s = LifecycleSettings(n_customers=40_000, **off)
    sim = simulate_lifecycle(s, seed=3)
    costs = {src.name: src.cost for src in s.sources}
    acq = numbers.acquisition_values(sim, costs, weeks=52)
    # sampling error of a source's mean is about 2-3%; the formula must sit inside the interval
    for r in acq.iter_rows(named=True):
        assert r["ci_low"] <= r["truth"] <= r["ci_high"], r
    direct = numbers.expected_margin(np.array([0.5]), np.array([0.2]), np.array([40.0]), weeks=3,
                                     gross_margin=0.3, failure_rate=0.0, failure_dropout=0.0)
    # by hand: 1 + 0.5 * (1 + e^-0.1) purchases of $40 at 30%
    assert direct[0] == pytest.approx((1 + 0.5 * (1 + np.exp(-0.1))) * 12.0, rel=1e-12)


def test_marginal_returns_scale_the_reads(result, scenario) -> None:
    acq, keep, win = result.returns
    assert (acq.route, keep.route, win.route) == ("acquisition", "retention", "win_back")
    top = result.acquisition.row(0, named=True)
    assert acq.estimate == pytest.approx(scenario.budget / top["cost"] * top["value"])
    row = result.lever_table().filter(pl.col("lever") == "win_back").row(0, named=True)
    spend = row["spend_per_customer"]
    assert win.estimate == pytest.approx(scenario.budget / spend * (row["long_read"] + spend))
    assert keep.lever in numbers.RETENTION_LEVERS


def test_projection_has_every_arm(result) -> None:
    p = result.projection
    assert p.height == 2 * len(LEVERS) and set(p["side"]) == {"on", "off"}
    assert (p["error"] >= 0).all() and p["projected"].is_finite().all()
    assert 0 <= result.projection_errors()["discount"] < 1


def test_replications_and_their_summary(scenario) -> None:
    frame = numbers.replicate(scenario, 2, n_customers=1500, project=True)
    assert frame.height == 2 * len(LEVERS)
    summary = numbers.replication_summary(frame)
    assert summary["replications"] == 2
    for key in ("coverage", "wrong_pick_short", "projection_error_discount", "projection_error_others"):
        assert 0 <= summary[key] <= 1
    assert summary["effect_miss_discount"] >= 0 and summary["effect_miss_others"] >= 0
    with pytest.raises(ParameterError, match="replications"):
        numbers.replicate(scenario, 0)


def test_bad_parameters_name_themselves() -> None:
    with pytest.raises(ParameterError, match="long_weeks"):
        study.STUDY.scenario.from_params({"campaign_weeks": 52, "long_weeks": 40})
    with pytest.raises(ParameterError, match="campaign_weeks"):
        study.STUDY.scenario.from_params({"campaign_weeks": 10})
    with pytest.raises(ParameterError, match="cost_organic"):
        study.STUDY.scenario.from_params({"cost_organic": 0})


def test_scenario_settings_carry_the_parameters(scenario) -> None:
    s = scenario.settings()
    assert s.n_customers == scenario.n_customers and s.long_weeks == scenario.long_weeks
    assert {src.name: src.cost for src in s.sources} == scenario.source_costs()
    assert replace(scenario, cost_organic=7.0).settings().sources[-1].cost == 7.0


def test_simulate_command_is_byte_identical_whatever_the_workers(tmp_path) -> None:
    from experiments.commands.simulate import run_simulate

    params = {"n_customers": 1200, "seed": 5}
    a = run_simulate("lifecycle", params, tmp_path / "a.parquet", block_size=500, workers=1)
    b = run_simulate("lifecycle", params, tmp_path / "b.parquet", block_size=100_000, workers=2)
    for suffix in ("", ".purchases"):
        fa = a.with_name(f"a{suffix}.parquet").read_bytes()
        fb = b.with_name(f"b{suffix}.parquet").read_bytes()
        assert fa == fb
    customers = pl.read_parquet(a)
    assert customers.filter(pl.col("in_experiment")).height == 1200
    assert "value_long__discount_on" in customers.columns


def test_bad_parameter_fails_in_the_notebook_validation_cell(tmp_path) -> None:
    import papermill as pm

    from experiments.paths import NOTEBOOKS_DIR

    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(NOTEBOOKS_DIR / "lifecycle.ipynb", tmp_path / "out.ipynb",
                            parameters={"long_weeks": 70}, kernel_name="python3", cwd=str(NOTEBOOKS_DIR),
                            progress_bar=False)
    assert info.value.ename == "ParameterError" and "'long_weeks'" in info.value.evalue


_RUN = """
import json, sys
from experiments.studies import lifecycle as study
r = study.run(study.STUDY.scenario.from_params({"n_customers": 3000, "seed": 4}))
print(json.dumps({"figures": [[f.name, f.group, *(float(v).hex() for v in (f.estimate, f.ci_low, f.ci_high,
                                                                         f.truth))] for f in r.figures()],
                  "tables": {k: t.write_csv() for k, t in r.tables().items()}}))
"""


def test_same_bits_whatever_polars_threads() -> None:
    import os
    import subprocess
    import sys

    out = []
    for threads in ("1", "4"):
        env = {**os.environ, "POLARS_MAX_THREADS": threads}
        done = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True,
                              check=True)
        out.append(json.loads(done.stdout))
    assert out[0] == out[1] and out[0]["figures"]
