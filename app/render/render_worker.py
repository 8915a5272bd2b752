"""One long-lived render worker per device, living in its own QThread.

It serves plans latest-wins: :meth:`RenderWorker.submit` replaces the whole queue, and the job
in flight stops between query chunks unless the new plan still wants it. Exports have priority
over tiles and are cancelled only on request. The work itself (the models, tiles, metrics and
exports) is a :class:`~app.render.job_runner.JobRunner`'s, without Qt; models never run on the GUI
thread, and results come back through queued signals, as numpy.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

import torch
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from app.model.jobs import ExportItem, Job
from app.model.method_provider import MethodProvider
from app.render.job_runner import JobRunner, Replies
from app.render.thread_priority import run_in_background
from sr_core.memory import release_freed_memory

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
                 threads: int | None = None, background: bool = False) -> None:
        super().__init__()
        #: its threads run below the GUI thread's priority (:func:`run_in_background`)
        self.background = background
        self.device = torch.device(device)
        self.runner = JobRunner(provider, self.device, Replies(
            self.tileReady.emit, self.tileFailed.emit, self.progress.emit, self.metricsReady.emit,
            self.methodFailed.emit, self.exportProgress.emit, self.exportFinished.emit, self.exportFailed.emit),
            precision=precision, cache_bytes=cache_bytes, chunk=chunk)
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
        self._thread = QThread()
        self._thread.setObjectName(f"zoomsr-{name}-{device}")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._init_thread)
        self._wake.connect(self._drain)
        self._finish.connect(self._close)

    def start(self) -> None:
        self._thread.start()

    @property
    def precision(self) -> str:
        return self.runner.precision

    @property
    def cache_bytes(self) -> int:
        return self.runner.cache_bytes

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
        methods = [m for m in methods if not self.runner.loaded(m)]
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
            self.runner.retry_failed()

    def dtype_of(self, method: str) -> torch.dtype | None:
        """The dtype that renders ``method``'s displayed tiles (None until it is loaded)."""
        return self.runner.dtype_of(method)

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
        """OpenMP's thread count is per calling thread: each worker sets its own, after torch's
        lazy per-thread set-up (its first parallel loop), which would otherwise reset it to the
        last count set anywhere (measured: the preview worker ran bicubic tiles with 2 threads,
        100× slower on a busy 2-core CPU, whenever torch had not run in the GUI thread first).
        A background worker lowers its priority first, so that its OpenMP helpers inherit it."""
        if self.background:
            run_in_background()
        torch.ones(1 << 17).add_(1)  # large enough for a parallel loop
        torch.set_num_threads(self.threads)

    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                self._current = None
                for key in self._forget:
                    self.runner.forget(key)
                self._forget.clear()
                if self._stopping or not (self._exports or self._jobs or self._preload):
                    self._running = False
                    break
                export = self._exports.popleft() if self._exports else None
                job = None if export is not None or not self._jobs else self._jobs.popleft()
                preload = None if export is not None or job is not None else self._preload.pop(0)
                self._current, self._token = job, threading.Event()
            if preload is not None:
                self.runner.renderer(preload)
            elif export is not None:
                self.runner.run_export(export, self._export_cancelled)
            else:
                self.runner.run(job, self._cancelled, self._queued)
        release_freed_memory()  # the queue is done: what its renders freed goes back to the system
        if not self._stopping:
            self.idle.emit()

    def _export_cancelled(self) -> bool:
        return self._export_cancel or self._stopping

    def _queued(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)

    @Slot()
    def _close(self) -> None:
        self.runner.close()
        self.moveToThread(QCoreApplication.instance().thread())
        self._thread.quit()
