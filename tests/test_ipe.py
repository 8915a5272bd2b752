"""IPE-LIIF (METHODS_SPEC §3.3): the integrated encoding, sizes, crop exactness, shortcut."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sr_core.coords import Queries, make_coord
from sr_core.methods.ipe import IPELIIF, integrated_pe

TINY = dict(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden_dim=16)
SCALES = (1.7, 4.0, 11.3)


@pytest.fixture(scope="module")
def model() -> IPELIIF:
    torch.manual_seed(0)
    return IPELIIF(**TINY).eval()


@pytest.fixture(scope="module")
def lr() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(1, 3, 23, 29) * 2 - 1


def out_size(lr: torch.Tensor, scale: float) -> tuple[int, int]:
    return round(lr.shape[-2] * scale), round(lr.shape[-1] * scale)


def full_render(model: IPELIIF, lr: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    with torch.no_grad():
        return model(lr, Queries.grid(out_h, out_w, (0, out_h), (0, out_w))).reshape(out_h, out_w, 3)


def nearest(t: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(t, grid, mode="nearest", align_corners=False)[:, :, 0].permute(0, 2, 1)


def naive_forward(model: IPELIIF, lr: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """The LIIF official formulation with IPE-LIIF's input and skip-concatenating MLP."""
    feat = model.encoder(lr)
    b, c, h, w = feat.shape
    feat = F.unfold(feat, 3, padding=1).view(b, c * 9, h, w)
    feat_coord = torch.stack(torch.meshgrid(make_coord(h), make_coord(w), indexing="ij"))[None]
    coord = torch.stack(torch.meshgrid(make_coord(out_h), make_coord(out_w), indexing="ij"), -1)
    coord = coord.reshape(1, -1, 2)
    radius = torch.tensor([2 / out_h * h, 2 / out_w * w]) / 2
    preds, areas = [], []
    for vy in (-1, 1):
        for vx in (-1, 1):
            c_ = coord.clone()
            c_[..., 0] += vy / h + 1e-6
            c_[..., 1] += vx / w + 1e-6
            grid = c_.clamp(-1 + 1e-6, 1 - 1e-6).flip(-1)[:, None]
            q_feat = nearest(feat, grid)
            q_coord = nearest(feat_coord, grid)
            rel = (coord - q_coord) * torch.tensor([h, w])
            ipe = []
            for level in range(10):
                omega = 2 ** level * math.pi
                damp = torch.sin(omega * radius) / (omega * radius)
                ipe += [torch.sin(omega * rel) * damp, torch.cos(omega * rel) * damp]
            x = torch.cat([q_feat] + ipe, -1)
            hid = F.relu(model.hidden[0](x))
            for layer in model.hidden[1:]:
                hid = F.relu(layer(torch.cat([hid, x], -1)))
            preds.append(model.out(hid))
            areas.append((rel[..., 0] * rel[..., 1]).abs() + 1e-9)
    total = sum(areas)
    return sum(p * (a / total)[..., None] for p, a in zip(preds, areas[::-1])).reshape(out_h, out_w, 3)


def numerical_pe(x: torch.Tensor, r: torch.Tensor, n_freqs: int, n: int = 2 ** 18) -> torch.Tensor:
    """Mean of sin/cos(ω x') over x' uniform in [x − r, x + r]: dense midpoint rule, float64."""
    omega = 2.0 ** torch.arange(n_freqs, dtype=torch.float64) * math.pi
    out = torch.empty(x.shape[0], n_freqs, 2, 2, dtype=torch.float64)
    for i in range(x.shape[0]):
        for d in range(2):
            t = x[i, d] - r[i, d] + (torch.arange(n, dtype=torch.float64) + 0.5) * (2 * r[i, d] / n)
            phase = omega[:, None] * t
            out[i, :, 0, d] = phase.sin().mean(-1)
            out[i, :, 1, d] = phase.cos().mean(-1)
    return out.flatten(1)


def test_integrated_pe_is_the_box_average() -> None:
    x = torch.tensor([[0.3, -1.7], [1.2, 0.05], [-0.9, 1.99], [0.0, -0.6]], dtype=torch.float64)
    r = torch.tensor([[1.0, 0.5], [0.01, 0.25], [1 / 11.3, 1 / 30], [0.7, 1 / 1.7]], dtype=torch.float64)
    closed = integrated_pe(x, r, 10)
    assert closed.dtype == torch.float64 and closed.shape == (4, 40)
    assert (closed - numerical_pe(x, r, 10)).abs().max() <= 1e-5


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
    assert [l.in_features for l in m.hidden] == [616, 872, 872, 872]
    assert decoder == 616 * 256 + 256 + 3 * (872 * 256 + 256) + 256 * 3 + 3 == 829_187
    assert total == 1_220_440 + 829_187 == 2_049_627


def test_config_round_trip(model: IPELIIF) -> None:
    rebuilt = type(model)(**model.config())
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_matches_naive_formulation(model: IPELIIF, lr: torch.Tensor) -> None:
    small = lr[..., :12, :15]  # a smaller image keeps the per-query reference fast
    for scale in SCALES:
        out_h, out_w = out_size(small, scale)
        with torch.no_grad():
            ref = naive_forward(model, small, out_h, out_w)
        assert (full_render(model, small, out_h, out_w) - ref).abs().max() <= 1e-5


def test_bfloat16_smoke(lr: torch.Tensor) -> None:
    torch.manual_seed(0)
    m = IPELIIF(**TINY).eval()
    out_h, out_w = out_size(lr, 4.0)
    ref = full_render(m, lr, out_h, out_w)
    m.to(torch.bfloat16)
    out = full_render(m, lr.to(torch.bfloat16), out_h, out_w)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max() <= 5e-2
