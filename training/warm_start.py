"""Starting a method from another method's trained weights (``--init``, recipe ``[init]``).

The encoder is always copied (every seed method shares LIIF's EDSR-baseline). The decoder is
started by the target's ``TrainingHooks.starts_from`` (in its method module), which maps LIIF's
decoder where the architecture extends LIIF's MLP, so that the new model starts at, or close
to, LIIF's function, and otherwise says that the decoder keeps a fresh start. The same
architecture and configuration copies every tensor.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sr_core.architectures import SPECS
from sr_core.methods.base import SRMethod
from sr_core.methods.hooks import LrScale, WarmStart, WarmStartError

__all__ = ["MAPPINGS", "LrScale", "WarmStart", "WarmStartError", "warm_start", "zero_ranges"]

#: ``(source arch, target arch)`` → the mapping, from every method's ``TrainingHooks``
MAPPINGS: dict[tuple[str, str], Callable[..., WarmStart]] = {
    (source, spec.arch): start for spec in SPECS for source, start in spec.training.starts_from.items()}


@torch.no_grad()
def warm_start(source: SRMethod, target: SRMethod) -> WarmStart:
    """Load into ``target`` what ``source`` offers (in place); says what it did."""
    if source.arch == target.arch and source.config() == target.config():
        target.load_state_dict(source.state_dict())
        return WarmStart("identical", ["every tensor copied"])
    mapper = MAPPINGS.get((source.arch, target.arch))
    if mapper is None:
        raise WarmStartError(f"no way to start {target.arch} from {source.arch}; "
                             f"known: {', '.join(f'{a} → {b}' for a, b in MAPPINGS)}")
    _copy_encoder(source, target)
    return mapper(source, target)


def _copy_encoder(source: SRMethod, target: SRMethod) -> None:
    src, dst = source.encoder.state_dict(), target.encoder.state_dict()
    if src.keys() != dst.keys() or any(src[k].shape != dst[k].shape for k in src):
        raise WarmStartError(f"the encoders differ ({source.config().get('encoder')} "
                             f"vs {target.config().get('encoder')}); they must be the same to start from it")
    target.encoder.load_state_dict(src)


@torch.no_grad()
def zero_ranges(method: SRMethod, scale: LrScale) -> None:
    """Set the index ranges that ``scale`` names to zero (in place)."""
    params = dict(method.named_parameters())
    for name, ranges in scale.items():
        for first, end, _ in ranges:
            params[name][..., first:end] = 0
