"""The panel layout has one owner (no Qt): what each panel shows, the grid, wipe and swap."""

from __future__ import annotations

from app.model.method_provider import BICUBIC, GROUND_TRUTH
from app.model.panel_layout import PanelLayout


def test_one_panel_per_method_or_one_wiping_between_two() -> None:
    layout = PanelLayout(["a", "b", "c"])
    assert layout.groups() == [["a"], ["b"], ["c"]] and layout.grid() == (1, 3) and layout.count() == 3
    layout.set_wipe(True, ["a", "b", "c"])
    assert layout.groups() == [["a", "b"]] and layout.shown(0) == ["a", "b"] and layout.shown(2) == []
    assert layout.grid() == (1, 1) and layout.count() == -1
    layout.swap()
    assert layout.shown(0) == ["b", "a"] and layout.methods == ["b", "a", "c"]
    layout.choose(0, 1, "c")
    assert layout.shown(0) == ["b", "c"]
    layout.show([])
    assert layout.methods == [BICUBIC] and not layout.wipe


def test_wiping_a_single_method_adds_a_second() -> None:
    layout = PanelLayout(["a"])
    layout.set_wipe(True, ["a", "b"])
    assert layout.shown(0) == ["a", "b"]
    layout.set_wipe(False, [])
    assert layout.groups() == [["a"], ["b"]]
    layout.choose(1, 0, "c")
    assert layout.methods == ["a", "c"]


def test_a_panel_count_keeps_the_methods_shown_and_adds_the_truth_first() -> None:
    layout = PanelLayout(["b"])
    assert layout.with_count(3, ["a", "b", "c", GROUND_TRUTH]) == ["b", GROUND_TRUTH, "a"]
    assert layout.with_count(5, ["b"]) == ["b"]  # never more than can run


def test_dropping_the_truth_leaves_bicubic_at_least() -> None:
    layout = PanelLayout([GROUND_TRUTH])
    assert layout.drop(GROUND_TRUTH) and layout.methods == [BICUBIC]
    assert not layout.drop(GROUND_TRUTH)


def test_large_counts_use_three_rows() -> None:
    assert PanelLayout(list("abcdefghijkl")).grid() == (3, 4)
