"""A very large photograph in the viewer: time to the fit view, peak memory per image pixel, and
whether zooming in decodes the file again — this tree against another commit, in one run.

    python -m benchmarks.large_photo [--megapixels 100] [--image PATH] [--before REF] [--json OUT]

Makes a JPEG of the given size (a smooth photo-like pattern with sensor-like noise; kept in
the system's temporary folder between runs) unless ``--image`` names one. Each code tree
(this one, and the files of commit ``--before`` in a temporary folder) runs in its own
offscreen viewer process: it opens the file, waits for the first frame at *fit* (the
preview; a large JPEG's DCT-scaled draft), then for the full-resolution pixels, then for the
final view at fit, then zooms to ×4 about the centre and waits for its final tiles, then
tours the image at ×1 and ×0.6 (nine and four places spread over it, each until final: every
part of the pixels is read). It prints the seconds of each, the peak resident memory (bytes
per image pixel, the process' baseline included), and how many times the file was decoded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table, write_json

ROOT = Path(__file__).resolve().parents[1]
PROBE = "benchmarks.large_photo"


def make_jpeg(path: Path, megapixels: float) -> None:
    """A photo-like JPEG (smooth colour waves plus noise, quality 90) of ``megapixels``."""
    import numpy as np
    from PIL import Image

    width = int((megapixels * 1e6 * 10 / 7) ** 0.5)
    height = int(megapixels * 1e6 / width)
    rgb = np.empty((height, width, 3), np.uint8)
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    for top in range(0, height, 512):
        rows = min(512, height - top)
        y = np.linspace(top / height, (top + rows) / height, rows, dtype=np.float32)[:, None]
        for c, (base, amp) in enumerate(((40, 180), (90, 120), (150, 60))):
            wave = base + amp * (0.5 + 0.5 * np.sin(12 * x + 7 * (c + 1) * y))
            rgb[top:top + 512, :, c] = np.clip(wave + rng.normal(0, 6, wave.shape), 0, 255)
    Image.fromarray(rgb).save(path, quality=90)


def probe(image: str) -> dict:
    """Run in the viewer process: open ``image``, fit, zoom ×4; times, peak RSS, decodes."""
    import resource

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from app.headless import wait_for, wait_until_final
    try:  # app/ split into layers (issue #28); a --before tree may have the flat layout
        import app.model.document as document
        from app.model.method_provider import RegistryProvider
        from app.model.settings import Settings
        from app.ui.main_window import MainWindow
    except ImportError:
        import app.document as document
        from app.main_window import MainWindow
        from app.method_provider import RegistryProvider
        from app.settings import Settings

    decodes = []
    real_load = document.load_image

    def counted(*args, **kwargs):
        if kwargs.get("least") is None:  # a draft (DCT-scaled) decode is not counted
            decodes.append(time.perf_counter())
        return real_load(*args, **kwargs)

    document.load_image = counted
    try:  # a large JPEG opens as a draft, then decodes in full (issue #31)
        import app.model.progressive_open as progressive
        progressive.load_image = counted
    except ImportError:
        pass
    window = MainWindow(RegistryProvider(), Settings(panels=["bicubic"]), persist=False)
    window.resize(1200, 700)
    window.show()
    app.processEvents()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    window.open_path(image, remember=False)
    wait_for(lambda: window.doc is not None, 600)  # shown: the preview is drawn at once
    window.repaint()
    first = time.perf_counter() - start
    wait_for(lambda: getattr(window.doc, "ready", True), 600)
    full = time.perf_counter() - start
    wait_until_final(window, 600)
    final = time.perf_counter() - start
    opened = len(decodes)
    zoom_start = time.perf_counter()
    window.view.zoom_to(4.0)
    wait_until_final(window, 600)
    zoomed = time.perf_counter() - zoom_start
    toured = _tour(window, wait_until_final)
    width, height = window.doc.size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    window.close()
    return {"pixels": width * height, "fit_first_frame_s": first, "full_pixels_s": full, "fit_final_s": final,
            "zoom4_s": zoomed, "tour_s": toured,
            "baseline_mb": baseline / 2**20, "peak_mb": peak / 2**20, "peak_bytes_per_pixel": peak / (width * height),
            "decodes_to_open": opened, "decodes_when_zooming": len(decodes) - opened}


def _tour(window, wait_until_final) -> float:
    """Seconds to show nine places spread over the image at ×1 and four at ×0.6, each final."""
    start = time.perf_counter()
    width, height = window.doc.size
    for zoom, places in ((1.0, (1, 3, 5)), (0.6, (1, 3))):
        window.view.zoom_to(zoom)
        for fy in places:
            for fx in places:
                window.view.centre_on(width * fx / 6, height * fy / 6)
                wait_until_final(window, 600)
                window.repaint()
    return time.perf_counter() - start


def run_tree(tree: Path, image: Path) -> dict:
    """``probe`` in a fresh process of the code in ``tree``."""
    out = subprocess.run([sys.executable, "-m", PROBE, "--probe", str(image)], cwd=tree, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(tree)}, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"the probe failed in {tree}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def before_tree(ref: str, folder: Path) -> Path:
    """The files of commit ``ref`` (``git archive``: no worktree is registered) with this tree's
    benchmark probe copied in (older trees lack it)."""
    tree = folder / "before"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    (tree / "benchmarks" / "large_photo.py").write_text(Path(__file__).read_text())
    return tree


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megapixels", type=float, default=100.0)
    parser.add_argument("--image", type=Path, default=None, help="default: a generated JPEG")
    parser.add_argument("--before", default=None, help="a git commit to compare with (e.g. main)")
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return
    image = args.image or Path(tempfile.gettempdir()) / f"zoomsr-{args.megapixels:g}mp.jpg"
    if not image.exists():
        print(f"making {image} …", flush=True)
        make_jpeg(image, args.megapixels)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        trees = [("this tree", ROOT)]
        if args.before:
            trees.insert(0, (f"before ({args.before})", before_tree(args.before, Path(folder))))
        for name, tree in trees:
            rows.append({"code": name, **run_tree(tree, image)})
    print(f"{image.name}: {rows[0]['pixels'] / 1e6:.1f} megapixels, one bicubic panel, window 1200×700")
    print_table(["code", "fit: first frame s", "full pixels s", "fit: final s", "×4: final s", "tour s", "peak MB",
                 "peak B/pixel",
                 "baseline MB", "above baseline B/pixel", "decodes (open, ×4)"],
                [[r["code"], f"{r['fit_first_frame_s']:.2f}", f"{r['full_pixels_s']:.2f}",
                  f"{r['fit_final_s']:.2f}", f"{r['zoom4_s']:.2f}", f"{r['tour_s']:.1f}",
                  f"{r['peak_mb']:.0f}", f"{r['peak_bytes_per_pixel']:.1f}", f"{r['baseline_mb']:.0f}",
                  f"{(r['peak_mb'] - r['baseline_mb']) * 2**20 / r['pixels']:.1f}",
                  f"{r['decodes_to_open']}, {r['decodes_when_zooming']}"] for r in rows])
    write_json(args.json, {"image": str(image), "rows": rows})


if __name__ == "__main__":
    main()
