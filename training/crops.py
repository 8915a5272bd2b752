"""Side-by-side crops: the HR next to each method's output of the same pixels, one row per scale.

    python -m training.crops IMAGE --box X,Y,SIZE --scales 2,4,8 \
        --methods bicubic,liif,cisrgan --out docs/crops.png [--magnify 2]

For each scale the LR is made as the evaluation harness makes it (``lr_and_hr``: MATLAB
bicubic of the 8-bit HR), every method renders only the crop's output pixels through
sr_core's renderer, and the crop (``SIZE²`` HR pixels at ``X,Y``) is shown magnified with
nearest neighbours, so that what is seen is the methods' pixels. Each column is labelled with
the method and the crop's PSNR (Y) against the HR; the table printed on stdout adds the
Laplacian sharpness (``metrics.laplacian_sharpness``) of each crop and of the HR's, and at
integer scales how visible the input-pixel grid is (``metrics.seam_ratio``: about 1 is seamless,
CLIT's CPU-trained weights reach 2-4 at ×12-×30).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sr_core import metrics
from sr_core.arg_types import OneLineParser, bounded_int
from sr_core.checkpoints import CheckpointError
from sr_core.geometry import Rect
from sr_core.imaging import load_image, to_uint8
from sr_core.outputs import check_output_file
from sr_core.registry import MissingWeightsError, get_info, load_method
from sr_core.render import Renderer, SourceImage
from training.evaluate import lr_and_hr, make_renderer, parse_scales

LABEL_H = 26
GAP = 6


@dataclass(frozen=True)
class Crop:
    """One method's pixels of the crop at one scale, and how they compare with the HR's."""

    method: str
    scale: float
    pixels: np.ndarray
    psnr: float
    sharpness: float
    #: ``metrics.seam_ratio`` of the crop (None at a fractional scale)
    seams: float | None


def parse_box(text: str) -> tuple[int, int, int]:
    """``X,Y,SIZE`` in HR pixels."""
    try:
        x, y, size = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y,SIZE (integers), got {text!r}") from None
    if x < 0 or y < 0 or size < 8:
        raise argparse.ArgumentTypeError(f"X and Y must be ≥ 0 and SIZE ≥ 8, got {text!r}")
    return x, y, size


def render_crops(hr_full: np.ndarray, box: tuple[int, int, int], scales: Sequence[float],
                 renderers: dict[str, Renderer]) -> list[list[Crop]]:
    """One row per scale: the HR crop first (method ``"hr"``), then each renderer's."""
    x, y, size = box
    rows = []
    for scale in scales:
        lr, hr = lr_and_hr(hr_full, scale)
        if y + size > hr.shape[0] or x + size > hr.shape[1]:
            raise ValueError(f"the box {x},{y},{size} does not fit the {hr.shape[1]}×{hr.shape[0]} "
                             f"HR at ×{scale:g}")
        rect = Rect(y, x, y + size, x + size)
        truth = hr[rect.top:rect.bottom, rect.left:rect.right]
        row = [Crop("hr", scale, truth, float("inf"), metrics.laplacian_sharpness(truth), None)]
        source = SourceImage(lr)
        for name, renderer in renderers.items():
            out = renderer.render(source, hr.shape[0], hr.shape[1], rect)
            seams = metrics.seam_ratio(out, int(scale), (y, x)) if scale == int(scale) and scale >= 2 else None
            row.append(Crop(name, scale, out, metrics.psnr(out, truth, shave=0, space="y"),
                            metrics.laplacian_sharpness(out), seams))
        rows.append(row)
    return rows


def compose(rows: list[list[Crop]], magnify: int) -> Image.Image:
    """The grid: a label above every crop (method, scale and PSNR), crops magnified ×``magnify``."""
    side = rows[0][0].pixels.shape[0] * magnify
    cols = len(rows[0])
    sheet = Image.new("RGB", (cols * (side + GAP) + GAP, len(rows) * (side + LABEL_H + GAP) + GAP),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    text_font = ImageFont.load_default(size=15)  # Pillow's bundled font: the wheel has no benchmarks
    for r, row in enumerate(rows):
        top = GAP + r * (side + LABEL_H + GAP)
        for c, crop in enumerate(row):
            left = GAP + c * (side + GAP)
            name = "HR" if crop.method == "hr" else get_info(crop.method).display_name
            label = f"{name} x{crop.scale:g}" + ("" if crop.method == "hr" else f"  {crop.psnr:.2f} dB")
            draw.text((left, top + 4), label, fill=(0, 0, 0), font=text_font)
            tile = Image.fromarray(to_uint8(crop.pixels)).resize((side, side), Image.Resampling.NEAREST)
            sheet.paste(tile, (left, top + LABEL_H))
    return sheet


def table(rows: list[list[Crop]]) -> str:
    """Per scale and method: the crop's PSNR (Y), Laplacian sharpness (HR's in brackets) and
    seam ratio ("-" at a fractional scale)."""
    lines = ["scale  method      PSNR(Y)  sharpness (HR)     seams"]
    for row in rows:
        hr = row[0].sharpness
        lines += [f"x{c.scale:<5g} {c.method:<10} {c.psnr:7.2f}  {c.sharpness:.4f} ({hr:.4f})  "
                  + ("    -" if c.seams is None else f"{c.seams:5.2f}") for c in row[1:]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m training.crops", description=__doc__.split("\n\n")[0])
    parser.add_argument("image", type=Path, help="the HR image")
    parser.add_argument("--box", type=parse_box, required=True, help="X,Y,SIZE of the crop, HR pixels")
    parser.add_argument("--scales", default="4", help="comma-separated scales, one row each (default 4)")
    parser.add_argument("--methods", default="bicubic,liif", help="methods, one column each")
    parser.add_argument("--magnify", type=bounded_int(1, 8), default=2, help="nearest-neighbour magnification")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    try:
        scales = parse_scales(args.scales)
    except ValueError as err:
        parser.error(str(err))
    try:
        check_output_file(args.out)
        hr = load_image(args.image).pixels
        renderers = {m: make_renderer(load_method(m)[0]) for m in args.methods.split(",")}
        rows = render_crops(hr, args.box, scales, renderers)
        compose(rows, args.magnify).save(args.out)
    except (ValueError, OSError, MissingWeightsError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(table(rows))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
