"""Executed notebook → strategist's HTML: code hidden, stderr dropped, charts offline.

Building the exporter (importing nbconvert, compiling the lab templates) costs more than rendering a
report, so one exporter per process is built once, and :func:`warm` builds it ahead, e.g. while the
kernel executes the notebook.
"""

from __future__ import annotations

import copy
import functools
import html
import threading
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from experiments.render.offline import vega_bundle, vega_debug

__all__ = ["TEMPLATES_DIR", "notebook_to_html", "warm"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: Cells with this tag are left out of the HTML.
REMOVE_TAG = "remove-cell"
#: First line of the cells whose output nbval compares: test hooks, not reading, so left out too.
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
_LOCK = threading.Lock()


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


@functools.cache
def _exporter() -> Any:
    return HTMLExporter(
        template_name="experiments",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


@functools.cache
def _assets() -> dict[str, str]:
    return {"vega_bundle": vega_bundle(), "vega_debug": vega_debug()}


def warm() -> None:
    """Build the exporter, compile its templates and load the vega bundle, so the next render is quick."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("warm-up")])
    notebook_to_html(nb, title="warm-up")


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
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    resources = {"metadata": {"name": title}, **_assets(), "run_footer": html.escape(footer)}
    with _LOCK:  # one exporter per process; its preprocessors are not meant for two threads at once
        body, _ = _exporter().from_notebook_node(_clean(nb), resources=resources)
    return body
