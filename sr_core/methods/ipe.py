"""IPE-LIIF: LIIF with an integrated positional encoding (METHODS_SPEC §3.3, A3/A4).

No code or weights were published; the encoding is the spec's closed-form reconstruction.
Per ensemble branch the decoder input is ``x = [unfolded code (9C), IPE(rel, rel_cell/2)]``
with no raw coordinate and no cell; ``x`` is skip-concatenated into every hidden layer:
L1 ``x → hidden``, L_k (k ≥ 2) ``[h_{k-1}, x] → hidden``, ReLU after each, then ``→ 3``.

Every hidden layer's code part is per LR pixel and, on the 3×3-unfolded features, exactly
a 3×3 convolution; ``prepare`` computes all of them with one convolution (exact shortcut).
``query`` applies each layer's weight column blocks to ``h`` and to the encoding separately
and adds them, instead of building the concatenated input (exact: the same products).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_core.coords import Queries
from sr_core.encoders import make_encoder
from sr_core.methods import reference as ref
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, addmm_into
from sr_core.methods.ensemble import blend, branches, gather_branches
from sr_core.methods.hooks import LrScale, Reference, TrainingHooks, WarmStart, WarmStartError, encoder_features
from sr_core.methods.liif import LIIF, linear_layers
from sr_core.methods.spec import TINY_ENCODER, TRAIN_ENCODER, MethodSpec


def integrated_pe(x: Tensor, r: Tensor, n_freqs: int, base: float = 1.0) -> Tensor:
    """Mean of ``[sin(ω_l x'), cos(ω_l x')]`` over ``x' ~ U[x − r, x + r]``, per axis.

    ``x`` ``(..., 2)`` box centres, ``r`` (broadcastable) half-widths, ``ω_l = base·2^l·π``
    (l = 0…n_freqs−1). Closed form ``sin(ω x)·sinc(ω r)`` and ``cos(ω x)·sinc(ω r)`` with
    the unnormalised sinc (``sinc(0) = 1``), computed in at least float32. Output
    ``(..., 4·n_freqs)`` ordered ``[sin(ω_0 x_y), sin(ω_0 x_x), cos(ω_0 x_y), cos(ω_0 x_x),
    sin(ω_1 x_y), …]``, each times its axis' damping.
    """
    dtype = torch.promote_types(x.dtype, torch.float32)
    octave = base * 2.0 ** torch.arange(n_freqs, dtype=dtype, device=x.device)[:, None]  # ω_l/π
    arg = x.to(dtype)[..., None, :] * (math.pi * octave)  # (..., L, 2)
    # sin(ω r)/(ω r) = torch.sinc(2^l r): torch's sinc is the normalised one, exact at 0
    damp = torch.sinc(r.to(dtype)[..., None, :] * octave)
    return torch.stack([arg.sin() * damp, arg.cos() * damp], dim=-2).flatten(-3)


class IPELIIF(SRMethod):
    arch = "ipe"
    prep_radius = 1

    def __init__(self, encoder: str = "edsr-baseline", encoder_args: dict[str, Any] | None = None,
                 hidden_dim: int = 256, n_hidden: int = 4, n_freqs: int = 10,
                 pe_base: float = 1.0) -> None:
        super().__init__()
        if n_hidden < 1:
            raise ValueError("n_hidden must be at least 1")
        if not 0 < pe_base <= 1:
            raise ValueError("pe_base must be in (0, 1]")
        self._config = dict(encoder=encoder, encoder_args=dict(encoder_args or {}),
                            hidden_dim=hidden_dim, n_hidden=n_hidden, n_freqs=n_freqs,
                            pe_base=pe_base)
        self.encoder = make_encoder(encoder, **self._config["encoder_args"])
        self.n_freqs, self.pe_base = n_freqs, pe_base
        self.code_dim = self.encoder.out_dim * 9
        in_dim = self.code_dim + 4 * n_freqs
        dims = [in_dim] + [hidden_dim + in_dim] * (n_hidden - 1)
        self.hidden = nn.ModuleList(nn.Linear(d, hidden_dim) for d in dims)
        self.out = nn.Linear(hidden_dim, 3)

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def query_margin(self, scale: float) -> int:
        return 1

    def _columns(self, k: int) -> tuple[slice, slice, slice]:
        """Weight columns of hidden layer ``k``'s input parts: (h_{k-1}, code, IPE)."""
        h = 0 if k == 0 else self.hidden[k].out_features
        return slice(0, h), slice(h, h + self.code_dim), slice(h + self.code_dim, None)

    def prepare(self, feat: Tensor, lr: Tensor | None, geom: CropGeometry) -> FeatureCrop:
        code_w = torch.cat([layer.weight[:, self._columns(k)[1]]
                            for k, layer in enumerate(self.hidden)])
        weight = code_w.reshape(code_w.shape[0], -1, 3, 3)
        # the layers' biases are folded in: every query adds exactly one z_k row per branch
        # (branch codes always lie inside the image, see ``gather_branches``)
        bias = torch.cat([layer.bias for layer in self.hidden])
        z = F.conv2d(feat.to(weight.dtype), weight, bias, padding=1)
        parts = z.split(self.hidden[0].out_features, dim=1)
        return FeatureCrop({f"z{k}": p.contiguous(memory_format=torch.channels_last)
                            for k, p in enumerate(parts)}, geom)

    def query(self, fc: FeatureCrop, q: Queries) -> Tensor:
        br = branches(q, fc.geom.lr_h, fc.geom.lr_w)
        dtype = self.out.weight.dtype
        pe = integrated_pe(br.rel, br.rel_cell / 2, self.n_freqs, self.pe_base).to(dtype)
        h: Tensor | None = None
        for k, layer in enumerate(self.hidden):
            h_cols, _, pe_cols = self._columns(k)
            # the gathered code part (bias included), plus the IPE and h parts in place
            pre = addmm_into(gather_branches(fc, f"z{k}", br), pe, layer.weight[:, pe_cols])
            if h is not None:
                addmm_into(pre, h, layer.weight[:, h_cols])
            h = pre.relu_()
        assert h is not None
        return blend(self.out(h).float(), br)


