"""The viewer sees a user's installed model as a method: in the provider's names (the method
menus and About list those), with its label, available, and loadable (issue #29)."""

from __future__ import annotations

import torch

from app.model.method_provider import RegistryProvider, display_name
from sr_core.methods.fixed_scale import FixedScale
from sr_core.registry import install_user_model
from tests.spandrel_models import save_model, tiny_network


def test_an_installed_model_is_one_of_the_viewers_methods(tmp_path) -> None:
    provider = RegistryProvider()
    before = provider.names()
    name, _ = install_user_model(save_model(tiny_network("span"), tmp_path / "2x-Tiny.safetensors"))
    assert provider.names() == [*before, name] and name == "2x-tiny"
    assert provider.info(name).paper == "user model: SPAN ×2, from 2x-Tiny.safetensors"
    assert display_name(provider, name) == name
    status = provider.status(name)
    assert status.available and status.source == "user model" and status.provenance == provider.info(name).paper
    model = provider.load(name, torch.device("cpu"))
    assert isinstance(model, FixedScale) and model.scale == 2
