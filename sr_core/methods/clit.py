"""CLIT: cascaded local implicit transformer (Chen et al., CVPR 2023; METHODS_SPEC §3.5).

Matches the official code (``jaroslaw1007/CLIT``), not the paper where they differ, and keeps
its state-dict key names. A shared 3×3 ``conv_ch`` lifts the encoder features to ``base_dim``
channels (Z). Stage ``k`` of the cascade runs one LIT on a stage map: Z itself for stage 1, Z
resampled bilinearly to an intermediate grid for later stages, each with its own 3×3 Q/K/V
convs. A LIT query takes Q bilinearly at the query, K and V at the 7×7 stage pixels around
the nearest one, attends per head with a sinusoidal positional bias, and feeds the 49
attention-scaled value vectors (concatenated, not summed) plus the cell to a GELU MLP. The
stage outputs are accumulated with factor 0.75 and the bilinear LR image is added once.

Exactness under tiling: ``prepare`` computes Z and stage 1's Q/K/V per LR pixel; ``query``
builds each later stage map only on the bounding box of the chunk's window reads (plus the
conv margin), resampling Z with global indices, so zero padding fires only at true borders.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_core.coords import Queries, centre_of, make_coord, nearest_index
from sr_core.encoders import make_encoder, official_encoder_config
from sr_core.methods import reference as ref
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod
from sr_core.methods.hooks import Reference, TrainingHooks, WarmStart
from sr_core.methods.liif import LIIF, linear_layers
from sr_core.methods.mlp import MLP
from sr_core.methods.sampling import bilinear, bilinear_base, unnormalize
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec

#: the test-time cascade splits the scale into factors of at most this (official ``scale_base``)
SCALE_BASE = 4.0
#: stage outputs accumulate as ``acc_k = r_k + DECAY · acc_{k-1}`` (hard-coded upstream)
DECAY = 0.75
#: ``CLIT._attend`` takes the windows of as many centres at a time as their F fits in: at the
#: paper's size 64 centres in float32, 128 in bfloat16 (on a CPU 2–7 % faster than half as many,
#: 12–35 % faster than twice as many, whose F is larger than the C allocator's 32 MiB threshold
#: for fresh pages, ``sr_core.memory.MMAP_THRESHOLD``)
FOLD_BYTES = 64 * 392 * 256 * 4
#: up to this many queries per window centre (the largest count in a fold), F is made and
#: applied one head at a time: 20–35 % faster for 9–16 queries, slower from about 30
#: (``_weighted_columns``)
PER_HEAD_ROWS = 24
#: a crop's later stage maps are built once for the whole crop up to this many stage pixels
#: (×12, a 256-px block: about 12,000; 3 maps of 256 channels, 9 MB a thousand pixels in float32)
SHARED_STAGE_PIXELS = 40_000
#: positional bias: frequencies ``2^linspace(0, PB_OCTAVES, PB_FREQS) - 1`` (0 … 1023)
PB_FREQS = 16
PB_OCTAVES = 10.0


def scale_decomposition(scale: float, max_stages: int | None = None,
                        base: float = SCALE_BASE) -> list[float]:
    """Per-stage scale factors of the test-time cascade (official ``sample_system_scale``).

    ``[s]`` if ``s ≤ base``; else ``base``, then ``base`` while the remainder is ``≥ base``,
    then the remainder (×6 → [4, 1.5], ×18 → [4, 4, 1.125], ×16 → [4, 4]). The official code
    has no limit on the number of factors and fails beyond its stage count; here the list is
    capped at ``max_stages`` by merging the extra factors into the last one (A12).
    """
    factors = [scale]
    if scale > base:
        factors, rest = [base], scale / base
        while rest > 1:
            factors.append(base if rest >= base else rest)
            rest /= base
    if max_stages is not None and len(factors) > max_stages:
        factors = factors[:max_stages - 1] + [math.prod(factors[max_stages - 1:])]
    return factors


def stage_sizes(lr_h: int, lr_w: int, factors: Sequence[float]) -> list[tuple[int, int]]:
    """Grid of each stage's feature map: the LR grid, then ``round(lr · s₁ ⋯ s_{k-1})``.

    The last factor does not appear: every stage is queried on the output grid itself.
    """
    sizes = [(lr_h, lr_w)]
    for k in range(1, len(factors)):
        ratio = math.prod(factors[:k])  # float64, left to right, like the official np.prod
        sizes.append((round(lr_h * ratio), round(lr_w * ratio)))
    return sizes


def axis_encoding(x: Tensor) -> Tensor:
    """``[sin(f_j·x), cos(f_j·x)]`` in float32, ``(...) → (..., 2·PB_FREQS)``.

    ``f·x`` reaches ~7000 rad, so this must never run in half precision.
    """
    freqs = 2.0 ** torch.linspace(0, PB_OCTAVES, PB_FREQS, device=x.device) - 1
    phase = x.float()[..., None] * freqs
    return torch.cat([phase.sin(), phase.cos()], dim=-1)


def _resample_matrix(index: Tensor, stage_n: int, lr_n: int, origin: int, size: int) -> Tensor:
    """``(len(index), size)`` float32 weights of 1-D bilinear resampling (zero padding) from
    the LR axis to stage pixels ``index``, over the crop's LR pixels ``[origin, origin + size)``."""
    p = unnormalize(centre_of(index, stage_n), torch.tensor(float(lr_n), device=index.device))
    lo = p.floor()
    w_hi = p - lo
    lo = lo.long()
    matrix = p.new_zeros(len(index), size)
    for tap, weight in ((lo, 1 - w_hi), (lo + 1, w_hi)):
        valid = (tap >= 0) & (tap < lr_n)
        local = (tap - origin).clamp(0, size - 1)
        matrix.scatter_add_(1, local[:, None], (weight * valid)[:, None])
    return matrix


