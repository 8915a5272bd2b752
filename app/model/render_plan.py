"""The render plan: what every layer needs at one (document, view, layers), and in which order
to render it (no Qt).

napari's asynchronous slicer is the model: the GUI thread builds an immutable
:class:`RenderPlan` once per (document, view, layers, tile size, methods' state); canvases and
panel headers read its tiles, the scheduler turns it into the workers' job lists
(:meth:`RenderPlan.jobs`), and the workers' results (``app.model.jobs``: numpy, no Qt) come back to
the GUI thread, which wraps them into QImages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import zip_longest

from app.model.document import Document
from app.model.jobs import Job, MetricsJob, TileJob
from app.model.layers import Kind, Layer, LayerTiles, layer_tiles
from app.model.method_provider import BICUBIC
from app.model.tiles import TileKey
from app.model.view_state import ViewState
from sr_core.geometry import Rect


@dataclass(frozen=True)
class PlannedLayer:
    """One layer, how its method is drawn, and its tiles at the plan's view."""

    layer: Layer
    kind: Kind
    tiles: LayerTiles


@dataclass(frozen=True, eq=False)
class RenderPlan:
    """Every layer's tiles at one view, computed once (:meth:`build`)."""

    doc: Document
    view: ViewState
    tile_size: int
    layers: tuple[PlannedLayer, ...]
    #: the part of each tile that the layers need, for tiles that no layer needs whole
    needs: dict[TileKey, Rect]
    #: the tiles the layers show (base, fine and ground-truth grid): pinned in the cache
    shown: frozenset[TileKey]

    @classmethod
    def build(cls, doc: Document, view: ViewState, layers: Sequence[Layer], kind: Callable[[str], Kind],
              tile_size: int) -> RenderPlan:
        """The plan of ``layers``; ``kind(method)`` says how each method is drawn."""
        planned = [PlannedLayer(layer, k, layer_tiles(view, layer, doc, k, tile_size))
                   for layer in layers for k in (kind(layer.method),)]
        tiles = [p.tiles for p in planned]
        shown = frozenset(key for t in tiles for key in t.base + t.fine + t.truth)
        return cls(doc, view, tile_size, tuple(planned), tile_needs(tiles), shown)

    def entry(self, layer: Layer) -> PlannedLayer | None:
        """The planned ``layer`` (None for a layer the plan does not hold)."""
        return next((p for p in self.layers if p.layer == layer), None)

    def extra(self, layer: Layer, kind: Kind) -> PlannedLayer:
        """A layer the plan does not hold (a canvas resized since), planned at the same view."""
        return PlannedLayer(layer, kind, layer_tiles(self.view, layer, self.doc, kind, self.tile_size))

    def jobs(self, wanted: Callable[[TileKey, Rect | None], bool],
             metrics_wanted: Callable[[str], bool], ranked: Sequence[PlannedLayer] | None = None,
             peeked: Sequence[PlannedLayer] | None = None) -> list[Job]:
        """Every job still needed, in order: the peeks at the eye, bicubic, fine, ground-truth
        grid, metrics, ahead (the rest of the edge tiles rendered in part, then a ring around the
        view).

        The layers' fine tiles come one layer after the other in the order of ``ranked``
        (``app.model.priority.rank_layers``; default: the plan's), so that the first panels are
        final without waiting for the slower methods; the layers of ``peeked`` (default:
        ``ranked``) first get their peeks, in that order.
        Edge tiles are rendered only as far as the view shows them (``LayerTiles.need``).
        ``wanted(key, part)`` is False for tiles already cached with that part (None: the whole
        tile), or failed; ``metrics_wanted(method)`` says whether a method still lacks its
        whole-image metrics.
        """
        doc, tiles = self.doc, [p.tiles for p in self.layers]
        ranked = self.layers if ranked is None else ranked
        order = interleave(p.tiles.base + (p.tiles.fine if p.kind is not Kind.MODEL else []) for p in self.layers)
        order += [key for p in ranked for key in p.tiles.fine]
        order += interleave(t.truth for t in tiles)
        sources = doc.sources()
        peeks = self.peeks(ranked if peeked is None else peeked)
        jobs: list[Job] = [TileJob(key, sources[key.image], part=part) for key, part in peeks if wanted(key, part)]
        seen: set[TileKey] = set()
        for key in order:
            if key not in seen and wanted(key, self.needs.get(key)):
                seen.add(key)
                keep = doc.gt is not None and key.grid == doc.gt.grid and key.image == doc.source.key
                jobs.append(TileJob(key, sources[key.image], keep, part=self.needs.get(key)))
        if doc.gt is not None:
            jobs += [MetricsJob(m, doc.source, doc.gt, self.tile_size) for m in self.measured() if metrics_wanted(m)]
        jobs += [TileJob(key, sources[key.image], ahead=True) for key in self.needs if wanted(key, None)]
        ahead = dict.fromkeys(interleave(t.ahead for t in tiles))  # panels may share a method
        jobs += [TileJob(key, sources[key.image], ahead=True) for key in ahead
                 if key not in seen and wanted(key, None)]
        return jobs

    def peeks(self, layers: Sequence[PlannedLayer] | None = None) -> list[tuple[TileKey, Rect]]:
        """The model layers' first looks at the eye, once per tile (panels may share a method), of
        ``layers`` in their order (default: the plan's)."""
        layers = self.layers if layers is None else layers
        peeks = dict(p.tiles.peek for p in layers if p.kind is Kind.MODEL and p.tiles.peek is not None)
        return list(peeks.items())

    def measured(self) -> list[str]:
        """The methods whose whole-image metrics the layers show (ground-truth mode), once each."""
        return list(dict.fromkeys(p.layer.method if p.kind is Kind.MODEL else BICUBIC
                                  for p in self.layers if p.kind in (Kind.MODEL, Kind.BICUBIC)))


def tile_needs(layers: Iterable[LayerTiles]) -> dict[TileKey, Rect]:
    """The part of each tile that the layers need, for tiles that no layer needs whole (a tile
    that two layers need in part: the box around both parts)."""
    whole: set[TileKey] = set()
    parts: dict[TileKey, Rect] = {}
    for tiles in layers:
        whole.update(tiles.base, tiles.truth)
        for key in tiles.fine:
            part = tiles.need.get(key)
            if part is None:
                whole.add(key)
            else:
                parts[key] = parts[key].bounding(part) if key in parts else part
    return {key: part for key, part in parts.items() if key not in whole}


def interleave(lists: Iterable[list[TileKey]]) -> list[TileKey]:
    """Round-robin merge, so that every panel advances at the same pace (bicubic, ground truth
    and the tiles ahead; fine tiles follow the layers' rank)."""
    return [k for group in zip_longest(*lists) for k in group if k is not None]
