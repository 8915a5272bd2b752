"""Checkpoints: safetensors weights with ZoomSR's JSON metadata in the header.

One self-describing file per checkpoint: the tensors, plus under the header key ``zoomsr``
a JSON object ``{"format", "method", "arch", "config", "trained", "provenance", "training",
"metrics"}``; ``provenance`` says whose weights they are (``kind``: ``official``, ``zoomsr`` or
``imported``, and a one-line ``summary``).
Official ``.pth`` files of LIIF / LTE / CLIT are imported through
``torch.load(weights_only=True)``; no other pickle is ever read.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import safe_open, save_file

from sr_core.architectures import ARCHITECTURES, SPECS, build
from sr_core.checkpoint_schema import (
    SchemaError,
    check_finite,
    check_metadata,
    check_state_header,
    expected_state,
    first_line,
    load_checked,
    short_repr,
)
from sr_core.files import atomic_target
from sr_core.methods.base import SRMethod

FORMAT = "zoomsr-checkpoint/1"
#: official model names → our architectures (official code bases that published weights)
OFFICIAL_NAMES = {spec.official_name: spec.arch for spec in SPECS if spec.official_name}
#: safetensors dtype names of the floating-point tensors a checkpoint may hold
_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}


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
    """The checked JSON metadata of a checkpoint, without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: {_not_a_file(path)}")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get("zoomsr")
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name} is not a readable safetensors checkpoint ({first_line(err)}). "
                              "Official .pth files must be imported first (see README).") from err
    if raw is None:
        raise CheckpointError(f"{path.name} is a safetensors file without ZoomSR metadata")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(f"{path.name}: its metadata is not valid JSON ({first_line(err)})") from None
    try:
        return check_metadata(meta, FORMAT)
    except SchemaError as err:
        raise CheckpointError(f"{path.name}: {err}") from None


def load(path: str | os.PathLike, *, device: str | torch.device = "cpu") -> tuple[SRMethod, dict[str, Any]]:
    """Build the model a checkpoint describes and load its weights (float32).

    The metadata, the model's size and every tensor's name, shape and dtype are checked
    before the model is built; each tensor's values (finite) before it is used.
    """
    path = Path(path)
    meta = read_metadata(path)
    try:
        expected = expected_state(meta["arch"], meta["config"])
        with safe_open(str(path), framework="pt") as f:
            names = f.keys()
            check_state_header(expected, {k: (f.get_slice(k).get_shape(), _DTYPES.get(f.get_slice(k).get_dtype()))
                                          for k in names})
            model = build(meta["arch"], meta["config"])
            state = model.state_dict()
            with torch.no_grad():
                for key in names:
                    tensor = f.get_tensor(key)
                    check_finite(key, tensor)
                    state[key].copy_(tensor)
    except SchemaError as err:
        raise CheckpointError(f"{path.name}: {err}") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: its weights cannot be read ({first_line(err)})") from None
    return model.to(device), meta


def import_official(pth: str | os.PathLike) -> tuple[SRMethod, dict[str, Any]]:
    """Model and metadata from an official ``.pth`` (weights only; ``OFFICIAL_NAMES`` lists the models)."""
    pth = Path(pth)
    if not pth.is_file():
        raise CheckpointError(f"{pth}: {_not_a_file(pth)}")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol …": the error below says it
            warnings.simplefilter("ignore")
            obj = torch.load(pth, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{pth.name} is refused: it is not weights only (reading it would "
                              "need a full unpickler, which can run code)") from None
    except Exception as err:  # noqa: BLE001 - any failure means "not a safe official checkpoint"
        raise CheckpointError(f"{pth.name} is not a readable PyTorch checkpoint ({first_line(err)})") from None
    try:
        spec = obj["model"]
        name, args, sd = spec["name"], spec["args"], spec["sd"]
    except (KeyError, TypeError, IndexError) as err:
        raise CheckpointError(f"{pth.name}: expected {{'model': {{'name', 'args', 'sd'}}}}") from err
    if not isinstance(name, str) or name not in OFFICIAL_NAMES:
        raise CheckpointError(f"{pth.name}: model {short_repr(name)} is not importable "
                              f"(supported: {', '.join(OFFICIAL_NAMES)})")
    if not isinstance(args, dict) or not isinstance(sd, dict):
        raise CheckpointError(f"{pth.name}: its 'args' and 'sd' must be dictionaries")
    arch = OFFICIAL_NAMES[name]
    try:
        config, state = ARCHITECTURES[arch].from_official(args, sd)
        expected_state(arch, config)
        model = build(arch, config)
        load_checked(model, state)
    except SchemaError as err:
        raise CheckpointError(f"{pth.name}: {err}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise CheckpointError(f"{pth.name}: unsupported {name} configuration ({first_line(err)})") from None
    epoch = obj.get("epoch") if isinstance(obj, dict) else None
    meta = {"method": arch, "trained": True,
            "training": {"source": f"official {name} checkpoint {pth.name}",
                         "epoch": epoch if type(epoch) is int else None}}
    return model, meta


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a checkpoint (opening a FIFO would wait forever)."""
    return "is not a regular file" if path.exists() else "no such checkpoint file"
