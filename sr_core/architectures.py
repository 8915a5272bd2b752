"""The methods and their architectures, imported explicitly (no directory scanning: it breaks
frozen apps). Adding a method is its module with a ``SPEC`` and one line in ``SPECS``; a name
used twice fails here, at import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sr_core.methods import bicubic, cisrgan, clit, diif, ipe, liif, lte, nearest, ultrasr
from sr_core.methods.base import SRMethod
from sr_core.methods.hooks import TrainingHooks
from sr_core.methods.spec import MethodSpec

#: every method, in the order users see them
SPECS: tuple[MethodSpec, ...] = (bicubic.SPEC, liif.SPEC, ultrasr.SPEC, ipe.SPEC, diif.SPEC, clit.SPEC,
                                 cisrgan.SPEC, lte.SPEC, nearest.SPEC)


def by_name(specs: Iterable[MethodSpec]) -> dict[str, MethodSpec]:
    """``{name: spec}``; raises ValueError when two specs share a name."""
    table: dict[str, MethodSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"two methods are named {spec.name!r}")
        table[spec.name] = spec
    return table


def by_architecture(specs: Iterable[MethodSpec]) -> dict[str, MethodSpec]:
    """``{arch: the first spec of that architecture}``; raises ValueError when two classes share
    an ``arch`` name or two specs of one architecture differ in their training hooks."""
    table: dict[str, MethodSpec] = {}
    for spec in specs:
        first = table.setdefault(spec.arch, spec)
        if first.architecture is not spec.architecture:
            raise ValueError(f"two architectures are named {spec.arch!r}")
        if first.training != spec.training:
            raise ValueError(f"{first.name} and {spec.name} share {spec.arch!r} but not its training hooks")
    return table


METHODS: dict[str, MethodSpec] = by_name(SPECS)
ARCHITECTURE_SPECS: dict[str, MethodSpec] = by_architecture(SPECS)
ARCHITECTURES: dict[str, type[SRMethod]] = {arch: spec.architecture for arch, spec in ARCHITECTURE_SPECS.items()}
#: what training asks of each architecture
TRAINING: dict[str, TrainingHooks] = {arch: spec.training for arch, spec in ARCHITECTURE_SPECS.items()}


def build(arch: str, config: dict[str, Any] | None = None) -> SRMethod:
    """Instantiate architecture ``arch`` with its constructor ``config``."""
    try:
        cls = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}") from None
    return cls(**(config or {}))
