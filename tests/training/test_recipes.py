"""Recipes: every file parses, the paper recipes follow METHODS_SPEC §4.2, and each shipped
(zoomsr) recipe has its paper recipe's structure on ../shared/data/train."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sr_core.architectures import build
from sr_core.registry import METHODS
from training.recipe import REPO_ROOT, SHIPPED_RECIPES, RecipeError, ScaleDist, list_configs, load_recipe, parse

LIIF_FLIPS = ("hflip", "vflip", "transpose")
EVERY_200K = (200_000, 400_000, 600_000, 800_000)


def test_every_recipe_parses_and_every_method_has_a_shipped_one() -> None:
    names = list_configs()
    assert len(names) == 20
    for name in names:
        load_recipe(name)
    assert set(SHIPPED_RECIPES) == {name for name, info in METHODS.items() if info.needs_weights}
    assert all(f"{n}" in names for n in SHIPPED_RECIPES.values())


@pytest.mark.parametrize("method", ["bicubic", "nearest"])
def test_methods_without_weights_are_not_trainable(method: str) -> None:
    with pytest.raises(RecipeError, match="not a trainable method"):
        parse({"name": "x", "method": method})


@pytest.mark.parametrize("name, low", [(f"{m}-{e}", 2.0 if m == "ultrasr" else 1.0)
                                       for m in ("liif", "ultrasr", "ipe", "lte")
                                       for e in ("edsr", "rdn")])
def test_liif_protocol_recipes(name: str, low: float) -> None:
    """LIIF, UltraSR (U(2, 4)), IPE-LIIF, LTE: LR 48, 2304 pixels, batch 16, 1000 × 1000 its."""
    r = load_recipe(f"paper/{name}")
    (phase,) = r.phases
    s, o = phase.sampler, phase.optim
    assert (s.kind, s.lr_size, s.pixels, s.scale_per) == ("pixels", 48, 2304, "sample")
    assert s.augment == LIIF_FLIPS
    assert s.scales == (ScaleDist(uniform=(low, 4.0)),)
    assert (o.batch, o.steps, o.lr, o.betas) == (16, 1_000_000, 1e-4, (0.9, 0.999))
    assert (o.milestones, o.gamma) == (EVERY_200K, 0.5)
    assert phase.model.config["encoder"] == ("rdn" if name.endswith("rdn") else "edsr-baseline")
    assert phase.loss.l1 == 1.0 and phase.loss.gan is None
    assert r.data[0].name == "DIV2K_train_HR"


def test_diif_recipe() -> None:
    (phase,) = load_recipe("paper/diif-edsr").phases
    s, o = phase.sampler, phase.optim
    assert (s.kind, s.hr_size, s.scale_per, s.augment) == ("full", 192, "batch", ("hflip", "rot90"))
    assert s.scales == (ScaleDist(choice=(2.0, 2.5, 3.0, 3.5, 4.0)),)
    assert (o.batch, o.steps, o.milestones, o.gamma) == (16, 1_000_000, EVERY_200K, 0.5)


def test_clit_cumulative_recipe() -> None:
    r = load_recipe("paper/clit-edsr")
    assert r.seed == 2454
    assert [p.name for p in r.phases] == ["lit", "clit-2", "clit-3"]
    assert [p.model.config["n_stages"] for p in r.phases] == [1, 2, 3]
    assert [p.init_previous for p in r.phases] == [False, True, True]
    assert [p.sampler.stage_cycle for p in r.phases] == [(1,), (2, 1), (3, 1, 2)]
    assert [p.optim.steps for p in r.phases] == [1_000_000, 1_000_000, 1_500_000]
    assert r.phases[2].optim.milestones == (300_000, 600_000, 900_000, 1_200_000)
    u14, u12 = ScaleDist(uniform=(1.0, 4.0)), ScaleDist(uniform=(1.0, 2.0))
    assert r.phases[2].sampler.scales == (u14, u14, u12)
    for p in r.phases:
        s = p.sampler
        assert (s.kind, s.lr_size, s.pixels, s.scale_per) == ("pixels", 48, 2304, "batch")
        assert s.augment == LIIF_FLIPS
        assert (p.optim.batch, p.optim.lr) == (32, 1e-4)
        assert p.model.config["base_dim"] == 256


def test_cisrgan_recipe() -> None:
    r = load_recipe("paper/cisrgan-rdn")
    (phase,) = r.phases
    assert r.method == "cisrgan" and phase.model.arch == "liif"
    assert phase.model.config == {"encoder": "rdn"}
    assert r.init_required and not r.init_checkpoint
    s, o, loss = phase.sampler, phase.optim, phase.loss
    assert (s.kind, s.lr_size, s.window, s.scale_per) == ("window", 64, 64, "sample")
    assert s.scales == (ScaleDist(uniform=(1.0, 4.0)),)
    assert (o.batch, o.steps, o.lr) == (16, 75_000, 1e-4)
    assert (loss.l1, loss.gan.weight, loss.perceptual.weight) == (1e-2, 5e-3, 1.0)
    assert loss.perceptual.layer == 34
    assert loss.gan.lr == 1e-4


#: shipped recipes fine-tuned on a CPU from the authors' LIIF (the others keep a GPU schedule)
CPU_RECIPES = ("ultrasr", "ipe", "lte", "diif")


@pytest.mark.parametrize("method", CPU_RECIPES)
def test_cpu_recipes_fine_tune_the_papers_model_from_the_authors_liif(method: str) -> None:
    """The paper's model and loss, started from the shipped LIIF with a frozen encoder, every
    shortcut recorded as a deviation, and short enough for a 2-core CPU."""
    ours = load_recipe(SHIPPED_RECIPES[method])
    paper = load_recipe(f"paper/{method}-edsr")
    assert ours.init_checkpoint == "liif" and ours.export_dtype == "float32"
    assert ours.data == ((REPO_ROOT.parent / "shared" / "data" / "train").resolve(),)
    for note in ("authors' DIV2K-trained", "encoder frozen", "../shared/data/train", "on a CPU"):
        assert any(note in d for d in ours.deviations), note
    (b,) = paper.phases
    a, *more = ours.phases
    # IPE-LIIF's only architectural deviation: its lowest frequency (the recipe says why)
    config = {k: v for k, v in a.model.config.items() if k != "pe_base"}
    assert config == b.model.config and a.loss == b.loss and a.optim.freeze == ("encoder",)
    assert all(p.init_previous and p.model == a.model for p in more)
    # a later phase may add the continuity term (not in the paper): then a deviation says so
    assert all(replace(p.loss, continuity=None) == b.loss for p in more)
    if any(p.loss.continuity for p in more):
        assert any("continuity term" in d for d in ours.deviations)
    queries = sum(p.optim.batch * p.optim.steps
                  * (p.sampler.window ** 2 if p.sampler.kind == "window" else p.sampler.pixels)
                  for p in ours.phases)
    assert queries < 2e8  # the paper's: 3.7e10


def test_ipe_phases_hold_the_bands_their_scales_leave_silent() -> None:
    """Each phase trains exactly the IPE bands whose damping sinc(ω_l/(π·s)) reaches 0.5 at
    some training scale and holds at zero those that never exceed 0.25; phase "wide" trains
    at scales up to what the photos' smallest side (321 px) allows."""
    recipe = load_recipe(SHIPPED_RECIPES["ipe"])
    assert [p.name for p in recipe.phases] == ["main", "wide"]
    for phase in recipe.phases:
        (dist,) = phase.sampler.scales
        s = np.linspace(1.0, dist.max, 4000)
        base = phase.model.config["pe_base"]
        peak = [np.abs(np.sinc(base * 2.0 ** band / s)).max() for band in range(10)]
        held = phase.optim.ipe_bands
        assert peak[held - 1] > 0.5 and max(peak[held:]) < 0.25, phase.name
    assert 320 <= recipe.phases[1].sampler.lr_size * recipe.phases[1].sampler.scales[0].max <= 321


