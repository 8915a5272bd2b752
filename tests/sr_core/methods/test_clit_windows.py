"""CLIT's per-window attention (``CLIT._attend``, issue #30) computes what the per-query
formulation it replaced computed: the same renders at ×4 and ×12, within 1e-5 in float32 and
one 8-bit level in bfloat16, at the paper's size with random weights.

``per_query_lit`` below is the replaced ``CLIT._lit``, kept verbatim as the reference: every
query gathers its own 7×7 window of keys and values and applies the first linear layer to its
12,544 attention-scaled values.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.coords import centre_of, nearest_index
from sr_core.methods.base import FeatureCrop
from sr_core.methods.clit import CLIT
from sr_core.methods.sampling import bilinear
from sr_core.render import Rect, Renderer, SourceImage, output_size


def per_query_lit(self: CLIT, k: int, maps: FeatureCrop, coord: Tensor, cell: Tensor) -> Tensor:
    """Stage ``k``'s residual as ``CLIT._lit`` computed it before the windows were shared."""
    h, w = maps.geom.lr_h, maps.geom.lr_w
    b, n = coord.shape[:2]
    r, side, heads = self.radius, self.window, self.heads
    dim = self.base_dim // heads
    first = self.imnets[k].first
    dt = first.weight.dtype
    cy, cx = coord[..., 0], coord[..., 1]
    jy, jx = nearest_index(cy, h), nearest_index(cx, w)
    offsets = torch.arange(-r, r + 1, device=coord.device)
    steps = torch.linspace(-r, r, side, device=coord.device)
    rel_y = (cy[..., None] - (centre_of(jy, h)[..., None] + steps * (2 / h))) * h
    rel_x = (cx[..., None] - (centre_of(jx, w)[..., None] + steps * (2 / w))) * w
    gx = (jx[..., None] + offsets).expand(b, n, side)
    query = bilinear(maps, "q", coord).to(dt).view(b, n, 1, heads, dim)

    def window_row(name: str, i: int) -> Tensor:
        gy = (jy + offsets[i])[..., None].expand(b, n, side)
        return maps.gather(name, gy.reshape(b, -1), gx.reshape(b, -1)).view(b, n, side, heads, dim)

    dots = [(window_row("k", i) * query).sum(-1) for i in range(side)]
    logits = torch.cat(dots, dim=2).float() / math.sqrt(dim)
    logits = logits + self.pb_encoder(rel_y, rel_x).float().flatten(2, 3)
    attn = logits.softmax(dim=2).to(dt)
    rel_cell = (cell * cell.new_tensor([h, w])).to(dt)
    row_dim = side * self.base_dim
    hid = F.linear(rel_cell, first.weight[:, side * row_dim:], first.bias)
    for i in range(side):
        scaled = window_row("v", i) * attn[:, :, i * side:(i + 1) * side, :, None]
        hid = hid + F.linear(scaled.flatten(2), first.weight[:, i * row_dim:(i + 1) * row_dim])
    return self.imnets[k].after_first(hid).float()


@pytest.fixture(scope="module")
def paper_clit() -> CLIT:
    """CLIT at the paper's size (EDSR-baseline, 256 channels, 8 heads, 7×7, 3 stages), random."""
    torch.manual_seed(0)
    return CLIT().eval()


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.bfloat16, 1 / 255)])
@pytest.mark.parametrize("scale", [4.0, 12.0])
def test_shared_windows_render_what_each_query_computed_alone(paper_clit, monkeypatch, scale, dtype, tolerance):
    rng = np.random.default_rng(3)
    image = SourceImage(rng.random((14, 17, 3), dtype=np.float32))
    out_h, out_w = output_size(14, 17, scale)
    # a rectangle across a block border and an edge of the image, in 32-query chunks (8 × CLIT.chunk_factor)
    rect = Rect(out_h - 30, out_w // 2 - 20, out_h, out_w // 2 + 17)

    def render() -> np.ndarray:
        return Renderer(copy.deepcopy(paper_clit), dtype=dtype, block=24, chunk=8).render(image, out_h, out_w, rect)

    ours = render()
    monkeypatch.setattr(CLIT, "_lit", per_query_lit)
    reference = render()
    assert np.abs(ours - reference).max() <= tolerance
    assert np.abs(reference - reference.mean()).max() > 0.05  # the residuals are not negligible
