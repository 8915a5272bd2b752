"""DIIF (METHODS_SPEC §3.4): sizes, groups and slices, a naive reference, crop exactness."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from sr_core.architectures import SPECS, build
from sr_core.coords import Queries, home_index, make_coord
from sr_core.methods.base import CropGeometry
from sr_core.methods.diif import DIIF, SPEC, VERTICES, group_start, slice_layout, slice_length

TINY = SPEC.tiny


def tiny_model(seed: int = 0) -> DIIF:
    torch.manual_seed(seed)
    return DIIF(**TINY).eval()


def random_lr(h: int, w: int, seed: int = 1, batch: int = 1) -> Tensor:
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def whole_grid(out_h: int, out_w: int) -> Queries:
    return Queries.grid(out_h, out_w, (0, out_h), (0, out_w))


def home(i: int, out_n: int, lr_n: int) -> int:
    return int(home_index(torch.tensor(i), out_n, lr_n))


# ---------------------------------------------------------------------------------------------
# sizes and configuration


def test_parameter_counts() -> None:
    model = DIIF()
    assert n_params(model.encoder) == 1_220_440
    assert n_params(model.coarse) + n_params(model.fine) == 462_595
    assert n_params(model) == 1_683_035
    no_cell = DIIF(cell_decode=False)
    assert n_params(no_cell.coarse) + n_params(no_cell.fine) == 462_083


def test_config_round_trip() -> None:
    model = tiny_model()
    rebuilt = type(model)(**model.config())
    assert model.arch == "diif"
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    assert rebuilt.config() == model.config()


# ---------------------------------------------------------------------------------------------
# groups and slices


@pytest.mark.parametrize("out_n,lr_n", [(10, 4), (4, 10), (23, 23), (39, 23), (261, 23), (150, 5), (7, 3)])
def test_group_start_matches_home_index(out_n: int, lr_n: int) -> None:
    home = home_index(torch.arange(out_n), out_n, lr_n)
    starts = group_start(torch.arange(lr_n + 1), out_n, lr_n)
    assert starts.tolist() == [int((home < g).sum()) for g in range(lr_n + 1)]
    sizes = set((starts[1:] - starts[:-1]).tolist())
    assert sizes <= {math.floor(out_n / lr_n), math.ceil(out_n / lr_n)}


def test_slice_length() -> None:
    assert [slice_length(round(7 * s), 7) for s in (1, 2, 3, 4, 30)] == [1, 2, 3, 4, 30]
    assert slice_length(25, 10) == 3  # s = 2.5 rounds half up [UNKNOWN, A5]
    assert slice_length(35, 10) == 4
    assert slice_length(37, 10) == 4
    assert slice_length(3, 10) == 1  # s < 1: one pixel per slice
    per_sample = slice_length(torch.tensor([[20], [113]]), 10)
    assert per_sample.flatten().tolist() == [2, 11]


def enumerate_slices(out_h: int, out_w: int, lr_h: int, lr_w: int, u: int) -> list[list[tuple[int, int]]]:
    """Slices by brute force: groups from ``home_index``, raster order, runs of ``u``."""
    hy = home_index(torch.arange(out_h), out_h, lr_h).tolist()
    hx = home_index(torch.arange(out_w), out_w, lr_w).tolist()
    slices = []
    for gy in range(lr_h):
        for gx in range(lr_w):
            group = [(y, x) for y in range(out_h) if hy[y] == gy for x in range(out_w) if hx[x] == gx]
            slices += [group[k:k + u] for k in range(0, len(group), u)]
    return slices


@pytest.mark.parametrize("scale", [2, 3, 4, 2.5, 3.7, 11.3, 30])
def test_decodes_every_output_pixel_exactly_once(scale: float) -> None:
    """DIIF decodes every output pixel exactly once for integer and non-integer scales."""
    lr_h, lr_w = 5, 7
    out_h, out_w = round(lr_h * scale), round(lr_w * scale)
    q = whole_grid(out_h, out_w)
    lay = slice_layout(q.iy, q.ix, q.out_h, q.out_w, lr_h, lr_w)
    u = int(lay.u)
    assert u == max(1, math.floor(out_w / lr_w + 0.5))
    expected = enumerate_slices(out_h, out_w, lr_h, lr_w, u)
    assert sum(len(s) for s in expected) == out_h * out_w

    # the layout's slices are exactly the enumerated ones, with their first/last pixels
    members: dict[int, list[tuple[int, int]]] = {}
    rows = zip(lay.key[0].tolist(), q.iy[0].tolist(), q.ix[0].tolist(), lay.first_y[0].tolist(),
               lay.first_x[0].tolist(), lay.last_y[0].tolist(), lay.last_x[0].tolist())
    slice_of = {p: s for s in expected for p in s}
    for key, y, x, fy, fx, ly, lx in rows:
        members.setdefault(key, []).append((y, x))
        assert ((fy, fx), (ly, lx)) == (slice_of[(y, x)][0], slice_of[(y, x)][-1])
    assert sorted(members.values()) == sorted(expected)

    # consecutive raster runs of length u inside each group (the last one possibly shorter)
    group_size = (lay.rows * lay.cols)[0]
    for key in members:
        sel = lay.key[0] == key
        pos = sorted(lay.pos[0][sel].tolist())
        assert pos[0] % u == 0 and pos == list(range(pos[0], pos[0] + len(pos)))
        assert len(pos) == min(u, int(group_size[sel][0]) - pos[0])

    # distinct slices: Σ_groups ceil(g / u), i.e. about lr_h·lr_w·ceil(s² / u)
    rep, inverse = lay.distinct()
    gh = group_start(torch.arange(1, lr_h + 1), out_h, lr_h) - group_start(torch.arange(lr_h), out_h, lr_h)
    gw = group_start(torch.arange(1, lr_w + 1), out_w, lr_w) - group_start(torch.arange(lr_w), out_w, lr_w)
    per_group = torch.div(gh[:, None] * gw[None] + u - 1, u, rounding_mode="floor")
    assert rep.numel() == len(expected) == int(per_group.sum())
    assert torch.equal(lay.key.flatten()[rep][inverse], lay.key.flatten())

    if scale == int(scale):  # integer s: each slice is one row of the s×s group
        assert all(len(s) == scale and len({y for y, _ in s}) == 1 for s in expected)
        assert rep.numel() == lr_h * lr_w * int(scale)

    # a random subset of the queries gets exactly the same layout (tiles cut groups)
    pick = torch.randperm(out_h * out_w, generator=torch.Generator().manual_seed(0))[:97]
    sub = slice_layout(q.iy[:, pick], q.ix[:, pick], q.out_h, q.out_w, lr_h, lr_w)
    for name in ("gy", "gx", "pos", "first_y", "first_x", "last_y", "last_x", "key"):
        assert torch.equal(getattr(sub, name), getattr(lay, name)[:, pick]), name

    # the model runs the coarse stage once per slice and vertex, the fine stage once per pixel
    model = tiny_model()
    calls: dict[str, int] = {}

    def count(name: str):
        def hook(mod: torch.nn.Linear, inp: tuple[Tensor], out: Tensor) -> None:
            calls[name] = calls.get(name, 0) + inp[0].numel() // mod.in_features
        return hook

    hooks = [model.coarse.layers[2].register_forward_hook(count("coarse")),
             model.fine.layers[2].register_forward_hook(count("fine"))]
    with torch.no_grad():
        model(random_lr(lr_h, lr_w), q)
    for h in hooks:
        h.remove()
    assert calls == {"coarse": len(VERTICES) * len(expected), "fine": out_h * out_w}


# ---------------------------------------------------------------------------------------------
# the function itself


def naive_diif(model: DIIF, lr: Tensor, out_h: int, out_w: int) -> Tensor:
    """The paper's formulation, slice by slice in float64: explicit 1024-dim vertex codes
    (a 4×4 unfold of the zero-padded features on the corner grid), the full coarse MLP per
    slice and vertex, the slice ensemble, the fine MLP per pixel. ``(out_h, out_w, 3)``."""
    m = copy.deepcopy(model).double()
    with torch.no_grad():
        feat = m.encoder(lr.double())
        _, c, h, w = feat.shape
        codes = F.unfold(F.pad(feat, (2, 2, 2, 2)), 4)[0].T.reshape(h + 1, w + 1, 16 * c)
        cy, cx = make_coord(out_h).double(), make_coord(out_w).double()
        ly, lx = make_coord(h).double(), make_coord(w).double()
        rel_cell = torch.tensor([2 / out_h * h, 2 / out_w * w], dtype=torch.float64)
        vertices = torch.tensor(VERTICES, dtype=torch.float64)
        out = torch.zeros(out_h, out_w, 3, dtype=torch.float64)
        for sl in enumerate_slices(out_h, out_w, h, w, slice_length(out_w, w)):
            gy, gx = home(sl[0][0], out_h, h), home(sl[0][1], out_w, w)
            rel = torch.stack([torch.stack([(cy[y] - ly[gy]) * h, (cx[x] - lx[gx]) * w]) for y, x in sl])
            coarse = []
            for v in vertices:
                z = codes[gy + int(v[0] + 1) // 2, gx + int(v[1] + 1) // 2]
                inp = torch.cat([z, rel[0] - v, rel[-1] - v] + ([rel_cell] if m.cell_decode else []))
                coarse.append(F.relu(m.coarse(inp)))
            diagonal = vertices.flip(0)  # t' of vertex t
            weights = ((rel[:, None] - diagonal).prod(-1).abs() / 4)  # (u, 4)
            assert torch.allclose(weights.sum(-1), torch.ones(len(sl), dtype=torch.float64))
            pred = m.fine(torch.cat([weights @ torch.stack(coarse), rel], dim=-1))
            for (y, x), p in zip(sl, pred):
                out[y, x] = p
    return out


@pytest.mark.parametrize("out_h,out_w", [(9, 10), (8, 16), (12, 15), (15, 18), (20, 24), (45, 68), (55, 66)])
def test_matches_naive_formulation(out_h: int, out_w: int) -> None:
    """5×6 LR; scales (y × x → u): 1.8×1.67 → 2, 1.6×2.67 → 3, 2.4×2.5 → 3 (partial slices),
    3 → 3, 4 → 4, 9×11.3 → 11 and 11 → 11 (fine layer folded into the slices)."""
    model = tiny_model()
    lr = random_lr(5, 6)
    with torch.no_grad():
        fast = model(lr, whole_grid(out_h, out_w)).reshape(out_h, out_w, 3)
    assert (fast.double() - naive_diif(model, lr, out_h, out_w)).abs().max() < 1e-5


def crop_render(model: DIIF, lr: Tensor, out_h: int, out_w: int, rect: tuple[int, int, int, int]) -> Tensor:
    """Render ``rect`` (rows r0:r1, cols c0:c1) from a crop of the LR and its features."""
    r0, r1, c0, c1 = rect
    h, w = lr.shape[-2:]
    fy0, fy1 = home(r0, out_h, h), home(r1 - 1, out_h, h) + 1
    fx0, fx1 = home(c0, out_w, w), home(c1 - 1, out_w, w) + 1
    m = model.query_margin(out_w / w) + model.prep_radius
    e = model.encoder_radius
    ey0, ey1, ex0, ex1 = max(0, fy0 - m - e), min(h, fy1 + m + e), max(0, fx0 - m - e), min(w, fx1 + m + e)
    feat = model.encode(lr[..., ey0:ey1, ex0:ex1])
    py0, py1, px0, px1 = max(0, fy0 - m), min(h, fy1 + m), max(0, fx0 - m), min(w, fx1 + m)
    feat = feat[..., py0 - ey0:py1 - ey0, px0 - ex0:px1 - ex0]
    fc = model.prepare(feat, lr[..., py0:py1, px0:px1], CropGeometry(py0, px0, h, w))
    return model.query(fc, Queries.grid(out_h, out_w, (r0, r1), (c0, c1))).reshape(r1 - r0, c1 - c0, 3)


@pytest.mark.parametrize("scale", [1.7, 4, 11.3])
def test_crop_exactness_and_chunk_invariance(scale: float) -> None:
    model = tiny_model()
    lr = random_lr(23, 29)
    out_h, out_w = round(23 * scale), round(29 * scale)
    q = whole_grid(out_h, out_w)
    rects = [(0, out_h // 3 + 1, 0, out_w // 4 + 3),                       # top-left corner
             (out_h - out_h // 4 - 2, out_h, out_w // 2 + 1, out_w),       # bottom-right corner
             (out_h // 3 + 1, out_h // 3 + 8, 0, out_w),                   # band touching left+right
             (out_h // 2 - 5, out_h // 2 + 4, out_w // 3 + 2, out_w // 3 + 13)]  # interior
    cut = False
    with torch.no_grad():
        whole = model(lr, q)
        image = whole.reshape(out_h, out_w, 3)
        for r0, r1, c0, c1 in rects:
            tile = crop_render(model, lr, out_h, out_w, (r0, r1, c0, c1))
            assert (tile - image[r0:r1, c0:c1]).abs().max() <= 1e-5, (r0, r1, c0, c1)
            sub = Queries.grid(out_h, out_w, (r0, r1), (c0, c1))
            lay = slice_layout(sub.iy, sub.ix, out_h, out_w, 23, 29)
            outside = (lay.first_x < c0) | (lay.last_x >= c1) | (lay.first_y < r0) | (lay.last_y >= r1)
            cut |= bool(outside.any())
        assert cut, "no rectangle cuts a slice"
        chunked = torch.cat([model(lr, part) for part in q.split(1000)], dim=1)
    assert (chunked - whole).abs().max() <= 1e-6


def test_batch_with_per_sample_scales() -> None:
    """Samples with different output sizes in one batch equal their single-sample results."""
    model = tiny_model()
    lr = random_lr(6, 7, batch=2)
    small, large = Queries.grid(15, 17, (0, 10), (0, 17)), Queries.grid(60, 70, (20, 30), (10, 27))
    q = Queries(torch.cat([small.iy, large.iy]), torch.cat([small.ix, large.ix]),
                torch.cat([small.out_h, large.out_h]), torch.cat([small.out_w, large.out_w]))
    with torch.no_grad():
        both = model(lr, q)
        assert (both[0] - model(lr[:1], small)[0]).abs().max() <= 1e-6
        assert (both[1] - model(lr[1:], large)[0]).abs().max() <= 1e-6


def test_full_grid_is_differentiable() -> None:
    model = tiny_model().train()
    lr = random_lr(12, 12, batch=2)
    one = whole_grid(30, 30)
    q = Queries(one.iy.expand(2, -1), one.ix.expand(2, -1), one.out_h.expand(2), one.out_w.expand(2))
    out = model(lr, q)
    out.square().mean().backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.encoder.head[0].weight.grad.abs().sum() > 0
    assert model.coarse.first.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("scale", [2, 11.3])
def test_bfloat16_smoke(scale: float) -> None:
    model = tiny_model()
    lr = random_lr(10, 11)
    q = whole_grid(round(10 * scale), round(11 * scale))
    with torch.no_grad():
        ref = model(lr, q)
        half = model.to(torch.bfloat16)(lr.to(torch.bfloat16), q)
    assert half.dtype == torch.float32
    assert (half - ref).abs().max() < 5e-2


def _curvature(model: torch.nn.Module, lr: Tensor, scale: int, first: int) -> float:
    """|step 2 − mean of steps 1 and 3| over four output pixels ``first … first+3`` of one row."""
    ix = torch.arange(first, first + 4)[None]
    out = lr.shape[-1] * scale
    q = Queries(torch.full_like(ix, out // 2 + scale // 3), ix, torch.tensor([out]), torch.tensor([out]))
    with torch.no_grad():
        d = model(lr, q)[0].diff(dim=0)
    return float((d[1] - (d[0] + d[2]) / 2).abs().mean())


def test_by_construction_diif_jumps_at_input_pixel_borders_and_liif_does_not() -> None:
    """The cause of DIIF's grid at large zoom (docs/methods/diif.md): on the two sides of a
    border a corner's coarse input differs (the slice's end points relative to it) and the fine
    stage's x − v* jumps from +1 to −1, so with any weights the output jumps there by a fixed
    amount however far one zooms, while inside a pixel the steps vanish. LIIF's local ensemble
    gives zero weight to the codes that change at a border: no jump."""
    lr = random_lr(6, 6)
    liif_spec = next(s for s in SPECS if s.name == "liif")
    torch.manual_seed(0)
    models = {"diif": tiny_model(), "liif": build("liif", liif_spec.tiny).eval()}
    for name, model in models.items():
        scale = 1024
        border = _curvature(model, lr, scale, 3 * scale - 2)  # pixels 2|3 straddle the border
        inside = _curvature(model, lr, scale, 3 * scale + scale // 2)
        if name == "diif":
            assert border > 1e-3 and border > 100 * inside, (border, inside)
            assert _curvature(model, lr, 64, 3 * 64 - 2) == pytest.approx(border, rel=0.05)  # not 1/s
        else:
            assert border < 1e-6 and inside < 1e-6, (border, inside)
