"""CLIT: parameter counts, cascade decomposition, official key layout, equality with a port
of the official formulation, and tile/chunk exactness of the cascaded stage maps."""

import pytest
import torch

from sr_core import checkpoints
from sr_core.coords import Queries, home_index
from sr_core.methods.base import CropGeometry
from sr_core.methods.clit import (
    CLIT,
    SPEC,
    PositionalBias,
    official_cascade,
    official_pb_encoding,
    official_stage_maps,
    scale_decomposition,
    stage_sizes,
)

LR_H, LR_W = 23, 29
TINY = {k: v for k, v in SPEC.tiny.items() if k != "n_stages"}


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny_clit(n_stages: int = 3, seed: int = 0) -> CLIT:
    torch.manual_seed(seed)
    model = CLIT(n_stages=n_stages, **TINY)
    for p in model.parameters():  # unit-scale activations: outputs of order 1
        p.data.normal_(0, p[0].numel() ** -0.5 if p.dim() > 1 else 0.1)
    return model.eval()


def random_lr(seed: int = 1, h: int = LR_H, w: int = LR_W) -> torch.Tensor:
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def out_size(scale: float, h: int = LR_H, w: int = LR_W) -> tuple[int, int]:
    return round(h * scale), round(w * scale)


# ---------------------------------------------------------------------------------------------
# sizes and the cascade


def test_parameter_counts():
    full = CLIT()
    stage = sum(n_params(m[0]) for m in (full.conv_qs, full.conv_ks, full.conv_vs, full.imnets))
    assert stage == 5_180_419
    assert stage + n_params(full.pb_encoder) == 5_180_939  # METHODS_SPEC's "per stage"
    assert n_params(full.encoder) == 1_220_440
    assert n_params(CLIT(n_stages=1)) == 6_549_091  # 6.55 M
    assert n_params(CLIT(n_stages=2)) == 11_729_510  # 11.73 M
    # 16.91 M. METHODS_SPEC §9.1 says 16,910,969: 3 × 5,180,939 counts the positional-bias
    # projection (520) three times, but the official code has one pb_encoder for all stages.
    assert n_params(full) == 16_909_929


@pytest.mark.parametrize("scale, factors", [
    (1.0, [1.0]), (2.5, [2.5]), (4, [4]), (6, [4, 1.5]), (12, [4, 3]), (16, [4, 4]),
    (18, [4, 4, 1.125]), (30, [4, 4, 1.875]), (64, [4, 4, 4]), (100, [4, 4, 4, 1.5625]),
])
def test_scale_decomposition_matches_the_official_one(scale, factors):
    assert scale_decomposition(scale) == pytest.approx(factors)


def test_scale_decomposition_is_capped_by_merging_into_the_last_factor():
    assert scale_decomposition(100, 3) == pytest.approx([4, 4, 6.25])
    assert scale_decomposition(30, 2) == pytest.approx([4, 7.5])
    assert scale_decomposition(30, 1) == [30]
    assert scale_decomposition(3, 2) == [3]


def test_stage_grids():
    assert stage_sizes(23, 29, [4, 4, 1.875]) == [(23, 29), (92, 116), (368, 464)]
    assert stage_sizes(48, 48, [1.3, 2.9]) == [(48, 48), (62, 62)]


def test_decomposition_uses_the_larger_axis_and_is_the_same_for_every_tile():
    model = tiny_clit()
    geom = CropGeometry.full(LR_H, LR_W)
    whole = Queries.grid(92, 117, (0, 92), (0, 117))  # 4.0 × 4.03
    assert model.stage_factors(whole, geom) == pytest.approx([4, 117 / 29 / 4])
    tile = Queries.grid(92, 117, (10, 20), (30, 40))
    assert model.stage_factors(tile, CropGeometry(3, 5, LR_H, LR_W)) == model.stage_factors(whole, geom)
    with pytest.raises(ValueError):
        model.stage_factors(whole, geom, [2, 2, 2, 2])


