"""CiSRGAN's parts: the VGG-19 feature extractor (torchvision layout), the discriminator and
the perceptual substitute ``liif-encoder`` (the initial checkpoint's frozen encoder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from sr_core.architectures import build
from sr_core.checkpoints import load, read_metadata
from sr_core.methods.base import normalize
from tests.training.conftest import TINY_MODELS
from tests.training.helpers import losses, run, weights
from training.discriminator import Discriminator
from training.recipe import PERCEPTUAL_SUBSTITUTES, PerceptualSpec, RecipeError, parse
from training.trainer import encoder_features
from training.vgg import CONV5_4, EncoderFeatures, VGG19Features

TORCHVISION_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_vgg19_has_torchvision_layout() -> None:
    with torch.device("meta"):
        vgg = VGG19Features()
    state = vgg.state_dict()
    assert sorted({int(k.split(".")[1]) for k in state}) == TORCHVISION_CONVS
    assert state["features.0.weight"].shape == (64, 3, 3, 3)
    assert state["features.34.weight"].shape == (512, 512, 3, 3)
    assert isinstance(vgg.features[-1], torch.nn.Conv2d)  # conv5_4, before its ReLU
    assert not any(p.requires_grad for p in vgg.parameters())


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_vgg19_loads_a_torchvision_state_dict(suffix: str, tmp_path: Path) -> None:
    """A torchvision-style dict (feature convolutions plus classifier keys, which are ignored)."""
    widths = (4, 4, 8, 8, 8)
    source = VGG19Features(widths)
    state = {k: torch.randn_like(v) for k, v in source.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = tmp_path / f"vgg19{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    vgg = VGG19Features(widths)
    vgg.load_weights(path)
    assert torch.equal(vgg.features[CONV5_4].weight, state["features.34.weight"])
    x = torch.rand(2, 3, 16, 16)
    assert vgg(x).shape == (2, 8, 1, 1)
    with pytest.raises(ValueError, match="shapes differ"):
        VGG19Features((4, 4, 8, 8, 16)).load_weights(path)


@pytest.mark.parametrize("size, stages", [(64, 4), (128, 5), (16, 2)])
def test_discriminator_reaches_4x4(size: int, stages: int) -> None:
    d = Discriminator(size, features=8)
    convs = [m for m in d.body if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 * stages
    assert d.head[1].in_features == 8 * min(2 ** (stages - 1), 8) * 16
    real, fake = d(torch.rand(3, 3, size, size), torch.rand(3, 3, size, size))
    assert real.shape == fake.shape == (3,)
    with pytest.raises(ValueError):
        Discriminator(48)


def test_full_size_discriminator_matches_basicsr_at_128() -> None:
    """BasicSR's VGGStyleDiscriminator(num_feat=64, input_size=128): 5 pairs, 512·4·4 → 100."""
    d = Discriminator(128)
    widths = [m.out_channels for m in d.body if isinstance(m, torch.nn.Conv2d)]
    assert widths == [64, 64, 128, 128, 256, 256, 512, 512, 512, 512]
    assert d.head[1].in_features == 512 * 16 and d.head[-1].out_features == 1


# -- the perceptual substitute "liif-encoder": the frozen encoder of the initial checkpoint ---

def test_liif_encoder_substitute_parses_and_unknown_substitutes_are_refused(tiny_raw: Callable) -> None:
    raw = tiny_raw("cisrgan", loss={"perceptual": {"substitute": "liif-encoder", "substitute_weight": 10}})
    spec = parse(raw).phases[0].loss.perceptual
    assert (spec.substitute, spec.weight_for(False), spec.weight_for(True)) == ("liif-encoder", 1.0, 10.0)
    for substitute in PERCEPTUAL_SUBSTITUTES:
        parse(tiny_raw("cisrgan", loss={"perceptual": {"substitute": substitute}}))
    assert PerceptualSpec(weight=2.0).weight_for(True) == 2.0  # default: the same weight
    with pytest.raises(RecipeError, match="substitute must be one of 'random', 'liif-encoder', 'none'"):
        parse(tiny_raw("cisrgan", loss={"perceptual": {"substitute": "imagenet-vgg"}}))
    with pytest.raises(RecipeError, match="substitute_weight must be positive"):
        parse(tiny_raw("cisrgan", loss={"perceptual": {"substitute_weight": 0}}))


def test_encoder_features_are_a_frozen_copy_on_normalised_input() -> None:
    liif = build("liif", TINY_MODELS["liif"])
    features = EncoderFeatures(liif.encoder)
    x = torch.rand(2, 3, 12, 12, requires_grad=True)
    torch.testing.assert_close(features(x), liif.encoder(normalize(x)))
    assert not any(p.requires_grad for p in features.parameters())
    features.train()
    assert not features.training
    features(x).abs().mean().backward()  # the generator gets gradients through it
    assert x.grad is not None and x.grad.abs().sum() > 0
    with torch.no_grad():  # a copy: the generator's encoder moving does not move the metric
        for param in liif.encoder.parameters():
            param.add_(0.1)
    assert not torch.allclose(features(x), liif.encoder(normalize(x)))


