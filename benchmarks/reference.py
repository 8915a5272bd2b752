"""The papers' reference formulations of the implicit functions, kept apart from ``sr_core``.

This is how the official LIIF code evaluates the implicit function: unfold the feature map,
fetch codes with ``grid_sample(mode='nearest')`` for each of the four ensemble branches,
run the full MLP on ``[unfolded code, rel, rel_cell]`` per query, blend, and decode in
chunks of 30 000 queries in float32. The benchmarks time it against ``sr_core``'s fast path
and the tests check that both give the same pixels.

The same per-query formulation is written out for the LIIF family:

* UltraSR and IPE-LIIF (no official code): LIIF's formulation with their decoders, every
  layer applied to its full concatenated input;
* LTE: the official ``gen_feat`` + ``query_rgb`` (coef/freq maps per image, per query the
  Fourier features, the MLP, the ensemble and the bilinear base);
* DIIF (no official code): the paper's function evaluated per output pixel, LIIF style —
  explicit 4×4-unfolded vertex codes, the full coarse MLP for each of the four vertices of
  every pixel (the paper shares it per slice of ``u ≈ s`` pixels), slice ensemble, fine MLP.
* CLIT: the official ``query_rgb`` per stage (full q/k/v maps of every stage grid,
  ``grid_sample`` of the 7×7 window per query, the sinusoid positional bias, softmax, the
  MLP), accumulated over the cascade with λ = 0.75 on the bilinear base (``chop_forward``).

``reference_features`` does the per-image work (encoder and per-image maps), and
``reference_query`` the per-query work, in chunks of ``CHUNK``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.architectures import ARCHITECTURES
from sr_core.coords import Queries, make_coord
from sr_core.methods.base import CropGeometry, SRMethod
from sr_core.methods.clit import CLIT
from sr_core.methods.diif import CORNERS, DIIF, VERTICES, local_coord, slice_layout
from sr_core.methods.ipe import IPELIIF
from sr_core.methods.liif import LIIF
from sr_core.methods.lte import LTE
from sr_core.methods.ultrasr import UltraSR

CHUNK = 30_000
#: architectures with a reference formulation: every learned one
#: (tests/sr_core/methods/test_reference.py fails for a new architecture until it has one)
REFERENCE_ARCHS = tuple(arch for arch, cls in ARCHITECTURES.items() if cls.needs_weights)


def _feat_coord(feat: Tensor) -> Tensor:
    """``(B, 2, h, w)`` centres of the feature pixels, (y, x), like the official code."""
    h, w = feat.shape[-2:]
    grid = torch.stack(torch.meshgrid(make_coord(h, device=feat.device),
                                      make_coord(w, device=feat.device), indexing="ij"))
    return grid[None].expand(feat.shape[0], 2, h, w)


def _nearest(t: Tensor, grid: Tensor) -> Tensor:
    """``grid_sample(nearest)`` of ``t`` at ``grid`` ``(B, 1, N, 2)`` (x, y) → ``(B, N, C)``."""
    return F.grid_sample(t, grid, mode="nearest", align_corners=False)[:, :, 0].permute(0, 2, 1)


def _ensemble(feat: Tensor, coord: Tensor, local_ensemble: bool = True) -> Iterator[tuple[Tensor, Tensor]]:
    """The official local-ensemble loop: per branch, the grid and ``rel`` of each query."""
    h, w = feat.shape[-2:]
    shifts = (-1, 1) if local_ensemble else (0,)
    eps = 1e-6 if local_ensemble else 0.0
    feat_coord = _feat_coord(feat)
    for vy in shifts:
        for vx in shifts:
            c_ = coord.clone()
            c_[..., 0] += vy / h + eps
            c_[..., 1] += vx / w + eps
            c_.clamp_(-1 + 1e-6, 1 - 1e-6)
            grid = c_.flip(-1).unsqueeze(1)
            rel = (coord - _nearest(feat_coord, grid)) * coord.new_tensor([h, w])
            yield grid, rel


def _blend(preds: list[Tensor], areas: list[Tensor]) -> Tensor:
    """The official area-weighted blend (each branch weighted by the opposite area)."""
    if len(preds) == 1:
        return preds[0]
    total = torch.stack(areas).sum(0)
    areas = areas[::-1]
    return sum(p * (a / total)[..., None] for p, a in zip(preds, areas, strict=True))


def _area(rel: Tensor) -> Tensor:
    return (rel[..., 0] * rel[..., 1]).abs() + 1e-9


def liif_query_reference(model: LIIF, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
    """LIIF's ``query_rgb`` (official formulation) for ``coord``/``cell`` of shape (B, N, 2)."""
    if model.feat_unfold:
        b, c, h, w = feat.shape
        feat = F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
    h, w = feat.shape[-2:]
    preds, areas = [], []
    for grid, rel in _ensemble(feat, coord, model.local_ensemble):
        inp = [_nearest(feat, grid), rel]
        if model.cell_decode:
            inp.append(cell * cell.new_tensor([h, w]))
        preds.append(model.imnet(torch.cat(inp, dim=-1)))
        areas.append(_area(rel))
    return _blend(preds, areas)


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