def test_cisrgan_cpu_recipe_fine_tunes_the_authors_liif_adversarially() -> None:
    """Exactly the authors' LIIF as the start (the paper starts from a trained LIIF), frozen
    encoder, the paper's loss structure (1e-2 L1 + 5e-3 RaGAN with its discriminator optimiser +
    a perceptual term on the substitute feature space), its windows, scales and Adam, every
    shortcut recorded as a deviation, and short enough for one CPU thread."""
    ours = load_recipe(SHIPPED_RECIPES["cisrgan"])
    paper = load_recipe("paper/cisrgan-rdn")
    assert ours.init_checkpoint == "liif" and ours.export_dtype == "float32"
    assert (ours.loop.amp, ours.loop.workers) == ("bf16", 0)
    assert ours.data == ((REPO_ROOT.parent / "shared" / "data" / "train").resolve(),)
    assert ours.validation_dir == paper.validation_dir
    for note in ("authors' DIV2K-trained", "encoder frozen", "../shared/data/train", "on a CPU",
                 "batch", "window", "liif-encoder", "bf16", "EDSR-baseline"):
        assert any(note in d for d in ours.deviations), note
    (a,), (b,) = ours.phases, paper.phases
    assert a.model.arch == b.model.arch == "liif" and a.model.config == {"encoder": "edsr-baseline"}
    assert a.optim.freeze == ("encoder",)
    assert a.loss.l1 == b.loss.l1 == 1e-2 and a.loss.gan == b.loss.gan and a.loss.gan.weight == 5e-3
    # with real VGG-19 weights (--vgg19-weights) exactly the paper's term; else the substitute
    assert replace(a.loss.perceptual, substitute="random", substitute_weight=None) == b.loss.perceptual
    assert (a.loss.perceptual.substitute, a.loss.perceptual.weight_for(True)) == ("liif-encoder", 10.0)
    assert replace(a.optim, batch=0, steps=0, freeze=()) == replace(b.optim, batch=0, steps=0)
    assert a.sampler.kind == "window" and (a.sampler.scales, a.sampler.augment) == (
        b.sampler.scales, b.sampler.augment)
    assert a.sampler.window in (16, 32, 64, 128)  # the discriminator reaches 4×4 from it
    # the paper's: 16 × 75k windows of 64²: 4.9e9 HR pixels
    assert a.optim.batch * a.optim.steps * a.sampler.window ** 2 < 5e7


