"""The papers' reference formulation of LIIF-style queries, kept apart from ``sr_core``.

This is how the official LIIF code evaluates the implicit function: unfold the feature map,
fetch codes with ``grid_sample(mode='nearest')`` for each of the four ensemble branches,
run the full MLP on ``[unfolded code, rel, rel_cell]`` per query, blend, and decode in
chunks of 30 000 queries in float32. The benchmarks time it against ``sr_core``'s fast path
and the tests check that both give the same pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.coords import make_coord
from sr_core.methods.liif import LIIF

CHUNK = 30_000


def liif_query_reference(model: LIIF, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
    """LIIF's ``query_rgb`` (official formulation) for ``coord``/``cell`` of shape (B, N, 2)."""
    if model.feat_unfold:
        b, c, h, w = feat.shape
        feat = F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
    h, w = feat.shape[-2:]
    shifts = (-1, 1) if model.local_ensemble else (0,)
    eps = 1e-6 if model.local_ensemble else 0.0
    feat_coord = torch.stack(torch.meshgrid(make_coord(h, device=feat.device),
                                            make_coord(w, device=feat.device), indexing="ij"))
    feat_coord = feat_coord[None].expand(feat.shape[0], 2, h, w)
    preds, areas = [], []
    for vy in shifts:
        for vx in shifts:
            c_ = coord.clone()
            c_[..., 0] += vy / h + eps
            c_[..., 1] += vx / w + eps
            c_.clamp_(-1 + 1e-6, 1 - 1e-6)
            grid = c_.flip(-1).unsqueeze(1)
            q_feat = F.grid_sample(feat, grid, mode="nearest", align_corners=False)[:, :, 0].permute(0, 2, 1)
            q_coord = F.grid_sample(feat_coord, grid, mode="nearest", align_corners=False)[:, :, 0].permute(0, 2, 1)
            rel = (coord - q_coord) * coord.new_tensor([h, w])
            inp = [q_feat, rel]
            if model.cell_decode:
                inp.append(cell * cell.new_tensor([h, w]))
            preds.append(model.imnet(torch.cat(inp, dim=-1)))
            areas.append((rel[..., 0] * rel[..., 1]).abs() + 1e-9)
    if len(preds) == 1:
        return preds[0]
    total = torch.stack(areas).sum(0)
    areas = areas[::-1]
    return sum(p * (a / total)[..., None] for p, a in zip(preds, areas))


def liif_render_reference(model: LIIF, lr: Tensor, out_h: int, out_w: int) -> Tensor:
    """Whole-image LIIF output ``(B, out_h·out_w, 3)``, queries chunked at 30 000."""
    with torch.no_grad():
        feat = model.encoder(lr)
        coord = torch.stack(torch.meshgrid(make_coord(out_h, device=lr.device),
                                           make_coord(out_w, device=lr.device), indexing="ij"), -1)
        coord = coord.reshape(1, -1, 2).expand(lr.shape[0], -1, -1)
        cell = coord.new_tensor([2 / out_h, 2 / out_w]).expand_as(coord)
        return torch.cat([liif_query_reference(model, feat, coord[:, i:i + CHUNK], cell[:, i:i + CHUNK])
                          for i in range(0, coord.shape[1], CHUNK)], dim=1)
