"""Feature networks of CiSRGAN's perceptual loss.

:class:`VGG19Features`: VGG-19 with torchvision's ``features.{i}`` layout (no torchvision
needed). A torchvision VGG-19 state dict (``features.0.weight`` … ``features.34.bias``, plus
the classifier keys, which are ignored) loads into it unchanged. ``widths`` shrink the network
for tests without changing the layer indices.

:class:`EncoderFeatures`: the substitute ``liif-encoder``, a frozen copy of an SR encoder (the
EDSR-baseline of the LIIF authors' checkpoint the run starts from) on the [0, 1] images
normalised as the encoder expects (``sr_core`` ``normalize``: sub 0.5, div 0.5).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from sr_core.methods.base import normalize

#: convolutions per block of VGG-19 (configuration "E"); a max-pool follows every block
BLOCKS = (2, 2, 4, 4, 4)
#: index of conv5_4 in ``features``; the perceptual loss reads its output before the ReLU
CONV5_4 = 34
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """``features[0 … last]`` of VGG-19 on [0, 1] RGB (ImageNet-normalised inside), frozen."""

    def __init__(self, widths: tuple[int, ...] = (64, 128, 256, 512, 512), last: int = CONV5_4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for width, convs in zip(widths, BLOCKS):
            for _ in range(convs):
                layers += [nn.Conv2d(cin, width, 3, padding=1), nn.ReLU(inplace=True)]
                cin = width
            layers.append(nn.MaxPool2d(2, 2))
        if not 0 <= last < len(layers) or not isinstance(layers[last], nn.Conv2d):
            raise ValueError(f"features.{last} is not a convolution of VGG-19")
        self.features = nn.Sequential(*layers[:last + 1])
        for m in self.features:
            if isinstance(m, nn.Conv2d):  # torchvision's initialisation
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)

    def forward(self, rgb01: Tensor) -> Tensor:
        return self.features((rgb01 - self.mean) / self.std)

    def load_weights(self, path: str | Path) -> None:
        """Load a torchvision-layout state dict (``.safetensors``, or a torch file read with
        ``weights_only=True``); keys beyond ``last`` and the classifier are ignored."""
        path = Path(path)
        if path.suffix == ".safetensors":
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = state.get("state_dict", state) if isinstance(state, dict) else state
        if not isinstance(state, dict):
            raise ValueError(f"{path} does not hold a state dict")
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        if missing:
            raise ValueError(f"{path} is not a torchvision VGG-19 state dict (missing {missing[:3]})")
        wrong = [k for k in own if state[k].shape != own[k].shape]
        if wrong:
            raise ValueError(f"{path}: shapes differ from VGG-19 for {wrong[:3]}")
        self.load_state_dict({k: state[k] for k in own})


class EncoderFeatures(nn.Module):
    """A frozen copy of an SR encoder as a perceptual feature space: ``encoder(normalize(x))``
    of [0, 1] RGB ``(B, 3, h, w)`` → ``(B, C, h, w)`` (EDSR-baseline: 64 channels, no pooling)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = copy.deepcopy(encoder).float().eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> EncoderFeatures:
        return super().train(False)  # always inference behaviour: it is a fixed metric

    def forward(self, rgb01: Tensor) -> Tensor:
        return self.encoder(normalize(rgb01))
