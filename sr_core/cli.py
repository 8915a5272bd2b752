"""Command-line tools: ``upscale``, ``methods`` and ``import`` (dispatched from main.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sr_core.arg_types import OneLineParser, bounded_int, finite_float
from sr_core.geometry import Rect, Size
from sr_core.logs import log, setup_logging, unexpected

if TYPE_CHECKING:
    from sr_core.render import Renderer

COMMANDS = ("upscale", "methods", "import")
#: the largest --scale (the viewer's largest zoom) and output side
MAX_SCALE = 64
MAX_SIDE = 1_000_000
#: refuse outputs larger than this (held in memory as 8- or 16-bit levels: 1.2 or 2.4 GB)
MAX_OUTPUT_PIXELS = 400_000_000
#: output rows rendered at a time (bounds the float memory of a render)
STRIP_ROWS = 256
#: --format choices for folder outputs
FOLDER_FORMATS = ("png", "tif", "jpg", "webp")
#: JPEG/WebP quality by default (sr_core.image_writer.DEFAULT_QUALITY, not imported: keeps --help fast)
DEFAULT_QUALITY = 92


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="zoomsr", description="ZoomSR command-line tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("upscale", help="upscale image files (or folders of them) with one method")
    up.add_argument("input", type=Path, nargs="+", help="image files and/or folders of images")
    up.add_argument("-o", "--output", type=Path, required=True,
                    help="output file for one input (.png, .tif, .jpg or .webp: the ending picks the "
                         "format); otherwise a folder, which gets NAME-METHOD.EXT for every input image")
    size = up.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=finite_float(0, MAX_SCALE, low_open=True),
                      help="scale factor, e.g. 3.5")
    size.add_argument("--width", type=bounded_int(1, MAX_SIDE), help="output width (height follows "
                      "the aspect ratio unless --height is given too)")
    up.add_argument("--height", type=bounded_int(1, MAX_SIDE), help="output height")
    up.add_argument("--method", default="liif", help="method name (see 'methods')")
    up.add_argument("--checkpoint", type=Path, help="weights to use instead of the default")
    up.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    up.add_argument("--precision", default="float32", help="float32, float16 or bfloat16 (GPU)")
    up.add_argument("--bits", type=int, choices=(8, 16),
                    help="bit depth of PNG/TIFF output (default: as input; JPEG and WebP hold 8)")
    up.add_argument("--format", choices=FOLDER_FORMATS, default="png",
                    help="format of the files written into an output folder (default: png)")
    up.add_argument("--quality", type=bounded_int(1, 100), default=DEFAULT_QUALITY,
                    help=f"JPEG/WebP quality, 1-100 (default: {DEFAULT_QUALITY}; WebP 100: lossless)")
    exists = up.add_mutually_exclusive_group()
    exists.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    exists.add_argument("--skip-existing", action="store_true",
                        help="leave outputs that exist as they are and skip their inputs")

    ls = sub.add_parser("methods", help="list methods, their papers and weights")
    ls.add_argument("--json", action="store_true", help="machine-readable output")

    imp = sub.add_parser("import", help="install your own super-resolution model (Real-ESRGAN, SwinIR, SPAN … "
                                        "as .safetensors/.pth/.ckpt) as a method, or the authors' official "
                                        ".pth weights of a method (--method)")
    imp.add_argument("pth", type=Path, help="the model file")
    imp.add_argument("--method", help="install the authors' official weights as this method, e.g. liif")
    imp.add_argument("--name", help="the method name of your own model (default: from the file name)")
    imp.add_argument("-o", "--output", type=Path, help="where to write (default: user checkpoints)")

    args = parser.parse_args(argv)
    setup_logging()
    try:
        return {"upscale": _upscale, "methods": _methods, "import": _import}[args.command](args)
    except UserError as err:
        log.info("%s: %s", args.command, err)
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - a bug or no memory left: one line, the rest in the log
        print(f"error: {unexpected(err, f'{args.command} failed')}", file=sys.stderr)
        return 1


class UserError(Exception):
    """A problem with the user's input, reported as one line, exit status 2."""


