"""DIIF: dynamic implicit image function (METHODS_SPEC §3.4, assumptions A5–A8).

Output pixels are grouped by the LR pixel that contains their centre; each group is cut,
in raster order, into slices of ``u ≈ s`` pixels. A coarse MLP runs once per slice and
LR-pixel corner (vertex), a bilinear "slice ensemble" of its four outputs feeds a small
fine MLP per pixel. Reconstructed from the paper: no official code was examined and no
official weights exist, so there is no ``from_official``.

Every per-query number (group, slice, first/last pixel of the slice) derives from global
integer indices (:func:`slice_layout`), so a tile that cuts groups or slices computes the
same values as the whole image. Exact algebraic shortcuts (the function is unchanged):

* ``prepare``: the code part of the coarse stage's first layer reads the 4×4 LR features
  around a corner; on the (h+1)×(w+1) corner grid that is a 4×4 convolution (padding 2)
  of the feature map, computed once per corner instead of once per slice and vertex.
* ``query``: for ``u > 4`` the fine stage's first layer is applied to the four vertex
  outputs of each slice before blending (it is linear and the weights sum to 1), which is
  cheaper once a slice holds more than four pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.coords import Queries, home_index
from sr_core.encoders import make_encoder
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod
from sr_core.methods.hooks import Reference, TrainingHooks, WarmStart
from sr_core.methods.liif import LIIF
from sr_core.methods.mlp import MLP
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec

#: vertices v_t of the LR pixel in LIIF units (y, x), the LR pixel spans [-1, 1]²
VERTICES = ((-1, -1), (-1, 1), (1, -1), (1, 1))
#: the same vertices as offsets on the corner grid (corner i lies between LR pixels i-1, i)
CORNERS = tuple(((vy + 1) // 2, (vx + 1) // 2) for vy, vx in VERTICES)
#: slices longer than this fold the fine stage's first layer into the per-slice work
FOLD_ABOVE = 4


def _column(n: int | Tensor, like: Tensor) -> Tensor:
    """Per-sample sizes as an int64 ``(B, 1)`` (or ``(1, 1)``) tensor on ``like``'s device."""
    return torch.as_tensor(n, dtype=torch.long, device=like.device).reshape(-1, 1)


def group_start(g: Tensor, out_n: int | Tensor, lr_n: int) -> Tensor:
    """First output index whose centre lies in LR pixel ``g``: ⌈(2·out_n·g − lr_n) / (2·lr_n)⌉.

    Output pixel ``i`` lies in LR pixel ``g`` iff ``(2i+1)·lr_n ≥ 2·out_n·g`` (and < for
    ``g+1``); ``group_start(lr_n) = out_n``. Group sizes are ⌊s⌋ or ⌈s⌉ (0 or 1 for s < 1).
    """
    return -torch.div(lr_n - 2 * out_n * g, 2 * lr_n, rounding_mode="floor")


def slice_length(out_w: int | Tensor, lr_w: int) -> Tensor | int:
    """Slice length ``u = max(1, round(out_w / lr_w))``, rounding half up in integer math.

    [UNKNOWN, A5] the paper sets u = s and does not say how to round a non-integer s.
    [INFER] s is the horizontal scale out_w / lr_w: slices run along group rows, and for an
    integer scale this makes every slice exactly one row of the group.
    """
    u = (2 * out_w + lr_w) // (2 * lr_w)
    return u.clamp(min=1) if isinstance(u, Tensor) else max(1, u)


def local_coord(i: Tensor, g: Tensor, out_n: int | Tensor, lr_n: int) -> Tensor:
    """Centre of output pixel ``i`` relative to the centre of LR pixel ``g``, LIIF units.

    ``(c_i − c_g)·lr_n = ((2i+1)·lr_n − (2g+1)·out_n) / out_n``: integer numerator, one
    float32 rounding, in [-1, 1] when ``g`` is the home pixel of ``i``.
    """
    return ((2 * i + 1) * lr_n - (2 * g + 1) * out_n).to(torch.float32) / out_n


@dataclass(frozen=True)
class SliceLayout:
    """Group and slice of each queried output pixel; int64 ``(B, N)`` unless stated.

    ``gy, gx``: the group (home LR pixel); ``row0, col0``: its first output row/column;
    ``rows, cols``: its size; ``pos``: raster position in the group; ``u``: ``(B, 1)``
    slice length; ``first_*``/``last_*``: output indices of the slice's first and last
    pixel; ``key``: an id of the slice, unique within the batch.
    """

    gy: Tensor
    gx: Tensor
    row0: Tensor
    col0: Tensor
    rows: Tensor
    cols: Tensor
    pos: Tensor
    u: Tensor
    first_y: Tensor
    first_x: Tensor
    last_y: Tensor
    last_x: Tensor
    key: Tensor

    def distinct(self) -> tuple[Tensor, Tensor]:
        """The distinct slices: ``(rep, inverse)``.

        ``rep`` ``(S,)``: flat index (into B·N) of one query of each slice (which one does
        not matter: all queries of a slice share its geometry); ``inverse`` ``(B·N,)``: the
        slice of each query.
        """
        key = self.key.flatten()
        uniq, inverse = torch.unique(key, return_inverse=True)
        order = torch.arange(key.numel(), device=key.device)
        return torch.empty_like(uniq).scatter_(0, inverse, order), inverse


