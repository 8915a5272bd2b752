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
