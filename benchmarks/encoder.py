"""Encoder cost per megapixel, and what tiling with an exact halo adds to it.

    python -m benchmarks.encoder [--device cpu] [--encoders edsr-baseline,rdn]
                                 [--pieces 32,64,128,256,512] [--tiles 16,32,64,128]

The renderer caches encoder features in LR tiles of ``encoder_tile`` pixels. Missing tiles
are encoded together in pieces (at most ``MAX_PIECE`` LR pixels a side), each with a halo of
the encoder's receptive-field radius (EDSR-baseline 34 px, RDN 131 px) so that every tile
equals the same pixels of a whole-image encoding; the halo is computed and thrown away.

* ``cost``: encoder MACs per LR pixel, seconds per LR megapixel and % of the matmul peak,
  for one ``--region``² crop encoded in one piece; the largest difference between the
  renderer's tiled features and the whole-image features (exactness);
* ``halo``: per piece side ``P``: the encoded area ``(P + 2r)² / P²`` and the measured
  seconds per useful LR megapixel;
* ``viewport``: LR pixels the renderer encodes for a 1280×800 viewport (the viewer's tile
  plan, tile by tile, see ``benchmarks/viewport.py``) over the LR pixels visible, per tile
  size, at ×2 ×4 ×12 ×30, averaged over 8 random view positions. Counted by running the
  renderer with a stand-in encoder that returns zeros (the count does not depend on the
  values).

Random weights at the papers' full sizes (see ``benchmarks/common.py``).
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

from benchmarks.common import (
    add_common_arguments,
    best_time,
    count_macs,
    fmt,
    gemm_peak,
    machine,
    parse_list,
    print_machine,
    print_table,
    setup,
    synthetic_image,
    write_json,
)
from benchmarks.viewport import SIZES, plan
from sr_core.architectures import build
from sr_core.geometry import Rect
from sr_core.methods.base import FeatureCrop, SRMethod
from sr_core.render import Renderer, SourceImage

VIEW = (800, 1280)
ZOOMS = (2, 4, 12, 30)
#: the decoder is irrelevant here; LIIF carries either encoder
ARCH = "liif"


def encoded_area(model: SRMethod, tile: int, zoom: float, views: int = 8) -> float:
    """Mean LR pixels encoded for a viewport over the LR pixels it shows (12-MP image).

    The renderer runs as usual with a stand-in encoder that counts its input and returns
    zeros, and a stand-in decoder that returns zeros (neither changes what is encoded).
    """
    lr_h, lr_w = SIZES[12]
    image = SourceImage(np.zeros((lr_h, lr_w, 3), np.uint8))
    area = 0

    def encode(lr: Tensor) -> Tensor:
        nonlocal area
        area += lr.shape[-2] * lr.shape[-1]
        return lr.new_zeros(1, model.encoder.out_dim, *lr.shape[-2:])

    counting = build(ARCH, {"encoder": model.config()["encoder"]}).eval()
    counting.encode = encode  # type: ignore[method-assign]
    counting.prepare = lambda feat, lr, geom: FeatureCrop({}, geom)  # type: ignore[method-assign]
    counting.query = lambda fc, q: torch.zeros(*q.iy.shape, 3)  # type: ignore[method-assign]
    renderer = Renderer(counting, encoder_tile=tile)
    rng = np.random.default_rng(0)
    for _ in range(views):
        centre = (rng.uniform(VIEW[0], lr_h - VIEW[0]), rng.uniform(VIEW[1], lr_w - VIEW[1]))
        for jobs in plan(lr_h, lr_w, zoom, VIEW, centre):
            for job in jobs:
                renderer.render(image, job.out_h, job.out_w, job.rect)
        renderer.forget(image)
    return area / views / ((VIEW[0] / zoom) * (VIEW[1] / zoom))


def _encoder_cost(model: torch.nn.Module, name: str, image: SourceImage, r0: int, side: int,
                  device: torch.device, dtype: torch.dtype, repeats: int,
                  peak: float) -> tuple[list[str], dict[str, Any], float]:
    """One encoder's cost on a ``side²`` LR region at ``r0``: the table row, the JSON record and
    the seconds per LR megapixel."""
    radius = model.encoder_radius
    crop = image.region(r0, r0 + side, r0, r0 + side).to(device, dtype)
    renderer = Renderer(model, device=device, dtype=dtype)
    with torch.inference_mode():
        macs = count_macs(partial(model.encode, crop)) / side ** 2
        seconds = best_time(partial(model.encode, crop), device, repeats)
        whole = model.encode(image.region(0, image.height).to(device, dtype))
        whole = whole[..., r0:r0 + side, r0:r0 + side]
        region = Rect(r0, r0, r0 + side, r0 + side)
        # the features the renderer stitches from its cached tiles (cold cache)
        diff = float((renderer._features(model, image, region) - whole).abs().max())
    per_mp = seconds / (side ** 2 / 1e6)
    row = [name, radius, f"{macs / 1e6:.3f} M", fmt(per_mp), fmt(1 / per_mp),
           f"{100 * macs * side ** 2 / seconds / peak:.0f}%", fmt(diff, 2)]
    result = dict(part="cost", encoder=name, radius=radius, macs_per_lr_px=macs,
                  s_per_lr_mp=per_mp, tiled_max_diff=diff)
    return row, result, per_mp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--encoders", type=parse_list, default=["edsr-baseline"],
                        help="edsr-baseline and/or rdn (RDN: 22 M MACs per LR pixel)")
    parser.add_argument("--pieces", type=lambda t: parse_list(t, int), default=[32, 64, 128, 256, 512])
    parser.add_argument("--tiles", type=lambda t: parse_list(t, int), default=[16, 32, 64, 128])
    parser.add_argument("--region", type=int, default=256, help="side of the LR region encoded")
    args = parser.parse_args(argv)
    device, dtype = setup(args)
    info = machine(device)
    peak = gemm_peak(device, dtype)
    info["matmul_peak_gmacs"] = round(peak / 1e9, 1)
    print_machine(info)
    print(f"{args.dtype}; best of {args.repeats}\n")
    radii = [build(ARCH, {"encoder": name}).encoder_radius for name in args.encoders]
    side = max(2 * args.region, max(args.pieces) + 2 * max(radii))
    image = SourceImage(synthetic_image(side, side))
    r0 = args.region // 2
    cost_rows, halo_rows, view_rows = [], [], []
    results: list[dict[str, Any]] = []
    for name in args.encoders:
        torch.manual_seed(0)
        model = build(ARCH, {"encoder": name}).to(device=device, dtype=dtype).eval()
        radius = model.encoder_radius
        row, result, per_mp = _encoder_cost(model, name, image, r0, args.region, device, dtype,
                                            args.repeats, peak)
        cost_rows.append(row)
        results.append(result)
        for p in args.pieces:
            size = p + 2 * radius
            piece = image.region(0, size, 0, size).to(device, dtype)
            with torch.inference_mode():
                t = best_time(partial(model.encode, piece), device, args.repeats)
            useful = p ** 2
            halo_rows.append([name, p, f"{size ** 2 / useful:.2f}×", fmt(t / useful * 1e6),
                              f"{t / useful * 1e6 / per_mp:.2f}×"])
            results.append(dict(part="halo", encoder=name, piece=p, area_ratio=size ** 2 / useful,
                                s_per_useful_lr_mp=t / useful * 1e6))
        for tile in args.tiles:
            ratios = [encoded_area(model, tile, z) for z in ZOOMS]
            view_rows.append([name, tile] + [f"{v:.2f}×" for v in ratios])
            results.append(dict(part="viewport", encoder=name, tile=tile,
                                encoded_over_visible=dict(zip(ZOOMS, ratios, strict=True))))
    print("encoder cost (one piece; max|Δ|: the renderer's tiled features vs the whole image):")
    print_table(["encoder", "radius", "MACs / LR px", "s / LR MP", "LR MP/s", "% peak", "max|Δ|"], cost_rows)
    print("\nhalo: one piece of P × P useful LR pixels (plus the halo on every side):")
    print_table(["encoder", "P", "encoded / useful", "s / useful LR MP", "vs one big piece"], halo_rows)
    print("\nviewport 1280×800: LR pixels encoded / LR pixels visible (the viewer's tile plan):")
    print_table(["encoder", "tile"] + [f"×{z}" for z in ZOOMS], view_rows)
    write_json(args.json, {"benchmark": "encoder", "machine": info, "args": vars(args) | {"json": None},
                           "rows": results})


if __name__ == "__main__":
    main()
