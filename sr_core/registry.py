"""The methods ZoomSR offers: papers, default checkpoints and whether they can run.

A *method* is what users pick (``liif``, ``cisrgan`` …); an *architecture* is the network
class behind it (CiSRGAN is LIIF's architecture with adversarially trained weights).
A method runs only with trained weights, never with random ones, unless its architecture
has none (bicubic, nearest: ``SRMethod.needs_weights``). Each method's ``MethodSpec`` lives
beside its code (``sr_core.methods.<name>.SPEC``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import torch

from sr_core import checkpoints, user_models
from sr_core.architectures import METHODS, build
from sr_core.methods.base import SRMethod
from sr_core.methods.spec import MethodSpec
from sr_core.paths import checkpoints_dir

#: the user-facing name of ``MethodSpec`` (what ``get_info`` returns)
MethodInfo = MethodSpec
#: the methods whose authors' ``.pth`` the importer reads, for help texts ("LIIF / LTE / CLIT")
OFFICIAL_IMPORTS = " / ".join(spec.display_name for spec in METHODS.values() if spec.official_name)


class MissingWeightsError(LookupError):
    """A method was asked to run without trained weights."""


def method_names() -> list[str]:
    """ZoomSR's methods in menu order, then the user's installed models."""
    return [*METHODS, *(n for n in user_models.installed(user_checkpoints_dir()) if n not in METHODS)]


def get_info(name: str) -> MethodSpec:
    if name in METHODS:
        return METHODS[name]
    path = user_models.installed(user_checkpoints_dir()).get(name)
    if path is None:
        raise ValueError(f"unknown method {name!r}; choose one of: {', '.join(method_names())}")
    try:
        return user_models.spec(name, path)
    except user_models.ModelFileError as err:
        raise ValueError(str(err)) from None


def user_checkpoints_dir() -> Path:
    """Per-user checkpoints (imported official weights), searched before the shipped ones."""
    override = os.environ.get("ZOOMSR_CHECKPOINTS")
    return Path(override) if override else Path(platformdirs.user_data_dir("ZoomSR")) / "checkpoints"


def default_checkpoint(name: str) -> Path | None:
    """The checkpoint a method uses by default: the user's, else the shipped one, else None."""
    for folder in (user_checkpoints_dir(), checkpoints_dir()):
        path = folder / f"{name}.safetensors"
        if path.is_file():
            return path
    return None


#: where a method's weights come from (``MethodStatus.source``)
SOURCES = ("official", "trained here", "imported", "user model", "built in", "none")


@dataclass(frozen=True)
class MethodStatus:
    info: MethodSpec
    available: bool
    reason: str
    checkpoint: Path | None = None
    meta: dict[str, Any] | None = None

    @property
    def source(self) -> str:
        """One of ``SOURCES``: the authors' weights, ZoomSR's training, a user's import …"""
        if not self.info.needs_weights:
            return "built in"
        if not self.available:
            return "none"
        kind = ((self.meta or {}).get("provenance") or {}).get("kind")
        return {"official": "official", "imported": "imported", "user": "user model"}.get(kind, "trained here")

    @property
    def provenance(self) -> str:
        """One line for people: whose weights, trained on what (or why there are none)."""
        if self.source == "built in":
            return "no weights: a fixed interpolation"
        if self.source == "none":
            return self.reason
        provenance = (self.meta or {}).get("provenance") or {}
        recipe = (self.meta or {}).get("training", {}).get("recipe_name")
        if provenance.get("summary"):
            licence = provenance.get("licence")
            line = provenance["summary"] + (f" ({licence})" if licence else "")
        elif recipe:
            line = f"trained by ZoomSR (recipe {recipe})"
        else:
            return "trained weights of unknown origin"
        limits = self.info.recipe_limits if recipe and recipe == self.info.recipe else None
        return f"{line}. {limits}" if limits else line

    @property
    def broken(self) -> bool:
        """The installation is broken for this method: the weights that ship with ZoomSR (its
        spec names their ``recipe``) are missing, or the shipped checkpoint cannot be used. A
        user's own checkpoint that cannot be used is the user's file, not a broken installation."""
        if self.available:
            return False
        if self.checkpoint is None:
            return self.info.recipe is not None
        return self.checkpoint.resolve().parent == checkpoints_dir().resolve()

    @property
    def licence_file(self) -> Path | None:
        """The licence notice shipped beside the checkpoint, if it names one that exists."""
        name = ((self.meta or {}).get("provenance") or {}).get("licence_file")
        if not name or self.checkpoint is None:
            return None
        path = self.checkpoint.parent / Path(name).name
        return path if path.is_file() else None


