"""Bilinear sampling of prepared LR-resolution tensors at global coordinates.

The integer form of ``grid_sample(mode='bilinear', align_corners=False)`` on the whole
image: unnormalise, take the four global neighbours, read them from the crop (zeros outside
the image, or the clamped border pixel with ``padding='border'``). A crop and the whole image
give the same numbers.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from sr_core.coords import Queries
from sr_core.methods.base import FeatureCrop


def unnormalize(coord: Tensor, n: Tensor) -> Tensor:
    """Pixel-index position ``(c + 1)·n/2 − 0.5`` of normalised ``coord`` on axes of ``n`` px.

    PyTorch's CPU and CUDA ``grid_sample`` kernels compute this with one fused multiply-add;
    ``addcmul`` reproduces that rounding (multiply-then-subtract moves the position by an ulp
    now and then, which shows up as ~1e-6 differences, and CLIT's 1023× positional
    frequencies amplify such differences further).
    """
    return torch.addcmul(torch.full_like(coord, -0.5), coord + 1, (n / 2).expand_as(coord))


def bilinear(fc: FeatureCrop, name: str, coord: Tensor,
             padding: Literal["zeros", "border"] = "zeros") -> Tensor:
    """``fc.tensors[name]`` sampled at ``coord`` ``(B, N, 2)`` → ``(B, N, C)`` float32."""
    size = coord.new_tensor([fc.geom.lr_h, fc.geom.lr_w])
    p = unnormalize(coord, size)
    if padding == "border":
        p = torch.minimum(p.clamp(min=0), size - 1)
    lo = p.floor()
    w_hi = p - lo
    w_lo = 1 - w_hi
    lo = lo.long()
    hi = lo + 1
    if padding == "border":
        hi = torch.minimum(hi, (size - 1).long())
    out = 0
    for wy, iy in ((w_lo[..., 0], lo[..., 0]), (w_hi[..., 0], hi[..., 0])):
        for wx, ix in ((w_lo[..., 1], lo[..., 1]), (w_hi[..., 1], hi[..., 1])):
            out = out + fc.gather(name, iy, ix).float() * (wy * wx)[..., None]
    return out


def bilinear_base(fc: FeatureCrop, q: Queries) -> Tensor:
    """The LR RGB (``fc.tensors["lr"]``) upsampled bilinearly with border padding (LTE, CLIT)."""
    return bilinear(fc, "lr", q.coord(), padding="border")
