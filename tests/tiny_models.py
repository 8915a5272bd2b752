"""Tiny random-weight configurations of every architecture, for tests only."""

from __future__ import annotations

import torch

from sr_core.architectures import build
from sr_core.methods.base import SRMethod

ENC = {"encoder_args": {"n_resblocks": 1, "n_feats": 8}}

TINY: dict[str, dict] = {
    "bicubic": {},
    "nearest": {},
    "liif": {**ENC, "hidden": [16, 16]},
    "ultrasr": {**ENC, "hidden_dim": 16},
    "ipe": {**ENC, "hidden_dim": 16},
    "lte": {**ENC, "hidden_dim": 16, "hidden": [16, 16]},
    "diif": {**ENC, "coarse_hidden": [16, 16], "fine_hidden": [16, 16]},
    "clit": {**ENC, "base_dim": 16, "heads": 2, "n_stages": 3, "hidden": [16, 16]},
}


def tiny_model(arch: str, seed: int = 0) -> SRMethod:
    """A tiny model with random weights large enough to make outputs depend on everything."""
    torch.manual_seed(seed)
    model = build(arch, TINY[arch])
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if arch == "clit":  # attention: unit-scale activations keep the softmax from saturating
            p.data.normal_(0, p[0].numel() ** -0.5 if p.dim() > 1 else 0.1)
        else:
            p.data.normal_(0, 0.2)
    return model.eval()
