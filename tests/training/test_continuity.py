"""The continuity term (border quadruples and their jump measure) and ``--from-phase``."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from sr_core.checkpoints import load
from tests.training.helpers import losses, run
from training.images import ImageStore
from training.objectives import border_jumps
from training.recipe import ContinuitySpec, Recipe, RecipeError, parse
from training.sampling import TrainingBatches


def border_batches(recipe: Recipe, store: ImageStore, spec: ContinuitySpec) -> TrainingBatches:
    p = recipe.phases[0]
    return TrainingBatches(store, p.sampler, seed=recipe.seed, phase=0, batch=4, border=spec)


def test_border_quadruples_straddle_input_pixel_borders(tiny_recipe: Callable, image_dir: Path) -> None:
    store = ImageStore.load([image_dir])[0]
    spec = ContinuitySpec(weight=1.0, scales=(8, 16), pairs=40, window=3)
    ds = border_batches(tiny_recipe("liif"), store, spec)
    b = ds[5]
    lr_side = b["lr"].shape[-1]
    scale = int(b["border_out"][0]) // lr_side
    assert (b["border_out"] == lr_side * scale).all() and 8 <= scale <= 16  # one scale per batch
    iy, ix = (b[k].reshape(4, 40, 4) for k in ("border_iy", "border_ix"))
    for across, along in ((ix, iy), (iy, ix)):  # vertical borders: x runs across, y stays
        rows = (across.diff(dim=-1) == 1).all(-1) & (along.diff(dim=-1) == 0).all(-1)
        assert ((across[..., 2] % scale == 0) | ~rows).all()  # the border lies between pixels 2 and 3
    vertical = (iy.diff(dim=-1) == 0).all(-1)
    assert vertical.any() and (~vertical).any()
    # every pixel of the batch lies in one block of 3 × 3 LR pixels (a cascade's maps stay small)
    for c in (iy, ix):
        assert c.max() // scale - c.min() // scale <= 2
    again = border_batches(tiny_recipe("liif"), store, spec)[5]
    assert torch.equal(again["border_iy"], b["border_iy"]) and torch.equal(again["border_ix"], b["border_ix"])


class Upscale(torch.nn.Module):
    """A stand-in model: the LR upscaled by ``mode`` and read at the queried pixels."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, lr, iy, ix, out_h, out_w):
        kw = {} if self.mode == "nearest" else {"align_corners": False}
        up = F.interpolate(lr, size=(int(out_h[0]), int(out_w[0])), mode=self.mode, **kw)
        return up.permute(0, 2, 3, 1)[torch.arange(lr.shape[0])[:, None], iy, ix]


def test_the_term_costs_blocks_and_not_smooth_gradients(tiny_recipe: Callable, image_dir: Path) -> None:
    store = ImageStore.load([image_dir])[0]
    spec = ContinuitySpec(weight=1.0, scales=(12, 12), pairs=64, window=4)
    batch = border_batches(tiny_recipe("liif"), store, spec)[2]
    ramp = torch.linspace(-1, 1, batch["lr"].shape[-1])
    batch["lr"] = (ramp[None, :] + ramp[:, None]).expand_as(batch["lr"]).contiguous()  # a plane
    smooth = border_jumps(Upscale("bilinear"), batch, contextlib.nullcontext)
    blocks = border_jumps(Upscale("nearest"), batch, contextlib.nullcontext)
    assert smooth < 1e-5 < blocks


def test_recipe_validates_the_continuity_table(tiny_raw: Callable) -> None:
    raw = tiny_raw("liif", loss={"continuity": {"weight": 1.0, "scales": [1, 8]}})
    with pytest.raises(RecipeError, match="scales"):
        parse(raw)
    assert parse(tiny_raw("liif", loss={"continuity": {"weight": 0.5}})).phases[0].loss.continuity == \
        ContinuitySpec(weight=0.5)


def test_from_phase_continues_a_checkpoint_and_says_so(tiny_recipe: Callable, tmp_path: Path) -> None:
    """DIIF's "wide" phase run alone from the result of "main": only it runs, from those weights,
    and the checkpoint names the file it continued and adds its wall time."""
    recipe = tiny_recipe("diif", steps=6)
    assert [p.name for p in recipe.phases] == ["main", "wide"] and recipe.phases[1].loss.continuity
    first = run(recipe, tmp_path / "full")
    assert len(losses(tmp_path / "full", key="continuity", phase="wide")) == 6
    with pytest.raises(RecipeError, match="needs --init"):
        run(recipe, tmp_path / "bad", from_phase="wide")
    with pytest.raises(RecipeError, match="has the phases"):
        run(recipe, tmp_path / "bad2", from_phase="nope", init=first.checkpoint)
    second = run(recipe, tmp_path / "cont", from_phase="wide", init=first.checkpoint)
    with open(tmp_path / "cont" / "log.csv", newline="") as f:
        assert {r["phase"] for r in csv.DictReader(f)} == {"wide"}
    _, meta_first = load(first.checkpoint)
    _, meta = load(second.checkpoint)
    (cont,) = meta["training"]["init"]["continued"]
    assert cont["from_phase"] == "wide" and cont["recipe"] == recipe.name
    assert meta["training"]["wall_time_s"] > meta_first["training"]["wall_time_s"]
    assert any("were not rerun" in d for d in meta["training"]["deviations"])

