"""What a render worker does with one job, without the thread around it (no Qt).

A :class:`JobRunner` owns the models of one device (one :class:`~sr_core.render.Renderer` per
method, each with its feature cache; on a CPU with native bfloat16 a second, bfloat16 one for
the tiles that are only displayed, see ``sr_core.display_precision``; metrics and exports stay
float32) and runs tile, metrics and export jobs. Results go to :class:`Replies` as plain data
and numpy (``app.model.jobs``): the worker's signals in the viewer, lists in tests.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from app.model.jobs import ExportItem, Job, MetricsJob, MetricsResult, TileJob, TileResult
from app.model.method_provider import BICUBIC, MethodProvider
from app.model.tiles import TileKey
from sr_core import metrics
from sr_core.display_precision import display_dtype
from sr_core.geometry import Rect
from sr_core.image_writer import save_image
from sr_core.imaging import to_levels, to_uint8
from sr_core.logs import unexpected
from sr_core.render import FeatureCache, RenderCancelled, Renderer, RenderError

#: rows rendered at a time by exports (bounds their float memory)
EXPORT_STRIP = 256
#: tiles rendered in part whose pixels are kept for their next render (at most 256² float
#: RGB each: 12 MiB in all); the peeks of six panels and a view's edge tiles fit
PARTS_KEPT = 16

Cancel = Callable[[], bool]


@dataclass(frozen=True)
class Replies:
    """Where a runner's results go."""

    tile_ready: Callable[[TileResult], None]
    tile_failed: Callable[[TileKey, str], None]
    #: job key, done, total
    progress: Callable[[object, int, int], None]
    metrics_ready: Callable[[MetricsResult], None]
    #: method, why it cannot load
    method_failed: Callable[[str, str], None]
    export_progress: Callable[[int, int], None]
    #: the paths written
    export_finished: Callable[[list], None]
    export_failed: Callable[[str], None]


