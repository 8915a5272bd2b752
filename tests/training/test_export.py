"""Export and command line: the shipped format and its provenance, ``trained`` only for
complete runs, initial checkpoints, VGG weights, ``train`` and ``reproduce``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from sr_core.checkpoints import read_metadata
from sr_core.registry import MissingWeightsError, load_method
from tests.training.helpers import run, to_toml
from training import cli
from training.images import ImageStore
from training.recipe import RecipeError, parse
from training.vgg import VGG19Features


def test_export_metadata_records_the_run(tiny_raw: Callable, image_dir: Path, tmp_path: Path) -> None:
    raw = tiny_raw("lte", steps=5, export={"dtype": "float16"})
    result = run(parse(raw), tmp_path)
    meta = read_metadata(result.checkpoint)
    assert meta["method"] == "lte" and meta["arch"] == "lte" and meta["trained"] is True
    t = meta["training"]
    assert t["recipe"] == raw and t["recipe_name"] == "zoomsr/lte-edsr"
    assert t["data"]["sha256"] == ImageStore.load([image_dir])[1].sha256 and t["data"]["images"] == 6
    assert t["steps"] == 5 and t["phases"][0]["steps"] == 5 and t["world_size"] == 1
    assert t["device"] == "CPU" and t["amp"] == "none" and t["wall_time_s"] >= 0
    assert set(t["git"]) == {"commit", "dirty"} and "imresize" in t["lr_generation"]
    assert t["deviations"] == raw["deviations"] and t["truncated"] is False
    assert meta["metrics"]["val_x4_psnr_y"] > 0 and meta["metrics"]["validated_step"] == 5
    with safe_open(str(result.checkpoint), "pt") as f:
        assert f.get_tensor("imnet.layers.0.weight").dtype == torch.float16
    model, _ = load_method("lte", checkpoint=result.checkpoint)
    assert model.config()["hidden"] == [32]


def test_truncated_run_is_not_marked_trained(tiny_recipe: Callable, tmp_path: Path) -> None:
    result = run(tiny_recipe("liif", steps=50), tmp_path, max_steps=3)
    meta = read_metadata(result.checkpoint)
    assert meta["trained"] is False and meta["training"]["truncated"] is True
    assert meta["training"]["steps"] == 3
    with pytest.raises(MissingWeightsError):
        load_method("liif", checkpoint=result.checkpoint)


def test_cisrgan_starts_from_a_liif_checkpoint_and_uses_given_vgg_weights(
        tiny_recipe: Callable, tmp_path: Path) -> None:
    liif = run(tiny_recipe("liif", steps=3), tmp_path / "liif").checkpoint
    vgg = tmp_path / "vgg19.pth"
    torch.save(VGG19Features((4, 4, 8, 8, 8)).state_dict(), vgg)
    recipe = tiny_recipe("cisrgan", steps=2)
    result = run(recipe, tmp_path / "gan", init=liif, vgg19_weights=vgg)
    t = read_metadata(result.checkpoint)["training"]
    assert t["init"]["checkpoint"] == str(liif) and t["init"]["method"] == "liif"
    assert t["vgg19_weights"]["path"] == str(vgg)
    assert not any("VGG" in note for note in t["deviations"])
    other = tiny_recipe("cisrgan", steps=2, model={"config": {"hidden": [16]}})
    with pytest.raises(RecipeError, match="holds liif"):
        run(other, tmp_path / "mismatch", init=liif)
    required = tiny_recipe("cisrgan", steps=2, init={"required": True})
    with pytest.raises(RecipeError, match="--init"):
        run(required, tmp_path / "required")


def test_cli_train_list_and_reproduce(tiny_raw: Callable, tmp_path: Path, capsys: pytest.CaptureFixture,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.main(["list"]) == 0
    assert "zoomsr/clit-edsr" in capsys.readouterr().out.split()
    config = tmp_path / "tiny-liif.toml"
    config.write_text(to_toml(tiny_raw("liif", steps=4)))
    out = tmp_path / "run"
    args = ["train", str(config), "--out", str(out), "--device", "cpu", "--no-progress"]
    assert cli.main(args) == 0
    assert read_metadata(out / "liif.safetensors")["trained"] is True
    assert cli.main(args) == 2  # the run folder holds a state: refuse without --resume
    assert "--resume" in capsys.readouterr().err
    assert cli.main(args + ["--resume"]) == 0  # a finished run just exports again

    installed = tmp_path / "resources" / "checkpoints"
    monkeypatch.setitem(cli.SHIPPED_RECIPES, "liif", str(config))
    monkeypatch.setattr(cli, "checkpoints_dir", lambda: installed)
    monkeypatch.chdir(tmp_path)
    # the shipped LIIF is the authors': reproduce explains, and trains ours only into --out
    assert cli.main(["reproduce", "liif", "--device", "cpu", "--no-progress"]) == 2
    assert "python -m training official liif" in capsys.readouterr().err and not installed.exists()
    assert cli.main(["reproduce", "liif", "--out", str(tmp_path / "ours"), "--device", "cpu", "--no-progress"]) == 0
    assert read_metadata(tmp_path / "ours" / "liif.safetensors")["provenance"]["kind"] == "zoomsr"
    assert not installed.exists()
    monkeypatch.delitem(cli.OFFICIAL, "liif")  # a method whose shipped weights are ZoomSR's
    assert cli.main(["reproduce", "liif", "--max-steps", "2", "--device", "cpu"]) == 2
    assert not installed.exists()
    assert cli.main(["reproduce", "liif", "--device", "cpu", "--no-progress"]) == 0
    assert read_metadata(installed / "liif.safetensors")["trained"] is True
    assert (tmp_path / "runs" / "reproduce" / "liif" / "state.pt").is_file()
