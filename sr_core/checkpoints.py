"""Checkpoints: safetensors weights with ZoomSR's JSON metadata in the header.

One self-describing file per checkpoint: the tensors, plus under the header key ``zoomsr``
a JSON object ``{"format", "method", "arch", "config", "trained", "training", "metrics"}``.
Official ``.pth`` files of LIIF / LTE / CLIT are imported through
``torch.load(weights_only=True)``; no other pickle is ever read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from sr_core.architectures import ARCHITECTURES, build
from sr_core.files import atomic_target
from sr_core.methods.base import SRMethod

FORMAT = "zoomsr-checkpoint/1"
#: official model names → our architectures (official code bases that published weights)
OFFICIAL_NAMES = {"liif": "liif", "lte": "lte", "clit": "clit"}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with a readable reason."""


def save(path: str | os.PathLike, model: SRMethod, meta: dict[str, Any], *,
         dtype: torch.dtype | None = None) -> Path:
    """Write ``model``'s weights (optionally stored as ``dtype``) and metadata atomically.

    ``meta`` must name the registry ``method`` and say whether the weights are ``trained``.
    """
    path = Path(path)
    if "method" not in meta or "trained" not in meta:
        raise ValueError("checkpoint metadata needs 'method' and 'trained'")
    header = {"format": FORMAT, "arch": model.arch, "config": model.config(), **meta}
    tensors = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
               .detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_target(path) as tmp:
        save_file(tensors, str(tmp), metadata={"zoomsr": json.dumps(header)})
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get("zoomsr")
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name} is not a readable safetensors checkpoint ({err}). "
                              "Official .pth files must be imported first (see README).") from err
    if raw is None:
        raise CheckpointError(f"{path.name} is a safetensors file without ZoomSR metadata")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path.name}: its metadata is not valid JSON ({err})") from err
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path.name}: unsupported checkpoint format {meta.get('format')!r}")
    if meta.get("arch") not in ARCHITECTURES:
        raise CheckpointError(f"{path.name}: unknown architecture {meta.get('arch')!r}")
    return meta


def load(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> tuple[SRMethod, dict[str, Any]]:
    """Build the model a checkpoint describes and load its weights (float32)."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        model = build(meta["arch"], meta["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path.name}: its configuration cannot be built ({err})") from err
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path.name}: its weights cannot be read ({err})") from err
    _load_state(model, tensors, path.name)
    return model.to(device), meta


def import_official(pth: str | os.PathLike) -> tuple[SRMethod, dict[str, Any]]:
    """Model and metadata from an official LIIF / LTE / CLIT ``.pth`` (weights only)."""
    pth = Path(pth)
    try:
        obj = torch.load(pth, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means "not a safe official checkpoint"
        raise CheckpointError(f"{pth.name} is not an official checkpoint that can be read safely "
                              f"(weights only; nothing else is ever unpickled): {err}") from err
    try:
        spec = obj["model"]
        name, args, sd = spec["name"], spec["args"], spec["sd"]
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"{pth.name}: expected {{'model': {{'name', 'args', 'sd'}}}}") from err
    if name not in OFFICIAL_NAMES:
        raise CheckpointError(f"{pth.name}: model {name!r} is not importable "
                              f"(supported: {', '.join(OFFICIAL_NAMES)})")
    arch = OFFICIAL_NAMES[name]
    try:
        config, state = ARCHITECTURES[arch].from_official(args, sd)
        model = build(arch, config)
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{pth.name}: unsupported {name} configuration ({err})") from err
    _load_state(model, state, pth.name)
    meta = {"method": arch, "trained": True,
            "training": {"source": f"official {name} checkpoint {pth.name}",
                         "epoch": obj.get("epoch") if isinstance(obj, dict) else None}}
    return model, meta


def _load_state(model: SRMethod, tensors: dict[str, torch.Tensor], name: str) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    wrong = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or unexpected or wrong:
        parts = [f"{label}: {', '.join(keys[:5])}{' …' if len(keys) > 5 else ''}"
                 for label, keys in (("missing", missing), ("unexpected", unexpected),
                                     ("wrong shape", wrong)) if keys]
        raise CheckpointError(f"{name} does not match its architecture ({'; '.join(parts)})")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
