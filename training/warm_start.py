"""Starting a method from another method's trained weights (``--init``, recipe ``[init]``).

The encoder is always copied (every seed method shares LIIF's EDSR-baseline). Decoders are
mapped where an architecture extends LIIF's MLP, so that the new model starts at, or close
to, LIIF's function:

* ``liif → ultrasr``: LIIF's columns go to the same inputs, the spatial-encoding columns start
  at zero and the fifth hidden layer is an identity. UltraSR's residual additions (h1 into L3,
  h3 into L5) cannot be switched off, so layers 1 and 3 are scaled down by ``ε1 = ε3²`` and
  ``ε3`` (ReLU is positively homogeneous; layers 2 and 4 scale back up): the residuals then
  perturb LIIF's function by O(ε3). Adam's steps do not scale with a weight's size, so every
  scaled block of weights gets its learning rate scaled the same way (``lr_scale``): the
  optimisation then behaves as in LIIF's own parametrisation.
* ``liif → ipe``: IPE-LIIF sees no raw coordinate or cell, only their integrated positional
  encoding. LIIF's linear ``rel``/``cell`` term of layer 1 is fitted by least squares on the
  IPE features (and the bias) over the queries of the training scales, with a small ridge
  that keeps the bands those scales barely see near zero; every skip column of
  the later layers starts at zero, so everything else is exactly LIIF.
* ``liif → lte``: LTE's decoder (coefficient/frequency convolutions, phase, MLP on the
  sinusoids) has no counterpart in LIIF; it keeps its random start, except the MLP's output
  layer, which starts at zero: the model then starts exactly at LTE's bilinear base image.
* ``liif → diif``: DIIF's coarse stage reads 4×4 corner codes with the slice's end points and
  its fine stage a blended hidden vector, so none of LIIF's layers has a counterpart; only the
  encoder is copied and the decoder keeps its random start.
* ``liif → clit``: CLIT's MLPs read the 49 attention-scaled 256-channel value vectors of a 7×7
  window and the cell (12,546 inputs, GELU) where LIIF's reads the 3×3-unfolded 64-channel code,
  the relative coordinate and the cell (580 inputs, ReLU, local ensemble); ``conv_ch``, the
  Q/K/V convolutions and the positional bias have no counterpart either. Only the encoder is
  copied. Every stage's output layer starts at zero: the model then starts exactly at CLIT's
  bilinear base image (as ``liif → lte``). PyTorch's default start of the MLPs does not learn
  on a short schedule: the attention-scaled values are tiny (norm ~0.14 per query at the start,
  against ~1 for the two cell inputs), so the first layer's pre-activations are mostly the cell
  term and the bias, the hidden layers' mostly their biases, and 90 LIT steps left the loss
  unchanged. So the MLPs are re-drawn: the value columns of the first layer
  N(0, (``CLIT_VALUE_GAIN``/√12,544)²), the hidden layers He-normal, their biases zero (the cell
  columns keep their start); convolutions and positional bias keep theirs. The cumulative
  phases' new stages (CLIT-2's second, CLIT-3's third) start the same way
  (``start_new_stages``): at scales one stage covers, the grown model is exactly the previous.
* the same architecture and configuration: every tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import torch
from torch import Tensor

from sr_core.coords import Queries
from sr_core.methods.base import SRMethod
from sr_core.methods.clit import CLIT
from sr_core.methods.diif import DIIF
from sr_core.methods.ensemble import branches
from sr_core.methods.ipe import IPELIIF, integrated_pe
from sr_core.methods.liif import LIIF
from sr_core.methods.lte import LTE
from sr_core.methods.ultrasr import UltraSR

#: UltraSR's down-scaling of hidden layer 3 (layer 1 gets its square); Set5 ×4 at the start:
#: 32.21 dB with 0.02, 32.10 with 0.05, 31.84 with 0.1 (LIIF 32.24)
ULTRASR_EPS = 0.02
#: ridge of the IPE fit, relative to the features' mean energy: 1e-2 shrinks the weights of
#: bands 6-9 from norms 9-39 to 0.07-1.2 and leaves the fit's relative error at 0.833 (0.833
#: without it)
IPE_RIDGE = 1e-2
#: scale of CLIT's first-layer value columns at the start (std ``gain/√columns``): L1 on 8 fixed
#: training samples after 30/60/90 LIT steps (batch 4 × 1024 px, Adam 1e-4, bf16) from 0.0814
#: (the bilinear start; the authors' LIIF: 0.0632): PyTorch's default start 0.0814 throughout,
#: gain 30 0.0809/0.0770/0.0763, gain 250 0.0795/0.0773/0.0765
CLIT_VALUE_GAIN = 30.0
#: ``{parameter name: [[first, end, factor], …]}``: learning-rate factors of index ranges
#: along a tensor's last dimension (``end`` None: to the end); JSON-friendly
LrScale = dict[str, list[list]]


class WarmStartError(ValueError):
    """The source cannot start the target (different encoder, or no mapping)."""


@dataclass
class WarmStart:
    """What was copied, whether the decoder starts from the source's (copied or mapped) or
    only the encoder does, and the learning-rate factor of every re-scaled parameter."""

    mapping: str
    notes: list[str] = field(default_factory=list)
    lr_scale: LrScale = field(default_factory=dict)
    decoder_from_source: bool = True

    def as_dict(self) -> dict:
        return {"mapping": self.mapping, "notes": self.notes, "lr_scale": self.lr_scale,
                "decoder_from_source": self.decoder_from_source}


@torch.no_grad()
def warm_start(source: SRMethod, target: SRMethod) -> WarmStart:
    """Load into ``target`` what ``source`` offers (in place); says what it did."""
    if source.arch == target.arch and source.config() == target.config():
        target.load_state_dict(source.state_dict())
        return WarmStart("identical", ["every tensor copied"])
    mapper = MAPPINGS.get((source.arch, target.arch))
    if mapper is None:
        raise WarmStartError(f"no way to start {target.arch} from {source.arch}; "
                             f"known: {', '.join(f'{a} → {b}' for a, b in MAPPINGS)}")
    _copy_encoder(source, target)
    return mapper(source, target)


def _copy_encoder(source: SRMethod, target: SRMethod) -> None:
    src, dst = source.encoder.state_dict(), target.encoder.state_dict()
    if src.keys() != dst.keys() or any(src[k].shape != dst[k].shape for k in src):
        raise WarmStartError(f"the encoders differ ({source.config().get('encoder')} "
                             f"vs {target.config().get('encoder')}); they must be the same to start from it")
    target.encoder.load_state_dict(src)


def _liif_layers(liif: LIIF) -> list[torch.nn.Linear]:
    layers = [m for m in liif.imnet.layers if isinstance(m, torch.nn.Linear)]
    if not (liif.feat_unfold and liif.cell_decode):
        raise WarmStartError("only a LIIF with feat_unfold and cell_decode can start other methods")
    return layers


def _liif_to_ultrasr(liif: LIIF, ultra: UltraSR) -> WarmStart:
    lin = _liif_layers(liif)
    hidden = ultra.hidden
    if len(lin) != 5 or len(hidden) != 5 or {m.out_features for m in lin[:-1]} != {hidden[0].out_features}:
        raise WarmStartError("liif → ultrasr needs LIIF's 4 × 256 MLP and UltraSR's 5 × 256 default")
    eps3 = ULTRASR_EPS
    eps1 = eps3 ** 2
    code, width = ultra.code_dim, hidden[0].out_features
    n_e = hidden[1].in_features - width  # [rel, φ(rel)]
    for layer in hidden:
        layer.weight.zero_()
        layer.bias.zero_()
    # L1: [code, rel, φ, cell] ← LIIF's [code, rel, cell], φ columns zero; scaled by ε1
    w1 = lin[0].weight
    hidden[0].weight[:, :code + 2] = eps1 * w1[:, :code + 2]
    hidden[0].weight[:, code + n_e:] = eps1 * w1[:, code + 2:]
    hidden[0].bias.copy_(eps1 * lin[0].bias)
    # L2 undoes ε1; L3 is scaled by ε3 and L4 undoes it (encoding columns stay zero)
    for k, scale in ((1, 1 / eps1), (2, eps3), (3, 1 / eps3)):
        hidden[k].weight[:, :width] = scale * lin[k].weight
        hidden[k].bias.copy_((eps3 if k == 2 else 1.0) * lin[k].bias)
    # L5: identity (its input is LIIF's last hidden activation plus the residual ε3·h3)
    hidden[4].weight[:, :width] = torch.eye(width)
    ultra.out.load_state_dict(lin[4].state_dict())
    ultra.freqs.copy_(2.0 ** torch.arange(1, ultra.freqs.numel() + 1, dtype=torch.float32))
    # the re-scaled blocks: all of layers 1 and 3; the h columns of layers 2 and 4
    lr_scale: LrScale = {"hidden.0.weight": [[0, None, eps1]], "hidden.0.bias": [[0, None, eps1]],
                         "hidden.1.weight": [[0, width, 1 / eps1]], "hidden.2.weight": [[0, None, eps3]],
                         "hidden.2.bias": [[0, None, eps3]], "hidden.3.weight": [[0, width, 1 / eps3]]}
    return WarmStart("liif → ultrasr", [
        "encoder and output layer copied; LIIF's hidden layers 1-4 into UltraSR's 1-4, "
        f"layer 1 scaled by {eps1:g} and layer 3 by {eps3:g} (undone by layers 2 and 4) so that "
        "the residual additions perturb LIIF's function by O(ε)",
        "spatial-encoding columns zero; hidden layer 5 an identity; frequencies 2^n"], lr_scale)


def _liif_to_ipe(liif: LIIF, ipe: IPELIIF) -> WarmStart:
    lin = _liif_layers(liif)
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


def ipe_band_scale(ipe: IPELIIF, bands: int) -> LrScale:
    """Learning-rate factors (zero) of the weights that read IPE bands ≥ ``bands``.

    A band whose ``sinc(pe_base·2^l/s)`` stays near zero at every training scale gets almost no
    gradient, yet Adam's normalised steps still move its weights; at large zoom, where the band
    is at full strength, those weights draw LR-pixel-sized streaks (docs/methods/ipe.md).
    """
    return {f"hidden.{k}.weight": [[ipe._columns(k)[2].start + 4 * bands, None, 0.0]]
            for k in range(len(ipe.hidden))}


@torch.no_grad()
def zero_ranges(method: SRMethod, scale: LrScale) -> None:
    """Set the index ranges that ``scale`` names to zero (in place)."""
    params = dict(method.named_parameters())
    for name, ranges in scale.items():
        for first, end, _ in ranges:
            params[name][..., first:end] = 0


def _liif_to_lte(liif: LIIF, lte: LTE) -> WarmStart:
    out = lte.imnet.layers[-1]
    out.weight.zero_()
    out.bias.zero_()
    return WarmStart("liif → lte", [
        "encoder copied from LIIF; LTE's decoder has no counterpart in LIIF and starts at random, "
        "its output layer at zero (the model starts at its bilinear base image)"], decoder_from_source=False)


def _liif_to_diif(liif: LIIF, diif: DIIF) -> WarmStart:
    return WarmStart("liif → diif", [
        "encoder copied from LIIF; DIIF's coarse-to-fine MLP has no counterpart in LIIF "
        "and keeps its random start"], decoder_from_source=False)


def _redraw_clit_mlp(imnet: torch.nn.Module) -> None:
    """A CLIT stage's MLP as ``liif → clit`` starts it: value columns N(0, (gain/√n)²), hidden
    layers He-normal, biases zero, the output layer zero (the stage adds nothing yet)."""
    layers = [m for m in imnet.layers if isinstance(m, torch.nn.Linear)]
    values = layers[0].in_features - 2  # the cell's two columns come last
    layers[0].weight[:, :values].normal_(0, CLIT_VALUE_GAIN / math.sqrt(values))
    for layer in layers[1:-1]:
        torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    for layer in layers[:-1]:
        layer.bias.zero_()
    layers[-1].weight.zero_()
    layers[-1].bias.zero_()


@torch.no_grad()
def start_new_stages(method: SRMethod, loaded: Collection[str]) -> list[int]:
    """In a cumulative phase (CLIT-2 from LIT, CLIT-3 from CLIT-2), start each CLIT stage whose
    MLP the previous phase did not have as ``liif → clit`` starts every stage; PyTorch's
    default start adds a random residual and does not learn on a short schedule. Returns the
    stages so started (none for other methods)."""
    if not isinstance(method, CLIT):
        return []
    new = [k for k in range(method.n_stages) if not any(key.startswith(f"imnets.{k}.") for key in loaded)]
    for k in new:
        _redraw_clit_mlp(method.imnets[k])
    return new


def _liif_to_clit(liif: LIIF, clit: CLIT) -> WarmStart:
    lin = _liif_layers(liif)
    first = clit.imnets[0].first
    values = first.in_features - 2
    for imnet in clit.imnets:
        _redraw_clit_mlp(imnet)
    return WarmStart("liif → clit", [
        "encoder copied from LIIF; CLIT's decoder has no counterpart in LIIF (its MLPs read "
        f"{first.in_features} inputs, the attention-scaled values of a {clit.window}×{clit.window} "
        f"window and the cell, with GELU; LIIF's {lin[0].in_features}, the unfolded code, the "
        "relative coordinate and the cell, with ReLU) and starts at random, every stage's "
        "output layer at zero (the model starts at its bilinear base image)",
        f"MLPs re-drawn so that they learn on a short schedule: first-layer value columns "
        f"N(0, ({CLIT_VALUE_GAIN:g}/√{values})²), hidden layers He-normal, biases zero; "
        "convolutions, positional bias and cell columns keep PyTorch's default start"], decoder_from_source=False)


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


MAPPINGS: dict[tuple[str, str], Callable[..., WarmStart]] = {
    ("liif", "ultrasr"): _liif_to_ultrasr,
    ("liif", "ipe"): _liif_to_ipe,
    ("liif", "lte"): _liif_to_lte,
    ("liif", "diif"): _liif_to_diif,
    ("liif", "clit"): _liif_to_clit,
}