def test_separable_positional_bias_equals_the_official_one():
    torch.manual_seed(0)
    pb = PositionalBias(heads=8)
    rel_y, rel_x = torch.rand(5, 7) * 14 - 7, torch.rand(5, 7) * 14 - 7
    rel = torch.stack(torch.broadcast_tensors(rel_y[:, :, None], rel_x[:, None, :]), dim=-1)
    with torch.no_grad():
        assert (pb(rel_y, rel_x) - pb.proj(official_pb_encoding(rel))).abs().max() < 1e-5
    freqs = 2.0 ** torch.linspace(0, 10, 16) - 1
    assert freqs[0] == 0 and freqs[-1] == 1023


# ---------------------------------------------------------------------------------------------
# official key layout


def official_args(n_stages: int | None, base_dim: int = 16, head: int = 2) -> dict:
    args = {"encoder_spec": {"name": "edsr-baseline",
                             "args": {"no_upsampling": True, "n_resblocks": 1, "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [16, 16], "act": "gelu"}},
            "pb_spec": {"name": "posenc", "args": {"posenc_type": "sinusoid", "posenc_scale": 10,
                                                   "hidden_dims": 64, "enc_dims": 64, "gamma": 1}},
            "base_dim": base_dim, "head": head, "r": 3, "is_cell": True, "local_attn": True}
    if n_stages is not None:
        args.update(imnet_num=n_stages, conv_num=n_stages)
    return args


def official_state_dict(n_stages: int, base_dim: int = 16, heads: int = 2) -> dict[str, torch.Tensor]:
    """Official key names with shapes from the spec (tiny EDSR: 1 block, 8 features)."""
    sd: dict[str, torch.Tensor] = {}

    def conv(key: str, cout: int, cin: int, k: int = 3) -> None:
        sd[f"{key}.weight"], sd[f"{key}.bias"] = torch.randn(cout, cin, k, k), torch.randn(cout)

    for name in ("sub_mean", "add_mean"):
        conv(f"encoder.{name}", 3, 3, 1)
    conv("encoder.head.0", 8, 3)
    conv("encoder.body.0.body.0", 8, 8)
    conv("encoder.body.0.body.2", 8, 8)
    conv("encoder.body.1", 8, 8)
    conv("conv_ch", base_dim, 8)
    for i in range(n_stages):
        for name in ("conv_qs", "conv_ks", "conv_vs"):
            conv(f"{name}.{i}", base_dim, base_dim)
        widths = [base_dim * 49 + 2, 16, 16, 3]
        for j in range(3):
            sd[f"imnets.{i}.layers.{2 * j}.weight"] = torch.randn(widths[j + 1], widths[j])
            sd[f"imnets.{i}.layers.{2 * j}.bias"] = torch.randn(widths[j + 1])
    sd["pb_encoder.proj.weight"], sd["pb_encoder.proj.bias"] = torch.randn(heads, 64), torch.randn(heads)
    return sd


@pytest.mark.parametrize("n_stages", [1, 2, 3])
@pytest.mark.parametrize("with_imnet_num", [True, False])
def test_official_key_layout_loads_strictly(n_stages, with_imnet_num):
    sd = official_state_dict(n_stages)
    config, state = CLIT.from_official(official_args(n_stages if with_imnet_num else None), sd)
    assert config["n_stages"] == n_stages
    result = CLIT(**config).load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_official_stage_count_must_agree_with_the_weights():
    with pytest.raises(ValueError, match="imnet_num"):
        CLIT.from_official(official_args(3), official_state_dict(2))
    sd = official_state_dict(2)
    for key in [k for k in sd if k.startswith("conv_qs.1.")]:
        del sd[key]
    with pytest.raises(ValueError, match="conv sets"):
        CLIT.from_official(official_args(2), sd)


def test_import_official_checkpoint_file(tmp_path):
    path = tmp_path / "clit.pth"
    sd = official_state_dict(2)
    torch.save({"model": {"name": "clit", "args": official_args(2), "sd": sd}, "epoch": 7}, path)
    model, meta = checkpoints.import_official(path)
    assert isinstance(model, CLIT) and model.n_stages == 2 and meta["trained"]
    assert torch.equal(model.imnets[1].layers[0].weight, sd["imnets.1.layers.0.weight"])


# ---------------------------------------------------------------------------------------------
# the official formulation, ported (grid_sample based, full stage maps, concatenation)


def official_chop_forward(model: CLIT, lr, scale_it, coord, cell):
    """The official ``chop_forward`` (one chunk), as ``sr_core.methods.clit`` writes it out."""
    init = model.conv_ch(model.encoder(lr))
    return official_cascade(model, official_stage_maps(model, init, lr.shape[-2:], scale_it), lr, coord, cell)


@pytest.mark.parametrize("scale", [1.7, 4.0])
def test_one_stage_equals_the_official_formulation_on_the_whole_image(scale):
    model, lr = tiny_clit(), random_lr()
    out_h, out_w = out_size(scale)
    q = Queries.grid(out_h, out_w, (0, out_h), (0, out_w))
    with torch.no_grad():
        ours = model(lr, q)
        ref = official_chop_forward(model, lr, [scale], q.coord(), q.cell())
    assert (ours - ref).abs().max() < 1e-5


@pytest.mark.parametrize("scale, scale_it", [
    (11.3, [4, 11.3 / 4]),
    (30.0, [4, 4, 1.875]),
    (3.0, [1.5, 2.0]),  # explicit training scales: intermediate grid round(23·1.5) = 34 (even)
])
def test_cascade_equals_the_official_formulation(scale, scale_it):
    model, lr = tiny_clit(), random_lr()
    out_h, out_w = out_size(scale)
    gen = torch.Generator().manual_seed(2)
    iy = torch.cat([torch.tensor([0, 0, out_h - 1, out_h - 1]), torch.randint(0, out_h, (1000,), generator=gen)])
    ix = torch.cat([torch.tensor([0, out_w - 1, 0, out_w - 1]), torch.randint(0, out_w, (1000,), generator=gen)])
    q = Queries(iy[None], ix[None], torch.tensor([out_h]), torch.tensor([out_w]))
    with torch.no_grad():
        ours = model(lr, q, stage_scales=scale_it)
        ref = official_chop_forward(model, lr, scale_it, q.coord(), q.cell())
        if scale > 4:
            assert torch.equal(model(lr, q), ours)  # the default decomposition is the same
    assert (ours - ref).abs().max() < 1e-5


def test_truncated_cascade_runs_only_the_first_stages():
    model, lr = tiny_clit(), random_lr()
    one = tiny_clit(n_stages=1)
    one.load_state_dict({k: v for k, v in model.state_dict().items()
                         if k.split(".")[0] not in ("conv_qs", "conv_ks", "conv_vs", "imnets")
                         or k.split(".")[1] == "0"})
    q = Queries.grid(69, 87, (0, 20), (0, 87))
    with torch.no_grad():
        assert torch.equal(model(lr, q, stage_scales=[3.0]), one(lr, q))
        assert torch.equal(model(lr, q), one(lr, q))  # ×3 is one stage by default too


# ---------------------------------------------------------------------------------------------
# tiles, chunks, precision


def crop_render(model: CLIT, lr, scale: float, rows: tuple[int, int], cols: tuple[int, int]):
    """Render an output rectangle from LR crops, like the renderer: encoder halo discarded,
    prepared features kept on the footprint ± (query_margin + prep_radius)."""
    lr_h, lr_w = lr.shape[-2:]
    out_h, out_w = out_size(scale, lr_h, lr_w)
    keep = model.query_margin(scale) + model.prep_radius
    halo = keep + model.encoder_radius

    def span(a: int, b: int, out_n: int, lr_n: int, pad: int) -> tuple[int, int]:
        lo = int(home_index(torch.tensor(a), out_n, lr_n))
        hi = int(home_index(torch.tensor(b - 1), out_n, lr_n))
        return max(lo - pad, 0), min(hi + pad, lr_n - 1) + 1

    (ey0, ey1), (ex0, ex1) = span(*rows, out_h, lr_h, halo), span(*cols, out_w, lr_w, halo)
    (ky0, ky1), (kx0, kx1) = span(*rows, out_h, lr_h, keep), span(*cols, out_w, lr_w, keep)
    feat = model.encode(lr[..., ey0:ey1, ex0:ex1])[..., ky0 - ey0:ky1 - ey0, kx0 - ex0:kx1 - ex0]
    fc = model.prepare(feat, lr[..., ky0:ky1, kx0:kx1], CropGeometry(ky0, kx0, lr_h, lr_w))
    return model.query(fc, Queries.grid(out_h, out_w, rows, cols))


def rects(out_h: int, out_w: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Rectangles at each corner, on the left and bottom edges, and one in the interior."""
    s, mid_y, mid_x = 6, out_h // 2, out_w // 3
    return [((0, s), (0, s)), ((0, s), (out_w - s, out_w)), ((out_h - s, out_h), (0, s)),
            ((out_h - s, out_h), (out_w - s, out_w)), ((mid_y, mid_y + s), (0, s)),
            ((out_h - s, out_h), (mid_x, mid_x + s)), ((mid_y - 9, mid_y + 11), (mid_x, mid_x + 25))]


@pytest.mark.parametrize("scale, n_stages", [(1.7, 3), (4.0, 3), (11.3, 3), (11.3, 2), (30.0, 3)])
def test_tiles_equal_the_whole_image(scale, n_stages):
    model, lr = tiny_clit(n_stages), random_lr()
    out_h, out_w = out_size(scale)
    assert model.query_margin(scale) == 4
    boxes = rects(out_h, out_w)
    # whole-image path: every rectangle and the four output corners in one batch, so that
    # later stages build their maps on the entire stage grid
    qs = [Queries.grid(out_h, out_w, rows, cols) for rows, cols in boxes]
    iy = torch.cat([q.iy for q in qs] + [torch.tensor([[0, 0, out_h - 1, out_h - 1]])], 1)
    ix = torch.cat([q.ix for q in qs] + [torch.tensor([[0, out_w - 1, 0, out_w - 1]])], 1)
    with torch.no_grad():
        whole = model(lr, Queries(iy, ix, qs[0].out_h, qs[0].out_w))
        whole = whole.split([q.iy.shape[1] for q in qs] + [4], dim=1)
        for (rows, cols), ref in zip(boxes, whole):
            tile = crop_render(model, lr, scale, rows, cols)
            assert (tile - ref).abs().max() < 1e-5, (scale, rows, cols)


def test_chunks_equal_one_batch():
    model, lr = tiny_clit(), random_lr()
    out_h, out_w = out_size(6.0)
    q = Queries.grid(out_h, out_w, (0, 60), (0, out_w))
    with torch.no_grad():
        fc = model.prepare(model.encode(lr), lr, CropGeometry.full(LR_H, LR_W))
        whole = model.query(fc, q)
        chunked = torch.cat([model.query(fc, part) for part in q.split(1001)], dim=1)
    assert (whole - chunked).abs().max() < 1e-6


def test_bfloat16_stays_close_to_float32():
    model, lr = tiny_clit(), random_lr()
    out_h, out_w = out_size(6.0)
    q = Queries.grid(out_h, out_w, (60, 80), (0, 100))
    with torch.no_grad():
        ref = model(lr, q)
        half = model.to(torch.bfloat16)(lr.to(torch.bfloat16), q)
    assert half.dtype == torch.float32
    assert (half - ref).abs().max() < 5e-2


# ---------------------------------------------------------------------------------------------
# the seam diagnostics (benchmarks/clit_seams.py) re-implement a LIT query plainly


@pytest.mark.parametrize("scale", [4.0, 12.0, 30.0])
def test_seam_diagnostic_query_equals_ours_with_the_nearest_window(scale):
    from benchmarks.clit_seams import continuous_centre, ensemble_centres, nearest_centre, residuals
    model, lr = tiny_clit(), random_lr()
    out_h, out_w = out_size(scale)
    q = Queries.grid(out_h, out_w, (out_h // 2 - 7, out_h // 2 + 7), (0, 40))
    with torch.no_grad():
        fc = model.prepare(model.encode(lr), lr, CropGeometry.full(LR_H, LR_W))
        ours = residuals(model, fc, q, None)
        plain = residuals(model, fc, q, nearest_centre)
        moved = residuals(model, fc, q, continuous_centre)
        blended = residuals(model, fc, q, ensemble_centres)
    assert len(ours) == len(scale_decomposition(scale, 3))
    for a, b, c, d in zip(ours, plain, moved, blended):
        assert (a - b).abs().max() < 1e-5
        assert (a - c).abs().max() > 1e-3 and (a - d).abs().max() > 1e-3  # the variants do differ
