"""Fake methods and a fake method provider: the viewer's test seam (no trained weights needed)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from app.model.method_provider import RegistryProvider
from sr_core.coords import Queries, home_index
from sr_core.methods.base import FeatureCrop, SRMethod
from sr_core.methods.liif import LIIF
from sr_core.registry import MethodInfo, MethodStatus, MissingWeightsError

#: generous, for a loaded two-core CI machine
WAIT_MS = 30_000


class FakeMethod(SRMethod):
    """A tiny deterministic method: the LR pixel under each query plus a coordinate pattern.

    It records the threads it runs on and its output grids; it can block on a lock
    (to hold work in flight) or raise a (simulated) out-of-memory error.
    """

    arch = "fake"

    def __init__(self, lock: threading.Lock | None = None, oom: bool = False) -> None:
        super().__init__()
        self.encoder = None
        self.gain = nn.Parameter(torch.ones(1))
        self.lock = lock
        self.oom = oom
        self.threads: set[int] = set()
        self.grids: list[tuple[int, int]] = []

    def config(self) -> dict:
        return {}

    def query_margin(self, scale: float) -> int:
        return 1

    def query(self, fc: FeatureCrop, q: Queries) -> torch.Tensor:
        self.threads.add(threading.get_ident())
        self.grids.append((int(q.out_h[0]), int(q.out_w[0])))
        if self.lock is not None:
            with self.lock:
                pass
        if self.oom:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        gy = home_index(q.iy, q.out_h[:, None], fc.geom.lr_h)
        gx = home_index(q.ix, q.out_w[:, None], fc.geom.lr_w)
        rgb = fc.gather("feat", gy, gx)
        pattern = 0.05 * torch.sin(q.coord().sum(-1, keepdim=True) * 40)
        return (rgb + pattern).clamp(-1, 1) * self.gain


class FakeProvider(RegistryProvider):
    """Bicubic from the registry plus fake methods: ``factories[name]`` builds one, None = no weights."""

    def __init__(self, factories: dict[str, Callable[[], SRMethod] | None]) -> None:
        self.factories = factories
        self.loads: list[tuple[str, int]] = []

    def names(self) -> list[str]:
        return ["bicubic", *self.factories]

    def info(self, name: str) -> MethodInfo:
        if name == "bicubic":
            return super().info(name)
        # stands for a trained model; float32 even where the CPU has bfloat16 (fakes may hold locks,
        # which the bfloat16 probe cannot copy)
        return MethodInfo(name, name.upper(), LIIF, f"{name} — a fake method for tests", precisions=("float32",))

    def status(self, name: str) -> MethodStatus:
        if name == "bicubic":
            return super().status(name)
        ok = self.factories[name] is not None
        return MethodStatus(self.info(name), ok, "trained weights" if ok else "no trained weights shipped yet")

    def load(self, name: str, device: torch.device) -> SRMethod:
        self.loads.append((name, threading.get_ident()))
        if name == "bicubic":
            return super().load(name, device)
        factory = self.factories[name]
        if factory is None:
            raise MissingWeightsError(f"{name} has no trained weights")
        return factory()


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, colourful test picture in [0, 1]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = [0.5 + 0.4 * np.sin(x / (5 + 3 * c) + y / (7 + 2 * c) + rng.uniform(0, 6)) for c in range(3)]
    return np.clip(np.stack(channels, axis=2), 0, 1).astype(np.float32)


def settle(qtbot, window) -> None:
    """Wait until every panel shows final tiles."""
    qtbot.waitUntil(window.scheduler.is_settled, timeout=WAIT_MS)
