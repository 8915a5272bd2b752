"""How visible the input-pixel grid is at large zoom, per method and scale.

    python -m training.seams --methods bicubic,liif,diif --scales 4,8,12,30 \
        --images ../shared/data/val/Kodak24 --crop 20 [--limit 8] [--checkpoint METHOD=FILE]

Each image of the folders is treated as the photograph a user opens: a ``crop × crop`` block of
its pixels (the most textured of a fixed grid of candidates, so that flat sky does not dilute
the measure) is the LR input, upscaled whole by each integer scale through sr_core's renderer.
Each output gets ``metrics.seam_ratio`` (the mean luma step across input-pixel borders ÷ the
mean step inside input pixels: about 1 is seamless). The table gives the mean over the crops.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sr_core import metrics
from sr_core.arg_types import OneLineParser, bounded_int
from sr_core.checkpoints import CheckpointError
from sr_core.imaging import list_images, load_image
from sr_core.registry import MissingWeightsError, load_method
from sr_core.render import Renderer, SourceImage
from training.evaluate import make_renderer, parse_scales


def textured_crop(pixels: np.ndarray, size: int, grid: int = 5) -> np.ndarray:
    """The ``size²`` block with the largest mean gradient among a ``grid × grid`` lattice of
    candidates spread over the image (deterministic)."""
    h, w = pixels.shape[:2]
    if min(h, w) < size:
        raise ValueError(f"the image ({w}×{h}) is smaller than the {size}×{size} crop")
    best, best_energy = None, -1.0
    for top in np.linspace(0, h - size, grid).astype(int):
        for left in np.linspace(0, w - size, grid).astype(int):
            block = pixels[top:top + size, left:left + size].astype(np.float32)
            energy = float(np.abs(np.diff(block, axis=0)).mean() + np.abs(np.diff(block, axis=1)).mean())
            if energy > best_energy:
                best, best_energy = block, energy
    assert best is not None
    return best / (255.0 if pixels.dtype == np.uint8 else 1.0)


def seam_table(crops: Sequence[np.ndarray], scales: Sequence[int],
               renderers: dict[str, Renderer]) -> dict[str, dict[int, float]]:
    """``method → scale → mean seam ratio`` over ``crops`` (LR inputs, H×W×3 in [0, 1])."""
    table: dict[str, dict[int, float]] = {}
    for name, renderer in renderers.items():
        for scale in scales:
            ratios = []
            for crop in crops:
                h, w = crop.shape[:2]
                out = renderer.render(SourceImage(crop), h * scale, w * scale)
                ratios.append(metrics.seam_ratio(out, scale))
            table.setdefault(name, {})[scale] = float(np.mean(ratios))
            print(f"  {name} x{scale}: {table[name][scale]:.2f}", file=sys.stderr, flush=True)
    return table


def markdown(table: dict[str, dict[int, float]]) -> str:
    """The table as Markdown, one row per method."""
    scales = sorted({s for row in table.values() for s in row})
    lines = ["| method | " + " | ".join(f"×{s}" for s in scales) + " |",
             "|---|" + "---|" * len(scales)]
    lines += [f"| {name} | " + " | ".join(f"{row[s]:.2f}" for s in scales) + " |" for name, row in table.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m training.seams", description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="bicubic,liif", help="comma-separated methods")
    parser.add_argument("--scales", default="4,12,30", help="comma-separated integer scales ≥ 2")
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="image folders or files")
    parser.add_argument("--crop", type=bounded_int(8, 256), default=20, help="LR crop side (default 20)")
    parser.add_argument("--limit", type=bounded_int(1, 10_000), default=None, help="at most this many images")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="METHOD=FILE",
                        help="weights other than the shipped ones for METHOD (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args(argv)
    try:
        parsed = parse_scales(args.scales)
        if any(s < 2 or s != int(s) for s in parsed):
            raise ValueError("--scales: the seam ratio needs integer scales of at least 2")
        scales = [int(s) for s in parsed]
        checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
        files = [f for p in args.images for f in (list_images(p) if p.is_dir() else [p])][:args.limit]
        if not files:
            raise ValueError("no images found in " + ", ".join(map(str, args.images)))
        crops = [textured_crop(load_image(f).pixels, args.crop) for f in files]
        renderers = {m: make_renderer(load_method(m, checkpoints.get(m))[0]) for m in args.methods.split(",")}
        table = seam_table(crops, scales, renderers)
    except (ValueError, OSError, MissingWeightsError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"seam ratio, mean over {len(crops)} LR crops of {args.crop}×{args.crop} px")
    print(markdown(table))
    if args.json:
        args.json.write_text(json.dumps({"crop": args.crop, "images": [str(f) for f in files], "seams": table},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
