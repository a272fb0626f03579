"""Executed notebook → strategist's HTML: code hidden, stderr dropped, charts offline."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from experiments.report.offline import vega_bundle, vega_debug

__all__ = ["TEMPLATES_DIR", "notebook_to_html"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: Cells with this tag are left out of the HTML.
REMOVE_TAG = "remove-cell"
#: First line of the cells whose output nbval compares: test hooks, not reading, so left out too.
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
        cells.append(cell)
    nb.cells = cells
    return nb


def notebook_to_html(nb: nbformat.NotebookNode | str | Path, *, title: str, footer: str = "") -> str:
    """Render an executed notebook as one offline HTML page with the code hidden.

    Parameters
    ----------
    nb
        Notebook node or path to an ``.ipynb``.
    title
        Page title.
    footer
        Plain text shown at the bottom (run id, seed, revision); escaped.
    """
    import html

    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    exporter = HTMLExporter(
        template_name="experiments",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "metadata": {"name": title},
        "vega_bundle": vega_bundle(),
        "vega_debug": vega_debug(),
        "run_footer": html.escape(footer),
    }
    body, _ = exporter.from_notebook_node(_clean(nb), resources=resources)
    return body
