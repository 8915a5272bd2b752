"""Validation PSNR during training: the evaluation harness on one set at one scale.

The LIIF benchmark protocol (Y channel, shave = scale) of ``training.evaluate``, rendered
through ``sr_core``'s one rendering path like every other number ZoomSR reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from sr_core.methods.base import SRMethod
from training.evaluate import Dataset, evaluate_model


@dataclass(frozen=True)
class ValidationSet:
    dataset: Dataset
    scale: int

    @staticmethod
    def load(folder: Path, scale: int) -> ValidationSet:
        return ValidationSet(Dataset.open(folder), scale)

    @property
    def key(self) -> str:
        """Metric name, e.g. ``set5_x4_psnr_y``."""
        return f"{self.dataset.name.lower()}_x{self.scale}_psnr_y"

    def psnr(self, model: SRMethod, device: torch.device) -> float:
        """Mean PSNR (dB) of ``model`` over the set; the model's train/eval mode is restored."""
        results = evaluate_model(model, self.dataset, [self.scale], protocol="liif", space="y",
                                 device=device)
        return results[self.scale].mean("psnr")