def _upscale(args: argparse.Namespace) -> int:
    from sr_core.checkpoints import CheckpointError
    from sr_core.devices import resolve_device, resolve_precision
    from sr_core.registry import MissingWeightsError, get_info, load_method
    from sr_core.render import Renderer

    jobs = _upscale_jobs(args)
    if not jobs:
        print("nothing to do: every output exists (--skip-existing)", file=sys.stderr)
        return 0
    try:
        info = get_info(args.method)
        if args.checkpoint is not None and not info.needs_weights:
            raise UserError(f"{args.method} has no weights; --checkpoint does not apply to it")
        device = resolve_device(args.device)
        dtype = resolve_precision(args.precision, device)
        if args.precision not in info.precisions:
            raise UserError(f"{info.display_name} runs in {', '.join(info.precisions)} only, "
                            f"not {args.precision}")
        model, _ = load_method(args.method, args.checkpoint, device=device)
    except (CheckpointError, MissingWeightsError, ValueError) as err:
        raise UserError(str(err)) from err
    renderer = Renderer(model, device=device, dtype=dtype)
    failed = 0
    for done, (src, dst) in enumerate(jobs):
        try:
            _upscale_one(src, dst, renderer, args)
        except KeyboardInterrupt:
            print(f"interrupted; {done} of {len(jobs)} written, {dst.name} not", file=sys.stderr)
            return 130
        except UserError as err:
            if len(jobs) == 1:
                raise
            print(f"error: {err} (skipped{'' if src.name in str(err) else ' ' + src.name})", file=sys.stderr)
            failed += 1
    if failed:
        print(f"{failed} of {len(jobs)} images failed", file=sys.stderr)
    return 1 if failed else 0


def _upscale_jobs(args: argparse.Namespace) -> list[tuple[Path, Path]]:
    """(input, output) pairs: one file to a file, or everything into a folder; outputs that
    exist are refused (without --overwrite) or dropped (--skip-existing).

    An output with a file ending (and not an existing folder) is a file; anything else a folder.
    """
    from sr_core.image_writer import DEEP_FORMATS, output_format
    from sr_core.outputs import OutputError, check_folder, check_output_file

    inputs, output = args.input, args.output
    if output.suffix and not output.is_dir():
        if len(inputs) > 1 or inputs[0].is_dir():
            raise UserError(f"{output.name}: several images go into a folder; give a folder as -o")
        files, targets = [inputs[0]], [output]
    else:
        if output.exists() and not output.is_dir():
            kind = "a file" if output.is_file() else "not a folder"
            raise UserError(f"{output}: is {kind}; give a folder as -o for several images")
        files = [f for path in inputs for f in _input_files(path)]
        targets = [output / f"{f.stem}-{args.method}.{args.format}" for f in files]
        if len(set(targets)) < len(targets):
            raise UserError("two inputs share a name; upscale them into separate folders")
    try:
        fmt = output_format(targets[0])
    except ValueError as err:
        raise UserError(str(err)) from None
    if args.bits == 16 and fmt not in DEEP_FORMATS:
        raise UserError(f"{targets[0].name}: {fmt} holds 8 bits per channel; use .png or .tif for 16")
    jobs = _new_outputs(list(zip(files, targets)), args)
    try:
        if targets[0] is not output:
            check_folder(output, create=True)
        for _, target in jobs:
            check_output_file(target, files)
    except OutputError as err:
        raise UserError(str(err)) from None
    return jobs


def _input_files(path: Path) -> list[Path]:
    """The images of a folder (refused when it has none), or the file itself."""
    from sr_core.imaging import list_images

    if not path.is_dir():
        return [path]
    found = list_images(path)
    if not found:
        raise UserError(f"{path}: no images in this folder")
    return found


