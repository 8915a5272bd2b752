"""The numbers of ground-truth mode, kept on the GUI thread: whole-image metrics (computed by
the model worker), visible-region metrics (on the background pool, once a layer's
ground-truth-grid tiles are all there) and error heatmaps (made on first use)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage

from app.model.document import Document
from app.model.heatmap import heatmap_rgba
from app.model.jobs import MetricsResult
from app.model.region_metrics import RegionMetrics, region_metrics
from app.model.render_plan import RenderPlan
from app.model.tiles import TileKey
from app.render.background import Background
from app.render.qt_images import rgba_image
from app.render.tile_cache import TileCache
from sr_core.geometry import Rect

MAX_HEATMAPS = 512


class TruthMetrics:
    """Metrics and heatmaps of the current document against its ground truth."""

    def __init__(self, background: Background, notify: Callable[[], None],
                 report: Callable[[str, str], None]) -> None:
        self.background = background
        self._notify = notify
        self._report = report
        self._doc: Document | None = None
        self._whole: dict[tuple[str, int], MetricsResult] = {}
        self._region: dict[tuple[int, str], RegionMetrics] = {}
        self._region_busy: set[tuple] = set()
        self._heat: dict[TileKey, QImage] = {}

    def reset(self, doc: Document | None) -> None:
        """A new document: forget every number."""
        self._doc = doc
        self._whole.clear()
        self.forget_tiles()

    def forget_tiles(self) -> None:
        """The tiles changed (a new tile size): forget what was computed from them."""
        self._region.clear()
        self._heat.clear()

    def whole(self, method: str) -> MetricsResult | None:
        """Whole-image metrics of ``method`` on the current document (None until computed)."""
        return None if self._doc is None else self._whole.get((method, self._doc.source.key))

    def add_whole(self, result: MetricsResult) -> None:
        self._whole[(result.method, result.image)] = result

    def region(self, layer_id: tuple[int, str], region: Rect | None) -> RegionMetrics | None:
        """Metrics of the region a layer shows, if they are of ``region``."""
        found = self._region.get(layer_id)
        return found if found is not None and found.region == region else None

    def heatmap(self, key: TileKey, cache: TileCache) -> QImage | None:
        """Error overlay of a ground-truth-grid tile."""
        image = self._heat.get(key)
        tile = cache.get(key)
        doc = self._doc
        if image is None and tile is not None and tile.pixels is not None and doc is not None and doc.gt is not None:
            image = rgba_image(heatmap_rgba(tile.pixels, doc.gt.pixels(key.rect)))
            if len(self._heat) >= MAX_HEATMAPS:
                self._heat.clear()
            self._heat[key] = image
        return image

    def update_regions(self, plan: RenderPlan, cache: TileCache) -> None:
        """Start the visible-region metrics of layers whose ground-truth tiles are all here."""
        doc = plan.doc
        gt = doc.gt
        if gt is None:
            return
        for planned in plan.layers:
            tiles = planned.tiles
            if tiles.region is None or not tiles.truth:
                continue
            layer_id = planned.layer.id
            job = (layer_id, tiles.region, doc.source.key)
            if self.region(layer_id, tiles.region) is not None or job in self._region_busy:
                continue
            found = [cache.get(k) for k in tiles.truth]
            if any(t is None or t.pixels is None for t in found):
                continue
            parts = [(t.key.rect, t.pixels) for t in found]
            self._region_busy.add(job)
            self.background.run(lambda r=tiles.region, p=parts: region_metrics(r, p, gt.pixels(r)),
                                lambda result, j=job: self._on_region(j, result),
                                lambda err, j=job: self._on_region_failed(j, err))

    def _on_region(self, job: tuple, result: RegionMetrics) -> None:
        self._region_busy.discard(job)
        if self._doc is not None and job[2] == self._doc.source.key:
            self._region[job[0]] = result
        self._notify()

    def _on_region_failed(self, job: tuple, err: Exception) -> None:
        self._region_busy.discard(job)
        self._report("Metrics", f"could not be computed: {err}")