def ultrasr_query_reference(model: UltraSR, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
    """UltraSR per query: LIIF's formulation, ``e = [rel, φ(rel)]`` concatenated into every
    hidden layer's input, residuals from two layers below on odd layers from L3 on."""
    b, c, h, w = feat.shape
    feat = F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
    rel_cell = cell * cell.new_tensor([h, w])
    preds, areas = [], []
    for grid, rel in _ensemble(feat, coord):
        e = torch.cat([rel] + [torch.cat([torch.sin(f * rel), torch.cos(f * rel)], -1)
                               for f in model.freqs], -1)
        hid = F.relu(model.hidden[0](torch.cat([_nearest(feat, grid), e, rel_cell], -1)))
        outs = [hid]
        for k, layer in enumerate(model.hidden[1:], start=1):
            pre = layer(torch.cat([hid, e], -1))
            hid = F.relu(pre + outs[k - 2] if k % 2 == 0 else pre)
            outs.append(hid)
        preds.append(model.out(hid))
        areas.append(_area(rel))
    return _blend(preds, areas)


def ipe_query_reference(model: IPELIIF, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
    """IPE-LIIF per query: ``x = [unfolded code, IPE(rel, rel_cell/2)]`` concatenated into
    every hidden layer's input."""
    b, c, h, w = feat.shape
    feat = F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
    radius = cell * cell.new_tensor([h, w]) / 2
    preds, areas = [], []
    for grid, rel in _ensemble(feat, coord):
        ipe = []
        for level in range(model.n_freqs):
            omega = 2 ** level * math.pi
            damp = torch.sin(omega * radius) / (omega * radius)
            ipe += [torch.sin(omega * rel) * damp, torch.cos(omega * rel) * damp]
        x = torch.cat([_nearest(feat, grid)] + ipe, -1)
        hid = F.relu(model.hidden[0](x))
        for layer in model.hidden[1:]:
            hid = F.relu(layer(torch.cat([hid, x], -1)))
        preds.append(model.out(hid))
        areas.append(_area(rel))
    return _blend(preds, areas)


def lte_query_reference(model: LTE, coef: Tensor, freq: Tensor, lr: Tensor, coord: Tensor,
                        cell: Tensor) -> Tensor:
    """The official LTE ``query_rgb`` on the per-image ``coef``/``freq`` maps of ``gen_feat``.

    ``cell`` is the official test protocol's (already enlarged above ×4 when ``cell_clip``).
    """
    h, w = coef.shape[-2:]
    rel_cell = cell * cell.new_tensor([h, w])
    bs, q = coord.shape[:2]
    preds, areas = [], []
    for grid, rel in _ensemble(coef, coord):
        q_coef, q_freq = _nearest(coef, grid), _nearest(freq, grid)
        q_freq = torch.stack(torch.split(q_freq, 2, dim=-1), dim=-1)
        q_freq = torch.sum(q_freq * rel.unsqueeze(-1), dim=-2)
        q_freq = q_freq + model.phase(rel_cell.reshape(bs * q, -1)).view(bs, q, -1)
        q_freq = torch.cat((torch.cos(math.pi * q_freq), torch.sin(math.pi * q_freq)), dim=-1)
        preds.append(model.imnet(q_coef * q_freq))
        areas.append(_area(rel))
    base = F.grid_sample(lr, coord.flip(-1).unsqueeze(1), mode="bilinear", padding_mode="border",
                         align_corners=False)[:, :, 0].permute(0, 2, 1)
    return _blend(preds, areas) + base


def diif_query_reference(model: DIIF, codes: Tensor, lr_size: tuple[int, int],
                         q: Queries) -> Tensor:
    """DIIF per output pixel on the explicit corner codes ``(B, (h+1)(w+1), 16C)`` of an
    ``lr_size = (h, w)`` image.

    Every pixel runs the coarse MLP for the four vertices of its home LR pixel on
    ``[z_t, x_first − v_t, x_last − v_t, rel_cell]`` (its slice's first and last pixel),
    blends them with ``w_t = |(x − v_t')_y (x − v_t')_x| / 4`` and runs the fine MLP on
    ``[blend, x]``.
    """
    out_h, out_w = int(q.out_h[0]), int(q.out_w[0])
    h, w = lr_size
    lay = slice_layout(q.iy, q.ix, q.out_h, q.out_w, h, w)

    def rel(iy: Tensor, ix: Tensor) -> Tensor:
        return torch.stack([local_coord(iy, lay.gy, out_h, h), local_coord(ix, lay.gx, out_w, w)], -1)

    x, first, last = rel(q.iy, q.ix), rel(lay.first_y, lay.first_x), rel(lay.last_y, lay.last_x)
    rel_cell = (q.cell() * q.cell().new_tensor([h, w])).expand_as(x)
    vertices = x.new_tensor(VERTICES)
    coarse = []
    for v, (oy, ox) in zip(vertices, CORNERS, strict=True):
        index = (lay.gy + oy) * (w + 1) + (lay.gx + ox)
        z = torch.gather(codes, 1, index[..., None].expand(-1, -1, codes.shape[-1]))
        inp = [z, first - v, last - v]
        if model.cell_decode:
            inp.append(rel_cell)
        coarse.append(F.relu(model.coarse(torch.cat(inp, -1))))
    weights = (x[..., None, :] + vertices).prod(-1).abs() / 4  # vertex t: diagonal of t' = −v_t
    blended = sum(weights[..., t, None] * coarse[t] for t in range(len(coarse)))
    return model.fine(torch.cat([blended, x], -1))


def clit_pb_encoding(rel: Tensor) -> Tensor:
    """CLIT's official sinusoid encoding of relative positions: ``rel @ b_vals.T`` with
    ``b_vals = [[f, 0]…, [0, f]…]``, then sin and cos."""
    b_vals = 2.0 ** torch.linspace(0, 10, 16, device=rel.device) - 1
    b_vals = torch.stack([b_vals, torch.zeros_like(b_vals)], dim=-1)
    b_vals = torch.cat([b_vals, torch.roll(b_vals, 1, -1)], dim=0)
    proj = torch.matmul(rel, b_vals.transpose(-2, -1))
    return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


def clit_stage_maps(model: CLIT, init: Tensor, lr_size: tuple[int, int],
                    factors: list[float]) -> list[tuple[Tensor, Tensor, Tensor]]:
    """q, k, v maps of every stage: stage k > 0 resamples the shared stem bilinearly to the
    grid of the scales so far (``round(lr · Π factors[:k])``), as ``chop_forward`` does."""
    maps = []
    for k in range(len(factors)):
        feat = init
        if k > 0:
            img_h, img_w = (round(n * math.prod(factors[:k])) for n in lr_size)
            grid = torch.stack(torch.meshgrid(make_coord(img_h, device=init.device),
                                              make_coord(img_w, device=init.device), indexing="ij"), -1)
            feat = F.grid_sample(init, grid[None].expand(init.shape[0], -1, -1, -1).flip(-1),
                                 mode="bilinear", align_corners=False)
        maps.append((model.conv_qs[k](feat), model.conv_ks[k](feat), model.conv_vs[k](feat)))
    return maps


def _clit_stage(model: CLIT, k: int, fq: Tensor, fk: Tensor, fv: Tensor, coord: Tensor,
                cell: Tensor) -> Tensor:
    """One stage of the official ``query_rgb`` (without the base image)."""
    bs, nq, _ = coord.shape
    h, w = fv.shape[-2:]
    r, head, dim = model.radius, model.heads, model.base_dim
    area = (2 * r + 1) ** 2
    ck = _nearest(_feat_coord(fv), coord.unsqueeze(1).flip(-1)).unsqueeze(2)  # (B, N, 1, 2)
    dh = torch.linspace(-r, r, 2 * r + 1, device=coord.device) * (2 / h)
    dw = torch.linspace(-r, r, 2 * r + 1, device=coord.device) * (2 / w)
    ck = ck + torch.stack(torch.meshgrid(dh, dw, indexing="ij"), dim=-1).view(1, 1, -1, 2)
    c_ = coord.unsqueeze(2)
    sq = F.grid_sample(fq, c_.flip(-1), mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    sq = sq.reshape(bs, nq, 1, head, dim // head).permute(0, 1, 3, 2, 4)
    sk = F.grid_sample(fk, ck.flip(-1), mode="nearest", align_corners=False).permute(0, 2, 3, 1)
    sk = sk.reshape(bs, nq, area, head, dim // head).permute(0, 1, 3, 4, 2)
    sv = F.grid_sample(fv, ck.flip(-1), mode="nearest", align_corners=False).permute(0, 2, 3, 1)
    rel = c_ - ck
    rel[..., 0] *= h
    rel[..., 1] *= w
    rel_cell = cell.clone().unsqueeze(1).repeat(1, nq, 1)
    rel_cell[..., 0] *= h
    rel_cell[..., 1] *= w
    attn = torch.matmul(sq, sk).reshape(bs, nq, head, area).permute(0, 1, 3, 2) / math.sqrt(dim // head)
    attn = F.softmax(attn + model.pb_encoder.proj(clit_pb_encoding(rel)), dim=-2).reshape(bs, nq, area, head, 1)
    sv = (sv.reshape(bs, nq, area, head, dim // head) * attn).reshape(bs, nq, area, -1)
    return model.imnets[k](torch.cat([sv.reshape(bs, nq, -1), rel_cell], dim=-1))


def clit_query_reference(model: CLIT, stage_maps: list[tuple[Tensor, Tensor, Tensor]], lr: Tensor,
                         coord: Tensor, cell: Tensor) -> Tensor:
    """The cascade of ``chop_forward`` for one chunk: stages accumulated with λ = 0.75, plus the
    bilinear (border-padded) base image. ``cell`` ``(B, N, 2)``; the first query's is used."""
    acc = None
    for k, (fq, fk, fv) in enumerate(stage_maps):
        pred = _clit_stage(model, k, fq, fk, fv, coord, cell[:, 0])
        acc = pred if acc is None else pred + 0.75 * acc
    base = F.grid_sample(lr, coord.unsqueeze(2).flip(-1), mode="bilinear",
                         padding_mode="border", align_corners=False)[:, :, :, 0].permute(0, 2, 1)
    return acc + base


def reference_features(model: SRMethod, lr: Tensor) -> dict[str, Any]:
    """The per-image work of the reference formulation (encoder and per-image maps); CLIT's
    stage maps depend on the scale, so they are made on first use per scale decomposition."""
    feat = model.encoder(lr)
    if isinstance(model, CLIT):
        return {"init": model.conv_ch(feat), "lr": lr, "stages": {}}
    if isinstance(model, LTE):  # the official gen_feat
        return {"coef": model.coef(feat), "freq": model.freq(feat), "lr": lr}
    if isinstance(model, DIIF):
        # the code of corner (i, j) is LR rows i-2 … i+1 × columns j-2 … j+1, channel-major
        codes = F.unfold(F.pad(feat, (2, 2, 2, 2)), 4).transpose(1, 2).contiguous()
        return {"codes": codes, "lr_size": tuple(feat.shape[-2:])}
    return {"feat": feat}


def _query_one(model: SRMethod, maps: dict[str, Any], q: Queries) -> Tensor:
    coord, cell = q.coord(), q.cell().expand(q.iy.shape[0], q.iy.shape[1], 2)
    if isinstance(model, LTE):
        if model.cell_clip:  # the official test protocol: cell · max(s / 4, 1), per axis
            h, w = maps["lr"].shape[-2:]
            cell = cell * cell.new_tensor([max(int(q.out_h[0]) / h / 4, 1),
                                           max(int(q.out_w[0]) / w / 4, 1)])
        return lte_query_reference(model, maps["coef"], maps["freq"], maps["lr"], coord, cell)
    if isinstance(model, DIIF):
        return diif_query_reference(model, maps["codes"], maps["lr_size"], q)
    if isinstance(model, CLIT):
        lr = maps["lr"]
        factors = model.stage_factors(q, CropGeometry.full(lr.shape[-2], lr.shape[-1]))
        stages = maps["stages"].get(tuple(factors))
        if stages is None:
            stages = maps["stages"][tuple(factors)] = clit_stage_maps(model, maps["init"], lr.shape[-2:], factors)
        return clit_query_reference(model, stages, lr, coord, cell)
    fn: dict[type, Callable[..., Tensor]] = {LIIF: liif_query_reference,
                                             UltraSR: ultrasr_query_reference,
                                             IPELIIF: ipe_query_reference}
    return fn[type(model)](model, maps["feat"], coord, cell)


def reference_query(model: SRMethod, maps: dict[str, Any], q: Queries,
                    chunk: int = CHUNK) -> Tensor:
    """Normalised RGB ``(B, N, 3)`` of queries ``q``, evaluated in chunks of ``chunk``."""
    with torch.no_grad():
        return torch.cat([_query_one(model, maps, part) for part in q.split(chunk)], dim=1)
