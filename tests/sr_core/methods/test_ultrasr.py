"""UltraSR (METHODS_SPEC §3.2): sizes, crop exactness, the fused shortcut, float32 encoding."""

from __future__ import annotations

import math

import pytest
import torch

from sr_core.coords import Queries
from sr_core.methods.ultrasr import SPEC, UltraSR, spatial_encoding
from tests.sr_core.methods.helpers import full_render, out_size

TINY = SPEC.tiny
SCALES = (1.7, 4.0, 11.3)


@pytest.fixture(scope="module")
def model() -> UltraSR:
    torch.manual_seed(0)
    return UltraSR(**TINY).eval()


def test_parameter_counts() -> None:
    m = UltraSR()
    total = sum(p.numel() for p in m.parameters())
    decoder = total - sum(p.numel() for p in m.encoder.parameters())
    # L1 628→256, L2..L5 306→256, 256→3, 12 frequencies
    assert decoder == 628 * 256 + 256 + 4 * (306 * 256 + 256) + 256 * 3 + 3 + 12 == 476_175
    assert total == 1_220_440 + 476_175 == 1_696_615


def test_config_round_trip(model: UltraSR) -> None:
    rebuilt = type(model)(**model.config())
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_layer_widths_and_frequencies() -> None:
    m = UltraSR(**TINY, n_hidden=4, n_freqs=3)
    e_dim = 2 + 4 * 3
    assert [layer.in_features for layer in m.hidden] == [72 + e_dim + 2] + [16 + e_dim] * 3
    assert torch.equal(UltraSR(**TINY).freqs, 2.0 ** torch.arange(1, 13))
    lr = torch.rand(1, 3, 5, 6) * 2 - 1
    m(lr, Queries.grid(12, 14, (0, 12), (0, 14))).sum().backward()
    assert m.freqs.grad is not None and m.freqs.grad.abs().sum() > 0  # learnable


def test_encoding_is_float32_and_ordered() -> None:
    rel = torch.tensor([[0.25, -1.5]], dtype=torch.bfloat16)
    freqs = torch.tensor([2.0, 4096.0])
    enc = spatial_encoding(rel, freqs)
    assert enc.dtype == torch.float32 and enc.shape == (1, 8)
    y, x = rel.float()[0]
    expected = [math.sin(2 * y), math.sin(2 * x), math.cos(2 * y), math.cos(2 * x),
                math.sin(4096 * y), math.sin(4096 * x), math.cos(4096 * y), math.cos(4096 * x)]
    assert torch.allclose(enc[0], torch.tensor(expected), atol=1e-4)


def test_bfloat16_keeps_frequencies_float32(lr: torch.Tensor) -> None:
    torch.manual_seed(0)
    m = UltraSR(**TINY).eval()
    with torch.no_grad():
        m.freqs.add_(torch.linspace(0.001, 0.013, 12))  # "learned" values bf16 cannot hold
    freqs = m.freqs.detach().clone()
    out_h, out_w = out_size(lr, 4.0)
    ref = full_render(m, lr, out_h, out_w)
    m.to(torch.bfloat16)
    assert m.freqs.dtype == torch.float32 and torch.equal(m.freqs, freqs)
    assert m.hidden[0].weight.dtype == torch.bfloat16
    out = full_render(m, lr.to(torch.bfloat16), out_h, out_w)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max() <= 5e-2
