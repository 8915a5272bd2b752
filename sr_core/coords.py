"""LIIF coordinate conventions (METHODS_SPEC §1.2) on integer pixel indices.

Every query in ZoomSR names an output pixel by its integer (row, col) index on a virtual
output grid of ``out_h × out_w`` pixels. Normalised coordinates are derived here and only
here: pixel centre ``i`` of an axis with ``n`` pixels sits at ``-1 + (2i + 1) / n``, so the
outer pixel edges are at exactly ±1 and the pitch is ``2 / n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def make_coord(n: int, *, device: torch.device | str | None = None) -> Tensor:
    """Pixel-centre coordinates of an axis with ``n`` pixels, float32 in (-1, 1)."""
    return centre_of(torch.arange(n, device=device), n)


def centre_of(index: Tensor, n: int | Tensor) -> Tensor:
    """Normalised coordinate (float32) of pixel centre ``index`` on an axis of ``n`` pixels."""
    return (2 * index + 1).to(torch.float32) / n - 1


def nearest_index(coord: Tensor, n: int) -> Tensor:
    """Index of the pixel centre nearest to ``coord`` on an axis of ``n`` pixels.

    The integer form of ``grid_sample(mode='nearest', align_corners=False)``: unnormalise to
    ``((c + 1) n - 1) / 2`` and round half to even, in float32 like PyTorch does. The result
    may lie outside ``[0, n)``; callers treat such indices as zero padding.
    """
    return torch.round(((coord + 1) * n - 1) / 2).to(torch.long)


def home_index(index: Tensor, out_n: int | Tensor, lr_n: int) -> Tensor:
    """LR pixel whose area contains the centre of output pixel ``index`` (integer math).

    ``floor((i + 0.5) · lr_n / out_n)``: the same as the LR cell that contains the output
    pixel centre, used to find the LR footprint of a query and DIIF's groups.
    """
    return torch.div((2 * index + 1) * lr_n, 2 * out_n, rounding_mode="floor")


@dataclass(frozen=True)
class Queries:
    """A batch of output pixels to evaluate.

    ``iy``, ``ix``: ``(B, N)`` int64 indices into each sample's output grid;
    ``out_h``, ``out_w``: ``(B,)`` int64 output grid sizes (they may differ per sample in
    training, where each patch has its own scale).
    """

    iy: Tensor
    ix: Tensor
    out_h: Tensor
    out_w: Tensor

    @staticmethod
    def grid(out_h: int, out_w: int, rows: tuple[int, int], cols: tuple[int, int],
             device: torch.device | str | None = None) -> Queries:
        """All pixels of the rectangle ``rows × cols`` (half-open) in row-major order, B = 1."""
        ys = torch.arange(rows[0], rows[1], device=device)
        xs = torch.arange(cols[0], cols[1], device=device)
        iy, ix = torch.meshgrid(ys, xs, indexing="ij")
        sizes = torch.tensor([out_h], device=device), torch.tensor([out_w], device=device)
        return Queries(iy.reshape(1, -1), ix.reshape(1, -1), *sizes)

    @property
    def device(self) -> torch.device:
        return self.iy.device

    def coord(self) -> Tensor:
        """``(B, N, 2)`` float32 pixel-centre coordinates in (y, x) order."""
        y = centre_of(self.iy, self.out_h[:, None])
        x = centre_of(self.ix, self.out_w[:, None])
        return torch.stack([y, x], dim=-1)

    def cell(self) -> Tensor:
        """``(B, 1, 2)`` float32 size of one output pixel in normalised units."""
        return torch.stack([2 / self.out_h, 2 / self.out_w], dim=-1).to(torch.float32)[:, None]

    def subset(self, keep: Tensor) -> Queries:
        """The queries where the boolean ``(N,)`` ``keep`` is True (the same for every sample)."""
        return Queries(self.iy[:, keep], self.ix[:, keep], self.out_h, self.out_w)

    def split(self, size: int) -> list[Queries]:
        """Consecutive chunks of at most ``size`` queries (per sample)."""
        return [Queries(self.iy[:, i:i + size], self.ix[:, i:i + size], self.out_h, self.out_w)
                for i in range(0, self.iy.shape[1], size)]
