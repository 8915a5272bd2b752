"""Helpers shared by the benchmark scripts: models, machine description, timing, tables.

The benchmarks measure speed, never quality: every model here has random weights (no trained
weights exist yet) at the FULL sizes of the papers (EDSR-baseline encoder, the papers'
decoder widths). Speed does not depend on the weight values: the same layers run on the same
shapes whatever the numbers in them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from sr_core.architectures import ARCHITECTURES, build
from sr_core.devices import PRECISIONS
from sr_core.methods.base import SRMethod

#: every architecture, in the registry's order
ALL_METHODS = tuple(ARCHITECTURES)


def paper_model(arch: str, device: torch.device, dtype: torch.dtype = torch.float32,
                seed: int = 0) -> SRMethod:
    """Architecture ``arch`` at its paper size (constructor defaults), random weights, eval."""
    torch.manual_seed(seed)
    return build(arch, {}).to(device=device, dtype=dtype).eval()


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--dtype``, ``--threads``, ``--repeats`` and ``--json``."""
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N (default: cpu)")
    parser.add_argument("--dtype", default="float32", choices=list(PRECISIONS),
                        help="model dtype for our renderer (the viewer offers half precision on "
                             "GPUs only; bfloat16 can be measured on CPUs too)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=3, help="timings are the best of this many")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")


def setup(args: argparse.Namespace) -> tuple[torch.device, torch.dtype]:
    """Apply ``--threads`` and resolve ``--device``/``--dtype``."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    return device, PRECISIONS[args.dtype]


def parse_list(text: str, kind: Callable[[str], Any] = str) -> list[Any]:
    return [kind(item) for item in text.split(",") if item]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn: Callable[[], Any], device: torch.device, repeats: int,
              min_seconds: float = 2.0) -> float:
    """Best wall time of calls of ``fn`` in seconds: at least ``repeats`` calls, more (up to
    ``4 × repeats``) while less than ``min_seconds`` went by. Other processes share the CPU
    here, so the best run is the one least disturbed by them."""
    best, total, calls = float("inf"), 0.0, 0
    while calls < repeats or (total < min_seconds and calls < 4 * repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        elapsed = time.perf_counter() - start
        best, total, calls = min(best, elapsed), total + elapsed, calls + 1
    return best


def _addmm_flops(self_shape: Sequence[int], a_shape: Sequence[int], b_shape: Sequence[int],
                 **kwargs: Any) -> int:
    """FLOPs of ``self.addmm_(a, b)``: 2 per multiply-accumulate of ``a @ b``."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


def count_macs(fn: Callable[[], Any]) -> int:
    """Multiply-accumulates of the matrix products and convolutions ``fn`` runs.

    Counted from the shapes of every matmul/conv op that executes (``FlopCounterMode``):
    the analytic count of the code as it runs, margins and shortcuts included. The
    in-place ``addmm_`` the decoders use is counted like ``addmm`` (torch does not).
    """
    with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.addmm_: _addmm_flops}) as counter:
        fn()
    return counter.get_total_flops() // 2


def gemm_peak(device: torch.device, dtype: torch.dtype, repeats: int = 10) -> float:
    """Measured peak of the device in MAC/s: the best large square matmul in ``dtype``.

    The practical ceiling every decoder (mostly matmuls) is compared against; for this
    dtype on a GPU it includes tensor cores (TF32 stays off for float32).
    """
    n = 1536 if device.type == "cpu" else 8192
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    torch.matmul(a, b)
    return n ** 3 / best_time(lambda: torch.matmul(a, b), device, repeats)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was."""
    info: dict[str, Any] = {
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical cores",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "device": str(device),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
    return info


def print_machine(info: dict[str, Any]) -> None:
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))


def peak_rss_mb() -> float:
    """High-water mark of this process' resident memory in MB (Linux: ru_maxrss is in KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if platform.system() == "Darwin" else rss / 2**10


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Markdown table (pastes straight into docs/BENCHMARKS.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def fmt(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, or an em dash for missing values."""
    if x is None:
        return "—"
    return f"{x:.{digits}g}"


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=1))
        print(f"wrote {path}")


def synthetic_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A uint8 ``h × w × 3`` test image (smooth gradients plus noise), made band by band.

    Content does not change the speed of any method; uint8 keeps a 48-megapixel image at
    144 MB.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((h, w, 3), np.uint8)
    xs = np.linspace(0, 4 * np.pi, w, dtype=np.float32)
    for top in range(0, h, 512):
        rows = np.arange(top, min(top + 512, h), dtype=np.float32)[:, None]
        base = 127 + 60 * np.sin(xs[None] + rows / 97) * np.cos(rows / 61)
        noise = rng.integers(-40, 41, (len(rows), w, 3), dtype=np.int16)
        out[top:top + len(rows)] = np.clip(base[..., None] + noise, 0, 255).astype(np.uint8)
    return out
