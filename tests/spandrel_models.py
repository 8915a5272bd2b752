"""Tiny random-weight models of spandrel architectures, written by the tests themselves (no
weights are shipped or downloaded). Their receptive fields fit inside the renderer's halo, so
a tiled render must equal a whole-image one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from sr_core.spandrel_files import import_spandrel


def _esrgan() -> nn.Module:
    from spandrel.architectures.ESRGAN import ESRGAN
    return ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4)


def _swinir() -> nn.Module:
    # window 6: the renderer's 32-pixel tiles and halo are not multiples of it unless aligned
    from spandrel.architectures.SwinIR import SwinIR
    return SwinIR(img_size=24, window_size=6, embed_dim=12, depths=[2], num_heads=[2], upscale=2,
                  upsampler="pixelshuffledirect", mlp_ratio=2.0)


def _span(upscale: int = 2) -> nn.Module:
    from spandrel.architectures.SPAN import SPAN
    return SPAN(num_in_ch=3, num_out_ch=3, feature_channels=8, upscale=upscale)


#: name → (builder, scale, architecture name spandrel reports)
MODELS: dict[str, tuple[Callable[[], nn.Module], int, str]] = {
    "esrgan": (_esrgan, 4, "ESRGAN"),
    "swinir": (_swinir, 2, "SwinIR"),
    "span": (_span, 2, "SPAN"),
}


def tiny_network(name: str, seed: int = 0) -> nn.Module:
    import_spandrel()
    torch.manual_seed(seed)
    return MODELS[name][0]().eval()


def save_model(net: nn.Module, path: Path, *, wrap: str | None = None) -> Path:
    """``net``'s weights as ``path`` (.safetensors, or a .pth/.ckpt through torch.save,
    optionally inside ``{wrap: state}`` as BasicSR writes ``params_ema``)."""
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save({wrap: state} if wrap else state, path)
    return path


def restoration_network() -> nn.Module:
    """A ×1 model (denoising/restoration), which is not super-resolution."""
    import_spandrel()
    torch.manual_seed(0)
    return _span(upscale=1)
