"""The resumable training state: one torch file written atomically, read with
``weights_only=True`` (tensors, numbers, strings and containers only; nothing is unpickled).

It holds the model, optimiser(s) and discriminator, the phase and next step (the data
sampler's position: batches are pure functions of their step), the elapsed time, the
recipe digest, and the RNG states of python, numpy and torch (CPU and CUDA).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sr_core.files import atomic_target

VERSION = 1


def rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"python": random.getstate(),
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (plus the RNG states and the format version) atomically."""
    payload = {**state, "version": VERSION, "rng": rng_state()}
    with atomic_target(path) as tmp:
        torch.save(payload, tmp)


def load(path: Path) -> dict[str, Any]:
    """Read a state written by :func:`save` onto the CPU (weights only)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("version") != VERSION:
        raise ValueError(f"{path} is not a ZoomSR training state (version {VERSION})")
    return state
