"""Architectures, imported explicitly (no directory scanning: it breaks frozen apps)."""

from __future__ import annotations

from typing import Any

from sr_core.methods.base import SRMethod
from sr_core.methods.bicubic import Bicubic
from sr_core.methods.clit import CLIT
from sr_core.methods.diif import DIIF
from sr_core.methods.ipe import IPELIIF
from sr_core.methods.liif import LIIF
from sr_core.methods.lte import LTE
from sr_core.methods.nearest import Nearest
from sr_core.methods.ultrasr import UltraSR

ARCHITECTURES: dict[str, type[SRMethod]] = {
    cls.arch: cls for cls in (Bicubic, Nearest, LIIF, UltraSR, IPELIIF, DIIF, CLIT, LTE)
}


def build(arch: str, config: dict[str, Any] | None = None) -> SRMethod:
    """Instantiate architecture ``arch`` with its constructor ``config``."""
    try:
        cls = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}") from None
    return cls(**(config or {}))