def test_cisrgan_trains_with_the_liif_encoder_substitute(tiny_recipe: Callable, tmp_path: Path) -> None:
    liif = run(tiny_recipe("liif", steps=3), tmp_path / "liif").checkpoint
    recipe = tiny_recipe("cisrgan", steps=3, optim={"freeze": ["encoder"]},
                         loss={"perceptual": {"substitute": "liif-encoder", "substitute_weight": 10.0}})
    result = run(recipe, tmp_path / "gan", init=liif)
    perceptual = losses(tmp_path / "gan", "perceptual")
    assert len(perceptual) == 3 and (perceptual > 0).all() and np.isfinite(perceptual).all()
    assert_weighted(tmp_path / "gan", 10.0)
    t = read_metadata(result.checkpoint)["training"]
    notes = [n for n in t["deviations"] if "frozen encoder of the initial checkpoint" in n]
    assert len(notes) == 1 and liif.name in notes[0] and "instead of ImageNet VGG-19" in notes[0]
    assert notes[0].endswith("; weight 10")
    assert not any("randomly initialised VGG-19" in n for n in t["deviations"])
    assert t["vgg19_weights"] is None and t["init"]["checkpoint"] == str(liif)
    start, end = weights(liif), weights(result.checkpoint)
    assert all(torch.equal(start[k], end[k]) for k in start if k.startswith("encoder."))
    assert not all(torch.equal(start[k], end[k]) for k in start if k.startswith("imnet."))
    # the feature network is that checkpoint's encoder
    features, _ = encoder_features(liif, build("liif", TINY_MODELS["liif"]))
    model, _ = load(liif)
    assert all(torch.equal(a, b) for a, b in zip(features.encoder.state_dict().values(),
                                                 model.encoder.state_dict().values()))


def assert_weighted(out: Path, perceptual_weight: float) -> None:
    """Each logged step's loss is 1e-2·L1 + 5e-3·RaGAN + ``perceptual_weight``·perceptual."""
    l1, adv, perceptual, loss = (losses(out, k) for k in ("l1", "adv", "perceptual", "loss"))
    np.testing.assert_allclose(loss, 1e-2 * l1 + 5e-3 * adv + perceptual_weight * perceptual, rtol=1e-5)


def test_real_vgg_weights_keep_the_papers_weight(tiny_recipe: Callable, tmp_path: Path) -> None:
    """The substitute's weight never applies to ImageNet VGG-19 weights, nor its deviation."""
    liif = run(tiny_recipe("liif", steps=3), tmp_path / "liif").checkpoint
    vgg = tmp_path / "vgg19.pth"
    torch.save(VGG19Features((4, 4, 8, 8, 8)).state_dict(), vgg)
    recipe = tiny_recipe("cisrgan", steps=2,
                         loss={"perceptual": {"substitute": "liif-encoder", "substitute_weight": 10.0}})
    result = run(recipe, tmp_path / "gan", init=liif, vgg19_weights=vgg)
    assert_weighted(tmp_path / "gan", 1.0)
    t = read_metadata(result.checkpoint)["training"]
    assert t["vgg19_weights"]["path"] == str(vgg) and not any("VGG" in n for n in t["deviations"])


def test_liif_encoder_substitute_refuses_a_missing_or_different_encoder(
        tiny_recipe: Callable, tmp_path: Path) -> None:
    recipe = tiny_recipe("cisrgan", steps=2, loss={"perceptual": {"substitute": "liif-encoder"}})
    with pytest.raises(RecipeError, match="'liif-encoder' uses the encoder of the initial checkpoint, "
                                          "and this run has none.*--init PATH"):
        run(recipe, tmp_path / "no-init")
    liif = run(tiny_recipe("liif", steps=3), tmp_path / "liif").checkpoint
    with pytest.raises(FileNotFoundError, match="not found"):
        encoder_features(tmp_path / "missing.safetensors", build("liif", TINY_MODELS["liif"]))
    narrow = build("liif", {**TINY_MODELS["liif"], "encoder_args": {"n_resblocks": 1, "n_feats": 4}})
    with pytest.raises(RecipeError, match="must be the generator's encoder: .*'n_feats': 8.*"
                                          "the generator 'edsr-baseline' .*'n_feats': 4"):
        encoder_features(liif, narrow)
    short = run(tiny_recipe("liif", steps=5), tmp_path / "short", max_steps=1).checkpoint
    with pytest.raises(RecipeError, match="untrained"):
        encoder_features(short, build("liif", TINY_MODELS["liif"]))
    # a resumed run must see the file it started from
    run(recipe, tmp_path / "gan", init=liif)
    other = run(tiny_recipe("liif", steps=4), tmp_path / "other").checkpoint
    liif.write_bytes(other.read_bytes())
    with pytest.raises(RecipeError, match="changed since this run started"):
        run(recipe, tmp_path / "gan", init=liif, resume=True)
