"""Users' own fixed-scale models installed as methods ("user model: ESRGAN ×4, from FILE").

``install`` reads a model file (``sr_core.spandrel_files``: checked, weights only), and writes
its weights into the user's checkpoint folder as ``NAME.safetensors`` with ZoomSR's metadata
under the header key ``zoomsr`` (format ``FORMAT``). ``installed`` lists those files;
``spec`` makes each a ``MethodSpec``, and ``load`` checks the file again as it builds the model
(a file in the user's folder is as untrusted as the original).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import safe_open, save_file

from sr_core.checkpoint_schema import MAX_TEXT, first_line
from sr_core.devices import PRECISIONS
from sr_core.files import atomic_target
from sr_core.methods.fixed_scale import FixedScale
from sr_core.methods.spec import MethodSpec
from sr_core.spandrel_files import ModelFileError, describe, read_state

FORMAT = "zoomsr-user-model/1"
#: a method name: lower case, digits, ``.``, ``_`` and ``-``
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
#: the names the viewer and the evaluation give the reference image
RESERVED = frozenset({"gt", "hr"})
_cache: dict[Path, tuple[tuple, dict[str, Path]]] = {}


def label(meta: dict[str, Any]) -> str:
    """``user model: ESRGAN ×4, from 4x-UltraSharp.pth``."""
    model = meta["model"]
    return f"user model: {model['architecture']} ×{model['scale']}, from {model['source_file']}"


def default_name(path: Path) -> str:
    """A method name made from a file name: ``4x-UltraSharp.pth`` → ``4x-ultrasharp``."""
    name = re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")[:40]
    return name or "model"


def check_name(name: str, taken: set[str]) -> None:
    if not NAME.fullmatch(name):
        raise ModelFileError(f"{name!r} cannot name a method: use up to 40 lower-case letters, digits, "
                             "'.', '_' or '-'")
    if name in taken or name in RESERVED:
        raise ModelFileError(f"a method named {name!r} exists already: choose another name (import --name "
                             "NAME, or rename the file)")


def install(source: str | os.PathLike, folder: Path, name: str | None, taken: set[str],
            out: Path | None = None) -> tuple[str, Path]:
    """Check ``source`` and write it as user model ``name`` (default: from the file name) into
    ``folder`` (or ``out``); returns the name and the file written. Nothing is written when
    the file is refused."""
    source = Path(source)
    name = name or default_name(source)
    check_name(name, taken)
    state = read_state(source)
    desc = describe(state, source.name)
    precisions = ["float32"] + (["bfloat16"] if desc.supports_bfloat16 else []) \
        + (["float16"] if desc.supports_half else [])
    meta = {
        "format": FORMAT, "method": name, "arch": FixedScale.arch, "trained": True,
        "model": {"architecture": desc.architecture.name, "id": desc.architecture.id, "scale": desc.scale,
                  "source_file": source.name[:MAX_TEXT], "precisions": precisions,
                  "parameters": sum(p.numel() for p in desc.model.parameters())},
    }
    meta["provenance"] = {"kind": "user", "summary": label(meta)}
    path = out or folder / f"{name}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata={"zoomsr": json.dumps(meta)})
    return name, path


def read_metadata(path: Path) -> dict[str, Any]:
    """The checked metadata of an installed user model, without reading its weights."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("zoomsr") or "null")
    except (SafetensorError, OSError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{path.name} is not a readable user model ({first_line(err)})") from None
    model = meta.get("model") if isinstance(meta, dict) else None
    if not isinstance(model, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a ZoomSR user model")
    precisions = model.get("precisions")
    if not (isinstance(model.get("architecture"), str) and type(model.get("scale")) is int
            and isinstance(model.get("source_file"), str) and isinstance(meta.get("method"), str)
            and type(model.get("parameters")) is int and isinstance(precisions, list)
            and "float32" in precisions and set(precisions) <= set(PRECISIONS)):
        raise ModelFileError(f"{path.name}: its user-model metadata is damaged")
    return meta


def installed(folder: Path) -> dict[str, Path]:
    """``{name: file}`` of the user models in ``folder`` (read again when the folder changes)."""
    try:
        files = sorted(folder.glob("*.safetensors"))
        stamp = tuple((path.name, path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    except OSError:
        return {}
    cached = _cache.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = {}
    for path in files:
        try:
            meta = read_metadata(path)
        except ModelFileError:
            continue  # ZoomSR's own checkpoints, or damaged files: not user models
        if meta["method"] == path.stem:
            found[path.stem] = path
    _cache[folder] = (stamp, found)
    return found


def spec(name: str, path: Path) -> MethodSpec:
    """The method of an installed user model."""
    meta = read_metadata(path)
    model = meta["model"]
    return MethodSpec(name, name, FixedScale, label(meta), precisions=tuple(model["precisions"]),
                      user_model=path)


def load(path: Path, device: str | torch.device = "cpu") -> tuple[FixedScale, dict[str, Any]]:
    """The model of an installed user model file, checked as when it was installed."""
    meta = read_metadata(path)
    desc = describe(read_state(path), path.name)
    model = meta["model"]
    if (desc.architecture.name, desc.scale) != (model["architecture"], model["scale"]):
        raise ModelFileError(f"{path.name} holds a {desc.architecture.name} ×{desc.scale} model, not the "
                             f"{model['architecture']} ×{model['scale']} its metadata names")
    window = getattr(desc.model, "window_size", 1)
    align = desc.size_requirements.multiple_of * (window if type(window) is int and window > 0 else 1)
    widest = max((getattr(m, "out_channels", 0) or getattr(m, "out_features", 0)
                  for m in desc.model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))), default=64)
    method = FixedScale(desc.model, desc, desc.scale, align=align, widest=widest)
    return method.to(device), meta
