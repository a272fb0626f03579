"""The loyalty notebook runs under papermill with its defaults and fails in validation on a bad value."""

from __future__ import annotations

import json

import pytest

from experiments.paths import notebook_path

papermill = pytest.importorskip("papermill")


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
