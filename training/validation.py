"""Validation PSNR during training, computed through ``sr_core`` like every other render.

HR images are mod-cropped to the scale; the LR is ``imresize`` of the 8-bit HR (bit-exact
with MATLAB's bicubic, i.e. the benchmarks' ``LR_bicubic``), quantised to 8 bits. The model
renders the whole output grid through :class:`sr_core.render.Renderer`; PSNR is the LIIF
benchmark protocol (Y channel, shave = scale) of ``sr_core.metrics.psnr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sr_core.imaging import load_image
from sr_core.metrics import psnr
from sr_core.methods.base import SRMethod
from sr_core.render import Renderer, SourceImage
from sr_core.resize import imresize
from training.images import IMAGE_SUFFIXES


@dataclass(frozen=True)
class ValidationSet:
    name: str
    scale: int
    hr: tuple[np.ndarray, ...]
    lr: tuple[SourceImage, ...]

    @staticmethod
    def load(folder: Path, scale: int) -> "ValidationSet":
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no validation images in {folder}")
        hrs, lrs = [], []
        for path in files:
            pixels = np.rint(load_image(path).pixels * 255).astype(np.uint8)
            h, w = (pixels.shape[0] // scale) * scale, (pixels.shape[1] // scale) * scale
            hr = pixels[:h, :w]
            lr = imresize(hr, output_shape=(h // scale, w // scale))
            hrs.append(hr.astype(np.float32) / 255)
            lrs.append(SourceImage(lr.astype(np.float32) / 255))
        name = folder.parent.name if folder.name.upper() == "HR" else folder.name
        return ValidationSet(name, scale, tuple(hrs), tuple(lrs))

    @property
    def key(self) -> str:
        """Metric name, e.g. ``set5_x4_psnr_y``."""
        return f"{self.name.lower()}_x{self.scale}_psnr_y"

    def psnr(self, model: SRMethod, device: torch.device) -> float:
        """Mean PSNR (dB) of ``model`` over the set; the model's train/eval mode is restored."""
        was_training = model.training
        renderer = Renderer(model, device=device)
        try:
            values = [psnr(renderer.render(lr, *hr.shape[:2]), hr, shave=self.scale, space="y")
                      for hr, lr in zip(self.hr, self.lr)]
        finally:
            model.train(was_training)
        return float(np.mean(values))
