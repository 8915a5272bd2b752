"""Opening images: File ▸ Open, Open recent, Compare with ground truth, drag and drop, and
next / previous in the folder. Images are decoded off the GUI thread, then shown by the window."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QStatusBar, QWidget

from app.model.document import Document, open_document, open_ground_truth
from app.model.image_folder import IMAGE_FILTER, neighbour
from app.model.progressive_open import decode_full, open_draft
from app.model.settings import Settings
from app.render.background import Background
from app.render.preview_image import PreviewImage, build_preview
from app.ui.message_bar import MessageBar
from sr_core.imaging import ImageLoadError
from sr_core.logs import unexpected
from sr_core.render import SourceImage


class OpenerHost(Protocol):
    """What the opener needs of the window: its settings, status line, messages, decoding thread
    and the document it shows."""

    settings: Settings
    persist: bool
    loader: Background
    messages: MessageBar
    act: dict[str, QAction]

    @property
    def doc(self) -> Document | None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)

    def show_document(self, doc: Document, preview: PreviewImage) -> None: ...

    def document_decoded(self, doc: Document, preview: PreviewImage) -> None: ...

    def save_settings(self) -> None: ...


class Opener:
    """Opens images for ``window`` and keeps its recent files."""

    def __init__(self, window: OpenerHost, parent: QWidget) -> None:
        self.window = window
        #: the dialogs' parent
        self.dialog_parent = parent
        #: an image is being decoded
        self.loading = False
        #: the image that next / previous count from when it is not the document (it failed to open)
        self._browse_from: str | None = None

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open image", self._start_dir(), IMAGE_FILTER)
        if path:
            self.open_path(path)

    def choose_ground_truth(self) -> None:
        window = self.window
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open ground-truth reference", self._start_dir(),
                                              IMAGE_FILTER)
        if not path:
            return
        factor, ok = QInputDialog.getInt(
            self.dialog_parent, "Compare with ground truth", "Downscaling factor: the input becomes the reference "
            "downscaled by this factor (MATLAB bicubic),\nand every panel is measured against the "
            "reference.", window.settings.gt_factor, 2, 16)
        if ok:
            window.settings.gt_factor = factor
            self.open_path(path, gt_factor=factor)

    def _start_dir(self) -> str:
        recent = self.window.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def open_path(self, path: str, *, gt_factor: int | None = None, remember: bool = True) -> None:
        """Open an image (decoded off the GUI thread); with ``gt_factor`` it is the reference."""
        self._browse_from = None
        self.loading = True
        self.window.statusBar().showMessage(f"Opening {Path(path).name}…")

        def load() -> tuple[Document, PreviewImage, bool]:
            if gt_factor:
                doc = open_ground_truth(path, gt_factor)
            else:
                draft = open_draft(path)  # a large JPEG: its draft now, the full decode after
                if draft is not None:
                    return draft.doc, build_preview(SourceImage(draft.pixels), draft.doc.source.width), True
                doc = open_document(path)
            return doc, build_preview(doc.source), False

        self.window.loader.run(load, lambda result: self._on_loaded(path, result, remember), self._on_load_failed)

    def _on_loaded(self, path: str, result: tuple[Document, PreviewImage, bool], remember: bool) -> None:
        doc, preview, pending = result
        self.loading = False
        self.window.statusBar().clearMessage()
        self.window.show_document(doc, preview)
        if pending:
            self._decode_full(doc)
        if remember and self.window.persist:
            self.window.settings.add_recent(path)
            self.window.save_settings()

    def _decode_full(self, doc: Document) -> None:
        """Decode a draft's document at full resolution; its pixels are filled on the GUI thread
        (if it is still shown), and the window renders from them."""
        self.window.statusBar().showMessage(f"Decoding {doc.name} at full resolution…")

        def decode() -> tuple[np.ndarray, PreviewImage]:
            pixels = decode_full(doc)
            return pixels, build_preview(SourceImage(pixels))

        def done(result: tuple[np.ndarray, PreviewImage]) -> None:
            if self.window.doc is not doc:
                return  # another image was opened meanwhile
            self.window.statusBar().clearMessage()
            doc.source.fill(result[0])
            self.window.document_decoded(doc, result[1])

        def failed(err: Exception) -> None:
            if self.window.doc is doc:
                self.window.statusBar().clearMessage()
                self._on_load_failed(err)

        self.window.loader.run(decode, done, failed)

    def _on_load_failed(self, err: Exception) -> None:
        self.loading = False
        self.window.statusBar().clearMessage()
        text = str(err) if isinstance(err, ImageLoadError) else unexpected(err, "Could not open the image")
        self.window.messages.show_message("error", text)

    def browse(self, step: int) -> None:
        """Open the next (``step`` 1) or previous (-1) image of the current image's folder.

        The list wraps around at the ends. A ground truth is followed by the next file opened as a
        ground truth at the same factor.
        """
        doc = self.window.doc
        if doc is None or doc.path is None:
            return
        current = Path(self._browse_from or doc.path)
        target = neighbour(current, step)
        if target is None:
            self.window.statusBar().showMessage(f"No other image in {current.parent}.", 4000)
            return
        self.open_path(str(target), gt_factor=doc.gt.factor if doc.gt is not None else None)
        self._browse_from = str(target)  # should it fail to open, the next press moves on past it

    def set_keep_view(self, on: bool) -> None:
        """Whether a newly opened image keeps the zoom and relative centre (saved at once)."""
        self.window.settings.keep_view = bool(on)
        self.window.act["keep view"].setChecked(self.window.settings.keep_view)
        self.window.save_settings()

    def fill_recent(self, menu: QMenu) -> None:
        """Open recent: the files, most recent first (those gone are disabled), and Clear."""
        settings = self.window.settings
        menu.clear()
        for path in settings.recent_files:
            act = menu.addAction(Path(path).name, lambda p=path: self.open_path(p))
            act.setToolTip(path)
            act.setEnabled(Path(path).is_file())
        if not settings.recent_files:
            menu.addAction("No recent files").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear recent files", self._clear_recent)
        menu.setToolTipsVisible(True)

    def _clear_recent(self) -> None:
        self.window.settings.recent_files = []
        self.window.save_settings()
