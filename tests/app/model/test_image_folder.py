"""Stepping through a folder's images (no Qt); the listing itself is tested with sr_core.imaging."""

from __future__ import annotations

from pathlib import Path

from app.model.image_folder import neighbour, position


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"")


def test_neighbours_wrap_around_at_the_ends(tmp_path):
    touch(tmp_path, "a1.png", "a2.png", "a10.png")
    first, second, last = (tmp_path / n for n in ("a1.png", "a2.png", "a10.png"))
    assert neighbour(first, 1) == second and neighbour(second, 1) == last
    assert neighbour(last, 1) == first and neighbour(first, -1) == last
    assert neighbour(last, -1) == second


def test_the_folder_is_listed_again_and_a_removed_file_keeps_its_place(tmp_path):
    touch(tmp_path, "a1.png", "a3.png")
    current = tmp_path / "a1.png"
    touch(tmp_path, "a2.png")
    assert neighbour(current, 1) == tmp_path / "a2.png"
    (tmp_path / "a2.png").unlink()
    assert neighbour(tmp_path / "a2.png", 1) == tmp_path / "a3.png"
    assert neighbour(tmp_path / "a2.png", -1) == current


def test_a_lone_image_has_no_neighbour_and_positions_count_from_one(tmp_path):
    touch(tmp_path, "only.png", "readme.md")
    assert neighbour(tmp_path / "only.png", 1) is None
    assert neighbour(tmp_path / "missing" / "x.png", 1) is None
    assert position(tmp_path / "only.png") == (1, 1)
    assert position(tmp_path / "readme.md") is None
    touch(tmp_path, "a.png")
    assert position(tmp_path / "only.png") == (2, 2)