def method_status(name: str, checkpoint: str | os.PathLike | None = None) -> MethodStatus:
    """Whether ``name`` can run, and why not, without loading any weights."""
    info = get_info(name)
    if not info.needs_weights:
        return MethodStatus(info, True, "no weights needed")
    if info.user_model is not None:
        return MethodStatus(info, True, "a user's model", info.user_model,
                            user_models.read_metadata(info.user_model))
    path = Path(checkpoint) if checkpoint else default_checkpoint(name)
    if path is None:
        if info.recipe:
            return MethodStatus(info, False, f"its shipped weights ({name}.safetensors) are missing from "
                                             f"{checkpoints_dir()}: this installation is incomplete")
        return MethodStatus(info, False, "no trained weights shipped yet")
    try:
        meta = checkpoints.read_metadata(path)
    except checkpoints.CheckpointError as err:
        return MethodStatus(info, False, str(err), path)
    if meta["arch"] != info.arch:
        return MethodStatus(info, False, f"{path.name} holds a {meta['arch']} model, not {info.arch}", path, meta)
    if not meta.get("trained", False):
        return MethodStatus(info, False, f"{path.name} holds untrained weights", path, meta)
    return MethodStatus(info, True, "trained weights", path, meta)


def load_method(name: str, checkpoint: str | os.PathLike | None = None, *,
                device: str | torch.device = "cpu",
                allow_untrained: bool = False) -> tuple[SRMethod, dict[str, Any]]:
    """The model of method ``name`` with its weights, and the checkpoint metadata.

    Raises ``MissingWeightsError`` when there are no trained weights (``allow_untrained``
    lets tests and the evaluation of tiny models use random-weight checkpoints, which are
    then labelled as untrained wherever they are reported).
    """
    info = get_info(name)
    if not info.needs_weights:
        return build(info.arch).to(device), {"method": name, "trained": True}
    if info.user_model is not None:
        return user_models.load(Path(checkpoint) if checkpoint else info.user_model, device)
    path = Path(checkpoint) if checkpoint else default_checkpoint(name)
    if path is None:
        raise MissingWeightsError(
            f"{info.display_name} has no trained weights yet: pass --checkpoint PATH, or import "
            f"official weights with 'python main.py import'. It is never run with random weights.")
    model, meta = checkpoints.load(path, device=device)
    if meta["arch"] != info.arch:
        raise checkpoints.CheckpointError(f"{path.name} holds a {meta['arch']} model, not {info.display_name}")
    if not meta.get("trained", False) and not allow_untrained:
        raise MissingWeightsError(f"{path.name} holds untrained (random) weights; refusing to "
                                  f"present them as {info.display_name}.")
    return model, meta


def install_user_model(source: str | os.PathLike, name: str | None = None,
                       out: str | os.PathLike | None = None) -> tuple[str, Path]:
    """Install a user's fixed-scale model file as method ``name`` (default: from its file name)
    into the user's checkpoint folder (or ``out``); returns the name and the file written.
    Raises ``user_models.ModelFileError`` (a ``ValueError``) with a one-line reason."""
    return user_models.install(source, user_checkpoints_dir(), name, set(method_names()),
                               Path(out) if out else None)


def install_official(pth: str | os.PathLike, method: str, out: str | os.PathLike | None = None) -> Path:
    """Convert an official ``.pth`` (of a method with ``MethodSpec.official_name``) into ``method``'s checkpoint.

    Writes the user's checkpoint for ``method`` (or ``out``) and returns its path; raises
    ``CheckpointError`` or ``ValueError`` with a readable message.
    """
    info = get_info(method)
    model, meta = checkpoints.import_official(pth)
    if model.arch != info.arch:
        raise checkpoints.CheckpointError(
            f"{Path(pth).name} holds a {model.arch} model; {info.display_name} needs {info.arch}.")
    path = Path(out) if out else user_checkpoints_dir() / f"{method}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    return checkpoints.save(path, model, {**meta, "method": method})
