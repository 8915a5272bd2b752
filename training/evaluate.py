"""Evaluation in the papers' protocol (METHODS_SPEC §5), through sr_core's one rendering path.

``python -m training.evaluate --method bicubic,liif --dataset DIR --scales 2,3,4,6,8,12``
prints the papers' table (rows = methods, columns = scales) and can write JSON
(``--json OUT``); ``--markdown A.json [B.json …]`` turns JSON files back into tables.

* Data: ``DIR`` is a folder of HR images or a set folder holding ``HR/``. Its
  ``LR_bicubic/X{s}/<name>x{s}.png`` files (MATLAB bicubic, as in the benchmark packs) are used
  for ×2–×4 when present; otherwise the LR is the project's MATLAB-compatible ``imresize`` of
  the 8-bit HR, mod-cropped (``h_lr = floor(H/s + 1e-9)``, HR cropped to ``round(h_lr·s)``).
* Rendering: every method, bicubic included, through :class:`sr_core.render.Renderer`.
* Protocols: ``liif`` (float output clamped to [0, 1]; Y of the difference with the /256
  coefficients, or RGB) and ``matlab`` (output rounded to 8 bits, Y from RGB, a grayscale
  file evaluated on its single channel). Metrics: PSNR, SSIM, Laplacian sharpness / error,
  averaged over images.

Untrained (random-weight) checkpoints are refused unless ``--allow-untrained`` is given, and
are then labelled UNTRAINED in tables and ``"trained": false`` in the JSON.
See docs/EVALUATION.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from sr_core import metrics
from sr_core.arg_types import OneLineParser, bounded_int
from sr_core.checkpoints import CheckpointError
from sr_core.devices import resolve_device
from sr_core.imaging import IMAGE_SUFFIXES, ImageLoadError, list_images, load_image, to_uint8
from sr_core.methods.base import SRMethod
from sr_core.outputs import check_output_file
from sr_core.registry import METHODS, MissingWeightsError, default_checkpoint, get_info, load_method
from sr_core.render import Renderer, SourceImage, output_size
from sr_core.resize import imresize
from training.eval_tables import format_tables, load_records

#: scales whose dataset-provided LR files are used (the papers' in-distribution scales)
PROVIDED_LR_SCALES = (2, 3, 4)
#: output block and encoder tile (LR px) of the evaluation renderer: whole benchmark images
#: in one piece (tiles are exact, so this only saves the halo recomputation)
EVAL_BLOCK = 1024
EVAL_TILE = 1024
#: the largest --scales factor (the viewer's largest zoom)
MAX_SCALE = 64
METRICS = ("psnr", "ssim", "lap_sharpness", "lap_sharpness_hr", "lap_error")
#: BT.601 luma weights (65.481, 128.553, 24.966) / 219: a neutral RGB output maps to its value
_GRAY = np.array([0.299, 0.587, 0.114])
_ENCODER_LABELS = {"edsr-baseline": "EDSR", "rdn": "RDN", "swinir": "SwinIR"}


class GeometryError(ValueError):
    """An image whose size does not fit a scale (too small, or a provided LR of the wrong size)."""


@dataclass(frozen=True)
class Dataset:
    """HR image files and the folder of their provided LR (``X2/``, ``X3/`` …), if any."""

    name: str
    images: tuple[Path, ...]
    lr_root: Path | None = None

    @staticmethod
    def open(path: str | Path) -> Dataset:
        """``path`` = a folder of HR images, or a set folder with ``HR/`` (and ``LR_bicubic/``).

        Layouts: ``Set5/HR`` or ``Set5`` (LR in ``Set5/LR_bicubic``), ``DIV2K_valid_HR``
        (LR in its sibling ``DIV2K_valid_LR_bicubic``), ``Kodak24`` (LR in ``Kodak24/LR_bicubic``).
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a folder (expected a folder of HR images)")
        hr_dir = path / "HR" if (path / "HR").is_dir() else path
        if hr_dir.name.upper() == "HR":
            name, lr_root = hr_dir.resolve().parent.name, hr_dir.parent / "LR_bicubic"
        elif hr_dir.name.upper().endswith("_HR"):
            name = hr_dir.name[:-3]
            lr_root = hr_dir.parent / f"{name}_LR_bicubic"
        else:
            name, lr_root = hr_dir.resolve().name, hr_dir / "LR_bicubic"
        images = tuple(list_images(hr_dir))
        if not images:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {hr_dir}")
        return Dataset(name, images, lr_root if lr_root.is_dir() else None)

    def provided_lr(self, hr_path: Path, scale: float) -> Path | None:
        """The dataset's own LR file for ``hr_path`` at ``scale`` (×2–×4 only), if present."""
        if self.lr_root is None or scale not in PROVIDED_LR_SCALES:
            return None
        s = int(scale)
        candidates = (self.lr_root / f"X{s}" / f"{hr_path.stem}x{s}{suffix}" for suffix in IMAGE_SUFFIXES)
        return next((p for p in candidates if p.is_file()), None)