class JobRunner:
    """Runs jobs for one device, one at a time, in the calling thread."""

    def __init__(self, provider: MethodProvider, device: torch.device, replies: Replies, *,
                 precision: str = "float32", cache_bytes: int = 256 * 2**20, chunk: int | None = None) -> None:
        self.provider = provider
        self.device = device
        self.replies = replies
        self.precision = precision
        self.cache_bytes = cache_bytes
        #: encoder features of all this runner's renderers, within one budget
        self.features = FeatureCache(cache_bytes)
        self.chunk = chunk  # None: the renderer's per-device default (small on CPUs)
        #: (method, exact): exact renderers serve metrics and exports, the others what is displayed
        self._renderers: dict[tuple[str, bool], Renderer] = {}
        self._failed: dict[str, str] = {}
        self._partial: dict[tuple, tuple[np.ndarray, set[TileKey]]] = {}
        #: displayed tiles rendered in part (a peek, an edge tile's shown part): their pixels,
        #: copied into the tile's next, larger render instead of computed again
        self._parts: dict[TileKey, tuple[Rect, np.ndarray]] = {}

    def loaded(self, method: str) -> bool:
        """Whether the method's display renderer is loaded, or failed to load."""
        return (method, False) in self._renderers or method in self._failed

    def dtype_of(self, method: str) -> torch.dtype | None:
        """The dtype that renders ``method``'s displayed tiles (None until it is loaded)."""
        renderer = self._renderers.get((method, False))
        return None if renderer is None else next(renderer.method.parameters(), torch.empty(0)).dtype

    def retry_failed(self) -> None:
        """Try methods that failed to load again (e.g. after importing weights)."""
        self._failed.clear()
        self._renderers = {k: v for k, v in self._renderers.items() if k[0] == BICUBIC}
        self._parts.clear()

    def forget(self, image_key: int) -> None:
        """Drop cached features and partial metrics of an image no longer shown."""
        self.features.forget(image_key)
        for key in [k for k in self._partial if k[2] == image_key]:
            del self._partial[key]
        for tile in [k for k in self._parts if k.image == image_key]:
            del self._parts[tile]

    def close(self) -> None:
        """Let the models go."""
        self._renderers.clear()
        self.features.clear()
        self._partial.clear()
        self._parts.clear()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def renderer(self, method: str, exact: bool = False) -> Renderer | None:
        """The method's renderer, loaded on first use; None (reported once) if it cannot load.

        ``exact``: for numbers and files (float32 on CPUs); otherwise for display only."""
        if method in self._failed:
            return None
        renderer = self._renderers.get((method, exact))
        if renderer is not None:
            return renderer
        try:
            model = self.provider.load(method, self.device)
            if (method, not exact) in self._renderers:  # the other renderer converted it in place
                model = copy.deepcopy(model)
            info = self.provider.info(method)
            if self.device.type != "cpu":
                dtype = info.dtype(self.precision)
            elif exact or "bfloat16" not in info.precisions:
                dtype = torch.float32
            else:
                dtype = display_dtype(model, self.device)
            renderer = Renderer(model, device=self.device, dtype=dtype, cache=self.features, chunk=self.chunk)
        except Exception as err:  # noqa: BLE001 - any failure becomes a message in the window
            self._failed[method] = describe(err)
            self.replies.method_failed(method, self._failed[method])
            return None
        self._renderers[method, exact] = renderer
        if self.device.type != "cpu" or (not exact and dtype == torch.float32):  # one serves both
            self._renderers[method, not exact] = renderer
        return renderer

    def run(self, job: Job, cancel: Cancel, queued: Callable[[], list[Job]]) -> None:
        """Run a tile or metrics job; ``queued()`` is what the worker will run next."""
        if isinstance(job, MetricsJob):
            self.run_metrics(job, cancel)
        else:
            self.run_tile(job, cancel, queued)

    def run_tile(self, job: TileJob, cancel: Cancel, queued: Callable[[], list[Job]]) -> None:
        key = job.key
        renderer = self.renderer(key.method, exact=job.keep_pixels)  # kept pixels give numbers
        if renderer is None:
            return
        rect = job.part or key.rect
        known = None if job.keep_pixels else self._parts.get(key)
        start, encoding = time.perf_counter(), renderer.encoder_seconds
        try:
            rgb = renderer.render(job.source, key.out_h, key.out_w, rect, cancel=cancel, known=known,
                                  progress=lambda done, total: self.replies.progress(key, done, total))
        except RenderCancelled:
            return
        except Exception as err:  # noqa: BLE001 - out of memory and bugs alike: report, go on
            self.replies.tile_failed(key, describe(err))
            return
        # the method's cost leaves out the encoder, whose features other methods may share
        seconds = time.perf_counter() - start - (renderer.encoder_seconds - encoding)
        copied = None if known is None else known[0].intersection(rect)
        queried = rect.area - (0 if copied is None else copied.area)
        if not job.keep_pixels:
            self._keep_part(key, job.part, rgb)
        self.replies.tile_ready(TileResult(key, to_uint8(rgb), rgb if job.keep_pixels else None, job.part,
                                           seconds, queried))
        if not job.ahead:
            self._prefetch_rest(renderer, job, cancel, queued())

    def _keep_part(self, key: TileKey, part: Rect | None, rgb: np.ndarray) -> None:
        """Keep the pixels of a tile rendered in part (the last ``PARTS_KEPT``) for its next
        render; a tile rendered whole needs none."""
        self._parts.pop(key, None)
        if part is None:
            return
        self._parts[key] = part, rgb
        while len(self._parts) > PARTS_KEPT:
            del self._parts[next(iter(self._parts))]

    def _prefetch_rest(self, renderer: Renderer, job: TileJob, cancel: Cancel, queued: list[Job]) -> None:
        """Once a tile is there, encode the features under the queued tiles of its grid at once.

        Tile by tile, each render would encode its few missing encoder tiles with a whole halo
        of the encoder's radius: for LIIF at ×4 with 256-px tiles that halo cost more than the
        encoder's own work. Features do not depend on the zoom, so they serve later zooms too.
        """
        key = job.key
        rects = [j.part or j.key.rect for j in queued if isinstance(j, TileJob) and not j.ahead
                 and (j.key.method, j.key.image, j.key.grid) == (key.method, key.image, key.grid)
                 and j.keep_pixels == job.keep_pixels]
        if not rects:
            return
        box = functools.reduce(Rect.bounding, rects)
        try:
            renderer.prefetch(job.source, key.out_h, key.out_w, box, cancel=cancel)
        except (RenderCancelled, RenderError, MemoryError):
            return  # a failure shows on the tiles themselves

    def run_metrics(self, job: MetricsJob, cancel: Cancel) -> None:
        """Whole-image PSNR/SSIM; a cancelled run resumes where it stopped."""
        renderer = self.renderer(job.method, exact=True)
        if renderer is None:
            return
        out_h, out_w = job.gt.grid
        keys = [TileKey(job.method, job.source.key, out_h, out_w, job.tile, r, c)
                for r in range(math.ceil(out_h / job.tile)) for c in range(math.ceil(out_w / job.tile))]
        buffer, done = self._partial.setdefault(job.key, (np.empty((out_h, out_w, 3), np.float32), set()))
        try:
            for key in keys:
                if key in done:
                    continue
                r = key.rect
                buffer[r.top:r.bottom, r.left:r.right] = renderer.render(job.source, out_h, out_w, r, cancel=cancel)
                done.add(key)
                self.replies.progress(job.key, len(done), len(keys))
        except RenderCancelled:
            return
        except Exception as err:  # noqa: BLE001 - e.g. out of memory: the panels keep working
            del self._partial[job.key]
            self.replies.metrics_ready(MetricsResult(job.method, job.source.key, math.nan, math.nan,
                                                     describe(err)))
            return
        del self._partial[job.key]
        gt, shave = job.gt.pixels(), job.gt.shave
        self.replies.metrics_ready(MetricsResult(
            job.method, job.source.key, metrics.psnr(buffer, gt, shave=shave, space="y"),
            metrics.ssim(buffer, gt, shave=shave, space="y")))

    def run_export(self, items: list[ExportItem], cancel: Cancel) -> None:
        """Render and write the files (format by their ending) strip by strip."""
        total = sum(item.rect.height * item.rect.width for item in items)
        written: list[str] = []
        finished = 0
        try:
            for item in items:
                renderer = self.renderer(item.method, exact=True)
                if renderer is None:
                    raise RenderError(f"{item.method}: {self._failed[item.method]}")
                rect = item.rect
                out = np.empty((rect.height, rect.width, 3), np.uint16 if item.bits == 16 else np.uint8)
                for top in range(rect.top, rect.bottom, EXPORT_STRIP):
                    strip = Rect(top, rect.left, min(top + EXPORT_STRIP, rect.bottom), rect.right)
                    out[strip.top - rect.top:strip.bottom - rect.top] = to_levels(renderer.render(
                        item.source, item.out_h, item.out_w, strip, cancel=cancel), item.bits)
                    finished += strip.height * strip.width
                    self.replies.export_progress(finished, total)
                save_image(item.path, out, bits=item.bits, metadata=item.metadata)
                written.append(item.path)
        except RenderCancelled:
            done = f" {len(written)} of {len(items)} files were written." if written else " Nothing was written."
            self.replies.export_failed("Export cancelled." + done)
            return
        except Exception as err:  # noqa: BLE001
            self.replies.export_failed(f"Export failed: {describe(err)}")
            return
        self.replies.export_finished(written)


def describe(err: BaseException) -> str:
    """A readable message; unexpected errors' tracebacks go to the log file it names."""
    if isinstance(err, (RenderError, LookupError, ValueError, OSError)):
        return str(err)
    return unexpected(err, "Unexpected error")
