"""Which panel the model worker refines first (no Qt).

Shared out evenly, every panel of a comparison waits for the slowest method (issue #30: LIIF's
panel, 3 s alone, was final after 30–40 s beside CLIT). So panels are refined one after the
other: the panel under the mouse first (the user is looking there), then the others from the
cheapest method up, which makes each panel final as early as the panels before it allow.
Only the first panel (under the mouse, else the cheapest) and methods without a cost yet first
get a peek at the eye: the peeks of every panel, slow methods' included, came before all else
and delayed the cheapest panel by the sum of them.
A method's cost is measured: :class:`MethodCosts` keeps the seconds per output pixel of the
tiles the model worker renders. The costs measured in earlier sessions on the same device
(``Settings.method_costs``) are where a session starts, so that its first view is ranked too.
Before a method is measured, its typical CPU cost relative to the others (``MethodSpec.cpu_cost``)
stands in, scaled by what the measured methods cost against theirs, so that even the very first
view of a first session is ranked; a method with neither ranks first, so that its first tile
measures it at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from app.model.layers import Kind
from app.model.render_plan import PlannedLayer

#: each new measurement weighs this much against the methods' earlier ones (pixel-weighted)
DECAY = 0.5
#: a cost remembered from an earlier session weighs as much as this many pixels measured now
#: (a peek's worth: the session's first whole tile outweighs it)
REMEMBERED_PIXELS = 128 * 128


def _valid(costs: Mapping[str, float] | None) -> dict[str, float]:
    return {method: cost for method, cost in (costs or {}).items()
            if isinstance(cost, float) and math.isfinite(cost) and cost > 0}


class MethodCosts:
    """Seconds per output pixel of each method, from the tiles rendered so far (a
    pixel-weighted moving average: a small first look weighs little against a whole tile),
    starting from ``remembered`` ones (method: seconds per pixel). Methods not measured yet
    are estimated from their ``typical`` relative costs (method: cost relative to the others).
    Invalid values of either are ignored."""

    def __init__(self, remembered: Mapping[str, float] | None = None,
                 typical: Mapping[str, float] | None = None) -> None:
        self._sums: dict[str, tuple[float, float]] = {
            method: (cost * REMEMBERED_PIXELS, REMEMBERED_PIXELS) for method, cost in _valid(remembered).items()}
        self._typical = _valid(typical)

    def known(self) -> dict[str, float]:
        """Every measured (or remembered) method's cost in seconds per output pixel, to remember;
        estimates are not."""
        return {method: sums[0] / sums[1] for method, sums in self._sums.items()}

    def per_pixel(self, method: str) -> float | None:
        """Seconds per output pixel, measured, else estimated (:meth:`estimate`)."""
        sums = self._sums.get(method)
        return self.estimate(method) if sums is None else sums[0] / sums[1]

    def estimate(self, method: str) -> float | None:
        """``method``'s typical cost times the geometric mean of measured / typical over the
        measured methods that have a typical cost; the typical cost itself while nothing is
        measured. None without a typical cost, or when only methods without one are measured
        (nothing to scale by)."""
        typical = self._typical.get(method)
        if typical is None:
            return None
        logs = [math.log(sums[0] / sums[1] / self._typical[m]) for m, sums in self._sums.items() if m in self._typical]
        if not logs:
            return None if self._sums else typical
        return typical * math.exp(sum(logs) / len(logs))

    def observe(self, method: str, pixels: int, seconds: float) -> bool:
        """A tile of ``pixels`` took ``seconds``; True when this changes the methods' ranking."""
        if pixels <= 0 or not seconds >= 0:
            return False
        before = self.ranking()
        old_seconds, old_pixels = self._sums.get(method, (0.0, 0.0))
        self._sums[method] = (DECAY * old_seconds + seconds, DECAY * old_pixels + pixels)
        return self.ranking() != before

    def ranking(self) -> list[str]:
        """The measured and estimated methods, cheapest first."""
        costs = {m: self.per_pixel(m) for m in {*self._sums, *self._typical}}
        return sorted((m for m, cost in costs.items() if cost is not None), key=lambda m: (costs[m], m))


def rank_layers(layers: Sequence[PlannedLayer], focus: int | None,
                cost: Callable[[str], float | None]) -> list[PlannedLayer]:
    """``layers`` in the order their panels are refined: panel ``focus`` first, then by
    ``cost(method)`` per pixel, cheapest first (no cost yet: first), then panel order."""
    def key(item: tuple[int, PlannedLayer]) -> tuple[bool, float, int]:
        index, planned = item
        known = cost(planned.layer.method)
        return planned.layer.panel != focus, 0.0 if known is None else known, index

    return [p for _, p in sorted(enumerate(layers), key=key)]


def peeked_layers(ranked: Sequence[PlannedLayer], focus: int | None,
                  cost: Callable[[str], float | None]) -> list[PlannedLayer]:
    """The model layers of ``ranked`` that get a peek first: the first panel's (``focus`` or,
    when the mouse has not been over a panel, the first ranked model layer's) and those whose
    method has no cost yet, measured or estimated (its peek measures it)."""
    models = [p for p in ranked if p.kind is Kind.MODEL]
    first = models[0].layer.panel if models else None
    return [p for p in models if p.layer.panel in (focus, first) or cost(p.layer.method) is None]
