"""The LR image every per-method test renders."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def lr() -> torch.Tensor:
    """A (1, 3, 23, 29) LR image in [-1, 1] (odd sizes catch transposed axes)."""
    torch.manual_seed(1)
    return torch.rand(1, 3, 23, 29) * 2 - 1
