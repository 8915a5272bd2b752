"""The render worker's work without its thread or a QApplication: tiles, failures, metrics and
exports as plain data and numpy."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from app_fakes import FakeMethod, FakeProvider, smooth_image

from app.model.document import GroundTruth
from app.model.jobs import ExportItem, MetricsJob, TileJob
from app.model.tiles import TileKey
from app.render.job_runner import JobRunner, Replies
from sr_core import metrics
from sr_core.imaging import load_image, to_uint8
from sr_core.render import Rect, Renderer, SourceImage
from tests.tiny_models import tiny_model

GRID = (96, 128)


class Recorder:
    """Every reply, in order, as (name, arguments)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []

    def replies(self) -> Replies:
        names = ("tile_ready", "tile_failed", "progress", "metrics_ready", "method_failed", "export_progress",
                 "export_finished", "export_failed")
        return Replies(*(lambda *args, n=n: self.calls.append((n, args)) for n in names))

    def of(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]


def runner(factories=None) -> tuple[JobRunner, Recorder]:
    record = Recorder()
    provider = FakeProvider({"fake": FakeMethod} if factories is None else factories)
    return JobRunner(provider, torch.device("cpu"), record.replies()), record


def source() -> SourceImage:
    return SourceImage(smooth_image(48, 64))


def never() -> bool:
    return False


def test_a_tile_comes_back_as_rounded_uint8_and_its_float_pixels_only_when_kept():
    run, record = runner()
    image = source()
    key = TileKey("fake", image.key, *GRID, 64, 0, 1)
    run.run(TileJob(key, image), never, list)
    run.run(TileJob(key, image, keep_pixels=True), never, list)
    shown, kept = (args[0] for args in record.of("tile_ready"))
    expected = Renderer(FakeMethod()).render(image, *GRID, key.rect)
    assert shown.rgb.dtype == np.uint8 and np.array_equal(shown.rgb, to_uint8(expected))
    assert shown.pixels is None and np.allclose(kept.pixels, expected, atol=1e-6)
    assert record.of("progress")[-1][1:] == (64 * 64, 64 * 64)


def test_a_part_of_a_tile_renders_just_that_part():
    run, record = runner()
    image = source()
    key = TileKey("fake", image.key, *GRID, 64, 1, 1)
    part = Rect(64, 64, 80, 100)
    run.run(TileJob(key, image, part=part), never, list)
    (result,), = record.of("tile_ready")
    assert result.part == part and result.rgb.shape == (16, 36, 3)


def test_a_tile_rendered_after_its_peek_computes_only_the_rest():
    """The peek's pixels are copied into its tile: the tile's progress counts, and its cost is
    measured on, only the pixels computed; the tile equals a fresh render. Kept (metrics) tiles
    render in float32 and compute everything."""
    run, record = runner()
    image = source()
    key = TileKey("fake", image.key, *GRID, 64, 0, 1)
    peek = Rect(16, 80, 48, 112)
    run.run(TileJob(key, image, part=peek), never, list)
    run.run(TileJob(key, image), never, list)
    run.run(TileJob(key, image, keep_pixels=True), never, list)
    first, tile, kept = (args[0] for args in record.of("tile_ready"))
    assert (first.queried, tile.queried, kept.queried) == (32 * 32, 64 * 64 - 32 * 32, 64 * 64)
    assert {args[2] for args in record.of("progress")} == {32 * 32, 3072, 64 * 64}
    assert np.array_equal(tile.rgb, to_uint8(Renderer(FakeMethod()).render(image, *GRID, key.rect)))


def test_a_peek_is_forgotten_with_its_image_and_when_methods_reload():
    run, record = runner()
    image = source()
    key = TileKey("fake", image.key, *GRID, 64, 0, 1)
    for forget in (lambda: run.forget(image.key), run.retry_failed):
        run.run(TileJob(key, image, part=Rect(16, 80, 48, 112)), never, list)
        forget()
        run.run(TileJob(key, image), never, list)
        assert record.of("tile_ready")[-1][0].queried == 64 * 64


def test_a_tiles_cost_leaves_out_the_encoder_whose_features_other_methods_may_share():
    def slow_encoder():
        model = tiny_model("liif")
        model.encoder.register_forward_hook(lambda *args: time.sleep(0.3))
        return model

    run, record = runner({"slow": slow_encoder})
    image = source()
    start = time.perf_counter()
    run.run(TileJob(TileKey("slow", image.key, *GRID, 64, 0, 0), image), never, list)
    wall = time.perf_counter() - start
    (result,), = record.of("tile_ready")
    assert wall >= 0.3 and 0 < result.seconds < wall - 0.25


def test_a_cancelled_tile_reports_nothing():
    run, record = runner()
    image = source()
    run.run(TileJob(TileKey("fake", image.key, *GRID, 64, 0, 0), image), lambda: True, list)
    assert not record.of("tile_ready") and not record.of("tile_failed")


def test_a_method_that_cannot_load_is_reported_once_until_retried():
    run, record = runner({"fake": None})
    image = source()
    job = TileJob(TileKey("fake", image.key, *GRID, 64, 0, 0), image)
    run.run(job, never, list)
    run.run(job, never, list)
    assert [args[0] for args in record.of("method_failed")] == ["fake"]
    assert "no trained weights" in record.of("method_failed")[0][1] and not record.of("tile_ready")
    assert run.loaded("fake") and run.dtype_of("fake") is None
    run.retry_failed()
    run.run(job, never, list)
    assert len(record.of("method_failed")) == 2


def test_an_out_of_memory_tile_fails_with_a_message_and_the_next_one_renders():
    run, record = runner({"fake": lambda: FakeMethod(oom=True)})
    image = source()
    run.run(TileJob(TileKey("fake", image.key, *GRID, 64, 0, 0), image), never, list)
    (key, message), = record.of("tile_failed")
    assert key.row == 0 and message


def test_whole_image_metrics_resume_after_a_cancel_and_match_a_whole_render():
    run, record = runner()
    hr = smooth_image(*GRID, seed=2)
    image = source()
    job = MetricsJob("fake", image, GroundTruth(2, SourceImage(hr)), 64)
    calls = iter(range(10**6))
    run.run(job, lambda: next(calls) > 10, list)  # stops after a few chunks
    done = len(record.of("progress"))
    assert done and not record.of("metrics_ready")
    run.run(job, never, list)
    (result,), = record.of("metrics_ready")
    assert record.of("progress")[done][1] == done + 1  # resumed: no tile rendered again
    whole = Renderer(FakeMethod()).render(image, *GRID)
    assert math.isclose(result.psnr, metrics.psnr(whole, hr, shave=2, space="y"), rel_tol=1e-6)
    assert math.isclose(result.ssim, metrics.ssim(whole, hr, shave=2, space="y"), rel_tol=1e-6)


def test_an_export_writes_the_render_and_a_cancelled_one_writes_nothing(tmp_path: Path):
    run, record = runner()
    image = source()
    rect = Rect(10, 20, 90, 120)
    path = tmp_path / "out.png"
    run.run_export([ExportItem("fake", image, *GRID, rect, str(path))], never)
    assert record.of("export_finished") == [([str(path)],)]
    expected = to_uint8(Renderer(FakeMethod()).render(image, *GRID, rect))
    assert np.array_equal(load_image(path, levels=True).pixels, expected)
    other = tmp_path / "other.png"
    run.run_export([ExportItem("fake", image, *GRID, rect, str(other))], lambda: True)
    assert record.of("export_failed") == [("Export cancelled. Nothing was written.",)] and not other.exists()
