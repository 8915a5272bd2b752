"""CNN encoders that turn the LR image into a 64-channel feature map at LR resolution."""

from __future__ import annotations

from typing import Any

from torch import nn

from sr_core.encoders.edsr import EDSRBaseline
from sr_core.encoders.rdn import RDN

ENCODERS: dict[str, type[nn.Module]] = {"edsr-baseline": EDSRBaseline, "rdn": RDN}


def make_encoder(name: str, **kwargs: Any) -> nn.Module:
    """Build an encoder by registry name (``edsr-baseline`` or ``rdn``)."""
    try:
        cls = ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}") from None
    return cls(**kwargs)


#: official argument names (LIIF code base) → ours, per encoder; others (scale, rgb_range,
#: no_upsampling) only concern the upsampler, which the implicit methods never use
_OFFICIAL_ARGS = {
    "edsr-baseline": {"n_resblocks": "n_resblocks", "n_feats": "n_feats", "res_scale": "res_scale"},
    "rdn": {"G0": "G0", "RDNkSize": "kernel_size", "RDNconfig": "config"},
}


def official_encoder_config(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, args)`` for our encoder from an official ``encoder_spec``."""
    name = spec["name"]
    if name not in _OFFICIAL_ARGS:
        raise ValueError(f"encoder {name!r} is not supported (supported: {', '.join(ENCODERS)})")
    mapping = _OFFICIAL_ARGS[name]
    return name, {mapping[k]: v for k, v in spec.get("args", {}).items() if k in mapping}
