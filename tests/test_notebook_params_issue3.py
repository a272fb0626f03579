"""The calibration and real-experiment notebooks: parameters cell, validation cell, thin cells."""

from __future__ import annotations

import ast
import importlib
import re

import nbformat
import papermill as pm
import pytest

from experiments.paths import NOTEBOOKS_DIR

NOTEBOOKS = {
    "calibration": ("experiments.scenarios.calibration", "CalibrationScenario"),
    "real_experiment": ("experiments.scenarios.real_experiment", "RealExperimentScenario"),
}
LINE = re.compile(r"^(\w+): (int|float|str|bool) = (.+?)  # \S.*$")


def _code_cells(name: str) -> list:
    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_parameters_cell_matches_scenario_defaults(name: str) -> None:
    module, cls = NOTEBOOKS[name]
    defaults = importlib.import_module(module).DEFAULTS
    cells = _code_cells(name)
    assert "parameters" in cells[0].metadata.get("tags", [])
    values = {}
    for line in cells[0].source.splitlines():
        m = LINE.match(line)
        assert m, f"not 'name: type = literal  # help': {line!r}"
        values[m.group(1)] = ast.literal_eval(m.group(3))
    assert values == defaults
    assert f"{cls}.from_params(dict(" in cells[1].source
    assert all(f"{k}={k}" in cells[1].source for k in defaults)


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_cells_hold_no_logic(name: str) -> None:
    for cell in _code_cells(name):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Lambda)
        if not cell.source.startswith("# NBVAL_CHECK_OUTPUT"):
            assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize(
    ("name", "params", "bad"),
    [("calibration", {"replications": 5}, "replications"),
     ("real_experiment", {"metrics": "visit,nonsense"}, "metrics")],
)
def test_bad_parameter_fails_in_the_validation_cell(name: str, params: dict, bad: str, tmp_path) -> None:
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
