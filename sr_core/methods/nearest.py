"""Nearest neighbour: the input pixels themselves, replicated, next to the SR results.

Output pixel ``(i, j)`` of an ``H × W → h × w`` render is LR pixel
``(floor((i + ½)·H/h), floor((j + ½)·W/w))``: the LR pixel whose area contains the output
pixel's centre in LIIF coordinates (``sr_core.coords.home_index``, integer math). The index
never exceeds ``H − 1`` (``i ≤ h − 1`` gives ``(i + ½)·H/h < H``), so the clamp to ``H − 1``
of the usual definition never acts. Ties: a centre exactly on the edge between LR pixels
``k − 1`` and ``k`` takes ``k`` (LR pixel areas are half-open, ``[k, k + 1)``); ties occur at
non-integer scales only (e.g. 4 → 6 px), so an integer scale ``s`` repeats every pixel
exactly ``s × s`` times. PyTorch's ``interpolate(mode="nearest-exact")`` is the same rule in
floating point, which sometimes sends a tie to ``k − 1``; ``grid_sample(mode="nearest")``
rounds ties half to even.

Below ×1 the renderer shows the bicubic downscale, as for every method. The values are the
input's, unrounded (float32, as the renderer holds the image).
"""

from __future__ import annotations

from torch import Tensor

from sr_core.coords import Queries, home_index
from sr_core.methods.base import FeatureCrop
from sr_core.methods.interpolation import Interpolation
from sr_core.methods.spec import MethodSpec


class Nearest(Interpolation):
    arch = "nearest"

    def query_margin(self, scale: float) -> int:
        return 0  # reads only the home pixel

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        gy = home_index(q.iy, q.out_h[:, None], fc.geom.lr_h)
        gx = home_index(q.ix, q.out_w[:, None], fc.geom.lr_w)
        return fc.gather("rgb", gy, gx)


SPEC = MethodSpec(
    "nearest", "Nearest", Nearest,
    "the input pixels, replicated (nearest neighbour; no paper, for comparing with the LR pixels)")
