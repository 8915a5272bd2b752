"""Work the window hands to render workers, and what comes back (plain data and numpy, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.document import Document, GroundTruth
from app.model.tiles import TileKey
from sr_core.geometry import Rect, Size
from sr_core.metadata import PhotoMetadata
from sr_core.render import SourceImage


@dataclass(frozen=True)
class TileJob:
    """Render one tile; ``keep_pixels`` keeps the float pixels (tiles on the ground-truth grid)."""

    key: TileKey
    source: SourceImage
    keep_pixels: bool = False
    #: rendered ahead of the view (around it), not shown yet
    ahead: bool = False
    #: the part of the tile to render (what the view shows of an edge tile); None: all of it
    part: Rect | None = None

    #: display work may keep running when a new plan still wants it
    background = False

    @property
    def method(self) -> str:
        return self.key.method


@dataclass(frozen=True)
class MetricsKey:
    """The progress key of a whole-image metrics job: ``method`` on image ``image`` at the
    ground truth's ``grid``."""

    method: str
    image: int
    grid: Size

    @classmethod
    def of(cls, method: str, doc: Document) -> MetricsKey | None:
        """The key of ``method``'s metrics on ``doc`` (None without a ground truth)."""
        return None if doc.gt is None else cls(method, doc.source.key, doc.gt.grid)


@dataclass(frozen=True)
class MetricsJob:
    """PSNR/SSIM of a whole-image render at the ground-truth scale, resumable tile by tile."""

    method: str
    source: SourceImage
    gt: GroundTruth
    tile: int

    #: yields to any new plan; its finished tiles are kept, so it resumes where it stopped
    background = True

    @property
    def key(self) -> MetricsKey:
        return MetricsKey(self.method, self.source.key, self.gt.grid)


Job = TileJob | MetricsJob


@dataclass(frozen=True)
class ExportItem:
    """One file: output pixels ``rect`` of ``method`` on the ``out_h × out_w`` grid."""

    method: str
    source: SourceImage
    out_h: int
    out_w: int
    rect: Rect
    path: str
    #: bit depth (8 or 16: that of the input file, where the format holds it)
    bits: int = 8
    #: the photograph's EXIF and XMP, written into the file
    metadata: PhotoMetadata | None = None


@dataclass(frozen=True)
class TileResult:
    """A rendered tile as the worker made it; the GUI thread wraps ``rgb`` into a QImage."""

    key: TileKey
    #: the displayed pixels, uint8 RGB (h, w, 3), rounded like ``save_png``
    rgb: np.ndarray
    #: the float pixels, kept for tiles on the ground-truth grid (metrics, heatmaps)
    pixels: np.ndarray | None
    #: the part of the tile rendered (``rgb`` holds just that); None: all of it
    part: Rect | None = None
    #: seconds the render took, less any encoding (features are shared between methods with the
    #: same encoder: the first to encode would look the dearest): the method's measured cost,
    #: ``app.model.priority``
    seconds: float = 0.0
    #: the output pixels those seconds computed: the part's, less any rendered before
    #: (``JobRunner`` reuses a peek's pixels in its tile)
    queried: int = 0


@dataclass(frozen=True)
class MetricsResult:
    method: str
    image: int
    psnr: float
    ssim: float
    #: why the metrics could not be computed (then psnr and ssim are NaN)
    error: str = ""
