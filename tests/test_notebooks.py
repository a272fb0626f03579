"""Every study notebook follows the house rules: thin, parameterised from its scenario, committed clean."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from experiments.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from experiments.studies import registry

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
STUDIES = registry.names()
#: At most this many code lines per notebook after the parameters cell (that cell is the scenario's
#: declaration, one line per parameter, checked against it separately).
MAX_CODE_LINES = 30


def _code(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]


def test_every_notebook_is_a_registered_study_and_back() -> None:
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(STUDIES)
    for study in registry.all_studies():
        assert (PROJECT_ROOT / study.notebook).is_file()


@pytest.mark.parametrize("name", STUDIES)
def test_parameters_cell_is_the_scenario_declaration(name: str) -> None:
    """The cell is generated from the scenario's parameters: name, type, default and help, in order."""
    study = registry.get(name)
    first = _code(PROJECT_ROOT / study.notebook)[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert first.source == study.parameters_cell(), (
        f"notebooks/{name}.ipynb: its parameters cell must read exactly:\n{study.parameters_cell()}")
    for node in ast.parse(first.source).body:  # plain literals only
        assert isinstance(node, ast.AnnAssign)
        ast.literal_eval(node.value)
    # papermill understands every line, so `-p NAME` and --help-notebook see the help
    inspected = pm.inspect_notebook(str(PROJECT_ROOT / study.notebook))
    assert list(inspected) == [p.name for p in study.scenario.parameters]
    assert [i["help"] for i in inspected.values()] == [p.help for p in study.scenario.parameters]


@pytest.mark.parametrize("name", STUDIES)
def test_next_cells_validate_once_then_run_and_show_the_verdict(name: str) -> None:
    cells = [c.source for c in _code(NOTEBOOKS_DIR / f"{name}.ipynb")]
    assert "study.STUDY.scenario.from_namespace(globals())" in cells[1]
    assert "study.run(scenario)" in cells[2] and "report.verdict(study.STUDY, result, scenario)" in cells[2]
    assert sum("from_namespace(" in c or "from_params(" in c for c in cells) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_holds_no_logic(path: Path) -> None:
    code = _code(path)
    # the parameters cell is the scenario's declaration (one line per parameter), not logic
    assert sum(len(c.source.splitlines()) for c in code[1:]) <= MAX_CODE_LINES
    for cell in code[1:]:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Lambda
                                  | ast.ListComp | ast.DictComp | ast.GeneratorExp), (
                "notebook logic belongs in src/experiments")
            assert not isinstance(node, ast.BinOp | ast.JoinedStr), "arithmetic and f-strings go in studies/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT"):
            continue  # nbval compares these stored outputs (it needs their execution count too)
        assert cell["execution_count"] is None
        assert cell["outputs"] == []
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "$$" not in markdown and "\\(" not in markdown  # no LaTeX: MathJax is not available offline


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_headline_check_cell_holds_its_expected_output(path: Path) -> None:
    """nbval compares these outputs: a check cell without a stored output would check nothing."""
    checks = [c for c in _code(path) if c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert len(checks) == 1 and checks[0].execution_count is not None
    assert "".join(o.get("text", "") for o in checks[0].outputs).strip()


@pytest.mark.parametrize(
    ("name", "params", "bad"),
    [("calibration", {"replications": 5}, "replications"),
     ("real_experiment", {"metrics": "visit,nonsense"}, "metrics"),
     ("remarketing", {"discount": 2.0}, "discount"),
     ("loyalty", {"calibration_periods": 60}, "calibration_periods")],
)
def test_bad_parameter_fails_in_the_validation_cell(name: str, params: dict, bad: str, tmp_path: Path
                                                    ) -> None:
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(NOTEBOOKS_DIR / f"{name}.ipynb", out, parameters=params, kernel_name="python3",
                            cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    assert info.value.ename == "ParameterError" and repr(bad) in info.value.evalue
    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    failed = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.get("outputs", []))]
    # cell 0 is parameters, 1 is papermill's injected parameters, 2 is the validation cell
    assert failed == [2]
