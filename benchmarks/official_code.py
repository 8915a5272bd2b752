"""The authors' own code beside ours, with the same weights: do both give the same pixels?

    python -m benchmarks.official_code clit --official PATH [--lr 24] [--scales 4,12,30]
        [--stages 1,2,3] [--checkpoint FILE --image IMG --box X,Y,SIZE]

``PATH`` is a checkout of the authors' repository (for CLIT: ``jaroslaw1007/CLIT``); nothing
of it is copied into ZoomSR, it is imported from there at run time, on the CPU: its
``.cuda()`` calls become no-ops and the modules it imports but never uses here (``timm`` for
SwinIR, ``tensorboardX`` for logging) are stubbed when they are not installed.

Random weights: the authors' model is built from their config (the architecture of
``configs/train/*_clit{2,3}.yaml``, narrower by default so that ×30 runs in seconds), its
parameters are drawn with a fixed seed (unit-scale activations), saved as the authors' ``.pth``
(``{'model': {'name', 'args', 'sd'}}``) and converted by ZoomSR's official importer
(``sr_core.checkpoints.import_official``, what ``main.py import`` runs), so the importer is
checked too. Both models then upscale the same random LR image at each scale; the table gives
the largest absolute difference of the normalised output after each stage of the cascade (the
authors' ``forward`` returns every stage's prediction; ours runs the truncated cascade), and
how far each float32 code is from the authors' code run in float64 (coordinates included).

Each scale is run twice: with the authors' ``make_coord`` (their pixel centres
``-1 + 1/n + (2/n)·i``) and with it replaced by ZoomSR's ``(2i + 1)/n - 1``. The two formulas
differ by a float32 ulp now and then, and CLIT's positional bias multiplies ``rel`` by up to
1023, so the first column shows rounding and the second the formulation.

``--checkpoint`` runs the comparison the other way round on trained weights: ZoomSR's file is
exported to the authors' ``.pth`` layout, and both codes upscale the crop ``--box`` of
``--image`` (made LR as the evaluation harness makes it) at each scale; the table adds the
difference in 8-bit levels of the clamped output.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import math
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from sr_core import checkpoints
from sr_core.arg_types import OneLineParser
from sr_core.coords import Queries, make_coord
from sr_core.methods.base import CropGeometry, SRMethod, denormalize


@contextmanager
def official_package(root: Path) -> Iterator[types.ModuleType]:
    """The authors' ``models`` package imported from ``root``, on the CPU.

    ``Tensor.cuda``/``Module.cuda`` are identities while the block runs; stubs stand in for
    ``timm`` and ``tensorboardX`` where they are missing (imported at module level, never used
    by the models compared here). ``sys.path`` and ``sys.modules`` are restored afterwards.
    """
    if not (root / "models" / "__init__.py").is_file():
        raise SystemExit(f"error: {root} is not a checkout of the authors' repository (no models/__init__.py)")
    saved_modules, saved_path = dict(sys.modules), list(sys.path)
    saved_cuda = torch.Tensor.cuda, nn.Module.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    stubs = {"tensorboardX": ("SummaryWriter",), "timm": (), "timm.models": (),
             "timm.models.layers": ("DropPath", "to_2tuple", "trunc_normal_")}
    missing = {top for top in ("tensorboardX", "timm") if importlib.util.find_spec(top) is None}
    for name, attrs in stubs.items():
        if name.split(".")[0] in missing:
            sys.modules[name] = stub = types.ModuleType(name)
            for attr in attrs:
                setattr(stub, attr, _unavailable(f"{name}.{attr}"))
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("models")
    finally:
        torch.Tensor.cuda, nn.Module.cuda = saved_cuda  # type: ignore[method-assign]
        sys.path[:] = saved_path
        for name in set(sys.modules) - set(saved_modules):
            del sys.modules[name]


def _unavailable(name: str) -> Callable[..., Any]:
    def fail(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"{name} is a stub here (not installed)")
    return fail


def zoomsr_make_coord(shape: tuple[int, ...], ranges: Any = None, flatten: bool = True) -> Tensor:
    """The authors' ``utils.make_coord`` signature with ZoomSR's pixel centres."""
    assert ranges is None
    ret = torch.stack(torch.meshgrid(*(make_coord(n) for n in shape), indexing="ij"), dim=-1)
    return ret.view(-1, ret.shape[-1]) if flatten else ret


@dataclass(frozen=True)
class Adapter:
    """How to build, seed and run one method's official model."""

    #: official ``model['name']``
    name: str
    #: the official model args for ``n_stages`` etc. (narrow: base_dim, heads, hidden)
    args: Callable[[int, int, int, int], dict]
    #: official model, normalised LR, output size, scale, chunk → every stage's ``(1, N, 3)``
    #: output, and a note on how the scale was run
    run_official: Callable[[nn.Module, Tensor, tuple[int, int], float, int], tuple[list[Tensor], str]]
    #: our model, normalised LR, output size, chunk → the same list
    run_ours: Callable[[SRMethod, Tensor, tuple[int, int], int], list[Tensor]]
    #: ZoomSR config → the official args (for exporting trained weights)
    official_args: Callable[[dict], dict]
    #: a float64 copy of the official model, and a context in which it runs
    float64: Callable[[nn.Module], tuple[nn.Module, Any]]


