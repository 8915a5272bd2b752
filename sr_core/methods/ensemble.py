"""LIIF's local ensemble (METHODS_SPEC §1.4), shared by LIIF, UltraSR, IPE-LIIF and LTE."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from sr_core.coords import Queries, centre_of, nearest_index
from sr_core.methods.base import FeatureCrop

#: shift order (v_y, v_x) of the official code; blending swaps 0↔3 and 1↔2
SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))
EPS = 1e-6


@dataclass(frozen=True)
class Branches:
    """The ensemble branches of a batch of queries, stacked on a leading axis ``T``.

    ``iy``, ``ix``: ``(T, B, N)`` global LR indices of the latent code each branch reads;
    ``rel``: ``(T, B, N, 2)`` float32 query minus code centre, in units where an LR pixel
    spans 2; ``rel_cell``: ``(B, 1, 2)`` output pixel size in the same units (≈ 2/s).
    """

    iy: Tensor
    ix: Tensor
    rel: Tensor
    rel_cell: Tensor

    @property
    def count(self) -> int:
        return self.iy.shape[0]


def branches(q: Queries, lr_h: int, lr_w: int, local_ensemble: bool = True) -> Branches:
    """Codes and relative coordinates of the 4 ensemble branches (1 without ensemble)."""
    coord = q.coord()
    shifts, eps = (SHIFTS, EPS) if local_ensemble else (((0, 0),), 0.0)
    iys, ixs, rels = [], [], []
    for vy, vx in shifts:
        cy = (coord[..., 0] + (vy / lr_h + eps)).clamp(-1 + 1e-6, 1 - 1e-6)
        cx = (coord[..., 1] + (vx / lr_w + eps)).clamp(-1 + 1e-6, 1 - 1e-6)
        iy, ix = nearest_index(cy, lr_h), nearest_index(cx, lr_w)
        centre = torch.stack([centre_of(iy, lr_h), centre_of(ix, lr_w)], dim=-1)
        iys.append(iy)
        ixs.append(ix)
        rels.append((coord - centre) * coord.new_tensor([lr_h, lr_w]))
    rel_cell = q.cell() * q.cell().new_tensor([lr_h, lr_w])
    return Branches(torch.stack(iys), torch.stack(ixs), torch.stack(rels), rel_cell)


def gather_branches(fc: FeatureCrop, name: str, br: Branches) -> Tensor:
    """``fc.tensors[name]`` at the code of every branch, ``(T, B, N, C)``, in one gather.

    One ``index_select`` on the crop's channels-last ``(B·h·w, C)`` table writes the rows of
    all branches into one contiguous tensor (no per-branch gathers and no stacking copy).
    Branch codes always lie inside the image (``branches`` clamps the shifted coordinates
    into (-1, 1) before rounding), so unlike ``FeatureCrop.gather`` there is no zero
    padding to apply.
    """
    t = fc.tensors[name]
    b, c, h, w = t.shape
    ly = (br.iy - fc.geom.y0).clamp(0, h - 1)
    lx = (br.ix - fc.geom.x0).clamp(0, w - 1)
    batch = torch.arange(b, device=ly.device)[:, None]
    table = t.permute(0, 2, 3, 1).reshape(b * h * w, c)
    return table.index_select(0, ((batch * h + ly) * w + lx).flatten()).view(*br.iy.shape, c)


def blend(pred: Tensor, br: Branches) -> Tensor:
    """Area-weighted sum of the branch predictions ``(T, B, N, C)`` → ``(B, N, C)``.

    Each branch is weighted by the area between the query and the diagonally opposite code.
    """
    if br.count == 1:
        return pred[0]
    area = (br.rel[..., 0] * br.rel[..., 1]).abs() + 1e-9
    weights = area.flip(0) / area.sum(0, keepdim=True)
    return (pred * weights[..., None]).sum(0)
