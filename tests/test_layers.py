"""The import graph follows the layers: no module imports one of a higher layer, and no two
modules import each other, directly or round a circle (imports read with ``ast``, those under
``TYPE_CHECKING`` and inside functions included: a circle of types is still a circle).

Layers, lowest first: ``sr_core`` (never Qt, never the rest); ``app.model`` (Qt-free state and
plans) < ``app.render`` (workers, scheduler) < ``app.ui`` (widgets) < ``app``'s start-up
modules; ``training`` beside the viewer, never importing it; ``benchmarks`` above both.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sr_core", "app", "training", "benchmarks")
#: layer rank of a module, by its longest matching prefix
RANKS = {"sr_core": 0, "app.model": 1, "app.render": 2, "app.ui": 3, "app": 4, "training": 1, "benchmarks": 5}
#: packages that must never import each other (neither side above the other)
APART = {("app", "training"), ("training", "app")}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (a ``from package import module`` names the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative imports are not used here"
            base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def rank(name: str) -> tuple[str, int]:
    prefix = max((p for p in RANKS if name == p or name.startswith(p + ".")), key=len)
    return prefix, RANKS[prefix]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for name, targets in graph().items():
        layer, own = rank(name)
        for target in targets:
            other, theirs = rank(target)
            apart = (layer.split(".")[0], other.split(".")[0]) in APART
            if theirs > own or apart:
                wrong.append(f"{name} ({layer}) imports {target} ({other})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circle() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert not circles, circles


def test_the_graph_sees_the_imports() -> None:
    """The checks above are not vacuous: known edges are found."""
    edges = graph()
    assert "app.render.scheduler" in edges["app.ui.main_window"]
    assert "app.model.render_plan" in edges["app.render.scheduler"]
    assert "sr_core.registry" in edges["training.recipe"]
    assert "app.model.panel_layout" in edges["app.ui.canvas"]
