"""Training recipes: TOML files under ``training/configs`` parsed into frozen dataclasses.

A recipe names its ``method``, may list its ``deviations`` from the paper, and holds the
tables ``data``, ``model``, ``sampler``, ``optim``, ``loss``, ``init``, ``loop``,
``validation``, ``export`` and optionally ``[[phases]]``: training runs one after the other
(CLIT: LIT → CLIT-2 → CLIT-3), each deep-merging its own keys over the top-level ``model``,
``sampler``, ``optim`` and ``loss``. Unknown keys are errors. Relative paths inside a recipe
are relative to the repository root.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sr_core.architectures import ARCHITECTURE_SPECS, ARCHITECTURES, SPECS, TRAINING
from sr_core.registry import METHODS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
#: the recipe behind each shipped checkpoint (``python -m training reproduce METHOD``)
SHIPPED_RECIPES = {spec.name: spec.recipe for spec in SPECS if spec.recipe}
SAMPLER_KINDS = ("pixels", "full", "window")
#: what stands in for ImageNet VGG-19 when no weights are given (``loss.perceptual.substitute``)
PERCEPTUAL_SUBSTITUTES = ("random", "liif-encoder", "none")
AUGMENTATIONS = ("hflip", "vflip", "transpose", "rot90")
#: the architectures whose training takes one sampler distribution per cascade stage
CASCADES = tuple(arch for arch, hooks in TRAINING.items() if hooks.cascade)
#: the architectures whose phases can hold back encoding bands (``optim.ipe_bands``)
BANDED = tuple(arch for arch, hooks in TRAINING.items() if hooks.band_setting)
PHASE_KEYS = ("model", "sampler", "optim", "loss")


class RecipeError(ValueError):
    """A recipe that cannot be used, with the offending key in the message."""


@dataclass(frozen=True)
class ScaleDist:
    """A scale distribution: ``uniform = [lo, hi]`` or ``choice = [s1, s2, …]``."""

    uniform: tuple[float, float] | None = None
    choice: tuple[float, ...] | None = None

    def draw(self, rng: np.random.Generator) -> float:
        if self.uniform is not None:
            return float(rng.uniform(*self.uniform))
        assert self.choice is not None
        return float(self.choice[rng.integers(len(self.choice))])

    @property
    def max(self) -> float:
        return self.uniform[1] if self.uniform is not None else max(self.choice or (1.0,))

    @property
    def min(self) -> float:
        return self.uniform[0] if self.uniform is not None else min(self.choice or (1.0,))


@dataclass(frozen=True)
class SamplerSpec:
    """How one training sample is cut (METHODS_SPEC §4.1, §4.2).

    ``pixels``: LR ``lr_size`` square, HR crop ``round(lr_size·s)``, ``pixels`` random HR pixels.
    ``full``: HR crop ``hr_size`` square, LR ``round(hr_size/s)``, every HR pixel (DIIF's groups).
    ``window``: like ``pixels`` but a random contiguous ``window``² block of HR pixels.
    ``scales`` has one distribution per cascade stage (CLIT); ``stage_cycle`` is the repeating
    sequence of stage counts of successive batches (the cumulative training of CLIT).
    """

    kind: str
    scales: tuple[ScaleDist, ...]
    scale_per: str = "sample"
    lr_size: int = 48
    hr_size: int = 192
    pixels: int = 2304
    window: int = 64
    stage_cycle: tuple[int, ...] = (1,)
    augment: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    arch: str
    config: dict[str, Any]


@dataclass(frozen=True)
class OptimSpec:
    """Adam with a multistep schedule; every count is in iterations (batches)."""

    batch: int
    steps: int
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    milestones: tuple[int, ...] = ()
    gamma: float = 0.5
    #: parameter-name prefixes kept fixed (``["encoder"]``: no encoder backward at all)
    freeze: tuple[str, ...] = ()
    #: IPE-LIIF only: the weights reading its encoding's bands ≥ this are zeroed at the phase's
    #: start and kept there (learning rate zero); None: every band trains
    ipe_bands: int | None = None

    def lr_at(self, step: int, base: float | None = None) -> float:
        """Learning rate of iteration ``step`` (0-based): ×gamma at each milestone passed."""
        passed = sum(step >= m for m in self.milestones)
        return (self.lr if base is None else base) * self.gamma ** passed


@dataclass(frozen=True)
class GanSpec:
    """Relativistic-average GAN with the ESRGAN VGG-style discriminator (METHODS_SPEC §3.6)."""

    weight: float
    lr: float
    betas: tuple[float, float]
    features: int = 64


@dataclass(frozen=True)
class PerceptualSpec:
    """VGG-19 feature L1 (before the ReLU of layer ``layer``; 34 = conv5_4).

    ``weights``: a torchvision-layout VGG-19 state dict (usually given by --vgg19-weights);
    without it the recipe's ``substitute`` is used: ``random`` (a frozen VGG-19 with a seeded
    random initialisation), ``liif-encoder`` (the frozen encoder of the run's initial
    checkpoint, e.g. the LIIF authors' EDSR-baseline, as the feature space; ``layer`` and
    ``widths`` then do not apply) or ``none`` (the term is dropped). ``weight`` is the term's
    weight on VGG-19; ``substitute_weight`` (default ``weight``) replaces it when a substitute
    stands in, whose features have another scale. ``widths`` exist for tests.
    """

    weight: float
    layer: int = 34
    weights: str = ""
    substitute: str = "random"
    substitute_weight: float | None = None
    widths: tuple[int, ...] = (64, 128, 256, 512, 512)

    def weight_for(self, substitute: bool) -> float:
        """The term's weight on ImageNet VGG-19 (False) or on the substitute (True)."""
        return self.substitute_weight if substitute and self.substitute_weight is not None else self.weight


