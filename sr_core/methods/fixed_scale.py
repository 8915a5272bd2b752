"""A fixed-scale super-resolution network (a user's Real-ESRGAN, SwinIR, SPAN …) as a method.

Such a network maps an LR crop to its ×N image. Through ZoomSR's one door it is an *encoder*
whose features are that ×N image folded into ``3·N²`` channels per LR pixel
(``pixel_unshuffle``): the renderer then runs it only on the LR region a view needs, in tiles
with a halo, and caches the tiles like any encoder's. ``query`` resamples the ×N image to the
view's output grid: an area filter below ×N, MATLAB's bicubic above (identity at ×N).

The halo is not the network's whole receptive field (hundreds of pixels for a deep CNN) but
``HALO`` LR pixels, more than Real-ESRGAN's own tiled inference uses (10); pieces start on
multiples of the attention window, so that window-attention models (SwinIR, HAT) partition a
tile as they partition the whole image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from sr_core.coords import Queries
from sr_core.memory import available_bytes
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, denormalize, normalize
from sr_core.resize import resize_matrix

#: LR pixels of context around every encoded piece
HALO = 32
#: floats held per LR pixel per channel of the widest layer while a network runs, counting
#: its layers at ×N resolution (a conservative estimate: ESRGAN ×4 peaks near 40 per channel)
ACTIVATION_FACTOR = 8
#: the share of the free memory one piece may take
MEMORY_SHARE = 4
#: the smallest and largest side of an encoded piece (LR pixels, halo included)
PIECE_LIMITS = (96, 640)

#: a spandrel-style call: ``(image in [0, 1]) -> image ×N in [0, 1]``
Network = Callable[[Tensor], Tensor]


class _Network(nn.Module):
    """The network as an encoder: normalised LR → its ×N image, folded into LR-sized channels."""

    def __init__(self, net: nn.Module, call: Network, scale: int, radius: int) -> None:
        super().__init__()
        self.net = net
        self.call = call
        self.scale = scale
        self.radius = radius
        self.out_dim = 3 * scale * scale

    def forward(self, lr: Tensor) -> Tensor:
        hr = self.call(denormalize(lr.clone()))
        return F.pixel_unshuffle(normalize(hr), self.scale)


class FixedScale(SRMethod):
    """A network that upscales by exactly ``scale``, resampled to any zoom."""

    arch = "fixed-scale"
    #: the resampling weights of a block's rows and columns are its cost: one call per block
    chunked: ClassVar[bool] = False

    def __init__(self, net: nn.Module, call: Network, scale: int, *, align: int = 1,
                 widest: int = 64) -> None:
        """``call`` runs ``net`` on an image in [0, 1] (padding it as the architecture needs);
        pieces start on multiples of ``align``; ``widest`` is the most channels of any layer."""
        super().__init__()
        if not 2 <= scale <= 16:
            raise ValueError(f"a fixed-scale model upscales ×2 to ×16, not ×{scale}")
        self.scale = scale
        self.tile_multiple = align
        self.encoder = _Network(net, call, scale, math.ceil(HALO / align) * align)
        self.widest = widest

    def config(self) -> dict[str, Any]:
        """Its rendering settings, for reports: a user model is rebuilt from its file
        (``sr_core.user_models.load``), not from these."""
        return {"scale": self.scale, "halo": self.encoder_radius, "align": self.tile_multiple}

    @property
    def max_piece(self) -> int:
        """The largest piece side (LR pixels) whose activations fit a share of the free memory."""
        weight = next(self.parameters())
        if weight.device.type == "cuda":
            free = torch.cuda.mem_get_info(weight.device)[0]
        else:
            free = available_bytes() or 4 * 2**30
        per_pixel = weight.element_size() * self.widest * ACTIVATION_FACTOR * (1 + self.scale ** 2)
        side = int(math.sqrt(free / MEMORY_SHARE / per_pixel))
        return min(max(side, PIECE_LIMITS[0]), PIECE_LIMITS[1])

    def query_margin(self, scale: float) -> int:
        # bicubic above ×N reads 2 pixels of the ×N image; the area filter below it 1/(2·scale)
        # LR pixels; the bicubic bound covers both
        return math.ceil(2 / min(scale, self.scale)) + 1

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        return FeatureCrop({"hr": F.pixel_shuffle(feat.float(), self.scale)}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        out_h, out_w = int(q.out_h[0]), int(q.out_w[0])
        hr, g, n = fc.tensors["hr"], fc.geom, self.scale
        rows, inv_y = torch.unique(q.iy, return_inverse=True)
        cols, inv_x = torch.unique(q.ix, return_inverse=True)
        wy = _weights(g.lr_h * n, out_h, rows, g.y0 * n, hr.shape[-2], hr.device)
        wx = _weights(g.lr_w * n, out_w, cols, g.x0 * n, hr.shape[-1], hr.device)
        grid = torch.einsum("yh,bchw,xw->bcyx", wy, hr, wx)
        b = torch.arange(hr.shape[0], device=hr.device)[:, None]
        return grid[b, :, inv_y, inv_x]


def _weights(in_n: int, out_n: int, index: Tensor, start: int, size: int, device: torch.device) -> Tensor:
    """Weights of output rows ``index`` over input rows ``[start, start + size)``."""
    rows, window = index.cpu().numpy(), (start, size)
    if out_n < in_n:
        matrix = area_matrix(in_n, out_n, rows, window)
    else:
        matrix = resize_matrix(in_n, out_n, rows=rows, window=window)
    return torch.from_numpy(matrix).to(device=device, dtype=torch.float32)


def area_matrix(in_n: int, out_n: int, rows: np.ndarray, window: tuple[int, int] | None = None) -> np.ndarray:
    """``len(rows) × in_n`` weights of an area (box) downscale: output pixel ``i`` averages the
    input over ``[i, i + 1) · in_n / out_n``, each input pixel weighted by its overlap.
    ``window = (start, size)`` keeps only input columns ``[start, start + size)``."""
    start, size = window or (0, in_n)
    ratio = in_n / out_n
    lo, hi = rows * ratio, (rows + 1) * ratio
    index = np.floor(lo).astype(np.int64)[:, None] + np.arange(math.ceil(ratio) + 1)
    overlap = np.clip(np.minimum(index + 1, hi[:, None]) - np.maximum(index, lo[:, None]), 0, None)
    inside = (index >= start) & (index < start + size)
    matrix = np.zeros((len(rows), size))
    np.add.at(matrix, (np.arange(len(rows))[:, None], np.where(inside, index - start, 0)), overlap * inside / ratio)
    return matrix
