"""A very large photo's decoded pixels in a temporary file the process maps, not in its memory.

A 100-megapixel JPEG decodes to 300 MB of 8-bit levels: in the process' memory that is 3 bytes
per image pixel on top of Qt's and torch's (about 380 MB). Here libvips decodes the file a band
of rows at a time straight into a temporary file (``rawsave``: about 50 MB of its own at the
peak), which is then mapped read-only: the process holds only the pages something has read
(the kernel keeps the rest in its page cache or on disk), and :func:`release_resident` hands
those back once the renderers are idle. Reading a region is a page-cache copy, not a decode.

The files go to the per-user cache folder, not the temporary one, which is a RAM file system on
several Linux distributions (the pixels would stay in memory there). On Linux and macOS a file
is removed as soon as it is mapped (it lives while mapped: nothing is left after a crash); on
Windows when the image is closed, and files a crash left are removed the next time.
Without pyvips (or room on the disk) a large photo is decoded into memory.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import platformdirs

#: decoded pixels at least this large go to a file (a 45-megapixel 8-bit photo); smaller ones
#: stay in memory, where reading them costs nothing
MIN_BYTES = 128 * 2**20
#: rows converted at a time when a colour conversion runs over the file
BAND_ROWS = 256
#: free space the folder's disk keeps beyond the file (a rotated photo needs twice its size)
SPARE_DISK = 512 * 2**20
#: tile side of the intermediate TIFF a rotated photo goes through
TILE = 256

#: EXIF orientation → libvips operations (in order) giving the displayed image, as
#: :func:`sr_core.imaging.orient` does with array views
_ORIENT_OPS = {1: (), 2: ("fliphor",), 3: ("rot180",), 4: ("flipver",), 5: ("rot90", "fliphor"),
               6: ("rot90",), 7: ("rot270", "fliphor"), 8: ("rot270",)}

_mappings: weakref.WeakSet[_Mapping] = weakref.WeakSet()
_PREFIX, _SUFFIX = "zoomsr-pixels-", ".raw"


def folder() -> Path:
    """Where the pixel files go (made when missing): the per-user cache folder's ``pixels``."""
    path = Path(platformdirs.user_cache_dir("ZoomSR")) / "pixels"
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":  # files a crash left (those of a running viewer are locked)
        for stale in path.glob(f"{_PREFIX}*{_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()
    return path


def _new_file() -> Path:
    handle, name = tempfile.mkstemp(prefix=_PREFIX, suffix=_SUFFIX, dir=folder())
    os.close(handle)
    return Path(name)


class _Mapping:
    """One mapped file (kept alive by the arrays that read it)."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data

    def release(self) -> None:
        if not self.data.closed:
            _drop_pages(self.data)


def _drop_pages(data: mmap.mmap) -> None:
    """Unmap the pages of ``data`` the process holds (their contents stay in the file)."""
    if hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


class _MappedArray(np.ndarray):
    """An ndarray over a mapped file that remembers its mapping (its views share it)."""

    mapping: _Mapping | None = None

    def __array_finalize__(self, obj: object) -> None:
        self.mapping = getattr(obj, "mapping", None)


def available() -> bool:
    """Whether pyvips (libvips) can be imported."""
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def self_check() -> str:
    """Decode a small JPEG through a mapped file and compare it with Pillow's decode (the
    packaged app's selftest); libvips' version. Raises ``RuntimeError`` saying what failed."""
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (24, 40, 3), np.uint8)
    handle, name = tempfile.mkstemp(suffix=".jpg")
    os.close(handle)
    try:
        Image.fromarray(rgb).save(name, quality=95)
        with Image.open(name) as im:
            expected = np.asarray(im.convert("RGB"))
        try:
            decoded = decode_jpeg(name, 6)
        except (ImportError, OSError, ValueError) as exc:
            raise RuntimeError(f"libvips does not work ({exc})") from None
    finally:
        Path(name).unlink(missing_ok=True)
    if decoded.shape != (40, 24, 3) or int(np.abs(decoded.astype(int) - np.rot90(expected, -1)).max()) > 1:
        raise RuntimeError("libvips decoded a test JPEG differently from Pillow")
    import pyvips

    return f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"


def wanted(nbytes: int) -> bool:
    """Whether pixels of ``nbytes`` should go to a file: large enough, pyvips there, and room
    for them in :func:`folder`."""
    if nbytes < MIN_BYTES or not available():
        return False
    try:
        return shutil.disk_usage(folder()).free >= 2 * nbytes + SPARE_DISK
    except OSError:  # no cache folder to be had: decode into memory
        return False


def is_mapped(array: np.ndarray) -> bool:
    """Whether ``array`` reads a mapped file (its memory is the pages being read, not its size)."""
    return isinstance(array, _MappedArray) and array.mapping is not None


def release_resident(array: np.ndarray | None = None) -> None:
    """Hand back the pages of ``array``'s file that the process holds (all mapped files when
    None); the next read takes them from the page cache again. Nothing for other arrays, or
    where the system has no ``madvise``."""
    if array is None:
        for mapping in list(_mappings):
            mapping.release()
    elif is_mapped(array):
        array.mapping.release()


def empty(shape: tuple[int, int, int]) -> np.ndarray:
    """A zeroed, writable uint8 array of ``shape`` in a new mapped temporary file (e.g. a smaller
    level of pixels that are mapped already); hand its pages back while filling it."""
    path = _new_file()
    try:
        os.truncate(path, int(np.prod(shape)))
        return _map(path, shape, writable=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _map(path: Path, shape: tuple[int, int, int], writable: bool = False) -> np.ndarray:
    """``path``'s bytes as a uint8 ``shape`` array (read-only unless ``writable``); the file is
    removed at once (POSIX: it lives while mapped) or, where the system refuses, when the
    mapping is freed."""
    with open(path, "r+b" if writable else "rb") as f:
        data = mmap.mmap(f.fileno(), int(np.prod(shape)), access=mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ)
    mapping = _Mapping(data)
    try:
        path.unlink()
    except OSError:  # Windows: a mapped file cannot be removed yet
        weakref.finalize(mapping, path.unlink, missing_ok=True)
    _mappings.add(mapping)
    array = np.frombuffer(data, np.uint8).reshape(shape).view(_MappedArray)
    array.mapping = mapping
    return array


def _convert_in_place(path: Path, shape: tuple[int, int, int],
                      convert: Callable[[np.ndarray], np.ndarray]) -> None:
    """Apply ``convert`` (levels to levels, same shape) to the file's pixels a band at a time,
    giving each band's pages back once written."""
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), int(np.prod(shape))) as data:
        pixels = np.frombuffer(data, np.uint8).reshape(shape)
        try:
            for top in range(0, shape[0], BAND_ROWS):
                pixels[top:top + BAND_ROWS] = convert(pixels[top:top + BAND_ROWS])
                data.flush()
                _drop_pages(data)
        finally:
            del pixels  # before the mapping closes