class PositionalBias(nn.Module):
    """The official ``pb_encoder``: fixed sinusoids γ(rel), learned ``proj`` to one bias per head.

    Official γ(rel) = [sin(f·rel_y), sin(f·rel_x), cos(f·rel_y), cos(f·rel_x)] (16 each). Its
    y and x halves are separate, so ``proj(γ) = P_y·γ_y(rel_y) + P_x·γ_x(rel_x) + b`` exactly:
    the bias of a whole window needs the sinusoids of 7 rows and 7 columns, not of 49 pairs.
    """

    def __init__(self, heads: int) -> None:
        super().__init__()
        self.proj = nn.Linear(4 * PB_FREQS, heads)

    def forward(self, rel_y: Tensor, rel_x: Tensor) -> Tensor:
        """Bias ``(..., ny, nx, heads)`` of every pair of ``rel_y (..., ny)``, ``rel_x (..., nx)``."""
        w = self.proj.weight
        sin_y, sin_x, cos_y, cos_x = w.split(PB_FREQS, dim=1)
        by = F.linear(axis_encoding(rel_y).to(w.dtype), torch.cat([sin_y, cos_y], dim=1))
        bx = F.linear(axis_encoding(rel_x).to(w.dtype), torch.cat([sin_x, cos_x], dim=1), self.proj.bias)
        return by[..., :, None, :] + bx[..., None, :, :]


