"""Whole-grid renders for the per-method tests."""

from __future__ import annotations

import torch

from sr_core.coords import Queries
from sr_core.methods.base import SRMethod


def out_size(lr: torch.Tensor, scale: float) -> tuple[int, int]:
    return round(lr.shape[-2] * scale), round(lr.shape[-1] * scale)


def full_render(model: SRMethod, lr: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """The whole ``out_h × out_w`` grid in one forward pass, ``(out_h, out_w, 3)``."""
    with torch.no_grad():
        return model(lr, Queries.grid(out_h, out_w, (0, out_h), (0, out_w))).reshape(out_h, out_w, 3)


def bfloat16_render(model: SRMethod, lr: torch.Tensor, scale: float = 4.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole grid at ``scale`` in float32, then with the model and input in bfloat16
    (``model`` is converted in place)."""
    size = out_size(lr, scale)
    ref = full_render(model, lr, *size)
    model.to(torch.bfloat16)
    return ref, full_render(model, lr.to(torch.bfloat16), *size)