# ---------------------------------------------------------------------------------------------
# CLIT


def _clit_args(n_stages: int, base_dim: int, heads: int, hidden: int) -> dict:
    """``configs/train/train_edsr_baseline_clit3.yaml``'s model, with ``n_stages`` stages."""
    return {"base_dim": base_dim, "head": heads, "r": 3, "imnet_num": n_stages, "conv_num": n_stages,
            "is_cell": True, "local_attn": True,
            "encoder_spec": {"name": "edsr-baseline", "args": {"no_upsampling": True}},
            "pb_spec": {"name": "posenc", "args": {"posenc_type": "sinusoid", "posenc_scale": 10,
                                                   "hidden_dims": 64, "enc_dims": 64, "gamma": 1}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [hidden] * 4,
                                                    "act": "gelu"}}}


def _clit_official_args(config: dict) -> dict:
    args = _clit_args(config["n_stages"], config["base_dim"], config["heads"], 0)
    args["r"] = config["radius"]
    args["imnet_spec"]["args"]["hidden_list"] = list(config["hidden"])
    if config["encoder"] != "edsr-baseline":
        raise SystemExit(f"error: only the EDSR-baseline encoder is exported, not {config['encoder']}")
    return args


def _clit_factors(scale: float, n_stages: int) -> tuple[list[float], bool]:
    """The authors' test-time decomposition (``datasets.cascaded_wrappers.sample_system_scale``,
    written out here: the datasets package imports torchvision), and whether it had to be
    capped at ``n_stages`` (their code then fails; ZoomSR merges the tail into the last
    factor, which is what runs here on both sides)."""
    factors, s = [], scale
    if s <= 4:
        factors.append(s)
    else:
        factors.append(4)
        s = s / 4
        while s > 1:
            factors.append(4 if s >= 4 else s)
            s = s / 4
    if len(factors) <= n_stages:
        return factors, False
    return factors[:n_stages - 1] + [math.prod(factors[n_stages - 1:])], True


def _clit_run_official(model: nn.Module, lr: Tensor, out: tuple[int, int], scale: float,
                       chunk: int) -> tuple[list[Tensor], str]:
    """``test.py``'s batch: the coords of each stage grid ``round(lr·s₁⋯s_k)``, the final cell,
    and ``model(inp, coords, sample_coord, cell)`` (every stage's prediction) per chunk."""
    make = sys.modules["models.clit"].make_coord
    factors, capped = _clit_factors(scale, len(model.imnets))
    lr_h, lr_w = lr.shape[-2:]
    coords = []
    for k in range(len(factors)):
        size = (round(lr_h * np.prod(factors[:k + 1])), round(lr_w * np.prod(factors[:k + 1])))
        coords.append(make(size, flatten=False).unsqueeze(0).to(lr.dtype))
    if tuple(coords[-1].shape[1:3]) != out:
        raise AssertionError(f"official grid {tuple(coords[-1].shape[1:3])} is not {out}")
    cell = torch.tensor([[2 / out[0], 2 / out[1]]], dtype=lr.dtype)
    flat = coords[-1].reshape(1, -1, 2)
    parts = [model(lr, coords, flat[:, i:i + chunk], cell) for i in range(0, flat.shape[1], chunk)]
    note = "[" + ", ".join(f"{f:g}" for f in factors) + "]" + (" (capped)" if capped else "")
    return [torch.cat([p[k] for p in parts], dim=1) for k in range(len(factors))], note


