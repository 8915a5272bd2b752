"""The data sets of training and evaluation: where each comes from, and a command that builds
the folders the recipes and docs use from the downloaded archives, checking every image.

    python -m training.data prepare --out ../shared/data BSR_bsds500.tgz benchmark.tar Kodak/ DIV2K_train_HR.zip
    python -m training.data sums ../shared/data/val/Set14     # print a folder's checksums

``prepare`` reads zip and tar archives (gzip/bzip2/xz too) and plain folders, finds the images
of every known set by their path inside the archive (``DataSet.members``), and writes them,
byte for byte, under ``--out`` in the layout of docs/TRAINING.md (``train/bsds400``,
``val/Set5/HR`` …). Nothing from an archive decides where a file goes beyond its base name, so
a member such as ``../x.png`` cannot write outside ``--out``. Each set with recorded checksums
(``training/data_sums/<set>.sha256``) is then checked image by image; the others by their
image count. The checksum is the SHA-256 of an image's decoded pixels (mode, size, bytes), so a
lossless re-encoding (Kodak's PNGs, stored here as lossless WebP) checks the same.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from sr_core.arg_types import OneLineParser

SUMS_DIR = Path(__file__).resolve().parent / "data_sums"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class DataSet:
    """One data set: where its images go under ``--out`` and how to find them in an archive."""

    name: str
    folder: str
    #: matched against each archive member's path; the group ``rel`` is its path in ``folder``
    members: str
    count: int
    source: str


SETS = (
    DataSet("bsds400", "train/bsds400", r"BSDS500/data/images/(?:train|test)/(?P<rel>[^/]+\.jpg)$", 400,
            "BSDS500 train + test images, BSR_bsds500.tgz of the Berkeley Segmentation Data Set"),
    DataSet("wallpapers37", "train/wallpapers37", r"(?:^|/)wallpapers37/(?P<rel>[^/]+\.jpg)$", 37,
            "37 Debian wallpapers, downscaled x2 by ZoomSR (docs/TRAINING.md): a folder, not an archive"),
    DataSet("Set5", "val/Set5", r"(?:^|/)Set5/(?P<rel>(?:HR|LR_bicubic/X[2348])/[^/]+\.png)$", 25,
            "Set5 (Bevilacqua et al. 2012) HR and MATLAB-bicubic LR, in the SR benchmark pack"),
    DataSet("Set14", "val/Set14", r"(?:^|/)Set14/(?P<rel>HR/[^/]+\.png)$", 14,
            "Set14 (Zeyde et al. 2010) HR, in the SR benchmark pack"),
    DataSet("B100", "val/B100", r"(?:^|/)B100/(?P<rel>HR/[^/]+\.png)$", 100,
            "B100 (BSDS300 test) HR, in the SR benchmark pack"),
    DataSet("Urban100", "val/Urban100", r"(?:^|/)Urban100/(?P<rel>HR/[^/]+\.png)$", 100,
            "Urban100 (Huang et al. 2015) HR, in the SR benchmark pack"),
    DataSet("Kodak24", "val/Kodak24", r"(?:^|/)(?P<rel>kodim\d\d\.(?:png|webp))$", 24,
            "the Kodak PhotoCD suite, kodim01-24.png"),
    DataSet("DIV2K-train", "DIV2K/DIV2K_train_HR", r"DIV2K_train_HR/(?P<rel>\d{4}\.png)$", 800,
            "DIV2K_train_HR.zip (NTIRE 2017)"),
    DataSet("DIV2K-valid", "DIV2K/DIV2K_valid_HR", r"DIV2K_valid_HR/(?P<rel>\d{4}\.png)$", 100,
            "DIV2K_valid_HR.zip (NTIRE 2017)"),
)


class DataError(ValueError):
    """An archive or a prepared set is not what it should be (one line for the user)."""


def pixel_sha256(data: bytes) -> str:
    """SHA-256 of an encoded image's decoded pixels: its mode, size and raw bytes."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            header = f"{im.mode} {im.width}x{im.height}\n".encode()
            return hashlib.sha256(header + im.tobytes()).hexdigest()
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"not a readable image ({err})") from None


