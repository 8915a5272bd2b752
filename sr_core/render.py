"""The one door: render any rectangle of the virtual output grid of an image at any scale.

``Renderer.render(image, out_h, out_w, rect)`` answers "what are the RGB values of output
pixels ``rect`` of ``image`` upscaled to ``out_h × out_w``?" for the viewer, the command
line, the evaluation harness and the benchmarks alike. It

* runs the encoder only on the LR region the rectangle needs, in fixed LR tiles with an
  exact halo (the encoder's receptive-field radius), caching tile features in an LRU cache
  bounded in bytes, so a tile equals the same pixels of a whole-image render;
* does the method's per-LR-pixel decoder work (``prepare``) once per output block;
* evaluates the queries in chunks, checking ``cancel`` between chunks and reporting
  progress; on out-of-memory it halves the chunk and retries, then fails with a readable
  ``RenderError``;
* below ×1 it shows every method as the antialiased bicubic downscale (the implicit
  functions are neither trained nor meaningful there).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
import torch
from torch import Tensor

from sr_core import pixel_file
from sr_core.coords import Queries
from sr_core.geometry import Rect, Size
from sr_core.memory import bound_native_caches, keep_freed_blocks
from sr_core.methods.base import CropGeometry, FeatureCrop, SRMethod, denormalize, normalize
from sr_core.methods.bicubic import Bicubic

DEFAULT_CACHE_BYTES = 512 * 2**20
DEFAULT_BLOCK = 256
#: LR pixels a side of the cached encoder tiles (small: a block's LR footprint is covered
#: with little excess; the halo is paid per encoded piece of tiles, not per tile)
DEFAULT_ENCODER_TILE = 32
#: largest side (LR pixels, halo included) of a region the encoder runs on at once
MAX_PIECE = 640
MIN_CHUNK = 256

Cancel = Callable[[], bool]
Progress = Callable[[int, int], None]


class RenderCancelled(Exception):
    """Raised between chunks when the caller's ``cancel()`` returns True."""


class RenderError(RuntimeError):
    """A render that cannot complete (e.g. out of memory), with a readable message."""


def output_size(lr_h: int, lr_w: int, scale: float) -> Size:
    """Size of the virtual output grid of an ``lr_h × lr_w`` image at ``scale``."""
    return Size(max(1, round(lr_h * scale)), max(1, round(lr_w * scale)))


_image_keys = itertools.count()


class PixelsPending(RuntimeError):
    """The pixels of a :meth:`SourceImage.pending` image were read before they were filled."""


