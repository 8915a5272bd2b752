"""Reading a user's super-resolution model file through spandrel, as untrusted input.

``.safetensors`` is read as it is; ``.pth``/``.ckpt`` only through
``torch.load(weights_only=True)`` (no pickle that can run code). Before any weight is read
into memory, the file's size, tensor count, shapes and total element count are checked
against the budgets of ZoomSR's own checkpoints (``checkpoint_schema.MAX_PARAMETERS``); the
architecture spandrel detects is then built on the ``meta`` device and sized (parameters and
buffers) before it is built for real; NaN or infinite weights are refused.

Only spandrel's main package is used (its permissively licensed architectures);
``spandrel_extra_arches`` (non-commercial and other restricted licences) is never installed
into its registry.

spandrel's ``import`` imports every architecture, and two of them (LaMa, an inpainting model,
and RestoreFormer, a face restoration model, both refused here) import torchvision, whose
registry build does not load beside a CPU-only torch. :func:`import_spandrel` imports spandrel
with a stand-in for the two torchvision functions they name, so ZoomSR never imports
torchvision (see the README's "Your own models").
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import safe_open
from torch.overrides import TorchFunctionMode

from sr_core.checkpoint_schema import MAX_PARAMETERS, SchemaError, check_finite, first_line, short_repr

#: the files a user model may come in
SUFFIXES = (".safetensors", ".pth", ".ckpt")
#: larger files are refused before they are opened (MAX_PARAMETERS float32 weights take 320 MB)
MAX_FILE_BYTES = 2 * 4 * MAX_PARAMETERS
MAX_TENSORS = 20_000
#: parameters and buffers of the built model (window-attention models keep index buffers)
MAX_BUILT_ELEMENTS = 2 * MAX_PARAMETERS
#: the scales a fixed-scale model may have
SCALES = range(2, 17)
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
#: the torchvision functions spandrel's main package imports (LaMa, RestoreFormer)
_TORCHVISION_NAMES = ("InterpolationMode", "rotate", "normalize")


class ModelFileError(ValueError):
    """A model file that cannot be used, with a one-line reason."""


class SpandrelMissing(ModelFileError):
    """spandrel is not installed."""


class UnsupportedArchitecture(ModelFileError):
    """Weights of an architecture spandrel's main package does not know."""


def import_spandrel() -> types.ModuleType:
    """The ``spandrel`` module, imported without torchvision (see the module's docstring): a
    torchvision imported before is used, none is imported."""
    if sys.modules.get("spandrel") is not None:
        return sys.modules["spandrel"]
    stand_in = {} if sys.modules.get("torchvision") is not None else _torchvision_stand_in()
    before = {name: sys.modules[name] for name in stand_in if name in sys.modules}  # e.g. None: blocked
    sys.modules.update(stand_in)
    try:
        return importlib.import_module("spandrel")
    except ModuleNotFoundError as err:
        if err.name != "spandrel":
            raise
        if getattr(sys, "frozen", False):
            raise SpandrelMissing("your own models need spandrel, which the desktop bundles leave out: "
                                  "use ZoomSR installed with pip (see the README's \"Your own models\")") from None
        raise SpandrelMissing("your own models need spandrel: pip install --no-deps spandrel einops "
                              "(see the README's \"Your own models\")") from None
    finally:
        for name in stand_in:
            if name in before:
                sys.modules[name] = before[name]
            else:
                sys.modules.pop(name, None)


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    """Modules that answer spandrel's ``from torchvision.transforms.functional import …``."""
    def unavailable(*_: Any, **__: Any) -> Any:
        raise RuntimeError("this model needs torchvision, which ZoomSR does not load")

    functional = types.ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = type("InterpolationMode", (), {})  # type: ignore[attr-defined]
    functional.rotate = functional.normalize = unavailable  # type: ignore[attr-defined]
    transforms = types.ModuleType("torchvision.transforms")
    transforms.functional = functional  # type: ignore[attr-defined]
    root = types.ModuleType("torchvision")
    root.transforms = transforms  # type: ignore[attr-defined]
    return {"torchvision": root, "torchvision.transforms": transforms,
            "torchvision.transforms.functional": functional}


def read_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The checked state dict of a model file (canonicalised as spandrel expects it)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: {'is not a regular file' if path.exists() else 'no such file'}")
    if path.suffix.lower() not in SUFFIXES:
        raise ModelFileError(f"{path.name}: a model file ends in {', '.join(SUFFIXES)}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path.name} is {size / 2**30:.1f} GiB, larger than any supported model "
                             f"({MAX_FILE_BYTES / 2**30:.1f} GiB)")
    try:
        if path.suffix.lower() == ".safetensors":
            return _read_safetensors(path)
        return _read_pickle(path)
    except SchemaError as err:
        raise ModelFileError(f"{path.name}: {err}") from None


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt") as f:
            names = list(f.keys())
            _check_sizes({k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in names})
            return _checked(spandrel_canonical({k: f.get_tensor(k) for k in names}), mapped=False)
    except (SafetensorError, OSError) as err:
        raise ModelFileError(f"{path.name} is not a readable safetensors file ({first_line(err)})") from None