#: CLIT's one-thread cost model, measured (docs/TRAINING.md, "Training on a CPU"): seconds per
#: sample, per query and stage, per pixel of the stage maps ≥ 2; mean map area per sample of
#: each phase from the sampler's plans on ../shared/data/train; one Set5 ×4 validation
CLIT_SAMPLE_S, CLIT_QUERY_S, CLIT_MAP_PX_S = 0.17, 0.5e-3, 70e-6
CLIT_MAP_AREA = {"lit": 0, "clit-2": 5830, "clit-3": 19640}
CLIT_VALIDATION_S = 90


def test_clit_cpu_recipe_is_the_papers_cascade_from_the_authors_liif() -> None:
    """The paper's architecture and cumulative phases (stage scales, stage cycles, sampler, loss,
    Adam), started from the shipped LIIF with a frozen encoder, then a continuity phase, every
    shortcut recorded as a deviation, each of the paper's phases ≤ 2.5 h and all ≤ 5 h on one
    thread, and a float16 export because float32 would exceed the 40 MB of a shipped file."""
    ours = load_recipe(SHIPPED_RECIPES["clit"])
    paper = load_recipe("paper/clit-edsr")
    assert ours.init_checkpoint == "liif" and ours.seed == paper.seed
    assert (ours.loop.amp, ours.loop.workers) == ("bf16", 0)
    assert ours.data == ((REPO_ROOT.parent / "shared" / "data" / "train").resolve(),)
    assert ours.validation_dir == paper.validation_dir
    for note in ("authors' DIV2K-trained", "encoder frozen", "../shared/data/train", "on a CPU",
                 "milestones", "bf16", "float16"):
        assert any(note in d for d in ours.deviations), note
    params = sum(p.numel() for p in build("clit", ours.phases[-1].model.config).parameters())
    assert ours.export_dtype == "float16" and 2 * params < 40e6 < 4 * params
    # the paper's phases, then phases "wide" and "cascade": CLIT-3's model with the continuity
    # term (not the paper's), against the input-pixel blocks of issue 27; "cascade" trains
    # stages 2-3 only, so that every scale up to ×4 (stage 1 alone) keeps what "wide" gave it
    assert [p.name for p in ours.phases] == [p.name for p in paper.phases] + ["wide", "cascade"]
    for extra in ours.phases[-2:]:
        assert extra.init_previous and extra.model == paper.phases[-1].model and extra.loss.continuity
        assert replace(extra.loss, continuity=None) == paper.phases[-1].loss
    stage_1 = ("encoder", "conv_ch", "conv_qs.0", "conv_ks.0", "conv_vs.0", "pb_encoder", "imnets.0")
    assert set(ours.phases[-1].optim.freeze) == set(stage_1) and min(ours.phases[-1].sampler.stage_cycle) >= 2
    model = build("clit", ours.phases[-1].model.config)
    trained = [n for n, _ in model.named_parameters() if not n.startswith(stage_1)]
    assert trained and all(n.split(".")[1] in ("1", "2") for n in trained), trained
    assert any("continuity term" in d for d in ours.deviations)
    hours = []
    for a, b in zip(ours.phases, paper.phases):
        assert a.model == b.model and a.loss == b.loss and a.init_previous == b.init_previous
        assert replace(a.sampler, pixels=0) == replace(b.sampler, pixels=0) and a.sampler.pixels <= b.sampler.pixels
        assert a.optim.freeze == ("encoder",) and a.optim.batch <= b.optim.batch
        assert replace(a.optim, batch=0, steps=0, milestones=(), freeze=()) == replace(
            b.optim, batch=0, steps=0, milestones=())
        assert min(a.optim.milestones) > 0 and max(a.optim.milestones) < a.optim.steps
        stages = sum(a.sampler.stage_cycle) / len(a.sampler.stage_cycle)
        per_sample = (CLIT_SAMPLE_S + CLIT_QUERY_S * a.sampler.pixels * stages
                      + CLIT_MAP_PX_S * CLIT_MAP_AREA[a.name])
        validations = math.ceil(a.optim.steps / ours.loop.validate_every)  # and at the end
        hours.append((a.optim.steps * a.optim.batch * per_sample + validations * CLIT_VALIDATION_S) / 3600)
    assert max(hours) <= 2.5 and sum(hours) <= 5, hours


