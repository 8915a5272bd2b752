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
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, addmm_into
from sr_core.methods.ensemble import blend, branches, gather_branches
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


SPEC = MethodSpec(
    "ipe", "IPE-LIIF", IPELIIF,
    ("Liu, Guo, Zhang — Enhancing Multi-Scale Implicit Learning in Image "
     "Super-Resolution with Integrated Positional Encoding, arXiv 2112.05756"),
    recipe="zoomsr/ipe-edsr",
    tiny={**TINY_ENCODER, "hidden_dim": 16},
    tiny_train={**TRAIN_ENCODER, "hidden_dim": 32, "n_hidden": 2, "n_freqs": 6})
