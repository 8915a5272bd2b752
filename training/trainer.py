"""The training loop: phases of a recipe, checkpoints, resume, validation, logs and export.

One process, or one per GPU under ``torchrun`` (DistributedDataParallel). Rank 0 writes the
training state (every ``checkpoint_every`` steps, at the end of each phase, and on Ctrl-C /
SIGTERM), validates, logs and exports; every rank computes the same global batches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from sr_core import checkpoints
from sr_core.architectures import TRAINING, build
from sr_core.devices import device_label
from sr_core.display_precision import native_bf16
from sr_core.memory import keep_freed_blocks
from sr_core.methods.base import SRMethod
from sr_core.paths import checkpoints_dir
from sr_core.registry import METHODS
from training import distributed, state
from training.discriminator import Discriminator
from training.export import export, file_sha256
from training.images import ImageStore, Manifest
from training.objectives import GANObjective, L1Objective, QueryModel, lr_factors
from training.recipe import REPO_ROOT, Phase, Recipe, RecipeError
from training.runlog import RunLog
from training.sampling import TrainingBatches
from training.validation import ValidationSet
from training.vgg import EncoderFeatures, VGG19Features
from training.warm_start import LrScale, WarmStartError, warm_start, zero_ranges

STATE_FILE = "state.pt"


@dataclass(frozen=True)
class RunOptions:
    """How to run a recipe (the command line's options); the final checkpoint is written to
    ``<out_dir>/<method>.safetensors``, the training state to ``<out_dir>/state.pt``."""

    out_dir: Path
    resume: bool = False
    device: str = "auto"
    #: None: as the recipe says
    compile: bool | None = None
    workers: int | None = None
    #: cut every phase to this many steps (smoke tests); the export is then ``trained: false``
    max_steps: int | None = None
    #: checkpoint to start from instead of the recipe's ``init.checkpoint``
    init: Path | None = None
    #: skip the phases before this one: ``init`` holds their result (same architecture), e.g.
    #: a shipped checkpoint that a recipe's new last phase continues
    from_phase: str | None = None
    vgg19_weights: Path | None = None
    progress: bool = True


@dataclass
class RunResult:
    completed: bool
    checkpoint: Path | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


def train(recipe: Recipe, opts: RunOptions) -> RunResult:
    """Run (or resume) ``recipe``; returns where the final checkpoint went (rank 0)."""
    keep_freed_blocks()  # a step's activations reuse the last step's memory (5–18 % a bf16 step)
    ctx = distributed.setup(opts.device)
    try:
        return _Run(recipe, opts, ctx).run()
    finally:
        distributed.teardown(ctx)


class StopRequest:
    """Turns the first SIGINT/SIGTERM into a request to stop after the current step
    (then the state is saved); a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Handle the signals inside the block (only the main thread can; elsewhere, no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def ignore_interrupts(worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which stops after its step."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def resolve_init(source: str | Path) -> Path:
    """A method name means its shipped checkpoint; anything else is a path (recipe paths are
    relative to the repository root)."""
    if isinstance(source, str) and source in METHODS:
        return checkpoints_dir() / f"{source}.safetensors"
    path = Path(source)
    return path if path.is_absolute() else REPO_ROOT / path


LIIF_ENCODER_NEEDS = ("loss.perceptual.substitute = 'liif-encoder' uses the encoder of the "
                      "initial checkpoint")


def encoder_features(path: Path, method: SRMethod,
                     expect_sha256: str | None = None) -> tuple[EncoderFeatures, str]:
    """The perceptual substitute ``liif-encoder``: a frozen copy of the encoder of the checkpoint
    at ``path``, which must be trained and hold the generator's encoder architecture (the one
    the generator starts from); ``expect_sha256``: the file a resumed run started from. Returns
    the feature network and the deviation note that records it."""
    if not path.is_file():
        raise FileNotFoundError(f"{LIIF_ENCODER_NEEDS}: {path} not found (pass --init PATH)")
    sha256 = file_sha256(path)
    if expect_sha256 is not None and expect_sha256 != sha256:
        raise RecipeError(f"{LIIF_ENCODER_NEEDS}: {path} changed since this run started from it "
                          f"(sha256 {expect_sha256[:12]}… → {sha256[:12]}…)")
    model, meta = checkpoints.load(path)
    if meta.get("trained") is not True:
        raise RecipeError(f"{LIIF_ENCODER_NEEDS}: {path} holds untrained weights")
    theirs_enc, ours_enc = getattr(model, "encoder", None), method.encoder
    if theirs_enc is None or ours_enc is None:
        raise RecipeError(f"{LIIF_ENCODER_NEEDS}: {path} ({model.arch}) has no encoder")
    theirs, ours = theirs_enc.state_dict(), ours_enc.state_dict()
    if theirs.keys() != ours.keys() or any(theirs[k].shape != ours[k].shape for k in ours):
        cfg, own = model.config(), method.config()
        raise RecipeError(f"{LIIF_ENCODER_NEEDS}, which must be the generator's encoder: {path} "
                          f"holds {cfg.get('encoder')!r} {cfg.get('encoder_args', {})}, the generator "
                          f"{own.get('encoder')!r} {own.get('encoder_args', {})}")
    summary = (meta.get("provenance") or {}).get("summary", "no provenance")
    note = ("perceptual loss: L1 between the features of the frozen encoder of the initial "
            f"checkpoint {path.name} ({meta['method']}, {model.config().get('encoder')}: {summary}; "
            f"sha256 {sha256[:12]}…) on the [0, 1] windows normalised as that encoder expects "
            "(sub 0.5, div 0.5), instead of ImageNet VGG-19 conv5_4: no VGG-19 weights were given "
            "(--vgg19-weights)")
    return EncoderFeatures(theirs_enc), note


class _Run:
    def __init__(self, recipe: Recipe, opts: RunOptions, ctx: distributed.Context) -> None:
        self.recipe, self.opts, self.ctx = recipe, opts, ctx
        self.device = ctx.device
        self.steps = [p.optim.steps if opts.max_steps is None else min(p.optim.steps, opts.max_steps)
                      for p in recipe.phases]
        self.first = self._first_phase()
        self.truncated = self.steps != [p.optim.steps for p in recipe.phases]
        # bf16 autocast where matrix products run natively in bf16 (CUDA; CPUs with AVX-512
        # BF16 or AMX: 1.25-2.5x per UltraSR CPU step, docs/TRAINING.md "Training on a CPU")
        self.amp = recipe.loop.amp == "bf16" and native_bf16(self.device)
        self.compile = recipe.loop.compile if opts.compile is None else opts.compile
        # the recipe's worker count is for a GPU box; never more than this machine's cores
        self.workers = (min(recipe.loop.workers, os.cpu_count() or 1) if opts.workers is None
                        else opts.workers)
        self.metrics: dict[str, Any] = {}
        self.deviations = list(recipe.deviations)
        self.init_info: dict[str, Any] | None = None
        self.vgg_weights: dict[str, str] | None = None
        self.elapsed = 0.0
        self.data_sha256 = ""
        self.log: RunLog | None = None

    # -- setup -------------------------------------------------------------------------------
    def _first_phase(self) -> int:
        """Index of the first phase to run: 0, or ``opts.from_phase``'s."""
        if self.opts.from_phase is None:
            return 0
        names = [p.name for p in self.recipe.phases]
        if self.opts.from_phase not in names:
            raise RecipeError(f"--from-phase {self.opts.from_phase!r}: {self.recipe.name} has the phases "
                              f"{', '.join(names)}")
        if self.opts.init is None:
            raise RecipeError("--from-phase needs --init: the checkpoint that the earlier phases produced")
        return names.index(self.opts.from_phase)

    def _open_state(self) -> dict[str, Any] | None:
        path = self.opts.out_dir / STATE_FILE
        if not self.opts.resume:
            if path.exists():
                raise RuntimeError(f"{path} exists: pass --resume to continue that run, or choose "
                                   "another --out")
            return None
        if not path.exists():
            raise RuntimeError(f"--resume: no training state at {path}")
        saved = state.load(path)
        if saved["recipe_sha256"] != self.recipe.digest:
            raise RuntimeError(f"{path} was written by a different recipe; resume with the same one")
        if saved["phase_steps"] != self.steps:
            raise RuntimeError(f"{path} was written with steps {saved['phase_steps']}, "
                               f"not {self.steps}")
        return saved

    def run(self) -> RunResult:
        saved = self._open_state()
        if self.ctx.is_main:
            self.opts.out_dir.mkdir(parents=True, exist_ok=True)
        store, manifest = ImageStore.load(self.recipe.data)
        if saved is not None and saved["data_sha256"] != manifest.sha256:
            raise RuntimeError("the training images changed since the saved state was written "
                               f"(manifest {saved['data_sha256'][:12]}… → "
                               f"{manifest.sha256[:12]}…)")
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # LR sizes repeat (one, or a few per recipe)
        self.data_sha256 = manifest.sha256
        vset = self._validation_set()
        if saved is not None:
            self.elapsed, self.metrics = saved["elapsed_s"], dict(saved["metrics"])
            self.init_info, self.deviations = saved["init"], list(saved["deviations"])
        self.log = RunLog(self.opts.out_dir) if self.ctx.is_main else None
        try:
            weights: dict[str, Tensor] | None = None
            method: SRMethod | None = None
            for p in range(saved["phase"] if saved else self.first, len(self.recipe.phases)):
                resumed = saved if saved is not None and saved["phase"] == p else None
                method, completed = self._phase(p, store, vset, weights, resumed)
                if not completed:
                    return RunResult(False, metrics=self.metrics)
                weights = method.state_dict()
            assert method is not None
            return self._finish(method, manifest)
        finally:
            if self.log is not None:
                self.log.close()

    def _validation_set(self) -> ValidationSet | None:
        folder = self.recipe.validation_dir
        if not self.ctx.is_main or folder is None:
            return None
        if not folder.is_dir():
            print(f"warning: validation folder {folder} not found; training without validation")
            return None
        return ValidationSet.load(folder, self.recipe.validation_scale)

    def _build(self, p: int, phase: Phase, previous: dict[str, Tensor] | None,
               resuming: bool) -> SRMethod:
        """Phase ``p``'s model, initialised from the previous phase or the recipe's checkpoint
        (not when resuming: the saved state then provides the weights)."""
        torch.manual_seed(self.recipe.seed + 1000 * p)
        method = build(phase.model.arch, phase.model.config)
        hooks = TRAINING[method.arch]
        if hooks.stages is not None and hooks.stages(method) != len(phase.sampler.scales):
            stages = hooks.stages(method)
            raise RecipeError(f"phase {phase.name!r}: a {stages}-stage {METHODS[self.recipe.method].display_name} "
                              f"needs {stages} sampler.scales, got {len(phase.sampler.scales)}")
        if not resuming and 0 < p == self.first:
            self._load_earlier_phases(method)
        elif not resuming and phase.init_previous:
            assert previous is not None
            own = method.state_dict()
            bad = [k for k, v in previous.items() if k not in own or own[k].shape != v.shape]
            if bad:
                raise RecipeError(f"phase {phase.name!r} cannot start from the previous phase: "
                                  f"{', '.join(bad[:5])} do not match")
            method.load_state_dict(previous, strict=False)
            if hooks.new_stages is not None:
                hooks.new_stages(method, previous.keys())
        elif not resuming and p == 0:
            self._load_init(method)
        if not resuming:
            zero_ranges(method, self._held(phase, method))
        return method.to(self.device)

    @staticmethod
    def _held(phase: Phase, method: SRMethod) -> LrScale:
        """The weights the phase keeps at zero (``optim.ipe_bands``, checked by the recipe)."""
        held_bands = TRAINING[method.arch].held_bands
        if phase.optim.ipe_bands is None or held_bands is None:
            return {}
        return held_bands(method, phase.optim.ipe_bands)

    def _load_init(self, method: SRMethod) -> None:
        source = self.opts.init or self.recipe.init_checkpoint
        if not source:
            if self.recipe.init_required:
                raise RecipeError(f"{self.recipe.name} starts from a pretrained model: "
                                  "pass --init PATH")
            return
        path = resolve_init(source)
        if not path.is_file():
            raise FileNotFoundError(f"initial checkpoint {path} not found (train or import it first, "
                                    "or pass --init PATH)")
        model, meta = checkpoints.load(path)
        if meta.get("trained") is not True:
            raise RecipeError(f"{path} holds untrained weights; refusing to start from them")
        try:
            start = warm_start(model, method)
        except WarmStartError as err:
            raise RecipeError(f"{path} holds {model.arch} {model.config()}: {err}") from err
        self.init_info = {"checkpoint": str(path), "sha256": file_sha256(path),
                          "method": meta["method"], "provenance": meta.get("provenance"),
                          "recipe": meta.get("training", {}).get("recipe_name"), **start.as_dict()}

    def _load_earlier_phases(self, method: SRMethod) -> None:
        """``--from-phase``: the weights the skipped phases produced, from ``--init`` (the same
        architecture and configuration, tensor for tensor)."""
        assert self.opts.init is not None
        path = resolve_init(self.opts.init)
        model, meta = checkpoints.load(path)
        if meta.get("trained") is not True:
            raise RecipeError(f"{path} holds untrained weights; refusing to start from them")
        if model.arch != method.arch or model.config() != method.config():
            raise RecipeError(f"--from-phase: {path} holds {model.arch} {model.config()}, the phase "
                              f"trains {method.arch} {method.config()}")
        method.load_state_dict(model.state_dict())
        sha = file_sha256(path)
        earlier = meta.get("training", {})
        # the run's origin and time are those of the phases that produced the file, plus this one's
        start = dict(earlier.get("init") or {})
        link = {"checkpoint": str(path), "sha256": sha, "recipe": earlier.get("recipe_name"),
                "from_phase": self.opts.from_phase}
        self.init_info = {**start, "continued": [*start.get("continued", []), link]}
        self.elapsed += float(earlier.get("wall_time_s", 0.0))
        for note in earlier.get("deviations", []):
            self._deviate(note)
        self._deviate(f"the phases before {self.opts.from_phase!r} were not rerun: it started from "
                      f"{path.name} (sha256 {sha[:12]}…, recipe {earlier.get('recipe_name')})")

    def _perceptual(self, p: int, phase: Phase, method: SRMethod) -> tuple[nn.Module | None, float]:
        """The perceptual feature network and the term's weight on it."""
        spec = phase.loss.perceptual
        assert spec is not None
        weights = self.opts.vgg19_weights or (resolve_init(spec.weights) if spec.weights else None)
        if weights is not None:
            vgg = VGG19Features(spec.widths, spec.layer)
            vgg.load_weights(weights)
            self.vgg_weights = {"path": str(weights), "sha256": file_sha256(weights)}
            return vgg.to(self.device), spec.weight_for(False)
        weight = spec.weight_for(True)
        if spec.substitute == "none":
            self._deviate("perceptual loss dropped: no ImageNet VGG-19 weights were given "
                          "(--vgg19-weights) and the recipe's substitute is 'none'")
            return None, weight
        if spec.substitute == "liif-encoder":
            return self._encoder_features(method, weight).to(self.device), weight
        vgg = VGG19Features(spec.widths, spec.layer)
        self._deviate("perceptual loss on a frozen randomly initialised VGG-19 (torchvision's "
                      f"initialisation, drawn after the model's with torch seeded "
                      f"{self.recipe.seed + 1000 * p}) instead of the ImageNet VGG-19: no "
                      "weights were given (--vgg19-weights)"
                      + (f"; weight {weight:g}" if weight != spec.weight else ""))
        return vgg.to(self.device), weight

    def _encoder_features(self, method: SRMethod, weight: float) -> EncoderFeatures:
        """The substitute ``liif-encoder`` from the initial checkpoint (also when resuming:
        then it must still be the file the run started from)."""
        source = self.opts.init or self.recipe.init_checkpoint
        if not source:
            raise RecipeError(f"{LIIF_ENCODER_NEEDS}, and this run has none: set [init] checkpoint "
                              "or pass --init PATH (or give --vgg19-weights, or choose the "
                              "substitute 'random')")
        path = resolve_init(source)
        started = (self.init_info or {}).get("sha256")
        features, note = encoder_features(path, method, expect_sha256=started)
        self._deviate(f"{note}; weight {weight:g}")
        return features

    def _deviate(self, note: str) -> None:
        if note not in self.deviations:
            self.deviations.append(note)

    def _objective(self, p: int, phase: Phase, method: SRMethod) -> L1Objective:
        find_unused = min(phase.sampler.stage_cycle) < len(phase.sampler.scales)
        model: nn.Module = distributed.wrap(QueryModel(method), self.ctx, find_unused)
        if self.compile:
            model = torch.compile(model)
        for name, param in method.named_parameters():
            param.requires_grad_(not name.startswith(phase.optim.freeze))
        named = [(n, q) for n, q in method.named_parameters() if q.requires_grad]
        params = [q for _, q in named]
        scale = dict((self.init_info or {}).get("lr_scale", {})) if p == 0 else {}
        for name, ranges in self._held(phase, method).items():
            scale[name] = [*scale.get(name, []), *ranges]
        factors = lr_factors(named, scale)
        if phase.loss.gan is None:
            return L1Objective(model, params, phase, self._autocast, factors)
        disc = Discriminator(phase.sampler.window, phase.loss.gan.features).to(self.device)
        features, weight = self._perceptual(p, phase, method)
        return GANObjective(model, params, phase, self._autocast, distributed.wrap(disc, self.ctx),
                            disc, features, factors, perceptual_weight=weight)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- the loop ----------------------------------------------------------------------------
    def _phase(self, p: int, store: ImageStore, vset: ValidationSet | None,
               previous: dict[str, Tensor] | None,
               saved: dict[str, Any] | None) -> tuple[SRMethod, bool]:
        """Train phase ``p`` from its start or from ``saved``; False if stopped early."""
        phase, steps = self.recipe.phases[p], self.steps[p]
        method = self._build(p, phase, previous, resuming=saved is not None)
        objective = self._objective(p, phase, method)
        start = 0
        if saved is not None:
            method.load_state_dict(saved["model"])
            objective.load_state_dict(saved["objective"])
            state.set_rng_state(saved["rng"])
            start = saved["step"]
        batches = TrainingBatches(store, phase.sampler, seed=self.recipe.seed, phase=p,
                                  batch=phase.optim.batch, rank=self.ctx.rank, world=self.ctx.world,
                                  border=phase.loss.continuity)
        loader = DataLoader(batches, batch_size=None, sampler=range(start, steps),
                            num_workers=self.workers, pin_memory=self.device.type == "cuda",
                            prefetch_factor=4 if self.workers else None,
                            worker_init_fn=ignore_interrupts)
        bar = tqdm(total=steps, initial=start, desc=phase.name, unit="it", dynamic_ncols=True,
                   disable=not (self.ctx.is_main and self.opts.progress))
        sums: dict[str, Tensor] = {}
        postfix: dict[str, str] = {}
        clock = last = time.perf_counter()
        since = 0
        done = start
        with StopRequest().installed() as stop:
            for step, batch in zip(range(start, steps), loader):
                batch = {k: v.to(self.device, non_blocking=True) if isinstance(v, Tensor) else v
                         for k, v in batch.items()}
                objective.set_step(step)
                for key, value in objective.step(batch).items():
                    sums[key] = sums[key] + value if key in sums else value
                done, since = step + 1, since + 1
                bar.update(1)
                row: dict[str, Any] = {}
                if done % self.recipe.loop.log_every == 0 or done == steps:
                    now = time.perf_counter()
                    row = {k: v / since for k, v in self._mean(sums).items()}
                    row.update(lr=phase.optim.lr_at(step), it_per_s=since / (now - last))
                    postfix["loss"] = f"{row['loss']:.4f}"
                    sums, since, last = {}, 0, now
                if vset is not None and (done % self.recipe.loop.validate_every == 0 or done == steps):
                    row["val_psnr"] = vset.psnr(method, self.device)
                    self.metrics.update({vset.key: row["val_psnr"], "validated_phase": phase.name,
                                         "validated_step": done})
                    postfix["psnr"] = f"{row['val_psnr']:.2f}"
                if row:
                    bar.set_postfix(postfix, refresh=False)
                    self._write_log(p, done, row, clock)
                if done % self.recipe.loop.checkpoint_every == 0 or done == steps or stop.requested:
                    self._save(p, done, method, objective, clock)
                if stop.requested:
                    break
        bar.close()
        self.elapsed += time.perf_counter() - clock
        if done < steps and self.ctx.is_main:
            print(f"stopped at step {done}/{steps} of phase {phase.name!r}; the state is in "
                  f"{self.opts.out_dir / STATE_FILE} (continue with --resume)")
        return method, done == steps

    def _write_log(self, p: int, step: int, row: dict[str, Any], clock: float) -> None:
        if self.log is not None:
            elapsed = self.elapsed + time.perf_counter() - clock
            self.log.write({"phase": self.recipe.phases[p].name, "step": step, **row,
                            "elapsed_s": elapsed}, sum(self.steps[:p]) + step)

    def _mean(self, sums: dict[str, Tensor]) -> dict[str, float]:
        """Loss sums averaged over the ranks (a collective: every rank calls it)."""
        keys = sorted(sums)
        values = torch.stack([sums[k].float() for k in keys])
        if self.ctx.distributed:
            dist.all_reduce(values)
            values /= self.ctx.world
        return dict(zip(keys, values.tolist()))

    def _save(self, p: int, step: int, method: SRMethod, objective: L1Objective, clock: float) -> None:
        if not self.ctx.is_main:
            return
        state.save(self.opts.out_dir / STATE_FILE, {
            "recipe_sha256": self.recipe.digest, "data_sha256": self.data_sha256,
            "phase": p, "step": step, "phase_steps": self.steps,
            "elapsed_s": self.elapsed + time.perf_counter() - clock,
            "model": method.state_dict(), "objective": objective.state_dict(),
            "metrics": self.metrics, "init": self.init_info, "deviations": self.deviations})

    def _finish(self, method: SRMethod, manifest: Manifest) -> RunResult:
        if not self.ctx.is_main:
            return RunResult(True, metrics=self.metrics)
        if self.truncated:
            self._deviate(f"truncated run (--max-steps {self.opts.max_steps}): "
                          "not the recipe's training")
        training = {
            "data": manifest.as_dict(),
            "phases": [{"name": ph.name, "steps": n, "batch": ph.optim.batch, "arch": ph.model.arch,
                        "config": ph.model.config} for ph, n in zip(self.recipe.phases, self.steps)],
            "steps": sum(self.steps), "seed": self.recipe.seed,
            "device": device_label(str(self.device)), "world_size": self.ctx.world,
            "amp": "bf16" if self.amp else "none", "compiled": self.compile,
            "wall_time_s": round(self.elapsed, 1),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "init": self.init_info, "vgg19_weights": self.vgg_weights,
            "deviations": self.deviations, "truncated": self.truncated}
        path = self.opts.out_dir / f"{self.recipe.method}.safetensors"
        export(path, method.cpu(), self.recipe, training, self.metrics, trained=not self.truncated)
        return RunResult(True, path, self.metrics)
