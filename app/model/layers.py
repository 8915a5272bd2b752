"""What each panel wants to show, stage by stage (no Qt).

A *layer* is one method drawn into one panel (two layers share a panel in wipe mode). Its
tiles come in two stages, each drawn over the previous: ``base`` (bicubic of the current grid,
fast) → ``fine`` (the final tiles, nearest the eye first: ``ViewState.focus``, else the
centre; a ``peek`` of ``PEEK``² final pixels at the eye comes before them; edge tiles only as far
as the view shows them, completed later as work ahead). There is no coarse pass of the
method: upscaled, it was blurrier than bicubic and cost a quarter more queries. ``truth``
tiles lie on the ground-truth grid under the view, for metrics and the error heatmap.
``ahead`` tiles ring the view (one tile wide) and are rendered last, when everything shown is
final, so that a short pan finds final tiles at once; they are never waited for.
Below ×1 all methods are the same bicubic downscale, so panels show the input image, scaled
smoothly, and render no tiles (exports still render exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from app.model.document import Document
from app.model.method_provider import BICUBIC
from app.model.tiles import Placement, TileKey, covering_tiles, grid_region, placement
from app.model.view_state import ViewState, WidthHeight
from sr_core.geometry import Rect, Size


class Kind(Enum):
    """How a layer's method is drawn."""

    BICUBIC = "bicubic"      # bicubic tiles are final
    TRUTH = "truth"          # the ground-truth reference
    MODEL = "model"          # a method with trained weights: bicubic, then refined
    BLOCKED = "blocked"      # no weights or failed to load: nothing is rendered


@dataclass(frozen=True)
class Layer:
    """Method ``method`` drawn into panel ``panel`` (``viewport`` device px), columns ``clip``."""

    panel: int
    method: str
    viewport: WidthHeight
    clip: tuple[int, int]

    @property
    def id(self) -> tuple[int, str]:
        return self.panel, self.method


@dataclass(frozen=True)
class LayerTiles:
    placement: Placement
    base: list[TileKey] = field(default_factory=list)
    fine: list[TileKey] = field(default_factory=list)
    truth: list[TileKey] = field(default_factory=list)
    #: ground-truth grid pixels under the layer (visible-region metrics)
    region: Rect | None = None
    #: final tiles just outside the view, rendered when nothing else is left
    ahead: list[TileKey] = field(default_factory=list)
    #: the part of each edge tile of ``fine`` that the layer shows (tiles shown whole: absent)
    need: dict[TileKey, Rect] = field(default_factory=dict)
    #: a first look: ``PEEK``² output pixels around where the eye is, in the first fine tile,
    #: rendered before everything else so that detail shows there at once
    peek: tuple[TileKey, Rect] | None = None


#: width of the ring of tiles rendered ahead around a view, in tiles
AHEAD_TILES = 1
#: side of the first look at the eye (output px): a quarter of a 256-px tile; LIIF in bfloat16
#: renders it in about 0.15 s on two CPU threads, where the whole tile takes about 0.6 s
PEEK = 128


def layer_tiles(view: ViewState, layer: Layer, doc: Document, kind: Kind, tile: int) -> LayerTiles:
    """The tiles ``layer`` needs at ``view``, each list nearest to the layer's centre first."""
    place = placement(view, layer.viewport)
    if kind is Kind.BLOCKED:
        return LayerTiles(place)
    image, lr = doc.size, doc.source.key
    x0, y0 = place.to_image(layer.clip[0], 0)
    x1, y1 = place.to_image(layer.clip[1], layer.viewport[1])
    visible = (max(0.0, x0), max(0.0, y0), min(float(image[0]), x1), min(float(image[1]), y1))
    centre = place.to_image((layer.clip[0] + layer.clip[1]) / 2, layer.viewport[1] / 2)
    focus = view.focus
    if focus is not None and visible[0] <= focus[0] < visible[2] and visible[1] <= focus[1] < visible[3]:
        centre = focus  # the eye is where the wheel zoomed
    grid = Size(place.out_h, place.out_w)

    def tiles(method: str, key: int, on: Size) -> list[TileKey]:
        return covering_tiles(method, key, on, image, visible, tile, centre)

    bicubic = tiles(BICUBIC, lr, grid)
    truth, region = [], None
    if doc.gt is not None and kind is not Kind.TRUTH:
        truth = tiles(layer.method if kind is Kind.MODEL else BICUBIC, lr, doc.gt.grid)
        region = grid_region(doc.gt.grid, image, visible)
    if kind is Kind.TRUTH:
        assert doc.gt is not None
        return LayerTiles(place, base=bicubic, fine=tiles(BICUBIC, doc.gt.source.key, grid))
    if not place.upscaling:  # every method is the same downscale: the input image, drawn smoothly
        return LayerTiles(place, truth=truth, region=region)
    if kind is Kind.BICUBIC:
        return LayerTiles(place, fine=bicubic, truth=truth, region=region)
    fine = tiles(layer.method, lr, grid)
    margin = AHEAD_TILES * tile * image[0] / place.out_w  # image px
    around = covering_tiles(layer.method, lr, grid, image, (visible[0] - margin, visible[1] - margin,
                                                            visible[2] + margin, visible[3] + margin),
                            tile, centre)
    known = set(fine)
    shown = Rect(max(0, place.oy), max(0, place.ox + layer.clip[0]),
                 min(place.out_h, place.oy + layer.viewport[1]), min(place.out_w, place.ox + layer.clip[1]))
    parts = {k: k.rect.intersection(shown) for k in fine}
    return LayerTiles(place, base=bicubic, fine=fine, truth=truth, region=region,
                      ahead=[k for k in around if k not in known],
                      need={k: part for k, part in parts.items() if part is not None and part != k.rect},
                      peek=_peek(fine, parts, centre, grid, image))


def _peek(fine: list[TileKey], parts: dict[TileKey, Rect | None], eye: tuple[float, float], grid: Size,
          image: WidthHeight) -> tuple[TileKey, Rect] | None:
    """``PEEK``² output pixels around ``eye`` (image px), inside the first fine tile's shown part."""
    if not fine or parts[fine[0]] is None:
        return None
    key, shown = fine[0], parts[fine[0]]
    cx, cy = eye[0] * grid.w / image[0], eye[1] * grid.h / image[1]
    left = min(max(round(cx) - PEEK // 2, shown.left), max(shown.left, shown.right - PEEK))
    top = min(max(round(cy) - PEEK // 2, shown.top), max(shown.top, shown.bottom - PEEK))
    part = Rect(top, left, top + PEEK, left + PEEK).intersection(shown)
    return None if part is None or part == shown else (key, part)