def _new_outputs(jobs: list[tuple[Path, Path]], args: argparse.Namespace) -> list[tuple[Path, Path]]:
    """``jobs`` whose output does not exist yet, unless --overwrite; --skip-existing drops the
    others (saying so), otherwise they are refused before any work starts."""
    existing = [dst for _, dst in jobs if dst.exists() and dst.is_file()]
    if not existing or args.overwrite:
        return jobs
    if args.skip_existing:
        for dst in existing:
            print(f"skipped {dst}: it exists", file=sys.stderr)
        return [(src, dst) for src, dst in jobs if dst not in existing]
    more = f" and {len(existing) - 1} more outputs exist" if len(existing) > 1 else " exists"
    remedy = "--overwrite to replace" + (" them, or --skip-existing" if len(jobs) > 1 else " it")
    raise UserError(f"{existing[0]}{more}; add {remedy}")


def _upscale_one(src: Path, dst: Path, renderer: Renderer, args: argparse.Namespace) -> None:
    """Render ``src`` in strips of rows into integer levels and write ``dst``."""
    from tqdm import tqdm

    from sr_core.image_writer import output_bits, output_format, save_image
    from sr_core.imaging import ImageLoadError, image_size, load_image, to_levels
    from sr_core.methods.bicubic import Bicubic
    from sr_core.render import RenderCancelled, Renderer, RenderError, SourceImage

    try:
        width, height = image_size(src)
        out_h, out_w = _target_size(height, width, args)
        # below ×1 the output is a downscale: decode no more than twice its size (memory
        # follows the output, not the file)
        image = load_image(src, levels=True, least=(2 * out_h, 2 * out_w))
    except ImageLoadError as err:
        raise UserError(str(err)) from err
    bits = output_bits(output_format(dst), args.bits or image.bit_depth)
    source = SourceImage(image.pixels)
    mask = None if image.alpha is None else SourceImage(np.repeat(image.alpha[..., None], 3, axis=2))
    dtype = np.uint16 if bits == 16 else np.uint8
    rgb = np.empty((out_h, out_w, 3), dtype)
    alpha = None if mask is None else np.empty((out_h, out_w), dtype)
    alpha_renderer = None if mask is None else Renderer(Bicubic(), device=renderer.device)
    try:
        with tqdm(total=out_h * out_w, unit="px", unit_scale=True, desc=f"{src.name} {args.method}") as bar:
            for top in range(0, out_h, STRIP_ROWS):
                strip = Rect(top, 0, min(top + STRIP_ROWS, out_h), out_w)
                rgb[strip.top:strip.bottom] = to_levels(renderer.render(
                    source, out_h, out_w, strip,
                    progress=lambda done, _, base=top * out_w: bar.update(base + done - bar.n)), bits)
                if alpha_renderer is not None:
                    alpha[strip.top:strip.bottom] = to_levels(
                        alpha_renderer.render(mask, out_h, out_w, strip)[..., 0], bits)
                bar.update(strip.bottom * out_w - bar.n)
    except (RenderError, RenderCancelled) as err:
        raise UserError(str(err)) from err
    try:
        save_image(dst, rgb, bits=bits, alpha=alpha, metadata=image.metadata, quality=args.quality)
    except OSError as err:
        raise UserError(f"{dst}: cannot be written ({err.strerror or err})") from None
    print(f"wrote {dst} ({out_w}×{out_h}, {args.method})")


def _target_size(lr_h: int, lr_w: int, args: argparse.Namespace) -> Size:
    from sr_core.render import output_size

    if args.scale is not None:
        if args.height is not None:
            raise UserError("give either --scale or --width/--height, not both")
        out_h, out_w = output_size(lr_h, lr_w, args.scale)
    else:
        out_w = args.width
        out_h = args.height if args.height is not None else max(1, round(lr_h * out_w / lr_w))
    if min(out_h, out_w) < 1:
        raise UserError("the output size must be positive")
    if out_h * out_w > MAX_OUTPUT_PIXELS:
        raise UserError(f"{out_w}×{out_h} is too large (limit {MAX_OUTPUT_PIXELS // 10**6} megapixels); "
                        "use a smaller scale or the viewer's region export")
    return Size(out_h, out_w)


