"""Fixtures of the training tests: synthetic images and tiny recipes derived from the shipped ones."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from sr_core.architectures import SPECS
from training.recipe import CONFIG_DIR, Recipe, merge, parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

#: each trainable method's ``MethodSpec.tiny_train``
TINY_MODELS: dict[str, dict[str, Any]] = {spec.name: spec.tiny_train for spec in SPECS if spec.tiny_train}
TINY_SAMPLERS = {"pixels": {"lr_size": 8, "pixels": 32}, "full": {"hr_size": 24},
                 "window": {"lr_size": 16, "window": 16}}


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op thread: tiny models run fastest so, and the CPU is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random colour image (bicubic upsampling of coarse noise), uint8."""
    coarse = (rng.random((h // 8 + 2, w // 8 + 2, 3)) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((w, h), Image.BICUBIC))


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six 64×64 synthetic training images (one 64×80) in a folder."""
    root = tmp_path_factory.mktemp("data") / "synthetic"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(smooth_image(rng, 64, 80 if i == 5 else 64)).save(root / f"img{i}.png")
    return root


@pytest.fixture(scope="session")
def val_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("val", numbered=False) / "HR"
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        Image.fromarray(smooth_image(rng, 32, 32)).save(root / f"val{i}.png")
    return root


def shipped_raw(method: str) -> dict[str, Any]:
    with open(CONFIG_DIR / "zoomsr" / f"{method}-edsr.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture
def tiny_raw(image_dir: Path, val_dir: Path) -> Callable[..., dict[str, Any]]:
    """The shipped recipe of ``method`` shrunk to a tiny model, tiny patches, batch 4,
    lr 1e-3 and ``steps`` iterations per phase (CLIT: LIT then CLIT-2), as a TOML table.
    It starts from random weights with nothing frozen (the shipped starts are full-size)."""

    def make(method: str, steps: int = 200, **over: Any) -> dict[str, Any]:
        raw = shipped_raw(method)
        kind = raw["sampler"]["kind"]
        tiny = {"data": {"train": [str(image_dir)]},
                "validation": {"hr_dir": str(val_dir)},
                "model": {"config": TINY_MODELS[method]},
                "sampler": TINY_SAMPLERS[kind],
                "optim": {"batch": 4, "steps": steps, "lr": 1e-3, "milestones": [], "freeze": []},
                "init": {"checkpoint": ""},
                "loop": {"log_every": 1, "checkpoint_every": 10_000, "validate_every": 10_000,
                         "workers": 0, "amp": "none"},
                "export": {"dtype": "float32"}}
        if method == "cisrgan":  # no initial checkpoint: the random-VGG substitute, not liif-encoder
            tiny["loss"] = {"gan": {"features": 4}, "perceptual": {
                "widths": [4, 4, 8, 8, 8], "substitute": "random", "substitute_weight": 1.0}}
        raw = merge(raw, tiny)
        if "phases" in raw:  # LIT, then one cumulative CLIT-2 phase
            raw["phases"] = [merge(ph, {"optim": {"steps": steps, "milestones": [], "freeze": []}})
                             for ph in raw["phases"][:2]]
        return merge(raw, over)

    return make


@pytest.fixture
def tiny_recipe(tiny_raw: Callable[..., dict[str, Any]]) -> Callable[..., Recipe]:
    return lambda method, steps=200, **over: parse(tiny_raw(method, steps, **over))
