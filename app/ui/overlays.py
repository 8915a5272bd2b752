"""What a panel draws over its image, in logical pixels: the refinement bar, method names and
ground-truth numbers in rounded boxes, the heatmap legend, the card of a method that cannot
run, the wipe divider, the mark of the image point under the mouse in another panel and the
empty panel's hint."""

from __future__ import annotations

import math

import qtawesome as qta
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from app.model.heatmap import ERROR_RANGE, legend_rgba
from app.model.jobs import MetricsResult
from app.model.method_provider import HOW_TO_GET_WEIGHTS
from app.model.region_metrics import RegionMetrics
from app.render.qt_images import rgba_image
from app.ui import theme

#: half the size of the mark of the mouse's image point in the other panels (logical px)
POINTER_RADIUS = 9
#: opacity of a numbers box under the mouse (the image below it shows through)
FADED = 0.12


def progress_bar(p: QPainter, area: QRectF, fraction: float) -> None:
    """The refinement's progress along the top of ``area``."""
    p.fillRect(QRectF(area.left(), 0, area.width() * fraction, 3), theme.ACCENT)


def metric_lines(region: RegionMetrics | None, whole: MetricsResult | None, progress: float) -> list[str]:
    """The numbers box: PSNR/SSIM of the view and of the whole image (or how far they are)."""
    view = "view   computing…" if region is None else \
        f"view   PSNR {region.psnr:6.2f} dB   SSIM {_ssim(region.ssim)}"
    if whole is None:
        image = f"image  computing… {progress:.0%}"
    elif whole.error:
        image = "image  failed (see the message)"
    else:
        image = f"image  PSNR {whole.psnr:6.2f} dB   SSIM {_ssim(whole.ssim)}"
    return [view, image]


def pill(p: QPainter, base: QFont, area: QRectF, lines: list[str], *, top: bool, right: bool,
         fade_under: QPointF | None = None) -> QRectF:
    """A rounded box of text lines in a corner of ``area``; nearly transparent while the
    point ``fade_under`` (the mouse) is inside it, so that it never hides the image."""
    font = QFont(base)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFamily("monospace")
    font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
    metrics = QFontMetrics(font)
    width = max(metrics.horizontalAdvance(line) for line in lines) + 16
    height = metrics.height() * len(lines) + 10
    x = area.right() - width - 8 if right else area.left() + 8
    y = area.top() + 10 if top else area.bottom() - height - 8
    box = QRectF(x, y, width, height)
    p.save()
    if fade_under is not None and box.contains(fade_under):
        p.setOpacity(FADED)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(theme.OVERLAY)
    p.drawRoundedRect(box, 6, 6)
    p.setFont(font)
    p.setPen(theme.TEXT)
    for i, line in enumerate(lines):
        p.drawText(QPointF(x + 8, y + 5 + metrics.ascent() + i * metrics.height()), line)
    p.restore()
    return box


def legend(p: QPainter, base: QFont, area: QRectF) -> None:
    """The heatmap's colour scale, top right of ``area``."""
    bar = QRectF(area.right() - 148, area.top() + 12, 120, 8)
    p.drawImage(bar, rgba_image(legend_rgba()))
    p.setPen(theme.TEXT)
    font = QFont(base)
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
    p.setFont(font)
    p.drawText(QRectF(bar.left() - 90, bar.top() - 4, 86, 16), Qt.AlignmentFlag.AlignRight, "|error|  0")
    p.drawText(QRectF(bar.right() + 4, bar.top() - 4, 40, 16), Qt.AlignmentFlag.AlignLeft, f"{ERROR_RANGE:g}")


def card(p: QPainter, base: QFont, area: QRectF, title: str, *, error: str | None, truth: bool,
         message: str) -> None:
    """The explanation shown instead of a method that cannot run (``truth``: the ground-truth
    pseudo-method, without a reference)."""
    if error:
        subtitle, body, icon = "Could not be loaded", error, "mdi6.alert-circle-outline"
    elif truth:
        subtitle, body, icon = "No reference open", message, "mdi6.image-outline"
    else:
        subtitle, icon = "No trained weights yet", "mdi6.lock-outline"
        body = f"It is never run with random weights. {HOW_TO_GET_WEIGHTS}"
    width = min(area.width() - 24, 380.0)
    if width < 60:
        return
    title_font = QFont(base)
    title_font.setPointSizeF(base.pointSizeF() + 4)
    title_font.setBold(True)
    small = QFont(base)
    small.setPointSizeF(max(7.5, base.pointSizeF() - 1))
    flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter
    inner = width - 32
    body_height = QFontMetrics(small).boundingRect(0, 0, int(inner), 1000, flags, body).height()
    title_height = QFontMetrics(title_font).height()
    sub_height = QFontMetrics(base).height()
    height = 28 + 36 + 10 + title_height + 4 + sub_height + 10 + body_height
    box = QRectF(area.center().x() - width / 2, area.center().y() - height / 2, width, height)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255, 30)))
    p.setBrush(theme.OVERLAY)
    p.drawRoundedRect(box, 10, 10)
    color = theme.ERROR if error else theme.MUTED
    pixmap = qta.icon(icon, color=color).pixmap(36, 36)
    y = box.top() + 14
    p.drawPixmap(QPointF(box.center().x() - 18, y), pixmap)
    y += 36 + 10
    p.setPen(theme.TEXT)
    p.setFont(title_font)
    p.drawText(QRectF(box.left(), y, width, title_height), Qt.AlignmentFlag.AlignHCenter, title)
    y += title_height + 4
    p.setFont(base)
    p.setPen(theme.ERROR if error else theme.WARNING)
    p.drawText(QRectF(box.left(), y, width, sub_height), Qt.AlignmentFlag.AlignHCenter, subtitle)
    y += sub_height + 10
    p.setFont(small)
    p.setPen(theme.MUTED)
    p.drawText(QRectF(box.left() + 16, y, inner, body_height), flags, body)


def divider(p: QPainter, x: float, height: float) -> None:
    """The wipe divider at logical ``x``, with its handle."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255, 220), 2))
    p.drawLine(QPointF(x, 0), QPointF(x, height))
    centre = QPointF(x, height / 2)
    p.setBrush(theme.OVERLAY)
    p.drawEllipse(centre, 14, 14)
    p.drawPixmap(QPointF(x - 10, centre.y() - 10), qta.icon("mdi6.arrow-left-right", color=theme.TEXT).pixmap(20, 20))


def pointer(p: QPainter, at: QPointF) -> None:
    """A crosshair, dark under light so that it shows on any image."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for color, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255, 230), 1.2)):
        p.setPen(QPen(color, width))
        p.drawEllipse(at, POINTER_RADIUS / 2, POINTER_RADIUS / 2)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            p.drawLine(at + QPointF(dx, dy) * POINTER_RADIUS / 2, at + QPointF(dx, dy) * POINTER_RADIUS)


def empty_hint(p: QPainter, base: QFont, rect: QRectF) -> None:
    """What an empty panel says."""
    p.setPen(theme.MUTED)
    font = QFont(base)
    font.setPointSizeF(font.pointSizeF() + 2)
    p.setFont(font)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Drop an image here, or press Ctrl+O")


def _ssim(value: float) -> str:
    return "  —  " if math.isnan(value) else f"{value:.4f}"
