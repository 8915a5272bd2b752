"""bfloat16 for displayed pixels only where the CPU has it natively and it stays within 1/255."""

from __future__ import annotations

import pytest
import torch

from sr_core import display_precision
from sr_core.display_precision import DISPLAY_TOLERANCE, display_dtype, native_bf16, probe_error
from tests.tiny_models import tiny_model

CPU = torch.device("cpu")


@pytest.mark.parametrize("arch", ["liif", "lte"])
def test_the_probe_measures_bfloat16_against_float32_without_changing_the_model(arch):
    model = tiny_model(arch)
    before = [p.clone() for p in model.parameters()]
    error = probe_error(model, torch.bfloat16, CPU)
    assert error > 0  # (tiny random models are far less accurate in bfloat16 than trained ones)
    assert all(p.dtype == torch.float32 and torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert probe_error(model, torch.float32, CPU) == 0


def test_bfloat16_only_within_one_display_level(monkeypatch):
    model = tiny_model("liif")
    error = probe_error(model, torch.bfloat16, CPU)
    expected = torch.bfloat16 if native_bf16(CPU) and error < DISPLAY_TOLERANCE else torch.float32
    assert display_dtype(model, CPU) == expected
    monkeypatch.setattr(display_precision, "DISPLAY_TOLERANCE", error / 2)  # a method that misses it
    assert display_dtype(model, CPU) == torch.float32
    assert display_dtype(tiny_model("bicubic"), CPU) == torch.float32  # no weights: nothing to gain
