"""Which pixels an export writes: a panel's current view, or an image region at any scale (no Qt)."""

from __future__ import annotations

from pathlib import Path

from app.model.document import Document
from app.model.jobs import ExportItem
from app.model.method_provider import BICUBIC, GROUND_TRUTH
from app.model.tiles import placement
from app.model.view_state import ViewState, WidthHeight
from sr_core.geometry import Rect
from sr_core.image_writer import OUTPUT_FORMATS, output_bits, output_format
from sr_core.render import output_size

#: exports are held in memory as integer RGB (8 or 16 bits); refuse larger ones
MAX_EXPORT_BYTES = 1_200_000_000


class ExportError(ValueError):
    """An export that cannot be made, with a readable reason."""


def output_paths(path: str, methods: list[str]) -> list[str]:
    """``path`` for one method; ``stem-method.EXT`` beside it for several (a file ending that
    is not a format written becomes .png)."""
    target = Path(path)
    if target.suffix.lower() not in OUTPUT_FORMATS:
        target = target.with_suffix(".png")
    if len(methods) == 1:
        return [str(target)]
    return [str(target.with_name(f"{target.stem}-{m}{target.suffix}")) for m in methods]


def export_bits(doc: Document, path: str = "x.png") -> int:
    """Bit depth of an export: 16 for inputs of more than 8 bits where the format holds it, else 8."""
    return output_bits(output_format(path), 16 if doc.bit_depth > 8 else 8)


def _item(doc: Document, method: str, out_h: int, out_w: int, rect: Rect, path: str) -> ExportItem:
    bits = export_bits(doc, path)
    limit = MAX_EXPORT_BYTES // (3 * bits // 8)
    if rect.height * rect.width > limit:
        raise ExportError(f"{rect.width}×{rect.height} is too large to export at {bits} bits (limit "
                          f"{limit // 10**6} megapixels); choose a smaller region or scale.")
    if method == GROUND_TRUTH:
        if doc.gt is None:
            raise ExportError("There is no ground-truth reference to export.")
        return ExportItem(BICUBIC, doc.gt.source, out_h, out_w, rect, path, bits, doc.metadata)
    return ExportItem(method, doc.source, out_h, out_w, rect, path, bits, doc.metadata)


def view_export(doc: Document, view: ViewState, viewport: WidthHeight, methods: list[str],
                path: str) -> list[ExportItem]:
    """What a ``viewport`` shows at ``view``, one file per method, pixel for pixel."""
    place = placement(view, viewport)
    rect = Rect(max(0, place.oy), max(0, place.ox), min(place.out_h, place.oy + viewport[1]),
                min(place.out_w, place.ox + viewport[0]))
    if rect.height <= 0 or rect.width <= 0:
        raise ExportError("The panel shows no part of the image.")
    return [_item(doc, m, place.out_h, place.out_w, rect, p)
            for m, p in zip(methods, output_paths(path, methods))]


def region_export(doc: Document, methods: list[str], region: tuple[float, float, float, float],
                  scale: float, path: str) -> list[ExportItem]:
    """Image region ``(x, y, width, height)`` (input pixels) rendered at ``scale``."""
    x, y, w, h = region
    if w <= 0 or h <= 0 or scale <= 0:
        raise ExportError("The region and the scale must be positive.")
    width, height = doc.size
    out_h, out_w = output_size(height, width, scale)
    left, top = max(0, round(x * out_w / width)), max(0, round(y * out_h / height))
    right = min(out_w, left + round(w * out_w / width))
    bottom = min(out_h, top + round(h * out_h / height))
    if right <= left or bottom <= top:
        raise ExportError("The region lies outside the image.")
    rect = Rect(top, left, bottom, right)
    return [_item(doc, m, out_h, out_w, rect, p) for m, p in zip(methods, output_paths(path, methods))]
