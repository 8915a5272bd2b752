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
from sr_core.methods import reference as ref
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, addmm_into
from sr_core.methods.ensemble import blend, branches, gather_branches
from sr_core.methods.hooks import LrScale, Reference, TrainingHooks, WarmStart, WarmStartError, encoder_features
from sr_core.methods.liif import LIIF, linear_layers
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


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_query(model: UltraSR, maps: dict[str, Any], q: Queries) -> Tensor:
    """UltraSR per query: LIIF's formulation, ``e = [rel, φ(rel)]`` concatenated into every
    hidden layer's input, residuals from two layers below on odd layers from L3 on."""
    coord, cell = ref.query_coords(q)
    feat = ref.unfold3(maps["feat"])
    h, w = feat.shape[-2:]
    rel_cell = cell * cell.new_tensor([h, w])
    preds, areas = [], []
    for grid, rel in ref.ensemble(feat, coord):
        e = torch.cat([rel] + [torch.cat([torch.sin(f * rel), torch.cos(f * rel)], -1)
                               for f in model.freqs], -1)
        hid = F.relu(model.hidden[0](torch.cat([ref.sample_nearest(feat, grid), e, rel_cell], -1)))
        outs = [hid]
        for k, layer in enumerate(model.hidden[1:], start=1):
            pre = layer(torch.cat([hid, e], -1))
            hid = F.relu(pre + outs[k - 2] if k % 2 == 0 else pre)
            outs.append(hid)
        preds.append(model.out(hid))
        areas.append(ref.area(rel))
    return ref.blend(preds, areas)


# training hooks (SPEC.training) -------------------------------------------------------------


#: UltraSR's down-scaling of hidden layer 3 (layer 1 gets its square); Set5 ×4 at the start:
#: 32.21 dB with 0.02, 32.10 with 0.05, 31.84 with 0.1 (LIIF 32.24)
ULTRASR_EPS = 0.02


def start_from_liif(liif: LIIF, ultra: UltraSR) -> WarmStart:
    """LIIF's columns go to the same inputs, the spatial-encoding columns start at zero and the
    fifth hidden layer is an identity. UltraSR's residual additions (h1 into L3, h3 into L5)
    cannot be switched off, so layers 1 and 3 are scaled down by ``ε1 = ε3²`` and ``ε3`` (ReLU
    is positively homogeneous; layers 2 and 4 scale back up): the residuals then perturb LIIF's
    function by O(ε3). Adam's steps do not scale with a weight's size, so every scaled block of
    weights gets its learning rate scaled the same way (``lr_scale``): the optimisation then
    behaves as in LIIF's own parametrisation."""
    lin = linear_layers(liif)
    hidden = ultra.hidden
    if len(lin) != 5 or len(hidden) != 5 or {m.out_features for m in lin[:-1]} != {hidden[0].out_features}:
        raise WarmStartError("liif → ultrasr needs LIIF's 4 × 256 MLP and UltraSR's 5 × 256 default")
    eps3 = ULTRASR_EPS
    eps1 = eps3 ** 2
    code, width = ultra.code_dim, hidden[0].out_features
    n_e = hidden[1].in_features - width  # [rel, φ(rel)]
    for layer in hidden:
        layer.weight.zero_()
        layer.bias.zero_()
    # L1: [code, rel, φ, cell] ← LIIF's [code, rel, cell], φ columns zero; scaled by ε1
    w1 = lin[0].weight
    hidden[0].weight[:, :code + 2] = eps1 * w1[:, :code + 2]
    hidden[0].weight[:, code + n_e:] = eps1 * w1[:, code + 2:]
    hidden[0].bias.copy_(eps1 * lin[0].bias)
    # L2 undoes ε1; L3 is scaled by ε3 and L4 undoes it (encoding columns stay zero)
    for k, scale in ((1, 1 / eps1), (2, eps3), (3, 1 / eps3)):
        hidden[k].weight[:, :width] = scale * lin[k].weight
        hidden[k].bias.copy_((eps3 if k == 2 else 1.0) * lin[k].bias)
    # L5: identity (its input is LIIF's last hidden activation plus the residual ε3·h3)
    hidden[4].weight[:, :width] = torch.eye(width)
    ultra.out.load_state_dict(lin[4].state_dict())
    ultra.freqs.copy_(2.0 ** torch.arange(1, ultra.freqs.numel() + 1, dtype=torch.float32))
    # the re-scaled blocks: all of layers 1 and 3; the h columns of layers 2 and 4
    lr_scale: LrScale = {"hidden.0.weight": [[0, None, eps1]], "hidden.0.bias": [[0, None, eps1]],
                         "hidden.1.weight": [[0, width, 1 / eps1]], "hidden.2.weight": [[0, None, eps3]],
                         "hidden.2.bias": [[0, None, eps3]], "hidden.3.weight": [[0, width, 1 / eps3]]}
    return WarmStart("liif → ultrasr", [
        "encoder and output layer copied; LIIF's hidden layers 1-4 into UltraSR's 1-4, "
        f"layer 1 scaled by {eps1:g} and layer 3 by {eps3:g} (undone by layers 2 and 4) so that "
        "the residual additions perturb LIIF's function by O(ε)",
        "spatial-encoding columns zero; hidden layer 5 an identity; frequencies 2^n"], lr_scale)


SPEC = MethodSpec(
    "ultrasr", "UltraSR", UltraSR,
    ("Xu, Wang, Shi — UltraSR: Spatial Encoding is a Missing Key for Implicit Image "
     "Function-based Arbitrary-Scale Super-Resolution, arXiv 2103.12716"),
    cpu_cost=1.7,
    recipe="zoomsr/ultrasr-edsr",
    tiny={**TINY_ENCODER, "hidden_dim": 16},
    tiny_train={**TRAIN_ENCODER, "hidden_dim": 32, "n_hidden": 3, "n_freqs": 4},
    reference=Reference(encoder_features, official_query),
    training=TrainingHooks(starts_from={LIIF.arch: start_from_liif}))
