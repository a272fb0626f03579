"""The loyalty notebook runs under papermill with its defaults and fails in validation on a bad value."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from experiments.paths import notebook_path

papermill = pytest.importorskip("papermill")


def test_notebook_rules():
    nb = nbformat.read(notebook_path("loyalty"), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for line in code[0].source.splitlines():
        assert ":" in line and "=" in line and "#" in line
    assert "LoyaltyScenario.from_params(" in code[1].source
    for c in code:
        assert not re.search(r"^\s*(def|class|for|while) ", c.source, re.M), c.source[:60]
        if not c.source.startswith("# NBVAL_CHECK_OUTPUT"):
            assert not c.outputs and c.execution_count is None
    verdict_cell = next(i for i, c in enumerate(code) if "report.verdict(" in c.source)
    assert verdict_cell == 3  # parameters, scenario, computation, then the verdict first


@pytest.mark.slow
def test_notebook_runs_and_rejects_bad_parameters(tmp_path):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(notebook_path("loyalty")),
        str(out),
        kernel_name="python3",
        cwd=str(notebook_path("loyalty").parent),
        parameters={"n_customers": 5000},
        progress_bar=False,
    )
    nb = json.loads(out.read_text())
    html = json.dumps(nb)
    assert "verdict" in html
    with pytest.raises(papermill.PapermillExecutionError, match="n_customers"):
        papermill.execute_notebook(
            str(notebook_path("loyalty")),
            str(tmp_path / "bad.ipynb"),
            kernel_name="python3",
            cwd=str(notebook_path("loyalty").parent),
            parameters={"n_customers": -5},
            progress_bar=False,
        )