def default_space(dataset: str, protocol: metrics.Protocol) -> metrics.Space:
    """RGB for DIV2K in the liif protocol (the papers' photo protocol), else Y."""
    return "rgb" if protocol == "liif" and dataset.lower().startswith("div2k") else "y"


def default_shave(scale: float, space: metrics.Space, protocol: metrics.Protocol) -> int:
    """Border px ignored: ``s + 6`` for liif-protocol RGB (DIV2K), else ``s`` (rounded up)."""
    s = math.ceil(scale - 1e-9)
    return s + 6 if protocol == "liif" and space == "rgb" else s


def lr_and_hr(hr: np.ndarray, scale: float, lr: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The LR input at ``scale`` and the HR crop it is compared with (float32 H×W×3).

    With a provided ``lr`` the HR is cropped to ``round(lr size · s)``. Otherwise
    ``h_lr = floor(H/s + 1e-9)``, the HR is cropped to ``round(h_lr · s)`` (a mod-crop for
    integer scales) and the LR is MATLAB ``imresize`` of its 8-bit pixels (rounded per pass,
    bit-exact with the benchmark packs' ``LR_bicubic``).
    """
    if lr is None:
        lr_h, lr_w = (math.floor(n / scale + 1e-9) for n in hr.shape[:2])
        if min(lr_h, lr_w) < 1:
            raise GeometryError(f"{hr.shape[1]}×{hr.shape[0]} is too small for ×{scale:g}")
    else:
        lr_h, lr_w = lr.shape[:2]
    out_h, out_w = output_size(lr_h, lr_w, scale)
    if out_h > hr.shape[0] or out_w > hr.shape[1]:
        raise GeometryError(f"LR {lr_w}×{lr_h} at ×{scale:g} exceeds the HR {hr.shape[1]}×{hr.shape[0]}")
    hr = hr[:out_h, :out_w]
    if lr is None:
        lr = imresize(to_uint8(hr), output_shape=(lr_h, lr_w)).astype(np.float32) / 255
    return lr, hr


def score(pred: np.ndarray, hr: np.ndarray, *, gray: bool, protocol: metrics.Protocol,
          space: metrics.Space, shave: int) -> dict[str, float]:
    """All metrics of one output ``pred`` against ``hr`` (H×W×3 in [0, 1]).

    liif: the float output (already clamped by the renderer). matlab: the output rounded to
    8 bits; a grayscale file is compared on its one channel (the output's BT.601 luma).
    """
    if protocol == "matlab":
        if gray:
            pred, hr = pred @ _GRAY, hr[..., 0]
        pred, hr = to_uint8(pred) / 255.0, to_uint8(hr) / 255.0
    kw: dict[str, Any] = dict(shave=shave, space=space, protocol=protocol)
    inner = (slice(shave, -shave or None),) * 2
    return {
        "psnr": metrics.psnr(pred, hr, **kw),
        "ssim": metrics.ssim(pred, hr, **kw),
        "lap_sharpness": metrics.laplacian_sharpness(pred[inner]),
        "lap_sharpness_hr": metrics.laplacian_sharpness(hr[inner]),
        "lap_error": metrics.laplacian_error(pred, hr, shave=shave),
    }


@dataclass
class ScaleResult:
    """Per-image metrics of one method on one dataset at one scale."""

    scale: float
    shave: int
    per_image: dict[str, dict[str, float]]
    provided_lr: int
    seconds: float

    def mean(self, metric: str) -> float:
        return float(np.mean([m[metric] for m in self.per_image.values()]))

    def to_json(self) -> dict[str, Any]:
        return {**{m: self.mean(m) for m in METRICS}, "n_images": len(self.per_image),
                "seconds": round(self.seconds, 3), "shave": self.shave,
                "provided_lr": self.provided_lr, "per_image": self.per_image}


def make_renderer(model: SRMethod, device: str | torch.device = "cpu", *,
                  encoder_tile: int = EVAL_TILE) -> Renderer:
    """The evaluation renderer: large output blocks and encoder tiles, default query chunks."""
    return Renderer(model, device=device, block=EVAL_BLOCK, encoder_tile=encoder_tile)


def evaluate_scales(renderer: Renderer, dataset: Dataset, scales: Sequence[float], *,
                    protocol: metrics.Protocol = "liif", space: metrics.Space | None = None,
                    shave: int | None = None, limit: int | None = None,
                    skipped: dict[str, str] | None = None,
                    progress: Callable[[], None] | None = None) -> Iterator[ScaleResult]:
    """Evaluate ``dataset`` scale by scale, yielding each finished scale.

    Unreadable images (and images too small for a scale) are recorded in ``skipped``
    (``name → reason``) and left out; ``progress()`` is called once per image and scale.
    """
    space = space or default_space(dataset.name, protocol)
    skipped = {} if skipped is None else skipped
    files = dataset.images[:limit]
    for scale in scales:
        start = time.perf_counter()
        px = default_shave(scale, space, protocol) if shave is None else shave
        per_image: dict[str, dict[str, float]] = {}
        provided = 0
        for path in files:
            if path.name not in skipped:
                try:
                    per_image[path.stem], from_file = _evaluate_image(
                        renderer, dataset, path, scale, protocol=protocol, space=space, shave=px)
                    provided += from_file
                except ImageLoadError as err:
                    skipped[path.name] = str(err)
                except GeometryError as err:
                    skipped[f"{path.name} at ×{scale:g}"] = str(err)
            if progress is not None:
                progress()
        if per_image:
            yield ScaleResult(scale, px, per_image, provided, time.perf_counter() - start)


def _evaluate_image(renderer: Renderer, dataset: Dataset, path: Path, scale: float, *,
                    protocol: metrics.Protocol, space: metrics.Space,
                    shave: int) -> tuple[dict[str, float], bool]:
    """Metrics of one image at one scale, and whether its LR came from the dataset."""
    image = load_image(path)
    lr_path = dataset.provided_lr(path, scale)
    lr, hr = lr_and_hr(image.pixels, scale, None if lr_path is None else load_image(lr_path).pixels)
    source = SourceImage(lr)
    try:
        pred = renderer.render(source, hr.shape[0], hr.shape[1])
    finally:
        renderer.forget(source)
    try:
        scores = score(pred, hr, gray=image.grayscale, protocol=protocol, space=space, shave=shave)
    except ValueError as err:  # the metrics' only error: too small for the shave or SSIM window
        raise GeometryError(str(err)) from err
    return scores, lr_path is not None


def evaluate_model(model: SRMethod, dataset: str | Path | Dataset, scales: Sequence[float], *,
                   protocol: metrics.Protocol = "liif", space: metrics.Space | None = None,
                   shave: int | None = None, limit: int | None = None,
                   device: str | torch.device | None = None) -> dict[float, ScaleResult]:
    """Evaluate an in-memory model (e.g. from the training loop) on the device it is on,
    unless ``device`` is given; its train/eval mode is restored."""
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    if device is None:
        weight = next(model.parameters(), None)
        device = "cpu" if weight is None else weight.device
    was_training = model.training
    try:
        renderer = make_renderer(model, device)
        return {r.scale: r for r in evaluate_scales(renderer, ds, scales, protocol=protocol,
                                                    space=space, shave=shave, limit=limit)}
    finally:
        model.train(was_training)


def method_label(name: str, meta: dict[str, Any]) -> str:
    """Row label in the papers' style: ``Bicubic``, ``EDSR-LIIF``, ``RDN-CLIT`` …"""
    display = get_info(name).display_name
    encoder = meta.get("config", {}).get("encoder")
    return f"{_ENCODER_LABELS.get(encoder, encoder)}-{display}" if encoder else display


def scale_key(scale: float) -> str:
    """JSON key of a scale: ``2``, ``2.5``."""
    return f"{scale:g}"


def parse_scales(text: str) -> list[float]:
    """``"2,3,4"`` → ``[2.0, 3.0, 4.0]``; every scale must be ≥ 1."""
    try:
        scales = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--scales: expected numbers separated by commas, got {text!r}") from None
    if not scales or any(not (1 <= s <= MAX_SCALE and math.isfinite(s)) for s in scales):
        raise ValueError(f"--scales: expected upscaling factors from 1 to {MAX_SCALE}, got {text!r}")
    return scales


def method_jobs(methods: str, checkpoints: Sequence[str]) -> list[tuple[str, str | None]]:
    """``(method, checkpoint)`` pairs: the i-th checkpoint goes to the i-th method with weights."""
    names = [m.strip() for m in methods.split(",") if m.strip()]
    pending = list(checkpoints)
    jobs = []
    for name in names:
        needs = get_info(name).needs_weights
        jobs.append((name, pending.pop(0) if needs and pending else None))
    if pending:
        raise ValueError(f"more --checkpoint values than methods needing weights ({', '.join(pending)})")
    return jobs


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m training.evaluate",
                                description="Evaluate SR methods in the papers' protocol "
                                            "(docs/EVALUATION.md).")
    p.add_argument("--method", default="bicubic,liif",
                   help=f"method name(s), comma-separated: rows of the table ({', '.join(METHODS)}, or "
                        "a user model installed by 'main.py import'; default: bicubic,liif)")
    p.add_argument("--checkpoint", action="append", default=[],
                   help="weights of the next method that needs weights (repeatable; default: "
                        "the installed checkpoint)")
    p.add_argument("--allow-untrained", action="store_true",
                   help="evaluate random-weight checkpoints (labelled UNTRAINED; for tests only)")
    p.add_argument("--dataset", action="append", default=[], type=Path,
                   help="HR folder or set folder with HR/ (repeatable)")
    p.add_argument("--scales", default="2,3,4,6,8,12", help="comma-separated (default: %(default)s)")
    p.add_argument("--protocol", choices=("liif", "matlab"), default="liif",
                   help="liif: float output, the implicit-SR papers' tables (default); "
                        "matlab: 8-bit output, the classic bicubic/CNN tables")
    p.add_argument("--space", choices=("y", "rgb"),
                   help="PSNR/SSIM space (default: rgb for DIV2K with the liif protocol, else y)")
    p.add_argument("--shave", type=bounded_int(0, 10_000), help="border px ignored (default: s; s+6 for liif RGB)")
    p.add_argument("--limit", type=bounded_int(1, 10**9), help="only the first N images of each dataset")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps (default: auto)")
    p.add_argument("--tile", type=bounded_int(8, 1 << 16), default=EVAL_TILE,
                   help="encoder tile in LR px; lower it if encoding runs out of memory "
                        "(default: %(default)s)")
    p.add_argument("--json", type=Path, help="write the results as JSON")
    p.add_argument("--paper", action="store_true",
                   help="show the published numbers (METHODS_SPEC §7) and our difference")
    p.add_argument("--markdown", nargs="+", type=Path, metavar="JSON",
                   help="print Markdown tables of these result files and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.markdown:
        try:
            print(format_tables(load_records(args.markdown), paper=args.paper, markdown=True))
        except (OSError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if not args.dataset:
        parser.error("--dataset is required (or --markdown FILE …)")
    try:
        if args.json:
            check_output_file(args.json)  # before the hours of work, not after
        scales = parse_scales(args.scales)
        datasets = [Dataset.open(d) for d in args.dataset]
        device = resolve_device(args.device)
        models = [_load(name, ckpt, device, args.allow_untrained)
                  for name, ckpt in method_jobs(args.method, args.checkpoint)]
    except (ValueError, OSError, MissingWeightsError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    records, interrupted = _run(models, datasets, scales, args, device)
    print(format_tables(records, paper=args.paper))
    if interrupted:
        print("Interrupted: the table shows the scales that finished.", file=sys.stderr)
    if args.json:
        try:
            args.json.write_text(json.dumps(records[0] if len(records) == 1 else records, indent=1))
        except OSError as err:
            print(f"error: {args.json}: cannot be written ({err.strerror or err})", file=sys.stderr)
            return 1
        print(f"wrote {args.json}", file=sys.stderr)
    if interrupted:
        return 130
    if not any(record["results"] for record in records):
        print("error: nothing was evaluated (every image was skipped; see above)", file=sys.stderr)
        return 1
    return 0


def _load(name: str, checkpoint: str | None, device: torch.device,
          allow_untrained: bool) -> tuple[SRMethod, dict[str, Any]]:
    """The model and the record fields that describe it."""
    model, meta = load_method(name, checkpoint, device=device, allow_untrained=allow_untrained)
    path = checkpoint or (default_checkpoint(name) if get_info(name).needs_weights else None)
    about = {"method": name, "label": method_label(name, meta),
             "checkpoint": None if path is None else str(path),
             "trained": bool(meta.get("trained", False))}
    return model, about


def _run(models: list[tuple[SRMethod, dict[str, Any]]], datasets: list[Dataset],
         scales: list[float], args: argparse.Namespace,
         device: torch.device) -> tuple[list[dict[str, Any]], bool]:
    """Evaluate every method on every dataset; on ctrl-C return what finished."""
    records: list[dict[str, Any]] = []
    try:
        for model, about in models:
            renderer = make_renderer(model, device, encoder_tile=args.tile)
            for ds in datasets:
                space = args.space or default_space(ds.name, args.protocol)
                skipped: dict[str, str] = {}
                record = {**about, "dataset": ds.name, "dataset_path": str(ds.images[0].parent),
                          "protocol": args.protocol, "space": space, "shave": args.shave,
                          "limit": args.limit, "device": str(device),
                          "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          "results": {}, "skipped": skipped, "interrupted": True}
                records.append(record)
                total = len(ds.images[:args.limit]) * len(scales)
                with tqdm(total=total, desc=f"{about['label']} on {ds.name}", unit="img",
                          file=sys.stderr, leave=False) as bar:
                    for result in evaluate_scales(renderer, ds, scales, protocol=args.protocol,
                                                  space=space, shave=args.shave, limit=args.limit,
                                                  skipped=skipped, progress=bar.update):
                        record["results"][scale_key(result.scale)] = result.to_json()
                record["interrupted"] = False
                for name, reason in skipped.items():
                    print(f"skipped {ds.name}/{name}: {reason}", file=sys.stderr)
    except KeyboardInterrupt:
        return records, True
    return records, False


if __name__ == "__main__":
    raise SystemExit(main())