class CLIT(SRMethod):
    """EDSR/RDN encoder, ``conv_ch``, and ``n_stages`` LIT stages (a 1-stage model is LIT)."""

    arch = "clit"
    prep_radius = 2  # conv_ch, then stage 1's Q/K/V convs
    # a window's attention and folded value columns (``_attend``) serve every query of a chunk
    # nearest to it: 4096-query chunks ran ×4 and ×12 about 1.3× faster than 1024 on a CPU
    chunk_factor = 4

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 base_dim: int = 256, heads: int = 8, radius: int = 3, n_stages: int = 3,
                 hidden: list[int] | None = None) -> None:
        super().__init__()
        if base_dim % heads:
            raise ValueError(f"base_dim {base_dim} is not a multiple of heads {heads}")
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            base_dim=base_dim, heads=heads, radius=radius, n_stages=n_stages,
                            hidden=list(hidden or [256, 256, 256, 256]))
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.base_dim, self.heads, self.radius, self.n_stages = base_dim, heads, radius, n_stages
        self.window = 2 * radius + 1

        def convs() -> nn.ModuleList:
            return nn.ModuleList([nn.Conv2d(base_dim, base_dim, 3, padding=1) for _ in range(n_stages)])

        self.conv_ch = nn.Conv2d(self.encoder.out_dim, base_dim, 3, padding=1)
        self.conv_qs, self.conv_ks, self.conv_vs = convs(), convs(), convs()
        self.pb_encoder = PositionalBias(heads)
        in_dim = base_dim * self.window ** 2 + 2
        self.imnets = nn.ModuleList([MLP(in_dim, 3, self._config["hidden"], act="gelu")
                                     for _ in range(n_stages)])
        #: per stage, the value columns of ``_value_columns`` and the weight state they come from
        self._columns: dict[int, tuple[tuple[int, int, torch.dtype], Tensor]] = {}

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def _apply(self, fn: Any, recurse: bool = True) -> CLIT:
        self._columns.clear()  # .to(), .float(), …: the kept value columns would be stale
        return super()._apply(fn, recurse)

    @classmethod
    def from_official(cls, args: dict, sd: dict[str, Tensor]) -> tuple[dict, dict]:
        """Our config and state dict from an official ``.pth``'s ``model["args"]``/``["sd"]``.

        The stage count is the number of ``imnets.*`` in the weights; ``imnet_num`` and
        ``conv_num``, where the args give them, must agree with it.
        """
        encoder, encoder_args = official_encoder_config(args["encoder_spec"])
        if not (args.get("is_cell", True) and args.get("local_attn", True)):
            raise ValueError("only the full CLIT (is_cell, local_attn) is supported")
        pb = args.get("pb_spec") or {}
        pb_args = pb.get("args", {})
        if (pb.get("name"), pb_args.get("posenc_type"), pb_args.get("posenc_scale"),
                pb_args.get("enc_dims")) != ("posenc", "sinusoid", PB_OCTAVES, 4 * PB_FREQS):
            raise ValueError(f"unsupported CLIT positional bias {pb!r}")
        imnet = args["imnet_spec"]
        if (imnet["name"], imnet["args"].get("out_dim"), imnet["args"].get("act")) != ("mlp", 3, "gelu"):
            raise ValueError(f"unsupported CLIT imnet {imnet!r}")
        stages = {int(k.split(".")[1]) for k in sd if k.startswith("imnets.")}
        n_stages = len(stages)
        convs = {int(k.split(".")[1]) for k in sd if k.startswith("conv_qs.")}
        if stages != set(range(n_stages)) or convs != stages:
            raise ValueError(f"CLIT weights hold imnets {sorted(stages)} but conv sets {sorted(convs)}")
        for key in ("imnet_num", "conv_num"):
            if args.get(key, n_stages) != n_stages:
                raise ValueError(f"official {key}={args[key]} but the weights hold {n_stages} stages")
        config = dict(encoder=encoder, encoder_args=encoder_args, base_dim=args.get("base_dim", 192),
                      heads=args.get("head", 8),
                      radius=args.get("r", 3), n_stages=n_stages,
                      hidden=list(imnet["args"]["hidden_list"]))
        return config, dict(sd)

    def stage_factors(self, q: Queries, geom: CropGeometry,
                      stage_scales: Sequence[float] | None = None) -> list[float]:
        """The per-stage scales a query batch runs with: ``stage_scales`` when given (training:
        it may be shorter than ``n_stages``, a truncated cascade), else the decomposition of
        ``s = max(out_h / lr_h, out_w / lr_w)`` capped at ``n_stages``.

        [INFER] ``max`` over the axes: the official code has one scale for both axes; taking
        the larger keeps the choice invariant under transposition.
        """
        if stage_scales is not None:
            if not 1 <= len(stage_scales) <= self.n_stages:
                raise ValueError(f"{len(stage_scales)} stage scales for a {self.n_stages}-stage CLIT")
            return [float(s) for s in stage_scales]
        out_h, out_w = _shared_grid(q)
        scale = max(out_h / geom.lr_h, out_w / geom.lr_w)
        return scale_decomposition(scale, self.n_stages)

    def query_margin(self, scale: float) -> int:
        # stage 1: the window reaches r LR px around the nearest pixel, which may be the
        # home pixel's neighbour at exact ties. Stage k ≥ 2 (grid ρ× the LR grid): window r
        # plus conv 1 stage px around a pixel within 0.5 of the query, i.e. (r + 1.5)/ρ LR px
        # around a point within 0.5 LR px of the home pixel, plus the bilinear taps of Z (1).
        margin = self.radius + 1
        factors = scale_decomposition(scale, self.n_stages)
        for k in range(1, len(factors)):
            ratio = math.prod(factors[:k])
            margin = max(margin, math.ceil(1.5 + (self.radius + 1.5) / ratio))
        return margin

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        assert lr is not None, "CLIT adds the bilinear LR image and needs the LR crop"
        z = self.conv_ch(feat.to(self.conv_ch.weight.dtype)).contiguous(memory_format=torch.channels_last)
        tensors = {"z": z, **self._qkv(0, z), "lr": lr.float()}
        return StagedCrop({k: v.contiguous(memory_format=torch.channels_last)
                           for k, v in tensors.items()}, geom)

    def query(self, fc: FeatureCrop, q: Queries,
              stage_scales: Sequence[float] | None = None) -> Tensor:
        """Normalised RGB ``(B, N, 3)``; ``stage_scales`` as in :meth:`stage_factors`."""
        factors = self.stage_factors(q, fc.geom, stage_scales)
        sizes = stage_sizes(fc.geom.lr_h, fc.geom.lr_w, factors)
        coord, cell = q.coord(), q.cell()
        acc: Tensor | None = None
        for k, size in enumerate(sizes):
            maps = fc if k == 0 else self._stage(fc, k, size, coord)
            res = self._lit(k, maps, coord, cell)
            acc = res if acc is None else res + DECAY * acc
        assert acc is not None
        return acc + bilinear_base(fc, q)

    def forward(self, lr: Tensor, q: Queries, stage_scales: Sequence[float] | None = None) -> Tensor:
        """Whole-image path used by training; ``stage_scales`` as in :meth:`stage_factors`."""
        geom = CropGeometry.full(lr.shape[-2], lr.shape[-1])
        return self.query(self.prepare(self.encode(lr), lr, geom), q, stage_scales)

    def _stage(self, fc: FeatureCrop, k: int, size: tuple[int, int], coord: Tensor) -> FeatureCrop:
        """Stage ``k``'s Q/K/V maps for the queries ``coord``: those of the crop's whole extent
        (:func:`crop_stage_box`), built once and shared by the crop's chunks, where they hold at
        most ``SHARED_STAGE_PIXELS``; else those of the box the chunk reads."""
        box = crop_stage_box(fc.geom, fc.tensors["z"].shape[-2:], size)
        if not isinstance(fc, StagedCrop) or box is None or \
                (box[2] - box[0] + 1) * (box[3] - box[1] + 1) > SHARED_STAGE_PIXELS:
            return self._stage_maps(fc, k, size, self._read_box(coord, size))
        if (k, size) not in fc.stages:
            fc.stages[k, size] = self._stage_maps(fc, k, size, box)
        return fc.stages[k, size]

    def _read_box(self, coord: Tensor, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(y0, x0, y1, x1)`` (inclusive) of the stage grid ``size`` that ``_lit`` reads for
        ``coord``, widened by 1 (the convs' reach) and clipped to the grid."""
        n = coord.new_tensor(size)
        p = unnormalize(coord, n)
        near = nearest_index(coord, n).flatten(0, 1)  # per axis, the same as _lit's
        floor = p.floor().long().flatten(0, 1)
        lo = torch.minimum(near.amin(0) - self.radius, floor.amin(0)) - 1
        hi = torch.maximum(near.amax(0) + self.radius, floor.amax(0) + 1) + 1
        (y0, x0), (y1, x1) = lo.clamp(min=0).tolist(), torch.minimum(hi, n.long() - 1).tolist()
        return y0, x0, y1, x1

    def _stage_maps(self, fc: FeatureCrop, k: int, size: tuple[int, int],
                    box: tuple[int, int, int, int]) -> FeatureCrop:
        """Stage ``k``'s Q/K/V on ``box`` ``(y0, x0, y1, x1)`` (inclusive) of its grid.

        Z is resampled to the box; the convs zero-pad it, which is wrong only on its outer
        ring of pixels, never read (the box is widened by 1 around what is read).
        """
        y0, x0, y1, x1 = box
        z = fc.tensors["z"]
        g = fc.geom
        dev = z.device
        wy = _resample_matrix(torch.arange(y0, y1 + 1, device=dev), size[0], g.lr_h, g.y0, z.shape[-2])
        wx = _resample_matrix(torch.arange(x0, x1 + 1, device=dev), size[1], g.lr_w, g.x0, z.shape[-1])
        zk = torch.einsum("yh,bchw,xw->bcyx", wy, z.float(), wx).to(self.conv_ch.weight.dtype)
        return FeatureCrop(self._qkv(k, zk.contiguous(memory_format=torch.channels_last)),
                           CropGeometry(y0, x0, *size))

    def _qkv(self, k: int, z: Tensor) -> dict[str, Tensor]:
        """Stage ``k``'s query, key and value maps of its (channels-last) feature map ``z``."""
        return {"q": self.conv_qs[k](z), "k": self.conv_ks[k](z), "v": self.conv_vs[k](z)}

    def _lit(self, k: int, maps: FeatureCrop, coord: Tensor, cell: Tensor) -> Tensor:
        """Stage ``k``'s residual ``(B, N, 3)`` float32 at ``coord`` on stage map ``maps``.

        The attention and the first linear layer run per window (:meth:`_attend`); the query,
        the positional bias and the cell per query.
        """
        h, w = maps.geom.lr_h, maps.geom.lr_w
        b = coord.shape[0]
        r, side = self.radius, self.window
        first = self.imnets[k].first
        dt = first.weight.dtype
        cy, cx = coord[..., 0], coord[..., 1]
        jy, jx = nearest_index(cy, h), nearest_index(cx, w)
        # rel as the official code computes it: (q − (centre + offset·2/h))·h, in float32
        steps = torch.linspace(-r, r, side, device=coord.device)
        rel_y = (cy[..., None] - (centre_of(jy, h)[..., None] + steps * (2 / h))) * h
        rel_x = (cx[..., None] - (centre_of(jx, w)[..., None] + steps * (2 / w))) * w
        bias = self.pb_encoder(rel_y, rel_x).float().flatten(2, 3)  # (B, N, 49, heads)
        query = bilinear(maps, "q", coord).to(dt)
        rel_cell = (cell * cell.new_tensor([h, w])).to(dt)
        hid = F.linear(rel_cell, first.weight[:, side * side * self.base_dim:], first.bias)
        crops = [FeatureCrop({name: maps.tensors[name][i:i + 1] for name in ("k", "v")}, maps.geom)
                 for i in range(b)]
        values = torch.stack([self._attend(k, crops[i], jy[i], jx[i], query[i], bias[i]) for i in range(b)])
        return self.imnets[k].after_first(hid + values).float()

    def _value_columns(self, k: int, dtype: torch.dtype) -> Tensor:
        """Stage ``k``'s first-layer value columns ``(heads · area, dim, hidden)`` in ``dtype``
        (the values', so that autocast does not cast them again for every group's product).

        Without gradients they are kept while the weight is unchanged (same storage, same
        version): the permuted copy cost about a tenth of a ×4 render when made per chunk."""
        weight = self.imnets[k].first.weight
        area, dim = self.window ** 2, self.base_dim // self.heads
        stamp = (weight.data_ptr(), weight._version, dtype)
        if not torch.is_grad_enabled() and (kept := self._columns.get(k)) is not None and kept[0] == stamp:
            return kept[1]
        columns = weight[:, :area * self.base_dim].reshape(-1, area, self.heads, dim).permute(2, 1, 3, 0)
        columns = columns.reshape(self.heads * area, dim, -1).to(dtype)
        if not torch.is_grad_enabled():
            self._columns[k] = (stamp, columns)
        return columns

    def _attend(self, k: int, maps: FeatureCrop, jy: Tensor, jx: Tensor, query: Tensor, bias: Tensor) -> Tensor:
        """Stage ``k``'s attention over the 7×7 windows centred on stage pixels ``(jy, jx)`` and its
        first layer's value columns, ``(N, hidden)``, for the ``N`` queries ``query`` ``(N, C)``
        (positional bias ``bias`` ``(N, 49, heads)``) of one image (``maps``: batch 1).

        The first layer reads ``attn[q, p, h] · v[c + p, h]`` (window position ``p``, head
        ``h``, window centre ``c``), so its output is ``Σ_{p,h} attn[q, p, h] · F[c, p, h]``
        with ``F[c, p, h] = W[:, p, h] · v[c + p, h]``, which depends on the window, not on the
        query: ``F`` is computed once per distinct centre (12,544 × hidden MACs) and a query
        pays 49 · heads × hidden. At ×s about s² queries share a centre, so the layer costs
        ~s² times less than applied per query. The centre's window of keys is read once too,
        and its queries' logits come from one matrix product. Centres are taken
        ``FOLD_BYTES`` of F at a time, their queries padded to the largest count per centre.
        """
        side, heads, area = self.window, self.heads, self.window ** 2
        dim, hidden = self.base_dim // heads, self.imnets[k].first.out_features
        columns = self._value_columns(k, maps.tensors["v"].dtype)
        offsets = torch.arange(-self.radius, self.radius + 1, device=jy.device)
        span = maps.geom.lr_w + 4  # nearest indices lie in [-1, lr_w]: keys are unique
        centres, inverse = torch.unique(jy * span + jx + 2, return_inverse=True)
        out = query.new_zeros(len(jy), hidden)
        fold = max(1, FOLD_BYTES // (heads * area * hidden * columns.element_size()))  # centres
        for g0 in range(0, len(centres), fold):
            group = centres[g0:g0 + fold]
            g = len(group)
            cy = torch.div(group, span, rounding_mode="floor")
            cx = group - cy * span - 2
            gy = (cy[:, None, None] + offsets[:, None]).expand(-1, side, side).reshape(1, -1)
            gx = (cx[:, None, None] + offsets[None, :]).expand(-1, side, side).reshape(1, -1)
            keys = maps.gather("k", gy, gx).view(g, area, heads, dim).permute(0, 2, 3, 1)  # (g, heads, dim, area)
            values = maps.gather("v", gy, gx).view(g, area, heads, dim).permute(2, 1, 0, 3).reshape(-1, g, dim)
            members = ((inverse >= g0) & (inverse < g0 + g)).nonzero()[:, 0]
            local = inverse[members] - g0
            # each centre's queries in rows of a padded batch: slot = rank among its queries
            order = torch.argsort(local, stable=True)
            counts = torch.bincount(local, minlength=g)
            slot = torch.empty_like(local)
            slot[order] = torch.arange(len(local), device=local.device) - (counts.cumsum(0) - counts)[local[order]]
            rows = int(counts.max())
            q = query.new_zeros(g, rows, heads, dim).index_put((local, slot), query[members].view(-1, heads, dim))
            logits = torch.matmul(q.transpose(1, 2), keys).float().mul_(1 / math.sqrt(dim))  # (g, heads, rows, area)
            padded = bias.new_zeros(g, rows, heads, area).index_put((local, slot), bias[members].transpose(1, 2))
            attn = logits.add_(padded.transpose(1, 2)).softmax(dim=-1).to(query.dtype)
            attn = attn.transpose(1, 2).reshape(g, rows, heads * area)
            out.index_copy_(0, members, self._weighted_columns(values, columns, attn)[local, slot].to(out.dtype))
        return out

    def _weighted_columns(self, values: Tensor, columns: Tensor, attn: Tensor) -> Tensor:
        """``Σ_{h,p} attn[c, r, (h, p)] · F[c, (h, p)]`` with ``F[c, (h, p)] = values[(h, p), c] ·
        columns[(h, p)]``: ``(centres, rows, hidden)`` from ``values`` ``(heads · area, centres,
        dim)``, ``columns`` ``(heads · area, dim, hidden)`` and ``attn`` ``(centres, rows, heads · area)``.

        With at most ``PER_HEAD_ROWS`` queries per centre, F is made one head at a time (an eighth
        of it, which stays in the cache for its product with the attention) and the heads' sums
        add up in float32. Without gradients F is written straight into the layout the product
        reads (no transposed copy)."""
        centres, rows, width = attn.shape
        step = width // self.heads if rows <= PER_HEAD_ROWS else width
        buffer = None if torch.is_grad_enabled() else values.new_empty(centres, step, columns.shape[-1])
        total: Tensor | None = None
        for start in range(0, width, step):
            part = slice(start, start + step)
            if buffer is None:
                folded = torch.bmm(values[part], columns[part]).transpose(0, 1)
            else:
                folded = buffer
                torch.bmm(values[part], columns[part], out=folded.transpose(0, 1))
            product = torch.bmm(attn[:, :, part], folded)
            total = product if total is None else total.float() + product
        assert total is not None
        return total


@dataclass
class StagedCrop(FeatureCrop):
    """CLIT's prepared crop, with the Q/K/V maps of its later stages once built (``CLIT._stage``),
    by (stage, stage grid)."""

    stages: dict[tuple[int, tuple[int, int]], FeatureCrop] = field(default_factory=dict)


def crop_stage_box(geom: CropGeometry, crop: Sequence[int], size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """``(y0, x0, y1, x1)`` (inclusive) of the stage grid ``size`` whose bilinear taps all lie in
    the LR crop (``crop``: its height and width at ``geom``) or outside the image (zeros): the
    stage pixels that the crop determines. None when there are none."""
    spans = []
    for origin, extent, lr_n, n in ((geom.y0, crop[0], geom.lr_h, size[0]), (geom.x0, crop[1], geom.lr_w, size[1])):
        ratio = n / lr_n
        first = max(0, math.floor((origin - 1) * ratio) - 1)
        index = torch.arange(first, min(n, math.ceil((origin + extent + 1) * ratio) + 1))
        lo = unnormalize(centre_of(index, n), torch.tensor(float(lr_n))).floor().long()
        known = [(t < 0) | (t >= lr_n) | ((t >= origin) & (t < origin + extent)) for t in (lo, lo + 1)]
        inside = index[known[0] & known[1]]
        if not len(inside):
            return None
        spans.append((int(inside.min()), int(inside.max())))
    return spans[0][0], spans[1][0], spans[0][1], spans[1][1]


def _shared_grid(q: Queries) -> tuple[int, int]:
    """The output grid of a query batch; the cascade needs one per batch (as upstream)."""
    out_h, out_w = int(q.out_h[0]), int(q.out_w[0])
    if not (bool((q.out_h == out_h).all()) and bool((q.out_w == out_w).all())):
        raise ValueError("CLIT queries of one batch must share one output grid")
    return out_h, out_w


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_features(model: CLIT, lr: Tensor) -> dict[str, Any]:
    """The shared stem; the stage maps depend on the scale, so they are made on first use per
    scale decomposition."""
    return {"init": model.conv_ch(model.encoder(lr)), "lr": lr, "stages": {}}


def official_query(model: CLIT, maps: dict[str, Any], q: Queries) -> Tensor:
    coord, cell = ref.query_coords(q)
    lr = maps["lr"]
    factors = model.stage_factors(q, CropGeometry.full(lr.shape[-2], lr.shape[-1]))
    stages = maps["stages"].get(tuple(factors))
    if stages is None:
        stages = maps["stages"][tuple(factors)] = official_stage_maps(model, maps["init"], lr.shape[-2:], factors)
    return official_cascade(model, stages, lr, coord, cell)


def official_pb_encoding(rel: Tensor) -> Tensor:
    """CLIT's official sinusoid encoding of relative positions: ``rel @ b_vals.T`` with
    ``b_vals = [[f, 0]…, [0, f]…]``, then sin and cos."""
    b_vals = 2.0 ** torch.linspace(0, 10, 16, device=rel.device) - 1
    b_vals = torch.stack([b_vals, torch.zeros_like(b_vals)], dim=-1)
    b_vals = torch.cat([b_vals, torch.roll(b_vals, 1, -1)], dim=0)
    proj = torch.matmul(rel, b_vals.transpose(-2, -1))
    return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


def official_stage_maps(model: CLIT, init: Tensor, lr_size: tuple[int, int],
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


def _official_stage(model: CLIT, k: int, fq: Tensor, fk: Tensor, fv: Tensor, coord: Tensor,
                cell: Tensor) -> Tensor:
    """One stage of the official ``query_rgb`` (without the base image)."""
    bs, nq, _ = coord.shape
    h, w = fv.shape[-2:]
    r, head, dim = model.radius, model.heads, model.base_dim
    area = (2 * r + 1) ** 2
    ck = ref.sample_nearest(ref.feat_coord(fv), coord.unsqueeze(1).flip(-1)).unsqueeze(2)  # (B, N, 1, 2)
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
    attn = F.softmax(attn + model.pb_encoder.proj(official_pb_encoding(rel)), dim=-2).reshape(bs, nq, area, head, 1)
    sv = (sv.reshape(bs, nq, area, head, dim // head) * attn).reshape(bs, nq, area, -1)
    return model.imnets[k](torch.cat([sv.reshape(bs, nq, -1), rel_cell], dim=-1))


def official_cascade(model: CLIT, stage_maps: list[tuple[Tensor, Tensor, Tensor]], lr: Tensor,
                         coord: Tensor, cell: Tensor) -> Tensor:
    """The cascade of ``chop_forward`` for one chunk: stages accumulated with λ = 0.75, plus the
    bilinear (border-padded) base image. ``cell`` ``(B, N, 2)``; the first query's is used."""
    acc = None
    for k, (fq, fk, fv) in enumerate(stage_maps):
        pred = _official_stage(model, k, fq, fk, fv, coord, cell[:, 0])
        acc = pred if acc is None else pred + 0.75 * acc
    base = F.grid_sample(lr, coord.unsqueeze(2).flip(-1), mode="bilinear",
                         padding_mode="border", align_corners=False)[:, :, :, 0].permute(0, 2, 1)
    return acc + base


# training hooks (SPEC.training) -------------------------------------------------------------


#: scale of CLIT's first-layer value columns at the start (std ``gain/√columns``): L1 on 8 fixed
#: training samples after 30/60/90 LIT steps (batch 4 × 1024 px, Adam 1e-4, bf16) from 0.0814
#: (the bilinear start; the authors' LIIF: 0.0632): PyTorch's default start 0.0814 throughout,
#: gain 30 0.0809/0.0770/0.0763, gain 250 0.0795/0.0773/0.0765
CLIT_VALUE_GAIN = 30.0


def _redraw_mlp(imnet: torch.nn.Module) -> None:
    """A CLIT stage's MLP as ``liif → clit`` starts it: value columns N(0, (gain/√n)²), hidden
    layers He-normal, biases zero, the output layer zero (the stage adds nothing yet)."""
    layers = [m for m in imnet.layers if isinstance(m, torch.nn.Linear)]
    values = layers[0].in_features - 2  # the cell's two columns come last
    layers[0].weight[:, :values].normal_(0, CLIT_VALUE_GAIN / math.sqrt(values))
    for layer in layers[1:-1]:
        torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    for layer in layers[:-1]:
        layer.bias.zero_()
    layers[-1].weight.zero_()
    layers[-1].bias.zero_()


@torch.no_grad()
def start_new_stages(method: CLIT, loaded: Collection[str]) -> list[int]:
    """In a cumulative phase (CLIT-2 from LIT, CLIT-3 from CLIT-2), start each CLIT stage whose
    MLP the previous phase did not have as ``liif → clit`` starts every stage; PyTorch's
    default start adds a random residual and does not learn on a short schedule. Returns the
    stages so started."""
    new = [k for k in range(method.n_stages) if not any(key.startswith(f"imnets.{k}.") for key in loaded)]
    for k in new:
        _redraw_mlp(method.imnets[k])
    return new


def start_from_liif(liif: LIIF, clit: CLIT) -> WarmStart:
    """CLIT's MLPs read the 49 attention-scaled 256-channel value vectors of a 7×7 window and
    the cell (12,546 inputs, GELU) where LIIF's reads the 3×3-unfolded 64-channel code, the
    relative coordinate and the cell (580 inputs, ReLU, local ensemble); ``conv_ch``, the Q/K/V
    convolutions and the positional bias have no counterpart either. Only the encoder is
    copied. Every stage's output layer starts at zero: the model then starts exactly at CLIT's
    bilinear base image (as LTE's). PyTorch's default start of the MLPs does not learn on a
    short schedule: the attention-scaled values are tiny (norm ~0.14 per query at the start,
    against ~1 for the two cell inputs), so the first layer's pre-activations are mostly the
    cell term and the bias, the hidden layers' mostly their biases, and 90 LIT steps left the
    loss unchanged. So the MLPs are re-drawn: the value columns of the first layer
    N(0, (``CLIT_VALUE_GAIN``/√12,544)²), the hidden layers He-normal, their biases zero (the
    cell columns keep their start); convolutions and positional bias keep theirs. The
    cumulative phases' new stages start the same way (``start_new_stages``)."""
    lin = linear_layers(liif)
    first = clit.imnets[0].first
    values = first.in_features - 2
    for imnet in clit.imnets:
        _redraw_mlp(imnet)
    return WarmStart("liif → clit", [
        "encoder copied from LIIF; CLIT's decoder has no counterpart in LIIF (its MLPs read "
        f"{first.in_features} inputs, the attention-scaled values of a {clit.window}×{clit.window} "
        f"window and the cell, with GELU; LIIF's {lin[0].in_features}, the unfolded code, the "
        "relative coordinate and the cell, with ReLU) and starts at random, every stage's "
        "output layer at zero (the model starts at its bilinear base image)",
        f"MLPs re-drawn so that they learn on a short schedule: first-layer value columns "
        f"N(0, ({CLIT_VALUE_GAIN:g}/√{values})²), hidden layers He-normal, biases zero; "
        "convolutions, positional bias and cell columns keep PyTorch's default start"], decoder_from_source=False)


SPEC = MethodSpec(
    "clit", "CLIT", CLIT,
    ("Chen, Xu, Hong, Tsai, Kuo, Lee — Cascaded Local Implicit Transformer for "
     "Arbitrary-Scale Super-Resolution, CVPR 2023"),
    official_name="clit",
    cpu_cost=4.0,
    recipe="zoomsr/clit-edsr",
    cpu_note=("The slowest method on a CPU: a 1400×900 view takes 14 s at ×4 and 23 s at ×12 "
              "on a 2-core CPU (LIIF: 5–6 s). A GPU makes it interactive."),
    recipe_limits=("Measured: 0.2–1.1 dB under the authors' LIIF, and above about ×8 it paints "
                   "blocks the size of the input's pixels, fainter since two continuity phases but "
                   "still visible at ×30 (docs/RESULTS.md)"),
    tiny={**TINY_ENCODER, "base_dim": 16, "heads": 2, "n_stages": 3, "hidden": [16, 16]},
    tiny_train={**TRAIN_ENCODER, "base_dim": 16, "heads": 2, "radius": 1, "hidden": [32]},
    reference=Reference(official_features, official_query),
    training=TrainingHooks(starts_from={LIIF.arch: start_from_liif}, stages=lambda model: model.n_stages,
                           new_stages=start_new_stages))
