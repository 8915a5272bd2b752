"""Settings persist as JSON in the config folder ($ZOOMSR_CONFIG_DIR in tests)."""

import json

import torch

from app.model.settings import MAX_RECENT, Settings, settings_path


def test_settings_persist_and_reload(config_dir):
    s = Settings(device="cpu", precision="float32", memory_mb=2048, tile_size=128, panels=["bicubic", "lte"])
    s.add_recent("/tmp/a.png")
    s.save()
    assert settings_path().parent == config_dir
    again = Settings.load()
    assert again == s


def test_missing_or_damaged_files_give_defaults(config_dir):
    assert Settings.load() == Settings()
    config_dir.mkdir(parents=True)
    settings_path().write_text("{not json", encoding="utf-8")
    assert Settings.load() == Settings()
    settings_path().write_text(json.dumps({"tile_size": 300, "memory_mb": "lots", "heatmap": 1,
                                           "panels": ["bicubic", 3], "precision": "int4"}), encoding="utf-8")
    loaded = Settings.load()
    assert (loaded.tile_size, loaded.memory_mb, loaded.heatmap, loaded.panels, loaded.precision) == \
        (256, 1024, False, Settings().panels, "float32")


def test_remembered_method_costs_reload_and_damaged_ones_are_dropped(config_dir):
    Settings(method_costs={"liif cpu float32": 2.5e-6}).save()
    assert Settings.load().method_costs == {"liif cpu float32": 2.5e-6}
    settings_path().write_text(json.dumps({"method_costs": {"a cpu float32": "fast", "b cpu float32": -1,
                                                            "c cpu float32": True, "d cpu float32": 1e999,
                                                            "e cpu float32": 3}}), encoding="utf-8")
    assert Settings.load().method_costs == {"e cpu float32": 3.0}
    settings_path().write_text(json.dumps({"method_costs": [1, 2]}), encoding="utf-8")
    assert Settings.load().method_costs == {}


def test_recent_files_are_unique_and_bounded(tmp_path):
    s = Settings()
    for i in range(MAX_RECENT + 3):
        s.add_recent(str(tmp_path / f"{i}.png"))
    s.add_recent(str(tmp_path / "5.png"))
    assert len(s.recent_files) == MAX_RECENT
    assert s.recent_files[0].endswith("5.png") and len(set(s.recent_files)) == MAX_RECENT


def test_the_default_device_is_the_first_gpu_if_there_is_one(qtbot, monkeypatch):
    from app.render.scheduler import checked_device
    from app.ui.dialogs.settings_dialog import SettingsDialog

    assert Settings().device == "auto"
    assert checked_device("auto") == "cpu"  # none here
    monkeypatch.setattr("app.render.scheduler.resolve_device", lambda name: torch.device("cuda:0"))
    assert checked_device("auto") == "cuda:0"
    assert checked_device("cuda:7") == "cpu"  # absent: the window warns
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert dialog.device.itemData(0) == "auto" and dialog.device.currentData() == "auto"
    assert dialog.result_settings().device == "auto"