def decode_jpeg(path: str | os.PathLike, orientation: int,
                convert: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """An 8-bit RGB or grey JPEG as displayed (EXIF ``orientation`` applied, grey as RGB),
    ``H × W × 3`` uint8 read from a mapped temporary file; ``convert`` (e.g. to sRGB) is applied
    band by band. Raises ``ValueError`` (one line) when libvips cannot decode the file."""
    import pyvips

    out, tiles = _new_file(), None
    try:
        # decoded a band at a time (sequential access) into the file
        image = pyvips.Image.new_from_file(os.fspath(path), access="sequential", fail_on="truncated")
        if image.format != "uchar" or image.bands not in (1, 3):
            raise ValueError(f"libvips reads it as {image.bands} bands of {image.format}")
        if image.bands == 1:
            image = image.bandjoin([image, image])
        if orientation != 1:
            # a rotation reads out of order: through an uncompressed tiled TIFF, whose tiles
            # libvips reads a column at a time (a random-access decode would hold all pixels)
            tiles = out.with_suffix(".tif")
            image.tiffsave(str(tiles), tile=True, tile_width=TILE, tile_height=TILE, compression="none")
            image = pyvips.Image.new_from_file(str(tiles), access="random")
            for op in _ORIENT_OPS[orientation]:
                image = getattr(image, op)()
        shape = (image.height, image.width, 3)
        image.rawsave(str(out))
        if out.stat().st_size != int(np.prod(shape)):
            raise ValueError("libvips wrote fewer pixels than the image has")
        if convert is not None:
            _convert_in_place(out, shape, convert)
        return _map(out, shape)
    except BaseException as exc:
        out.unlink(missing_ok=True)
        if isinstance(exc, pyvips.Error):
            text = " ".join(str(exc).split())
            raise ValueError(f"libvips could not decode it ({text[:200]})") from None
        raise
    finally:
        if tiles is not None:
            tiles.unlink(missing_ok=True)
