"""The dtype for pixels that are only displayed: bfloat16 where it is native and invisible.

On a CPU with native bfloat16 matrix products (AVX-512 BF16 or AMX) a method renders about
twice as fast in bfloat16. bfloat16 keeps 8 significant bits, so each method is measured once,
on a crop of the bundled photograph rendered in both dtypes: bfloat16 is used only if 99 % of
the values differ from float32 by less than one 8-bit display level (1/255). (With the
authors' LIIF weights the mean difference is about 0.15 level and the largest 1–4 levels, at
rare pixels; see docs/BENCHMARKS.md.) Evaluation, metrics and exports stay float32.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from sr_core.methods.base import SRMethod
from sr_core.paths import resources_dir

#: a displayed value may differ from float32 by less than one 8-bit level ...
DISPLAY_TOLERANCE = 1 / 255
#: ... for this share of the probe's values
DISPLAY_QUANTILE = 0.99
#: the probe: a textured crop (rows, columns) of the demo photograph, rendered at this scale
PROBE_CROP = (slice(250, 266), slice(380, 396))
PROBE_SCALE = 3.1


def native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matrix products run natively on ``device`` (a CPU with AVX-512 BF16 or
    AMX, as oneDNN reports it; CUDA)."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def probe_image() -> np.ndarray:
    """The probe's pixels (float32 in [0, 1])."""
    from sr_core.imaging import load_image

    pixels = load_image(resources_dir() / "demo" / "kodim08.webp").pixels[PROBE_CROP]
    return np.ascontiguousarray(pixels, dtype=np.float32)


def probe_error(method: SRMethod, dtype: torch.dtype, device: torch.device,
                quantile: float = DISPLAY_QUANTILE) -> float:
    """The ``quantile`` of |difference| (in [0, 1] units) between the probe rendered in
    ``dtype`` and in float32 (the method itself is left as it was)."""
    from sr_core.render import Renderer, SourceImage, output_size

    image = SourceImage(probe_image())
    out_h, out_w = output_size(image.height, image.width, PROBE_SCALE)
    reference = Renderer(copy.deepcopy(method), device=device, dtype=torch.float32)
    candidate = Renderer(copy.deepcopy(method), device=device, dtype=dtype)
    diff = candidate.render(image, out_h, out_w) - reference.render(image, out_h, out_w)
    return float(np.quantile(np.abs(diff), quantile))


def display_dtype(method: SRMethod, device: torch.device) -> torch.dtype:
    """bfloat16 on a CPU with native bfloat16 if ``method`` (one with trained weights) stays
    within one display level of float32 there (see the module), else float32."""
    if device.type != "cpu" or not method.needs_weights or not native_bf16(device):
        return torch.float32
    return torch.bfloat16 if probe_error(method, torch.bfloat16, device) < DISPLAY_TOLERANCE else torch.float32
