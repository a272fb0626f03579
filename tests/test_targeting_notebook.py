"""The targeting notebook refuses a bad parameter in its validation cell, before any simulation."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from experiments.paths import NOTEBOOKS_DIR


def test_bad_parameter_fails_in_the_validation_cell(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(NOTEBOOKS_DIR / "targeting.ipynb", out, parameters={"policy_share": "2"},
                            kernel_name="python3", cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    assert info.value.ename == "ParameterError" and "'policy_share'" in info.value.evalue
    code = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    failed = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert failed == [2]  # parameters, papermill's injected parameters, then the validation cell
