"""A scripted session in the real viewer, offscreen: how soon detail shows, and what it costs.

    python -m benchmarks.interactive [--image PATH] [--panels bicubic,liif] [--size 1400x900]
                                     [--at 0.62,0.36] [--json OUT]

The window opens the image (kodim23 by default) with bicubic | METHOD and then, like a user
with a mouse: wheel-zooms 9 notches at a fixed point (fit → about ×4.3), waits; drags two tiles
to the left, waits; wheel-zooms 6 notches more (about ×12), waits. Inputs are posted to Qt's
event queue, 60 ms apart. Per step it prints

* ``detail``: seconds from the step's last input to METHOD's first final pixels on screen (the
  peek at the eye, ``app.model.layers.PEEK``, or a whole tile), and ``first``: to its first final tile;
* ``final``: seconds until every visible tile of METHOD is final;
* ``sharp``: METHOD's panel sharpness (mean |Laplacian| of the luma) over the bicubic panel's,
  the lowest while refining and the final one (below 1.00 = blurrier than bicubic);
* ``p50``/``p95``: input-to-paint latency: from posting an input until the panel has
  painted the new view;
* ``raw``: what the renderer alone needs for the pixels the step made visible (one
  ``Renderer.render`` of them, in the same order, so the encoder runs cold only at first),
  in float32 and bfloat16, and ``final / raw`` for the dtype the viewer used.

The raw renders run after the window has closed, so nothing competes with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import machine, print_machine, print_table, write_json

KODIM23 = Path(__file__).resolve().parents[2] / "shared" / "data" / "val" / "Kodak24" / "kodim23.webp"
#: seconds between two posted inputs (a quick hand on a wheel)
INPUT_GAP = 0.06
POLL = 0.02
#: seconds between sharpness samples while a step refines
SHARP_EVERY = 0.5


@dataclass
class Step:
    name: str
    zoom: float = 0.0
    detail: float | None = None
    first: float | None = None
    final: float | None = None
    sharp_min: float | None = None
    sharp_final: float | None = None
    latencies: list[float] = field(default_factory=list)
    #: (out_h, out_w, top, left, bottom, right) output pixels newly visible
    rects: list[tuple[int, ...]] = field(default_factory=list)
    raw: dict[str, float] = field(default_factory=dict)


def add_viewer_arguments(parser: argparse.ArgumentParser) -> None:
    """``--image``, ``--size``, ``--timeout`` and ``--json`` of the benchmarks that drive the window."""
    parser.add_argument("--image", type=Path, default=KODIM23 if KODIM23.exists() else None,
                        help="default: Kodak's kodim23 from ../shared/data, else the demo image")
    parser.add_argument("--size", default="1400x900", help="the window, WIDTHxHEIGHT")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a step may take")
    parser.add_argument("--json", type=Path, default=None)


def offscreen_app():
    """The QApplication (offscreen unless ``QT_QPA_PLATFORM`` says otherwise)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0]])


