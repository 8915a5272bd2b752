"""A user's fixed-scale model in the viewer: what showing one view costs, against running the
network on the whole photograph first (what a classic upscaler does before one can zoom).

    python -m benchmarks.user_models [--arch span|esrgan] [--image 768] [--viewport 640x400]
                                     [--zooms 4,2.5,7] [--threads N]

For each zoom, a view at the centre of the photograph: its first render (the network runs on
the visible LR region plus the halo, in pieces), then the same view again (every tile cached),
and a pan by half a view (half of it cached). ``whole`` is the network on the whole image at
its ×N, the cost a zoom-after-upscaling viewer pays before its first frame. Peak RSS after each
row shows the memory.

The networks have random weights at the shapes of published models (SPAN ×4 with 48 channels,
Real-ESRGAN ×4 with 23 blocks): they time the code, they are never offered as a method.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import (
    add_common_arguments,
    fmt,
    machine,
    parse_list,
    peak_rss_mb,
    print_machine,
    print_table,
    setup,
    synthetic_image,
    write_json,
)
from sr_core import user_models
from sr_core.geometry import Rect
from sr_core.methods.fixed_scale import FixedScale
from sr_core.render import Renderer, SourceImage, output_size
from sr_core.spandrel_files import import_spandrel


def network(arch: str) -> torch.nn.Module:
    """A random-weight network of a published model's shape."""
    import_spandrel()
    if arch == "esrgan":
        from spandrel.architectures.ESRGAN import ESRGAN
        return ESRGAN(in_nc=3, out_nc=3, num_filters=64, num_blocks=23, scale=4)
    from spandrel.architectures.SPAN import SPAN
    return SPAN(num_in_ch=3, num_out_ch=3, feature_channels=48, upscale=4)


def install(arch: str, folder: Path) -> FixedScale:
    """The network installed as a user model in ``folder``, loaded as the viewer loads it."""
    torch.manual_seed(0)
    source = folder / f"{arch}.pth"
    torch.save(network(arch).state_dict(), source)
    _, path = user_models.install(source, folder, None, set())
    return user_models.load(path)[0]


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=("span", "esrgan"), default="span")
    parser.add_argument("--image", type=int, default=768, help="side of the square photograph (LR pixels)")
    parser.add_argument("--viewport", default="640x400", help="view size WxH (output pixels)")
    parser.add_argument("--zooms", default="4,2.5,7", help="zooms of the view (the model's ×4 first)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    device, dtype = setup(args)
    view_w, view_h = (int(v) for v in args.viewport.split("x"))
    image = SourceImage(synthetic_image(args.image, args.image))
    print_machine(info := machine(device))
    with tempfile.TemporaryDirectory() as folder:
        model = install(args.arch, Path(folder))
        lr = image.region(0, image.height).to(device, dtype)
        with torch.inference_mode():
            whole = timed(lambda: model.to(device, dtype).encode(lr))
        rows = [["whole image ×4", "—", fmt(whole), "—", "—", f"{peak_rss_mb():.0f}"]]
        for zoom in parse_list(args.zooms, float):
            renderer = Renderer(model, device=device, dtype=dtype)
            out_h, out_w = output_size(image.height, image.width, zoom)
            top, left = (out_h - view_h) // 2, (out_w - view_w) // 2
            view = Rect(top, left, top + min(view_h, out_h), left + min(view_w, out_w))
            panned = Rect(view.top, view.left + view_w // 2, view.bottom, min(view.right + view_w // 2, out_w))
            first = timed(lambda: renderer.render(image, out_h, out_w, view))  # noqa: B023
            again = timed(lambda: renderer.render(image, out_h, out_w, view))  # noqa: B023
            pan = timed(lambda: renderer.render(image, out_h, out_w, panned))  # noqa: B023
            visible = view.height * view.width / zoom ** 2
            rows.append([f"view at ×{zoom:g}", f"{visible / 1e3:.0f} k", fmt(first), fmt(again), fmt(pan),
                         f"{peak_rss_mb():.0f}"])
    print(f"{args.arch} ×4 (random weights, timing only) on a {args.image}² photograph, "
          f"{view_w}×{view_h} view, {torch.get_num_threads()} threads; seconds")
    print_table(["render", "LR px visible", "first", "again (cached)", "pan ½ view", "peak RSS MB"], rows)
    write_json(args.json, {"machine": info, "arch": args.arch, "image": args.image, "rows": rows})


if __name__ == "__main__":
    main()
