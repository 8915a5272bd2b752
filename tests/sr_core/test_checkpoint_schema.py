"""Checkpoints are untrusted: metadata, model size and tensors are checked before use."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from sr_core import checkpoints
from sr_core.architectures import ARCHITECTURES
from sr_core.checkpoint_schema import MAX_PARAMETERS, check_config
from sr_core.checkpoints import CheckpointError
from sr_core.methods.liif import LIIF

GOOD = {"format": checkpoints.FORMAT, "arch": "liif", "method": "liif", "trained": True,
        "config": {"encoder_args": {"n_resblocks": 1, "n_feats": 8}, "hidden": [16]}}


def write(path, meta, tensors=None):
    if tensors is None:
        torch.manual_seed(0)
        tensors = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16]).state_dict()
    header = meta if isinstance(meta, str) else json.dumps(meta)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"zoomsr": header})
    return path


def test_budget_is_about_twice_the_largest_paper_configuration():
    largest = max(check_config(arch, {"encoder": enc} if ARCHITECTURES[arch].needs_weights else {})
                  for arch in ARCHITECTURES for enc in ("edsr-baseline", "rdn"))
    assert 1.8 * largest <= MAX_PARAMETERS <= 2.5 * largest


@pytest.mark.parametrize("change, message", [
    ({"config": {"encoder_args": {"n_resblocks": 200000}}}, "n_resblocks"),
    ({"config": {"hidden": [40000, 40000]}}, "hidden"),
    ({"config": {"hidden": [8192] * 8}}, "parameters"),
    ({"config": {"hidden": [-1]}}, "hidden"),
    ({"config": {"hidden": "256"}}, "hidden"),
    ({"config": {"encoder_args": {"res_scale": math.inf}}}, "res_scale"),
    ({"config": {"encoder": "resnet"}}, "encoder"),
    ({"config": {"wings": 2}}, "unknown setting"),
    ({"config": [1, 2]}, "config"),
    ({"arch": ["liif"]}, "architecture"),
    ({"arch": {"a": 1}}, "architecture"),
    ({"trained": "no"}, "trained"),
    ({"trained": 1}, "trained"),
    ({"method": 7}, "method"),
    ({"provenance": ["official"]}, "provenance"),
    ({"training": None}, "training"),
])
def test_bad_metadata_is_refused_before_building(tmp_path, change, message):
    path = write(tmp_path / "bad.safetensors", {**GOOD, **change})
    for read in (checkpoints.read_metadata, checkpoints.load):
        with pytest.raises(CheckpointError, match=message):
            read(path)


@pytest.mark.parametrize("header", ["[1, 2]", '"liif"', "null", "[" * 100000])
def test_metadata_that_is_not_an_object(tmp_path, header):
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        checkpoints.read_metadata(write(tmp_path / "bad.safetensors", header))


@pytest.mark.parametrize("poison", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_refused(tmp_path, poison):
    torch.manual_seed(0)
    state = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16]).state_dict()
    state["imnet.layers.0.weight"][0, 0] = poison
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        checkpoints.load(write(tmp_path / "nan.safetensors", GOOD, state))


def test_integer_weights_are_refused(tmp_path):
    path = write(tmp_path / "int.safetensors", GOOD)
    state = load_file(str(path))
    key = next(iter(state))
    state[key] = state[key].to(torch.int32)
    with pytest.raises(CheckpointError, match=f"not floating point: {key}"):
        checkpoints.load(write(path, GOOD, state))


def official(path, name="liif", hidden=(16,), sd=None):
    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"n_resblocks": 1, "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": list(hidden)}}}
    if sd is None:
        sd = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=list(hidden)).state_dict()
    torch.save({"model": {"name": name, "args": args, "sd": sd}}, path)
    return path


def test_official_import_checks_like_checkpoints(tmp_path):
    sd = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16]).state_dict()
    sd["imnet.layers.0.bias"][0] = math.nan
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        checkpoints.import_official(official(tmp_path / "nan.pth", sd=sd))
    sd = {k: v.to(torch.int64) for k, v in sd.items()}
    with pytest.raises(CheckpointError, match="not floating point"):
        checkpoints.import_official(official(tmp_path / "int.pth", sd=sd))
    with pytest.raises(CheckpointError, match="hidden"):
        checkpoints.import_official(official(tmp_path / "huge.pth", hidden=(40000, 40000), sd={}))
    with pytest.raises(CheckpointError, match="not importable"):
        checkpoints.import_official(official(tmp_path / "list.pth", name=["liif"]))
