"""The instant preview: the input as QImages, built band by band from the renderer's copy."""

from __future__ import annotations

import numpy as np

from app.render.preview_image import MIN_LEVEL_SIDE, PREVIEW_BAND, build_preview
from sr_core.render import SourceImage


def qimage_rgb(image) -> np.ndarray:
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :3 * image.width()].reshape(image.height(), image.width(), 3)


def test_level_zero_is_the_input_and_levels_halve():
    # odd width: QImage pads each row to 4 bytes; more rows than a band
    u8 = np.random.default_rng(4).integers(0, 256, (PREVIEW_BAND + 300, 2 * MIN_LEVEL_SIDE + 1, 3), dtype=np.uint8)
    preview = build_preview(SourceImage(u8))
    assert np.array_equal(qimage_rgb(preview.levels[0]), u8)
    sizes = [(level.width(), level.height()) for level in preview.levels]
    assert sizes == [(513, 556), (256, 278)]
    assert [(g.width(), g.height()) for g in preview.ghosts] == sizes
    assert preview.pick(0.3) is preview.levels[1] and preview.pick(1.0) is preview.levels[0]