class SourceImage:
    """An LR image as the renderers see it: its ``H × W × 3`` RGB pixels kept as given, and
    handed out normalised (``(1, 3, h, w)`` float32 in [-1, 1]) one region at a time.

    ``pixels``: floats in [0, 1], or integer levels (uint8 / 255, uint16 / 65535), which stay
    integers: a 100-megapixel JPEG costs its 300 MB of levels, not a 1.2 GB float tensor.
    Views (e.g. an EXIF rotation) are kept as views, not copied. ``SourceImage.pending`` makes
    one whose size is known before its pixels are decoded (``fill`` gives them).
    """

    def __init__(self, pixels: np.ndarray) -> None:
        self._size = _rgb_size(pixels.shape)
        self._pixels: np.ndarray | None = \
            pixels if pixels.dtype in (np.uint8, np.uint16) else np.asarray(pixels, np.float32)
        self._dtype = self._pixels.dtype
        self.key = next(_image_keys)

    @classmethod
    def pending(cls, height: int, width: int, dtype: np.dtype | type = np.uint8) -> SourceImage:
        """A ``height × width`` image whose ``dtype`` pixels are still being decoded: its size
        and key are known, reading its pixels raises :class:`PixelsPending` until :meth:`fill`."""
        source = cls(np.zeros((1, 1, 3), dtype))
        source._size, source._pixels = Size(height, width), None
        return source

    def fill(self, pixels: np.ndarray) -> None:
        """Give a pending image its pixels (of the size and type it was made with)."""
        if self._pixels is not None:
            raise ValueError("the image has its pixels already")
        if _rgb_size(pixels.shape) != self._size or pixels.dtype != self._dtype:
            raise ValueError(f"expected {self._size.h}×{self._size.w}×3 {self._dtype} pixels, got "
                             f"{pixels.shape} {pixels.dtype}")
        self._pixels = pixels

    @property
    def ready(self) -> bool:
        """The pixels are there (always, except for a pending image not yet filled)."""
        return self._pixels is not None

    @property
    def pixels(self) -> np.ndarray:
        """The ``H × W × 3`` pixels as given; raises :class:`PixelsPending` before ``fill``."""
        if self._pixels is None:
            raise PixelsPending("the image's pixels are still being decoded")
        return self._pixels

    def rgb(self, top: int, bottom: int, left: int = 0, right: int | None = None) -> np.ndarray:
        """Pixels ``[top, bottom) × [left, right)`` (all columns by default) as ``h × w × 3``
        float32 in [0, 1]; only that window is converted."""
        window = self.pixels[top:bottom, left:right]
        if window.dtype == np.float32:
            return np.clip(window, 0.0, 1.0)
        out = window.astype(np.float32)
        out /= np.float32(np.iinfo(window.dtype).max)
        return out

    def region(self, top: int, bottom: int, left: int = 0, right: int | None = None) -> Tensor:
        """Pixels ``[top, bottom) × [left, right)`` as the models take them: ``(1, 3, h, w)``
        float32, normalised to [-1, 1]."""
        planar = torch.from_numpy(self.rgb(top, bottom, left, right)).permute(2, 0, 1).contiguous()
        return normalize(planar[None])  # contiguous planes: interleaved ones slow the models 10-40×

    @property
    def nbytes(self) -> int:
        """Memory the pixels take (a pending image: what they will take; pixels read from a
        mapped file: none, the pages read are handed back when the renderers are idle)."""
        if self._pixels is not None and pixel_file.is_mapped(self._pixels):
            return 0
        return self._size.h * self._size.w * 3 * self._dtype.itemsize

    @property
    def height(self) -> int:
        return self._size.h

    @property
    def width(self) -> int:
        return self._size.w


def _rgb_size(shape: tuple[int, ...]) -> Size:
    """The (height, width) of an ``H × W × 3`` array shape; ValueError for anything else."""
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {shape}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"the image is empty ({shape[0]}×{shape[1]} pixels)")
    return Size(int(shape[0]), int(shape[1]))


class FeatureCache:
    """LRU cache of tensors bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[tuple, Tensor] = OrderedDict()

    def get(self, key: tuple) -> Tensor | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: tuple, value: Tensor) -> None:
        self.nbytes += value.numel() * value.element_size()
        self._items[key] = value
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self.nbytes -= old.numel() * old.element_size()

    def forget(self, image_key: int) -> None:
        """Drop every entry of one image."""
        for key in [k for k in self._items if k[0] == image_key]:
            old = self._items.pop(key)
            self.nbytes -= old.numel() * old.element_size()

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0


def default_chunk(device: torch.device) -> int:
    """Queries per chunk: on a CPU, few enough that a chunk's activations stay in the caches
    and the C allocator reuses their memory (4 branches × 1024 queries × 256 channels × 4 B
    = 4 MB; 16 384 queries ran LIIF at half the speed, see docs/BENCHMARKS.md); on a GPU,
    enough to fill it."""
    return 1024 if device.type == "cpu" else 131_072


def is_out_of_memory(err: BaseException) -> bool:
    return isinstance(err, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in str(err)


_renderer_ids = itertools.count()


def features_key(method: SRMethod, encoder_tile: int) -> Hashable:
    """What a renderer's encoder features are cached under (with the image and the tile).

    Methods whose features are the same computation share them: one of ZoomSR's encoders
    (``sr_core.encoders``) run by the base :meth:`SRMethod.encode`, with the same class,
    weights (a digest of its state), dtype, device and tile size. The shipped methods trained
    from the LIIF authors' frozen encoder are such, so a comparison encodes a view once for all
    of them. Any other method (its own ``encode``, a user's network) gets a key of its own."""
    encoder = method.encoder
    if encoder is None or getattr(method.encode, "__func__", None) is not SRMethod.encode \
            or not type(encoder).__module__.startswith("sr_core.encoders."):
        return next(_renderer_ids)
    digest = hashlib.sha256()
    for name, tensor in encoder.state_dict().items():
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)} {tensor.device};".encode())
        digest.update(tensor.detach().reshape(-1).view(torch.uint8).cpu().numpy().tobytes())
    return type(encoder).__qualname__, encoder_tile, digest.hexdigest()


