"""A large JPEG opens in two steps: its DCT-scaled draft is shown at once, the full decode fills
the document's pixels after; nothing reads them before (no tile, readout, export), and the
memory budget counts the preview pyramid."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from app_fakes import WAIT_MS

import app.model.progressive_open as progressive
from app.model.document import open_document
from app.model.tiles import Placement
from app.render.preview_image import build_preview
from app.render.scheduler import MIN_TILE_BYTES
from sr_core import pixel_file
from sr_core.imaging import ImageLoadError, load_image
from sr_core.render import PixelsPending, SourceImage
from tests.sr_core.photo_files import camera_exif, jpeg_bytes, smooth_rgb16


def _photo(height: int, width: int) -> np.ndarray:
    """Smooth colours with some texture (so that a draft differs from a plain subsampling)."""
    rgb = (smooth_rgb16(height, width) >> 8).astype(np.int16)
    rng = np.random.default_rng(1)
    return np.clip(rgb + rng.integers(-20, 21, rgb.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def big_jpeg(tmp_path, monkeypatch):
    """A 640×480 JPEG that counts as large: drafts keep 150 pixels on the long side (so 1/4)."""
    monkeypatch.setattr(progressive, "DRAFT_SIDE", 150)
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_bytes(_photo(480, 640), quality=92))
    return path


def test_draft_scale_keeps_the_long_side():
    assert progressive.draft_scale(12000, 8400) == 4  # 3000 ≥ 2560 > 1500
    assert progressive.draft_scale(8400, 21000) == 8
    assert progressive.draft_scale(6000, 4000) == 2
    assert progressive.draft_scale(5000, 3000) == 1  # 2500: opened whole


def test_a_large_jpeg_opens_as_its_draft_then_in_full(big_jpeg):
    draft = progressive.open_draft(big_jpeg)
    assert draft is not None and draft.scale == 4
    assert draft.pixels.shape == (120, 160, 3) and draft.doc.size == (640, 480)
    assert "640×480" in draft.doc.description
    source = draft.doc.source
    assert not source.ready and not draft.doc.ready and source.nbytes == 640 * 480 * 3
    with pytest.raises(PixelsPending):
        source.rgb(0, 1)
    full = load_image(big_jpeg, levels=True).pixels
    small = full.reshape(120, 4, 160, 4, 3).mean(axis=(1, 3))
    assert np.abs(draft.pixels.astype(float) - small).mean() < 3  # a downscale of the image
    source.fill(progressive.decode_full(draft.doc))
    assert draft.doc.ready and np.array_equal(source.pixels, full)
    with pytest.raises(ValueError, match="already"):
        source.fill(full)


def test_the_draft_follows_the_exif_orientation(tmp_path, monkeypatch):
    monkeypatch.setattr(progressive, "DRAFT_SIDE", 150)
    path = tmp_path / "turned.jpg"
    path.write_bytes(jpeg_bytes(_photo(480, 640), quality=92, exif=camera_exif(6)))
    draft = progressive.open_draft(path)
    assert draft.doc.size == (480, 640) and draft.pixels.shape == (160, 120, 3)
    draft.doc.source.fill(progressive.decode_full(draft.doc))
    assert np.array_equal(draft.doc.source.pixels, open_document(path).source.pixels)


def test_small_jpegs_and_other_formats_open_whole(tmp_path, big_jpeg, image_file):
    small = tmp_path / "small.jpg"
    small.write_bytes(jpeg_bytes(_photo(200, 280)))  # 280 // 2 < 150
    assert progressive.open_draft(small) is None
    assert progressive.open_draft(image_file) is None  # a PNG


def test_a_changed_file_is_refused(big_jpeg):
    draft = progressive.open_draft(big_jpeg)
    big_jpeg.write_bytes(jpeg_bytes(_photo(400, 640)))
    with pytest.raises(ValueError, match="changed while it was being opened"):
        progressive.decode_full(draft.doc)


def test_the_window_shows_the_draft_and_renders_once_the_pixels_are_there(qtbot, make_window, big_jpeg,
                                                                        monkeypatch):
    release, decodes = threading.Event(), []

    def held_decode(doc):
        release.wait(WAIT_MS / 1000)
        decodes.append(doc.name)
        return progressive.decode_full(doc)

    monkeypatch.setattr("app.ui.opener.decode_full", held_decode)
    window = make_window(image=big_jpeg, panels=["bicubic"])
    doc = window.doc
    assert doc.size == (640, 480) and not doc.ready
    assert window.context.preview.scale == 0.25
    window.view.zoom_to(2.0)
    qtbot.wait(300)  # long enough for tiles, had any been asked for
    scheduler = window.scheduler
    assert scheduler.cache.nbytes == 0 and not scheduler.is_settled()
    window.exporter.choose_export()
    assert "still being decoded" in window.messages.messages()[-1]

    release.set()
    qtbot.waitUntil(lambda: doc.ready, timeout=WAIT_MS)
    qtbot.waitUntil(scheduler.is_settled, timeout=WAIT_MS)
    assert decodes == ["big.jpg"] and window.doc is doc
    assert window.context.preview.scale == 1.0
    assert scheduler.cache.nbytes > 0


def test_the_preview_counts_against_the_tile_budget(qtbot, make_window, big_jpeg):
    window = make_window(image=big_jpeg, panels=["bicubic"])
    qtbot.waitUntil(lambda: window.doc.ready, timeout=WAIT_MS)
    scheduler, preview, doc = window.scheduler, window.context.preview, window.doc
    own = sum(b.nbytes for b in preview.buffers[1:])  # level 0 is the image's own pixels
    assert own > 0 and scheduler.preview_bytes == own == preview.nbytes(doc.source)
    assert scheduler.cache.max_bytes == max(MIN_TILE_BYTES, scheduler.tile_budget - doc.source.nbytes - own)


def test_the_readout_waits_for_the_pixels(big_jpeg):
    from app.model.pixel_readout import format_readout, read_pixel

    draft = progressive.open_draft(big_jpeg)
    place = Placement(480, 640, 0, 0, (640, 480))
    pending = read_pixel(draft.doc, place, 5.0, 5.0)
    assert pending.value is None and "input decoding…" in format_readout(pending)
    draft.doc.source.fill(progressive.decode_full(draft.doc))
    assert read_pixel(draft.doc, place, 5.0, 5.0).value is not None


def test_a_failed_full_decode_is_said_and_renders_nothing(qtbot, make_window, big_jpeg, monkeypatch):
    def broken(doc):
        raise ImageLoadError(f"{doc.name}: the file is truncated or corrupt (test).")

    monkeypatch.setattr("app.ui.opener.decode_full", broken)
    window = make_window(image=big_jpeg, panels=["bicubic"])
    qtbot.waitUntil(lambda: len(window.messages.messages()) == 1, timeout=WAIT_MS)
    assert window.messages.messages()[0].startswith("big.jpg: the file is truncated")
    window.view.zoom_to(2.0)
    qtbot.wait(200)
    assert not window.doc.ready and window.scheduler.cache.nbytes == 0 and not window.loading


def test_the_draft_is_the_quarter_when_the_side_is_not_a_multiple_of_four(tmp_path, monkeypatch):
    monkeypatch.setattr(progressive, "DRAFT_SIDE", 150)
    path = tmp_path / "odd.jpg"
    path.write_bytes(jpeg_bytes(_photo(478, 641), quality=92))  # libjpeg's 1/4: 120 × 161
    draft = progressive.open_draft(path)
    assert draft.scale == 4 and draft.pixels.shape == (120, 161, 3)  # not the 1/2 draft (4× the memory)


def test_a_very_large_jpeg_is_read_from_a_mapped_file(big_jpeg, monkeypatch, tmp_path):
    monkeypatch.setattr(pixel_file, "MIN_BYTES", 0)  # the 640×480 JPEG counts as very large
    monkeypatch.setattr(pixel_file, "folder", lambda: tmp_path)
    draft = progressive.open_draft(big_jpeg)
    pixels = progressive.decode_full(draft.doc)
    in_memory = load_image(big_jpeg, levels=True).pixels
    assert pixel_file.is_mapped(pixels) and np.array_equal(pixels, in_memory)
    draft.doc.source.fill(pixels)
    assert draft.doc.source.nbytes == 0  # the tiles keep their whole budget
    mapped, reference = build_preview(draft.doc.source), build_preview(SourceImage(in_memory))
    assert len(mapped.buffers) == len(reference.buffers)
    assert all(np.array_equal(a, b) for a, b in zip(mapped.buffers, reference.buffers))
    assert mapped.levels[0].pixelColor(37, 21) == reference.levels[0].pixelColor(37, 21)  # the QImage reads the file
    assert all(pixel_file.is_mapped(b) and not b.flags.writeable for b in mapped.buffers)  # the pyramid too
    assert mapped.nbytes(draft.doc.source) == 0 < reference.nbytes(SourceImage(in_memory))
    assert mapped.reads_file(1.0) and not reference.reads_file(1.0)