def slice_layout(iy: Tensor, ix: Tensor, out_h: int | Tensor, out_w: int | Tensor,
                 lr_h: int, lr_w: int) -> SliceLayout:
    """DIIF's groups and slices for output pixels ``(iy, ix)`` ``(B, N)`` (integer math only).

    Groups are cut in raster order into ``ceil(g / u)`` slices; the last one may be partial.
    [INFER] the last pixel of a partial slice is the group's last pixel: the paper pads it
    and drops the surplus outputs, which leaves the real pixels' first/last coordinates.
    """
    out_h, out_w = _column(out_h, iy), _column(out_w, iy)
    gy, gx = home_index(iy, out_h, lr_h), home_index(ix, out_w, lr_w)
    row0, col0 = group_start(gy, out_h, lr_h), group_start(gx, out_w, lr_w)
    rows = group_start(gy + 1, out_h, lr_h) - row0
    cols = group_start(gx + 1, out_w, lr_w) - col0
    u = slice_length(out_w, lr_w)
    pos = (iy - row0) * cols + (ix - col0)
    first = pos - pos % u
    last = torch.minimum(first + u - 1, rows * cols - 1)
    first_y, first_x = row0 + first // cols, col0 + first % cols
    batch = torch.arange(iy.shape[0], device=iy.device)[:, None]
    key = batch * (out_h * out_w).amax() + first_y * out_w + first_x
    return SliceLayout(gy, gx, row0, col0, rows, cols, pos, u, first_y, first_x,
                       row0 + last // cols, col0 + last % cols, key)


class DIIF(SRMethod):
    """Encoder + C2F-MLP: coarse MLP per slice and vertex, slice ensemble, fine MLP per pixel."""

    arch = "diif"
    #: corner i is stored with LR pixel i (its lower-right neighbour); its 4×4 code reads
    #: LR pixels i-2 … i+1, at most 2 away
    prep_radius = 2

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 coarse_hidden: list[int] | None = None, fine_hidden: list[int] | None = None,
                 cell_decode: bool = True) -> None:
        super().__init__()
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            coarse_hidden=list(coarse_hidden or [256, 256]),
                            fine_hidden=list(fine_hidden or [256, 256]), cell_decode=cell_decode)
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.cell_decode = cell_decode
        self.code_dim = 16 * self.encoder.out_dim
        widths = self._config["coarse_hidden"]
        # coarse input [z_t, x_first − v_t, x_last − v_t, rel_cell]; [INFER, A6] the cell
        # input is what makes the paper's parameter totals add up
        coarse_in = self.code_dim + 4 + (2 if cell_decode else 0)
        # [INFER] every coarse layer, the last included, is Linear + ReLU
        self.coarse = MLP(coarse_in, widths[-1], widths[:-1])
        self.fine = MLP(widths[-1] + 2, 3, self._config["fine_hidden"])

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def query_margin(self, scale: float) -> int:
        # a query reads the corners of its home pixel g and of g + 1 (stored with LR pixel g + 1)
        return 1

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        """Code part of the coarse first layer on the corner grid of the crop.

        Corner ``i`` sits between LR rows ``i-1`` and ``i``; its code is LR rows
        ``i-2 … i+1`` × columns ``j-2 … j+1`` ([INFER, A7] channel-major 4×4 raster, zeros
        outside the image). A crop of LR rows ``[y0, y0+h)`` yields corners ``y0 … y0+h``
        (global), stored at local index ``corner − y0``; a conv with padding 2 produces
        exactly these, and its zero padding is right at image borders only.
        """
        first = self.coarse.first
        weight = first.weight[:, :self.code_dim].reshape(first.out_features, -1, 4, 4)
        corners = F.conv2d(feat.to(weight.dtype), weight, padding=2)
        return FeatureCrop({"corners": corners.contiguous(memory_format=torch.channels_last)}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        g = fc.geom
        layout = slice_layout(q.iy, q.ix, q.out_h, q.out_w, g.lr_h, g.lr_w)
        rep, inverse = layout.distinct()
        h = self._coarse(fc, q, layout, rep)
        return self._fine(h, inverse, q, layout, g).reshape(*q.iy.shape, 3)

    def _coarse(self, fc: FeatureCrop, q: Queries, layout: SliceLayout, rep: Tensor) -> Tensor:
        """``H_{k,t}`` ``(S, 4, C)`` of the distinct slices (once per slice and vertex)."""
        g = fc.geom
        batch = torch.arange(q.iy.shape[0], device=rep.device)[:, None].expand_as(q.iy).flatten()[rep]
        gy, gx = layout.gy.flatten()[rep], layout.gx.flatten()[rep]
        out_h, out_w = q.out_h[batch], q.out_w[batch]

        def at(iy: Tensor, ix: Tensor) -> Tensor:
            return torch.stack([local_coord(iy.flatten()[rep], gy, out_h, g.lr_h),
                                local_coord(ix.flatten()[rep], gx, out_w, g.lr_w)], dim=-1)

        vert = torch.tensor(VERTICES, dtype=torch.float32, device=rep.device)
        extra = [at(layout.first_y, layout.first_x)[:, None] - vert,
                 at(layout.last_y, layout.last_x)[:, None] - vert]
        if self.cell_decode:
            rel_cell = q.cell()[:, 0] * q.cell().new_tensor([g.lr_h, g.lr_w])
            extra.append(rel_cell[batch][:, None].expand(-1, len(VERTICES), -1))
        corners = fc.tensors["corners"]
        _, c, hc, wc = corners.shape
        offset = torch.tensor(CORNERS, device=rep.device)
        cy = (gy - g.y0)[:, None] + offset[:, 0]
        cx = (gx - g.x0)[:, None] + offset[:, 1]
        index = (batch[:, None] * hc + cy.clamp(0, hc - 1)) * wc + cx.clamp(0, wc - 1)
        codes = corners.permute(0, 2, 3, 1).reshape(-1, c).index_select(0, index.flatten())
        codes = codes.view(*index.shape, c)
        first = self.coarse.first
        pre = F.linear(torch.cat(extra, dim=-1).to(first.weight.dtype),
                       first.weight[:, self.code_dim:], first.bias)
        return F.relu(self.coarse.after_first(pre + codes))

    def _fine(self, h: Tensor, inverse: Tensor, q: Queries, layout: SliceLayout,
              geom: CropGeometry) -> Tensor:
        """Slice ensemble and fine stage per pixel → ``(B·N, 3)`` float32."""
        rel = torch.stack([local_coord(q.iy, layout.gy, q.out_h[:, None], geom.lr_h),
                           local_coord(q.ix, layout.gx, q.out_w[:, None], geom.lr_w)],
                          dim=-1).reshape(-1, 2)
        # w_t = |(x − v_t')_y (x − v_t')_x| / 4 with v_t' = −v_t the diagonal vertex
        weights = (rel[:, None] + rel.new_tensor(VERTICES)).prod(-1).abs() / 4

        def blend(v: Tensor) -> Tensor:
            # index_select copies whole (4, C) slabs; advanced indexing was 3× slower
            return torch.einsum("pt,ptc->pc", weights, v.index_select(0, inverse).float())

        first, width = self.fine.first, h.shape[-1]
        dtype = first.weight.dtype
        if bool((layout.u > FOLD_ABOVE).all()):
            pre = blend(F.linear(h, first.weight[:, :width])).to(dtype)
        else:
            pre = F.linear(blend(h).to(dtype), first.weight[:, :width])
        pre = pre + F.linear(rel.to(dtype), first.weight[:, width:], first.bias)
        return self.fine.after_first(pre).float()


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_features(model: DIIF, lr: Tensor) -> dict[str, Any]:
    """The explicit corner codes: corner (i, j) holds LR rows i-2 … i+1 × columns j-2 … j+1,
    channel-major."""
    feat = model.encoder(lr)
    codes = F.unfold(F.pad(feat, (2, 2, 2, 2)), 4).transpose(1, 2).contiguous()
    return {"codes": codes, "lr_size": tuple(feat.shape[-2:])}


def official_query(model: DIIF, maps: dict[str, Any], q: Queries) -> Tensor:
    return official_pixels(model, maps["codes"], maps["lr_size"], q)


def official_pixels(model: DIIF, codes: Tensor, lr_size: tuple[int, int],
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


# training hooks (SPEC.training) -------------------------------------------------------------


def start_from_liif(liif: LIIF, diif: DIIF) -> WarmStart:
    """DIIF's coarse stage reads 4×4 corner codes with the slice's end points and its fine stage
    a blended hidden vector, so none of LIIF's layers has a counterpart; only the encoder is
    copied and the decoder keeps its random start."""
    return WarmStart("liif → diif", [
        "encoder copied from LIIF; DIIF's coarse-to-fine MLP has no counterpart in LIIF "
        "and keeps its random start"], decoder_from_source=False)


SPEC = MethodSpec(
    "diif", "DIIF", DIIF,
    ("He, Jin — Dynamic Implicit Image Function for Efficient Arbitrary-Scale Image "
     "Representation, arXiv 2306.12321 / ICME 2024"),
    cpu_cost=0.4,
    recipe="zoomsr/diif-edsr",
    recipe_limits=("Measured: 0.3–0.9 dB under the authors' LIIF; seamless up to ×12, but at about ×30 a "
                   "faint grid of blocks the size of the input's pixels remains (docs/RESULTS.md)"),
    tiny={**TINY_ENCODER, "coarse_hidden": [16, 16], "fine_hidden": [16, 16]},
    tiny_train={**TRAIN_ENCODER, "coarse_hidden": [32, 32], "fine_hidden": [32]},
    reference=Reference(official_features, official_query),
    training=TrainingHooks(starts_from={LIIF.arch: start_from_liif}))