@pytest.mark.parametrize("method", sorted(set(SHIPPED_RECIPES) - set(CPU_RECIPES) - {"cisrgan", "clit"}))
def test_shipped_recipes_follow_their_paper_recipe(method: str) -> None:
    """Same sampler, model, losses and optimiser; own data, iteration count (milestones at
    20/40/60/80 %), logging cadence and float16 export."""
    ours = load_recipe(SHIPPED_RECIPES[method])
    paper = load_recipe(f"paper/{method}-edsr")
    assert ours.method == paper.method and ours.seed == paper.seed
    assert ours.data == ((REPO_ROOT.parent / "shared" / "data" / "train").resolve(),)
    assert ours.export_dtype == "float16" and ours.validation_dir == paper.validation_dir
    assert any("../shared/data/train" in note for note in ours.deviations)
    assert [p.name for p in ours.phases] == [p.name for p in paper.phases]
    for a, b in zip(ours.phases, paper.phases):
        assert a.sampler == b.sampler and a.loss == b.loss and a.init_previous == b.init_previous
        assert a.model == b.model
        assert replace(a.optim, steps=0, milestones=()) == replace(b.optim, steps=0, milestones=())
        if b.optim.milestones:
            assert a.optim.milestones == tuple(a.optim.steps * k // 5 for k in range(1, 5))
        assert a.optim.steps < b.optim.steps


def test_recipe_errors_name_the_key() -> None:
    raw = {"name": "x", "method": "liif", "data": {"train": ["d"]},
           "model": {"arch": "liif"}, "optim": {"batch": 2, "steps": 3, "lr": 1e-4},
           "sampler": {"kind": "pixels", "scales": [{"uniform": [1, 4]}]}}
    assert parse(raw).phases[0].sampler.lr_size == 48
    with pytest.raises(RecipeError, match="unknown key.*optim.*lrr"):
        parse({**raw, "optim": {**raw["optim"], "lrr": 1}})
    with pytest.raises(RecipeError, match="architecture 'liif', not 'lte'"):
        parse({**raw, "model": {"arch": "lte"}})
    with pytest.raises(RecipeError, match="scale_per"):
        parse({**raw, "sampler": {"kind": "full", "scales": [{"choice": [2, 3]}]}})
    with pytest.raises(RecipeError, match="only meaningful for CLIT"):
        parse({**raw, "sampler": {"kind": "pixels", "scale_per": "batch",
                                  "scales": [{"uniform": [1, 4]}, {"uniform": [1, 4]}]}})
    with pytest.raises(RecipeError, match="pixels"):
        parse({**raw, "sampler": {"kind": "pixels", "pixels": 3000, "scales": [{"uniform": [1, 4]}]}})
    with pytest.raises(RecipeError, match="ipe_bands needs model.arch 'ipe'"):
        parse({**raw, "optim": {**raw["optim"], "ipe_bands": 3}})
    ipe = {**raw, "method": "ipe", "model": {"arch": "ipe", "config": {"n_freqs": 4}}}
    assert parse({**ipe, "optim": {**raw["optim"], "ipe_bands": 4}}).phases[0].optim.ipe_bands == 4
    with pytest.raises(RecipeError, match="from 1 to its n_freqs"):
        parse({**ipe, "optim": {**raw["optim"], "ipe_bands": 5}})
