"""PSNR/SSIM of the part of a render that a panel shows, against the ground truth (no Qt)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sr_core import metrics
from sr_core.geometry import Rect

#: SSIM's Gaussian window needs at least this many pixels per side
MIN_SSIM_SIDE = 11


@dataclass(frozen=True)
class RegionMetrics:
    """Metrics of ground-truth grid pixels ``region`` (Y channel, no border shaved)."""

    region: Rect
    psnr: float
    ssim: float


def assemble(region: Rect, tiles: list[tuple[Rect, np.ndarray]]) -> np.ndarray:
    """The pixels of ``region`` cut from tiles ``(rect, pixels)`` that cover it."""
    out = np.zeros((region.height, region.width, 3), np.float32)
    for rect, pixels in tiles:
        top, bottom = max(rect.top, region.top), min(rect.bottom, region.bottom)
        left, right = max(rect.left, region.left), min(rect.right, region.right)
        if top < bottom and left < right:
            out[top - region.top:bottom - region.top, left - region.left:right - region.left] = \
                pixels[top - rect.top:bottom - rect.top, left - rect.left:right - rect.left]
    return out


def region_metrics(region: Rect, tiles: list[tuple[Rect, np.ndarray]], truth: np.ndarray) -> RegionMetrics:
    """PSNR and SSIM (NaN when the region is too small for SSIM) of the tiles over ``region``
    against ``truth``, the reference's pixels of ``region``."""
    pred = assemble(region, tiles)
    psnr = metrics.psnr(pred, truth, shave=0, space="y")
    small = min(region.height, region.width) < MIN_SSIM_SIDE
    ssim = math.nan if small else metrics.ssim(pred, truth, shave=0, space="y")
    return RegionMetrics(region, psnr, ssim)