def _read_pickle(path: Path) -> dict[str, torch.Tensor]:
    """A ``.pth``/``.ckpt`` through the weights-only unpickler; memory-mapped (nothing read yet)
    while its sizes are checked, except for the legacy (pre-1.6) format, which the file size bounds."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:
                if "mmap" not in str(err):
                    raise
                obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ModelFileError(f"{path.name} is refused: it is not weights only (reading it would need a "
                             "full unpickler, which can run code)") from None
    except Exception as err:  # noqa: BLE001 - any failure means "not a readable model file"
        raise ModelFileError(f"{path.name} is not a readable PyTorch file ({first_line(err)})") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{path.name} holds a {type(obj).__name__}, not a model's weights")
    state = spandrel_canonical(obj)
    _check_sizes({k: (tuple(v.shape), v.dtype) for k, v in state.items() if isinstance(v, torch.Tensor)})
    return _checked(state, mapped=True)


def spandrel_canonical(obj: dict[Any, Any]) -> dict[Any, Any]:
    """The state dict inside the usual wrappers (``params_ema``, ``state_dict``, ``module.`` …)."""
    return import_spandrel().canonicalize_state_dict(obj)


def _check_sizes(shapes: dict[str, tuple[tuple[int, ...], Any]]) -> None:
    """The tensors' count and total size, from their shapes (nothing read yet)."""
    if len(shapes) > MAX_TENSORS:
        raise SchemaError(f"it holds {len(shapes):,} tensors, more than any supported model")
    total = 0
    for name, (shape, _) in shapes.items():
        if len(shape) > 8 or any(d < 0 for d in shape):
            raise SchemaError(f"tensor {short_repr(name)} has the shape {short_repr(shape)}")
        count = 1
        for d in shape:
            count *= d
        total += count
    if total > MAX_PARAMETERS:
        raise SchemaError(f"it holds {total:,} weights, more than the {MAX_PARAMETERS:,} any supported model has")


def _checked(state: dict[Any, Any], *, mapped: bool) -> dict[str, torch.Tensor]:
    """Every entry a named tensor; floating-point ones finite. ``mapped`` tensors are read into
    memory one by one (off the memory map: the file may change after the import)."""
    if not state:
        raise SchemaError("it holds no weights")
    out = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise SchemaError(f"entry {short_repr(key)} is not a named tensor")
        value = value.clone() if mapped else value
        if value.is_floating_point():
            check_finite(key, value)
        out[key] = value
    return out


class _MetaItems(TorchFunctionMode):
    """``.item()``/``.tolist()`` of a meta tensor answer zeros: constructors draw drop-path
    rates with ``torch.linspace(...).item()``, which carries no shape."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func in (torch.Tensor.item, torch.Tensor.tolist) and args[0].is_meta:
            zeros = torch.zeros(args[0].shape, device="cpu")
            return zeros.item() if func is torch.Tensor.item else zeros.tolist()
        return func(*args, **(kwargs or {}))


def describe(state: dict[str, torch.Tensor], name: str) -> Any:
    """spandrel's descriptor of the fixed-scale SR model ``state`` holds (built for real only
    after its architecture has been detected, sized on the meta device and found to upscale)."""
    spandrel = import_spandrel()
    meta_state = {k: torch.empty(v.shape, dtype=v.dtype, device="meta") for k, v in state.items()}
    try:
        with torch.device("meta"), _MetaItems(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sized = spandrel.MAIN_REGISTRY.load(meta_state)
    except spandrel.UnsupportedModelError:
        raise UnsupportedArchitecture(f"{name}: its architecture is not one spandrel's main package supports "
                             "(see the README's list)") from None
    except Exception as err:  # noqa: BLE001 - a detected architecture that cannot be built
        raise ModelFileError(f"{name}: its weights do not fit the architecture they resemble "
                             f"({first_line(err)})") from None
    _check_kind(sized, name)
    built = sum(t.numel() for t in (*sized.model.parameters(), *sized.model.buffers()))
    if built > MAX_BUILT_ELEMENTS:
        raise ModelFileError(f"{name}: its {sized.architecture.name} model would hold {built:,} values, "
                             f"more than {MAX_BUILT_ELEMENTS:,}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return spandrel.MAIN_REGISTRY.load(state).eval()
    except Exception as err:  # noqa: BLE001 - sized but not loadable: the weights are wrong
        raise ModelFileError(f"{name}: its weights cannot be loaded ({first_line(err)})") from None


def _check_kind(desc: Any, name: str) -> None:
    """Only image-to-image super-resolution of RGB at ×2 … ×16."""
    arch, purpose = desc.architecture.name, desc.purpose
    if purpose == "Inpainting":
        raise ModelFileError(f"{name} holds a {arch} inpainting model, not a super-resolution one")
    if purpose == "FaceSR":
        raise ModelFileError(f"{name} holds a {arch} face restoration model, not a general "
                             "super-resolution one")
    if purpose != "SR" or desc.scale == 1:
        raise ModelFileError(f"{name} holds a ×1 {arch} {purpose.lower()} model, not a super-resolution one")
    if desc.scale not in SCALES:
        raise ModelFileError(f"{name} holds a ×{desc.scale} {arch} model; ZoomSR takes ×2 to ×16")
    if (desc.input_channels, desc.output_channels) != (3, 3):
        raise ModelFileError(f"{name} holds a {arch} model for {desc.input_channels}-channel images, "
                             "not RGB")
