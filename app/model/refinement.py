"""How far each layer's refinement has come, how long it took, and what its header says (no Qt)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.model.jobs import MetricsKey
from app.model.layers import Kind, LayerTiles
from app.model.render_plan import RenderPlan
from app.model.tiles import TileKey
from sr_core.geometry import Size

#: time left is estimated once this much of a view is rendered
MIN_ESTIMATE_FRACTION = 0.05

@dataclass(frozen=True)
class LayerStatus:
    """What a panel header says about one layer."""

    kind: Kind
    total: int
    final: int
    fraction: float
    #: wall time of the refinement of the current view (None while refining or after a zoom)
    seconds: float | None
    #: why nothing is rendered, or what went wrong
    message: str = ""
    #: estimated seconds until the view is final (None when unknown or final)
    seconds_left: float | None = None
    #: how far the whole-image numbers are (ground-truth mode), None when done or not needed
    numbers: float | None = None

    @property
    def refining(self) -> bool:
        return self.kind is not Kind.BLOCKED and self.final < self.total


class Refinement:
    """The progress of jobs in flight and a clock per layer, started by a new zoom and stopped
    when the layer's final tiles are all there. ``final(key)``: the tile is there, or failed."""

    def __init__(self) -> None:
        #: job key → fraction done (tiles, and the whole-image metrics under ``MetricsKey``)
        self._progress: dict[TileKey | MetricsKey, float] = {}
        #: layer → (start, output grid) of the refinement under way
        self._start: dict[tuple[int, str], tuple[float, Size]] = {}
        #: layer → (seconds, output grid) of its last complete refinement
        self._seconds: dict[tuple[int, str], tuple[float, Size]] = {}

    def reset_clocks(self) -> None:
        self._start.clear()
        self._seconds.clear()

    def set_progress(self, key: TileKey | MetricsKey, done: int, total: int) -> None:
        """A job in flight reports ``done`` of ``total`` steps."""
        self._progress[key] = done / total if total else 0.0

    def finished(self, key: TileKey | MetricsKey | None) -> None:
        """The job is done (or failed): its result counts from now on."""
        self._progress.pop(key, None)

    def fraction(self, key: TileKey | MetricsKey | None) -> float:
        """How far a job in flight has come (0 when it is not)."""
        return self._progress.get(key, 0.0)

    def keep_progress(self, shown: frozenset[TileKey]) -> None:
        """Forget the progress of tiles no longer shown (the metrics' stays)."""
        self._progress = {k: v for k, v in self._progress.items() if k in shown or isinstance(k, MetricsKey)}

    def start(self, plan: RenderPlan, final: Callable[[TileKey], bool]) -> None:
        """Start the clock of each layer that a new zoom left with tiles to render."""
        now = time.perf_counter()
        for p in plan.layers:
            if p.kind is not Kind.BLOCKED and not all(final(k) for k in p.tiles.fine):
                grid = (p.tiles.placement.out_h, p.tiles.placement.out_w)
                if self._start.get(p.layer.id, (0.0, None))[1] != grid:  # a new zoom starts the clock
                    self._start[p.layer.id] = (now, grid)

    def stop(self, plan: RenderPlan, final: Callable[[TileKey], bool]) -> None:
        """Stop the clock of each layer whose final tiles are all there."""
        now = time.perf_counter()
        for p in plan.layers:
            start = self._start.get(p.layer.id)
            if start is not None and all(final(k) for k in p.tiles.fine):
                self._seconds[p.layer.id] = (now - start[0], start[1])
                del self._start[p.layer.id]

    def status(self, layer_id: tuple[int, str], kind: Kind, tiles: LayerTiles | None,
               final: Callable[[TileKey], bool], errors: Mapping[TileKey, str],
               numbers: float | None) -> LayerStatus:
        """The status of a layer that renders (pixel-weighted progress, time taken or left)."""
        fine = tiles.fine if tiles is not None else []
        done_tiles = sum(1 for k in fine if final(k))
        messages = {errors[k] for k in fine if k in errors}
        parts = {k: tiles.need.get(k, k.rect) for k in fine} if tiles is not None else {}
        total = sum(r.height * r.width for r in parts.values())
        done = sum(r.height * r.width * (1.0 if final(k) else self.fraction(k)) for k, r in parts.items())
        fraction = min(done / total if total else 1.0, 1.0)
        grid = (tiles.placement.out_h, tiles.placement.out_w) if tiles is not None else None
        last = self._seconds.get(layer_id)
        seconds = last[0] if last is not None and last[1] == grid and fine else None
        start = self._start.get(layer_id)
        left = None
        if start is not None and done_tiles < len(fine) and fraction >= MIN_ESTIMATE_FRACTION:
            left = (time.perf_counter() - start[0]) * (1 - fraction) / fraction
        return LayerStatus(kind, len(fine), done_tiles, fraction, seconds, "; ".join(sorted(messages)), left,
                           numbers)
