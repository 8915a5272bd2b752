"""Training images: folders of HR images, decoded once into one in-memory uint8 buffer.

Images are decoded with ``sr_core.imaging.load_image`` (EXIF orientation, ICC, grey → RGB)
and kept as 8-bit RGB in a single contiguous array, which DataLoader workers share
copy-on-write. The *manifest* identifies the data exactly: sha256 over the sorted relative
paths, byte sizes and content hashes of the files.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sr_core.imaging import IMAGE_SUFFIXES, ImageLoadError, load_image


@dataclass(frozen=True)
class ImageFile:
    path: Path
    #: ``<root folder name>/<path inside the root>``, the name recorded in the manifest
    name: str


@dataclass(frozen=True)
class Manifest:
    sha256: str
    images: int
    pixels: int
    bytes: int
    roots: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"sha256": self.sha256, "images": self.images, "megapixels": round(self.pixels / 1e6, 3),
                "bytes": self.bytes, "roots": list(self.roots)}


def scan(roots: list[Path] | tuple[Path, ...]) -> list[ImageFile]:
    """Image files under ``roots`` (recursively), sorted by manifest name."""
    files = []
    for root in roots:
        if not root.is_dir():
            raise FileNotFoundError(f"training data folder {root} does not exist (pass --data DIR)")
        files += [ImageFile(p, f"{root.name}/{p.relative_to(root).as_posix()}")
                  for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    files.sort(key=lambda f: f.name)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError("two data folders share a name; their images would be indistinguishable "
                         "in the manifest")
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under "
                                f"{', '.join(map(str, roots))}")
    return files


def manifest_digest(entries: list[tuple[str, int, str]]) -> str:
    """sha256 over ``name, size, content sha256`` lines, sorted by name."""
    h = hashlib.sha256()
    for name, size, digest in sorted(entries):
        h.update(f"{name}\t{size}\t{digest}\n".encode())
    return h.hexdigest()


class ImageStore:
    """All images of a dataset as uint8 H×W×3 views into one buffer."""

    def __init__(self, buffer: np.ndarray, offsets: np.ndarray, shapes: np.ndarray,
                 names: list[str]) -> None:
        self.buffer, self.offsets, self.shapes, self.names = buffer, offsets, shapes, names

    def __len__(self) -> int:
        return len(self.names)

    def image(self, i: int) -> np.ndarray:
        h, w = self.shapes[i]
        start = self.offsets[i]
        return self.buffer[start:start + h * w * 3].reshape(h, w, 3)

    def min_side(self, indices: list[int] | np.ndarray) -> int:
        return int(self.shapes[np.asarray(indices)].min())

    @staticmethod
    def load(roots: list[Path] | tuple[Path, ...],
             threads: int | None = None) -> tuple[ImageStore, Manifest]:
        """Decode every image under ``roots`` (in threads) and compute the manifest."""
        files = scan(roots)
        with ThreadPoolExecutor(threads or min(16, os.cpu_count() or 1)) as pool:
            decoded = list(pool.map(_decode, files))
        shapes = np.array([d[0].shape[:2] for d in decoded], dtype=np.int64)
        sizes = shapes[:, 0] * shapes[:, 1] * 3
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        buffer = np.empty(int(sizes.sum()), dtype=np.uint8)
        entries = []
        for i, f in enumerate(files):
            pixels, size, digest = decoded[i]
            buffer[offsets[i]:offsets[i] + sizes[i]] = pixels.reshape(-1)
            decoded[i] = None  # release as we go: peak memory ≈ one copy
            entries.append((f.name, size, digest))
        manifest = Manifest(sha256=manifest_digest(entries), images=len(files),
                            pixels=int(sizes.sum()) // 3, bytes=sum(e[1] for e in entries),
                            roots=tuple(str(r) for r in roots))
        return ImageStore(buffer, offsets, shapes, [f.name for f in files]), manifest


def _decode(f: ImageFile) -> tuple[np.ndarray, int, str]:
    data = f.path.read_bytes()
    try:
        pixels = load_image(data).pixels
    except ImageLoadError as err:
        raise ImageLoadError(f"{f.path}: {err}") from None
    return np.rint(pixels * 255).astype(np.uint8), len(data), hashlib.sha256(data).hexdigest()
