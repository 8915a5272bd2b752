"""LTE: local texture estimator (Lee & Jin, CVPR 2022; METHODS_SPEC §3.7).

Matches the official code (``jaewon-lee-b/lte``, plain LTE, not LTE+) and uses its state-dict
key names, so official checkpoints load unchanged. Per LR pixel (``prepare``): amplitude
``coef`` and frequency ``freq`` maps, two 3×3 convs of the encoder features. Per ensemble
branch of a query: ``φ_k = freq_{2k}·rel_y + freq_{2k+1}·rel_x + phase_k(rel_cell)``, MLP on
``coef ⊙ [cos(πφ), sin(πφ)]``; the branches are blended (§1.4) and the bilinear
upsampling of the LR RGB (§1.5) is added.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_core.coords import Queries
from sr_core.encoders import make_encoder, official_encoder_config
from sr_core.methods import reference as ref
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, apply_layers
from sr_core.methods.ensemble import blend, branches, gather_branches
from sr_core.methods.hooks import Reference, TrainingHooks, WarmStart
from sr_core.methods.liif import LIIF
from sr_core.methods.mlp import MLP
from sr_core.methods.sampling import bilinear_base
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec

#: official test protocol: above ×4 the cell is that of ×4, i.e. rel_cell = 2/4 per axis
CLIP_REL_CELL = 0.5


class LTE(SRMethod):
    arch = "lte"
    prep_radius = 1

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 hidden_dim: int = 256, hidden: list[int] | None = None,
                 cell_clip: bool = True) -> None:
        super().__init__()
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            hidden_dim=hidden_dim, hidden=list(hidden or [256, 256, 256]),
                            cell_clip=cell_clip)
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.cell_clip = cell_clip
        self.coef = nn.Conv2d(self.encoder.out_dim, hidden_dim, 3, padding=1)
        self.freq = nn.Conv2d(self.encoder.out_dim, hidden_dim, 3, padding=1)
        self.phase = nn.Linear(2, hidden_dim // 2, bias=False)
        self.imnet = MLP(hidden_dim, 3, self._config["hidden"])

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def from_official(cls, args: dict, sd: dict[str, Tensor]) -> tuple[dict, dict]:
        """Our config and state dict from an official ``.pth``'s ``model["args"]``/``["sd"]``."""
        encoder, encoder_args = official_encoder_config(args["encoder_spec"])
        imnet = args["imnet_spec"]
        if imnet["name"] != "mlp" or imnet["args"].get("out_dim", 3) != 3:
            raise ValueError(f"unsupported LTE imnet {imnet!r}")
        config = dict(encoder=encoder, encoder_args=encoder_args,
                      hidden_dim=args.get("hidden_dim", 256),
                      hidden=list(imnet["args"]["hidden_list"]), cell_clip=True)
        return config, dict(sd)

    def query_margin(self, scale: float) -> int:
        return 1

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        assert lr is not None, "LTE adds the bilinear LR image and needs the LR crop"
        feat = feat.to(self.coef.weight.dtype)
        tensors = {"coef": self.coef(feat), "freq": self.freq(feat), "lr": lr.float()}
        return FeatureCrop({k: v.contiguous(memory_format=torch.channels_last)
                            for k, v in tensors.items()}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        br = branches(q, fc.geom.lr_h, fc.geom.lr_w)
        rel_cell = br.rel_cell.clamp(min=CLIP_REL_CELL) if self.cell_clip else br.rel_cell
        phase = F.linear(rel_cell, self.phase.weight.float())  # (B, 1, K), float32
        coef = gather_branches(fc, "coef", br)
        freq = gather_branches(fc, "freq", br).float()
        # channels (2k, 2k+1) hold the (y, x) components of frequency k:
        # φ = freq_y·rel_y + freq_x·rel_x + phase, in place on one (T, B, N, K) tensor
        arg = (freq[..., 0::2] * br.rel[..., :1]).addcmul_(freq[..., 1::2], br.rel[..., 1:])
        arg.add_(phase).mul_(math.pi)
        basis = torch.cat([arg.cos(), arg.sin()], dim=-1)
        pred = apply_layers(self.imnet.layers, (basis * coef).to(coef.dtype)).float()
        return blend(pred, br) + bilinear_base(fc, q)


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_features(model: LTE, lr: Tensor) -> dict[str, Any]:
    """The official ``gen_feat``: the coefficient and frequency maps of the image."""
    feat = model.encoder(lr)
    return {"coef": model.coef(feat), "freq": model.freq(feat), "lr": lr}


def official_query(model: LTE, maps: dict[str, Any], q: Queries) -> Tensor:
    """The official ``query_rgb`` with the test protocol's cell (× max(s / 4, 1) per axis
    when ``cell_clip``)."""
    coord, cell = ref.query_coords(q)
    if model.cell_clip:
        h, w = maps["lr"].shape[-2:]
        cell = cell * cell.new_tensor([max(int(q.out_h[0]) / h / 4, 1), max(int(q.out_w[0]) / w / 4, 1)])
    return official_lte_query(model, maps["coef"], maps["freq"], maps["lr"], coord, cell)


def official_lte_query(model: LTE, coef: Tensor, freq: Tensor, lr: Tensor, coord: Tensor,
                        cell: Tensor) -> Tensor:
    """The official LTE ``query_rgb`` on the per-image ``coef``/``freq`` maps of ``gen_feat``.

    ``cell`` is the official test protocol's (already enlarged above ×4 when ``cell_clip``).
    """
    h, w = coef.shape[-2:]
    rel_cell = cell * cell.new_tensor([h, w])
    bs, q = coord.shape[:2]
    preds, areas = [], []
    for grid, rel in ref.ensemble(coef, coord):
        q_coef, q_freq = ref.sample_nearest(coef, grid), ref.sample_nearest(freq, grid)
        q_freq = torch.stack(torch.split(q_freq, 2, dim=-1), dim=-1)
        q_freq = torch.sum(q_freq * rel.unsqueeze(-1), dim=-2)
        q_freq = q_freq + model.phase(rel_cell.reshape(bs * q, -1)).view(bs, q, -1)
        q_freq = torch.cat((torch.cos(math.pi * q_freq), torch.sin(math.pi * q_freq)), dim=-1)
        preds.append(model.imnet(q_coef * q_freq))
        areas.append(ref.area(rel))
    base = F.grid_sample(lr, coord.flip(-1).unsqueeze(1), mode="bilinear", padding_mode="border",
                         align_corners=False)[:, :, 0].permute(0, 2, 1)
    return ref.blend(preds, areas) + base


# training hooks (SPEC.training) -------------------------------------------------------------


def start_from_liif(liif: LIIF, lte: LTE) -> WarmStart:
    """LTE's decoder (coefficient/frequency convolutions, phase, MLP on the sinusoids) has no
    counterpart in LIIF; it keeps its random start, except the MLP's output layer, which starts
    at zero: the model then starts exactly at LTE's bilinear base image."""
    out = lte.imnet.layers[-1]
    out.weight.zero_()
    out.bias.zero_()
    return WarmStart("liif → lte", [
        "encoder copied from LIIF; LTE's decoder has no counterpart in LIIF and starts at random, "
        "its output layer at zero (the model starts at its bilinear base image)"], decoder_from_source=False)


SPEC = MethodSpec(
    "lte", "LTE", LTE,
    "Lee, Jin — Local Texture Estimator for Implicit Representation Function, CVPR 2022",
    official_name="lte",
    cpu_cost=1.5,
    recipe="zoomsr/lte-edsr",
    tiny={**TINY_ENCODER, "hidden_dim": 16, "hidden": [16, 16]},
    tiny_train={**TRAIN_ENCODER, "hidden_dim": 32, "hidden": [32]},
    reference=Reference(official_features, official_query),
    training=TrainingHooks(starts_from={LIIF.arch: start_from_liif}))