class Renderer:
    """Renders rectangles of one method's output on one device, caching encoder features in
    its own cache or in ``cache``, shared with other renderers (one budget for them all)."""

    def __init__(self, method: SRMethod, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 cache: FeatureCache | None = None, encoder_tile: int | None = None,
                 block: int = DEFAULT_BLOCK, chunk: int | None = None) -> None:
        bound_native_caches()  # before the first convolution
        keep_freed_blocks()
        self.device = torch.device(device)
        self.method = method.to(device=self.device, dtype=dtype).eval()
        self.downscaler = Bicubic().to(self.device)
        self.cache = cache if cache is not None else FeatureCache(cache_bytes)
        multiple = self.method.tile_multiple
        self.encoder_tile = -(-(encoder_tile or DEFAULT_ENCODER_TILE) // multiple) * multiple
        #: this renderer's part of the cache keys (image key, this, tile row, tile column):
        #: shared with renderers whose encoders compute the same features (:func:`features_key`)
        self.cache_id = features_key(self.method, self.encoder_tile)
        #: seconds spent encoding so far (features other renderers may reuse)
        self.encoder_seconds = 0.0
        self.block = block
        self.chunk = chunk or default_chunk(self.device)

    def render(self, image: SourceImage, out_h: int, out_w: int, rect: Rect | None = None, *,
               cancel: Cancel | None = None, progress: Progress | None = None,
               known: tuple[Rect, np.ndarray] | None = None) -> np.ndarray:
        """RGB float32 ``(rect.height, rect.width, 3)`` in [0, 1] of the output grid's ``rect``.

        ``known``: pixels of this grid already rendered by this renderer (their rect and RGB):
        they are copied into the result instead of being queried again.
        """
        rect = rect or Rect.full(out_h, out_w)
        if not (0 <= rect.top < rect.bottom <= out_h and 0 <= rect.left < rect.right <= out_w):
            raise ValueError(f"{rect} is not inside the {out_h}×{out_w} output grid")
        upscaling = out_h >= image.height and out_w >= image.width
        method = self.method if upscaling else self.downscaler
        out = np.empty((rect.height, rect.width, 3), np.float32)
        skip = None if known is None else known[0].intersection(rect)
        if skip is not None:
            assert known is not None and known[1].shape == (known[0].height, known[0].width, 3)
            src, dst = skip.shifted(-known[0].top, -known[0].left), skip.shifted(-rect.top, -rect.left)
            out[dst.top:dst.bottom, dst.left:dst.right] = known[1][src.top:src.bottom, src.left:src.right]
        done, total = 0, rect.area - (0 if skip is None else skip.area)
        with torch.inference_mode():
            self.prefetch(image, out_h, out_w, rect, cancel=cancel)
            for blk in rect.blocks(self.block):
                _check(cancel)
                inside = None if skip is None else skip.intersection(blk)
                if inside == blk:
                    continue
                fc = self._prepare(method, image, out_h, out_w, blk)
                q = Queries.grid(out_h, out_w, (blk.top, blk.bottom), (blk.left, blk.right),
                                 device=self.device)
                wanted = None if inside is None else ~_mask(inside, blk)
                if wanted is not None:
                    q = q.subset(torch.from_numpy(wanted.reshape(-1)).to(self.device))
                pieces = []
                size = self.chunk * method.chunk_factor if method.chunked else blk.height * blk.width
                for part in q.split(size):
                    _check(cancel)
                    pieces.append(self._query(method, fc, part))
                    done += part.iy.shape[1]
                    if progress is not None:
                        progress(done, total)
                rgb = denormalize(torch.cat(pieces, dim=1)[0])
                if not bool(torch.isfinite(rgb).all()):  # would be written as black, silently
                    raise RenderError(f"{method.arch} produced NaN or infinite values (damaged "
                                      "weights, or an overflow in half precision); nothing was drawn")
                dst = out[blk.top - rect.top:blk.bottom - rect.top, blk.left - rect.left:blk.right - rect.left]
                if wanted is None:
                    dst[...] = rgb.reshape(blk.height, blk.width, 3).cpu().numpy()
                else:
                    dst[wanted] = rgb.cpu().numpy()
        return out

    def prefetch(self, image: SourceImage, out_h: int, out_w: int, rect: Rect, *,
                 cancel: Cancel | None = None) -> None:
        """Encode and cache the LR features that rendering ``rect`` will read, all at once.

        The missing tiles are encoded together, in pieces of up to ``MAX_PIECE`` LR pixels a
        side (``cancel`` is checked between pieces), so a multi-block render pays the
        encoder's halo once per piece instead of once per block that finds tiles missing.
        Nothing happens below ×1, for methods without an encoder, or when the features would
        fill more than half of the cache (they would evict each other). The viewer calls it
        for the rest of a view once the first tile is there: tile by tile, the halo cost
        more than the encoder's own work.
        """
        method = self.method
        if method.encoder is None or out_h < image.height or out_w < image.width:
            return
        region = self._lr_region(method, image, out_h, out_w, rect)
        element = torch.finfo(method.encoder_dtype).bits // 8
        size = region.height * region.width * method.encoder.out_dim * element
        if size > self.cache.max_bytes // 2:
            return
        missing = [key for key in _tiles(region, self.encoder_tile)
                   if self.cache.get((image.key, self.cache_id, *key)) is None]
        if missing:
            with torch.inference_mode():
                self._encode_tiles(method, image, missing, cancel)

    def forget(self, image: SourceImage) -> None:
        """Release the cached features of an image that is no longer shown."""
        self.cache.forget(image.key)

    def _lr_region(self, method: SRMethod, image: SourceImage, out_h: int, out_w: int,
                   rect: Rect) -> Rect:
        """LR pixels that ``method`` reads (and prepares) to render ``rect``."""
        scale = min(out_h / image.height, out_w / image.width)
        reach = method.query_margin(scale) + method.prep_radius
        top, bottom = _footprint(rect.top, rect.bottom, out_h, image.height, reach)
        left, right = _footprint(rect.left, rect.right, out_w, image.width, reach)
        return Rect(top, left, bottom, right)

    def _prepare(self, method: SRMethod, image: SourceImage, out_h: int, out_w: int,
                 blk: Rect) -> FeatureCrop:
        region = self._lr_region(method, image, out_h, out_w, blk)
        lr = image.region(region.top, region.bottom, region.left, region.right).to(self.device)
        feat = lr if method.encoder is None else self._features(method, image, region)
        return method.prepare(feat, lr, CropGeometry(region.top, region.left, image.height, image.width))

    def _features(self, method: SRMethod, image: SourceImage, region: Rect) -> Tensor:
        """Encoder features of the LR ``region``, stitched from cached exact tiles."""
        t = self.encoder_tile
        tiles = {key: self.cache.get((image.key, self.cache_id, *key)) for key in _tiles(region, t)}
        missing = [key for key, tile in tiles.items() if tile is None]
        if missing:
            tiles.update(self._encode_tiles(method, image, missing))
        out: Tensor | None = None
        for (ty, tx), tile in tiles.items():
            assert tile is not None
            y0, x0 = ty * t, tx * t
            if out is None:
                out = tile.new_empty(tile.shape[0], tile.shape[1], region.height, region.width)
            sy0, sy1 = max(region.top, y0), min(region.bottom, y0 + tile.shape[-2])
            sx0, sx1 = max(region.left, x0), min(region.right, x0 + tile.shape[-1])
            out[..., sy0 - region.top:sy1 - region.top, sx0 - region.left:sx1 - region.left] = \
                tile[..., sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        assert out is not None
        return out

    def _encode_tiles(self, method: SRMethod, image: SourceImage, keys: list[tuple[int, int]],
                      cancel: Cancel | None = None) -> dict[tuple[int, int], Tensor]:
        """Encode (and cache) the tiles ``keys`` and the others in their bounding box.

        The box is encoded in pieces of at most ``MAX_PIECE`` LR pixels a side, each with
        one halo of the encoder's radius around the whole piece rather than one per tile.
        Every tile is exact whichever piece computes it: its receptive field lies inside the
        piece, and zero padding applies only at the image's borders.
        """
        t, r = self.encoder_tile, method.encoder_radius
        span = max(1, (min(MAX_PIECE, method.max_piece or MAX_PIECE) - 2 * r) // t)  # tiles per piece side
        ty0, ty1 = min(k[0] for k in keys), max(k[0] for k in keys) + 1
        tx0, tx1 = min(k[1] for k in keys), max(k[1] for k in keys) + 1
        out = {}
        for py in range(ty0, ty1, span):
            for px in range(tx0, tx1, span):
                _check(cancel)
                y0, y1 = py * t, min(min(py + span, ty1) * t, image.height)
                x0, x1 = px * t, min(min(px + span, tx1) * t, image.width)
                start = time.perf_counter()
                feat = self._encode(method, image, y0, y1, x0, x1)
                self.encoder_seconds += time.perf_counter() - start
                for ty in range(py, min(py + span, ty1)):
                    for tx in range(px, min(px + span, tx1)):
                        tile = feat[..., ty * t - y0:min((ty + 1) * t, y1) - y0,
                                    tx * t - x0:min((tx + 1) * t, x1) - x0].contiguous()
                        self.cache.put((image.key, self.cache_id, ty, tx), tile)
                        out[ty, tx] = tile
        return out

    def _encode(self, method: SRMethod, image: SourceImage, y0: int, y1: int, x0: int,
                x1: int) -> Tensor:
        """Exact encoder features of LR ``[y0, y1) × [x0, x1)``: encode it with a halo of
        the encoder's radius (clipped at the image borders) and crop the halo off."""
        r = method.encoder_radius
        iy0, ix0 = max(0, y0 - r), max(0, x0 - r)
        iy1, ix1 = min(image.height, y1 + r), min(image.width, x1 + r)
        lr = image.region(iy0, iy1, ix0, ix1).to(self.device, method.encoder_dtype)
        try:
            feat = method.encode(lr)
        except (RuntimeError, MemoryError) as err:
            if not is_out_of_memory(err):
                raise
            self._release_memory()
            raise RenderError(f"Out of memory while encoding a {iy1 - iy0}×{ix1 - ix0} tile on "
                              f"{self.device}. Lower the tile size or the memory budget, or "
                              "switch to the CPU.") from err
        return feat[..., y0 - iy0:y1 - iy0, x0 - ix0:x1 - ix0]

    def _query(self, method: SRMethod, fc: FeatureCrop, q: Queries) -> Tensor:
        """``method.query`` that halves the chunk on out-of-memory instead of failing."""
        try:
            return method.query(fc, q)
        except (RuntimeError, MemoryError) as err:
            if not is_out_of_memory(err):
                raise
            self._release_memory()
            size = q.iy.shape[1] // 2
            if size < MIN_CHUNK:
                raise RenderError(f"Out of memory on {self.device} even with {q.iy.shape[1]} "
                                  "queries per chunk. Free memory or switch to the CPU.") from err
            self.chunk = max(1, size // method.chunk_factor)
            return torch.cat([self._query(method, fc, part) for part in q.split(size)], dim=1)

    def _release_memory(self) -> None:
        self.cache.clear()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def _tiles(region: Rect, t: int) -> list[tuple[int, int]]:
    """``(row, col)`` of the ``t × t`` encoder tiles that hold the LR ``region``, row-major."""
    return [(ty, tx) for ty in range(region.top // t, (region.bottom - 1) // t + 1)
            for tx in range(region.left // t, (region.right - 1) // t + 1)]


def _mask(part: Rect, within: Rect) -> np.ndarray:
    """Boolean ``(within.height, within.width)``: True on the pixels of ``part``."""
    mask = np.zeros((within.height, within.width), bool)
    mask[part.top - within.top:part.bottom - within.top, part.left - within.left:part.right - within.left] = True
    return mask


def _footprint(start: int, stop: int, out_n: int, lr_n: int, reach: int) -> tuple[int, int]:
    """LR range ``[a, b)`` that output range ``[start, stop)`` reads, widened by ``reach``."""
    first = (2 * start + 1) * lr_n // (2 * out_n)
    last = (2 * (stop - 1) + 1) * lr_n // (2 * out_n)
    return max(0, first - reach), min(lr_n, last + 1 + reach)


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise RenderCancelled()
