"""The package's import graph: no cycle between packages, no circle between modules, imports only go down.

Every module's imports are read with :mod:`ast` (those inside functions and under ``TYPE_CHECKING``
included: a type-only import is still a dependency), so the graph is the one the code states, whatever
is imported lazily.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "experiments"

#: Layers, bottom up, by the first name under ``experiments``. A module may import its own layer or a
#: lower one, never a higher one.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"", "errors", "formatting", "validation", "paths", "escaping", "exact_sums", "outputs",
               "resources", "datasets", "transactions", "net_value", "worlds", "uplift_learners", "plain"}),
    frozenset({"simulate", "stats", "models", "charts"}),
    frozenset({"scenarios"}),
    frozenset({"studies"}),
    frozenset({"render"}),
    frozenset({"runs"}),
    frozenset({"commands"}),
    frozenset({"cli"}),
)
#: Pairs of one layer that never import each other (the statistics know nothing of how data were made).
APART = {("simulate", "stats"), ("simulate", "models"), ("stats", "simulate"), ("models", "simulate")}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["experiments", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The ``experiments`` modules that ``name`` imports (a name imported from a package is its module
    when it is one, else the package)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("experiments") and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    top = _top(module)
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module}: {top!r} is in no layer of tests/test_layers.py")


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_imports_only_go_down() -> None:
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in sorted(targets)
              if _layer(b) > _layer(a) or (_top(a), _top(b)) in APART]
    assert upward == []


def test_no_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for a, targets in GRAPH.items():
        packages.setdefault(_top(a), set()).update(_top(b) for b in targets if _top(b) != _top(a))
    assert _circles(packages) == []


def test_no_circle_between_modules() -> None:
    # A package's __init__ importing its own modules is how a package exposes them, not a circle.
    graph = {a: {b for b in targets if not (a.startswith(b + ".") and MODULES[b].name == "__init__.py")}
             for a, targets in GRAPH.items()}
    assert _circles(graph) == []


def test_no_private_name_imported_from_another_module() -> None:
    private = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("experiments"):
                private += [f"{name}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []


@pytest.mark.parametrize("module", ["experiments.stats", "experiments.models"])
def test_the_graph_reads_real_imports(module: str) -> None:
    # The reader must see something: stats and models are imported by the studies.
    assert any(b == module or b.startswith(module + ".") for targets in GRAPH.values() for b in targets)


#: The only imports inside functions (module, imported name): each loads something a command may not
#: need, at the moment it is needed; every other import sits at the top of its module, where a reader
#: sees the module's dependencies. Each one carries a one-line reason comment above it.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("experiments.runs.study_run", "experiments.render.notebook_html"):
        "nbconvert loads while the kernel starts, so the import overlaps its start",
    ("experiments.runs.study_run", "experiments.render"): "the same (``from ... import notebook_html``)",
    ("experiments.runs.study_run", "papermill"):
        "papermill loads while the kernel starts, so the import overlaps its start",
    ("experiments.render.offline", "altair"): "only on a cache miss: the versions are cached on disk",
    ("experiments.render.offline", "altair.utils._importers"): "only on a cache miss, as above",
    ("experiments.render.offline", "vl_convert"): "only on a cache miss: the bundle is cached on disk",
    ("experiments.stats.effects", "statsmodels.stats.proportion"):
        "statsmodels (and pandas) cost about a second; only small counts and the score test need it",
    ("experiments.stats.cuped", "statsmodels.api"): "the same, for the row-level reference regression",
}


def _imports_inside_functions() -> list[tuple[str, str, int]]:
    """``(module, imported module, line)`` of every import inside a function (``TYPE_CHECKING`` blocks
    excluded: they import nothing at run time)."""
    out = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            chain, up = [], parents.get(node)
            while up is not None:
                chain.append(up)
                up = parents.get(up)
            in_function = any(isinstance(c, ast.FunctionDef | ast.AsyncFunctionDef) for c in chain)
            type_only = any(isinstance(c, ast.If) and "TYPE_CHECKING" in ast.unparse(c.test) for c in chain)
            if in_function and not type_only:
                targets = ([a.name for a in node.names] if isinstance(node, ast.Import)
                           else [node.module or ""])
                out += [(name, t, node.lineno) for t in targets]
    return out


def test_imports_sit_at_the_top_of_their_module() -> None:
    found = _imports_inside_functions()
    unlisted = [f"{m}:{line} imports {t}" for m, t, line in found if (m, t) not in LAZY_IMPORTS]
    assert unlisted == []
    assert len(found) <= 10
    lines = {name: path.read_text().splitlines() for name, path in MODULES.items()}
    for m, _, line in found:  # the reason, in a comment on the line above (or above a group of imports)
        above = [x.strip() for x in lines[m][max(0, line - 4):line - 1]]
        assert any(x.startswith("#") for x in above), f"{m}:{line} has no reason comment"
