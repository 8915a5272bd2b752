"""Modules of ``app`` that have no Qt really import none: every module of ``app.model`` (the
layer's rule) and those elsewhere whose docstring says so (run in a fresh interpreter, so that
nothing the tests imported before counts)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
#: what a docstring says to claim it
CLAIMS = ("no Qt", "Qt-free")
#: the render plan and what it is made of must stay among them
REQUIRED = {"model.render_plan", "model.refinement", "render.job_runner", "model.layers", "model.jobs",
            "model.tiles", "model.view_state", "model.document", "model.export_plan", "model.heatmap",
            "model.region_metrics", "model.method_states", "model.panel_layout"}

CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qtawesome'))
    if qt:
        sys.exit(f'{name} imports {qt[0]}')
"""


def qt_free_modules() -> list[str]:
    """The modules of ``app.model``, and the others of ``app`` whose docstring claims that they
    have no Qt."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if path.parent == APP / "model" or any(claim in doc for claim in CLAIMS):
            found.append(".".join(path.relative_to(APP.parent).with_suffix("").parts))
    return found


def test_the_modules_that_claim_no_qt_import_none():
    modules = qt_free_modules()
    assert {f"app.{name}" for name in REQUIRED} <= set(modules)
    result = subprocess.run([sys.executable, "-c", CHECK, *modules], cwd=APP.parent, capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
