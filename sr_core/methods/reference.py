"""The official LIIF code's evaluation steps, shared by the reference formulations.

The official code evaluates an implicit function per query: unfold the feature map, fetch
codes with ``grid_sample(mode='nearest')`` for each of the four ensemble branches, run the
full MLP on each query's input and blend the branches by area. Each method module writes its
formulation with these steps (its ``SPEC.reference``); ``benchmarks/reference.py`` times them
against the fast path, and the tests hold both equal.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.coords import Queries, make_coord


def feat_coord(feat: Tensor) -> Tensor:
    """``(B, 2, h, w)`` centres of the feature pixels, (y, x), like the official code."""
    h, w = feat.shape[-2:]
    grid = torch.stack(torch.meshgrid(make_coord(h, device=feat.device),
                                      make_coord(w, device=feat.device), indexing="ij"))
    return grid[None].expand(feat.shape[0], 2, h, w)


def sample_nearest(t: Tensor, grid: Tensor) -> Tensor:
    """``grid_sample(nearest)`` of ``t`` at ``grid`` ``(B, 1, N, 2)`` (x, y) → ``(B, N, C)``."""
    return F.grid_sample(t, grid, mode="nearest", align_corners=False)[:, :, 0].permute(0, 2, 1)


def ensemble(feat: Tensor, coord: Tensor, local_ensemble: bool = True) -> Iterator[tuple[Tensor, Tensor]]:
    """The official local-ensemble loop: per branch, the grid and ``rel`` of each query."""
    h, w = feat.shape[-2:]
    shifts = (-1, 1) if local_ensemble else (0,)
    eps = 1e-6 if local_ensemble else 0.0
    centres = feat_coord(feat)
    for vy in shifts:
        for vx in shifts:
            c_ = coord.clone()
            c_[..., 0] += vy / h + eps
            c_[..., 1] += vx / w + eps
            c_.clamp_(-1 + 1e-6, 1 - 1e-6)
            grid = c_.flip(-1).unsqueeze(1)
            rel = (coord - sample_nearest(centres, grid)) * coord.new_tensor([h, w])
            yield grid, rel


def blend(preds: list[Tensor], areas: list[Tensor]) -> Tensor:
    """The official area-weighted blend (each branch weighted by the opposite area)."""
    if len(preds) == 1:
        return preds[0]
    total = torch.stack(areas).sum(0)
    areas = areas[::-1]
    return sum(p * (a / total)[..., None] for p, a in zip(preds, areas, strict=True))


def area(rel: Tensor) -> Tensor:
    return (rel[..., 0] * rel[..., 1]).abs() + 1e-9


def query_coords(q: Queries) -> tuple[Tensor, Tensor]:
    """The official code's ``coord`` and ``cell`` ``(B, N, 2)`` of queries ``q``."""
    return q.coord(), q.cell().expand(q.iy.shape[0], q.iy.shape[1], 2)


def unfold3(feat: Tensor) -> Tensor:
    """The official ``feat_unfold``: each pixel's 3×3 neighbourhood, channel-major."""
    b, c, h, w = feat.shape
    return F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
