"""Tests for the MATLAB-compatible bicubic imresize."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sr_core.resize import imresize, resize_matrix

SET5 = ("baby", "bird", "butterfly", "head", "woman")


def _set5_pair(root: Path, name: str, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(mod-cropped uint8 HR, reference LR) of a Set5 image."""
    hr = np.asarray(Image.open(root / "val/Set5/HR" / f"{name}.png").convert("RGB"))
    h, w = hr.shape[:2]
    lr_path = root / f"val/Set5/LR_bicubic/X{scale}/{name}x{scale}.png"
    if not lr_path.is_file():
        pytest.skip(f"{lr_path} not available")
    return hr[: h - h % scale, : w - w % scale], np.asarray(Image.open(lr_path).convert("RGB"))


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", SET5)
def test_matches_matlab_lr_bicubic(shared_data: Path, name: str, scale: int) -> None:
    hr, ref = _set5_pair(shared_data, name, scale)
    lr = imresize(hr, scale=1 / scale)
    assert lr.dtype == np.uint8
    np.testing.assert_array_equal(lr, ref)


@pytest.mark.parametrize("name", SET5)
def test_x8_matches_double_precision_resize(shared_data: Path, name: str) -> None:
    """The X8 set was made from a double image, rounded once at the end (not per pass)."""
    hr, ref = _set5_pair(shared_data, name, 8)
    lr = imresize(hr.astype(np.float64), scale=1 / 8)
    np.testing.assert_array_equal(np.clip(np.floor(lr + 0.5), 0, 255).astype(np.uint8), ref)
    assert np.any(imresize(hr, scale=1 / 8) != ref)  # the uint8 path rounds after each pass


def test_output_shapes() -> None:
    img = np.zeros((10, 7, 3), np.uint8)
    assert imresize(img, scale=2).shape == (20, 14, 3)
    assert imresize(img, scale=1 / 3).shape == (4, 3, 3)
    assert imresize(img, scale=2.5).shape == (25, 18, 3)
    assert imresize(img[..., 0], output_shape=(5, 9)).shape == (5, 9)
    assert imresize(img, scale=0.5, output_shape=(6, 4)).shape == (6, 4, 3)


def test_constant_image_stays_constant() -> None:
    for scale in (2, 3.7, 0.5, 1 / 3):
        out = imresize(np.full((13, 9, 3), 117, np.uint8), scale=scale)
        assert np.all(out == 117)
        out = imresize(np.full((13, 9), 0.25, np.float32), scale=scale)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, 0.25, atol=1e-6)


def test_identity_scale() -> None:
    img = np.random.default_rng(0).integers(0, 256, (11, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(imresize(img, scale=1), img)


def test_float_path_matches_uint8_path() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    # One 1-D pass (the other axis keeps its size): uint8 = float rounded, within 0.5 grey level.
    as_uint8 = imresize(img, output_shape=(32, 12)).astype(np.float64)
    as_float = imresize(img.astype(np.float64), output_shape=(32, 12))
    assert as_float.dtype == np.float64
    inside = (as_float > -0.5) & (as_float < 255.5)
    assert np.max(np.abs(as_uint8 - as_float)[inside]) <= 0.5 + 1e-9
    np.testing.assert_array_equal(as_uint8, np.clip(np.floor(as_float + 0.5), 0, 255))
    # Two passes without clipping: the first rounding error (<= 0.5) is spread by the second
    # pass's weights, whose absolute values sum to at most ``l1`` per row.
    img = rng.integers(64, 192, (16, 12, 3), dtype=np.uint8)
    l1 = np.abs(resize_matrix(12, 24)).sum(axis=1).max()
    diff = imresize(img, scale=2).astype(np.float64) - imresize(img.astype(np.float64), scale=2)
    assert np.max(np.abs(diff)) <= 0.5 + 0.5 * l1 + 1e-9


def test_float_path_is_unclipped() -> None:
    img = np.zeros((8, 8), np.float64)
    img[:, 4:] = 1.0
    out = imresize(img, scale=2)
    assert out.min() < 0 and out.max() > 1  # bicubic overshoot is kept


def test_upscale_then_downscale_interpolates_smooth_data() -> None:
    y, x = np.mgrid[0:32, 0:32] / 32.0
    img = np.sin(2 * x) * np.cos(3 * y)
    back = imresize(imresize(img, scale=2), scale=0.5)
    np.testing.assert_allclose(back[4:-4, 4:-4], img[4:-4, 4:-4], atol=2e-3)


@pytest.mark.parametrize(
    ("n_in", "n_out", "scale"), [(10, 20, None), (10, 37, None), (24, 8, 1 / 3), (9, 9, None)]
)
def test_resize_matrix_rows_sum_to_one(n_in: int, n_out: int, scale: float | None) -> None:
    m = resize_matrix(n_in, n_out, scale)
    assert m.shape == (n_out, n_in) and m.dtype == np.float64
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)


def test_resize_matrix_row_subset() -> None:
    full = resize_matrix(17, 53)
    rows = np.array([0, 1, 25, 51, 52])
    np.testing.assert_array_equal(resize_matrix(17, 53, rows=rows), full[rows])


def test_resize_matrix_matches_float_imresize() -> None:
    img = np.random.default_rng(2).random((9, 14))
    out = imresize(img, output_shape=(21, 5))
    expected = resize_matrix(9, 21) @ img @ resize_matrix(14, 5).T
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_resize_matrix_explicit_scale() -> None:
    """An explicit scale changes the sampling positions, not only the size."""
    a = resize_matrix(10, 30, scale=3.0)
    b = resize_matrix(10, 30, scale=2.9)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, resize_matrix(10, 30))


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4), np.int32), scale=2)
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        resize_matrix(4, 0)
