"""CiSRGAN's parts: the VGG-19 feature extractor (torchvision layout) and the discriminator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from training.discriminator import Discriminator
from training.vgg import CONV5_4, VGG19Features

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
