"""The GUI-thread side of rendering: what is wanted, in which order, and what has arrived.

:class:`TileScheduler` keeps the current :class:`~app.model.render_plan.RenderPlan` (built once per
document, view of the :class:`~app.render.view_model.ViewModel`, layers, tile size and methods'
state), turns it into ordered job lists, hands them to
two workers — a CPU *preview* worker for bicubic tiles (instant feedback) and the *model*
worker of the chosen device — keeps the arrived tiles, and tells the panels when to repaint.
The methods' kinds, weights and failures live in :class:`~app.model.method_states.MethodStates`
(``methods``), the tiles in ``cache``, the ground-truth numbers in ``truth`` and the progress
of jobs in flight in ``refinement``; exports go to the model worker directly.
Every change of view replaces both workers' queues (latest wins); during a zoom the model
worker is stopped at once and given the new plan when the zooming pauses.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from app.model.document import Document
from app.model.jobs import Job, MetricsKey, MetricsResult, TileResult
from app.model.layers import Kind, Layer, LayerTiles
from app.model.method_provider import BICUBIC, MethodProvider, display_name
from app.model.method_states import MethodStates
from app.model.priority import MethodCosts, peeked_layers, rank_layers
from app.model.refinement import LayerStatus, Refinement
from app.model.region_metrics import RegionMetrics
from app.model.render_plan import PlannedLayer, RenderPlan
from app.model.settings import AUTO_DEVICE, Settings
from app.model.tiles import TileKey
from app.render.background import Background
from app.render.render_worker import RenderWorker
from app.render.tile_cache import ShownTile, TileCache
from app.render.truth_metrics import TruthMetrics
from app.render.view_model import ViewModel
from sr_core.devices import available_devices, resolve_device

#: quiet time after the last zoom step before the model worker gets the new plan
MODEL_DELAY_MS = 150
#: at most this many repaint notifications per second
NOTIFY_MS = 30
#: a progress tick alone (no new tile) repaints at most this often: every repaint redraws the
#: panels on the GUI thread, which shares the cores with the model's threads
PROGRESS_MS = 250
#: bicubic previews are quick: one query chunk per tile
PREVIEW_CHUNK = 512 * 512


def _single_shot(parent: QObject, ms: int, slot: Callable[[], object]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


def checked_device(device: str) -> str:
    """The device; ``auto`` is the first GPU if there is one; the CPU when the device is not
    present (the window says so)."""
    if device == AUTO_DEVICE:
        return str(resolve_device("auto"))
    return device if device in available_devices() else "cpu"


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

    def __init__(self, provider: MethodProvider, settings: Settings, view: ViewModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.provider = provider
        self.view_model = view
        self.tile_size = settings.tile_size
        #: the tiles' budget before the document's pixels and preview are taken from it
        self.tile_budget = settings.cache_bytes
        #: memory the document's preview pyramid takes beyond its pixels
        self.preview_bytes = 0
        self.cache = TileCache(settings.cache_bytes)
        self.background = Background()
        self.doc: Document | None = None
        self.layers: list[Layer] = []
        #: the plan of (doc, view, layers, tile size, methods' state); None: to be built on first read
        self._plan: RenderPlan | None = None
        self.methods = MethodStates(provider, lambda line: self.message.emit("error", line))
        self.refinement = Refinement()
        #: the panel under the mouse (refined first); the methods' measured costs rank the rest
        self.focus: int | None = None
        self.truth = TruthMetrics(self.background, self._notify, self.methods.report)
        self._model_jobs: list[Job] = []
        self._model_zoom: float | None = None
        self._plan_timer = _single_shot(self, 0, self._replan)
        self._model_timer = _single_shot(self, MODEL_DELAY_MS, self._submit_model)
        self._notify_timer = _single_shot(self, NOTIFY_MS, self.updated.emit)
        self._progress_timer = _single_shot(self, PROGRESS_MS, self._notify)
        # one thread: bicubic tiles take milliseconds, and the model's threads keep the cores
        self.preview = self._worker("cpu", "float32", settings.cache_bytes // 4, "preview", PREVIEW_CHUNK, threads=1)
        self.device = checked_device(settings.device)
        self.model = self._model_worker(settings)
        self.costs = MethodCosts(self._remembered(settings), self._typical())
        view.changed.connect(self.schedule)

    def _model_worker(self, settings: Settings) -> RenderWorker:
        # below the GUI thread: a wheel notch is painted at once while the model fills the cores
        return self._worker(self.device, settings.precision, _model_features(settings), "model", background=True)

    def _cost_key(self, method: str) -> str:
        return f"{method} {self.device} {self.model.precision}"

    def _remembered(self, settings: Settings) -> dict[str, float]:
        """The costs that earlier sessions measured on this device and precision."""
        suffix = self._cost_key("")
        return {key.removesuffix(suffix): cost for key, cost in settings.method_costs.items()
                if key.endswith(suffix) and len(key) > len(suffix)}

    def _typical(self) -> dict[str, float]:
        """The methods' typical relative CPU costs (``MethodSpec.cpu_cost``), on a CPU only: a GPU
        orders them differently."""
        if self.device != "cpu":
            return {}
        typical = {}
        for name in self.provider.names():
            try:
                cost = self.provider.info(name).cpu_cost
            except ValueError:  # a user's model file that no longer reads: it says so when loaded
                continue
            if cost is not None:
                typical[name] = cost
        return typical

    def remember_costs(self, settings: Settings) -> None:
        """Put the methods' measured costs into ``settings``, for the next session."""
        settings.method_costs.update({self._cost_key(m): cost for m, cost in self.costs.known().items()})

    def _worker(self, device: str, precision: str, cache_bytes: int, name: str,
                chunk: int | None = None, threads: int | None = None, background: bool = False) -> RenderWorker:
        worker = RenderWorker(self.provider, device, precision=precision, cache_bytes=cache_bytes,
                              chunk=chunk, name=name, threads=threads, background=background)
        worker.tileReady.connect(self._on_tile)
        worker.tileFailed.connect(self._on_tile_failed)
        worker.progress.connect(self._on_progress)
        worker.metricsReady.connect(self._on_metrics)
        worker.methodFailed.connect(self._on_method_failed)
        worker.idle.connect(self._notify)
        worker.start()
        return worker

    # --- inputs ---------------------------------------------------------------------------

    def set_document(self, doc: Document | None, preview_bytes: int = 0) -> None:
        """Show ``doc`` (whose preview pyramid takes ``preview_bytes`` beyond its pixels)."""
        old = set(self.doc.sources()) if self.doc is not None else set()
        if old:
            self.cache.forget_images(old)
            self.preview.forget(list(old))
            self.model.forget(list(old))
        self.doc = doc
        self.preview_bytes = preview_bytes
        self.methods.set_document(doc)
        self._fit_tile_budget()
        self.truth.reset(doc)
        self.refinement.reset_clocks()
        self.schedule()

    def document_decoded(self, preview_bytes: int) -> None:
        """The document's pending pixels have arrived (its preview now takes ``preview_bytes``):
        render from them."""
        self.preview_bytes = preview_bytes
        self._fit_tile_budget()
        self.schedule()

    def _fit_tile_budget(self) -> None:
        """The tiles get their budget less the document's pixels and preview (never under
        MIN_TILE_BYTES)."""
        pixels = sum(s.nbytes for s in self.doc.sources().values()) if self.doc is not None else 0
        self.cache.max_bytes = max(MIN_TILE_BYTES, self.tile_budget - pixels - self.preview_bytes)

    def set_layers(self, layers: list[Layer]) -> None:
        self.layers = layers
        self.schedule()

    def set_focus(self, panel: int | None) -> None:
        """The mouse is over ``panel`` (None: over none; the last panel keeps the lead)."""
        if panel is not None and panel != self.focus:
            self.focus = panel
            self.schedule()

    def ranked(self) -> list[PlannedLayer]:
        """The plan's layers in the order the model worker refines them (``rank_layers``)."""
        plan = self.plan
        return [] if plan is None else rank_layers(plan.layers, self.focus, self.costs.per_pixel)

    def configure(self, settings: Settings) -> None:
        """Apply changed settings: a new device or precision gets a fresh model worker."""
        device = checked_device(settings.device)
        self.tile_budget = settings.cache_bytes
        self._fit_tile_budget()
        if (device, settings.precision, _model_features(settings)) != \
                (self.device, self.model.precision, self.model.cache_bytes):
            self.remember_costs(settings)
            self.model.stop()
            self.device = device
            self.model = self._model_worker(settings)
            self.costs = MethodCosts(self._remembered(settings), self._typical())
            self.methods.forget_method_errors()
        if settings.tile_size != self.tile_size:
            self.tile_size = settings.tile_size
            self.cache.clear()
            self.truth.forget_tiles()
        self.schedule()

    def retry(self, *, reread_weights: bool = False) -> None:
        """Forget failures (out of memory, load errors) and render again; ``reread_weights``:
        read the methods' weight status again too (after importing weights)."""
        self.methods.forget_failures(reread_weights=reread_weights)
        self.preview.retry_failed()
        self.model.retry_failed()
        self.schedule()

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

    @property
    def plan(self) -> RenderPlan | None:
        """The render plan of the current document, view and layers (None without either)."""
        doc, view = self.doc, self.view_model.state
        if doc is None or view is None:
            return None
        if self._plan is None or self._plan.view is not view:
            self._plan = RenderPlan.build(doc, view, self.layers, self.methods.kind, self.tile_size)
        return self._plan

    def planned(self, layer: Layer) -> PlannedLayer | None:
        """A layer's kind and tiles at the current view, from the plan (None without a plan)."""
        plan = self.plan
        if plan is None:
            return None
        return plan.entry(layer) or plan.extra(layer, self.methods.kind(layer.method))

    def layer_tiles(self, layer: Layer) -> LayerTiles | None:
        """Tiles of a layer at the current view (None without a plan)."""
        planned = self.planned(layer)
        return None if planned is None else planned.tiles

    def status(self, layer: Layer) -> LayerStatus:
        methods = self.methods
        kind = methods.kind(layer.method)
        if kind is Kind.BLOCKED:
            message = methods.method_errors.get(layer.method) or methods.available(layer.method)[1]
            return LayerStatus(kind, 0, 0, 0.0, None, message)
        numbers = None
        if self.doc is not None and self.doc.gt is not None and kind is not Kind.TRUTH \
                and self.whole_metrics(layer.method) is None and layer.method not in methods.method_errors:
            numbers = self.refinement.fraction(MetricsKey.of(layer.method, self.doc))
        return self.refinement.status(layer.id, kind, self.layer_tiles(layer), self._final, methods.tile_errors,
                                      numbers)

    def _final(self, key: TileKey) -> bool:
        """The tile is there, or failed (it shows bicubic)."""
        return key in self.cache or key in self.methods.tile_errors

    def region_metrics(self, layer: Layer) -> RegionMetrics | None:
        """Metrics of the region a layer shows, if they match the current view."""
        tiles = self.layer_tiles(layer)
        return None if tiles is None else self.truth.region(layer.id, tiles.region)

    def whole_metrics(self, method: str) -> MetricsResult | None:
        """Whole-image metrics of a rendered method (None until computed)."""
        if self.doc is None or self.methods.kind(method) not in (Kind.MODEL, Kind.BICUBIC):
            return None
        return self.truth.whole(method)

    def is_settled(self) -> bool:
        """True when every layer shows its final tiles and metrics (tiles rendered ahead of the
        view may still be on their way: nobody waits for them), made from the document's
        decoded pixels (not while a draft is shown). Where a tile failed, bicubic
        shows instead: its tiles are then final too."""
        plan = self.plan
        if plan is None or not plan.doc.ready or self.pending or self._model_timer.isActive() \
                or self.background.busy:
            return False
        for layer, kind, tiles in ((p.layer, p.kind, p.tiles) for p in plan.layers):
            if kind is Kind.BLOCKED:
                continue
            failed = any(k in self.methods.tile_errors for k in tiles.fine)
            if not all(self._final(k) for k in tiles.fine + tiles.truth + (tiles.base if failed else [])):
                return False
            if self.doc.gt is not None and kind is not Kind.TRUTH and layer.method not in self.methods.method_errors \
                    and (self.whole_metrics(layer.method) is None
                         or (tiles.region is not None and self.region_metrics(layer) is None)):
                return False
        return True

    # --- planning ---------------------------------------------------------------------------

    def _replan(self) -> None:
        plan = self.plan
        if plan is None or not plan.doc.ready:  # pending pixels: the preview shows meanwhile
            self.preview.submit([])
            self.model.submit([])
            return
        self.cache.pin(set(plan.shown))
        self.cache.needs = plan.needs
        self.refinement.keep_progress(plan.shown)
        failed = self.methods
        ranked = rank_layers(plan.layers, self.focus, self.costs.per_pixel)
        jobs = plan.jobs(wanted=lambda k, part: not self.cache.covers(k, part) and k not in failed.tile_errors,
                         metrics_wanted=lambda m: self.truth.whole(m) is None and m not in failed.method_errors,
                         ranked=ranked, peeked=peeked_layers(ranked, self.focus, self.costs.per_pixel))
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

    def _on_tile(self, result: TileResult) -> None:
        self.refinement.finished(result.key)
        method = result.key.method
        if method != BICUBIC and self.costs.observe(method, result.queried, result.seconds):
            self.schedule()  # the panels' order changed
        if self.doc is None or result.key.image not in self.doc.sources() or result.key.size != self.tile_size:
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
        self.refinement.finished(key)
        if self.doc is None or key.image not in self.doc.sources():
            return
        self.methods.tile_errors[key] = message
        self.methods.report(display_name(self.provider, key.method), message + " Showing bicubic there; "
                     "press F5 to try again.")
        plan = self.plan
        if plan is not None:
            self.refinement.stop(plan, self._final)
        self._notify()

    def _on_progress(self, key: TileKey | MetricsKey, done: int, total: int) -> None:
        self.refinement.set_progress(key, done, total)
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _on_metrics(self, result: MetricsResult) -> None:
        self.truth.add_whole(result)
        if result.error:
            self.methods.report(display_name(self.provider, result.method),
                                f"whole-image metrics failed: {result.error}")
        if self.doc is not None and self.doc.gt is not None:
            self.refinement.finished(MetricsKey(result.method, result.image, self.doc.gt.grid))
        self._notify()

    def _on_method_failed(self, method: str, message: str) -> None:
        self.methods.fail_method(method, message)
        self.methods.report(display_name(self.provider, method), message)
        self.schedule()

    def _notify(self) -> None:
        if not self._notify_timer.isActive():
            self._notify_timer.start()
