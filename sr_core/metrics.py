"""Evaluation metrics: PSNR, SSIM and Laplacian sharpness/error.

Two protocols (METHODS_SPEC §5):

- ``'liif'``: float prediction clamped to [0, 1]; Y = BT.601 with the EDSR/LIIF ``/256``
  coefficients, for PSNR computed on the difference image (the +16 offset cancels).
- ``'matlab'``: the classic MATLAB scripts (EDSR/RCAN ``Evaluate_PSNR_SSIM.m``): both images
  quantised to 8 bits (as read from PNG files), Y of ``rgb2ycbcr`` on ``im2double`` images
  (unrounded), compared in the [0, 255] range.

Arrays: numpy images are H×W×C (or H×W); torch tensors are C×H×W or 1×C×H×W. Single-channel
images are evaluated directly, without a Y conversion. All sums accumulate in float64.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

Protocol = Literal["liif", "matlab"]
Space = Literal["y", "rgb"]

_LIIF_Y = np.array([65.738, 129.057, 25.064]) / 256.0
_MATLAB_Y = np.array([65.481, 128.553, 24.966]) / 255.0
_Y_OFFSET = 16.0 / 255.0


def _as_array(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """float64 numpy H×W×C (or H×W) view of a numpy image or a (1×)C×H×W tensor."""
    if isinstance(img, torch.Tensor):
        t = img.detach().to("cpu", torch.float64)
        if t.ndim == 4:
            if t.shape[0] != 1:
                raise ValueError(f"expected a single image, got batch of {t.shape[0]}")
            t = t[0]
        if t.ndim != 3:
            raise ValueError(f"expected a C×H×W tensor, got shape {tuple(img.shape)}")
        return t.permute(1, 2, 0).numpy()
    arr = np.asarray(img)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"expected float pixels in [0, 1], got {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim not in (2, 3):
        raise ValueError(f"expected an H×W or H×W×C image, got shape {arr.shape}")
    return arr


def _is_gray(img: np.ndarray) -> bool:
    return img.ndim == 2 or img.shape[2] == 1


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else img[..., 0]


def y_liif(img: np.ndarray | torch.Tensor, *, offset: bool = False) -> np.ndarray:
    """BT.601 luma with the EDSR/LIIF ``/256`` coefficients on [0, 1] RGB (+16/255 if offset)."""
    y = _as_array(img) @ _LIIF_Y
    return y + _Y_OFFSET if offset else y


def y_matlab(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """Y of MATLAB ``rgb2ycbcr`` on a double [0, 1] RGB image, in [16/255, 235/255], unrounded."""
    return _as_array(img) @ _MATLAB_Y + _Y_OFFSET


def _quantize8(img: np.ndarray) -> np.ndarray:
    """Round to the 8-bit grid (half up, clamped) and return as float in [0, 1]."""
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5) / 255.0


def _shave(img: np.ndarray, shave: int) -> np.ndarray:
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave}")
    if shave == 0:
        return img
    if min(img.shape[:2]) <= 2 * shave:
        raise ValueError(f"image {img.shape[:2]} too small to shave {shave} px per border")
    return img[shave:-shave, shave:-shave]


def _pair(
    pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor, protocol: Protocol
) -> tuple[np.ndarray, np.ndarray]:
    """Both images as float64 arrays; liif clamps pred, matlab quantises both to 8 bits."""
    p, g = _as_array(pred), _as_array(gt)
    if p.shape != g.shape:
        raise ValueError(f"shape mismatch: pred {p.shape} vs gt {g.shape}")
    if protocol == "liif":
        return np.clip(p, 0.0, 1.0), g
    if protocol == "matlab":
        return _quantize8(p), _quantize8(g)
    raise ValueError(f"unknown protocol {protocol!r}")


def _to_space(img: np.ndarray, space: Space, protocol: Protocol) -> np.ndarray:
    """Image in the evaluation space, channels last (H×W×C), in the protocol's range."""
    if space not in ("y", "rgb"):
        raise ValueError(f"unknown space {space!r}")
    if _is_gray(img):
        out = _gray(img)[..., None]
    elif space == "rgb":
        out = img
    elif protocol == "liif":
        out = y_liif(img, offset=True)[..., None]
    else:
        out = y_matlab(img)[..., None]
    return out * 255.0 if protocol == "matlab" else out