@dataclass(frozen=True)
class ContinuitySpec:
    """A continuity term at zooms beyond the training data: at an integer output scale drawn from
    ``scales`` (once per batch), ``pairs`` random input-pixel borders per sample, inside a random
    ``window``² block of LR pixels, are each queried at the four output pixels across them
    (``b−2, b−1 | b, b+1``). The term is ``weight · |step across − mean of the steps beside|``: a
    jump at the border costs, a smooth gradient does not. It needs no ground truth, so it reaches
    scales whose HR crops the photos are too small for."""

    weight: float
    scales: tuple[int, int] = (8, 48)
    pairs: int = 64
    window: int = 6


@dataclass(frozen=True)
class LossSpec:
    l1: float = 1.0
    gan: GanSpec | None = None
    perceptual: PerceptualSpec | None = None
    continuity: ContinuitySpec | None = None


@dataclass(frozen=True)
class Phase:
    """One training run of the recipe; ``init_previous``: start from the previous phase."""

    name: str
    model: ModelSpec
    sampler: SamplerSpec
    optim: OptimSpec
    loss: LossSpec
    init_previous: bool


@dataclass(frozen=True)
class LoopSpec:
    log_every: int = 100
    checkpoint_every: int = 5000
    validate_every: int = 10000
    amp: str = "bf16"
    compile: bool = False
    workers: int = 8


@dataclass(frozen=True)
class Recipe:
    name: str
    method: str
    description: str
    #: how the recipe departs from its paper (copied into the checkpoint metadata)
    deviations: tuple[str, ...]
    seed: int
    data: tuple[Path, ...]
    phases: tuple[Phase, ...]
    init_checkpoint: str
    init_required: bool
    loop: LoopSpec
    validation_dir: Path | None
    validation_scale: int
    export_dtype: str
    raw: dict[str, Any]

    @property
    def digest(self) -> str:
        """sha256 of the recipe's content except what does not change the weights (name,
        description, deviations, validation); a run can only be resumed with the same digest."""
        content = {k: v for k, v in self.raw.items()
                   if k not in ("name", "description", "deviations", "validation")}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def resolve_config(name: str | Path) -> Path:
    """A recipe file from a path or a name under ``training/configs`` (``paper/liif-edsr``)."""
    path = Path(name)
    if path.is_file():
        return path
    candidate = CONFIG_DIR / f"{name}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(list_configs())
    raise RecipeError(f"no recipe {str(name)!r}: not a file, and not one of: {known}")


def list_configs() -> list[str]:
    """Names of the recipes under ``training/configs``."""
    return sorted(p.relative_to(CONFIG_DIR).with_suffix("").as_posix()
                  for p in CONFIG_DIR.rglob("*.toml"))


