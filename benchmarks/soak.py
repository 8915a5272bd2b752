"""A long random zoom-and-pan session in the real viewer: does memory level off, does it stay up?

    python -m benchmarks.soak [--ops 1600] [--panels bicubic,nearest] [--memory-mb MB] [--image PATH] [--json OUT]

The viewer runs offscreen on the bundled demo image (or ``--image``) with the given panels
(methods that need no weights by default, so the session is fast on a CPU and exercises the
viewer rather than a network). Every step zooms about the centre, pans, jumps to a random
zoom or fits; every fifth step waits until the view is final. The saved settings apply as in
the app (device, precision, tile size, memory budget; ``--memory-mb`` overrides the budget).
The starting point is taken once the image is shown *and* the panels' models are loaded (their
weights and torch's set-up are reported as their own line). Every ``--every`` steps it prints
the process' resident memory, what each cache holds (the rendered tiles against their budget,
each worker's encoder features, the decoded image and its preview), what the C heap holds
(in use, and free: freed blocks it keeps, part of which may have gone back to the system;
glibc only), and the change
of Python's reference count of ``True``: a Qt binding that loses references (PySide6 6.12.0,
see ``app/qt_binding.py``) shows there long before it aborts the process.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine, parse_list, print_machine, print_table, write_json


def rss_mb() -> int:
    """Resident memory now (Linux ``/proc``; the high-water mark elsewhere)."""
    try:
        return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) // 1024
    except (OSError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_mb() -> tuple[int, int] | None:
    """(in use, freed but kept) MB of the C heap (glibc's ``mallinfo2``, all arenas); None elsewhere."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) // 2**20, info.fordblks // 2**20


def random_change(view: Any, rng: random.Random) -> None:
    """One view change as a user makes them: zoom a step, pan, jump to a zoom, or fit."""
    roll = rng.random()
    if roll < 0.4:
        view.zoom_by(rng.choice((1.3, 1 / 1.3)))
    elif roll < 0.8:
        view.pan(rng.uniform(-300, 300), rng.uniform(-200, 200))
    elif roll < 0.9:
        view.zoom_to(rng.uniform(1.0, 40.0))
    else:
        view.fit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=1600, help="view changes")
    parser.add_argument("--every", type=int, default=200, help="report every this many")
    parser.add_argument("--panels", type=parse_list, default=["bicubic", "nearest"])
    parser.add_argument("--memory-mb", type=int, default=None, help="memory budget (default: the saved setting)")
    parser.add_argument("--image", default=None, help="default: the bundled demo image")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from app.headless import wait_until_final
    from app.launch import demo_image
    from app.model.method_provider import RegistryProvider
    from app.model.settings import Settings
    from app.ui.main_window import MainWindow

    settings = Settings.load()
    settings.panels = args.panels
    if args.memory_mb is not None:
        settings.memory_mb = args.memory_mb
    window = MainWindow(RegistryProvider(), settings, persist=False)
    window.resize(1200, 700)
    window.show()
    window.open_path(args.image or demo_image(), remember=False)
    if not wait_until_final(window, 120) or window.doc is None:
        raise SystemExit("the image did not open")
    shown = rss_mb()
    models = load_models(app, window, args.panels)
    print_machine(machine(torch.device("cpu")))
    print(f"image {window.doc.name} {window.doc.size[0]}×{window.doc.size[1]}, panels {', '.join(args.panels)}, "
          f"memory budget {settings.memory_mb} MB: tiles {window.scheduler.cache.max_bytes / 2**20:.0f} MB "
          f"(after the image's pixels), features {window.scheduler.model.cache_bytes / 2**20:.0f} MB (model) + "
          f"{window.scheduler.preview.cache_bytes / 2**20:.0f} MB (preview)")
    rng = random.Random(args.seed)
    start, rss0, true0 = time.perf_counter(), rss_mb(), sys.getrefcount(True)
    rows = []
    for step in range(1, args.ops + 1):
        random_change(window.view, rng)
        if step % 5 == 0:
            wait_until_final(window, 60)
        else:
            app.processEvents()
        if step % args.every == 0:
            rows.append({"ops": step, "seconds": round(time.perf_counter() - start, 1), "rss_mb": rss_mb(),
                         **cache_sizes(window), "malloc_mb": malloc_mb(),
                         "true_refs": sys.getrefcount(True) - true0})
    window.close()
    print(f"resident memory: {shown} MB with the image shown, {rss0} MB with the models of "
          f"{', '.join(models) or 'no panel'} loaded too ({rss0 - shown:+d} MB: their weights and torch's set-up)")
    print_table(["view changes", "seconds", "resident MB", "Δ resident MB", "tiles MB", "features MB (model, preview)",
                 "image MB", "preview MB", "C heap MB (in use, free)", "Δ refs to True"],
                [[r["ops"], r["seconds"], r["rss_mb"], f"{r['rss_mb'] - rss0:+d}", r["tiles_mb"],
                  f"{r['model_features_mb']}, {r['preview_features_mb']}", r["image_mb"], r["preview_mb"],
                  "—" if r["malloc_mb"] is None else "{}, {}".format(*r["malloc_mb"]),
                  f"{r['true_refs']:+d}"] for r in rows])
    write_json(args.json, {"machine": machine(torch.device("cpu")), "panels": args.panels,
                           "memory_mb": settings.memory_mb, "rss_shown_mb": shown, "rss_before_mb": rss0,
                           "rows": rows})


def load_models(app, window, panels: list[str]) -> list[str]:
    """Load the model panels' renderers now (the viewer loads them when first needed) and wait;
    the models loaded."""
    from app.model.layers import Kind

    scheduler = window.scheduler
    models = [m for m in panels if scheduler.methods.kind(m) is Kind.MODEL]
    scheduler.model.preload(models)
    deadline = time.perf_counter() + 300
    while not all(scheduler.model.runner.loaded(m) for m in models) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.05)
    return models


def cache_sizes(window) -> dict[str, int]:
    """MB each cache holds now: tiles, each worker's features, the image's pixels, its preview."""
    scheduler, doc = window.scheduler, window.doc
    preview = window.panels[0].canvas.context.preview if window.panels else None
    mb = 2**20
    return {"tiles_mb": round(scheduler.cache.nbytes / mb),
            "model_features_mb": round(scheduler.model.runner.features.nbytes / mb),
            "preview_features_mb": round(scheduler.preview.runner.features.nbytes / mb),
            "image_mb": round(sum(s.nbytes for s in doc.sources().values()) / mb) if doc else 0,
            "preview_mb": round(preview.nbytes(doc.source) / mb) if preview is not None and doc else 0}


if __name__ == "__main__":
    main()
