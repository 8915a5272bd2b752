"""Nearest neighbour: the LR pixels, replicated, through the renderer like every method."""

import numpy as np
import pytest

from sr_core.methods.bicubic import Bicubic
from sr_core.methods.nearest import Nearest
from sr_core.registry import METHODS, load_method, method_status
from sr_core.render import Rect, Renderer, SourceImage, output_size


def rng_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def home(out_n: int, lr_n: int) -> np.ndarray:
    """The definition: floor((i + 0.5)·lr_n/out_n) clamped to lr_n − 1, in float64 numpy."""
    return np.minimum(np.floor((np.arange(out_n) + 0.5) * lr_n / out_n).astype(int), lr_n - 1)


def test_integer_scale_repeats_every_pixel():
    lr = rng_image(7, 9)
    out = Renderer(Nearest()).render(SourceImage(lr), 21, 27)
    expected = np.repeat(np.repeat(lr, 3, axis=0), 3, axis=1)
    assert out.dtype == np.float32 and out.shape == expected.shape
    assert np.abs(out - expected).max() <= 1e-6


def test_ties_take_the_lower_right_pixel():
    """4 → 6 rows and 6 → 9 columns (×1.5): some output centres lie on LR pixel edges."""
    lr = rng_image(4, 6)
    out = Renderer(Nearest()).render(SourceImage(lr), 6, 9)
    rows, cols = [0, 1, 1, 2, 3, 3], [0, 1, 1, 2, 3, 3, 4, 5, 5]
    assert np.abs(out - lr[np.ix_(rows, cols)]).max() <= 1e-6


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.7, 11.3])
def test_non_integer_scale_matches_the_formula(scale):
    lr = rng_image(19, 23, seed=2)
    out_h, out_w = output_size(19, 23, scale)
    out = Renderer(Nearest()).render(SourceImage(lr), out_h, out_w)
    expected = lr[np.ix_(home(out_h, 19), home(out_w, 23))]
    assert np.abs(out - expected).max() <= 1e-6


@pytest.mark.parametrize("scale", [1.5, 4.2])
def test_tiles_equal_the_whole_image_exactly(scale):
    image = SourceImage(rng_image(19, 23, seed=3))
    out_h, out_w = output_size(19, 23, scale)
    full = Renderer(Nearest()).render(image, out_h, out_w)
    renderer = Renderer(Nearest(), block=7)
    for rect in (Rect(0, 0, 5, 8), Rect(3, 11, out_h, out_w - 1), Rect(out_h - 1, 2, out_h, 3)):
        tile = renderer.render(image, out_h, out_w, rect)
        assert np.array_equal(tile, full[rect.top:rect.bottom, rect.left:rect.right]), rect


def test_uint8_and_float64_inputs():
    lr8 = np.random.default_rng(4).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    out = Renderer(Nearest()).render(SourceImage(lr8), 20, 24)
    assert np.array_equal(np.rint(out * 255).astype(np.uint8), np.repeat(np.repeat(lr8, 4, 0), 4, 1))
    lr64 = lr8.astype(np.float64) / 255
    out64 = Renderer(Nearest()).render(SourceImage(lr64), 20, 24)
    assert out64.dtype == np.float32
    assert np.abs(out64 - np.repeat(np.repeat(lr64, 4, 0), 4, 1)).max() <= 1e-6


def test_below_one_it_is_the_bicubic_downscale_like_every_method():
    image = SourceImage(rng_image(19, 23, seed=5))
    out_h, out_w = output_size(19, 23, 0.6)
    got = Renderer(Nearest()).render(image, out_h, out_w)
    assert np.array_equal(got, Renderer(Bicubic()).render(image, out_h, out_w))


def test_available_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOOMSR_CHECKPOINTS", str(tmp_path / "none"))
    assert not METHODS["nearest"].needs_weights
    status = method_status("nearest")
    assert status.available and status.checkpoint is None
    model, meta = load_method("nearest")
    assert isinstance(model, Nearest) and meta["trained"] is True
    assert not any(True for _ in model.parameters())