def _clit_run_ours(model: SRMethod, lr: Tensor, out: tuple[int, int], chunk: int) -> list[Tensor]:
    """Our query path (``prepare`` + ``query`` in chunks) with the cascade truncated after each
    stage; the default decomposition gives the full one."""
    geom = CropGeometry.full(*lr.shape[-2:])
    fc = model.prepare(model.encode(lr), lr, geom)
    q = Queries.grid(*out, (0, out[0]), (0, out[1]))
    factors = model.stage_factors(q, geom)
    return [torch.cat([model.query(fc, part, factors[:k + 1]) for part in q.split(chunk)], dim=1)
            for k in range(len(factors))]


def float64_make_coord(shape: tuple[int, ...], ranges: Any = None, flatten: bool = True) -> Tensor:
    """The authors' ``make_coord`` signature, pixel centres ``(2i + 1)/n − 1`` in float64."""
    assert ranges is None
    axes = [(2 * torch.arange(n, dtype=torch.float64) + 1) / n - 1 for n in shape]
    ret = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    return ret.view(-1, ret.shape[-1]) if flatten else ret


@contextmanager
def _clit_in_float64() -> Iterator[None]:
    """``models.clit`` with float64 pixel centres (the sample and stage-grid coordinates too)
    and float64 window offsets (``torch.linspace`` follows the default dtype)."""
    module = sys.modules["models.clit"]
    own, dtype = module.make_coord, torch.get_default_dtype()
    module.make_coord = float64_make_coord
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        module.make_coord = own
        torch.set_default_dtype(dtype)


def _clit_float64(model: nn.Module) -> tuple[nn.Module, Any]:
    double = copy.deepcopy(model).double()
    pb = double.pb_encoder  # its frequencies are plain attributes, not parameters
    pb.b_vals, pb.a_vals = pb.b_vals.double(), pb.a_vals.double()
    return double, _clit_in_float64()


ADAPTERS = {a.name: a for a in (
    Adapter("clit", _clit_args, _clit_run_official, _clit_run_ours, _clit_official_args, _clit_float64),
)}


# ---------------------------------------------------------------------------------------------
# the comparison


def seed_weights(model: nn.Module, seed: int) -> None:
    """Normal weights of std ``fan_in^-0.5`` (biases 0.1): activations of order 1 throughout."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            std = p[0].numel() ** -0.5 if p.dim() > 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=gen) * std)


def import_through_pth(models: types.ModuleType, name: str, args: dict, sd: dict, folder: Path) -> SRMethod:
    """Save ``sd`` as the authors' ``.pth`` and convert it with ZoomSR's official importer."""
    pth = folder / f"{name}.pth"
    torch.save({"model": {"name": name, "args": copy.deepcopy(args), "sd": sd}, "epoch": 0}, pth)
    ours, _ = checkpoints.import_official(pth)
    return ours.eval()


def compare(official: nn.Module, ours: SRMethod, adapter: Adapter, lr: Tensor, scale: float,
            chunk: int) -> dict[str, Any]:
    """Per stage, max |official − ours| of the normalised output, with the authors' pixel
    centres and with ZoomSR's; the float32 rounding of the authors' code itself (max |float32 −
    float64|, both theirs); each stage's output range (to read the sizes against)."""
    out = (round(lr.shape[-2] * scale), round(lr.shape[-1] * scale))
    with torch.no_grad():
        mine = adapter.run_ours(ours, lr, out, chunk)
        theirs, note = adapter.run_official(official, lr, out, scale, chunk)
        clit_module = sys.modules[official.__class__.__module__]
        own = clit_module.make_coord
        clit_module.make_coord = zoomsr_make_coord
        try:
            shared, _ = adapter.run_official(official, lr, out, scale, chunk)
        finally:
            clit_module.make_coord = own
        double, context = adapter.float64(official)
        with context:
            exact, _ = adapter.run_official(double, lr.double(), out, scale, chunk)
    if len(mine) != len(theirs):
        raise AssertionError(f"×{scale}: {len(theirs)} official stages, {len(mine)} of ours")
    return {"official_coords": [float((a - b).abs().max()) for a, b in zip(theirs, mine)],
            "shared_coords": [float((a - b).abs().max()) for a, b in zip(shared, mine)],
            "float32_noise": [float((a - b).abs().max()) for a, b in zip(theirs, exact)],
            "ours_vs_float64": [float((a - b).abs().max()) for a, b in zip(mine, exact)],
            "levels": [float((_levels(a) - _levels(b)).abs().max()) for a, b in zip(theirs, mine)],
            "range": [float(b.abs().max()) for b in mine], "note": note}


