"""Training batches: crops, scales, pixels, LR generation, determinism and sharding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from sr_core.methods.base import denormalize
from sr_core.resize import imresize
from training.images import ImageStore, manifest_digest, scan
from training.recipe import Recipe
from training.sampling import TrainingBatches, fit_scales


@pytest.fixture(scope="module")
def store(image_dir: Path) -> ImageStore:
    return ImageStore.load([image_dir])[0]


def batches(recipe: Recipe, store: ImageStore, phase: int = 0, **kw: int) -> TrainingBatches:
    p = recipe.phases[phase]
    return TrainingBatches(store, p.sampler, seed=recipe.seed, phase=phase, batch=p.optim.batch, **kw)


def test_store_keeps_every_image_exactly(store: ImageStore, image_dir: Path) -> None:
    from PIL import Image
    assert len(store) == 6 and store.names[0] == "synthetic/img0.png"
    for i, name in enumerate(store.names):
        original = np.asarray(Image.open(image_dir / name.split("/", 1)[1]).convert("RGB"))
        assert np.array_equal(store.image(i), original)


def test_manifest_hash_covers_names_sizes_and_contents(image_dir: Path, tmp_path: Path) -> None:
    import hashlib
    import shutil
    copy = tmp_path / "synthetic"
    shutil.copytree(image_dir, copy)
    (copy / "notes.txt").write_text("not an image")
    first = ImageStore.load([copy])[1]
    files = scan([copy])
    expected = manifest_digest([(f.name, f.path.stat().st_size,
                                 hashlib.sha256(f.path.read_bytes()).hexdigest()) for f in files])
    assert first.sha256 == expected and first.images == 6
    assert ImageStore.load([image_dir])[1].sha256 == first.sha256  # independent of the location
    (copy / "img1.png").rename(copy / "img9.png")
    assert ImageStore.load([copy])[1].sha256 != first.sha256


def test_liif_pixels_per_sample_scales(tiny_recipe: Callable, store: ImageStore) -> None:
    recipe = tiny_recipe("liif")
    ds = batches(recipe, store)
    b = ds[3]
    assert b["lr"].shape == (4, 3, 8, 8) and b["iy"].shape == b["gt"].shape[:2] == (4, 32)
    assert len(set(b["out_h"].tolist())) > 1  # one scale per sample
    assert ((b["out_h"] >= 8) & (b["out_h"] <= 32)).all() and (b["out_h"] == b["out_w"]).all()
    for i in range(4):
        flat = b["iy"][i] * b["out_w"][i] + b["ix"][i]
        assert flat.unique().numel() == 32 and (b["iy"][i] < b["out_h"][i]).all()
    assert b["lr"].min() >= -1 and b["lr"].max() <= 1 and "stage_scales" not in b
    again = batches(recipe, store)[3]  # a batch is a function of its step
    assert all(torch.equal(b[k], again[k]) for k in b)
    assert not torch.equal(ds[4]["gt"], b["gt"])


def test_ultrasr_scales_from_1_to_4_like_the_liif_it_starts_from(tiny_recipe: Callable, store: ImageStore) -> None:
    ds = batches(tiny_recipe("ultrasr"), store)
    sides = torch.cat([ds[s]["out_h"] for s in range(40)])
    assert sides.min() >= 8 and sides.max() <= 32 and sides.min() < 16


def test_diif_whole_crop_and_lr_by_imresize(tiny_recipe: Callable, store: ImageStore) -> None:
    """The paper's DIIF sampler: every HR pixel in raster order, one scale per batch, LR =
    imresize of the HR crop (the shipped CPU recipe decodes windows instead)."""
    ds = batches(tiny_recipe("diif", sampler={"kind": "full", "hr_size": 24, "scale_per": "batch"}), store)
    for step in range(6):
        b = ds[step]
        (s,) = b["stage_scales"]
        assert s in (2.0, 2.5, 3.0, 3.5, 4.0)
        lr_side = round(24 / s)
        assert b["lr"].shape == (4, 3, lr_side, lr_side) and (b["out_h"] == 24).all()
        assert torch.equal(b["iy"][0], torch.arange(576) // 24)
        assert torch.equal(b["ix"][0], torch.arange(576) % 24)
        hr = denormalize(b["gt"][0].clone()).reshape(24, 24, 3).numpy()
        lr = np.clip(imresize(hr, output_shape=(lr_side, lr_side)), 0, 1)
        got = denormalize(b["lr"][0].clone()).permute(1, 2, 0).numpy()
        np.testing.assert_allclose(got, lr, atol=1e-6)


def test_cisrgan_contiguous_windows(tiny_recipe: Callable, store: ImageStore) -> None:
    b = batches(tiny_recipe("cisrgan"), store)[0]
    assert b["lr"].shape == (4, 3, 16, 16) and b["iy"].shape == (4, 256)
    for i in range(4):
        iy, ix = b["iy"][i].reshape(16, 16), b["ix"][i].reshape(16, 16)
        assert (iy - iy[0, 0] == torch.arange(16)[:, None]).all()
        assert (ix - ix[0, 0] == torch.arange(16)).all()
        assert iy.max() < b["out_h"][i] and ix.max() < b["out_w"][i]


def test_clit_stage_counts_cycle_and_scales_fit_the_images(tiny_recipe: Callable,
                                                           store: ImageStore) -> None:
    recipe = tiny_recipe("clit")
    ds = batches(recipe, store, phase=1)
    counts = [len(ds[s]["stage_scales"]) for s in range(6)]
    assert counts == [2, 1, 2, 1, 2, 1]
    for step in range(12):
        b = ds[step]
        scales = b["stage_scales"]
        assert (b["out_h"] == round(8 * np.prod(scales))).all()  # one output grid per batch
        assert 8 * np.prod(scales) <= 64 + 1e-9 and min(scales) >= 1


def test_fit_scales_shrinks_the_first_stage_first() -> None:
    assert fit_scales([3.0, 2.0], 48, 1000) == [3.0, 2.0]
    assert fit_scales([4.0, 4.0, 2.0], 48, 648) == pytest.approx([648 / 48 / 8, 4.0, 2.0])
    assert fit_scales([4.0, 4.0, 2.0], 48, 321) == pytest.approx([1.0, 321 / 48 / 2, 2.0])


def test_each_epoch_visits_every_image_once(tiny_recipe: Callable, store: ImageStore) -> None:
    ds = batches(tiny_recipe("liif", optim={"batch": 3}), store)
    order = [i for step in range(4) for i in ds.plan(step).images]
    assert sorted(order[:6]) == sorted(order[6:]) == list(range(6))


def test_ranks_build_their_share_of_the_global_batch(tiny_recipe: Callable, store: ImageStore) -> None:
    recipe = tiny_recipe("clit")
    whole = batches(recipe, store, phase=1)[5]
    parts = [batches(recipe, store, phase=1, rank=r, world=2)[5] for r in range(2)]
    for key in ("lr", "iy", "ix", "out_h", "gt"):
        assert torch.equal(torch.cat([p[key] for p in parts]), whole[key])
    assert parts[0]["stage_scales"] == parts[1]["stage_scales"] == whole["stage_scales"]
    with pytest.raises(ValueError, match="divisible"):
        batches(recipe, store, rank=0, world=3)