def open_window(settings, size: tuple[int, int], image: Path | None):
    """A shown, non-saving window of ``size`` with ``settings``, ``image`` (else the demo) open."""
    from app.headless import wait_until_final
    from app.launch import demo_image
    from app.model.method_provider import RegistryProvider
    from app.ui.main_window import MainWindow

    window = MainWindow(RegistryProvider(), settings, persist=False)
    window.resize(*size)
    window.show()
    window.open_path(str(image or demo_image()), remember=False)
    if not wait_until_final(window, 120) or window.doc is None:
        raise SystemExit("the image did not open")
    return window


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_viewer_arguments(parser)
    parser.add_argument("--panels", default="bicubic,liif")
    parser.add_argument("--at", default="0.62,0.36",
                        help="where the wheel zooms, as fractions of the SR panel (default: a parrot's eye)")
    args = parser.parse_args(argv)
    app = offscreen_app()

    import torch

    from app.model.settings import Settings

    panels = args.panels.split(",")
    method = panels[1]
    width, height = (int(v) for v in args.size.split("x"))
    window = open_window(Settings(panels=panels), (width, height), args.image)
    session = Session(app, window, method, args.timeout)
    at = tuple(float(v) for v in args.at.split(","))
    steps = [session.wheel("zoom 9 notches", 9, at), session.drag("pan 2 tiles", -512),
             session.wheel("zoom 6 notches", 6, at)]
    window.close()
    app.processEvents()
    raw_costs(steps, window.doc.source, method)
    print_machine(machine(torch.device("cpu")))
    print(f"image {window.doc.name} {window.doc.size[0]}×{window.doc.size[1]}, window {args.size}, "
          f"panels {args.panels}, viewer dtype {session.dtype}, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    rows = []
    for s in steps:
        raw = s.raw.get(session.dtype)
        rows.append([s.name, f"×{s.zoom:.2f}", _num(s.detail), _num(s.first), _num(s.final), _num(s.sharp_min),
                     _num(s.sharp_final), _ms(s.latencies, 50), _ms(s.latencies, 95), len(s.latencies),
                     f"{_mp(s):.3f}",
                     _num(s.raw.get("float32")), _num(s.raw.get("bfloat16")),
                     f"{s.final / raw:.2f}" if s.final and raw else "—"])
    print_table(["step", "zoom", "detail s", "first s", "final s", "sharp min", "sharp final", "p50 ms", "p95 ms",
                 "inputs", "new MP", "raw f32 s", "raw bf16 s", "final/raw"], rows)
    write_json(args.json, {"machine": machine(torch.device("cpu")), "image": str(args.image),
                           "size": args.size, "panels": panels, "dtype": session.dtype,
                           "steps": [s.__dict__ for s in steps]})


class Session:
    """Drives the window and watches METHOD's panel (the second) against bicubic's (the first)."""

    def __init__(self, app, window, method: str, timeout: float) -> None:
        from PySide6.QtCore import QEvent, QObject, QTimer

        self.app, self.window, self.method, self.timeout = app, window, method, timeout
        self.bicubic, self.canvas = (p.canvas for p in window.panels[:2])
        self.painted = 0.0
        session = self

        class PaintWatch(QObject):
            """Notes when a paint of the SR panel has finished (the next turn of the loop)."""

            def eventFilter(self, obj, event) -> bool:
                if event.type() == QEvent.Type.Paint:
                    QTimer.singleShot(0, lambda: setattr(session, "painted", time.perf_counter()))
                return False

        self._watch = PaintWatch()
        self.canvas.installEventFilter(self._watch)
        self.dtype = "float32"

    def _spin(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents()
            time.sleep(0.002)

    def _post(self, step: Step, make_event: Callable) -> None:
        """Post one input; wait until the panel painted after it, then for the rest of the gap."""
        from PySide6.QtWidgets import QApplication

        start = time.perf_counter()
        QApplication.postEvent(self.canvas, make_event())
        while self.painted < start and time.perf_counter() - start < 5:
            self.app.processEvents()
            time.sleep(0.001)
        step.latencies.append(self.painted - start)
        self._spin(max(0.0, INPUT_GAP - (time.perf_counter() - start)))

    def wheel(self, name: str, notches: int, at: tuple[float, float]) -> Step:
        from PySide6.QtCore import QPoint, QPointF, Qt
        from PySide6.QtGui import QWheelEvent

        step, before = Step(name), self._visible()
        pos = QPointF(self.canvas.width() * at[0], self.canvas.height() * at[1])
        for _ in range(notches):
            self._post(step, lambda: QWheelEvent(pos, self.canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120),
                                                 Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                                 Qt.ScrollPhase.NoScrollPhase, False))
        return self._settle(step, before)

    def drag(self, name: str, dx: int, moves: int = 16) -> Step:
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent

        step, before = Step(name), self._visible()
        y, x0 = self.canvas.height() / 2, self.canvas.width() * 0.8
        dpr = self.canvas.devicePixelRatioF()

        def mouse(kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> Callable:
            pos = QPointF(x, y)
            return lambda: QMouseEvent(kind, pos, self.canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton
                                       if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                                       buttons, Qt.KeyboardModifier.NoModifier)

        from PySide6.QtWidgets import QApplication
        QApplication.postEvent(self.canvas, mouse(QEvent.Type.MouseButtonPress, x0, Qt.MouseButton.LeftButton)())
        for i in range(1, moves + 1):
            self._post(step, mouse(QEvent.Type.MouseMove, x0 + dx / dpr * i / moves, Qt.MouseButton.LeftButton))
        QApplication.postEvent(self.canvas, mouse(QEvent.Type.MouseButtonRelease, x0 + dx / dpr,
                                                  Qt.MouseButton.NoButton)())
        return self._settle(step, before)

    def _layer(self):
        return self.canvas.layers()[0]

    def _visible(self) -> tuple[int, int, int, int, int, int]:
        """(out_h, out_w, top, left, bottom, right): the output pixels the SR panel shows."""
        tiles = self.window.scheduler.layer_tiles(self._layer())
        p, (vw, vh) = tiles.placement, self._layer().viewport
        return (p.out_h, p.out_w, max(0, p.oy), max(0, p.ox), min(p.out_h, p.oy + vh), min(p.out_w, p.ox + vw))

    def _sharpness(self) -> float:
        from app.ui.frame_pixels import widget_rgb
        from sr_core.metrics import laplacian_sharpness

        return laplacian_sharpness(widget_rgb(self.canvas, 4)) / laplacian_sharpness(widget_rgb(self.bicubic, 4))

    def _settle(self, step: Step, before: tuple[int, ...]) -> Step:
        """Watch the step refine until final: first tile, final, sharpness."""
        sched = self.window.scheduler
        start, next_sample = time.perf_counter(), 0.0
        step.zoom = self.window.view.state.zoom
        now = self._visible()
        step.rects = [now] if now[:2] != before[:2] else _new_columns(before, now)
        while time.perf_counter() - start < self.timeout:
            self.app.processEvents()
            elapsed = time.perf_counter() - start
            fine = sched.layer_tiles(self._layer()).fine
            if step.detail is None and any(sched.cache.get(k) is not None for k in fine):
                step.detail = elapsed
            if step.first is None and any(k in sched.cache for k in fine):
                step.first = elapsed
            if sched.is_settled():
                step.final = elapsed
                break
            if elapsed >= next_sample:
                ratio = self._sharpness()
                step.sharp_min = ratio if step.sharp_min is None else min(step.sharp_min, ratio)
                next_sample = elapsed + SHARP_EVERY
            time.sleep(POLL)
        step.sharp_final = self._sharpness()
        step.sharp_min = min(step.sharp_min or step.sharp_final, step.sharp_final)
        dtype = self.window.scheduler.model.dtype_of(self.method)
        if dtype is not None:
            self.dtype = str(dtype).removeprefix("torch.")
        return step


def _new_columns(before: tuple[int, ...], now: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The columns of ``now`` that ``before`` (same grid) did not show."""
    out_h, out_w, top, left, bottom, right = now
    parts = []
    if left < before[3]:
        parts.append((out_h, out_w, top, left, bottom, min(right, before[3])))
    if right > before[5]:
        parts.append((out_h, out_w, top, max(left, before[5]), bottom, right))
    return parts


def raw_costs(steps: list[Step], source, method: str) -> None:
    """Seconds the renderer alone needs for each step's new pixels, float32 and bfloat16."""
    import torch

    from sr_core.registry import load_method
    from sr_core.render import Rect, Renderer

    for dtype in ("float32", "bfloat16"):
        model, _ = load_method(method, device="cpu")
        renderer = Renderer(model, dtype=getattr(torch, dtype))
        for s in steps:
            start = time.perf_counter()
            for out_h, out_w, top, left, bottom, right in s.rects:
                renderer.render(source, out_h, out_w, Rect(top, left, bottom, right))
            s.raw[dtype] = time.perf_counter() - start


def _mp(step: Step) -> float:
    return sum((r[4] - r[2]) * (r[5] - r[3]) for r in step.rects) / 1e6


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ms(values: list[float], pct: int) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0] * 1000:.0f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[pct - 1] * 1000:.0f}"


if __name__ == "__main__":
    main()
