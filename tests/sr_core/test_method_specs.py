"""Every method's spec reaches the tests: no architecture can silently skip the render tests
(tiles equal the whole image, …) and no trainable method the training tests."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import replace

import pytest

from sr_core.architectures import ARCHITECTURES, SPECS, by_architecture, by_name
from sr_core.devices import PRECISIONS
from tests.sr_core import test_render
from tests.training import test_learning
from tests.training.conftest import TINY_MODELS


def parametrised(module: object, argname: str) -> dict[str, set]:
    """The values each test function of ``module`` is parametrised with for ``argname``."""
    return {name: set(mark.args[1]) for name, fn in inspect.getmembers(module, inspect.isfunction)
            for mark in getattr(fn, "pytestmark", []) if mark.name == "parametrize" and mark.args[0] == argname}


def test_every_architecture_runs_through_the_render_tests() -> None:
    per_test = parametrised(test_render, "arch")
    assert "test_tiles_equal_whole_image" in per_test
    for name, archs in per_test.items():
        assert archs == set(ARCHITECTURES), name


def test_every_trainable_method_has_a_tiny_config_and_a_learning_test() -> None:
    trainable = {spec.name for spec in SPECS if spec.needs_weights}
    assert set(TINY_MODELS) == trainable
    own_tests = [name for name, _ in inspect.getmembers(test_learning, inspect.isfunction)]
    tested = set().union(*parametrised(test_learning, "method").values())
    tested |= {method for method in trainable if any(f"test_{method}_" in name for name in own_tests)}
    assert tested == trainable


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_spec_is_consistent(spec) -> None:
    assert spec.needs_weights == bool(spec.recipe) == (spec.tiny_train is not None)
    assert spec.needs_weights == bool(spec.tiny)
    assert "float32" in spec.precisions and set(spec.precisions) <= set(PRECISIONS)  # exact renders are float32
    assert spec.published is None or (spec.published.method == spec.name and spec.official_name)


def test_a_method_without_weights_is_unavailable_and_says_so(monkeypatch) -> None:
    """Where no weights are found, a method that needs them cannot run, and since every such
    method ships weights (its recipe), the installation is broken and the status says so; a
    method without weights to find (bicubic) always can."""
    from sr_core import registry

    monkeypatch.setattr(registry, "default_checkpoint", lambda name: None)
    for spec in SPECS:
        status = registry.method_status(spec.name)
        if spec.needs_weights:
            assert not status.available and status.broken
            assert f"shipped weights ({spec.name}.safetensors) are missing" in status.reason
        else:
            assert status.available and not status.broken


def test_only_missing_or_unusable_shipped_weights_make_a_method_broken(tmp_path) -> None:
    """Weights absent by design (no recipe) or a user's unusable checkpoint: unavailable, not broken."""
    from sr_core.registry import METHODS, MethodStatus, checkpoints_dir

    liif = METHODS["liif"]
    held_back = dataclasses.replace(liif, recipe=None)
    assert not MethodStatus(held_back, False, "no trained weights shipped yet").broken
    assert MethodStatus(liif, False, "missing").broken
    assert MethodStatus(liif, False, "unreadable", checkpoints_dir() / "liif.safetensors").broken
    assert not MethodStatus(liif, False, "unreadable", tmp_path / "liif.safetensors").broken
    assert not MethodStatus(liif, True, "trained weights", checkpoints_dir() / "liif.safetensors").broken


def test_weights_of_a_recipe_with_measured_limits_say_so_and_others_do_not() -> None:
    """The shipped CLIT's recipe has measured limits (blocks at large zoom): weights it trained
    carry them in their provenance line; weights of another recipe, or imported ones, do not."""
    from sr_core.registry import METHODS, MethodStatus

    clit = METHODS["clit"]
    assert clit.recipe_limits

    def provenance(meta: dict) -> str:
        return MethodStatus(clit, True, "trained weights", None, meta).provenance

    summary = {"kind": "zoomsr", "summary": "trained by ZoomSR: 437 images"}
    shipped = provenance({"provenance": summary, "training": {"recipe_name": clit.recipe}})
    assert shipped.startswith("trained by ZoomSR: 437 images. ") and shipped.endswith(clit.recipe_limits)
    other = provenance({"provenance": summary, "training": {"recipe_name": "paper/clit-edsr"}})
    assert other == "trained by ZoomSR: 437 images"
    imported = provenance({"provenance": {"kind": "imported", "summary": "imported from x.pth"}})
    assert imported == "imported from x.pth"


def test_a_name_used_twice_fails() -> None:
    """``METHODS`` is built with ``by_name`` at import: a second spec named like the first stops
    the import instead of silently replacing it."""
    liif = next(spec for spec in SPECS if spec.name == "liif")
    with pytest.raises(ValueError, match="two methods are named 'liif'"):
        by_name((*SPECS, replace(liif, display_name="another LIIF")))
    assert list(by_name(SPECS)) == [spec.name for spec in SPECS]


def test_an_architecture_name_used_twice_fails() -> None:
    liif, ultrasr = (next(spec for spec in SPECS if spec.name == name) for name in ("liif", "ultrasr"))
    with pytest.raises(ValueError, match="two architectures are named 'liif'"):
        by_architecture((liif, replace(ultrasr, name="other", architecture=type("Other", (liif.architecture,), {}))))
    with pytest.raises(ValueError, match="share 'liif' but not its training hooks"):
        by_architecture((liif, replace(liif, name="other", training=ultrasr.training)))


@pytest.mark.parametrize("spec", [spec for spec in SPECS if spec.needs_weights], ids=lambda spec: spec.name)
def test_every_learned_method_has_a_reference_and_starts_from_liif_or_is_liif(spec) -> None:
    assert spec.reference is not None
    assert spec.arch == "liif" or set(spec.training.starts_from) == {"liif"}