# the papers' per-query formulation (SPEC.reference) ----------------------------------------


def official_query(model: IPELIIF, maps: dict[str, Any], q: Queries) -> Tensor:
    """IPE-LIIF per query: ``x = [unfolded code, IPE(rel, rel_cell/2)]`` concatenated into
    every hidden layer's input."""
    coord, cell = ref.query_coords(q)
    feat = ref.unfold3(maps["feat"])
    h, w = feat.shape[-2:]
    radius = cell * cell.new_tensor([h, w]) / 2
    preds, areas = [], []
    for grid, rel in ref.ensemble(feat, coord):
        ipe = []
        for level in range(model.n_freqs):
            omega = 2 ** level * math.pi
            damp = torch.sin(omega * radius) / (omega * radius)
            ipe += [torch.sin(omega * rel) * damp, torch.cos(omega * rel) * damp]
        x = torch.cat([ref.sample_nearest(feat, grid)] + ipe, -1)
        hid = F.relu(model.hidden[0](x))
        for layer in model.hidden[1:]:
            hid = F.relu(layer(torch.cat([hid, x], -1)))
        preds.append(model.out(hid))
        areas.append(ref.area(rel))
    return ref.blend(preds, areas)


# training hooks (SPEC.training) -------------------------------------------------------------


#: ridge of the IPE fit, relative to the features' mean energy: 1e-2 shrinks the weights of
#: bands 6-9 from norms 9-39 to 0.07-1.2 and leaves the fit's relative error at 0.833 (0.833
#: without it)
IPE_RIDGE = 1e-2


