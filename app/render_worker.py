"""One long-lived render worker per device, living in its own QThread.

It owns the models (one :class:`~sr_core.render.Renderer` per method, each with its feature
cache; on a CPU with native bfloat16 a second, bfloat16 one for the tiles that are only
displayed, see ``sr_core.display_precision``; metrics and exports stay float32) and serves
plans latest-wins: :meth:`RenderWorker.submit` replaces the whole queue,
and the job in flight stops between query chunks unless the new plan still wants it.
Exports have priority over tiles and are cancelled only on request. Models never run on the
GUI thread; results come back through queued signals.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import deque
from collections.abc import Sequence

import numpy as np
import torch
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from app.jobs import ExportItem, Job, MetricsJob, MetricsResult, TileJob, TileResult
from app.method_provider import BICUBIC, MethodProvider
from app.tiles import TileKey
from sr_core import metrics
from sr_core.display_precision import display_dtype
from sr_core.imaging import save_png, to_levels, to_uint8
from sr_core.logs import unexpected
from sr_core.render import Rect, RenderCancelled, Renderer, RenderError

#: rows rendered at a time by exports (bounds their float memory)
EXPORT_STRIP = 256
#: torch's intra-op threads, read before any worker sets its own
DEFAULT_THREADS = torch.get_num_threads()


class RenderWorker(QObject):
    """Renders jobs for one device; create it on the GUI thread, then call :meth:`start`."""

    tileReady = Signal(object)            # TileResult
    tileFailed = Signal(object, str)      # TileKey, message
    progress = Signal(object, int, int)   # job key, done, total
    metricsReady = Signal(object)         # MetricsResult
    methodFailed = Signal(str, str)       # method, message
    exportProgress = Signal(int, int)
    exportFinished = Signal(list)         # written paths
    exportFailed = Signal(str)
    idle = Signal()
    _wake = Signal()
    _finish = Signal()

    def __init__(self, provider: MethodProvider, device: str, *, precision: str = "float32",
                 cache_bytes: int = 256 * 2**20, chunk: int | None = None, name: str = "render",
                 threads: int | None = None) -> None:
        super().__init__()
        self.provider = provider
        self.device = torch.device(device)
        self.precision = precision
        self.cache_bytes = cache_bytes
        self.chunk = chunk  # None: the renderer's per-device default (small on CPUs)
        self._lock = threading.Lock()
        self._jobs: deque[Job] = deque()
        self._current: Job | None = None
        self._token = threading.Event()
        self._exports: deque[list[ExportItem]] = deque()
        self._export_cancel = False
        self._forget: list[int] = []
        self._preload: list[str] = []
        self._running = False
        self._stopping = False
        #: torch's intra-op threads in this worker's thread
        self.threads = threads or DEFAULT_THREADS
        #: (method, exact): exact renderers serve metrics and exports, the others what is displayed
        self._renderers: dict[tuple[str, bool], Renderer] = {}
        self._failed: dict[str, str] = {}
        self._partial: dict[tuple, tuple[np.ndarray, set[TileKey]]] = {}
        self._thread = QThread()
        self._thread.setObjectName(f"zoomsr-{name}-{device}")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._init_thread)
        self._wake.connect(self._drain)
        self._finish.connect(self._close)

    def start(self) -> None:
        self._thread.start()

    # --- called from the GUI thread -------------------------------------------------------

    def submit(self, jobs: Sequence[Job]) -> None:
        """Replace the queue with ``jobs`` (in order); the job in flight stops unless wanted."""
        with self._lock:
            current = self._current
            if current is not None and not current.background and any(j == current for j in jobs):
                jobs = [j for j in jobs if j != current]
            else:
                self._token.set()
            self._jobs = deque(jobs)
            wake = bool(jobs) and not self._running
            self._running = self._running or wake
        if wake:
            self._wake.emit()

    def preload(self, methods: list[str]) -> None:
        """Load these methods' display renderers when there is nothing else to do (a view below
        ×1 renders nothing), so that the first tile of the first zoom does not wait for them."""
        methods = [m for m in methods if (m, False) not in self._renderers and m not in self._failed]
        with self._lock:
            self._preload = methods
            wake = bool(methods) and not self._running
            self._running = self._running or wake
        if wake:
            self._wake.emit()

    def export(self, items: list[ExportItem]) -> None:
        """Write PNGs; runs before any queued tile. Cancel with :meth:`cancel_export`."""
        with self._lock:
            self._exports.append(items)
            self._export_cancel = False
            wake = not self._running
            self._running = True
        if wake:
            self._wake.emit()

    def cancel_export(self) -> None:
        self._export_cancel = True

    def forget(self, image_keys: list[int]) -> None:
        """Drop cached features and partial metrics of images no longer shown."""
        with self._lock:
            self._forget.extend(image_keys)

    def retry_failed(self) -> None:
        """Try methods that failed to load again (e.g. after importing weights)."""
        with self._lock:
            self._failed.clear()
            self._renderers = {k: v for k, v in self._renderers.items() if k[0] == BICUBIC}

    def dtype_of(self, method: str) -> torch.dtype | None:
        """The dtype that renders ``method``'s displayed tiles (None until it is loaded)."""
        renderer = self._renderers.get((method, False))
        return None if renderer is None else next(renderer.method.parameters(), torch.empty(0)).dtype

    @property
    def busy(self) -> bool:
        return self._running

    @property
    def alive(self) -> bool:
        """Whether the thread runs (until :meth:`stop`)."""
        return self._thread.isRunning()

    def stop(self) -> None:
        """Stop the work in flight and the thread; returns when the thread has finished."""
        with self._lock:
            self._stopping = True
            self._jobs.clear()
            self._exports.clear()
            self._token.set()
            self._export_cancel = True
        if self.alive:
            self._finish.emit()
            self._thread.wait()

    # --- the worker thread ----------------------------------------------------------------

    def _cancelled(self) -> bool:
        return self._stopping or self._token.is_set()

    @Slot()
    def _init_thread(self) -> None:
        """OpenMP's thread count is per calling thread: each worker sets its own."""
        torch.set_num_threads(self.threads)

    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                self._current = None
                for key in self._forget:
                    self._drop_image(key)
                self._forget.clear()
                if self._stopping or not (self._exports or self._jobs or self._preload):
                    self._running = False
                    break
                export = self._exports.popleft() if self._exports else None
                job = None if export is not None or not self._jobs else self._jobs.popleft()
                preload = None if export is not None or job is not None else self._preload.pop(0)
                self._current, self._token = job, threading.Event()
            if preload is not None:
                self._renderer(preload)
            elif export is not None:
                self._run_export(export)
            elif isinstance(job, MetricsJob):
                self._run_metrics(job)
            else:
                self._run_tile(job)
        if not self._stopping:
            self.idle.emit()

    @Slot()
    def _close(self) -> None:
        self._renderers.clear()
        self._partial.clear()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        self.moveToThread(QCoreApplication.instance().thread())
        self._thread.quit()

    def _drop_image(self, image_key: int) -> None:
        for renderer in self._renderers.values():
            renderer.cache.forget(image_key)
        for key in [k for k in self._partial if k[2] == image_key]:
            del self._partial[key]

    def _renderer(self, method: str, exact: bool = False) -> Renderer | None:
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
            renderer = Renderer(model, device=self.device, dtype=dtype, cache_bytes=self.cache_bytes,
                                chunk=self.chunk)
        except Exception as err:  # noqa: BLE001 - any failure becomes a message in the window
            self._failed[method] = _describe(err)
            self.methodFailed.emit(method, self._failed[method])
            return None
        self._renderers[method, exact] = renderer
        if self.device.type != "cpu" or (not exact and dtype == torch.float32):  # one serves both
            self._renderers[method, not exact] = renderer
        return renderer

    def _run_tile(self, job: TileJob) -> None:
        key = job.key
        renderer = self._renderer(key.method, exact=job.keep_pixels)  # kept pixels give numbers
        if renderer is None:
            return
        try:
            rgb = renderer.render(job.source, key.out_h, key.out_w, job.part or key.rect, cancel=self._cancelled,
                                  progress=lambda done, total: self.progress.emit(key, done, total))
        except RenderCancelled:
            return
        except Exception as err:  # noqa: BLE001 - out of memory and bugs alike: report, go on
            self.tileFailed.emit(key, _describe(err))
            return
        self.tileReady.emit(TileResult(key, to_uint8(rgb), rgb if job.keep_pixels else None, job.part))
        if not job.ahead:
            self._prefetch_rest(renderer, job)

    def _prefetch_rest(self, renderer: Renderer, job: TileJob) -> None:
        """Once a tile is there, encode the features under the queued tiles of its grid at once.

        Tile by tile, each render would encode its few missing encoder tiles with a whole halo
        of the encoder's radius: for LIIF at ×4 with 256-px tiles that halo cost more than the
        encoder's own work. Features do not depend on the zoom, so they serve later zooms too.
        """
        key = job.key
        with self._lock:
            rects = [j.part or j.key.rect for j in self._jobs if isinstance(j, TileJob) and not j.ahead
                     and (j.key.method, j.key.image, j.key.grid) == (key.method, key.image, key.grid)
                     and j.keep_pixels == job.keep_pixels]
        if not rects:
            return
        box = Rect(min(r.top for r in rects), min(r.left for r in rects),
                   max(r.bottom for r in rects), max(r.right for r in rects))
        try:
            renderer.prefetch(job.source, key.out_h, key.out_w, box, cancel=self._cancelled)
        except (RenderCancelled, RenderError, MemoryError):
            return  # a failure shows on the tiles themselves

    def _run_metrics(self, job: MetricsJob) -> None:
        renderer = self._renderer(job.method, exact=True)
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
                buffer[r.top:r.bottom, r.left:r.right] = renderer.render(
                    job.source, out_h, out_w, r, cancel=self._cancelled)
                done.add(key)
                self.progress.emit(job.key, len(done), len(keys))
        except RenderCancelled:
            return
        except Exception as err:  # noqa: BLE001 - e.g. out of memory: the panels keep working
            del self._partial[job.key]
            self.metricsReady.emit(MetricsResult(job.method, job.source.key, math.nan, math.nan,
                                                 _describe(err)))
            return
        del self._partial[job.key]
        gt, shave = job.gt.pixels(), job.gt.shave
        self.metricsReady.emit(MetricsResult(
            job.method, job.source.key, metrics.psnr(buffer, gt, shave=shave, space="y"),
            metrics.ssim(buffer, gt, shave=shave, space="y")))

    def _run_export(self, items: list[ExportItem]) -> None:
        total = sum(item.rect.height * item.rect.width for item in items)
        written: list[str] = []
        finished = 0

        def cancel() -> bool:
            return self._export_cancel or self._stopping

        try:
            for item in items:
                renderer = self._renderer(item.method, exact=True)
                if renderer is None:
                    raise RenderError(f"{item.method}: {self._failed[item.method]}")
                rect = item.rect
                out = np.empty((rect.height, rect.width, 3), np.uint16 if item.bits == 16 else np.uint8)
                for top in range(rect.top, rect.bottom, EXPORT_STRIP):
                    strip = Rect(top, rect.left, min(top + EXPORT_STRIP, rect.bottom), rect.right)
                    out[strip.top - rect.top:strip.bottom - rect.top] = to_levels(renderer.render(
                        item.source, item.out_h, item.out_w, strip, cancel=cancel), item.bits)
                    finished += strip.height * strip.width
                    self.exportProgress.emit(finished, total)
                save_png(item.path, out, bits=item.bits)
                written.append(item.path)
        except RenderCancelled:
            done = f" {len(written)} of {len(items)} files were written." if written else " Nothing was written."
            self.exportFailed.emit("Export cancelled." + done)
            return
        except Exception as err:  # noqa: BLE001
            self.exportFailed.emit(f"Export failed: {_describe(err)}")
            return
        self.exportFinished.emit(written)


def _describe(err: BaseException) -> str:
    """A readable message; unexpected errors' tracebacks go to the log file it names."""
    if isinstance(err, (RenderError, LookupError, ValueError, OSError)):
        return str(err)
    return unexpected(err, "Unexpected error")
