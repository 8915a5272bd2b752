"""Tiny random-weight models of every architecture (configs from the methods' specs), for tests only."""

from __future__ import annotations

import torch

from sr_core.architectures import SPECS, build
from sr_core.methods.base import SRMethod

#: each architecture's ``MethodSpec.tiny`` (CiSRGAN shares LIIF's)
TINY: dict[str, dict] = {spec.arch: spec.tiny for spec in SPECS}


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