def members(source: Path) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every image file in an archive or a folder (paths with '/')."""
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                yield path.relative_to(source).as_posix(), path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                if not info.is_dir() and info.filename.lower().endswith(IMAGE_SUFFIXES):
                    yield info.filename, archive.read(info)
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            for info in archive:
                if info.isfile() and info.name.lower().endswith(IMAGE_SUFFIXES):
                    yield info.name, archive.extractfile(info).read()
    else:
        raise DataError(f"{source}: not a folder, a zip or a tar archive")


def recorded_sums(name: str) -> dict[str, str] | None:
    """The recorded pixel checksums of a set (``rel path → sha256``), None if none are recorded."""
    path = SUMS_DIR / f"{name}.sha256"
    if not path.is_file():
        return None
    return {rel: digest for digest, rel in (line.split(maxsplit=1) for line in path.read_text().splitlines())}


def folder_sums(folder: Path) -> dict[str, str]:
    """The pixel checksum of every image under ``folder`` (``rel path → sha256``)."""
    return {rel: pixel_sha256(data) for rel, data in members(folder)}


def check(dataset: DataSet, written: dict[str, str]) -> str:
    """One line on the set just written (``rel path → pixel sha256``); raises DataError on a mismatch."""
    expected = recorded_sums(dataset.name)
    if expected is None:
        if len(written) != dataset.count:
            raise DataError(f"{dataset.name}: {len(written)} images, expected {dataset.count}")
        return f"{dataset.name}: {len(written)} images (no checksums recorded; count checked)"
    by_stem = {Path(rel).with_suffix("").as_posix(): digest for rel, digest in expected.items()}
    wrong = [rel for rel, digest in written.items() if by_stem.get(Path(rel).with_suffix("").as_posix()) != digest]
    if wrong:
        raise DataError(f"{dataset.name}: {len(wrong)} image(s) differ from the recorded checksums "
                        f"(first: {sorted(wrong)[0]})")
    missing = len(expected) - len(written)
    note = f"; {missing} of the recorded images were not in the archives" if missing else ""
    return f"{dataset.name}: {len(written)} images, every checksum matches{note}"


def prepare(sources: Sequence[Path], out: Path) -> list[str]:
    """Extract every known set found in ``sources`` under ``out`` and check it; one line per set."""
    patterns = [(dataset, re.compile(dataset.members)) for dataset in SETS]
    written: dict[DataSet, dict[str, str]] = {}
    for source in sources:
        if not source.exists():
            raise DataError(f"{source}: no such file or folder")
        for path, data in members(source):
            for dataset, pattern in patterns:
                match = pattern.search(path)
                if match:
                    rel = match.group("rel")
                    target = out / dataset.folder / rel
                    try:
                        digest = pixel_sha256(data)
                    except DataError as err:
                        raise DataError(f"{source}: {path}: {err}") from None
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    written.setdefault(dataset, {})[rel] = digest
                    break
    if not written:
        raise DataError("none of the known data sets is in " + ", ".join(map(str, sources)))
    return [check(dataset, files) for dataset, files in written.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m training.data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build the data folders from downloaded archives, checking every image")
    prep.add_argument("sources", nargs="+", type=Path, help="zip/tar archives or folders")
    prep.add_argument("--out", type=Path, required=True, help="data root, e.g. ../shared/data")
    sums = sub.add_parser("sums", help="print the pixel checksums of a folder's images (sha256sum format)")
    sums.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            for line in prepare(args.sources, args.out):
                print(line)
        else:
            if not args.folder.is_dir():
                raise DataError(f"{args.folder}: not a folder")
            for rel, digest in sorted(folder_sums(args.folder).items()):
                print(f"{digest}  {rel}")
    except (DataError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
