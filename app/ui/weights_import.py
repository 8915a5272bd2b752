"""Methods ▸ Import weights…: the user picks a model file and what it is: their own fixed-scale
model (Real-ESRGAN, SwinIR … installed as a new method; dropping the file onto the window does
the same) or a method's official ``.pth``. It is checked and converted off the GUI thread and
the methods' weights are read again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QFileDialog, QInputDialog, QStatusBar, QWidget

from app.model.method_provider import MethodProvider, display_name
from app.render.background import Background
from app.render.scheduler import TileScheduler
from app.ui.message_bar import MessageBar
from sr_core.registry import install_official, install_user_model

OWN_MODEL = "your own model (Real-ESRGAN, SwinIR, SPAN …): a new method"


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
        provider = self.window.provider
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Import weights", str(Path.home()),
                                              "Model files (*.pth *.ckpt *.safetensors);;All files (*)")
        if not path:
            return
        names = [n for n in provider.names() if provider.info(n).needs_weights and provider.info(n).user_model is None]
        labels = [OWN_MODEL] + [f"official weights of {display_name(provider, n)}" for n in names]
        label, ok = QInputDialog.getItem(self.dialog_parent, "Import weights", "The file holds:", labels,
                                         0, False)
        if not ok:
            return
        if label == OWN_MODEL:
            self.install_own(path)
            return
        method = names[labels.index(label) - 1]
        self._run(path, lambda: (method, install_official(path, method)))

    def install_own(self, path: str) -> None:
        """Install the user's own model file as a new method (named after the file)."""
        self._run(path, lambda: install_user_model(path))

    def _run(self, path: str, work: Callable[[], tuple[str, Path]]) -> None:
        window = self.window
        window.statusBar().showMessage(f"Importing {Path(path).name}…")
        window.loader.run(work, lambda result: self._on_imported(*result),
                          lambda err: window.messages.show_message("error", f"Import failed: {err}"))

    def _on_imported(self, method: str, out: Path) -> None:
        window = self.window
        window.statusBar().clearMessage()
        window.messages.show_message("info", f"{display_name(window.provider, method)} installed ({out}); "
                                             "choose it in a panel's method menu.")
        window.scheduler.retry(reread_weights=True)
