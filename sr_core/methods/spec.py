"""``MethodSpec``: everything ZoomSR knows about one user-facing method, in one place.

Each method module ends with its ``SPEC``; ``sr_core.architectures.SPECS`` lists them, and the
registry, the official importer, the training recipes and hooks, the benchmarks' reference
formulations and the tests' tiny models all derive their tables from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from sr_core.devices import PRECISIONS
from sr_core.methods.base import SRMethod
from sr_core.methods.hooks import OfficialWeights, Reference, TrainingHooks


@dataclass(frozen=True)
class MethodSpec:
    """A method: what users pick (CiSRGAN is LIIF's architecture with its own weights)."""

    name: str
    display_name: str
    architecture: type[SRMethod]
    paper: str
    #: the model precisions the decoder tolerates (coordinates always stay float32)
    precisions: tuple[str, ...] = tuple(PRECISIONS)
    #: the model name in the authors' ``.pth`` that ``checkpoints.import_official`` reads
    official_name: str | None = None
    #: where the authors' weights that the shipped checkpoint holds are published
    #: (``python -m training official <name>`` rebuilds the checkpoint from them)
    published: OfficialWeights | None = None
    #: the recipe behind the shipped checkpoint (``training/configs/<recipe>.toml``)
    recipe: str | None = None
    #: the smallest config that exercises every code path (render, reference and unit tests)
    tiny: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the training tests' config (None: nothing to train): wider than ``tiny`` because the
    #: learning tests' thresholds (beat bicubic within 200 steps at batch 4) were set at it
    tiny_train: dict[str, Any] | None = field(default=None, compare=False)
    #: perception-oriented (GAN-trained): judged by how close its sharpness comes to the HR's
    #: while its PSNR stays near bicubic's, not by PSNR above bicubic's
    perceptual: bool = False
    #: what a CPU user should know before choosing it (shown with the method in the viewer)
    cpu_note: str | None = None
    #: the decoder's CPU seconds per output pixel relative to LIIF's, paper size, features
    #: cached (measured at ×4 and ×12 in bfloat16 and float32, rounded; record
    #: ``benchmarks/results/issue30-allocator-s38.json``): the viewer's first guess at the order
    #: of the panels until it has measured the method (None: no guess, it is measured first)
    cpu_cost: float | None = None
    #: the measured limits of weights trained by ``recipe`` (shown with such weights' provenance)
    recipe_limits: str | None = None
    #: what training asks of the method: warm start from LIIF, cascade stages, held bands
    training: TrainingHooks = field(default_factory=TrainingHooks, compare=False)
    #: the papers' per-query formulation (None: a fixed interpolation, nothing to compare)
    reference: Reference | None = field(default=None, compare=False)
    #: a user's installed model (``sr_core.user_models``): the file that holds its weights and
    #: says what it is (None: one of ZoomSR's methods, whose weights the registry looks up)
    user_model: Path | None = None

    @property
    def arch(self) -> str:
        """The architecture's name (``SRMethod.arch``), as checkpoints store it."""
        return self.architecture.arch

    @property
    def needs_weights(self) -> bool:
        return self.architecture.needs_weights

    def dtype(self, precision: str) -> torch.dtype:
        """The model dtype for a requested precision: float32 where the method does not tolerate it."""
        return PRECISIONS[precision] if precision in self.precisions else torch.float32


#: the encoder of the tiny configs: one residual block of 8 channels
TINY_ENCODER: dict[str, Any] = {"encoder_args": {"n_resblocks": 1, "n_feats": 8}}
#: the same for the training tests' configs, which name the encoder as recipes do
TRAIN_ENCODER: dict[str, Any] = {"encoder": "edsr-baseline", **TINY_ENCODER}
