"""The interface every method implements: ``encode → prepare → query``.

* ``encode(lr)`` runs the CNN encoder on (a crop of) the normalised LR image. It is the
  expensive per-LR-pixel step; the renderer tiles it with an exact halo
  (``encoder_radius``) and caches its output.
* ``prepare(feat, lr, crop)`` does the remaining per-LR-pixel work of the decoder on a crop
  of those features (e.g. LIIF's first linear layer applied to the unfolded codes, which is
  exactly a 3×3 convolution). Values within ``prep_radius`` of a crop edge that is not an
  image edge are wrong; the renderer keeps that margin outside the queried area.
* ``query(prepared, queries)`` evaluates output pixels. It reads prepared values at most
  ``query_margin(scale)`` LR pixels away from the LR pixel that contains the query.

All coordinates are global (the virtual output grid of the whole image), so a tile and a
whole-image render compute the same numbers. Values are normalised to [-1, 1]
(METHODS_SPEC §1.1) on both sides of the interface.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from sr_core.coords import Queries


def normalize(rgb01: Tensor) -> Tensor:
    """[0, 1] → [-1, 1] (sub 0.5, div 0.5; no dataset mean)."""
    return (rgb01 - 0.5) / 0.5


def denormalize(x: Tensor) -> Tensor:
    """[-1, 1] → [0, 1], clamped."""
    return (x * 0.5 + 0.5).clamp_(0, 1)


@dataclass(frozen=True)
class CropGeometry:
    """Where a crop of LR-resolution tensors sits in the full LR image."""

    y0: int
    x0: int
    lr_h: int
    lr_w: int

    @staticmethod
    def full(lr_h: int, lr_w: int) -> CropGeometry:
        return CropGeometry(0, 0, lr_h, lr_w)


@dataclass
class FeatureCrop:
    """Prepared per-LR-pixel tensors ``(B, C, h, w)`` of one crop, plus its geometry."""

    tensors: dict[str, Tensor]
    geom: CropGeometry

    def gather(self, name: str, gy: Tensor, gx: Tensor) -> Tensor:
        """Values of ``tensors[name]`` at global LR indices ``(B, N)`` → ``(B, N, C)``.

        Indices outside the image read zeros (the zero padding of the official code).
        """
        return gather(self.tensors[name], gy - self.geom.y0, gx - self.geom.x0,
                      valid=_inside(gy, self.geom.lr_h) & _inside(gx, self.geom.lr_w))


def _inside(index: Tensor, n: int) -> Tensor:
    return (index >= 0) & (index < n)


def gather(t: Tensor, ly: Tensor, lx: Tensor, valid: Tensor | None = None) -> Tensor:
    """``t[b, :, ly, lx]`` for local indices ``(B, N)`` → ``(B, N, C)``; zeros where not valid.

    Store ``t`` channels-last (``memory_format=torch.channels_last``): then the
    ``(pixels, channels)`` table below is a view, not a copy per call.
    """
    b, c, h, w = t.shape
    flat = ly.clamp(0, h - 1) * w + lx.clamp(0, w - 1)
    table = t.permute(0, 2, 3, 1).reshape(b, h * w, c)
    if b == 1:
        out = table[0].index_select(0, flat[0])[None]
    else:
        out = torch.gather(table, 1, flat[..., None].expand(-1, -1, c))
    if valid is not None:
        out = out * valid[..., None].to(out.dtype)
    return out


def apply_layers(layers: Iterable[nn.Module], h: Tensor) -> Tensor:
    """``layers`` applied in turn, with every ``nn.ReLU`` applied in place.

    Same function as ``nn.Sequential(*layers)(h)``; an in-place ReLU saves allocating and
    writing one activation-sized tensor per layer (autograd allows it: ReLU's gradient needs
    only its output, and the linear layer before it does not keep its own output).
    """
    for layer in layers:
        h = h.relu_() if isinstance(layer, nn.ReLU) else layer(h)
    return h


def addmm_into(acc: Tensor, rows: Tensor, weight: Tensor) -> Tensor:
    """``acc += rows @ weight.t()`` in place on ``acc``'s ``(M, out)`` view; returns ``acc``.

    ``rows`` and ``weight`` are cast to ``acc``'s dtype first. Outside autocast they already
    have it and the casts return the tensors themselves (bit-identical results); under
    autocast ``acc`` comes from a bf16 conv or matmul while coordinates and weights are
    float32, and an in-place ``addmm_`` does not autocast its operands.
    """
    acc.view(-1, acc.shape[-1]).addmm_(rows.reshape(-1, rows.shape[-1]).to(acc.dtype),
                                       weight.t().to(acc.dtype))
    return acc


class SRMethod(nn.Module):
    """Base class of every method (bicubic included)."""

    #: registry name of the architecture, e.g. ``"liif"``
    arch: ClassVar[str]
    #: per-LR-pixel decoder work done in ``prepare`` reads this many pixels around each pixel
    prep_radius: int = 0
    #: False for fixed interpolations (bicubic, nearest): built and run without a checkpoint
    needs_weights: ClassVar[bool] = True
    #: whether the renderer evaluates a block's queries in chunks of ``Renderer.chunk``
    #: (bounding the per-query activations); False: the whole block in one call
    chunked: ClassVar[bool] = True
    #: the renderer's encoder tiles (and so its encoded pieces) start on multiples of this many
    #: LR pixels (a window-attention network partitions a piece as it partitions the image)
    tile_multiple: int = 1
    #: a chunk holds ``Renderer.chunk`` × this many queries (a method whose work is shared by
    #: the queries of a chunk, as CLIT's per-window attention, takes larger chunks)
    chunk_factor: ClassVar[int] = 1

    encoder: nn.Module | None

    @property
    def max_piece(self) -> int | None:
        """The largest side (LR pixels, halo included) to encode at once; None: the renderer's."""
        return None

    @property
    def encoder_radius(self) -> int:
        """Receptive-field radius of the encoder in LR pixels (0 without an encoder)."""
        return 0 if self.encoder is None else int(self.encoder.radius)

    def config(self) -> dict[str, Any]:
        """Architecture hyper-parameters; ``type(self)(**config())`` rebuilds the model."""
        raise NotImplementedError

    def query_margin(self, scale: float) -> int:
        """LR pixels around a query's home pixel that ``query`` may read at this scale."""
        raise NotImplementedError

    def encode(self, lr: Tensor) -> Tensor:
        """Encoder features ``(B, C, h, w)`` of the normalised LR ``(B, 3, h, w)``."""
        assert self.encoder is not None
        return self.encoder(lr)

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        """Per-LR-pixel decoder work on a crop (default: none)."""
        return FeatureCrop({"feat": feat}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        """Normalised RGB ``(B, N, 3)`` of the queried output pixels."""
        raise NotImplementedError

    def forward(self, lr: Tensor, q: Queries) -> Tensor:
        """Whole-image path used by training: ``lr`` is the full normalised LR batch."""
        geom = CropGeometry.full(lr.shape[-2], lr.shape[-1])
        return self.query(self.prepare(self.encode(lr), lr, geom), q)

    @property
    def encoder_dtype(self) -> torch.dtype:
        """dtype of the encoder weights, which the LR input is cast to (float32 without an encoder).

        Not "the model's dtype": some methods keep small parameters in float32 on purpose
        (UltraSR's frequencies), so the first parameter says nothing about the rest."""
        weight = None if self.encoder is None else next(self.encoder.parameters(), None)
        return torch.float32 if weight is None else weight.dtype
