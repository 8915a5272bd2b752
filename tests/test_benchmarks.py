"""The benchmark scripts still run (tiny arguments; the numbers are theirs to print, not ours to check)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import (
    comparison,
    curves,
    encoder,
    interactive,
    large_photo,
    plot,
    soak,
    throughput,
    user_models,
    viewport,
)
from sr_core.paths import resources_dir


@pytest.mark.slow
def test_throughput_and_plot(tmp_path, capsys):
    out = tmp_path / "t.json"
    throughput.main(["--methods", "bicubic,liif", "--scales", "4", "--pixels", "1024", "--repeats", "1",
                     "--threads", "1", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert "|" in capsys.readouterr().out and rows
    plot.main([str(out), str(tmp_path / "t.png")])
    assert (tmp_path / "t.png").stat().st_size > 0


@pytest.mark.slow
def test_viewport_and_encoder(tmp_path, capsys):
    viewport.main(["--methods", "bicubic", "--size-method", "bicubic", "--sizes", "1", "--viewport", "256x160",
                   "--repeats", "1",
                   "--json", str(tmp_path / "v.json")])
    encoder.main(["--pieces", "64", "--tiles", "32", "--region", "64", "--repeats", "1"])
    assert capsys.readouterr().out.count("|") > 10 and (tmp_path / "v.json").exists()


def test_soak_reports_memory_and_reference_counts(tmp_path, capsys, qapp, monkeypatch):
    from app.model.settings import Settings

    monkeypatch.setenv("ZOOMSR_CONFIG_DIR", str(tmp_path / "config"))
    Settings(memory_mb=256).save()  # the soak reads the saved settings, like the app
    soak.main(["--ops", "10", "--every", "5", "--json", str(tmp_path / "s.json")])
    report = json.loads((tmp_path / "s.json").read_text())
    rows = report["rows"]
    out = capsys.readouterr().out
    assert report["memory_mb"] == 256 and "memory budget 256 MB" in out
    assert [r["ops"] for r in rows] == [5, 10] and all(r["rss_mb"] > 0 for r in rows)
    assert all(r["true_refs"] >= 0 for r in rows)
    assert all(0 < r["tiles_mb"] <= 128 and r["image_mb"] > 0 and r["preview_mb"] >= 0 for r in rows)
    # Both baselines are reported; their order is not asserted: loading the models may return
    # freed heap to the system (malloc_trim), so resident memory can fall while they load.
    assert report["rss_before_mb"] > 0 and report["rss_shown_mb"] > 0
    assert f"{report['rss_before_mb']} MB with the models of" in out
    assert all(r["malloc_mb"] is None or r["malloc_mb"][0] > 0 for r in rows)


def test_large_photo_times_the_fit_view_and_counts_decodes(tmp_path, capsys):
    image = tmp_path / "photo.jpg"
    large_photo.make_jpeg(image, 0.3)
    large_photo.main(["--image", str(image), "--json", str(tmp_path / "l.json")])
    (row,) = json.loads((tmp_path / "l.json").read_text())["rows"]
    assert row["pixels"] > 250_000 and row["peak_mb"] >= row["baseline_mb"] > 0
    assert 0 < row["fit_first_frame_s"] <= row["full_pixels_s"] <= row["fit_final_s"]
    assert (row["decodes_to_open"], row["decodes_when_zooming"]) == (1, 0)
    assert "peak B/pixel" in capsys.readouterr().out


def test_interactive_replays_the_session(tmp_path, capsys, qapp):
    interactive.main(["--image", str(resources_dir() / "demo" / "kodim08.webp"), "--panels", "bicubic,nearest",
                      "--size", "520x380", "--json", str(tmp_path / "i.json")])
    steps = json.loads((tmp_path / "i.json").read_text())["steps"]
    assert [s["name"] for s in steps] == ["zoom 9 notches", "pan 2 tiles", "zoom 6 notches"]
    assert all(s["final"] is not None and s["latencies"] for s in steps)
    assert capsys.readouterr().out.count("|") > 10


def test_comparison_times_each_panel_beside_the_others_and_alone(tmp_path, capsys, qapp):
    comparison.main(["--image", str(resources_dir() / "demo" / "kodim08.webp"), "--methods", "nearest",
                     "--size", "700x400", "--zoom", "4", "--json", str(tmp_path / "c.json")])
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["alone"]["nearest"]["viewport"] == result["together"]["viewport"]  # panels of one size
    for run in (result["together"], result["next_session"], *result["alone"].values()):
        assert [s["name"] for s in run["steps"]] == ["zoom ×4 at the eye", "pan one panel"]
        assert all(s["final"].get("nearest") for s in run["steps"])
    assert "final s, alone" in capsys.readouterr().out


def test_learning_curves_plot_the_validated_rows(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("phase,step,lr,loss,elapsed_s,val_psnr\nmain,25,1e-4,0.05,900,\n"
                   "main,50,1e-4,0.05,1800,29.5\nmain,100,1e-4,0.04,3600,30.25\n")
    name, curve = curves.parse_run(f"IPE@25.7={log}")
    assert name == "IPE" and curve == [(0.0, 25.7), (0.5, 29.5), (1.0, 30.25)]
    out = tmp_path / "c.png"
    curves.main([str(out), f"IPE@25.7={log}", "--line", "LIIF=32.24"])
    pixels = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3)
    assert (pixels == curves.COLOURS[0]).all(axis=1).any()  # the run's polyline is drawn
    empty = tmp_path / "empty.csv"
    empty.write_text("phase,step,elapsed_s,val_psnr\nmain,1,10,\n")
    with pytest.raises(ValueError, match="no validation rows"):
        curves.read_curve(empty)


def test_user_models_times_a_view_against_the_whole_image(tmp_path, capsys):
    user_models.main(["--image", "48", "--viewport", "96x64", "--zooms", "4,2.5", "--threads", "1",
                      "--json", str(tmp_path / "u.json")])
    rows = json.loads((tmp_path / "u.json").read_text())["rows"]
    assert [r[0] for r in rows] == ["whole image ×4", "view at ×4", "view at ×2.5"]
    assert "again (cached)" in capsys.readouterr().out
