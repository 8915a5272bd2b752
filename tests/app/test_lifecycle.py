"""Worker threads start with the window and stop cleanly when it closes."""

from __future__ import annotations

import gc
from dataclasses import replace

from app_fakes import FakeProvider, settle

from app.model.settings import Settings
from app.ui.main_window import MainWindow


def _final_at_x12(qtbot, image_file, fake) -> MainWindow:
    """A saving window with the image at ×12, every tile final."""
    window = MainWindow(FakeProvider({"fake": lambda: fake}), Settings(panels=["bicubic", "fake"]))
    window.show()
    window.open_path(str(image_file))
    qtbot.waitUntil(lambda: window.doc is not None, timeout=30_000)
    window.view.zoom_to(12.0)
    settle(qtbot, window)
    return window


def test_workers_stop_cleanly_on_close(qtbot, qtlog, image_file, fake):
    window = _final_at_x12(qtbot, image_file, fake)
    window.view.zoom_to(20.0)  # leave work in flight
    workers = [window.scheduler.preview, window.scheduler.model]
    assert all(w.alive for w in workers)
    window.close()
    assert not any(w.alive for w in workers)
    window.deleteLater()
    qtbot.wait(50)
    gc.collect()
    assert not [r for r in qtlog.records if "QThread" in r.message or "Destroyed" in r.message]


def test_settings_dialog_changes_persist_and_restart_the_model_worker(qtbot, make_window, image_file):
    from app.ui.dialogs.settings_dialog import SettingsDialog

    window = make_window(image=image_file)
    old = window.scheduler.model
    dialog = SettingsDialog(window.settings, window)
    dialog.memory.setValue(2048)
    dialog.tile.setCurrentIndex(dialog.tile.findData(128))
    window.apply_settings(dialog.result_settings())
    assert window.scheduler.model is not old and not old.alive
    assert window.scheduler.model.background  # the new worker stays below the GUI thread too
    assert window.scheduler.tile_size == 128
    saved = Settings.load()
    assert (saved.memory_mb, saved.tile_size) == (2048, 128)
    settle(qtbot, window)
    keys = window.scheduler.cache.keys()
    assert keys and all(k.size == 128 for k in keys)


def test_measured_method_costs_rank_the_next_sessions_first_view(qtbot, image_file, fake):
    window = _final_at_x12(qtbot, image_file, fake)
    measured = window.scheduler.costs.per_pixel("fake")
    window.close()
    saved = Settings.load().method_costs
    assert measured and saved == {f"fake {window.scheduler.device} float32": measured}
    again = MainWindow(FakeProvider({"fake": lambda: fake}), Settings.load())
    assert again.scheduler.costs.per_pixel("fake") == measured
    again.close()


class _Typical(FakeProvider):
    """Fake methods with a typical CPU cost, as ZoomSR's own methods have."""

    def info(self, name: str):
        info = super().info(name)
        return info if name == "bicubic" else replace(info, cpu_cost=3.0)


def test_a_first_session_on_the_cpu_starts_from_the_methods_typical_costs(qtbot, fake):
    window = MainWindow(_Typical({"fake": lambda: fake}), Settings(panels=["bicubic", "fake"]))
    on_cpu = window.scheduler.device == "cpu"
    assert window.scheduler.costs.per_pixel("fake") == (3.0 if on_cpu else None)  # a GPU orders them otherwise
    window.close()
    assert Settings.load().method_costs == {}  # a guess is not remembered as a measurement
