"""Error heatmaps: |prediction − ground truth| through a perceptual colour scale (no Qt)."""

from __future__ import annotations

import numpy as np

#: mean absolute RGB error (on [0, 1] values) shown at the top of the scale
ERROR_RANGE = 0.1
#: opacity of error-free pixels and of errors at the top of the scale
ALPHA_RANGE = (0.35, 1.0)

# inferno-like anchors: black → purple → red → orange → pale yellow
_ANCHORS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], float)
LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c])
                for c in range(3)], axis=1).round().astype(np.uint8)


def heatmap_rgba(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """uint8 RGBA overlay of the per-pixel error of two H×W×3 [0, 1] arrays."""
    err = np.abs(np.clip(pred, 0, 1) - gt).mean(axis=2)
    t = np.clip(err / ERROR_RANGE, 0.0, 1.0)
    rgba = np.empty((*t.shape, 4), np.uint8)
    rgba[..., :3] = LUT[(t * 255).astype(np.uint8)]
    lo, hi = ALPHA_RANGE
    rgba[..., 3] = ((lo + (hi - lo) * t) * 255).astype(np.uint8)
    return rgba


def legend_rgba() -> np.ndarray:
    """The colour scale as 1×256 uint8 RGBA pixels, low errors on the left."""
    rgba = np.full((1, 256, 4), 255, np.uint8)
    rgba[0, :, :3] = LUT
    return rgba
