"""Importing official weights from inside the app (the same as 'python main.py import')."""

from __future__ import annotations

from pathlib import Path

from sr_core import checkpoints
from sr_core.registry import get_info, user_checkpoints_dir


def import_weights(pth: str, method: str) -> Path:
    """Convert an official LIIF/LTE/CLIT ``.pth`` into the user's checkpoint for ``method``.

    Runs off the GUI thread; raises ``CheckpointError``/``ValueError`` with a readable message.
    """
    info = get_info(method)
    model, meta = checkpoints.import_official(pth)
    if model.arch != info.arch:
        raise checkpoints.CheckpointError(
            f"{Path(pth).name} holds a {model.arch} model; {info.display_name} needs {info.arch}.")
    out = user_checkpoints_dir() / f"{method}.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoints.save(out, model, {**meta, "method": method})
    return out
