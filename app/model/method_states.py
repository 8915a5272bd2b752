"""Each method's state as the viewer sees it: its kind, its weights, why it failed (no Qt).

:class:`MethodStates` answers the panels' questions about a method (can it run, whose weights,
what went wrong) and keeps the failures the render workers report, so that a failed tile shows
bicubic and a method that cannot load stays blocked until the user retries.
"""

from __future__ import annotations

from collections.abc import Callable

from app.model.document import Document
from app.model.layers import Kind
from app.model.method_provider import BICUBIC, GROUND_TRUTH, MethodProvider
from app.model.tiles import TileKey
from sr_core.registry import MethodStatus

NO_TRUTH = "Open a ground-truth reference to show it (File ▸ Compare with ground truth…)."


class MethodStates:
    """The methods' kinds, weights and failures for the current document."""

    def __init__(self, provider: MethodProvider, tell: Callable[[str], object]) -> None:
        self.provider = provider
        #: shows the user one line (a failure, once)
        self.tell = tell
        #: the document has a ground-truth reference (the ground-truth pseudo-method can show)
        self.has_truth = False
        #: the provider's status of each method, read once per refresh
        self._weights: dict[str, MethodStatus] = {}
        #: method → why it failed to load
        self.method_errors: dict[str, str] = {}
        #: tile → why it failed to render (it shows bicubic)
        self.tile_errors: dict[TileKey, str] = {}
        #: (who, message) pairs already told to the user
        self._reported: set[tuple[str, str]] = set()

    def set_document(self, doc: Document | None) -> None:
        """A new document: its tiles have not failed yet."""
        self.has_truth = doc is not None and doc.gt is not None
        self.tile_errors.clear()

    def kind(self, method: str) -> Kind:
        if method == GROUND_TRUTH:
            return Kind.TRUTH if self.has_truth else Kind.BLOCKED
        if method == BICUBIC:
            return Kind.BICUBIC
        if method in self.method_errors:
            return Kind.BLOCKED
        return Kind.MODEL if self.available(method)[0] else Kind.BLOCKED

    def available(self, method: str) -> tuple[bool, str]:
        """(available, reason) of a method, from its weights' status."""
        if method == GROUND_TRUTH:
            return self.has_truth, "" if self.has_truth else NO_TRUTH
        if method not in self.provider.names():
            return False, f"Unknown method {method!r}."
        status = self.weights(method)
        return status.available, status.reason

    def weights(self, method: str) -> MethodStatus:
        """The provider's status of a method (its weights and their provenance), read once per refresh."""
        if method not in self._weights:
            self._weights[method] = self.provider.status(method)
        return self._weights[method]

    def fail_method(self, method: str, message: str) -> None:
        """The method cannot load: it stays blocked until ``forget_failures``."""
        self.method_errors[method] = message

    def forget_failures(self, *, reread_weights: bool = False) -> None:
        """Retry: forget the failed tiles and methods (and the weights' status, after an import)."""
        self.tile_errors.clear()
        self.method_errors.clear()
        self._reported.clear()
        if reread_weights:
            self._weights.clear()

    def forget_method_errors(self) -> None:
        """A new model worker: the methods may load there."""
        self.method_errors.clear()
        self._reported.clear()

    def report(self, who: str, message: str) -> None:
        """Tell the user ``who: message`` unless already told since failures were last forgotten."""
        if (who, message) not in self._reported:
            self._reported.add((who, message))
            self.tell(f"{who}: {message}")
