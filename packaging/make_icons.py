"""Regenerate the installer icons from resources/icons/zoomsr.svg (run after the icon changes).

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py

Writes packaging/windows/zoomsr.ico (16–256 px) and packaging/macos/zoomsr.icns (16–1024 px),
both checked in, so that building an installer needs neither the SVG renderer nor an icon tool.
The SVG is rendered by Qt at every size (crisper than scaling the 256 px PNG).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "zoomsr.svg"
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
ICNS_SIZE = 1024  # Pillow derives the smaller ICNS members from the largest image


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs it
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot render {SVG}", file=sys.stderr)
        return 1
    ico = ROOT / "packaging" / "windows" / "zoomsr.ico"
    icns = ROOT / "packaging" / "macos" / "zoomsr.icns"
    largest = render(renderer, max(ICO_SIZES))
    # Pillow's ICO writer takes the sizes and scales the given image; hand it every size
    # rendered natively instead, so small icons stay sharp.
    images = [render(renderer, s) for s in ICO_SIZES]
    largest.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=images)
    big = render(renderer, ICNS_SIZE)
    big.save(icns, format="ICNS", append_images=[render(renderer, s) for s in (16, 32, 64, 128, 256, 512)])
    for path in (ico, icns):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
