"""Fixed interpolations (bicubic, nearest): methods with no encoder and no weights.

They read the normalised input pixels themselves, so ``encode`` is the identity and
``prepare`` only hands the crop's pixels to ``query``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod


class Interpolation(SRMethod):
    """Base of the weightless methods: subclasses set ``arch`` and write ``query_margin``/``query``."""

    needs_weights: ClassVar[bool] = False
    #: no per-query activations: a whole block is evaluated in one call
    chunked: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.encoder = None

    def config(self) -> dict[str, Any]:
        return {}

    def encode(self, lr: Tensor) -> Tensor:
        return lr

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        return FeatureCrop({"rgb": feat.float()}, geom)
