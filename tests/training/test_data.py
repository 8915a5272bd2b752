"""``python -m training.data prepare``: the data folders built from downloaded archives (tiny
archives made here), every image checked against the recorded checksums."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training import data


def encoded(seed: int, fmt: str = "PNG", size: tuple[int, int] = (12, 8)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


def tar_gz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return path


def zipped(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in files.items():
            archive.writestr(name, payload)
    return path


@pytest.fixture
def sums(tmp_path, monkeypatch) -> Path:
    """Recorded checksums of tiny sets: bsds400 of two photos, Set5 of an HR image and its LR,
    Kodak24 of one image (recorded from its WebP copy, as the shipped ones are)."""
    folder = tmp_path / "sums"
    folder.mkdir()
    records = {"bsds400": {"1.jpg": encoded(1, "JPEG"), "2.jpg": encoded(2, "JPEG")},
               "Set5": {"HR/bird.png": encoded(3), "LR_bicubic/X2/birdx2.png": encoded(4),
                        "LR_bicubic/X8/birdx8.png": encoded(5)},
               "Kodak24": {"kodim07.webp": encoded(6, "WEBP")}}
    for name, files in records.items():
        lines = [f"{data.pixel_sha256(payload)}  {rel}" for rel, payload in files.items()]
        (folder / f"{name}.sha256").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(data, "SUMS_DIR", folder)
    return folder


def test_prepare_builds_the_layout_from_archives_and_checks_every_image(tmp_path, sums, capsys):
    bsds = tar_gz(tmp_path / "BSR_bsds500.tgz", {
        "BSR/BSDS500/data/images/train/1.jpg": encoded(1, "JPEG"),
        "BSR/BSDS500/data/images/test/2.jpg": encoded(2, "JPEG"),
        "BSR/BSDS500/data/images/val/9.jpg": encoded(9, "JPEG"),       # B100: not ours
        "BSR/BSDS500/data/images/train/../../../../../../evil.jpg": encoded(1, "JPEG"),
        "BSR/BSDS500/data/groundTruth/train/1.mat": b"not an image"})
    bench = zipped(tmp_path / "benchmark.zip", {
        "benchmark/Set5/HR/bird.png": encoded(3), "benchmark/Set5/LR_bicubic/X2/birdx2.png": encoded(4)})
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    (kodak / "kodim07.png").write_bytes(encoded(6))  # the PNG the WebP was made from
    out = tmp_path / "data"
    assert data.main(["prepare", "--out", str(out), str(bsds), str(bench), str(kodak)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "bsds400: 2 images, every checksum matches"
    assert lines[1] == "Set5: 2 images, every checksum matches; 1 of the recorded images were not in the archives"
    assert lines[2] == "Kodak24: 1 images, every checksum matches"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
                     and p.parent.name != "sums" and p.parent != tmp_path and "kodak" not in p.parts)
    assert written == ["data/train/bsds400/1.jpg", "data/train/bsds400/2.jpg", "data/val/Kodak24/kodim07.png",
                       "data/val/Set5/HR/bird.png", "data/val/Set5/LR_bicubic/X2/birdx2.png"]
    assert (out / "val/Set5/HR/bird.png").read_bytes() == encoded(3)  # byte for byte


def test_an_image_that_differs_from_its_checksum_fails(tmp_path, sums, capsys):
    bench = zipped(tmp_path / "benchmark.zip", {"benchmark/Set5/HR/bird.png": encoded(99)})
    assert data.main(["prepare", "--out", str(tmp_path / "data"), str(bench)]) == 1
    assert capsys.readouterr().err == ("error: Set5: 1 image(s) differ from the recorded checksums "
                                       "(first: HR/bird.png)\n")


def test_a_set_without_checksums_is_checked_by_its_count(tmp_path, sums):
    bench = tar_gz(tmp_path / "benchmark.tar.gz", {"benchmark/Urban100/HR/img001.png": encoded(1)})
    with pytest.raises(data.DataError, match="Urban100: 1 images, expected 100"):
        data.prepare([bench], tmp_path / "data")


@pytest.mark.parametrize(("name", "payload", "message"), [
    ("notes.zip", b"PK\x03\x04 truncated", "not a folder, a zip or a tar archive"),
    ("benchmark.zip", None, "benchmark/Set14/HR/x.png: not a readable image"),
    ("other.zip", b"", "none of the known data sets"),
])
def test_bad_archives_give_one_line(tmp_path, sums, name, payload, message):
    path = tmp_path / name
    if name == "benchmark.zip":
        zipped(path, {"benchmark/Set14/HR/x.png": b"\x89PNG broken"})
    elif name == "other.zip":
        zipped(path, {"photos/x.png": encoded(1)})
    else:
        path.write_bytes(payload)
    with pytest.raises(data.DataError, match=message):
        data.prepare([path], tmp_path / "data")


def test_the_recorded_checksums_match_the_shared_data(shared_data: Path):
    """The checksums in training/data_sums are those of the data the shipped weights were
    trained and evaluated on (where that data is here)."""
    for dataset in data.SETS:
        recorded = data.recorded_sums(dataset.name)
        folder = shared_data / dataset.folder
        if recorded is None or not folder.is_dir():
            continue
        assert data.folder_sums(folder) == recorded, dataset.name
