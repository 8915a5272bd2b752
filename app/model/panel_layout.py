"""Which methods the panels show: the one owner of the panel layout, read by the window and by
every canvas (no Qt).

The layout is the list of methods and whether the window wipes between the first two: one
panel per method, or one panel with a divider.
"""

from __future__ import annotations

from app.model.method_provider import BICUBIC, GROUND_TRUTH

#: rows × columns of the panel grid for each panel count
GRID = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3), 7: (2, 4), 8: (2, 4), 9: (3, 3)}


class PanelLayout:
    """The methods shown and the wipe mode."""

    def __init__(self, methods: list[str], wipe: bool = False) -> None:
        self.methods = list(methods) or [BICUBIC]
        self.wipe = wipe

    def groups(self) -> list[list[str]]:
        """The methods of each panel: one each, or the first two in one panel when wiping."""
        return [self.methods[:2]] if self.wipe else [[m] for m in self.methods]

    def shown(self, panel: int) -> list[str]:
        """The methods of panel ``panel`` (none for a panel that is going away)."""
        groups = self.groups()
        return groups[panel] if panel < len(groups) else []

    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the panel grid."""
        n = len(self.groups())
        return GRID.get(n, (3, -(-n // 3)))

    def show(self, methods: list[str]) -> None:
        """One panel per method (leaves wipe mode)."""
        self.methods = list(methods) or [BICUBIC]
        self.wipe = False

    def with_count(self, count: int, runnable: list[str]) -> list[str]:
        """The methods of ``count`` panels: those shown, then others that can run (the ground
        truth first), so there may be fewer."""
        runnable = list(runnable)
        if GROUND_TRUTH in runnable:
            runnable.insert(0, runnable.pop(runnable.index(GROUND_TRUTH)))
        extra = [m for m in runnable if m not in self.methods]
        return (self.methods + extra)[:count]

    def set_wipe(self, on: bool, candidates: list[str]) -> None:
        """Wipe between the first two methods (a second from ``candidates`` if there is one)."""
        self.wipe = bool(on)
        if self.wipe and len(self.methods) < 2:
            self.methods += [m for m in candidates if m not in self.methods][:1]

    def swap(self) -> None:
        """Exchange the wipe's left and right methods."""
        if self.wipe and len(self.methods) >= 2:
            self.methods[0], self.methods[1] = self.methods[1], self.methods[0]

    def choose(self, panel: int, slot: int, method: str) -> None:
        """Show ``method`` in slot ``slot`` (left or right of the divider) of panel ``panel``."""
        self.methods[slot if self.wipe else panel] = method

    def drop(self, method: str) -> bool:
        """Stop showing ``method`` (the ground truth of a closed reference); whether it was shown."""
        if method not in self.methods:
            return False
        self.methods = [m for m in self.methods if m != method] or [BICUBIC]
        return True

    def count(self) -> int:
        """The panel count a layout menu marks (-1 when wiping)."""
        return -1 if self.wipe else len(self.methods)
