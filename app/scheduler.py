"""The GUI-thread side of rendering: what is wanted, in which order, and what has arrived.

:class:`TileScheduler` keeps the current :class:`~app.render_plan.RenderPlan` (built once per
document, view of the :class:`~app.view_model.ViewModel`, layers, tile size and methods'
state), turns it into ordered job lists, hands them to
two workers — a CPU *preview* worker for bicubic tiles (instant feedback) and the *model*
worker of the chosen device — keeps the arrived tiles, and tells the panels when to repaint.
Every change of view replaces both workers' queues (latest wins); during a zoom the model
worker is stopped at once and given the new plan when the zooming pauses.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from app.background import Background
from app.document import Document
from app.jobs import ExportItem, Job, MetricsResult, TileResult
from app.layers import Kind, Layer, LayerTiles
from app.method_provider import BICUBIC, GROUND_TRUTH, MethodProvider, display_name
from app.refinement import LayerStatus, Refinement
from app.region_metrics import RegionMetrics
from app.render_plan import PlannedLayer, RenderPlan
from app.render_worker import RenderWorker
from app.settings import AUTO_DEVICE, Settings
from app.tile_cache import ShownTile, TileCache
from app.tiles import TileKey
from app.truth_metrics import TruthMetrics
from app.view_model import ViewModel
from sr_core.devices import available_devices, resolve_device
from sr_core.registry import MethodStatus

#: quiet time after the last zoom step before the model worker gets the new plan
MODEL_DELAY_MS = 150
#: at most this many repaint notifications per second
NOTIFY_MS = 30
#: a progress tick alone (no new tile) repaints at most this often: every repaint redraws the
#: panels on the GUI thread, which shares the cores with the model's threads
PROGRESS_MS = 250
#: bicubic previews are quick: one query chunk per tile
PREVIEW_CHUNK = 512 * 512

#: the rendered tiles keep at least this much whatever the image takes of the memory budget
MIN_TILE_BYTES = 64 * 2**20


def _model_features(settings: Settings) -> int:
    """The model worker's encoder features: three quarters of their half of the budget."""
    return settings.cache_bytes * 3 // 4


