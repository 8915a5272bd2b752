"""The papers' reference formulations of the implicit functions, as the benchmarks run them.

This is how the official LIIF code evaluates an implicit function: unfold the feature map,
fetch codes with ``grid_sample(mode='nearest')`` for each of the four ensemble branches,
run the full MLP per query, blend, and decode in chunks of 30 000 queries in float32. The
benchmarks time it against ``sr_core``'s fast path and the tests check that both give the
same pixels. Each method writes its formulation beside its code (``MethodSpec.reference``,
built from the steps in ``sr_core.methods.reference``).

``reference_features`` does the per-image work (encoder and per-image maps), and
``reference_query`` the per-query work, in chunks of ``CHUNK``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from sr_core.architectures import ARCHITECTURES, SPECS
from sr_core.coords import Queries
from sr_core.methods.base import SRMethod
from sr_core.methods.hooks import Reference

CHUNK = 30_000
#: each architecture's reference formulation (CiSRGAN shares LIIF's)
REFERENCES: dict[str, Reference] = {spec.arch: spec.reference for spec in SPECS if spec.reference}
#: architectures with a reference formulation: every learned one
#: (tests/sr_core/methods/test_reference.py fails for a new architecture until it has one)
REFERENCE_ARCHS = tuple(arch for arch, cls in ARCHITECTURES.items() if cls.needs_weights)


def reference_features(model: SRMethod, lr: Tensor) -> dict[str, Any]:
    """The per-image work of the reference formulation (encoder and per-image maps)."""
    return REFERENCES[model.arch].features(model, lr)


def reference_query(model: SRMethod, maps: dict[str, Any], q: Queries,
                    chunk: int = CHUNK) -> Tensor:
    """Normalised RGB ``(B, N, 3)`` of queries ``q``, evaluated in chunks of ``chunk``."""
    query = REFERENCES[model.arch].query
    with torch.no_grad():
        return torch.cat([query(model, maps, part) for part in q.split(chunk)], dim=1)

