"""Output megapixels per second of each method, next to the papers' reference formulation.

    python -m benchmarks.throughput [--device cpu] [--methods liif,diif] [--scales 2,4,12,30]
                                    [--pixels 16384 | --full] [--dtype bfloat16] [--json out.json]

The input is a fixed 256×256 LR region; at scale ``s`` the output grid is ``256s × 256s``.
By default a centred square of ``--pixels`` output pixels is measured (the ×30 grid alone
holds 59 megapixels, hours of CPU time); ``--full`` renders whole grids (for GPUs).

Per method and scale:

* ``ours``: ``Renderer.render`` of the square with the encoder features already cached
  (per-block ``prepare`` and the queries, as the viewer re-renders a zoom level), and
  ``cold``: the same with an empty cache (the encoder runs on the square's footprint);
* ``ref``: the reference formulation (``benchmarks/reference.py``: unfold, four-branch
  ensemble, full MLP per query, 30 000-query chunks, float32) on the same pixels, given the
  per-image features (encoder and, for LTE, the coef/freq maps) — its decoder only;
* ``max|Δ|``: the largest difference of the two outputs, in [0, 1] pixel units;
* MACs per output pixel of both decoders (counted from the shapes of every matmul/conv
  that runs) and of the encoder (``enc``), the MAC rate reached, and its fraction of the
  device's measured matmul peak.

Models have random weights at the papers' full sizes (see ``benchmarks/common.py``).
"""

from __future__ import annotations

import argparse
import copy
import math
from typing import Any

import numpy as np
import torch

from benchmarks.common import (
    ALL_METHODS,
    add_common_arguments,
    best_time,
    count_macs,
    fmt,
    gemm_peak,
    machine,
    paper_model,
    parse_list,
    print_machine,
    print_table,
    setup,
    synthetic_image,
    write_json,
)
from benchmarks.reference import REFERENCE_ARCHS, reference_features, reference_query
from sr_core.coords import Queries
from sr_core.methods.base import SRMethod, denormalize
from sr_core.render import Rect, Renderer, SourceImage

LR_SIZE = 256
SCALES = (2, 4, 12, 30)
DEFAULT_PIXELS = 128 * 128


def centre_rect(out_h: int, out_w: int, pixels: int | None) -> Rect:
    """A centred square of about ``pixels`` output pixels (the whole grid for ``None``)."""
    if pixels is None:
        return Rect.full(out_h, out_w)
    side = min(out_h, out_w, max(1, math.isqrt(pixels)))
    top, left = (out_h - side) // 2, (out_w - side) // 2
    return Rect(top, left, top + side, left + side)


def encoder_macs_per_lr_pixel(model: SRMethod, device: torch.device, dtype: torch.dtype) -> float:
    """Encoder MACs per LR pixel (0 for bicubic), counted on a 64×64 input."""
    if model.encoder is None:
        return 0.0
    lr = torch.zeros(1, 3, 64, 64, device=device, dtype=dtype)
    with torch.inference_mode():
        return count_macs(lambda: model.encode(lr)) / 64 ** 2