class TileScheduler(QObject):
    """Plans and collects the tiles of every layer; the only owner of the workers."""

    updated = Signal()
    #: (level, text) for the window's message bar: level is "error", "warning" or "info"
    message = Signal(str, str)
    exportProgress = Signal(int, int)
    exportFinished = Signal(list)
    exportFailed = Signal(str)

    def __init__(self, provider: MethodProvider, settings: Settings, view: ViewModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.provider = provider
        self.view_model = view
        self.tile_size = settings.tile_size
        #: the tiles' budget before the document's pixels are taken from it
        self.tile_budget = settings.cache_bytes
        self.cache = TileCache(settings.cache_bytes)
        self.background = Background()
        self.doc: Document | None = None
        self.layers: list[Layer] = []
        #: the plan of (doc, view, layers, tile size, methods' state); None: to be built on first read
        self._plan: RenderPlan | None = None
        self._statuses: dict[str, MethodStatus] = {}
        self._tile_errors: dict[TileKey, str] = {}
        self._method_errors: dict[str, str] = {}
        self._reported: set[tuple[str, str]] = set()
        self.refinement = Refinement()
        self.truth = TruthMetrics(self.background, self._notify, self._report)
        self._model_jobs: list[Job] = []
        self._model_zoom: float | None = None
        self._plan_timer = self._timer(0, self._replan)
        self._model_timer = self._timer(MODEL_DELAY_MS, self._submit_model)
        self._notify_timer = self._timer(NOTIFY_MS, self.updated.emit)
        self._progress_timer = self._timer(PROGRESS_MS, self._notify)
        # one thread: bicubic tiles take milliseconds, and the model's threads keep the cores
        self.preview = self._worker("cpu", "float32", settings.cache_bytes // 4, "preview", PREVIEW_CHUNK, threads=1)
        self.device = self._checked_device(settings.device)
        self.model = self._worker(self.device, settings.precision, _model_features(settings), "model")
        view.changed.connect(self.schedule)

    def _timer(self, ms: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    @staticmethod
    def _checked_device(device: str) -> str:
        """The device; ``auto`` is the first GPU if there is one; the CPU when the device is not
        present (the window says so)."""
        if device == AUTO_DEVICE:
            return str(resolve_device("auto"))
        return device if device in available_devices() else "cpu"

    def _worker(self, device: str, precision: str, cache_bytes: int, name: str,
                chunk: int | None = None, threads: int | None = None) -> RenderWorker:
        worker = RenderWorker(self.provider, device, precision=precision, cache_bytes=cache_bytes,
                              chunk=chunk, name=name, threads=threads)
        worker.tileReady.connect(self._on_tile)
        worker.tileFailed.connect(self._on_tile_failed)
        worker.progress.connect(self._on_progress)
        worker.metricsReady.connect(self._on_metrics)
        worker.methodFailed.connect(self._on_method_failed)
        worker.idle.connect(self._notify)
        worker.exportProgress.connect(self.exportProgress)
        worker.exportFinished.connect(self.exportFinished)
        worker.exportFailed.connect(self.exportFailed)
        worker.start()
        return worker

    # --- inputs ---------------------------------------------------------------------------

    def set_document(self, doc: Document | None) -> None:
        old = set(self.doc.sources()) if self.doc is not None else set()
        if old:
            self.cache.forget_images(old)
            self.preview.forget(list(old))
            self.model.forget(list(old))
        self.doc = doc
        self._fit_tile_budget()
        self._tile_errors.clear()
        self.truth.reset(doc)
        self.refinement.reset_clocks()
        self.schedule()

    def _fit_tile_budget(self) -> None:
        """The tiles get their budget less the document's pixels (never under MIN_TILE_BYTES)."""
        pixels = sum(s.nbytes for s in self.doc.sources().values()) if self.doc is not None else 0
        self.cache.max_bytes = max(MIN_TILE_BYTES, self.tile_budget - pixels)

    def set_layers(self, layers: list[Layer]) -> None:
        self.layers = layers
        self.schedule()

    def configure(self, settings: Settings) -> None:
        """Apply changed settings: a new device or precision gets a fresh model worker."""
        device = self._checked_device(settings.device)
        self.tile_budget = settings.cache_bytes
        self._fit_tile_budget()
        if (device, settings.precision, _model_features(settings)) != \
                (self.device, self.model.precision, self.model.cache_bytes):
            self.model.stop()
            self.device = device
            self.model = self._worker(device, settings.precision, _model_features(settings), "model")
            self._method_errors.clear()
            self._reported.clear()
        if settings.tile_size != self.tile_size:
            self.tile_size = settings.tile_size
            self.cache.clear()
            self.truth.forget_tiles()
        self.schedule()

    def refresh_methods(self) -> None:
        """Read the methods' weight status again (after importing weights) and retry failures."""
        self._statuses.clear()
        self.retry()

    def retry(self) -> None:
        """Forget failures (out of memory, load errors) and render again."""
        self._tile_errors.clear()
        self._method_errors.clear()
        self._reported.clear()
        self.preview.retry_failed()
        self.model.retry_failed()
        self.schedule()

    def export(self, items: list[ExportItem]) -> None:
        """Write PNGs on the model worker (before its next tile); progress comes as signals."""
        self.model.export(items)

    def cancel_export(self) -> None:
        self.model.cancel_export()

    def schedule(self) -> None:
        """The plan's inputs changed: build it again when next read, and submit its jobs at the
        next turn of the event loop (changes in one turn coalesce)."""
        self._plan = None
        self._plan_timer.start()

    @property
    def pending(self) -> bool:
        """A replan is scheduled but has not run yet."""
        return self._plan_timer.isActive()

    def shutdown(self) -> None:
        """Stop both workers and the background pool (call before the window goes away)."""
        for timer in (self._plan_timer, self._model_timer, self._notify_timer, self._progress_timer):
            timer.stop()
        self.preview.stop()
        self.model.stop()
        self.background.shutdown()

    # --- what panels read -------------------------------------------------------------------

    def kind(self, method: str) -> Kind:
        if method == GROUND_TRUTH:
            return Kind.TRUTH if self.doc is not None and self.doc.gt is not None else Kind.BLOCKED
        if method == BICUBIC:
            return Kind.BICUBIC
        if method in self._method_errors:
            return Kind.BLOCKED
        return Kind.MODEL if self.method_status(method)[0] else Kind.BLOCKED

    def method_status(self, method: str) -> tuple[bool, str]:
        """(available, reason) of a method, read once per refresh."""
        if method == GROUND_TRUTH:
            ok = self.doc is not None and self.doc.gt is not None
            return ok, "" if ok else "Open a ground-truth reference to show it (File ▸ Compare with ground truth…)."
        if method not in self.provider.names():
            return False, f"Unknown method {method!r}."
        status = self.weights(method)
        return status.available, status.reason

    def weights(self, method: str) -> MethodStatus:
        """The provider's status of a method (its weights and their provenance), read once per refresh."""
        if method not in self._statuses:
            self._statuses[method] = self.provider.status(method)
        return self._statuses[method]

    def method_error(self, method: str) -> str | None:
        """Why a method failed to load, if it did."""
        return self._method_errors.get(method)

    @property
    def plan(self) -> RenderPlan | None:
        """The render plan of the current document, view and layers (None without either)."""
        doc, view = self.doc, self.view_model.state
        if doc is None or view is None:
            return None
        if self._plan is None or self._plan.view is not view:
            self._plan = RenderPlan.build(doc, view, self.layers, self.kind, self.tile_size)
        return self._plan

    def planned(self, layer: Layer) -> PlannedLayer | None:
        """A layer's kind and tiles at the current view, from the plan (None without a plan)."""
        plan = self.plan
        if plan is None:
            return None
        return plan.entry(layer) or plan.extra(layer, self.kind(layer.method))

    def layer_tiles(self, layer: Layer) -> LayerTiles | None:
        """Tiles of a layer at the current view (None without a plan)."""
        planned = self.planned(layer)
        return None if planned is None else planned.tiles

    def tile(self, key: TileKey) -> ShownTile | None:
        """A rendered tile, if it is here."""
        return self.cache.get(key)

    def has_tile(self, key: TileKey) -> bool:
        """Whether the tile holds what the views need of it."""
        return key in self.cache

    def status(self, layer: Layer) -> LayerStatus:
        kind = self.kind(layer.method)
        if kind is Kind.BLOCKED:
            message = self._method_errors.get(layer.method) or self.method_status(layer.method)[1]
            return LayerStatus(kind, 0, 0, 0.0, None, message)
        numbers = None
        if self.doc is not None and self.doc.gt is not None and kind is not Kind.TRUTH \
                and self.whole_metrics(layer.method) is None and layer.method not in self._method_errors:
            numbers = self.whole_progress(layer.method)
        return self.refinement.status(layer.id, kind, self.layer_tiles(layer), self._final, self._tile_errors,
                                      numbers)

    def _final(self, key: TileKey) -> bool:
        """The tile is there, or failed (it shows bicubic)."""
        return key in self.cache or key in self._tile_errors

    def region_metrics(self, layer: Layer) -> RegionMetrics | None:
        """Metrics of the region a layer shows, if they match the current view."""
        tiles = self.layer_tiles(layer)
        return None if tiles is None else self.truth.region(layer.id, tiles.region)

    def whole_metrics(self, method: str) -> MetricsResult | None:
        """Whole-image metrics of a rendered method (None until computed)."""
        if self.doc is None or self.kind(method) not in (Kind.MODEL, Kind.BICUBIC):
            return None
        return self.truth.whole(method)

    def whole_progress(self, method: str) -> float:
        """How far the whole-image render behind the metrics has come (0 to 1)."""
        if self.doc is None or self.doc.gt is None:
            return 0.0
        return self.refinement.progress.get(("metrics", method, self.doc.source.key, self.doc.gt.grid), 0.0)

    def heatmap(self, key: TileKey) -> QImage | None:
        """Error overlay of a ground-truth-grid tile (made on first use)."""
        return self.truth.heatmap(key, self.cache)

    def is_settled(self) -> bool:
        """True when every layer shows its final tiles and metrics (tiles rendered ahead of the
        view may still be on their way: nobody waits for them)."""
        plan = self.plan
        if plan is None or self.pending or self._model_timer.isActive() or self.background.busy:
            return False
        for layer, kind, tiles in ((p.layer, p.kind, p.tiles) for p in plan.layers):
            if kind is Kind.BLOCKED:
                continue
            if not all(self._final(k) for k in tiles.fine + tiles.truth):
                return False
            if self.doc.gt is not None and kind is not Kind.TRUTH and layer.method not in self._method_errors \
                    and (self.whole_metrics(layer.method) is None
                         or (tiles.region is not None and self.region_metrics(layer) is None)):
                return False
        return True

    # --- planning ---------------------------------------------------------------------------

    def _replan(self) -> None:
        plan = self.plan
        if plan is None:
            self.preview.submit([])
            self.model.submit([])
            return
        self.cache.pin(set(plan.shown))
        self.cache.needs = plan.needs
        self.refinement.keep_progress(plan.shown)
        jobs = plan.jobs(wanted=lambda k, part: not self.cache.covers(k, part) and k not in self._tile_errors,
                         metrics_wanted=lambda m: self.truth.whole(m) is None and m not in self._method_errors)
        preview = [j for j in jobs if j.method == BICUBIC]
        self._model_jobs = [j for j in jobs if j.method != BICUBIC]
        self.model.preload(list(dict.fromkeys(p.layer.method for p in plan.layers if p.kind is Kind.MODEL)))
        self.preview.submit(preview)
        if self._model_zoom is not None and self._model_zoom != plan.view.zoom:
            self.model.submit([])
            self._model_timer.start()
        elif not self._model_timer.isActive():
            self._submit_model()
        self.refinement.start(plan, self._final)
        self.truth.update_regions(plan, self.cache)
        self._notify()

    def _submit_model(self) -> None:
        view = self.view_model.state
        self._model_zoom = view.zoom if view is not None else None
        self.model.submit(self._model_jobs)

    # --- results ----------------------------------------------------------------------------

    def _current(self, image_key: int) -> bool:
        return self.doc is not None and image_key in self.doc.sources()

    def _on_tile(self, result: TileResult) -> None:
        self.refinement.progress.pop(result.key, None)
        if not self._current(result.key.image) or result.key.size != self.tile_size:
            return
        if result.part is not None and self.cache.covers(result.key, result.part):
            return  # a part (a peek) that arrives after more of its tile: keep the more
        self.cache.put(ShownTile.of(result))
        plan = self.plan
        if plan is not None:
            self.refinement.stop(plan, self._final)
            self.truth.update_regions(plan, self.cache)
        self._notify()

    def _on_tile_failed(self, key: TileKey, message: str) -> None:
        self.refinement.progress.pop(key, None)
        if not self._current(key.image):
            return
        self._tile_errors[key] = message
        self._report(display_name(self.provider, key.method), message + " Showing bicubic there; "
                     "press F5 to try again.")
        plan = self.plan
        if plan is not None:
            self.refinement.stop(plan, self._final)
        self._notify()

    def _on_progress(self, key: object, done: int, total: int) -> None:
        self.refinement.progress[key] = done / total if total else 0.0
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _on_metrics(self, result: MetricsResult) -> None:
        self.truth.add_whole(result)
        if result.error:
            self._report(display_name(self.provider, result.method), f"whole-image metrics failed: {result.error}")
        if self.doc is not None and self.doc.gt is not None:
            self.refinement.progress.pop(("metrics", result.method, result.image, self.doc.gt.grid), None)
        self._notify()

    def _on_method_failed(self, method: str, message: str) -> None:
        self._method_errors[method] = message
        self._report(display_name(self.provider, method), message)
        self.schedule()

    def _report(self, who: str, message: str) -> None:
        if (who, message) not in self._reported:
            self._reported.add((who, message))
            self.message.emit("error", f"{who}: {message}")

    def _notify(self) -> None:
        if not self._notify_timer.isActive():
            self._notify_timer.start()
