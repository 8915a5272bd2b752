"""The instant preview: the input as QImages, built band by band from the renderer's copy."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from app.render.preview_image import MIN_LEVEL_SIDE, PREVIEW_BAND, build_preview
from sr_core.render import SourceImage


def qimage_rgb(image) -> np.ndarray:
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :3 * image.width()].reshape(image.height(), image.width(), 3)


def test_level_zero_is_the_input_and_levels_halve():
    # odd width: QImage pads each row to 4 bytes; more rows than a band
    assert 2 * PREVIEW_BAND < 556
    u8 = np.random.default_rng(4).integers(0, 256, (556, 2 * MIN_LEVEL_SIDE + 1, 3), dtype=np.uint8)
    source = SourceImage(u8)
    preview = build_preview(source)
    assert np.array_equal(qimage_rgb(preview.levels[0]), u8)
    sizes = [(level.width(), level.height()) for level in preview.levels]
    assert sizes == [(513, 556), (256, 278)]
    assert preview.pick(0.3) is preview.levels[1] and preview.pick(1.0) is preview.levels[0]
    assert preview.nbytes(source) == 256 * 278 * 3  # level 0 is the source's own pixels
    ghost = preview.pick(0.3, ghost=True)
    assert (ghost.width(), ghost.height()) == sizes[1] and ghost.format() == QImage.Format.Format_Grayscale8
    half = u8[:556, :512].reshape(278, 2, 256, 2, 3).mean(axis=(1, 3))
    assert np.abs(qimage_rgb(preview.levels[1]) - half).max() <= 0.5


def test_other_sources_are_converted_to_8_bits():
    rng = np.random.default_rng(5)
    deep = rng.integers(0, 65536, (40, 30, 3), dtype=np.uint16)
    preview = build_preview(SourceImage(deep))
    expected = (deep.astype(np.float64) / 65535 * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(qimage_rgb(preview.levels[0]), expected)
    rotated = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8).swapaxes(0, 1)  # a view: not C-contiguous
    assert np.array_equal(qimage_rgb(build_preview(SourceImage(rotated)).levels[0]), rotated)
