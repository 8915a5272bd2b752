"""The viewer's command line: ``python main.py [IMAGE] [options]``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from app.model.view_state import MAX_ZOOM
from sr_core.arg_types import OneLineParser, bounded_int, finite_float, pair

DEFAULT_SIZE = (1600, 1000)
SELFTEST_SIZE = (640, 420)
#: window sides --size accepts (a 30000×30000 window would take gigabytes to draw)
MIN_SIDE, MAX_SIDE = 100, 8192
#: how far from the image --center may point (it is clamped into the image anyway)
MAX_COORDINATE = 1e9


@dataclass(frozen=True)
class ViewerOptions:
    image: str | None
    zoom: float | None
    center: tuple[float, float] | None
    panels: list[str] | None
    wipe: bool
    gt: bool
    factor: int
    heatmap: bool
    size: tuple[int, int] | None
    device: str | None
    screenshot: str | None
    selftest: bool
    timeout: float

    @property
    def headless(self) -> bool:
        return self.screenshot is not None or self.selftest


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="zoomsr", description="ZoomSR viewer: zoom into a photograph while super-resolution "
        "methods render the detail. Without IMAGE it opens a demo image.",
        epilog="Other commands: 'python main.py upscale|methods|import --help', 'python main.py --version'.")
    p.add_argument("image", nargs="?", help="image to open (or the reference with --gt)")
    p.add_argument("--zoom", type=finite_float(0, MAX_ZOOM, low_open=True),
                   help="device pixels per image pixel, e.g. 3 (default: fit)")
    p.add_argument("--center", type=pair(finite_float(-MAX_COORDINATE, MAX_COORDINATE), ",", "X,Y"),
                   metavar="X,Y",
                   help="view centre in image pixel coordinates")
    p.add_argument("--panels", type=lambda t: [m.strip() for m in t.split(",") if m.strip()],
                   metavar="A,B,…", help="methods, one panel each (e.g. bicubic,liif,gt)")
    p.add_argument("--wipe", action="store_true", help="one panel, wipe between the first two methods")
    p.add_argument("--gt", action="store_true",
                   help="IMAGE is a ground-truth reference: show its bicubic downscale and metrics")
    p.add_argument("--factor", type=bounded_int(2, 16), default=4, help="downscaling factor for --gt (default 4)")
    p.add_argument("--heatmap", action="store_true", help="error heatmap overlay (with --gt)")
    p.add_argument("--size", type=pair(bounded_int(MIN_SIDE, MAX_SIDE), "x", "WxH"), metavar="WxH",
                   help=f"window size (default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]} for screenshots)")
    p.add_argument("--device", help="auto (the first GPU, if any), cpu, cuda:N or mps for the models "
                                    "(saved setting otherwise)")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="render offscreen until every visible tile is final, save the window, exit")
    p.add_argument("--selftest", action="store_true",
                   help="render one frame with every available method offscreen; exit 0 if all work")
    p.add_argument("--timeout", type=finite_float(0, 1e6, low_open=True), default=600.0,
                   help="seconds --screenshot/--selftest may wait (default 600)")
    return p


def parse_options(args: list[str]) -> ViewerOptions:
    """Parse; raises SystemExit (with argparse's message) on bad input."""
    ns = parser().parse_args(args)
    return ViewerOptions(ns.image, ns.zoom, ns.center, ns.panels, ns.wipe, ns.gt, ns.factor,
                         ns.heatmap, ns.size, ns.device, ns.screenshot, ns.selftest, ns.timeout)