def measure(arch: str, model: SRMethod, image: SourceImage, scale: float, args: argparse.Namespace,
            device: torch.device, dtype: torch.dtype, peaks: dict[torch.dtype, float],
            enc_macs: float) -> dict[str, Any]:
    """One row of the table: our renderer and the reference at one scale."""
    out_h, out_w = round(LR_SIZE * scale), round(LR_SIZE * scale)
    rect = centre_rect(out_h, out_w, None if args.full else args.pixels)
    px = rect.height * rect.width
    renderer = Renderer(model, device=device, dtype=dtype, chunk=args.chunk, block=args.block,
                        encoder_tile=args.encoder_tile)

    def render() -> np.ndarray:
        return renderer.render(image, out_h, out_w, rect)

    def cold() -> None:
        renderer.cache.clear()
        render()

    ours = render()  # fills the feature cache
    warm_s = best_time(render, device, args.repeats)
    cold_s = best_time(cold, device, min(2, args.repeats))
    render()
    with torch.inference_mode():
        macs = count_macs(render) / px
    row: dict[str, Any] = dict(method=arch, scale=scale, pixels=px, ours_mps=px / warm_s / 1e6,
                               cold_mps=px / cold_s / 1e6, macs=macs, enc_macs=enc_macs / scale ** 2)
    row["ours_gmacs"] = macs * px / warm_s / 1e9
    row["ours_peak"] = macs * px / warm_s / peaks[dtype]
    if arch in REFERENCE_ARCHS and not args.no_reference:
        ref_model = model if dtype == torch.float32 else copy.deepcopy(model).float()
        with torch.no_grad():
            maps = reference_features(ref_model, image.region(0, image.height).to(device))
        q = Queries.grid(out_h, out_w, (rect.top, rect.bottom), (rect.left, rect.right), device=device)
        ref = reference_query(ref_model, maps, q)
        ref_s = best_time(lambda: reference_query(ref_model, maps, q), device, args.repeats)
        ref_macs = count_macs(lambda: reference_query(ref_model, maps, q)) / px
        ref_rgb = denormalize(ref[0]).reshape(rect.height, rect.width, 3).cpu().numpy()
        row.update(ref_mps=px / ref_s / 1e6, ref_macs=ref_macs,
                   ref_peak=ref_macs * px / ref_s / peaks[torch.float32],
                   max_diff=float(np.abs(ours - ref_rgb).max()))
        row["ratio"] = row["ours_mps"] / row["ref_mps"]
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--methods", type=parse_list, default=None,
                        help=f"comma-separated architectures (default: {','.join(ALL_METHODS)})")
    parser.add_argument("--scales", type=lambda t: parse_list(t, float), default=list(SCALES))
    parser.add_argument("--pixels", type=int, default=DEFAULT_PIXELS,
                        help="output pixels measured per scale, a centred square (default 128²)")
    parser.add_argument("--full", action="store_true", help="render whole output grids")
    parser.add_argument("--chunk", type=int, default=None, help="queries per chunk (default: per device)")
    parser.add_argument("--block", type=int, default=256, help="renderer block size")
    parser.add_argument("--encoder-tile", type=int, default=None, help="encoder tile (default: renderer's)")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference formulation")
    args = parser.parse_args(argv)
    device, dtype = setup(args)
    methods = args.methods or list(ALL_METHODS)
    unknown = set(methods) - set(ALL_METHODS)
    if unknown:
        raise SystemExit(f"unknown or unavailable methods: {', '.join(sorted(unknown))}")

    info = machine(device)
    peaks = {torch.float32: gemm_peak(device, torch.float32)}
    peaks[dtype] = peaks.get(dtype) or gemm_peak(device, dtype)
    info["matmul_peak_gmacs"] = {str(k).removeprefix("torch."): round(v / 1e9, 1) for k, v in peaks.items()}
    print_machine(info)
    what = ("whole output grids" if args.full
            else f"a centred {math.isqrt(args.pixels)}² square of each output grid")
    print(f"input: {LR_SIZE}×{LR_SIZE} LR; measured: {what}; ours in {args.dtype}, reference in "
          "float32; random weights at paper sizes; MP/s = output megapixels per second\n")
    pixels = synthetic_image(LR_SIZE, LR_SIZE).astype(np.float32) / 255
    image = SourceImage(pixels)
    rows = []
    for arch in methods:
        model = paper_model(arch, device, dtype)
        enc = encoder_macs_per_lr_pixel(model, device, dtype)
        for scale in args.scales:
            row = measure(arch, model, image, scale, args, device, dtype, peaks, enc)
            rows.append(row)
            print(f"  {arch} ×{scale:g}: ours {row['ours_mps']:.4f} MP/s, ref "
                  f"{fmt(row.get('ref_mps'))} MP/s", flush=True)
        del model
    print()
    headers = ["method", "scale", "px", "ours MP/s", "cold MP/s", "ref MP/s", "ours/ref", "max|Δ|",
               "MACs/px ours", "MACs/px ref", "enc MACs/px", "ours GMAC/s", "ours % peak", "ref % peak"]
    print_table(headers, [[r["method"], f"×{r['scale']:g}", r["pixels"], fmt(r["ours_mps"]),
                           fmt(r["cold_mps"]), fmt(r.get("ref_mps")), fmt(r.get("ratio")),
                           fmt(r.get("max_diff"), 2), f"{r['macs'] / 1e6:.3f} M",
                           f"{r['ref_macs'] / 1e6:.3f} M" if "ref_macs" in r else "—",
                           f"{r['enc_macs'] / 1e6:.4f} M", fmt(r["ours_gmacs"]),
                           f"{100 * r['ours_peak']:.0f}%",
                           f"{100 * r['ref_peak']:.0f}%" if "ref_peak" in r else "—"] for r in rows])
    write_json(args.json, {"benchmark": "throughput", "machine": info, "args": vars(args) | {"json": None},
                           "rows": rows})


if __name__ == "__main__":
    main()
