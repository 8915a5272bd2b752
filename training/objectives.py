"""One optimisation step per method family: L1 regression, or CiSRGAN's L1 + RaGAN + VGG.

Models are called through :class:`QueryModel`, which takes plain tensors (what
DistributedDataParallel and ``torch.compile`` want) and builds ``sr_core`` queries. The
forward passes run under bf16 autocast on CUDA; losses are computed in float32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_core.architectures import TRAINING
from sr_core.coords import Queries
from sr_core.methods.base import SRMethod
from training.recipe import Phase

Batch = dict[str, Any]
Autocast = Callable[[], contextlib.AbstractContextManager]


class QueryModel(nn.Module):
    """``method(lr, Queries(iy, ix, out_h, out_w))`` with tensor arguments; a cascade also gets
    the batch's stage scales (its depth and per-stage factors in training)."""

    def __init__(self, method: SRMethod) -> None:
        super().__init__()
        self.method = method
        self.cascade = TRAINING[method.arch].cascade

    def forward(self, lr: Tensor, iy: Tensor, ix: Tensor, out_h: Tensor, out_w: Tensor,
                stage_scales: tuple[float, ...] | None = None) -> Tensor:
        q = Queries(iy, ix, out_h, out_w)
        return self.method(lr, q, stage_scales) if self.cascade else self.method(lr, q)


def predict(model: nn.Module, batch: Batch) -> Tensor:
    return model(batch["lr"], batch["iy"], batch["ix"], batch["out_h"], batch["out_w"],
                 **({"stage_scales": batch["stage_scales"]} if "stage_scales" in batch else {}))


def border_jumps(model: nn.Module, batch: Batch, autocast: Autocast) -> Tensor:
    """Mean ``|step across − mean of the steps beside|`` over the batch's border quadruples
    (``TrainingBatches.border_queries``), normalised values: 0 for a function without jumps at
    input-pixel borders. A cascade chooses its own stages for this scale."""
    out = batch["border_out"]
    with autocast():
        pred = model(batch["lr"], batch["border_iy"], batch["border_ix"], out, out)
    steps = pred.float().reshape(pred.shape[0], -1, 4, pred.shape[-1]).diff(dim=2)
    return (steps[:, :, 1] - (steps[:, :, 0] + steps[:, :, 2]) / 2).abs().mean()


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def lr_factors(named: list[tuple[str, nn.Parameter]], lr_scale: dict[str, list]) -> dict[nn.Parameter, Tensor]:
    """Per-element learning-rate factors of the parameters that ``lr_scale`` names."""
    factors = {}
    for name, param in named:
        if name in lr_scale:
            factor = torch.ones_like(param)
            for first, end, value in lr_scale[name]:
                factor[..., first:end] = value
            factors[param] = factor
    return factors


class L1Objective:
    """``weight · |pred − gt|`` on normalised values, Adam."""

    def __init__(self, model: nn.Module, params: list[nn.Parameter], phase: Phase,
                 autocast: Autocast, factors: dict[nn.Parameter, Tensor] | None = None) -> None:
        self.model, self.phase, self.autocast = model, phase, autocast
        self.optimizer = torch.optim.Adam(params, lr=phase.optim.lr, betas=phase.optim.betas)
        self.factors = factors or {}

    def set_step(self, step: int) -> None:
        set_lr(self.optimizer, self.phase.optim.lr_at(step))

    def step(self, batch: Batch) -> dict[str, Tensor]:
        with self.autocast():
            pred = predict(self.model, batch)
        loss = self.phase.loss.l1 * F.l1_loss(pred.float(), batch["gt"])
        terms = {}
        if (continuity := self.phase.loss.continuity) is not None:
            terms["continuity"] = border_jumps(self.model, batch, self.autocast)
            loss = loss + continuity.weight * terms["continuity"]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._optimizer_step()
        return {"loss": loss.detach(), **{k: v.detach() for k, v in terms.items()}}

    def _optimizer_step(self) -> None:
        """Adam's step, scaled per element where a warm start set learning-rate factors
        (exact: Adam here has no weight decay, so its update is the difference it makes)."""
        before = {p: p.detach().clone() for p in self.factors}
        self.optimizer.step()
        with torch.no_grad():
            for p, factor in self.factors.items():
                p.copy_(before[p] + (p - before[p]) * factor)

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])


def bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class GANObjective(L1Objective):
    """CiSRGAN: generator ``w_l1·L1 + w_adv·RaGAN + w_p·VGG``, then one discriminator step.

    Relativistic average GAN as in BasicSR: each side is the mean of two BCE terms, the other
    batch's mean logit detached. Discriminator and feature network see the window images in
    [0, 1]. ``vgg`` is the perceptual feature network: VGG-19 (ImageNet or random weights) or
    the substitute ``liif-encoder`` (:class:`training.vgg.EncoderFeatures`); None when the
    recipe drops the perceptual term (no ImageNet weights). ``perceptual_weight``: the term's
    weight for that network (default: the recipe's ``weight``).
    """

    def __init__(self, model: nn.Module, params: list[nn.Parameter], phase: Phase,
                 autocast: Autocast, disc: nn.Module, disc_module: nn.Module,
                 vgg: nn.Module | None, factors: dict[nn.Parameter, Tensor] | None = None,
                 perceptual_weight: float | None = None) -> None:
        super().__init__(model, params, phase, autocast, factors)
        gan = phase.loss.gan
        assert gan is not None and phase.loss.perceptual is not None
        self.disc, self.disc_module, self.vgg = disc, disc_module, vgg
        self.disc_optimizer = torch.optim.Adam(disc_module.parameters(), lr=gan.lr, betas=gan.betas)
        self.w_adv = gan.weight
        self.w_p = phase.loss.perceptual.weight if perceptual_weight is None else perceptual_weight

    def set_step(self, step: int) -> None:
        super().set_step(step)
        assert self.phase.loss.gan is not None
        set_lr(self.disc_optimizer, self.phase.optim.lr_at(step, self.phase.loss.gan.lr))

    def _image(self, values: Tensor) -> Tensor:
        """Window values ``(B, w², 3)`` normalised → images ``(B, 3, w, w)`` in [0, 1]."""
        w = self.phase.sampler.window
        return values.float().view(-1, w, w, 3).permute(0, 3, 1, 2) * 0.5 + 0.5

    def step(self, batch: Batch) -> dict[str, Tensor]:
        real = self._image(batch["gt"])
        self.disc_module.requires_grad_(False)
        with self.autocast():
            pred = predict(self.model, batch)
            fake = self._image(pred)
            real_logit, fake_logit = self.disc_module(real, fake)
            perceptual = (F.l1_loss(self.vgg(fake).float(), self.vgg(real).float().detach())
                          if self.vgg is not None else fake.new_zeros(()))
        real_logit, fake_logit = real_logit.float().detach(), fake_logit.float()
        adv = 0.5 * (bce(real_logit - fake_logit.mean(), 0.0)
                     + bce(fake_logit - real_logit.mean(), 1.0))
        l1 = F.l1_loss(pred.float(), batch["gt"])
        loss = self.phase.loss.l1 * l1 + self.w_adv * adv + self.w_p * perceptual
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._optimizer_step()

        self.disc_module.requires_grad_(True)
        with self.autocast():
            real_logit, fake_logit = self.disc(real, fake.detach())
        real_logit, fake_logit = real_logit.float(), fake_logit.float()
        d_loss = 0.5 * (bce(real_logit - fake_logit.mean().detach(), 1.0)
                        + bce(fake_logit - real_logit.mean().detach(), 0.0))
        self.disc_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.disc_optimizer.step()
        return {"loss": loss.detach(), "l1": l1.detach(), "adv": adv.detach(),
                "perceptual": perceptual.detach(), "d_loss": d_loss.detach()}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "disc": self.disc_module.state_dict(),
                "disc_optimizer": self.disc_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.disc_module.load_state_dict(state["disc"])
        self.disc_optimizer.load_state_dict(state["disc_optimizer"])
