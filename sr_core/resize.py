"""MATLAB-compatible bicubic ``imresize``.

Reproduces MATLAB's ``imresize(img, scale)`` with the default ``'bicubic'`` method:
cubic kernel with a = -0.5, antialiasing when downscaling, MATLAB's index mapping and
mirrored borders, and (for uint8 input) rounding to uint8 after each 1-D pass. The weights
come from one place, :func:`_contributions`, shared by :func:`imresize` and
:func:`resize_matrix`.
"""

from __future__ import annotations

import math

import numpy as np

_KERNEL_WIDTH = 4.0


def _cubic(x: np.ndarray) -> np.ndarray:
    """MATLAB's bicubic kernel (a = -0.5)."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def _contributions(
    in_size: int, scale: float, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0-based input indices (both ``len(rows) x P``) like MATLAB's ``contributions()``.

    Mirrored border indices are mapped into range; columns whose weights are all zero are dropped.
    """
    if scale < 1:  # antialiasing: stretch the kernel by 1/scale
        def kernel(x: np.ndarray) -> np.ndarray:
            return scale * _cubic(scale * x)

        kernel_width = _KERNEL_WIDTH / scale
    else:
        kernel = _cubic
        kernel_width = _KERNEL_WIDTH
    x = rows.astype(np.float64) + 1.0  # MATLAB's output indices are 1-based
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps)
    weights = kernel(u[:, None] - indices)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_size), np.arange(in_size)[::-1]])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_size)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _check_sizes(in_size: int, out_size: int, scale: float) -> None:
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got in={in_size}, out={out_size}")
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive finite number, got {scale}")


def resize_matrix(
    in_size: int,
    out_size: int,
    scale: float | None = None,
    rows: np.ndarray | None = None,
    window: tuple[int, int] | None = None,
) -> np.ndarray:
    """Dense ``len(rows) x in_size`` float64 weights of a 1-D bicubic resize.

    ``rows`` are 0-based output indices (default: all ``out_size``); ``scale`` defaults to
    ``out_size / in_size``. Mirrored border contributions are folded into the in-range columns,
    so ``resize_matrix(...) @ signal`` equals the float :func:`imresize` along that axis.
    ``window = (start, size)`` keeps only input columns ``[start, start + size)`` (the others'
    weights are dropped), without building the full matrix.
    """
    scale = out_size / in_size if scale is None else float(scale)
    _check_sizes(in_size, out_size, scale)
    rows = np.arange(out_size) if rows is None else np.asarray(rows, dtype=np.int64)
    weights, indices = _contributions(in_size, scale, rows)
    start, size = window or (0, in_size)
    inside = (indices >= start) & (indices < start + size)
    matrix = np.zeros((len(rows), size), dtype=np.float64)
    np.add.at(matrix, (np.arange(len(rows))[:, None], np.where(inside, indices - start, 0)), weights * inside)
    return matrix


def _resize_axis(
    img: np.ndarray, axis: int, out_size: int, scale: float, quantize: bool
) -> np.ndarray:
    """One 1-D pass along ``axis``, computed in float64 (rounded to uint8 if asked)."""
    _check_sizes(img.shape[axis], out_size, scale)
    weights, indices = _contributions(img.shape[axis], scale, np.arange(out_size))
    src = np.moveaxis(img, axis, 0)
    extra = (1,) * (src.ndim - 1)
    out = np.zeros((out_size, *src.shape[1:]), dtype=np.float64)
    for tap in range(weights.shape[1]):  # accumulate tap by tap, like MATLAB's mex
        out += weights[:, tap].reshape(-1, *extra) * src[indices[:, tap]]
    if quantize:  # round half away from zero, then saturate (negatives clip to 0 anyway)
        out = np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)
    return np.moveaxis(out, 0, axis)


def imresize(
    img: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Resize an H×W or H×W×C image like MATLAB's bicubic ``imresize``.

    Give ``scale`` (output size ``ceil(in * scale)``), ``output_shape`` (per-axis scale
    ``out / in``), or both (``scale`` drives the sampling, ``output_shape`` the size).
    uint8 input is rounded and clipped to uint8 after each 1-D pass (bit-exact with MATLAB);
    float input stays float, unrounded and unclipped. The axis with the smaller scale is
    resized first, rows first on ties.
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an H×W or H×W×C image, got shape {img.shape}")
    is_uint8 = img.dtype == np.uint8
    if not is_uint8 and img.dtype not in (np.float32, np.float64):
        raise ValueError(f"expected uint8, float32 or float64 pixels, got {img.dtype}")
    in_shape = img.shape[:2]
    if scale is None and output_shape is None:
        raise ValueError("give scale, output_shape or both")
    if output_shape is None:
        out_shape = tuple(math.ceil(n * scale) for n in in_shape)
    else:
        out_shape = tuple(int(n) for n in output_shape)
    if scale is None:
        scales = tuple(o / n for o, n in zip(out_shape, in_shape))
    else:
        scales = (float(scale), float(scale))
    order = sorted(range(2), key=lambda axis: scales[axis])  # stable: rows first on ties
    out = img
    for axis in order:
        out = _resize_axis(out, axis, out_shape[axis], scales[axis], is_uint8)
    return out if is_uint8 else out.astype(img.dtype, copy=False)
