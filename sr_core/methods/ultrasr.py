"""UltraSR: LIIF with a periodic spatial encoding and a deep-fused ResMLP (METHODS_SPEC §3.2).

No code or weights were published, so this is a re-implementation from the paper with the
spec's defaults (A1, A2). Per ensemble branch the decoder sees ``e = [rel, φ(rel)]``
(2 + 4·n_freqs dims) at the input of EVERY hidden layer:

* L1: ``[unfolded code, e, rel_cell] → hidden``; L_k (k ≥ 2): ``[h_{k-1}, e] → hidden``;
* ResMLP: the pre-activation of every odd layer from L3 on adds ``h_{k-2}`` (the output of
  the layer two below), then ReLU; the output layer maps to RGB.

The code part of L1 is the same for every query reading an LR pixel and is exactly a 3×3
convolution of the feature map, so ``prepare`` computes it once per LR pixel (as in LIIF).
``query`` never builds the concatenated inputs ``[h, e]``: each layer applies the matching
column blocks of its weight to ``h`` and to ``e`` and adds them (exact: the same products,
summed in another order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_core.coords import Queries
from sr_core.encoders import make_encoder
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, addmm_into
from sr_core.methods.ensemble import blend, branches, gather_branches
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec


def spatial_encoding(rel: Tensor, freqs: Tensor) -> Tensor:
    """φ(rel) in float32: ``[sin(w_n·rel), cos(w_n·rel)]`` per frequency ``n``.

    ``rel`` ``(..., 2)`` (y, x), ``freqs`` ``(F,)`` → ``(..., 4F)`` ordered
    ``[sin(w_1 rel_y), sin(w_1 rel_x), cos(w_1 rel_y), cos(w_1 rel_x), sin(w_2 rel_y), …]``.
    """
    arg = rel.float()[..., None, :] * freqs.float()[:, None]  # (..., F, 2)
    return torch.stack([arg.sin(), arg.cos()], dim=-2).flatten(-3)


class UltraSR(SRMethod):
    arch = "ultrasr"
    prep_radius = 1

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 hidden_dim: int = 256, n_hidden: int = 5, n_freqs: int = 12) -> None:
        super().__init__()
        if n_hidden < 1:
            raise ValueError("n_hidden must be at least 1")
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            hidden_dim=hidden_dim, n_hidden=n_hidden, n_freqs=n_freqs)
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.code_dim = self.encoder.out_dim * 9
        # [INFER] A1: w_n = 2^n, n = 1…n_freqs, learnable, one vector shared by both axes
        self.freqs = nn.Parameter(2.0 ** torch.arange(1, n_freqs + 1, dtype=torch.float32))
        e_dim = 2 + 4 * n_freqs
        dims = [self.code_dim + e_dim + 2] + [hidden_dim + e_dim] * (n_hidden - 1)
        self.hidden = nn.ModuleList(nn.Linear(d, hidden_dim) for d in dims)
        self.out = nn.Linear(hidden_dim, 3)

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def query_margin(self, scale: float) -> int:
        return 1

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> UltraSR:
        """Convert like any module, but never store the frequencies below float32.

        Learned frequencies reach ~4096; bf16/fp16 would round them by up to 16 / 2, which
        shifts the encoded phase by whole turns. They are 12 scalars, so they stay float32.
        """
        freqs = self.freqs.data
        super()._apply(fn, recurse)
        dtype = torch.promote_types(self.freqs.dtype, torch.float32)
        self.freqs.data = freqs.to(self.freqs.device, dtype)
        return self

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        first = self.hidden[0]
        weight = first.weight[:, :self.code_dim].reshape(first.out_features, -1, 3, 3)
        # L1's bias is folded in: every query adds exactly one z1 row per branch (branch
        # codes always lie inside the image, see ``gather_branches``)
        z1 = F.conv2d(feat.to(weight.dtype), weight, first.bias, padding=1)
        return FeatureCrop({"z1": z1.contiguous(memory_format=torch.channels_last)}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        br = branches(q, fc.geom.lr_h, fc.geom.lr_w)
        first = self.hidden[0]
        dtype = first.weight.dtype
        e = torch.cat([br.rel, spatial_encoding(br.rel, self.freqs)], dim=-1).to(dtype)
        e_rows = e.view(-1, e.shape[-1])
        cell = br.rel_cell.expand_as(br.rel).to(dtype)
        # L1: the gathered code part (bias included) plus the [e, rel_cell] part, in place
        extra = torch.cat([e, cell], dim=-1)
        h = addmm_into(gather_branches(fc, "z1", br), extra, first.weight[:, self.code_dim:])
        h = h.relu_()
        outs = [h]
        for k, layer in enumerate(self.hidden[1:], start=1):
            # L_k([h, e]) = W_h·h + (W_e·e + b): the concatenation split over the weight's
            # columns (exact; it saves writing the concatenated input)
            width = h.shape[-1]
            pre = torch.addmm(layer.bias, e_rows, layer.weight[:, width:].t()).view(h.shape)
            pre = addmm_into(pre, h, layer.weight[:, :width])
            # [INFER] A2: residual from two layers below (post-ReLU h), added before the ReLU
            if k % 2 == 0:
                pre += outs[k - 2]
            h = pre.relu_()
            outs.append(h)
        return blend(self.out(h).float(), br)


SPEC = MethodSpec(
    "ultrasr", "UltraSR", UltraSR,
    ("Xu, Wang, Shi — UltraSR: Spatial Encoding is a Missing Key for Implicit Image "
     "Function-based Arbitrary-Scale Super-Resolution, arXiv 2103.12716"),
    recipe="zoomsr/ultrasr-edsr",
    tiny={**TINY_ENCODER, "hidden_dim": 16},
    tiny_train={**TRAIN_ENCODER, "hidden_dim": 32, "n_hidden": 3, "n_freqs": 4})
