"""Training batches: random HR crops, per-method scale and pixel sampling, LR by ``imresize``.

Every random choice of batch ``step`` is drawn from generators seeded by
``(seed, phase, stream, step[, sample])``, never from a running RNG. So a batch is a pure
function of its step: it is the same with any number of DataLoader workers, after a
resume, and on every rank of a distributed run (rank ``r`` of ``W`` builds samples
``[r·B/W, (r+1)·B/W)`` of the global batch of ``B``).

LR images are made from the HR crop by ``sr_core.resize.imresize`` in float (MATLAB's
antialiased bicubic, the one resize of ZoomSR), clipped to [0, 1]. The official code bases
use PIL bicubic with uint8 truncation instead (METHODS_SPEC §8.2-5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from sr_core.methods.base import normalize
from sr_core.resize import imresize
from training.images import ImageStore
from training.recipe import ContinuitySpec, SamplerSpec

#: random streams: which image (per epoch), per-batch choices, per-sample choices, border pairs
_ORDER, _BATCH, _SAMPLE, _BORDER = 0, 1, 2, 3


@dataclass(frozen=True)
class BatchPlan:
    """What the whole global batch of one step shares."""

    images: tuple[int, ...]
    #: per-batch stage scales (``scale_per = 'batch'``), else None (drawn per sample)
    stage_scales: tuple[float, ...] | None


def fit_scales(scales: list[float], lr_size: int, limit: int) -> list[float]:
    """Shrink stage scales front to back (never below 1) until ``lr_size·∏s ≤ limit``.

    CLIT's rule: "if 48·∏s exceeds the smallest image side in the batch, s₁ is scaled down
    so it fits"; when s₁ = 1 is not enough (small images), the next stages follow.
    """
    scales = list(scales)
    for i in range(len(scales)):
        excess = lr_size * math.prod(scales) / limit
        if excess <= 1:
            break
        scales[i] = max(1.0, scales[i] / excess)
    return scales


class TrainingBatches(Dataset):
    """Map-style dataset whose item ``step`` is this rank's part of batch ``step``."""

    def __init__(self, store: ImageStore, spec: SamplerSpec, *, seed: int, phase: int,
                 batch: int, rank: int = 0, world: int = 1, border: ContinuitySpec | None = None) -> None:
        if batch % world:
            raise ValueError(f"the global batch {batch} is not divisible by {world} processes")
        need = spec.hr_size if spec.kind == "full" else spec.lr_size
        smallest = int(np.argmin(store.shapes.min(axis=1)))
        if store.shapes[smallest].min() < need:
            raise ValueError(f"{store.names[smallest]} is smaller than the {need} px the sampler needs")
        self.store, self.spec, self.seed, self.phase, self.border = store, spec, seed, phase, border
        self.batch, self.local, self.rank = batch, batch // world, rank
        self._orders: dict[int, np.ndarray] = {}

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.phase, *key])

    def _image(self, g: int) -> int:
        """Image of global sample ``g``: epochs are random permutations of the images."""
        n = len(self.store)
        epoch = g // n
        if epoch not in self._orders:
            self._orders = {epoch: self._rng(_ORDER, epoch).permutation(n)}
        return int(self._orders[epoch][g % n])

    def plan(self, step: int) -> BatchPlan:
        images = tuple(self._image(step * self.batch + j) for j in range(self.batch))
        if self.spec.scale_per == "sample":
            return BatchPlan(images, None)
        rng = self._rng(_BATCH, step)
        count = self.spec.stage_cycle[step % len(self.spec.stage_cycle)]
        scales = [d.draw(rng) for d in self.spec.scales[:count]]
        if self.spec.kind != "full":
            scales = fit_scales(scales, self.spec.lr_size, self.store.min_side(list(images)))
        return BatchPlan(images, tuple(scales))

    def __getitem__(self, step: int) -> dict[str, Tensor | tuple[float, ...]]:
        plan = self.plan(step)
        first = self.rank * self.local
        samples = [self.sample(plan, j, step) for j in range(first, first + self.local)]
        if self.border is not None:
            # one scale and one window place per batch: a cascade's stage maps then cover one
            # small box for the whole batch
            lr_side = samples[0]["lr"].shape[-1]
            win = min(self.border.window, lr_side)
            rng = self._rng(_BORDER, step)
            scale = int(rng.integers(self.border.scales[0], self.border.scales[1] + 1))
            origin = rng.integers(0, lr_side - win + 1, size=2)
            for j, s in zip(range(first, first + self.local), samples):
                s.update(self.border_queries(lr_side, win, origin, scale, self._rng(_BORDER, step, j)))
        batch: dict[str, Tensor | tuple[float, ...]] = {
            k: torch.stack([s[k] for s in samples]) for k in samples[0]}
        if plan.stage_scales is not None:
            batch["stage_scales"] = plan.stage_scales
        return batch

    def sample(self, plan: BatchPlan, j: int, step: int) -> dict[str, Tensor]:
        """Sample ``j`` of the global batch: normalised ``lr`` (3, h, w), output pixel indices
        ``iy``, ``ix`` (N,) on the ``out_h × out_w`` grid of the HR crop, target ``gt`` (N, 3)."""
        spec = self.spec
        img = self.store.image(plan.images[j])
        rng = self._rng(_SAMPLE, step, j)
        if plan.stage_scales is None:
            scale = min(spec.scales[0].draw(rng), min(img.shape[:2]) / spec.lr_size)
        else:
            scale = math.prod(plan.stage_scales)
        if spec.kind == "full":
            side, lr_side = spec.hr_size, max(1, round(spec.hr_size / scale))
        else:
            side, lr_side = min(round(spec.lr_size * scale), min(img.shape[:2])), spec.lr_size
        crop = self._crop(img, side, rng)
        lr = np.clip(imresize(crop, output_shape=(lr_side, lr_side)), 0, 1)
        if spec.kind == "pixels":
            flat = rng.choice(side * side, size=spec.pixels, replace=False)
            iy, ix = flat // side, flat % side
        elif spec.kind == "window":
            y0, x0 = rng.integers(0, side - spec.window + 1, size=2)
            iy, ix = np.meshgrid(np.arange(y0, y0 + spec.window), np.arange(x0, x0 + spec.window),
                                 indexing="ij")
            iy, ix = iy.reshape(-1), ix.reshape(-1)
        else:
            iy, ix = np.divmod(np.arange(side * side), side)
        return {"lr": normalize(torch.from_numpy(lr).permute(2, 0, 1).contiguous()),
                "iy": torch.from_numpy(iy.astype(np.int64)),
                "ix": torch.from_numpy(ix.astype(np.int64)),
                "out_h": torch.tensor(side), "out_w": torch.tensor(side),
                "gt": normalize(torch.from_numpy(crop[iy, ix]))}

    def border_queries(self, lr_side: int, win: int, origin: np.ndarray, scale: int,
                       rng: np.random.Generator) -> dict[str, Tensor]:
        """Continuity queries at the integer ``scale`` inside the ``win``² LR block at ``origin``
        (y, x): ``border_iy``/``border_ix`` ``(pairs·4,)``, four output pixels in a row across an
        input-pixel border per pair (the border lies between the second and the third), and
        ``border_out``, the output size."""
        assert self.border is not None
        pairs = self.border.pairs
        axis = rng.integers(2, size=pairs)  # 1: a vertical border, crossed along x
        # the border between LR pixels k-1 and k (k = 1 … win-1 in the block): output index k·scale
        across = (rng.integers(1, win, size=pairs) + origin[axis])[:, None] * scale + np.arange(-2, 2)
        along = (rng.integers(0, win * scale, size=pairs) + origin[1 - axis] * scale)[:, None]
        along = np.broadcast_to(along, across.shape)
        vertical = axis[:, None] == 1
        iy, ix = np.where(vertical, along, across), np.where(vertical, across, along)
        return {"border_iy": torch.from_numpy(iy.reshape(-1).astype(np.int64)),
                "border_ix": torch.from_numpy(ix.reshape(-1).astype(np.int64)),
                "border_out": torch.tensor(lr_side * scale)}

    def _crop(self, img: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
        """A random ``side²`` crop as float32 [0, 1], with the recipe's augmentations."""
        y0 = rng.integers(0, img.shape[0] - side + 1)
        x0 = rng.integers(0, img.shape[1] - side + 1)
        crop = img[y0:y0 + side, x0:x0 + side]
        for aug in self.spec.augment:
            if aug == "rot90":
                crop = np.rot90(crop, int(rng.integers(4)))
            elif rng.random() < 0.5:
                crop = {"hflip": crop[:, ::-1], "vflip": crop[::-1],
                        "transpose": crop.transpose(1, 0, 2)}[aug]
        return np.ascontiguousarray(crop, dtype=np.float32) / 255
