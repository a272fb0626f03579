"""Every registered study honours the contract: a verdict, figures, tables, charts, assumptions, checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import altair as alt
import polars as pl
import pytest

import experiments.studies
from experiments.errors import ParameterError
from experiments.studies import registry
from experiments.studies.base import Figure, StudyResult, Verdict, first_sentence, record

#: Small but meaningful sizes, so the contract is checked on every study quickly.
SMALL: dict[str, dict[str, object]] = {
    "remarketing": {"n_customers": 20_000},
    "loyalty": {"n_customers": 3_000},
    "real_experiment": {"segments": "channel"},
    "calibration": {"replications": 200, "looks": 5},
    "omnichannel": {"n_customers": 20_000},
    "targeting": {"n_customers": 20_000, "other_learners": "t"},
}


@pytest.fixture(scope="module", params=registry.names())
def ran(request: pytest.FixtureRequest) -> tuple[str, object, StudyResult]:
    study = registry.get(request.param)
    scenario = study.scenario.from_params(SMALL.get(request.param, {}))
    return request.param, scenario, study.run(scenario)


def test_registry_lists_every_study_once() -> None:
    assert registry.names() == ["remarketing", "loyalty", "real_experiment", "calibration",
                                *registry.names()[4:]]
    assert len(set(registry.names())) == len(registry.names())
    with pytest.raises(ParameterError, match="one of remarketing"):
        registry.get("nope")


def test_small_sizes_cover_every_study() -> None:
    assert set(SMALL) <= set(registry.names())


def test_result_follows_the_contract(ran: tuple[str, object, StudyResult]) -> None:
    name, scenario, result = ran
    assert isinstance(result, StudyResult)
    v = result.verdict()
    assert isinstance(v, Verdict) and v.tone in {"good", "bad", "neutral"} and v.headline.endswith(".")
    figures = result.figures()
    assert figures and all(isinstance(f, Figure) for f in figures)
    assert all(f.ci_low is None or f.ci_low <= f.estimate <= f.ci_high for f in figures)
    assert all(isinstance(t, pl.DataFrame) and t.height for t in result.tables().values())
    charts = result.charts()
    assert charts and all(isinstance(c, alt.TopLevelMixin) for c in charts.values())
    for chart in charts.values():  # every chart title states something, and the spec is valid JSON
        spec = chart.to_dict()
        assert json.loads(json.dumps(spec))
    assert result.assumptions() and result.data_checks()
    rec = record(name, result, scenario)  # type: ignore[arg-type]
    assert json.loads(json.dumps(rec))["headline"] == v.headline
    assert rec["parameters"] == scenario.to_params()  # type: ignore[attr-defined]


def test_simulated_studies_put_the_truth_beside_the_estimate(ran: tuple[str, object, StudyResult]) -> None:
    name, _, result = ran
    study = registry.get(name)
    with_truth = [f for f in result.figures() if f.truth is not None]
    if study.simulated:
        assert with_truth, f"{name} is simulated: its figures carry the truth"


def test_first_sentence() -> None:
    assert first_sentence("It pays: $1.49 each. Details follow.") == "It pays: $1.49 each."
    assert first_sentence("No full stop") == "No full stop"
    assert first_sentence("Send e.g. the mens mail. Then stop.") == "Send e.g. the mens mail."


def test_studies_command_json_contract() -> None:
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "studies", "--json", "-"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    studies = json.loads(done.stdout)
    assert [s["name"] for s in studies] == registry.names()
    for s in studies:
        assert {"name", "question", "notebook", "parameters"} <= set(s)
        assert s["notebook"] == f"notebooks/{s['name']}.ipynb"
        assert s["question"].rstrip().endswith(("?", "."))
        for p in s["parameters"]:
            assert {"name", "default", "allowed", "help"} <= set(p) and p["help"] and p["allowed"]
        defaults = {p["name"]: p["default"] for p in s["parameters"]}
        assert registry.get(s["name"]).scenario.from_params(defaults).to_params() == defaults


#: The files of every study package, and nothing else: the same roles under the same names in each.
STUDY_FILES = {"__init__.py", "scenario.py", "numbers.py", "words.py", "result.py"}


@pytest.mark.parametrize("name", registry.names())
def test_every_study_package_has_the_same_files(name: str) -> None:
    folder = Path(experiments.studies.__file__).parent / name
    assert {p.name for p in folder.glob("*.py")} == STUDY_FILES
    assert registry.STUDY_MODULES[name] == f"experiments.studies.{name}"


def test_a_study_declaration_imports_its_scenario_only() -> None:
    """Reading every study's defaults and question loads no numerical library: the runner does it in a
    process that computes nothing."""
    code = ("import sys\nfrom experiments.studies import registry\n"
            "for n in registry.names():\n    registry.defaults(n); registry.get(n).question\n"
            "print(sorted(m for m in ('altair', 'scipy', 'statsmodels', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
