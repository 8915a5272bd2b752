"""The one pixel rectangle and the named ``(h, w)`` size."""

from sr_core import render
from sr_core.geometry import Rect, Size


def test_rect_sizes_blocks_and_set_operations() -> None:
    r = Rect(2, 3, 7, 12)
    assert (r.height, r.width) == r.size == Size(h=5, w=9) == (5, 9)
    assert list(Rect.full(3, 5).blocks(2)) == [Rect(0, 0, 2, 2), Rect(0, 2, 2, 4), Rect(0, 4, 2, 5),
                                              Rect(2, 0, 3, 2), Rect(2, 2, 3, 4), Rect(2, 4, 3, 5)]
    assert r.intersection(Rect(5, 10, 20, 20)) == Rect(5, 10, 7, 12)
    assert r.intersection(Rect(7, 0, 9, 20)) is None  # half-open: touching is not overlapping
    assert r.bounding(Rect(0, 10, 3, 15)) == Rect(0, 3, 7, 15)
    assert r.contains(Rect(2, 3, 7, 12)) and r.contains(Rect(3, 4, 5, 5)) and not r.contains(Rect(1, 3, 7, 12))


def test_the_renderer_speaks_the_same_types() -> None:
    assert render.Rect is Rect  # ``from sr_core.render import Rect`` keeps working
    size = render.output_size(10, 20, 1.5)
    assert isinstance(size, Size) and size == (15, 30) and (size.h, size.w) == (15, 30)
