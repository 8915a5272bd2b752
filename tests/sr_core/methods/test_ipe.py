"""IPE-LIIF (METHODS_SPEC §3.3): the integrated encoding, sizes, crop exactness, shortcut."""

from __future__ import annotations

import math

import pytest
import torch

from sr_core.coords import Queries
from sr_core.methods.ensemble import branches
from sr_core.methods.ipe import IPELIIF, SPEC, integrated_pe
from tests.sr_core.methods.helpers import bfloat16_render

TINY = SPEC.tiny
SCALES = (1.7, 4.0, 11.3)


@pytest.fixture(scope="module")
def model() -> IPELIIF:
    torch.manual_seed(0)
    return IPELIIF(**TINY).eval()


def numerical_pe(x: torch.Tensor, r: torch.Tensor, n_freqs: int, base: float = 1.0,
                 n: int = 2 ** 18) -> torch.Tensor:
    """Mean of sin/cos(ω x') over x' uniform in [x − r, x + r]: dense midpoint rule, float64."""
    omega = base * 2.0 ** torch.arange(n_freqs, dtype=torch.float64) * math.pi
    out = torch.empty(x.shape[0], n_freqs, 2, 2, dtype=torch.float64)
    for i in range(x.shape[0]):
        for d in range(2):
            t = x[i, d] - r[i, d] + (torch.arange(n, dtype=torch.float64) + 0.5) * (2 * r[i, d] / n)
            phase = omega[:, None] * t
            out[i, :, 0, d] = phase.sin().mean(-1)
            out[i, :, 1, d] = phase.cos().mean(-1)
    return out.flatten(1)


@pytest.mark.parametrize("base", [1.0, 0.25])
def test_integrated_pe_is_the_box_average(base: float) -> None:
    x = torch.tensor([[0.3, -1.7], [1.2, 0.05], [-0.9, 1.99], [0.0, -0.6]], dtype=torch.float64)
    r = torch.tensor([[1.0, 0.5], [0.01, 0.25], [1 / 11.3, 1 / 30], [0.7, 1 / 1.7]], dtype=torch.float64)
    closed = integrated_pe(x, r, 10, base)
    assert closed.dtype == torch.float64 and closed.shape == (4, 40)
    assert (closed - numerical_pe(x, r, 10, base)).abs().max() <= 1e-5


def test_the_spec_frequencies_give_every_ensemble_branch_the_same_encoding() -> None:
    """With ω_0 = π (METHODS_SPEC A3) every period divides one LR pixel (2 units), and the
    four branches' ``rel`` differ by exactly 2: the decoder sees the query's position only
    modulo one LR pixel. ``pe_base = 0.25`` (the shipped recipe's) tells the branches apart."""
    out = 48 * 12
    iy, ix = torch.randint(24, out - 24, (2, 1, 500))  # away from the image border
    br = branches(Queries(iy, ix, torch.tensor([out]), torch.tensor([out])), 48, 48)
    spread = {base: (pe - pe[:1]).abs().amax().item() for base in (1.0, 0.25)
              for pe in [integrated_pe(br.rel, br.rel_cell / 2, 10, base)]}
    assert spread[1.0] < 1e-3 and spread[0.25] > 0.5  # 1e-3: float32 rel at 2^9·π


def test_integrated_pe_tends_to_plain_pe() -> None:
    x = torch.tensor([[0.3, -1.7], [1.2, 0.05]], dtype=torch.float64)
    omega = 2.0 ** torch.arange(10, dtype=torch.float64)[:, None] * math.pi
    arg = x[:, None, :] * omega
    plain = torch.stack([arg.sin(), arg.cos()], -2).flatten(1)
    errors = [(integrated_pe(x, torch.full_like(x, 1 / s), 10) - plain).abs().max().item()
              for s in (1e3, 1e5, 1e7)]
    assert errors[0] > errors[1] > errors[2] and errors[2] <= 1e-6
    # r = 0 exactly: sinc(0) = 1, no NaN in values or gradients
    r = torch.zeros(2, 2, dtype=torch.float32, requires_grad=True)
    enc = integrated_pe(x.float(), r, 10)
    arg32 = x.float()[:, None, :] * (math.pi * 2.0 ** torch.arange(10, dtype=torch.float32)[:, None])
    assert torch.isfinite(enc).all()
    assert torch.equal(enc.detach(), torch.stack([arg32.sin(), arg32.cos()], -2).flatten(1))
    enc.sum().backward()
    assert torch.isfinite(r.grad).all()


def test_integrated_pe_computes_in_float32() -> None:
    x = torch.tensor([[0.25, -1.5]], dtype=torch.bfloat16)
    assert integrated_pe(x, x.abs() / 4, 10).dtype == torch.float32


def test_parameter_counts() -> None:
    m = IPELIIF()
    total = sum(p.numel() for p in m.parameters())
    decoder = total - sum(p.numel() for p in m.encoder.parameters())
    # 616→256, then 3 × (256 + 616 = 872)→256, then 256→3
    assert [layer.in_features for layer in m.hidden] == [616, 872, 872, 872]
    assert decoder == 616 * 256 + 256 + 3 * (872 * 256 + 256) + 256 * 3 + 3 == 829_187
    assert total == 1_220_440 + 829_187 == 2_049_627


def test_config_round_trip(model: IPELIIF) -> None:
    rebuilt = type(model)(**model.config())
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_bfloat16_smoke(lr: torch.Tensor) -> None:
    torch.manual_seed(0)
    ref, out = bfloat16_render(IPELIIF(**TINY).eval(), lr)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max() <= 5e-2