def _methods(args: argparse.Namespace) -> int:
    rows = [_describe(name) for name in _method_names()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = f"{'method':<9} {'name':<9} {'weights':<13} {'status':<40} {'encoder':<14} {'params':>11}"
    print(header)
    print("-" * len(header))
    for r in rows:
        status = "available" if r["available"] else f"unavailable: {r['reason']}"
        params = f"{r['parameters']:,}" if r["parameters"] else "-"
        print(f"{r['method']:<9} {r['display_name']:<9} {r['source']:<13} {status[:40]:<40} "
              f"{r['encoder'] or '-':<14} {params:>11}")
    print("\nWeights (official: the authors'; trained here: by ZoomSR's recipes):")
    for r in rows:
        if r["source"] != "built in":
            print(f"  {r['display_name']}: {r['provenance']}")
    print("\nPapers:")
    for r in rows:
        print(f"  {r['display_name']}: {r['paper']}")
    return 0


def _method_names() -> list[str]:
    from sr_core.registry import method_names

    return method_names()


def _describe(name: str) -> dict[str, Any]:
    """One row of ``methods``: status, encoder and parameter count of the (default) model."""
    import torch

    from sr_core.architectures import build
    from sr_core.registry import method_status

    status = method_status(name)
    meta = status.meta or {}
    if status.info.user_model is not None:  # a user's model: its metadata says what it holds
        encoder, parameters = None, meta["model"]["parameters"]
    else:
        config = (meta.get("config") or {}) if meta.get("arch") == status.info.arch else {}
        with torch.device("meta"):  # sizes only: the (checked) configuration allocates nothing
            model = build(status.info.arch, config)
        encoder, parameters = model.config().get("encoder"), sum(p.numel() for p in model.parameters())
    return {
        "method": name, "display_name": status.info.display_name, "available": status.available,
        "reason": status.reason, "source": status.source, "provenance": status.provenance,
        "checkpoint": str(status.checkpoint) if status.checkpoint else None,
        "encoder": encoder,
        "parameters": parameters,
        "paper": status.info.paper,
        "metrics": (status.meta or {}).get("metrics"),
    }


def _import(args: argparse.Namespace) -> int:
    from sr_core.checkpoints import CheckpointError
    from sr_core.outputs import check_output_file
    from sr_core.registry import OFFICIAL_IMPORTS, get_info, install_official, install_user_model
    from sr_core.spandrel_files import UnsupportedArchitecture

    if args.method is not None and args.name is not None:
        raise UserError("--method installs official weights, --name names your own model: give one")
    try:
        if args.output is not None:
            check_output_file(args.output, [args.pth])
        if args.method is not None:
            out = install_official(args.pth, args.method, args.output)
            print(f"imported {args.pth.name} as {get_info(args.method).display_name} → {out}")
        else:
            name, out = install_user_model(args.pth, args.name, args.output)
            print(f"imported {args.pth.name} as method {name} ({get_info(name).paper}) → {out}"
                  if args.output is None else f"wrote {out} ({args.pth.name} checked)")
    except UnsupportedArchitecture as err:
        raise UserError(f"{err}; for the authors' {OFFICIAL_IMPORTS} weights add --method NAME") from err
    except (ValueError, CheckpointError) as err:  # OutputError and ModelFileError are ValueErrors
        raise UserError(str(err)) from err
    except OSError as err:
        raise UserError(f"{args.output or 'the user checkpoint folder'}: cannot be written "
                        f"({err.strerror or err})") from None
    return 0
