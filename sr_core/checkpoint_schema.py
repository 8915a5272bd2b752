"""What a checkpoint may declare, checked before anything of its size is allocated.

A checkpoint's metadata decides which model gets built, so it is untrusted input: every
field is checked for type and range, the configuration against its architecture's (and
encoder's) constructor, and the model it describes is sized on PyTorch's ``meta`` device
(no memory) against :data:`MAX_PARAMETERS` before it is built for real. The tensors are then
checked one by one against that model: names, shapes, floating dtypes, finite values.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import types
import typing
from typing import Any

import torch

from sr_core.architectures import ARCHITECTURES, build
from sr_core.encoders import ENCODERS
from sr_core.methods.base import SRMethod

#: about twice the largest architecture at its paper configuration (CLIT with RDN, 37.7 M;
#: ``tests/sr_core/test_checkpoint_schema.py`` keeps this true)
MAX_PARAMETERS = 80_000_000
#: settings that repeat a block (depths); every other integer is a width
DEPTHS = frozenset({"n_resblocks", "blocks", "convs", "n_hidden", "n_stages", "radius", "n_freqs"})
MAX_DEPTH = 256
MAX_WIDTH = 8192
MAX_LIST = 64
MAX_TEXT = 200
FLOAT_DTYPES = {torch.float16, torch.bfloat16, torch.float32, torch.float64}


class SchemaError(ValueError):
    """Metadata or tensors that a checkpoint must not hold; the message says which and why."""


def check_metadata(meta: Any, fmt: str) -> dict[str, Any]:
    """``meta`` if it is a valid checkpoint header of format ``fmt`` (config included)."""
    if not isinstance(meta, dict):
        raise SchemaError(f"its metadata is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != fmt:
        raise SchemaError(f"unsupported checkpoint format {short_repr(meta.get('format'))}")
    arch = meta.get("arch")
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise SchemaError(f"unknown architecture {short_repr(arch)}")
    method = meta.get("method")
    if not isinstance(method, str) or not 0 < len(method) <= MAX_TEXT:
        raise SchemaError(f"'method' must be a name, not {short_repr(method)}")
    if not isinstance(meta.get("trained"), bool):
        raise SchemaError(f"'trained' must be true or false, not {short_repr(meta.get('trained'))}")
    for key in ("training", "metrics", "provenance"):
        if key in meta and not isinstance(meta[key], dict) and not (key == "metrics" and meta[key] is None):
            raise SchemaError(f"'{key}' must be an object, not {short_repr(meta[key])}")
    if any(not isinstance(v, str) or len(v) > 10 * MAX_TEXT for v in meta.get("provenance", {}).values()):
        raise SchemaError("'provenance' must hold short texts")
    check_config(arch, meta.get("config"))
    return meta


def check_config(arch: str, config: Any) -> int:
    """The parameter count of ``build(arch, config)``, after checking ``config``'s every value.

    Nothing of the model's size is allocated: it is built on the ``meta`` device.
    """
    cls = ARCHITECTURES[arch]
    config = {} if config is None else config
    _check_arguments(cls, config, "config")
    params = inspect.signature(cls).parameters
    encoder = config.get("encoder", params["encoder"].default if "encoder" in params else None)
    if "encoder_args" in config:
        if encoder not in ENCODERS:
            raise SchemaError(f"unknown encoder {short_repr(encoder)}")
        _check_arguments(ENCODERS[encoder], config["encoder_args"] or {}, "encoder_args")
    count = sum(shape.numel() for shape in _meta_state(arch, json.dumps(config, sort_keys=True)).values())
    if count > MAX_PARAMETERS:
        raise SchemaError(f"its configuration declares {count:,} parameters, more than the "
                          f"{MAX_PARAMETERS:,} any supported model has")
    return count


def expected_state(arch: str, config: dict[str, Any] | None) -> dict[str, torch.Size]:
    """The tensor names and shapes of ``build(arch, config)`` (checked config; no allocation)."""
    check_config(arch, config)
    return dict(_meta_state(arch, json.dumps(config or {}, sort_keys=True)))


@functools.lru_cache(maxsize=64)
def _meta_state(arch: str, config_json: str) -> dict[str, torch.Size]:
    """Tensor shapes of the model, built on the ``meta`` device (cached: statuses ask often)."""
    try:
        with torch.device("meta"):
            model = build(arch, json.loads(config_json))
    except Exception as err:  # noqa: BLE001 - any constructor failure means "not buildable"
        raise SchemaError(f"its {arch} configuration cannot be built ({first_line(err)})") from None
    return {k: v.shape for k, v in model.state_dict().items()}


def check_state_header(expected: dict[str, torch.Size], found: dict[str, tuple[tuple[int, ...], Any]]
                       ) -> None:
    """Names, shapes and dtypes (``found``: name → (shape, torch dtype)) against ``expected``."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(k for k in set(expected) & set(found) if tuple(found[k][0]) != tuple(expected[k]))
    dtypes = sorted(k for k in set(expected) & set(found) if found[k][1] not in FLOAT_DTYPES)
    parts = [f"{label}: {', '.join(keys[:5])}{' …' if len(keys) > 5 else ''}"
             for label, keys in (("missing", missing), ("unexpected", unexpected),
                                 ("wrong shape", wrong), ("not floating point", dtypes)) if keys]
    if parts:
        raise SchemaError(f"it does not match its architecture ({'; '.join(parts)})")


