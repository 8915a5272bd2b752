"""Export a trained model in the shipped checkpoint format, with its provenance.

``sr_core.checkpoints.save`` writes safetensors plus JSON metadata; here the metadata gets
``trained`` (true only for a run that completed its recipe), ``training`` (the full recipe,
data manifest, git commit, steps, device, wall time, deviations from the papers) and
``metrics`` (the last validation).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import torch

from sr_core import checkpoints
from sr_core.methods.base import SRMethod
from training.recipe import REPO_ROOT, Recipe

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
LR_GENERATION = ("LR = sr_core.resize.imresize(HR crop, output_shape) in float (MATLAB-compatible "
                 "antialiased bicubic), clipped to [0, 1]; replaces the official PIL bicubic with "
                 "uint8 truncation (METHODS_SPEC §8.2-5) so that training, evaluation and the "
                 "viewer share one resize")


def git_revision(root: Path = REPO_ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the source tree."""
    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def provenance_summary(training: dict[str, Any]) -> str:
    """One line for people, e.g. "trained by ZoomSR: 437 images, 1.4 h on CPU, from the LIIF
    authors' EDSR-baseline weights, trained on DIV2K" (or "from the encoder of …" when only
    the encoder started from them)."""
    start = training.get("init") or {}
    origin = ((start.get("provenance") or {}).get("summary")
              or (f"a {start['method']} checkpoint" if "method" in start else "random initialisation"))
    if start and not start.get("decoder_from_source", True):
        origin = f"the encoder of {origin} (its decoder from random)"
    images = (training.get("data") or {}).get("images", "?")
    hours = training.get("wall_time_s", 0) / 3600
    return f"trained by ZoomSR: {images} images, {hours:.1f} h on {training.get('device', '?')}, from {origin}"


def export(path: Path, model: SRMethod, recipe: Recipe, training: dict[str, Any],
           metrics: dict[str, Any], trained: bool) -> Path:
    """Write ``model`` to ``path`` in the recipe's export dtype with the run's metadata."""
    meta = {"method": recipe.method, "trained": trained,
            "provenance": {"kind": "zoomsr", "summary": provenance_summary(training)},
            "training": {"recipe_name": recipe.name, "recipe": recipe.raw,
                         "recipe_sha256": recipe.digest, "lr_generation": LR_GENERATION,
                         "git": git_revision(), "torch": torch.__version__, **training},
            "metrics": metrics}
    path.parent.mkdir(parents=True, exist_ok=True)
    return checkpoints.save(path, model, meta, dtype=DTYPES[recipe.export_dtype])