def _levels(x: Tensor) -> Tensor:
    return (denormalize(x).clamp(0, 1) * 255).round()


def random_weights(adapter: Adapter, models: types.ModuleType, n_stages: int, width: tuple[int, int, int],
                   seed: int, folder: Path) -> tuple[nn.Module, SRMethod]:
    args = adapter.args(n_stages, *width)
    official = models.make({"name": adapter.name, "args": args}).eval()
    seed_weights(official, seed)
    ours = import_through_pth(models, adapter.name, args, official.state_dict(), folder)
    return official, ours


def trained_weights(adapter: Adapter, models: types.ModuleType, path: Path) -> tuple[nn.Module, SRMethod]:
    """ZoomSR's file, and the authors' model holding the same tensors (strict load)."""
    ours, meta = checkpoints.load(path)
    args = adapter.official_args(meta["config"])
    official = models.make({"name": adapter.name, "args": args}).eval()
    official.load_state_dict(ours.state_dict(), strict=True)
    return official, ours.eval()


def crop_lr(image: Path, box: tuple[int, int, int], scale: float) -> Tensor:
    """The normalised LR of an HR crop, made as the evaluation harness makes it."""
    from sr_core.imaging import load_image
    from sr_core.methods.base import normalize
    from training.evaluate import lr_and_hr
    x, y, size = box
    hr = load_image(image).pixels[y:y + size, x:x + size]
    lr, _ = lr_and_hr(hr, scale)
    return normalize(torch.from_numpy(np.ascontiguousarray(lr, np.float32)).permute(2, 0, 1)[None])


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m benchmarks.official_code", description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=sorted(ADAPTERS))
    parser.add_argument("--official", type=Path, required=True, help="checkout of the authors' repository")
    parser.add_argument("--lr", type=int, default=24, help="side of the random LR image")
    parser.add_argument("--scales", default="4,12,30")
    parser.add_argument("--stages", default="1,2,3", help="models of these stage counts (random weights)")
    parser.add_argument("--width", default="64,8,64", help="base_dim,heads,hidden (authors': 256,8,256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, help="ZoomSR weights to run through both codes instead")
    parser.add_argument("--image", type=Path, help="with --checkpoint: HR image")
    parser.add_argument("--box", default="160,180,96", help="with --checkpoint: X,Y,SIZE of the HR crop")
    parser.add_argument("--chunk", type=int, default=20_000, help="queries per call of each model")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    adapter = ADAPTERS[args.method]
    scales = [float(s) for s in args.scales.split(",")]
    print("| weights | scale | stage | ours vs authors' | the same, shared make_coord | authors' "
          "float32 vs their float64 | ours vs their float64 | 8-bit levels | max abs output |")
    print("|---|---|---|---|---|---|---|---|---|")
    with official_package(args.official.resolve()) as models, tempfile.TemporaryDirectory() as tmp:
        if args.checkpoint:
            if args.image is None:
                parser.error("--checkpoint needs --image")
            box = tuple(int(v) for v in args.box.split(","))
            runs = [(f"{args.checkpoint.name}", *trained_weights(adapter, models, args.checkpoint),
                     crop_lr(args.image, box, s), s) for s in scales]  # type: ignore[arg-type]
        else:
            width = tuple(int(v) for v in args.width.split(","))
            lr = torch.rand(1, 3, args.lr, args.lr, generator=torch.Generator().manual_seed(args.seed + 1)) * 2 - 1
            runs = []
            for n in (int(v) for v in args.stages.split(",")):
                official, ours = random_weights(adapter, models, n, width, args.seed, Path(tmp))  # type: ignore[arg-type]
                runs += [(f"random, {n}-stage model", official, ours, lr, s) for s in scales]
        for label, official, ours, lr, scale in runs:
            res = compare(official, ours, adapter, lr, scale, args.chunk)
            for k in range(len(res["range"])):
                diffs = " | ".join(f"{res[key][k]:.2e}" for key in
                                   ("official_coords", "shared_coords", "float32_noise", "ours_vs_float64"))
                print(f"| {label} | ×{scale:g} {res['note']} | {k + 1} | {diffs} | "
                      f"{res['levels'][k]:.0f} | {res['range'][k]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
