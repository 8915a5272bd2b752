"""Tests for PSNR/SSIM/Laplacian metrics, including the published bicubic benchmark numbers."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sr_core.metrics import (
    laplacian_error,
    laplacian_sharpness,
    psnr,
    seam_ratio,
    ssim,
    y_liif,
    y_matlab,
)
from sr_core.resize import imresize


def _random_image(seed: int, shape: tuple[int, ...] = (24, 20, 3)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


def test_psnr_identical_is_inf() -> None:
    img = _random_image(0)
    for protocol in ("liif", "matlab"):
        for space in ("y", "rgb"):
            assert psnr(img, img, shave=2, space=space, protocol=protocol) == math.inf


def test_psnr_known_mse() -> None:
    gt = np.full((10, 10, 3), 0.5)
    pred = gt + 0.01  # MSE 1e-4 -> 40 dB
    assert psnr(pred, gt, shave=0, space="rgb") == pytest.approx(40.0)
    y_gain = sum([65.738, 129.057, 25.064]) / 256  # Y of a uniform difference
    expected = -20 * math.log10(0.01 * y_gain)
    assert psnr(pred, gt, shave=0, space="y") == pytest.approx(expected)


def test_psnr_shave_ignores_borders() -> None:
    gt = np.full((12, 12, 3), 0.5)
    pred = gt.copy()
    pred[:2] = 0.9
    pred[:, -2:] = 0.1
    assert psnr(pred, gt, shave=2, space="rgb") == math.inf
    assert psnr(pred, gt, shave=1, space="rgb") < 30
    with pytest.raises(ValueError):
        psnr(pred, gt, shave=6, space="rgb")


def test_psnr_liif_clamps_prediction() -> None:
    gt = np.ones((8, 8, 3))
    assert psnr(gt + 0.5, gt, shave=0, space="rgb") == math.inf


def test_psnr_y_vs_rgb() -> None:
    gt = np.full((8, 8, 3), 0.5)
    pred = gt.copy()
    pred[..., 0] += 0.1
    pred[..., 1] -= 0.1 * 65.738 / 129.057  # chosen so that the Y difference is zero
    assert psnr(pred, gt, shave=0, space="y") > 250
    assert psnr(pred, gt, shave=0, space="rgb") < 30


def test_psnr_matlab_quantises_prediction() -> None:
    gt = np.round(_random_image(1) * 255) / 255
    assert psnr(gt + 0.4 / 255, gt, shave=0, space="rgb", protocol="matlab") == math.inf
    assert psnr(gt + 0.4 / 255, gt, shave=0, space="rgb", protocol="liif") < math.inf


def test_psnr_accepts_torch_chw() -> None:
    pred, gt = _random_image(2), _random_image(3)
    expected = psnr(pred, gt, shave=1, space="y")
    as_tensor = torch.from_numpy(pred).permute(2, 0, 1)[None]
    gt_tensor = torch.from_numpy(gt).permute(2, 0, 1)
    assert psnr(as_tensor, gt_tensor, shave=1, space="y") == pytest.approx(expected)


def test_rejects_integer_pixels() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="float"):
        psnr(img, img, shave=0, space="rgb")


def test_gray_images_are_evaluated_directly() -> None:
    gt, pred = _random_image(4, (16, 16)), _random_image(5, (16, 16))
    mse = np.mean((pred - gt) ** 2)
    expected = -10 * math.log10(mse)
    assert psnr(pred, gt, shave=0, space="y") == pytest.approx(expected)
    assert psnr(pred[..., None], gt[..., None], shave=0, space="y") == pytest.approx(expected)


def test_y_conversions() -> None:
    white, black = np.ones((1, 1, 3)), np.zeros((1, 1, 3))
    assert y_matlab(white)[0, 0] * 255 == pytest.approx(235.0)
    assert y_matlab(black)[0, 0] * 255 == pytest.approx(16.0)
    assert y_liif(white)[0, 0] == pytest.approx(219.859 / 256)
    assert y_liif(black, offset=True)[0, 0] == pytest.approx(16 / 255)


def test_ssim_identical_is_one() -> None:
    img = _random_image(6)
    for protocol in ("liif", "matlab"):
        for space in ("y", "rgb"):
            assert ssim(img, img, shave=1, space=space, protocol=protocol) == pytest.approx(1.0)


def test_ssim_decreases_with_noise() -> None:
    y, x = np.mgrid[0:40, 0:40] / 40.0
    gt = np.stack([np.sin(4 * x) * 0.4 + 0.5, x, y], axis=2)
    rng = np.random.default_rng(7)
    scores = [
        ssim(gt + rng.normal(0, sigma, gt.shape), gt, shave=0, space="rgb")
        for sigma in (0.01, 0.05, 0.2)
    ]
    assert 1 > scores[0] > scores[1] > scores[2]


def _reference_ssim(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """Direct per-window SSIM with a 2-D Gaussian window, written independently of the module."""
    r = np.arange(11) - 5
    window = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 1.5**2))
    window /= window.sum()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    values = []
    for i in range(a.shape[0] - 10):
        for j in range(a.shape[1] - 10):
            pa, pb = a[i : i + 11, j : j + 11], b[i : i + 11, j : j + 11]
            ma, mb = (window * pa).sum(), (window * pb).sum()
            va = (window * (pa - ma) ** 2).sum()
            vb = (window * (pb - mb) ** 2).sum()
            cov = (window * (pa - ma) * (pb - mb)).sum()
            num = (2 * ma * mb + c1) * (2 * cov + c2)
            values.append(num / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


def test_ssim_matches_reference_implementation() -> None:
    gt = _random_image(8, (18, 21, 3))
    pred = np.clip(gt + np.random.default_rng(9).normal(0, 0.1, gt.shape), 0, 1)
    expected_rgb = np.mean([_reference_ssim(pred[..., c], gt[..., c], 1.0) for c in range(3)])
    assert ssim(pred, gt, shave=0, space="rgb") == pytest.approx(expected_rgb, abs=1e-10)
    expected_y = _reference_ssim(y_liif(pred, offset=True), y_liif(gt, offset=True), 1.0)
    assert ssim(pred, gt, shave=0, space="y") == pytest.approx(expected_y, abs=1e-10)
    p8 = np.floor(pred * 255 + 0.5) / 255
    g8 = np.floor(gt * 255 + 0.5) / 255
    expected_m = _reference_ssim(
        y_matlab(p8)[1:-1, 1:-1] * 255, y_matlab(g8)[1:-1, 1:-1] * 255, 255.0
    )
    result = ssim(pred, gt, shave=1, space="y", protocol="matlab")
    assert result == pytest.approx(expected_m, abs=1e-10)


def test_laplacian_measures() -> None:
    y, x = np.mgrid[0:20, 0:20] / 20.0
    flat = np.full((20, 20, 3), 0.3)
    ramp = np.stack([x + y] * 3, axis=2) / 2  # linear: zero Laplacian
    checker = np.stack([((np.indices((20, 20)).sum(0) % 2) * 1.0)] * 3, axis=2)
    assert laplacian_sharpness(flat) == pytest.approx(0.0)
    assert laplacian_sharpness(ramp) == pytest.approx(0.0, abs=1e-12)
    assert laplacian_sharpness(checker) == pytest.approx(4 * 219.859 / 256)
    assert laplacian_error(ramp, flat) == pytest.approx(0.0, abs=1e-12)
    assert laplacian_error(checker, flat, shave=2) == pytest.approx(4 * 219.859 / 256)


# Bicubic baselines as published (EDSR, RCAN, LIIF tables): Set5 and Set14, x2/x3/x4.
PUBLISHED_BICUBIC = {"Set5": (33.66, 30.39, 28.42), "Set14": (30.24, 27.55, 26.00)}


@pytest.mark.parametrize("dataset", sorted(PUBLISHED_BICUBIC))
def test_published_bicubic_psnr_matlab_protocol(shared_data: Path, dataset: str) -> None:
    files = sorted((shared_data / "val" / dataset / "HR").glob("*.png"))
    if not files:
        pytest.skip(f"no {dataset} HR images under {shared_data}")
    hrs = [np.asarray(Image.open(f)) for f in files]  # grayscale files stay single-channel
    for scale, published in zip((2, 3, 4), PUBLISHED_BICUBIC[dataset]):
        values = []
        for hr in hrs:
            h, w = hr.shape[:2]
            hr = hr[: h - h % scale, : w - w % scale]
            sr = imresize(imresize(hr, scale=1 / scale), scale=scale)
            values.append(psnr(sr / 255, hr / 255, shave=scale, space="y", protocol="matlab"))
        assert np.mean(values) == pytest.approx(published, abs=0.03), (dataset, scale)


def test_seam_ratio_tells_a_mosaic_of_input_pixels_from_a_smooth_upscale() -> None:
    """Nearest neighbour steps only at input-pixel borders (infinite); MATLAB bicubic of a smooth
    image steps evenly (about 1); blocks that are only partly smoothed fall in between."""
    y, x = np.mgrid[0:16, 0:20] / 4.0
    lr = np.stack([0.5 + 0.4 * np.sin(x + c) * np.cos(y - c) for c in range(3)], axis=2)
    nearest = lr.repeat(6, axis=0).repeat(6, axis=1)
    smooth = imresize(lr, scale=6)
    assert seam_ratio(nearest, 6) == math.inf
    assert 0.7 < seam_ratio(smooth, 6) < 1.3
    assert 2 < seam_ratio(0.5 * nearest + 0.5 * smooth, 6) < math.inf
    assert seam_ratio(nearest[4:, 9:], 6, origin=(4, 9)) == math.inf  # a crop keeps the grid
    assert seam_ratio(nearest[4:, 9:], 6) < math.inf  # unless told where it starts
    with pytest.raises(ValueError, match="at least 2"):
        seam_ratio(smooth, 1)
