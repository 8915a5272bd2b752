"""Nearest neighbour in the viewer: the real registry offers it, and it renders without weights."""

from __future__ import annotations

from app_fakes import settle

from app.model.layers import Kind
from app.model.method_provider import RegistryProvider


def test_nearest_is_offered_in_the_panel_menu_and_renders(qtbot, make_window, image_file, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(tmp_path / "no-checkpoints"))
    window = make_window(RegistryProvider(), image_file, panels=["bicubic", "liif"])
    menu = window.panels[1].buttons[0].menu()
    menu.aboutToShow.emit()
    actions = {a.text(): a for a in menu.actions()}
    assert "Nearest" in actions  # not "Nearest   — no weights"
    actions["Nearest"].trigger()
    assert window.panel_layout.methods == ["bicubic", "nearest"]
    window.view.zoom_to(8.0)
    settle(qtbot, window)
    window.grab()
    assert window.scheduler.methods.kind("nearest") is Kind.MODEL
    painted = {(k.method, k.out_h, k.out_w) for k in window.panels[1].canvas.painted}
    assert ("nearest", 8 * 48, 8 * 64) in painted
