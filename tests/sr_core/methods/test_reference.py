"""Our fast paths compute the same function as the papers' per-query formulation.

``benchmarks/reference.py`` evaluates each method the way the official code does (unfold,
``grid_sample`` per ensemble branch, full MLP per query, 30 000-query chunks); the benchmarks
time it and these tests hold the equality, with tiny random-weight models whose outputs
depend on every input.
"""

import pytest
import torch

from benchmarks.reference import REFERENCE_ARCHS, reference_features, reference_query
from sr_core.coords import Queries
from sr_core.render import output_size
from tests.tiny_models import tiny_model


@pytest.mark.parametrize("arch", REFERENCE_ARCHS)
@pytest.mark.parametrize("scale", [1.7, 4.0, 8.0, 11.3])
def test_fast_path_equals_reference_formulation(arch, scale):
    model = tiny_model(arch)
    lr = torch.rand(1, 3, 12, 15, generator=torch.Generator().manual_seed(1)) * 2 - 1
    out_h, out_w = output_size(12, 15, scale)
    q = Queries.grid(out_h, out_w, (0, out_h), (0, out_w))
    with torch.no_grad():
        ours = model(lr, q)
        ref = reference_query(model, reference_features(model, lr), q, chunk=997)
    assert (ours - ref).abs().max() <= 1e-5
