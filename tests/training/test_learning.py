"""Every method's tiny configuration learns: its training loss falls measurably."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sr_core.architectures import SPECS
from sr_core.checkpoints import load
from tests.training.helpers import losses, run

WINDOW = 25  # steps averaged at the start and at the end of a run
#: the trainable methods with a plain L1 objective and one stage (the others have tests below)
L1_METHODS = [spec.name for spec in SPECS if spec.tiny_train and not spec.perceptual and not spec.training.cascade]


def fall(values: np.ndarray) -> float:
    """Mean of the last WINDOW values relative to the mean of the first WINDOW."""
    return float(values[-WINDOW:].mean() / values[:WINDOW].mean())


@pytest.mark.parametrize("method", L1_METHODS)
def test_l1_methods_learn(method: str, tiny_recipe: Callable, tmp_path: Path) -> None:
    result = run(tiny_recipe(method, steps=200), tmp_path)
    values = losses(tmp_path, phase="main")
    assert result.completed and len(values) == 200
    assert fall(values) < 0.8
    meta = load(result.checkpoint)[1]
    assert meta["method"] == method and meta["trained"] is True
    assert np.isfinite(result.metrics["val_x4_psnr_y"])


def test_ipe_phases_train_the_low_bands_and_hold_the_others_at_zero(
        tiny_recipe: Callable, tmp_path: Path) -> None:
    """Phase "main" holds bands ≥ 4; "wide" starts band 4 from zero, trains it and holds ≥ 5."""
    recipe = tiny_recipe("ipe", steps=30)
    assert [p.optim.ipe_bands for p in recipe.phases] == [4, 5]
    model, _ = load(run(recipe, tmp_path).checkpoint)
    for k, layer in enumerate(model.hidden):
        pe = layer.weight[:, model._columns(k)[2]].detach()  # 4 columns per band
        assert (pe[:, 20:] == 0).all() and (pe[:, :20] != 0).all(), k


def test_clit_cumulative_phases_learn(tiny_recipe: Callable, tmp_path: Path) -> None:
    """LIT (1 stage) learns; CLIT-2 starts from it, its batches alternate 2 and 1 stages and
    its 2-stage batches learn. Scales from U(2, 4) (less batch-to-batch variance), lr 3e-3:
    CLIT predicts a residual over bilinear upsampling, which smooth images leave small."""
    scales = {"uniform": [2.0, 4.0]}
    recipe = tiny_recipe("clit", steps=200, optim={"lr": 3e-3},
                         phases=[{"sampler": {"scales": [scales]}},
                                 {"sampler": {"scales": [scales, scales]}}])
    assert [p.name for p in recipe.phases] == ["lit", "clit-2"]
    assert recipe.phases[1].sampler.stage_cycle == (2, 1) and recipe.phases[1].init_previous
    result = run(recipe, tmp_path)
    lit, clit2 = losses(tmp_path, phase="lit"), losses(tmp_path, phase="clit-2")
    two, one = clit2[0::2], clit2[1::2]  # cycle (2, 1): even steps run both stages
    assert len(lit) == len(clit2) == 200
    assert fall(lit) < 0.8
    # 1-stage batches of CLIT-2 are LIT's function: they start where LIT ended
    assert one[:WINDOW].mean() < 0.85 * lit[:WINDOW].mean()
    assert fall(two) < 0.9  # the new stage starts random and its first 100 steps are few
    model, meta = load(result.checkpoint)
    assert model.n_stages == 2 and [p["name"] for p in meta["training"]["phases"]] == ["lit", "clit-2"]


def test_cisrgan_learns(tiny_recipe: Callable, tmp_path: Path) -> None:
    """Generator (L1 + RaGAN + VGG-layout perceptual loss) and discriminator both train."""
    result = run(tiny_recipe("cisrgan", steps=200), tmp_path)
    l1, perceptual, total = (losses(tmp_path, k) for k in ("l1", "perceptual", "loss"))
    d = losses(tmp_path, "d_loss")
    assert fall(l1) < 0.8 and fall(perceptual) < 0.8 and fall(total) < 0.8
    assert np.isfinite(d).all() and d.std() > 0
    meta = load(result.checkpoint)[1]
    assert meta["method"] == "cisrgan"
    assert any("randomly initialised VGG-19" in note for note in meta["training"]["deviations"])


def test_liif_learns_on_real_photographs(shared_data: Path, tiny_recipe: Callable,
                                        tmp_path: Path) -> None:
    """The same on eight photographs of ../shared/data/train/bsds400 (skipped without them)."""
    photos = sorted((shared_data / "train" / "bsds400").glob("*.jpg"))[:8]
    if len(photos) < 8:
        pytest.skip(f"fewer than 8 photographs in {shared_data / 'train' / 'bsds400'}")
    folder = tmp_path / "bsds8"
    folder.mkdir()
    for photo in photos:
        (folder / photo.name).symlink_to(photo)
    result = run(tiny_recipe("liif", steps=200, data={"train": [str(folder)]}), tmp_path / "run")
    assert fall(losses(tmp_path / "run")) < 0.8
    assert load(result.checkpoint)[1]["training"]["data"]["images"] == 8
