"""A comparison in the real viewer, offscreen: when is each panel final, beside the others and alone.

    python -m benchmarks.comparison [--image PATH] [--methods liif,ultrasr,ipe,diif,clit]
                                    [--zoom 12] [--size 1400x900] [--json OUT]

The window shows bicubic and the methods (six panels by default, a 3 × 2 grid), opens the image
(kodim23 by default), zooms to ``--zoom`` at a parrot's eye, then pans by one panel's width (new
pixels, every method's cost measured by then). Per step it prints the seconds until each panel is
final; the same two steps in a fresh window that starts from the costs the first one measured
(as the next session does, ``Settings.method_costs``); with each method alone in a window whose
one panel has the size of a panel of the grid; and the ratio of the first to the last. Issue
#30's target was every panel final within 1.3× of its time alone; on a CPU the panels share, what
the order guarantees is that no panel waits for a slower method (``app.model.priority``).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import machine, print_machine, print_table, write_json
from benchmarks.interactive import add_viewer_arguments, offscreen_app, open_window

#: the zoom happens about this point of the image, as fractions of its width and height
EYE = (0.62, 0.36)
POLL = 0.01


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_viewer_arguments(parser)
    parser.add_argument("--methods", default="liif,ultrasr,ipe,diif,clit")
    parser.add_argument("--zoom", type=float, default=12.0)
    args = parser.parse_args(argv)
    app = offscreen_app()

    import torch

    methods = args.methods.split(",")
    width, height = (int(v) for v in args.size.split("x"))
    panels = ["bicubic", *methods]
    costs: dict[str, float] = {}  # what the first window measured, as the settings keep it
    together = session(app, args, panels, (width, height), costs=costs)
    viewport = tuple(together["viewport"])
    alone = {m: session(app, args, [m], viewport, viewport=viewport) for m in methods}
    # the next session: a fresh window that starts from the costs the first one measured
    again = session(app, args, panels, (width, height), costs=dict(costs))
    print_machine(machine(torch.device("cpu")))
    print(f"{args.image}: ×{args.zoom:g}, panels of {viewport[0]}×{viewport[1]} px")
    rows = []
    for i, step in enumerate(together["steps"]):
        for m in methods:
            beside, own = step["final"].get(m), alone[m]["steps"][i]["final"].get(m)
            rows.append([step["name"], m, _num(beside), _num(again["steps"][i]["final"].get(m)), _num(own),
                         f"{beside / own:.2f}" if beside and own else "—"])
    print_table(["step", "method", "final s, all panels", "next session", "final s, alone", "ratio"], rows)
    if args.json:
        write_json(args.json, {"machine": machine(torch.device("cpu")), "image": str(args.image),
                               "zoom": args.zoom, "together": together, "next_session": again,
                               "alone": alone})


def session(app, args: argparse.Namespace, panels: list[str], size: tuple[int, int],
            viewport: tuple[int, int] | None = None, costs: dict[str, float] | None = None) -> dict:
    """Open a window of ``size`` (or one whose panels measure ``viewport``) with ``panels``, zoom,
    pan; the seconds until each panel is final, per step. ``costs``: the methods' remembered
    costs (``Settings.method_costs``) the window starts from, updated with what it measured."""
    from app.headless import wait_until_final
    from app.model.settings import Settings

    settings = Settings(panels=panels, method_costs=dict(costs or {}))
    window = open_window(settings, size, args.image)
    canvas = window.panels[0].canvas
    if viewport is not None:  # grow the window by what its panel lacks
        have = canvas.layers()[0].viewport
        window.resize(window.width() + viewport[0] - have[0], window.height() + viewport[1] - have[1])
        wait_until_final(window, 120)
    image_w, image_h = window.doc.source.width, window.doc.source.height

    def zoom() -> None:
        window.view.centre_on(image_w * EYE[0], image_h * EYE[1])
        window.view.zoom_to(args.zoom)

    def pan() -> None:
        window.view.pan(-canvas.width(), 0)

    steps = [_settle(app, window, f"zoom ×{args.zoom:g} at the eye", zoom, args.timeout),
             _settle(app, window, "pan one panel", pan, args.timeout)]
    shown = list(canvas.layers()[0].viewport)
    if costs is not None:
        window.scheduler.remember_costs(settings)
        costs.update(settings.method_costs)
    window.close()
    app.processEvents()
    return {"panels": panels, "viewport": shown, "steps": steps}


def _settle(app, window, name: str, act, timeout: float) -> dict:
    """Do ``act``, then wait until the window is settled; when each panel became final."""
    sched = window.scheduler
    act()
    start, final = time.perf_counter(), {}
    while time.perf_counter() - start < timeout:
        app.processEvents()
        elapsed = time.perf_counter() - start
        for panel in window.panels:
            layer = panel.canvas.layers()[0]
            status = sched.status(layer)
            if layer.method not in final and status.total and status.final == status.total and elapsed > POLL:
                final[layer.method] = round(elapsed, 2)
        if len(final) == len(window.panels) and sched.is_settled():
            break
        time.sleep(POLL)
    return {"name": name, "final": final}


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
