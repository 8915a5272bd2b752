"""Where CLIT's input-pixel blocks come from: ``metrics.seam_ratio`` per component and scale.

    python -m benchmarks.clit_seams [--image IMG --box X,Y,SIZE --down 4 --window 6]
        [--scales 2,4,8,12,30] [--checkpoint FILE]   (docs/methods/clit.md: --window 3 at ×30)

The LR is the HR crop ``--box`` of ``--image`` shrunk ``--down``× (MATLAB bicubic, as the
evaluation harness makes LR images), i.e. one fixed photo that is zoomed into, as in the
viewer. At each scale only the output pixels of the central ``--window``² LR pixels are
computed (the encoder and stage 1 see the whole LR), and their seam ratio is printed (mean
|luma step| across input-pixel borders ÷ inside; about 1 is seamless) for:

* ``full``: the shipped CLIT, as ZoomSR renders it (``CLIT.query``);
* ``stages 1..k``: the cascade truncated after stage k (stage 1 alone is LIT), base included;
* ``r_k``: stage k's residual alone (no base, no other stage);
* ``base``: the bilinear LR image that CLIT adds;
* diagnostics that change one part of the attention window in every stage (the weights were
  not trained for them, so only their seams mean something):
  ``window re-centred continuously`` (the 7×7 window centred on the query itself, K and V read
  bilinearly between stage pixels, rel fixed), and ``local ensemble`` (four windows centred
  on the four stage pixels around the query, blended by LIIF's area weights);
* ``liif``: the shipped LIIF (the authors' weights) on the same pixels.

The diagnostics re-implement a LIT query plainly (``lit``); with the nearest-centre window
it equals ``CLIT._lit`` (checked at start-up, printed).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from sr_core import metrics
from sr_core.arg_types import OneLineParser
from sr_core.coords import Queries, centre_of, nearest_index
from sr_core.imaging import load_image, to_uint8
from sr_core.methods.base import CropGeometry, FeatureCrop, denormalize, normalize
from sr_core.methods.clit import CLIT, DECAY
from sr_core.methods.sampling import bilinear, bilinear_base
from sr_core.registry import load_method
from sr_core.resize import imresize

#: a window centre for each query: (B, N, 2) normalised coordinates on the stage grid
Centres = Callable[[Tensor, int, int], list[tuple[Tensor, Tensor | None]]]
CHUNK = 4_000


def nearest_centre(coord: Tensor, h: int, w: int) -> list[tuple[Tensor, Tensor | None]]:
    """The official window: centred on the stage pixel nearest to the query."""
    return [(torch.stack([centre_of(nearest_index(coord[..., 0], h), h),
                          centre_of(nearest_index(coord[..., 1], w), w)], dim=-1), None)]


def continuous_centre(coord: Tensor, h: int, w: int) -> list[tuple[Tensor, Tensor | None]]:
    """Diagnostic: the window centred on the query itself."""
    return [(coord, None)]


def ensemble_centres(coord: Tensor, h: int, w: int) -> list[tuple[Tensor, Tensor | None]]:
    """Diagnostic: LIIF's local ensemble over the four stage pixels around the query, each
    branch weighted by the area of the rectangle opposite it."""
    branches = []
    for vy in (-1, 1):
        for vx in (-1, 1):
            shifted = coord + coord.new_tensor([vy / h, vx / w]) + 1e-6
            centre = nearest_centre(shifted.clamp(-1 + 1e-6, 1 - 1e-6), h, w)[0][0]
            rel = (coord - centre) * coord.new_tensor([h, w]) / 2  # in stage pixels
            branches.append((centre, (rel[..., 0] * rel[..., 1]).abs() + 1e-9))
    total = sum(a for _, a in branches)
    # the weight of a branch is the area of the diagonally opposite one
    return [(c, branches[3 - i][1] / total) for i, (c, _) in enumerate(branches)]


def lit(model: CLIT, k: int, maps: FeatureCrop, coord: Tensor, cell: Tensor, centres: Centres) -> Tensor:
    """Stage ``k``'s residual at ``coord``: the official query with the window placed by
    ``centres`` (K and V read bilinearly, which is nearest at pixel centres)."""
    h, w = maps.geom.lr_h, maps.geom.lr_w
    b, n = coord.shape[:2]
    side, heads, dim = model.window, model.heads, model.base_dim // model.heads
    steps = torch.linspace(-model.radius, model.radius, side)
    query = bilinear(maps, "q", coord).view(b, n, 1, heads, dim)
    rel_cell = cell * cell.new_tensor([h, w])
    out = 0
    for centre, weight in centres(coord, h, w):
        py = centre[..., 0, None] + steps * (2 / h)  # (B, N, 7)
        px = centre[..., 1, None] + steps * (2 / w)
        pos = torch.stack(torch.broadcast_tensors(py[..., :, None], px[..., None, :]), dim=-1)
        pos = pos.reshape(b, n * side * side, 2)
        keys = bilinear(maps, "k", pos).view(b, n, side * side, heads, dim)
        values = bilinear(maps, "v", pos).view(b, n, side * side, heads, dim)
        rel_y = (coord[..., 0, None] - py) * h
        rel_x = (coord[..., 1, None] - px) * w
        logits = (keys * query).sum(-1) / math.sqrt(dim) + model.pb_encoder(rel_y, rel_x).flatten(2, 3)
        attn = logits.softmax(dim=2)
        feat = torch.cat([(values * attn[..., None]).flatten(2), rel_cell.expand(b, n, 2)], dim=-1)
        res = model.imnets[k](feat)
        out = out + (res if weight is None else res * weight[..., None])
    return out


def stage_maps(model: CLIT, fc: FeatureCrop, k: int, size: tuple[int, int], coord: Tensor) -> FeatureCrop:
    """``CLIT._stage_maps`` on a box one stage pixel wider, so that shifted windows fit."""
    one = coord.new_tensor([2 / size[0], 2 / size[1]])
    widened = torch.cat([coord + one * s for s in (-1, 0, 1)], dim=1).clamp(-1, 1)
    return model._stage_maps(fc, k, size, model._read_box(widened, size))


def residuals(model: CLIT, fc: FeatureCrop, q: Queries, centres: Centres | None) -> list[Tensor]:
    """Every stage's residual ``r_k`` at ``q`` (``centres=None``: ZoomSR's ``_lit``)."""
    from sr_core.methods.clit import stage_sizes
    factors = model.stage_factors(q, fc.geom)
    sizes = stage_sizes(fc.geom.lr_h, fc.geom.lr_w, factors)
    coord, cell = q.coord(), q.cell()
    out = []
    for k, size in enumerate(sizes):
        maps = fc if k == 0 else stage_maps(model, fc, k, size, coord)
        out.append(model._lit(k, maps, coord, cell) if centres is None
                   else lit(model, k, maps, coord, cell, centres))
    return out


def cascade(res: list[Tensor], upto: int) -> Tensor:
    acc = res[0]
    for r in res[1:upto]:
        acc = r + DECAY * acc
    return acc


def image_of(t: Tensor, rows: int, cols: int) -> np.ndarray:
    return t[0].reshape(rows, cols, 3).numpy().astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m benchmarks.clit_seams", description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, default=Path("../shared/data/val/Kodak24/kodim23.webp"))
    parser.add_argument("--box", default="160,180,192", help="X,Y,SIZE of the HR crop")
    parser.add_argument("--down", type=int, default=4, help="the LR is the crop shrunk this much")
    parser.add_argument("--window", type=int, default=6, help="LR pixels (per side) measured")
    parser.add_argument("--scales", default="2,4,8,12,30")
    parser.add_argument("--checkpoint", type=Path, help="CLIT weights (default: the shipped file)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    x, y, size = (int(v) for v in args.box.split(","))
    hr = load_image(args.image).pixels[y:y + size, x:x + size]
    lr01 = imresize(to_uint8(hr), output_shape=(size // args.down,) * 2).astype(np.float32) / 255
    lr = normalize(torch.from_numpy(lr01).permute(2, 0, 1)[None])
    n = lr.shape[-1]
    lo = (n - args.window) // 2
    clit, _ = load_method("clit", args.checkpoint)
    liif, _ = load_method("liif")
    geom = CropGeometry.full(n, n)
    with torch.inference_mode():
        fcs = {m: m.prepare(m.encode(lr), lr, geom) for m in (clit.eval(), liif.eval())}
        probe = Queries.grid(n * 12, n * 12, (lo * 12, lo * 12 + 40), (lo * 12, lo * 12 + 40))
        a, b = residuals(clit, fcs[clit], probe, None), residuals(clit, fcs[clit], probe, nearest_centre)
        check = max(float((u - v).abs().max()) for u, v in zip(a, b))
        print(f"plain LIT query vs CLIT._lit at ×12: max |diff| {check:.1e}")
        print(f"LR {n}×{n} from {args.image.name} box {args.box} (÷{args.down}); central {args.window}² LR px")
        scales = [int(v) for v in args.scales.split(",")]
        table: dict[str, dict[int, float]] = {}
        for s in scales:
            out_n = n * s
            rows = cols = args.window * s
            q = Queries.grid(out_n, out_n, (lo * s, lo * s + rows), (lo * s, lo * s + cols))
            parts = q.split(CHUNK)
            fc = fcs[clit]
            base = torch.cat([bilinear_base(fc, p) for p in parts], dim=1)
            found: dict[str, Tensor] = {"base (bilinear LR)": base}
            for label, centres in (("", None), (" — window re-centred continuously", continuous_centre),
                                   (" — local ensemble", ensemble_centres)):
                per = [residuals(clit, fc, p, centres) for p in parts]
                res = [torch.cat([r[k] for r in per], dim=1) for k in range(len(per[0]))]
                found[f"full{label}"] = cascade(res, len(res)) + base
                if centres is None:
                    for k in range(len(res)):
                        if len(res) > 1:
                            found[f"stages 1..{k + 1}"] = cascade(res, k + 1) + base
                        found[f"r_{k + 1} alone"] = res[k]
            found["liif"] = torch.cat([liif.query(fcs[liif], p) for p in parts], dim=1)
            for name, t in found.items():
                img = image_of(denormalize(t) if not name.startswith("r_") else t, rows, cols)
                ratio = metrics.seam_ratio(img, s, origin=(lo * s, lo * s))
                table.setdefault(name, {})[s] = ratio
            print(f"×{s}: " + ", ".join(f"{k} {v[s]:.2f}" for k, v in table.items() if s in v),
                  file=sys.stderr, flush=True)
        print("| component | " + " | ".join(f"×{s}" for s in scales) + " |")
        print("|---|" + "---|" * len(scales))
        for name, row in table.items():
            print(f"| {name} | " + " | ".join(f"{row[s]:.2f}" if s in row else "–" for s in scales) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
