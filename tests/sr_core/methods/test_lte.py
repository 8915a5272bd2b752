"""LTE (METHODS_SPEC §3.7): official sizes and keys, the official query, bilinear base, crops."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sr_core.coords import Queries
from sr_core.methods.base import CropGeometry, FeatureCrop
from sr_core.methods.lte import LTE, SPEC
from sr_core.methods.sampling import bilinear_base
from tests.sr_core.methods.helpers import bfloat16_render, full_render, out_size

TINY = SPEC.tiny
SCALES = (1.7, 4.0, 11.3)
OFFICIAL_ARGS = {  # model["args"] of configs/train-div2k/train_edsr-baseline-lte.yaml
    "encoder_spec": {"name": "edsr-baseline", "args": {"no_upsampling": True}},
    "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [256, 256, 256]}},
    "hidden_dim": 256,
}


@pytest.fixture(scope="module")
def model() -> LTE:
    torch.manual_seed(0)
    return LTE(**TINY).eval()


def official_make_coord(shape: tuple[int, ...]) -> torch.Tensor:
    """The official ``make_coord(shape, flatten=False)``."""
    seqs = []
    for n in shape:
        r = 2 / (2 * n)
        seqs.append(-1 + r + (2 * r) * torch.arange(n).float())
    return torch.stack(torch.meshgrid(*seqs, indexing="ij"), dim=-1)


def nearest(t: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(t, grid, mode="nearest", align_corners=False)[:, :, 0, :].permute(0, 2, 1)


def official_query_rgb(model: LTE, inp: torch.Tensor, coord: torch.Tensor,
                       cell: torch.Tensor) -> torch.Tensor:
    """A straight port of the official ``LTE.gen_feat`` + ``LTE.query_rgb``."""
    feat = model.encoder(inp)
    coef, freq = model.coef(feat), model.freq(feat)
    rx, ry = 2 / feat.shape[-2] / 2, 2 / feat.shape[-1] / 2
    feat_coord = official_make_coord(feat.shape[-2:]).permute(2, 0, 1)[None]
    feat_coord = feat_coord.expand(feat.shape[0], 2, *feat.shape[-2:])
    preds, areas = [], []
    for vx in (-1, 1):
        for vy in (-1, 1):
            coord_ = coord.clone()
            coord_[:, :, 0] += vx * rx + 1e-6
            coord_[:, :, 1] += vy * ry + 1e-6
            coord_.clamp_(-1 + 1e-6, 1 - 1e-6)
            grid = coord_.flip(-1).unsqueeze(1)
            q_coef, q_freq, q_coord = (nearest(t, grid) for t in (coef, freq, feat_coord))
            rel_coord = coord - q_coord
            rel_coord[:, :, 0] *= feat.shape[-2]
            rel_coord[:, :, 1] *= feat.shape[-1]
            rel_cell = cell.clone()
            rel_cell[:, :, 0] *= feat.shape[-2]
            rel_cell[:, :, 1] *= feat.shape[-1]
            bs, q = coord.shape[:2]
            q_freq = torch.stack(torch.split(q_freq, 2, dim=-1), dim=-1)
            q_freq = torch.mul(q_freq, rel_coord.unsqueeze(-1))
            q_freq = torch.sum(q_freq, dim=-2)
            q_freq += model.phase(rel_cell.view((bs * q, -1))).view(bs, q, -1)
            q_freq = torch.cat((torch.cos(math.pi * q_freq), torch.sin(math.pi * q_freq)), dim=-1)
            inp_ = torch.mul(q_coef, q_freq)
            preds.append(model.imnet(inp_.contiguous().view(bs * q, -1)).view(bs, q, -1))
            areas.append(torch.abs(rel_coord[:, :, 0] * rel_coord[:, :, 1]) + 1e-9)
    tot_area = torch.stack(areas).sum(dim=0)
    areas = areas[::-1]
    ret = 0
    for pred, area in zip(preds, areas):
        ret = ret + pred * (area / tot_area).unsqueeze(-1)
    return ret + F.grid_sample(inp, coord.flip(-1).unsqueeze(1), mode="bilinear",
                               padding_mode="border", align_corners=False)[:, :, 0, :].permute(0, 2, 1)


def official_keys_and_shapes(n_resblocks: int = 16) -> dict[str, tuple[int, ...]]:
    """State-dict keys and shapes of the official EDSR-baseline-LTE."""
    conv = (64, 64, 3, 3)
    shapes: dict[str, tuple[int, ...]] = {}
    for mean in ("sub_mean", "add_mean"):
        shapes |= {f"encoder.{mean}.weight": (3, 3, 1, 1), f"encoder.{mean}.bias": (3,)}
    shapes |= {"encoder.head.0.weight": (64, 3, 3, 3), "encoder.head.0.bias": (64,)}
    for i in range(n_resblocks):
        for j in (0, 2):
            prefix = f"encoder.body.{i}.body.{j}"
            shapes |= {f"{prefix}.weight": conv, f"{prefix}.bias": (64,)}
    shapes |= {f"encoder.body.{n_resblocks}.weight": conv, f"encoder.body.{n_resblocks}.bias": (64,)}
    for name in ("coef", "freq"):
        shapes |= {f"{name}.weight": (256, 64, 3, 3), f"{name}.bias": (256,)}
    shapes["phase.weight"] = (128, 2)
    for i, (cout, cin) in enumerate([(256, 256)] * 3 + [(3, 256)]):
        shapes |= {f"imnet.layers.{2 * i}.weight": (cout, cin), f"imnet.layers.{2 * i}.bias": (cout,)}
    return shapes


def test_parameter_counts() -> None:
    m = LTE()
    total = sum(p.numel() for p in m.parameters())
    assert total - sum(p.numel() for p in m.encoder.parameters()) == 493_827
    assert total == 1_714_267


def test_official_state_dict_loads_strictly() -> None:
    torch.manual_seed(0)
    sd = {k: torch.randn(shape) for k, shape in official_keys_and_shapes().items()}
    config, ours = LTE.from_official(OFFICIAL_ARGS, sd)
    assert config == dict(encoder="edsr-baseline", encoder_args={}, hidden_dim=256,
                          hidden=[256, 256, 256], cell_clip=True)
    m = LTE(**config)
    m.load_state_dict(ours, strict=True)
    assert torch.equal(m.phase.weight, sd["phase.weight"])
    assert torch.equal(m.imnet.layers[6].bias, sd["imnet.layers.6.bias"])


def test_import_official_pth(tmp_path) -> None:
    from sr_core.checkpoints import import_official

    torch.manual_seed(0)
    sd = {k: torch.randn(shape) for k, shape in official_keys_and_shapes().items()}
    path = tmp_path / "edsr-baseline-lte.pth"
    torch.save({"model": {"name": "lte", "args": OFFICIAL_ARGS, "sd": sd}, "epoch": 1000}, path)
    model, meta = import_official(path)
    assert isinstance(model, LTE) and meta["method"] == "lte"
    assert torch.equal(model.freq.weight, sd["freq.weight"])


def test_from_official_rdn_config() -> None:
    rdn_args = {"no_upsampling": True, "RDNconfig": "B", "RDNkSize": 3, "G0": 64, "scale": 2}
    args = dict(OFFICIAL_ARGS, encoder_spec={"name": "rdn", "args": rdn_args})
    config, _ = LTE.from_official(args, {})
    assert config["encoder"] == "rdn"
    assert config["encoder_args"] == {"G0": 64, "kernel_size": 3, "config": "B"}
    with pytest.raises(ValueError):
        LTE.from_official(dict(OFFICIAL_ARGS, encoder_spec={"name": "swinir", "args": {}}), {})


def test_config_round_trip(model: LTE) -> None:
    rebuilt = type(model)(**model.config())
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict(), strict=True)


@pytest.mark.parametrize("scale", SCALES)
def test_bilinear_base_matches_grid_sample(lr: torch.Tensor, scale: float) -> None:
    out_h, out_w = out_size(lr, scale)
    q = Queries.grid(out_h, out_w, (0, out_h), (0, out_w))
    ref = F.grid_sample(lr, q.coord().flip(-1)[:, None], mode="bilinear", padding_mode="border",
                        align_corners=False)[:, :, 0].permute(0, 2, 1)
    base = bilinear_base(FeatureCrop({"lr": lr}, CropGeometry.full(*lr.shape[-2:])), q)
    assert (base - ref).abs().max() <= 1e-6


@pytest.mark.parametrize("scale, cell_clip", [(1.7, True), (2.5, True), (8.0, True), (11.3, False)])
def test_matches_official_query(lr: torch.Tensor, scale: float, cell_clip: bool) -> None:
    torch.manual_seed(0)
    m = LTE(**TINY, cell_clip=cell_clip).eval()
    lr = lr[..., :12, :15]  # a smaller image keeps the per-query reference fast
    out_h, out_w = out_size(lr, scale)
    q = Queries.grid(out_h, out_w, (0, out_h), (0, out_w))
    cell = q.cell().expand(1, out_h * out_w, 2).clone()
    if cell_clip:  # the official test protocol: cell * max(scale / scale_max, 1), scale_max = 4
        cell = cell * max(out_h / lr.shape[-2] / 4, 1)
    with torch.no_grad():
        ref = official_query_rgb(m, lr, q.coord(), cell)
        assert (m(lr, q) - ref).abs().max() <= 1e-5


def test_cell_clip_only_above_x4(lr: torch.Tensor) -> None:
    torch.manual_seed(0)
    clip, free = LTE(**TINY).eval(), LTE(**TINY, cell_clip=False).eval()
    free.load_state_dict(clip.state_dict())
    for scale, same in ((3.0, True), (4.0, True), (8.0, False)):
        size = out_size(lr, scale)
        assert torch.equal(full_render(clip, lr, *size), full_render(free, lr, *size)) == same


def test_bfloat16_smoke(lr: torch.Tensor) -> None:
    torch.manual_seed(0)
    ref, out = bfloat16_render(LTE(**TINY).eval(), lr)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max() <= 5e-2
