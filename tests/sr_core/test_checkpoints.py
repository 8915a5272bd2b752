"""Checkpoint format, official import and clear errors for bad files."""

import json
import pickle

import pytest
import torch

from sr_core import checkpoints
from sr_core.checkpoints import CheckpointError
from sr_core.methods.liif import LIIF


def tiny() -> LIIF:
    torch.manual_seed(0)
    return LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16])


def test_round_trip_keeps_weights_config_and_metadata(tmp_path):
    model = tiny()
    path = checkpoints.save(tmp_path / "m.safetensors", model,
                            {"method": "liif", "trained": True, "metrics": {"set5_x4": 30.0}})
    meta = checkpoints.read_metadata(path)
    assert meta["arch"] == "liif" and meta["config"]["hidden"] == [16]
    assert meta["metrics"] == {"set5_x4": 30.0}
    loaded, _ = checkpoints.load(path)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k


def test_half_precision_storage_loads_as_float32(tmp_path):
    path = checkpoints.save(tmp_path / "h.safetensors", tiny(), {"method": "liif", "trained": True},
                            dtype=torch.float16)
    loaded, _ = checkpoints.load(path)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert path.stat().st_size < checkpoints.save(tmp_path / "f.safetensors", tiny(),
                                                  {"method": "liif", "trained": True}).stat().st_size


def test_metadata_is_required(tmp_path):
    with pytest.raises(ValueError, match="trained"):
        checkpoints.save(tmp_path / "x.safetensors", tiny(), {"method": "liif"})


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"not a checkpoint at all" * 40])
def test_garbage_files_give_clear_errors(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        checkpoints.load(path)


def test_truncated_checkpoint(tmp_path):
    path = checkpoints.save(tmp_path / "t.safetensors", tiny(), {"method": "liif", "trained": True})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        checkpoints.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such"):
        checkpoints.load(tmp_path / "nope.safetensors")


def test_safetensors_without_zoomsr_metadata(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(CheckpointError, match="without ZoomSR metadata"):
        checkpoints.load(tmp_path / "plain.safetensors")


def test_architecture_mismatch_names_the_keys(tmp_path):
    path = checkpoints.save(tmp_path / "m.safetensors", tiny(), {"method": "liif", "trained": True})
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    header = json.loads(meta["zoomsr"])
    header["config"]["hidden"] = [32]
    save_file(load_file(str(path)), str(path), metadata={"zoomsr": json.dumps(header)})
    with pytest.raises(CheckpointError, match="wrong shape: imnet"):
        checkpoints.load(path)


def official_liif_pth(tmp_path, model: LIIF):
    path = tmp_path / "edsr-baseline-liif.pth"
    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"no_upsampling": True, "n_resblocks": 1,
                                                              "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [16]}}}
    torch.save({"model": {"name": "liif", "args": args, "sd": model.state_dict()},
                "optimizer": {"name": "adam", "args": {"lr": 1e-4}}, "epoch": 1000}, path)
    return path


def test_import_official_liif(tmp_path):
    model = tiny()
    imported, meta = checkpoints.import_official(official_liif_pth(tmp_path, model))
    assert meta["trained"] and meta["training"]["epoch"] == 1000
    for k, v in model.state_dict().items():
        assert torch.equal(imported.state_dict()[k], v)


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_import_refuses_arbitrary_pickles(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"model": Exploit()}, f)
    with pytest.raises(CheckpointError, match="not weights only") as err:
        checkpoints.import_official(path)
    assert "\n" not in str(err.value) and len(str(err.value)) < 150
    assert "must never run" not in capsys.readouterr().out
