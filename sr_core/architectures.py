"""The methods and their architectures, imported explicitly (no directory scanning: it breaks
frozen apps). Adding a method is its module with a ``SPEC`` and one line in ``SPECS``."""

from __future__ import annotations

from typing import Any

from sr_core.methods import bicubic, cisrgan, clit, diif, ipe, liif, lte, nearest, ultrasr
from sr_core.methods.base import SRMethod
from sr_core.methods.spec import MethodSpec

#: every method, in the order users see them
SPECS: tuple[MethodSpec, ...] = (bicubic.SPEC, liif.SPEC, ultrasr.SPEC, ipe.SPEC, diif.SPEC, clit.SPEC,
                                 cisrgan.SPEC, lte.SPEC, nearest.SPEC)
ARCHITECTURES: dict[str, type[SRMethod]] = {spec.arch: spec.architecture for spec in SPECS}


def build(arch: str, config: dict[str, Any] | None = None) -> SRMethod:
    """Instantiate architecture ``arch`` with its constructor ``config``."""
    try:
        cls = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}") from None
    return cls(**(config or {}))
