"""The seam between the viewer and the method registry.

The window asks a :class:`MethodProvider` which methods exist, whether each can run and for
the model itself (in a worker thread). :class:`RegistryProvider` is the real one; tests pass a
provider that adds fake methods, so the viewer is testable without trained weights.
"""

from __future__ import annotations

from typing import Protocol

import torch

from sr_core.logs import unexpected
from sr_core.methods.base import SRMethod
from sr_core.registry import MethodInfo, MethodStatus, get_info, load_method, method_names, method_status

#: the pseudo-method that shows the ground-truth reference in a panel
GROUND_TRUTH = "gt"
BICUBIC = "bicubic"

HOW_TO_GET_WEIGHTS = ("Import official weights with Methods ▸ Import weights… (or "
                      "'python main.py import FILE.pth --method NAME'), or train them "
                      "(docs/TRAINING.md). Your own Real-ESRGAN, SwinIR, SPAN … models: "
                      "'python main.py import MODEL.pth', or drop the file onto the window.")


class MethodProvider(Protocol):
    """What the viewer needs to know about methods."""

    def names(self) -> list[str]:
        """Method names in menu order."""

    def info(self, name: str) -> MethodInfo:
        """Display name, paper, capabilities."""

    def status(self, name: str) -> MethodStatus:
        """Whether the method can run, and why not (cheap: reads no weights)."""

    def load(self, name: str, device: torch.device) -> SRMethod:
        """The model with trained weights; raises with a readable message otherwise."""


def display_name(provider: MethodProvider, method: str) -> str:
    """How the window names a method (the ground-truth pseudo-method too)."""
    if method == GROUND_TRUTH:
        return "Ground truth"
    return provider.info(method).display_name if method in provider.names() else method


class RegistryProvider:
    """Methods of ``sr_core.registry`` (the user's installed models included): never random weights."""

    def names(self) -> list[str]:
        return method_names()

    def info(self, name: str) -> MethodInfo:
        return get_info(name)

    def status(self, name: str) -> MethodStatus:
        """Never raises: whatever lies in the checkpoint folders, the method shows as unavailable
        with the reason (and the window keeps working)."""
        try:
            return method_status(name)
        except Exception as err:  # noqa: BLE001 - a bug must not take the window down with it
            return MethodStatus(get_info(name), False, unexpected(err, f"{name}: its weights cannot be checked"))

    def load(self, name: str, device: torch.device) -> SRMethod:
        model, _ = load_method(name, device=device)
        return model