def psnr(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    *,
    shave: int,
    space: Space,
    protocol: Protocol = "liif",
) -> float:
    """PSNR in dB with ``shave`` px removed on every border; ``inf`` for identical images.

    liif: Y is taken of the difference image (as in the LIIF code), peak 1.
    matlab: Y of each 8-bit-quantised image via ``rgb2ycbcr`` (double), peak 255.
    """
    p, g = _pair(pred, gt, protocol)
    if protocol == "liif" and space == "y" and not _is_gray(p):
        diff = y_liif(p - g)
        peak = 1.0
    else:
        diff = _to_space(p, space, protocol) - _to_space(g, space, protocol)
        peak = 255.0 if protocol == "matlab" else 1.0
    mse = float(np.mean(np.square(_shave(diff, shave))))
    return math.inf if mse == 0.0 else 10.0 * math.log10(peak * peak / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian (the 2-D window is its outer product)."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter_valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation of an H×W image with ``outer(kernel, kernel)``."""
    n = len(kernel)
    rows = np.lib.stride_tricks.sliding_window_view(img, n, axis=0) @ kernel
    return np.lib.stride_tricks.sliding_window_view(rows, n, axis=1) @ kernel


def _ssim_channel(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """Mean SSIM map of one channel (Gaussian 11/1.5 window, 'valid' filtering)."""
    if min(a.shape) < 11:
        raise ValueError(f"SSIM needs at least 11×11 pixels after shaving, got {a.shape}")
    w = _gaussian_window()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mu_a, mu_b = _filter_valid(a, w), _filter_valid(b, w)
    var_a = _filter_valid(a * a, w) - mu_a * mu_a
    var_b = _filter_valid(b * b, w) - mu_b * mu_b
    cov = _filter_valid(a * b, w) - mu_a * mu_b
    num = (2.0 * mu_a * mu_b + c1) * (2.0 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def ssim(
    pred: np.ndarray | torch.Tensor,
    gt: np.ndarray | torch.Tensor,
    *,
    shave: int,
    space: Space,
    protocol: Protocol = "liif",
) -> float:
    """SSIM (Wang et al.: Gaussian window 11, sigma 1.5, K = 0.01/0.03, 'valid'), mean of the map.

    RGB: average over channels. Y: liif uses the /256 luma with the +16/255 offset on [0, 1]
    (peak 1); matlab uses ``rgb2ycbcr`` Y of the 8-bit-quantised images in [0, 255] (peak 255).
    """
    p, g = _pair(pred, gt, protocol)
    p = _shave(_to_space(p, space, protocol), shave)
    g = _shave(_to_space(g, space, protocol), shave)
    peak = 255.0 if protocol == "matlab" else 1.0
    return float(np.mean([_ssim_channel(p[..., c], g[..., c], peak) for c in range(p.shape[2])]))


def _laplacian_response(img: np.ndarray) -> np.ndarray:
    """3×3 Laplacian ('valid') of the luma (/256 coefficients, no offset) or of a gray image."""
    y = _gray(img) if _is_gray(img) else y_liif(img)
    # the 4-neighbour kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]] as shifted slices (no window product)
    return y[:-2, 1:-1] + y[1:-1, :-2] - 4 * y[1:-1, 1:-1] + y[1:-1, 2:] + y[2:, 1:-1]


def laplacian_sharpness(img: np.ndarray | torch.Tensor) -> float:
    """Mean absolute 3×3 Laplacian response of the luma, on [0, 1] data.

    [INFER] UltraSR (§4.4) reports Laplacian-based sharpness without a formula; this definition
    (mean |∇²Y|, 4-neighbour kernel, 'valid' borders) is our reconstruction.
    """
    return float(np.mean(np.abs(_laplacian_response(_as_array(img)))))


def seam_ratio(img: np.ndarray | torch.Tensor, scale: int, origin: tuple[int, int] = (0, 0)) -> float:
    """How visible the input-pixel grid is in an upscale by the integer ``scale``: the mean
    absolute luma step between neighbours across input-pixel borders, divided by the mean step
    inside input pixels (both axes). ``origin``: the output pixel (row, column) where ``img``
    starts, for a crop. About 1 for a seamless upscale; a mosaic of input-pixel blocks scores
    far above (nearest neighbour: infinite)."""
    if scale < 2:
        raise ValueError(f"a seam ratio needs an integer scale of at least 2, got {scale}")
    arr = _as_array(img)
    y = _gray(arr) if _is_gray(arr) else y_liif(arr)
    border, inside = [], []
    for axis in (0, 1):
        steps = np.moveaxis(np.abs(np.diff(y, axis=axis)), axis, 0)
        at_border = (origin[axis] + np.arange(len(steps)) + 1) % scale == 0
        border.append(steps[at_border].ravel())
        inside.append(steps[~at_border].ravel())
    inside_mean = float(np.concatenate(inside).mean())
    border_mean = float(np.concatenate(border).mean())
    return math.inf if inside_mean == 0 else border_mean / inside_mean


def laplacian_error(
    pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor, *, shave: int = 0
) -> float:
    """Mean absolute difference of the 3×3 Laplacian responses of pred (clamped) and gt.

    [INFER] Our reconstruction of UltraSR's Laplacian error (no formula is published); ``shave``
    px are removed on every border before filtering.
    """
    p, g = _pair(pred, gt, "liif")
    diff = _laplacian_response(_shave(p, shave)) - _laplacian_response(_shave(g, shave))
    return float(np.mean(np.abs(diff)))
