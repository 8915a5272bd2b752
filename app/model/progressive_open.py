"""Opening a large JPEG in two steps: a DCT-scaled draft shown at once, the full decode after.

libjpeg decodes a JPEG at 1/2, 1/4 or 1/8 of its size for a fraction of the full decode's time
(it skips most of the inverse DCT): a 100-megapixel photo's 1/4 draft takes about 1 s on a
2-core CPU, the full decode about 5. The draft is what the window first shows; the document's
pixels stay :meth:`~sr_core.render.SourceImage.pending` until :func:`decode_full` has them, and
nothing reads them before (the scheduler renders no tile, the readout says so, export waits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.model.document import Document, check_memory, describe
from sr_core.imaging import ImageLoadError, image_size, load_image, sniff_format
from sr_core.render import SourceImage

#: the draft keeps at least this many pixels on its long side (a large window at fit)
DRAFT_SIDE = 2560
#: libjpeg's DCT scalings, largest reduction first
DRAFT_SCALES = (8, 4, 2)


@dataclass(frozen=True)
class Draft:
    """A document whose pixels are still being decoded, and its draft's pixels (levels of
    ``1 / scale`` of its size, to show meanwhile)."""

    doc: Document
    pixels: np.ndarray
    scale: int


def draft_scale(width: int, height: int) -> int:
    """The largest DCT reduction (8, 4 or 2) that keeps ``DRAFT_SIDE`` pixels on the long side;
    1 when even 1/2 would not (the image is decoded whole at once)."""
    return next((s for s in DRAFT_SCALES if max(width, height) // s >= DRAFT_SIDE), 1)


def _is_jpeg(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return sniff_format(f.read(16)) == "JPEG"


def open_draft(path: str | Path) -> Draft | None:
    """A large JPEG's draft and its pending document; None for any other file (open it whole
    with ``open_document``). Raises ``ImageLoadError`` as ``open_document`` does."""
    check_memory(path)
    width, height = image_size(path)
    scale = draft_scale(width, height)
    if scale == 1 or not _is_jpeg(path):
        return None
    # floor: libjpeg's 1/scale size is the ceiling, so it always has these (a ceiling here
    # could ask for one row more than 1/scale and get the next larger draft)
    image = load_image(path, levels=True, least=(height // scale, width // scale))
    source = SourceImage.pending(height, width, image.pixels.dtype)
    doc = Document(Path(path).name, str(path), source, describe(image, width, height),
                   bit_depth=image.bit_depth, grayscale=image.grayscale, metadata=image.metadata)
    return Draft(doc, image.pixels, scale)


def decode_full(doc: Document) -> np.ndarray:
    """The full-resolution pixels of a draft's document (to ``fill`` its source with, on the
    thread that owns it); ``ImageLoadError`` if the file cannot be decoded or has changed."""
    image = load_image(doc.path, levels=True, to_file=True)  # a very large one: from a mapped file
    source = doc.source
    if image.pixels.shape != (source.height, source.width, 3) or image.bit_depth != doc.bit_depth:
        raise ImageLoadError(f"{doc.name}: the file changed while it was being opened. Open it again.")
    return image.pixels