def start_from_liif(liif: LIIF, ipe: IPELIIF) -> WarmStart:
    """IPE-LIIF sees no raw coordinate or cell, only their integrated positional encoding.
    LIIF's linear ``rel``/``cell`` term of layer 1 is fitted by least squares on the IPE
    features (and the bias) over the queries of the training scales, with a small ridge that
    keeps the bands those scales barely see near zero; every skip column of the later layers
    starts at zero, so everything else is exactly LIIF."""
    lin = linear_layers(liif)
    if len(lin) != len(ipe.hidden) + 1 or any(a.weight.shape[0] != b.weight.shape[0]
                                               for a, b in zip(lin, ipe.hidden)):
        raise WarmStartError("liif → ipe needs as many hidden layers of the same widths")
    code = ipe.code_dim
    for k, layer in enumerate(ipe.hidden):
        layer.weight.zero_()
        h_cols, code_cols, _ = ipe._columns(k)
        if k == 0:
            layer.weight[:, code_cols] = lin[0].weight[:, :code]
        else:
            layer.weight[:, h_cols] = lin[k].weight
        layer.bias.copy_(lin[k].bias)
    ipe.out.load_state_dict(lin[-1].state_dict())
    # LIIF's W·[rel, rel_cell] ≈ W_pe·IPE(rel, rel_cell/2) + δb, least squares over queries
    rel, cell = _training_queries()
    target = torch.cat([rel, cell], dim=-1) @ lin[0].weight[:, code:].t()
    feats = torch.cat([integrated_pe(rel, cell / 2, ipe.n_freqs, ipe.pe_base), torch.ones(len(rel), 1)], dim=-1)
    solution = _ridge(feats.double(), target.double()).float()
    ipe.hidden[0].weight[:, code:] = solution[:-1].t()
    ipe.hidden[0].bias += solution[-1]
    residual = (feats @ solution - target).pow(2).mean().sqrt() / target.std()
    return WarmStart("liif → ipe", [
        "encoder, hidden and output layers copied from LIIF; skip columns of layers 2-4 zero",
        f"layer 1's coordinate/cell term fitted on the IPE features by least squares with a "
        f"ridge of {IPE_RIDGE:g} "
        f"(relative RMS error {residual:.3f} over queries at scales 1-4)"])


def held_bands(ipe: IPELIIF, bands: int) -> LrScale:
    """Learning-rate factors (zero) of the weights that read IPE bands ≥ ``bands``.

    A band whose ``sinc(pe_base·2^l/s)`` stays near zero at every training scale gets almost no
    gradient, yet Adam's normalised steps still move its weights; at large zoom, where the band
    is at full strength, those weights draw LR-pixel-sized streaks (docs/methods/ipe.md).
    """
    return {f"hidden.{k}.weight": [[ipe._columns(k)[2].start + 4 * bands, None, 0.0]]
            for k in range(len(ipe.hidden))}


def _ridge(x: Tensor, y: Tensor) -> Tensor:
    """Least squares ``x·w ≈ y`` with a ridge of ``IPE_RIDGE``·mean(diag xᵀx) on every column but
    the last (the bias): the high IPE bands are almost zero at the training scales (sinc
    damping), and an unregularised fit gives them weights of norm 20-40 on inputs that only
    larger scales wake up. Measured at the start: Set5 ×4 25.74 → 25.76 dB, ×12 20.23 → 20.38
    (bicubic ×12 22.56, LIIF 24.54): the ridge costs nothing, but the fit stays far from LIIF
    either way."""
    gram = x.t() @ x
    ridge = IPE_RIDGE * gram.diagonal()[:-1].mean()
    gram.diagonal()[:-1] += ridge
    return torch.linalg.solve(gram, x.t() @ y)


def _training_queries(n: int = 20_000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Relative coordinates and cells of the four ensemble branches of random queries at
    scales U(1, 4) on a 48² LR (the training distribution)."""
    g = torch.Generator().manual_seed(seed)
    rels, cells = [], []
    for _ in range(20):
        s = 1 + 3 * torch.rand(1, generator=g).item()
        out = round(48 * s)
        iy = torch.randint(out, (1, n // 20), generator=g)
        ix = torch.randint(out, (1, n // 20), generator=g)
        br = branches(Queries(iy, ix, torch.tensor([out]), torch.tensor([out])), 48, 48)
        rels.append(br.rel.reshape(-1, 2))
        cells.append(br.rel_cell.expand_as(br.rel).reshape(-1, 2))
    return torch.cat(rels), torch.cat(cells)


SPEC = MethodSpec(
    "ipe", "IPE-LIIF", IPELIIF,
    ("Liu, Guo, Zhang — Enhancing Multi-Scale Implicit Learning in Image "
     "Super-Resolution with Integrated Positional Encoding, arXiv 2112.05756"),
    cpu_cost=1.3,
    recipe="zoomsr/ipe-edsr",
    tiny={**TINY_ENCODER, "hidden_dim": 16},
    tiny_train={**TRAIN_ENCODER, "hidden_dim": 32, "n_hidden": 2, "n_freqs": 6},
    reference=Reference(encoder_features, official_query),
    training=TrainingHooks(starts_from={LIIF.arch: start_from_liif}, band_setting="n_freqs", held_bands=held_bands))
