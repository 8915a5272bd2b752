"""Time from a zoom request to the pixels of a viewport, per method and image size.

    python -m benchmarks.viewport [--device cpu] [--methods bicubic,liif,diif] [--zoom 4]
                                  [--viewport 1280x800] [--sizes 1,12,48] [--size-method liif]

The viewer (``app.model.layers``) refines a view in 256-pixel tiles of the output grid, nearest
the centre first: bicubic (a separate CPU worker), then the final tiles of the method (there
is no coarse pass any more, see docs/VIEWER.md). This script replays that plan for a
viewport centred on the image with one renderer, as the model worker does (the viewport's
corner is moved onto the same phase of the tile grids for every image size, see
``aligned_centre``), and reports

* ``first``: time to the first visible refinement (the method's first tile);
* ``final``: time to the last final tile (the whole viewport at full density);
* ``cold``: an image seen for the first time (the encoder runs on the visible region), and
  ``zoom``: a zoom step inside the region already encoded (encoder tiles cached);
* the same viewport on 1, 12 and 48-megapixel images: visible-pixel rendering means the
  cost must not grow with the image;
* the process' peak resident memory (``ru_maxrss``, a high-water mark: rows run in order).

The 150 ms the viewer waits for zooming to pause is not included. Models have random weights
at the papers' full sizes (see ``benchmarks/common.py``).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from benchmarks.common import (
    ALL_METHODS,
    add_common_arguments,
    fmt,
    machine,
    paper_model,
    parse_list,
    peak_rss_mb,
    print_machine,
    print_table,
    setup,
    synchronize,
    synthetic_image,
    write_json,
)
from sr_core.render import Rect, Renderer, SourceImage, output_size

TILE = 256
#: LR pixels the viewport corner is aligned to (a multiple of the encoder tiles tried)
ALIGN_LR = 128
#: megapixels → (height, width), 4:3 like most camera sensors
SIZES = {1: (866, 1155), 12: (3000, 4000), 48: (6000, 8000)}


@dataclass(frozen=True)
class Job:
    """One tile of one pass: ``rect`` of the ``out_h × out_w`` grid."""

    out_h: int
    out_w: int
    rect: Rect


def pass_tiles(out_h: int, out_w: int, centre: tuple[float, float], view_h: float,
               view_w: float, scale: tuple[float, float]) -> list[Job]:
    """Tiles of the ``out_h × out_w`` grid under a ``view_h × view_w`` rectangle (in this
    grid's pixels) centred on image point ``centre`` (LR pixels), nearest the centre first."""
    cy, cx = centre[0] * scale[0], centre[1] * scale[1]
    top, bottom = max(0, math.floor(cy - view_h / 2)), min(out_h, math.ceil(cy + view_h / 2))
    left, right = max(0, math.floor(cx - view_w / 2)), min(out_w, math.ceil(cx + view_w / 2))
    jobs = []
    for r in range(top // TILE, (bottom - 1) // TILE + 1):
        for c in range(left // TILE, (right - 1) // TILE + 1):
            rect = Rect(r * TILE, c * TILE, min((r + 1) * TILE, out_h), min((c + 1) * TILE, out_w))
            jobs.append(Job(out_h, out_w, rect))
    return sorted(jobs, key=lambda j: ((j.rect.top + j.rect.bottom) / 2 - cy) ** 2
                  + ((j.rect.left + j.rect.right) / 2 - cx) ** 2)


def plan(lr_h: int, lr_w: int, zoom: float, view: tuple[int, int],
         centre: tuple[float, float]) -> list[list[Job]]:
    """The method's passes for a viewport (device px) centred on image point ``centre``: one,
    the final tiles."""
    out_h, out_w = output_size(lr_h, lr_w, zoom)
    return [pass_tiles(out_h, out_w, centre, view[0], view[1], (out_h / lr_h, out_w / lr_w))]


def aligned_centre(lr_h: int, lr_w: int, zoom: float, view: tuple[int, int]) -> tuple[float, float]:
    """The image point under a viewport centred on the image, moved up/left so that the
    viewport's corner sits on the same phase of the tile grids whatever the image size.

    How many 256-px tiles a viewport touches (and encoder tiles under them) depends on where
    it falls on the tile grids; fixing that phase (the corner on a multiple of 256 output
    and 128 LR pixels) leaves the image size as the only difference between the sizes
    compared. The phase alone changes the work by up to ~25%.
    """
    out_h, out_w = output_size(lr_h, lr_w, zoom)
    snap = TILE * math.ceil(ALIGN_LR * zoom / TILE)
    top = (out_h - view[0]) // 2 // snap * snap
    left = (out_w - view[1]) // 2 // snap * snap
    return (top + view[0] / 2) * lr_h / out_h, (left + view[1] / 2) * lr_w / out_w


def replay(renderer: Renderer, image: SourceImage, passes: list[list[Job]],
           device: torch.device) -> tuple[float, float, int]:
    """Render the passes in order: (time to the first tile, time to the last, pixels)."""
    start = time.perf_counter()
    first: float | None = None
    pixels = 0
    for jobs in passes:
        for job in jobs:
            renderer.render(image, job.out_h, job.out_w, job.rect)
            synchronize(device)
            pixels += job.rect.height * job.rect.width
            first = first if first is not None else time.perf_counter() - start
    assert first is not None
    return first, time.perf_counter() - start, pixels


def measure(method: str, renderer: Renderer, image: SourceImage, zoom: float, view: tuple[int, int],
            device: torch.device, repeats: int) -> dict[str, Any]:
    """Cold and zoom timings of one method on one image (best of ``repeats``).

    ``cold``: the view with an empty feature cache. ``zoom``: the same passes again with the
    encoder tiles cached: the cost of a zoom step inside the region already encoded (the
    output grid changes, so every output pixel is computed again; the renderer caches
    encoder features, never output pixels).
    """
    centre = aligned_centre(image.height, image.width, zoom, view)
    passes = plan(image.height, image.width, zoom, view, centre)
    times: dict[str, list[float]] = {"cold_first": [], "cold_final": [], "zoom_first": [], "zoom_final": []}
    pixels = 0
    for _ in range(repeats):
        renderer.forget(image)
        first, final, pixels = replay(renderer, image, passes, device)
        times["cold_first"].append(first)
        times["cold_final"].append(final)
        first, final, _ = replay(renderer, image, passes, device)
        times["zoom_first"].append(first)
        times["zoom_final"].append(final)
    row: dict[str, Any] = {k: min(v) for k, v in times.items()}
    row.update(method=method, image=f"{image.width}×{image.height}", zoom=zoom, rendered_px=pixels,
               tiles=sum(len(p) for p in passes), peak_rss_mb=peak_rss_mb())
    if device.type == "cuda":
        row["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return row


def make_image(mp: int) -> tuple[SourceImage, float]:
    """A synthetic ``mp``-megapixel SourceImage and the seconds it took to build."""
    h, w = SIZES[mp]
    pixels = synthetic_image(h, w)
    start = time.perf_counter()
    image = SourceImage(pixels)
    return image, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(repeats=1)
    parser.add_argument("--methods", type=parse_list, default=["bicubic", "liif", "diif"],
                        help="methods timed on the 1-MP image (default: bicubic,liif,diif; "
                             f"all: {','.join(ALL_METHODS)})")
    parser.add_argument("--zoom", type=float, default=4.0)
    parser.add_argument("--viewport", default="1280x800", help="WIDTHxHEIGHT device pixels")
    parser.add_argument("--sizes", type=lambda t: parse_list(t, int), default=[1, 12, 48],
                        help=f"image sizes in megapixels, of {sorted(SIZES)}")
    parser.add_argument("--size-method", default="liif", help="the method timed on every size")
    parser.add_argument("--chunk", type=int, default=None, help="queries per chunk (default: per device)")
    parser.add_argument("--encoder-tile", type=int, default=None, help="encoder tile (default: renderer's)")
    args = parser.parse_args(argv)
    device, dtype = setup(args)
    unknown = sorted(set(args.sizes) - set(SIZES))
    if unknown:
        raise SystemExit(f"unknown sizes {unknown} MP; choose from {sorted(SIZES)}")
    view_w, view_h = (int(x) for x in args.viewport.lower().split("x"))
    info = machine(device)
    print_machine(info)
    print(f"viewport {view_w}×{view_h} at ×{args.zoom:g}, centred; {TILE}-px tiles; {args.dtype}; "
          f"best of {args.repeats}; times in seconds\n")

    rows: list[dict[str, Any]] = []
    renderers: dict[str, Renderer] = {}
    for mp in sorted(set(args.sizes) | {1}):
        image, build_s = make_image(mp)
        print(f"  {mp} MP image: SourceImage built in {build_s:.2f} s, peak RSS {peak_rss_mb():.0f} MB",
              flush=True)
        methods = list(args.methods) if mp == 1 else []
        if mp in args.sizes and args.size_method not in methods:
            methods.append(args.size_method)
        for method in methods:
            if method not in renderers:
                renderers[method] = Renderer(paper_model(method, device, dtype), device=device, dtype=dtype,
                                             chunk=args.chunk, encoder_tile=args.encoder_tile)
                # one-time set-up (kernel selection, first allocations) is not a zoom's cost
                renderers[method].render(image, *output_size(image.height, image.width, args.zoom),
                                         Rect(0, 0, 64, 64))
            row = measure(method, renderers[method], image, args.zoom, (view_h, view_w), device,
                          args.repeats)
            row.update(megapixels=mp, source_build_s=build_s)
            rows.append(row)
            print(f"  {method} on {mp} MP: final {row['cold_final']:.2f} s cold, "
                  f"{row['zoom_final']:.2f} s zoom; peak RSS {row['peak_rss_mb']:.0f} MB", flush=True)
            renderers[method].forget(image)
        del image
    print()
    headers = ["method", "image", "tiles", "rendered px", "first (cold)", "final (cold)",
               "first (zoom)", "final (zoom)", "zoom MP/s", "peak RSS MB"]
    print_table(headers, [[r["method"], f"{r['megapixels']} MP ({r['image']})", r["tiles"],
                           r["rendered_px"], fmt(r["cold_first"]), fmt(r["cold_final"]),
                           fmt(r["zoom_first"]), fmt(r["zoom_final"]),
                           fmt(r["rendered_px"] / r["zoom_final"] / 1e6), f"{r['peak_rss_mb']:.0f}"]
                          for r in rows])
    by_size = {r["megapixels"]: r for r in rows if r["method"] == args.size_method}
    if 1 in by_size and len(by_size) > 1:
        print()
        for mp, r in sorted(by_size.items()):
            one = by_size[1]
            print(f"{args.size_method} {mp} MP / 1 MP: cold {r['cold_final'] / one['cold_final']:.2f}×, "
                  f"zoom {r['zoom_final'] / one['zoom_final']:.2f}×")
    print(f"\nprocess peak RSS: {peak_rss_mb():.0f} MB")
    write_json(args.json, {"benchmark": "viewport", "machine": info, "args": vars(args) | {"json": None},
                           "rows": rows, "peak_rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    main()
