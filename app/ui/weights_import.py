"""Methods ▸ Import weights…: the user picks an official ``.pth`` and the method it is for; it is
converted off the GUI thread and the methods' weights are read again."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QFileDialog, QInputDialog, QStatusBar, QWidget

from app.model.method_provider import MethodProvider, display_name
from app.render.background import Background
from app.render.scheduler import TileScheduler
from app.ui.message_bar import MessageBar
from sr_core.registry import install_official


class ImporterHost(Protocol):
    """What the importer needs of the window: the methods, a thread, the status line and messages."""

    provider: MethodProvider
    scheduler: TileScheduler
    loader: Background
    messages: MessageBar

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)


class WeightsImporter:
    """Imports official weights for ``window``."""

    def __init__(self, window: ImporterHost, parent: QWidget) -> None:
        self.window = window
        #: the dialogs' parent
        self.dialog_parent = parent

    def choose(self) -> None:
        window, provider = self.window, self.window.provider
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Import official weights", str(Path.home()),
                                              "PyTorch checkpoints (*.pth *.pt);;All files (*)")
        if not path:
            return
        names = [n for n in provider.names() if provider.info(n).needs_weights]
        labels = [display_name(provider, n) for n in names]
        label, ok = QInputDialog.getItem(self.dialog_parent, "Import weights", "Install the weights as:", labels,
                                         0, False)
        if not ok:
            return
        method = names[labels.index(label)]
        window.statusBar().showMessage(f"Importing {Path(path).name}…")
        window.loader.run(lambda: install_official(path, method),
                          lambda out: self._on_imported(method, out),
                          lambda err: window.messages.show_message("error", f"Import failed: {err}"))

    def _on_imported(self, method: str, out: Path) -> None:
        window = self.window
        window.statusBar().clearMessage()
        window.messages.show_message("info", f"{display_name(window.provider, method)} weights installed ({out}).")
        window.scheduler.retry(reread_weights=True)
