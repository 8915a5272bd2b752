"""Which compute devices exist, and turning a user's choice into a ``torch.device``."""

from __future__ import annotations

import torch

PRECISIONS = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def available_devices() -> list[str]:
    """``cpu``, then ``cuda:N`` for each CUDA GPU, then ``mps`` on Apple silicon."""
    devices = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def device_label(name: str) -> str:
    """A human name for a device string, e.g. ``cuda:0 (NVIDIA H100)``."""
    if name.startswith("cuda") and torch.cuda.is_available():
        return f"{name} ({torch.cuda.get_device_name(torch.device(name))})"
    return {"cpu": "CPU", "mps": "Apple GPU (MPS)"}.get(name, name)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks the first GPU if there is one; otherwise the named device, checked."""
    if name == "auto":
        return torch.device(available_devices()[1] if len(available_devices()) > 1 else "cpu")
    if name not in available_devices() and not (name == "cuda" and torch.cuda.is_available()):
        raise ValueError(f"device {name!r} is not available here; choose one of: "
                         f"auto, {', '.join(available_devices())}")
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """The model dtype for a precision name; half precision only on GPUs."""
    if name not in PRECISIONS:
        raise ValueError(f"precision {name!r} unknown; choose one of: {', '.join(PRECISIONS)}")
    if name != "float32" and device.type == "cpu":
        raise ValueError("half precision is only offered on GPUs; use float32 on the CPU")
    return PRECISIONS[name]