def load_recipe(name: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read and check a recipe; ``overrides`` are deep-merged over the file's content
    (a ``phases`` list is merged element by element)."""
    path = resolve_config(name)
    with open(path, "rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise RecipeError(f"{path}: {err}") from err
    if overrides:
        raw = merge(raw, overrides)
    try:
        return parse(raw)
    except RecipeError as err:
        raise RecipeError(f"{path}: {err}") from None


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of two TOML tables (``over`` wins; lists of tables merge by index)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = merge(old, value)
        elif (isinstance(value, list) and isinstance(old, list) and value
              and all(isinstance(v, dict) for v in value + old)):
            out[key] = [merge(old[i], value[i]) if i < len(value) else old[i]
                        for i in range(len(old))] + copy.deepcopy(value[len(old):])
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse(raw: dict[str, Any]) -> Recipe:
    """A :class:`Recipe` from a TOML table (see the module docstring for the layout)."""
    top = _Table(raw, "")
    name = top.get("name", str)
    method = top.get("method", str)
    if method not in METHODS or not METHODS[method].needs_weights:
        raise RecipeError(f"method {method!r} is not a trainable method")
    data = _Table(top.get("data", dict), "data")
    train = data.get("train", list)
    data.done()
    if not train or not all(isinstance(p, str) for p in train):
        raise RecipeError("data.train must be a non-empty list of folders")
    roots = tuple(_repo_path(p) for p in train)
    init = _Table(top.get("init", dict, {}), "init")
    init_checkpoint = init.get("checkpoint", str, "")
    init_required = init.get("required", bool, False)
    init.done()
    loop = _loop(_Table(top.get("loop", dict, {}), "loop"))
    val = _Table(top.get("validation", dict, {}), "validation")
    val_dir = val.get("hr_dir", str, "")
    val_scale = val.get("scale", int, 4)
    val.done()
    export = _Table(top.get("export", dict, {}), "export")
    export_dtype = export.get("dtype", str, "float32")
    export.done()
    if export_dtype not in ("float32", "float16", "bfloat16"):
        raise RecipeError(f"export.dtype {export_dtype!r} must be float32, float16 or bfloat16")
    shared = {k: top.get(k, dict, {}) for k in PHASE_KEYS}
    phase_tables = top.get("phases", list, [{}])
    description = top.get("description", str, "")
    deviations = tuple(top.get("deviations", list, []))
    seed = top.get("seed", int, 0)
    top.done()
    phases = []
    for i, table in enumerate(phase_tables):
        merged = merge(shared, {k: v for k, v in table.items() if k in PHASE_KEYS})
        extra = _Table({k: v for k, v in table.items() if k not in PHASE_KEYS}, f"phases[{i}]")
        phase_name = extra.get("name", str, "main")
        init_previous = extra.get("init", str, "") == "previous"
        extra.done()
        if init_previous and i == 0:
            raise RecipeError("phases[0] cannot start from a previous phase")
        phases.append(_phase(phase_name, merged, init_previous, method))
    if not all(isinstance(d, str) for d in deviations):
        raise RecipeError("deviations must be a list of strings")
    return Recipe(name=name, method=method, description=description, deviations=deviations,
                  seed=seed, data=roots,
                  phases=tuple(phases), init_checkpoint=init_checkpoint,
                  init_required=init_required, loop=loop,
                  validation_dir=_repo_path(val_dir) if val_dir else None,
                  validation_scale=val_scale, export_dtype=export_dtype, raw=raw)


class _Table:
    """Typed access to a TOML table that reports unknown and missing keys."""

    _MISSING = object()

    def __init__(self, table: dict[str, Any], where: str) -> None:
        self.table, self.where, self.used = table, where, set()

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        self.used.add(key)
        name = f"{self.where}.{key}" if self.where else key
        if key not in self.table:
            if default is self._MISSING:
                raise RecipeError(f"missing key {name}")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise RecipeError(f"{name} must be a {kind.__name__}, got {value!r}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise RecipeError(f"unknown key(s) in {self.where or 'the recipe'}: {', '.join(unknown)}")


def _repo_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def _loop(t: _Table) -> LoopSpec:
    spec = LoopSpec(log_every=t.get("log_every", int, 100),
                    checkpoint_every=t.get("checkpoint_every", int, 5000),
                    validate_every=t.get("validate_every", int, 10000),
                    amp=t.get("amp", str, "bf16"), compile=t.get("compile", bool, False),
                    workers=t.get("workers", int, 8))
    t.done()
    if spec.amp not in ("bf16", "none"):
        raise RecipeError(f"loop.amp must be 'bf16' or 'none', got {spec.amp!r}")
    if min(spec.log_every, spec.checkpoint_every, spec.validate_every) < 1 or spec.workers < 0:
        raise RecipeError("loop intervals must be ≥ 1 and loop.workers ≥ 0")
    return spec


def _phase(name: str, t: dict[str, Any], init_previous: bool, method: str) -> Phase:
    where = f"phase {name!r}: " if name != "main" else ""
    try:
        model_t = _Table(t["model"], "model")
        model = ModelSpec(model_t.get("arch", str), model_t.get("config", dict, {}))
        model_t.done()
        if model.arch not in ARCHITECTURES or not ARCHITECTURES[model.arch].needs_weights:
            raise RecipeError(f"model.arch {model.arch!r} is not a trainable architecture")
        if METHODS[method].arch != model.arch:
            raise RecipeError(f"method {method!r} uses architecture {METHODS[method].arch!r}, "
                              f"not {model.arch!r}")
        sampler = _sampler(_Table(t["sampler"], "sampler"), model.arch)
        optim = _optim(_Table(t["optim"], "optim"))
        loss = _loss(_Table(t["loss"], "loss"))
    except RecipeError as err:
        raise RecipeError(f"{where}{err}") from None
    if loss.gan is not None and sampler.kind != "window":
        raise RecipeError(f"{where}the GAN and perceptual losses need sampler.kind = 'window'")
    bands = TRAINING[model.arch].band_setting
    if optim.ipe_bands is not None and not (bands and 1 <= optim.ipe_bands <= _setting(model, bands)):
        raise RecipeError(f"{where}optim.ipe_bands needs model.arch {' or '.join(map(repr, BANDED))} and a "
                          f"value from 1 to its {bands or 'band count'}")
    return Phase(name, model, sampler, optim, loss, init_previous)


def _setting(model: ModelSpec, key: str) -> Any:
    """``model.config[key]``, else the architecture's default for it."""
    default = inspect.signature(ARCHITECTURES[model.arch]).parameters[key].default
    return model.config.get(key, default)


def _scale(obj: Any, where: str) -> ScaleDist:
    if not isinstance(obj, dict) or len(obj) != 1:
        raise RecipeError(f"{where} must be {{ uniform = [lo, hi] }} or {{ choice = [...] }}")
    (kind, values), = obj.items()
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
        raise RecipeError(f"{where}.{kind} must be a list of numbers")
    values = tuple(float(v) for v in values)
    if min(values) < 1:
        raise RecipeError(f"{where}: scales below 1 are not super-resolution")
    if kind == "uniform" and len(values) == 2 and values[0] <= values[1]:
        return ScaleDist(uniform=(values[0], values[1]))
    if kind == "choice":
        return ScaleDist(choice=values)
    raise RecipeError(f"{where} must be {{ uniform = [lo, hi] }} (lo ≤ hi) or {{ choice = [...] }}")


def _names(archs: Iterable[str]) -> str:
    """The display names of architectures' methods, e.g. ``CLIT``."""
    return " or ".join(ARCHITECTURE_SPECS[arch].display_name for arch in archs)


def _sampler(t: _Table, arch: str) -> SamplerSpec:
    kind = t.get("kind", str)
    if kind not in SAMPLER_KINDS:
        raise RecipeError(f"sampler.kind must be one of {', '.join(SAMPLER_KINDS)}")
    scales = tuple(_scale(s, f"sampler.scales[{i}]") for i, s in enumerate(t.get("scales", list)))
    spec = SamplerSpec(
        kind=kind, scales=scales, scale_per=t.get("scale_per", str, "sample"),
        lr_size=t.get("lr_size", int, 48), hr_size=t.get("hr_size", int, 192),
        pixels=t.get("pixels", int, 2304), window=t.get("window", int, 64),
        stage_cycle=tuple(t.get("stage_cycle", list, [len(scales)])),
        augment=tuple(t.get("augment", list, [])))
    t.done()
    if not scales:
        raise RecipeError("sampler.scales needs at least one distribution")
    if spec.scale_per not in ("sample", "batch"):
        raise RecipeError("sampler.scale_per must be 'sample' or 'batch'")
    cascade = TRAINING[arch].cascade
    if len(scales) > 1 and not cascade:
        raise RecipeError(f"several stage scales are only meaningful for {_names(CASCADES)}")
    if cascade and spec.scale_per != "batch":
        raise RecipeError(f"{_names([arch])} draws its scales once per batch: set sampler.scale_per = 'batch'")
    if kind == "full" and spec.scale_per != "batch":
        raise RecipeError("sampler.kind 'full' needs scale_per = 'batch' (one LR size per batch)")
    if any(not isinstance(n, int) or not 1 <= n <= len(scales) for n in spec.stage_cycle):
        raise RecipeError(f"sampler.stage_cycle entries must lie in 1…{len(scales)}")
    if unknown := set(spec.augment) - set(AUGMENTATIONS):
        raise RecipeError(f"unknown augmentation(s) {sorted(unknown)}; known: {AUGMENTATIONS}")
    if kind == "pixels" and not 1 <= spec.pixels <= spec.lr_size ** 2:
        raise RecipeError(f"sampler.pixels must lie in 1…lr_size² = {spec.lr_size ** 2}")
    smallest_crop = math.floor(spec.lr_size * max(1.0, math.prod(d.min for d in scales)))
    if kind == "window" and not 1 <= spec.window <= smallest_crop:
        raise RecipeError(f"sampler.window must lie in 1…{smallest_crop} (lr_size × the smallest scale: "
                          "the smallest HR crop)")
    if kind == "full" and spec.hr_size < math.ceil(max(d.max for d in scales)):
        raise RecipeError("sampler.hr_size is smaller than the largest scale")
    return spec


def _betas(t: _Table, default: list[float]) -> tuple[float, float]:
    betas = t.get("betas", list, default)
    if len(betas) != 2 or not all(isinstance(b, (int, float)) for b in betas):
        raise RecipeError(f"{t.where}.betas must be two numbers")
    return float(betas[0]), float(betas[1])


def _optim(t: _Table) -> OptimSpec:
    spec = OptimSpec(batch=t.get("batch", int), steps=t.get("steps", int), lr=t.get("lr", float),
                     betas=_betas(t, [0.9, 0.999]),
                     milestones=tuple(t.get("milestones", list, [])),
                     gamma=t.get("gamma", float, 0.5),
                     freeze=tuple(t.get("freeze", list, [])),
                     ipe_bands=t.get("ipe_bands", int, None))
    t.done()
    if not all(isinstance(f, str) and f for f in spec.freeze):
        raise RecipeError("optim.freeze must list parameter-name prefixes, e.g. [\"encoder\"]")
    if spec.batch < 1 or spec.steps < 1 or spec.lr <= 0:
        raise RecipeError("optim.batch, optim.steps and optim.lr must be positive")
    milestones = list(spec.milestones)
    if any(not isinstance(m, int) for m in milestones) or milestones != sorted(milestones):
        raise RecipeError("optim.milestones must be increasing iteration numbers")
    return spec


def _loss(t: _Table) -> LossSpec:
    l1 = t.get("l1", float, 1.0)
    gan = perceptual = None
    if "gan" in t.table:
        g = _Table(t.get("gan", dict), "loss.gan")
        gan = GanSpec(weight=g.get("weight", float), lr=g.get("lr", float),
                      betas=_betas(g, [0.9, 0.99]), features=g.get("features", int, 64))
        g.done()
    if "perceptual" in t.table:
        p = _Table(t.get("perceptual", dict), "loss.perceptual")
        perceptual = PerceptualSpec(weight=p.get("weight", float), layer=p.get("layer", int, 34),
                                    weights=p.get("weights", str, ""),
                                    substitute=p.get("substitute", str, "random"),
                                    substitute_weight=p.get("substitute_weight", float, None),
                                    widths=tuple(p.get("widths", list, [64, 128, 256, 512, 512])))
        p.done()
        if perceptual.substitute not in PERCEPTUAL_SUBSTITUTES:
            raise RecipeError("loss.perceptual.substitute must be one of "
                              f"{', '.join(map(repr, PERCEPTUAL_SUBSTITUTES))}, "
                              f"got {perceptual.substitute!r}")
        if min(perceptual.weight, perceptual.weight_for(True)) <= 0:
            raise RecipeError("loss.perceptual.weight and substitute_weight must be positive")
        if len(perceptual.widths) != 5:
            raise RecipeError("loss.perceptual.widths needs the 5 VGG-19 block widths")
    continuity = _continuity(_Table(t.get("continuity", dict), "loss.continuity")) if "continuity" in t.table else None
    t.done()
    if (gan is None) != (perceptual is None):
        raise RecipeError("loss.gan and loss.perceptual come together (CiSRGAN) or not at all")
    if continuity is not None and gan is not None:
        raise RecipeError("loss.continuity is an L1 recipe's term; a GAN recipe does not take it")
    return LossSpec(l1=l1, gan=gan, perceptual=perceptual, continuity=continuity)


def _continuity(t: _Table) -> ContinuitySpec:
    scales = t.get("scales", list, [8, 48])
    spec = ContinuitySpec(weight=t.get("weight", float), pairs=t.get("pairs", int, 64),
                          window=t.get("window", int, 6), scales=tuple(scales))
    t.done()
    if not spec.weight > 0 or spec.pairs < 1 or spec.window < 2:
        raise RecipeError("loss.continuity needs weight > 0, pairs ≥ 1 and window ≥ 2")
    if len(scales) != 2 or not all(isinstance(v, int) for v in scales) or not 2 <= scales[0] <= scales[1]:
        raise RecipeError("loss.continuity.scales must be two integers 2 ≤ lo ≤ hi")
    return spec
