"""The methods' state without a QApplication: kinds, weights read once, failures kept until a
retry, and each failure told once."""

from __future__ import annotations

from types import SimpleNamespace

from app_fakes import FakeMethod, FakeProvider

from app.model.layers import Kind
from app.model.method_provider import BICUBIC, GROUND_TRUTH
from app.model.method_states import NO_TRUTH, MethodStates
from app.model.tiles import TileKey
from sr_core.registry import MethodStatus


class CountingProvider(FakeProvider):
    """Counts how often the weights' status is read."""

    def __init__(self) -> None:
        super().__init__({"fake": FakeMethod, "untrained": None})
        self.reads = 0

    def status(self, name: str) -> MethodStatus:
        self.reads += 1
        return super().status(name)


def test_each_method_has_its_kind() -> None:
    states = MethodStates(CountingProvider(), print)
    assert states.kind(BICUBIC) is Kind.BICUBIC
    assert states.kind("fake") is Kind.MODEL and states.available("fake") == (True, "trained weights")
    assert states.kind("untrained") is Kind.BLOCKED
    assert states.available("untrained") == (False, "no trained weights shipped yet")
    assert states.available("nothing") == (False, "Unknown method 'nothing'.")


def test_the_ground_truth_shows_only_with_a_reference() -> None:
    states = MethodStates(CountingProvider(), print)
    assert states.kind(GROUND_TRUTH) is Kind.BLOCKED and states.available(GROUND_TRUTH) == (False, NO_TRUTH)
    states.set_document(SimpleNamespace(gt=object()))
    assert states.kind(GROUND_TRUTH) is Kind.TRUTH and states.available(GROUND_TRUTH) == (True, "")
    states.set_document(None)
    assert states.kind(GROUND_TRUTH) is Kind.BLOCKED


def test_weights_are_read_once_until_an_import_asks_again() -> None:
    provider = CountingProvider()
    states = MethodStates(provider, print)
    for _ in range(3):
        states.kind("fake")
        states.weights("fake")
    assert provider.reads == 1
    states.forget_failures()
    states.kind("fake")
    assert provider.reads == 1
    states.forget_failures(reread_weights=True)
    states.kind("fake")
    assert provider.reads == 2


def test_a_failed_method_stays_blocked_until_a_retry() -> None:
    states = MethodStates(CountingProvider(), print)
    key = TileKey("fake", 1, 100, 100, 64, 0, 0)
    states.fail_method("fake", "out of memory")
    states.tile_errors[key] = "out of memory"
    assert states.kind("fake") is Kind.BLOCKED and states.method_errors == {"fake": "out of memory"}
    states.set_document(None)  # a new document: its tiles have not failed, the method still has
    assert not states.tile_errors and states.kind("fake") is Kind.BLOCKED
    states.tile_errors[key] = "out of memory"
    states.forget_failures()
    assert states.kind("fake") is Kind.MODEL and not states.tile_errors


def test_each_failure_is_told_once_until_failures_are_forgotten() -> None:
    told: list[str] = []
    states = MethodStates(CountingProvider(), told.append)
    states.report("LIIF", "out of memory")
    states.report("LIIF", "out of memory")
    states.report("LTE", "out of memory")
    assert told == ["LIIF: out of memory", "LTE: out of memory"]
    states.forget_method_errors()
    states.report("LIIF", "out of memory")
    assert told[-1] == "LIIF: out of memory" and len(told) == 3
