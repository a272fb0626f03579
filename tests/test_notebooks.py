"""Every notebook follows the house rules: thin, parameterised, documented, committed clean."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import papermill as pm
import pytest

from experiments.paths import NOTEBOOKS_DIR
from experiments.report.studies import SCENARIOS, available_studies

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _code(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code"]


def test_every_study_has_a_notebook_and_a_scenario() -> None:
    assert set(SCENARIOS) <= set(available_studies())
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_a_documented_parameters_cell(path: Path) -> None:
    first = _code(path)[0]
    assert "parameters" in first["metadata"].get("tags", [])
    source = "".join(first["source"])
    tree = ast.parse(source)
    assigned = []
    for node in tree.body:  # plain literals only, one annotated name per line
        assert isinstance(node, ast.AnnAssign), ast.dump(node)
        ast.literal_eval(node.value)
        assigned.append(node.target.id)
    lines = [line for line in source.splitlines() if line.strip()]
    assert all("  # " in line for line in lines), "every parameter needs a help comment"
    # papermill must understand every line, or `-p NAME` and --help-notebook miss it
    inspected = pm.inspect_notebook(str(path))
    assert list(inspected) == assigned
    assert all(info["help"] for info in inspected.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_next_cell_builds_the_validated_scenario(path: Path) -> None:
    second = "".join(_code(path)[1]["source"])
    assert "from_params(" in second


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_holds_no_logic(path: Path) -> None:
    for cell in _code(path)[1:]:
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Lambda), (
                "notebook logic belongs in src/experiments"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in _code(path):
        if "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT"):
            continue  # nbval compares these stored outputs (it needs their execution count too)
        assert cell["execution_count"] is None
        assert cell["outputs"] == []
    markdown = "".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    assert "$$" not in markdown and "\\(" not in markdown  # no LaTeX: MathJax is not available offline
