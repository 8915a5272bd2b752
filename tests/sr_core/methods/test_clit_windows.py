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

from sr_core.coords import Queries, centre_of, nearest_index
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



def _small_clit() -> CLIT:
    torch.manual_seed(1)
    return CLIT(encoder_args={"n_resblocks": 2}, base_dim=32, heads=4, n_stages=1, hidden=[16]).eval()


def test_kept_value_columns_follow_weights_changed_in_place():
    model = _small_clit()
    image = SourceImage(np.random.default_rng(4).random((9, 11, 3), dtype=np.float32))
    out_h, out_w = output_size(9, 11, 4.0)

    def render(clit: CLIT) -> np.ndarray:
        return Renderer(clit, chunk=16).render(image, out_h, out_w, Rect(0, 0, out_h, out_w))

    before = render(model)
    assert model._columns  # kept for the next render
    weight = model.imnets[0].first.weight
    with torch.no_grad():
        weight.mul_(-2.0)  # in place, as load_state_dict and optimizer steps change weights
    changed = render(model)
    unkept = _small_clit()  # a new module: nothing kept
    unkept.load_state_dict(model.state_dict())
    assert np.abs(changed - before).max() > 1e-3
    assert np.array_equal(changed, render(unkept))
    with torch.no_grad():
        weight.mul_(-0.5)
    assert np.array_equal(render(model), before)
    model.to(torch.bfloat16).to(torch.float32)  # rounded weights, perhaps at the same addresses
    unkept.load_state_dict(model.state_dict())
    assert np.array_equal(render(model), render(unkept))


def test_value_columns_carry_gradients_in_training():
    model = _small_clit().train()
    out = model(torch.rand(1, 3, 6, 7), Queries.grid(24, 28, (0, 24), (0, 28)))
    out.abs().mean().backward()
    grad = model.imnets[0].first.weight.grad
    assert grad[:, :model.window ** 2 * model.base_dim].abs().max() > 0  # the folded columns are in the graph
    assert not model._columns  # nothing kept while gradients are needed
