"""Starting a method from LIIF: what is copied, how close the start is, the per-block learning
rates, and a frozen-encoder run started from another method's checkpoint."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import torch

from sr_core import checkpoints
from sr_core.architectures import build
from sr_core.coords import Queries
from sr_core.display_precision import native_bf16
from sr_core.methods import clit, ipe, ultrasr
from sr_core.methods.ipe import integrated_pe
from sr_core.methods.liif import LIIF
from sr_core.registry import get_info
from tests.tiny_models import tiny_model
from training import warm_start as ws
from training.export import provenance_summary
from training.objectives import lr_factors
from training.recipe import parse
from training.trainer import RunOptions, train

ENC = {"encoder_args": {"n_resblocks": 1, "n_feats": 8}}


def liif() -> LIIF:
    torch.manual_seed(0)
    model = LIIF(**ENC, hidden=[16] * 4)
    for p in model.parameters():
        p.data.normal_(0, 0.15)
    return model.eval()


def outputs(model, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lr = torch.rand(1, 3, 10, 12, generator=g) * 2 - 1
    q = Queries.grid(33, 40, (0, 33), (0, 40))
    with torch.no_grad():
        return model(lr, q)


def test_ultrasr_starts_within_o_eps_of_liif(monkeypatch):
    source = liif()
    reference = outputs(source)
    gaps = {}
    for eps in (0.1, 0.01):
        monkeypatch.setattr(ultrasr, "ULTRASR_EPS", eps)
        target = build("ultrasr", {**ENC, "hidden_dim": 16, "n_hidden": 5, "n_freqs": 4})
        report = ws.warm_start(source, target)
        gaps[eps] = (outputs(target) - reference).abs().max().item()
        assert report.mapping == "liif → ultrasr"
        assert torch.equal(target.encoder.body[0].body[0].weight, source.encoder.body[0].body[0].weight)
    assert gaps[0.01] < gaps[0.1] / 5 and gaps[0.01] < 0.02, gaps
    # an unmapped start is far from LIIF
    unmapped = build("ultrasr", {**ENC, "hidden_dim": 16, "n_hidden": 5, "n_freqs": 4})
    assert (outputs(unmapped) - reference).abs().max() > 0.1


def test_ipe_differs_from_liif_only_by_the_fitted_coordinate_term():
    source = liif()
    target = build("ipe", {**ENC, "hidden_dim": 16, "n_hidden": 4, "n_freqs": 6})
    report = ws.warm_start(source, target)
    assert report.mapping == "liif → ipe" and "least squares" in report.notes[1]
    code = target.code_dim
    assert torch.equal(target.hidden[0].weight[:, :code], source.imnet.layers[0].weight[:, :code])
    for k in (1, 2, 3):
        assert torch.equal(target.hidden[k].weight[:, :16], source.imnet.layers[2 * k].weight)
        assert not target.hidden[k].weight[:, 16:].any()
    # layer 1's coordinate term: the fit is closer to LIIF's than leaving it out, and it is
    # the one the report states
    rel, cell = ipe._training_queries()
    liif_term = torch.cat([rel, cell], -1) @ source.imnet.layers[0].weight[:, code:].t()
    with torch.no_grad():
        ipe_term = (integrated_pe(rel, cell / 2, 6) @ target.hidden[0].weight[:, code:].t()
                    + target.hidden[0].bias - source.imnet.layers[0].bias)
    error = (ipe_term - liif_term).pow(2).mean().sqrt() / liif_term.std()
    assert error < (liif_term - liif_term.mean(0)).pow(2).mean().sqrt() / liif_term.std()
    assert f"relative RMS error {error:.3f}" in report.notes[1]


def test_lte_starts_exactly_at_its_bilinear_base():
    source = liif()
    target = build("lte", {**ENC, "hidden_dim": 16, "hidden": [16, 16]}).eval()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    report = ws.warm_start(source, target)
    assert report.mapping == "liif → lte"
    assert torch.equal(target.encoder.body[0].body[0].weight, source.encoder.body[0].body[0].weight)
    assert torch.equal(target.coef.weight, before["coef.weight"])  # the decoder keeps its start
    lr = torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(1)) * 2 - 1
    q = Queries.grid(33, 40, (0, 33), (0, 40))
    with torch.no_grad():
        out = target(lr, q)
        target.imnet.layers[-1].bias.fill_(0.5)
        shifted = target(lr, q)
    assert out.abs().max() > 0.1  # the base image, not zero
    assert torch.allclose(shifted - out, torch.full_like(out, 0.5), atol=1e-5)  # the MLP adds nothing else


def test_diif_gets_only_the_encoder():
    source, target = liif(), build("diif", {**ENC, "coarse_hidden": [16, 16], "fine_hidden": [16]})
    before = {k: v.clone() for k, v in target.state_dict().items() if not k.startswith("encoder.")}
    assert ws.warm_start(source, target).mapping == "liif → diif"
    for name, value in target.encoder.state_dict().items():
        assert torch.equal(value, source.encoder.state_dict()[name])
    for name, value in before.items():
        assert torch.equal(target.state_dict()[name], value)


@pytest.mark.parametrize("stage_scales", [None, (2.0, 1.65), (1.5, 1.5, 1.47)])
def test_clit_starts_exactly_at_its_bilinear_base(stage_scales):
    """Only the encoder is copied; every stage's output layer starts at zero, so the model (any
    number of stages) starts at the bilinear LR image. The MLPs are re-drawn (value columns of
    the first layer at the stated scale, hidden layers He-normal, biases zero); convolutions,
    positional bias and the cell columns keep their start."""
    torch.manual_seed(0)
    source = liif()
    target = build("clit", {**ENC, "base_dim": 16, "heads": 2, "radius": 1, "hidden": [64, 64]}).eval()
    before = {k: v.clone() for k, v in target.state_dict().items() if not k.startswith("encoder.")}
    report = ws.warm_start(source, target)
    assert report.mapping == "liif → clit" and "bilinear base image" in report.notes[0]
    assert f"N(0, ({clit.CLIT_VALUE_GAIN:g}/√144)²)" in report.notes[1]
    for name, value in target.encoder.state_dict().items():
        assert torch.equal(value, source.encoder.state_dict()[name])
    state = target.state_dict()
    for name, value in before.items():
        if not name.startswith("imnets."):
            assert torch.equal(state[name], value), name
    for k in range(3):
        first, hidden, out = (state[f"imnets.{k}.layers.{i}.weight"] for i in (0, 2, 4))
        assert first[:, :144].std() == pytest.approx(clit.CLIT_VALUE_GAIN / 12, rel=0.1)
        assert torch.equal(first[:, 144:], before[f"imnets.{k}.layers.0.weight"][:, 144:])
        assert hidden.std() == pytest.approx(2 ** 0.5 / 8, rel=0.1)
        assert not out.any() and not any(state[f"imnets.{k}.layers.{i}.bias"].any() for i in (0, 2, 4))
    lr = torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(1)) * 2 - 1
    q = Queries.grid(33, 40, (0, 33), (0, 40))
    with torch.no_grad():
        out = target(lr, q, stage_scales)
        bilinear = torch.nn.functional.interpolate(lr, size=(33, 40), mode="bilinear", align_corners=False)
        assert torch.allclose(out, bilinear.flatten(2).transpose(1, 2), atol=1e-5)  # float rounding
        target.imnets[0].layers[-1].bias.fill_(0.5)  # stage 1's residual is all that moves it
        shifted = target(lr, q, stage_scales)
    decay = 0.75 ** (len(stage_scales or (1,)) - 1)
    assert torch.allclose(shifted - out, torch.full_like(out, 0.5 * decay), atol=1e-5)


def test_a_cumulative_phase_starts_its_new_clit_stage_as_the_first_was_started():
    """CLIT-2 from LIT: the loaded stage is kept, the new one starts re-drawn with its output
    layer zero, so where one stage covers the scale the grown model is exactly the previous."""
    config = {**ENC, "base_dim": 16, "heads": 2, "radius": 1, "hidden": [64, 64]}
    torch.manual_seed(0)
    lit = build("clit", {**config, "n_stages": 1}).eval()
    for p in lit.parameters():
        p.data.normal_(0, 0.05)
    grown = build("clit", {**config, "n_stages": 2}).eval()
    grown.load_state_dict(lit.state_dict(), strict=False)
    assert clit.SPEC.training.new_stages(grown, lit.state_dict().keys()) == [1]
    state = grown.state_dict()
    for name, value in lit.state_dict().items():
        assert torch.equal(state[name], value), name
    assert not state["imnets.1.layers.4.weight"].any() and not state["imnets.1.layers.4.bias"].any()
    assert state["imnets.1.layers.0.weight"][:, :144].std() == pytest.approx(clit.CLIT_VALUE_GAIN / 12, rel=0.1)
    lr = torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(1)) * 2 - 1
    q = Queries.grid(33, 40, (0, 33), (0, 40))
    with torch.no_grad():
        assert torch.equal(grown(lr, q), lit(lr, q))  # ×3.3: one stage
    assert get_info("liif").training.new_stages is None  # nothing to grow


def test_unknown_pairs_and_other_encoders_are_refused():
    with pytest.raises(ws.WarmStartError, match="no way to start lte from ultrasr"):
        ws.warm_start(tiny_model("ultrasr"), tiny_model("lte"))
    other = build("ultrasr", {"encoder_args": {"n_resblocks": 2, "n_feats": 8}, "hidden_dim": 16})
    with pytest.raises(ws.WarmStartError, match="encoders differ"):
        ws.warm_start(liif(), other)


def test_lr_factors_scale_each_block_of_an_adam_step():
    layer = torch.nn.Linear(4, 3)
    named = list(layer.named_parameters())
    factors = lr_factors(named, {"weight": [[0, 2, 0.0], [2, None, 3.0]]})
    assert set(factors) == {layer.weight}
    assert factors[layer.weight][:, :2].eq(0).all() and factors[layer.weight][:, 2:].eq(3).all()


def test_a_frozen_encoder_run_starts_from_a_liif_checkpoint(tiny_raw, tmp_path: Path):
    source = liif()
    ckpt = checkpoints.save(tmp_path / "liif.safetensors", source, {"method": "liif", "trained": True})
    raw = tiny_raw("ultrasr", steps=3)
    raw["model"]["config"] = {**raw["model"]["config"], "n_hidden": 5, "hidden_dim": 16}
    raw["optim"]["freeze"] = ["encoder"]
    raw["init"] = {"checkpoint": str(ckpt)}
    result = train(parse(raw), RunOptions(out_dir=tmp_path / "run", device="cpu", progress=False))
    trained, meta = checkpoints.load(result.checkpoint)
    init = meta["training"]["init"]
    assert meta["provenance"]["summary"].startswith("trained by ZoomSR: 6 images, 0.0 h on CPU, from a liif checkpoint")
    assert init["mapping"] == "liif → ultrasr" and init["lr_scale"]["hidden.1.weight"][0][:2] == [0, 16]
    for key, value in source.encoder.state_dict().items():
        assert torch.equal(trained.encoder.state_dict()[key], value), key
    started = build("ultrasr", raw["model"]["config"])
    ws.warm_start(source, started)
    assert not torch.equal(trained.hidden[1].weight, started.hidden[1].weight)



def test_bf16_autocast_on_the_cpu_only_where_native(tiny_raw, tmp_path: Path):
    """A recipe's bf16 applies on a CPU with native bf16 products (docs/TRAINING.md, "Training
    on a CPU"), not on one that would emulate them; the checkpoint records what ran."""
    raw = tiny_raw("liif", steps=2)
    raw["loop"]["amp"] = "bf16"
    result = train(parse(raw), RunOptions(out_dir=tmp_path / "run", device="cpu", progress=False))
    ran = "bf16" if native_bf16(torch.device("cpu")) else "none"
    assert checkpoints.read_metadata(result.checkpoint)["training"]["amp"] == ran
    with mock.patch("training.trainer.native_bf16", return_value=False):
        result = train(parse(raw), RunOptions(out_dir=tmp_path / "emulated", device="cpu", progress=False))
    assert checkpoints.read_metadata(result.checkpoint)["training"]["amp"] == "none"


def test_the_summary_says_when_only_the_encoder_came_from_the_source():
    liif_like = {"provenance": {"summary": "the LIIF authors' weights"}, "method": "liif"}
    base = {"data": {"images": 437}, "wall_time_s": 5400, "device": "CPU"}
    full = provenance_summary({**base, "init": {**liif_like, **ws.WarmStart("m").as_dict()}})
    assert full == "trained by ZoomSR: 437 images, 1.5 h on CPU, from the LIIF authors' weights"
    lte = ws.warm_start(liif(), build("lte", {**ENC, "hidden_dim": 16, "hidden": [16, 16]}))
    part = provenance_summary({**base, "init": {**liif_like, **lte.as_dict()}})
    assert part.endswith("from the encoder of the LIIF authors' weights (its decoder from random)")
