"""Every learned method trains under CPU bf16 autocast (``loop.amp = "bf16"``).

The decoders' fused in-place products (``addmm_into``) cast their operands to the rows they
accumulate into; without that, bf16 rows from an autocast conv meet float32 weights.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sr_core.architectures import ARCHITECTURES, TRAINING
from sr_core.coords import Queries
from tests.tiny_models import tiny_model

STEPS = 6


@pytest.mark.parametrize("arch", [arch for arch, cls in ARCHITECTURES.items() if cls.needs_weights])
def test_trains_under_bf16_autocast(arch: str) -> None:
    model = tiny_model(arch).train()
    gen = torch.Generator().manual_seed(0)
    lr = torch.rand(2, 3, 12, 12, generator=gen) * 2 - 1
    size = torch.tensor([36, 36])  # one output grid per batch (CLIT's cascade needs it)
    q = Queries(torch.randint(0, 36, (2, 64), generator=gen),
                torch.randint(0, 36, (2, 64), generator=gen), size, size)
    gt = torch.rand(2, 64, 3, generator=gen) * 2 - 1
    # a cascade: two stages (×2 then ×1.5), so that every stage's layers take part
    cascade = TRAINING[arch].cascade
    extra = ((2.0, 1.5),) if cascade else ()
    reference = F.l1_loss(model(lr, q, *extra), gt)
    reference.backward()
    learned = {name for name, p in model.named_parameters() if p.grad is not None}
    assert not cascade or any(name.startswith("conv_qs.1") for name in learned)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            pred = model(lr, q, *extra)
        loss = F.l1_loss(pred.float(), gt)
        loss.backward()
        # every parameter that learns in float32 gets a finite gradient
        assert {name for name, p in model.named_parameters()
                if p.grad is not None and torch.isfinite(p.grad).all()} == learned
        optimizer.step()
        losses.append(loss.item())
    # the first bf16 loss is the float32 one up to bf16 rounding, and training lowers it
    assert losses[0] == pytest.approx(reference.item(), rel=0.05)
    assert losses[-1] < 0.9 * losses[0]
