"""LIIF: parameter counts, official key layout and equality with the official formulation."""

import torch

from benchmarks.reference import reference_features, reference_query
from sr_core.coords import Queries
from sr_core.methods.base import CropGeometry
from sr_core.methods.ensemble import blend, branches
from sr_core.methods.liif import LIIF


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_paper():
    assert n_params(LIIF()) == 1_567_323
    assert n_params(LIIF(encoder="rdn")) == 22_320_835


def official_state_dict(encoder: str) -> dict[str, torch.Tensor]:
    """A state dict laid out with the official key names, built from the spec's shapes."""
    sd: dict[str, torch.Tensor] = {}
    conv = lambda cout, cin, k=3: (torch.randn(cout, cin, k, k), torch.randn(cout))  # noqa: E731
    if encoder == "edsr-baseline":
        for name in ("sub_mean", "add_mean"):
            sd[f"encoder.{name}.weight"], sd[f"encoder.{name}.bias"] = conv(3, 3, 1)
        sd["encoder.head.0.weight"], sd["encoder.head.0.bias"] = conv(64, 3)
        for b in range(16):
            for c in (0, 2):
                sd[f"encoder.body.{b}.body.{c}.weight"], sd[f"encoder.body.{b}.body.{c}.bias"] = conv(64, 64)
        sd["encoder.body.16.weight"], sd["encoder.body.16.bias"] = conv(64, 64)
    else:
        sd["encoder.SFENet1.weight"], sd["encoder.SFENet1.bias"] = conv(64, 3)
        sd["encoder.SFENet2.weight"], sd["encoder.SFENet2.bias"] = conv(64, 64)
        for i in range(16):
            for c in range(8):
                key = f"encoder.RDBs.{i}.convs.{c}.conv.0"
                sd[f"{key}.weight"], sd[f"{key}.bias"] = conv(64, 64 + c * 64)
            sd[f"encoder.RDBs.{i}.LFF.weight"], sd[f"encoder.RDBs.{i}.LFF.bias"] = conv(64, 64 * 9, 1)
        sd["encoder.GFF.0.weight"], sd["encoder.GFF.0.bias"] = conv(64, 1024, 1)
        sd["encoder.GFF.1.weight"], sd["encoder.GFF.1.bias"] = conv(64, 64)
    widths = [580, 256, 256, 256, 256, 3]
    for i in range(5):
        sd[f"imnet.layers.{2 * i}.weight"] = torch.randn(widths[i + 1], widths[i])
        sd[f"imnet.layers.{2 * i}.bias"] = torch.randn(widths[i + 1])
    return sd


def test_official_key_layout_loads_strictly():
    for encoder in ("edsr-baseline", "rdn"):
        args = {"encoder_spec": {"name": encoder, "args": {"no_upsampling": True}},
                "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [256] * 4}}}
        config, sd = LIIF.from_official(args, official_state_dict(encoder))
        result = LIIF(**config).load_state_dict(sd, strict=True)
        assert not result.missing_keys and not result.unexpected_keys


def tiny_liif(**kw) -> LIIF:
    torch.manual_seed(0)
    model = LIIF(encoder_args={"n_resblocks": 2, "n_feats": 8}, hidden=[32, 32], **kw)
    for p in model.parameters():
        p.data.normal_(0, 0.1)
    return model.eval()


def test_fast_path_equals_official_formulation():
    lr = torch.rand(2, 3, 11, 14) * 2 - 1
    for kw in ({}, {"feat_unfold": False}, {"cell_decode": False}, {"local_ensemble": False}):
        model = tiny_liif(**kw)
        for out_h, out_w in ((11, 14), (19, 31), (77, 100)):
            q = Queries.grid(out_h, out_w, (0, out_h), (0, out_w))
            q = Queries(q.iy.expand(2, -1), q.ix.expand(2, -1), q.out_h.expand(2), q.out_w.expand(2))
            with torch.no_grad():
                ours = model(lr, q)
            ref = reference_query(model, reference_features(model, lr), q)
            assert (ours - ref).abs().max() < 1e-5, kw


def test_local_ensemble_weights_at_corner_and_centre():
    """A query at the corner of four LR pixels blends them equally; at a centre it takes one."""
    model = tiny_liif()
    lr = torch.rand(1, 3, 4, 4) * 2 - 1
    with torch.no_grad():
        feat = model.prepare(model.encode(lr), lr, CropGeometry.full(4, 4))
        # output grid 8x8 at x2: pixel (3,3)'s centre is at LR (1.75,1.75); a 4x4 grid at x1 hits centres
        corner = Queries(torch.tensor([[4]]), torch.tensor([[4]]), torch.tensor([9]), torch.tensor([9]))
        br = branches(corner, 4, 4)
        ones = torch.ones(4, 1, 1, 1)
        w = blend(torch.eye(4).view(4, 1, 1, 4), br)[0, 0]
        assert torch.allclose(w, torch.full((4,), 0.25), atol=1e-4)
        centre = Queries(torch.tensor([[1]]), torch.tensor([[2]]), torch.tensor([4]), torch.tensor([4]))
        w = blend(torch.eye(4).view(4, 1, 1, 4) * ones, branches(centre, 4, 4))[0, 0]
        assert w.max() > 0.999
    assert feat.tensors["z1"].shape[1] == 32