def check_finite(name: str, tensor: torch.Tensor) -> None:
    """Refuse NaN or infinite weights: they render as a silently black image."""
    if not bool(torch.isfinite(tensor).all()):
        raise SchemaError(f"weight {name} holds NaN or infinite values; the file is damaged")


def load_checked(model: SRMethod, tensors: dict[str, Any]) -> None:
    """Copy ``tensors`` into ``model`` (as float32) after checking each against it."""
    found = {}
    for key, value in tensors.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise SchemaError(f"entry {short_repr(key)} is not a named tensor")
        found[key] = (tuple(value.shape), value.dtype)
    own = model.state_dict()
    check_state_header({k: v.shape for k, v in own.items()}, found)
    for key, value in tensors.items():
        check_finite(key, value)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})


def _check_arguments(cls: type, values: Any, where: str) -> None:
    """``values`` as keyword arguments of ``cls(...)``: known names, values of the hinted type."""
    if not isinstance(values, dict):
        raise SchemaError(f"'{where}' must be an object, not {short_repr(values)}")
    params = inspect.signature(cls).parameters
    hints = typing.get_type_hints(cls.__init__)
    for key, value in values.items():
        if not isinstance(key, str) or key not in params or key == "self":
            raise SchemaError(f"'{where}' has an unknown setting {short_repr(key)}")
        if not _matches(value, hints.get(key, Any), key):
            raise SchemaError(f"'{where}.{key}' = {short_repr(value)} is not a valid value")


def _matches(value: Any, hint: Any, key: str) -> bool:
    """Whether a JSON value fits a constructor's type hint, within the schema's ranges."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h, key) for h in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        low, high = (0, MAX_DEPTH) if key in DEPTHS else (1, MAX_WIDTH)
        return type(value) is int and low <= value <= high
    if hint is float:
        return (type(value) in (int, float) and math.isfinite(value) and abs(value) <= 1e3)
    if hint is str:
        return isinstance(value, str) and len(value) <= MAX_TEXT
    if origin is list:
        return (isinstance(value, list) and len(value) <= MAX_LIST
                and all(_matches(v, args[0] if args else Any, key) for v in value))
    if origin is dict or hint is dict:
        return isinstance(value, dict)  # nested settings are checked by their own signature
    return False


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to 40 characters (messages quote untrusted values)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (libraries' messages can run to pages)."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
