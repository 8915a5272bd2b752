"""Bad inputs of every kind issue 18 found, and a driver that runs them under a memory limit.

``make_cases(folder)`` writes hostile images, checkpoints and official ``.pth`` files into
``folder`` and returns the command lines to try, each with the exit status it must give.
``python -m tests.bad_inputs CASES.json LIMIT_GB`` runs them in one process (the CLI's
``main`` and the headless viewer) with its address space limited, and prints one JSON result
per case: exit status, stderr, whether the outputs that must not exist do.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import resource
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

#: the checkpoint config of the tiny LIIF the valid-looking checkpoints start from


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def black_png(width: int, height: int) -> bytes:
    """A small file that decodes to a large black RGB image (written without holding it)."""
    comp, row, parts = zlib.compressobj(9), bytes(1 + 3 * width), []
    for top in range(0, height, 256):
        parts.append(comp.compress(row * min(256, height - top)))
    parts.append(comp.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(parts)),
                     _chunk(b"IEND", b"")))


class Exploit:
    """Unpickling this would create the file it names."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


def _images(folder: Path) -> dict[str, Path]:
    import numpy as np
    from PIL import Image

    paths = {name: folder / name for name in ("text.png", "cut.png", "bomb.png", "liar.png", "ppm.png",
                                              "empty.png", "inf.tif", "pipe.png", "sparse.jpg", "ok.png")}
    paths["text.png"].write_text("not an image\n" * 100)
    ok = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), np.uint8)).save(ok, "PNG")
    paths["ok.png"].write_bytes(ok.getvalue())
    paths["cut.png"].write_bytes(ok.getvalue()[: len(ok.getvalue()) // 2])
    paths["bomb.png"].write_bytes(black_png(14000, 14000))  # 196 MP, under the 200 MP limit
    liar = bytearray(ok.getvalue())  # a header claiming 20000×20000
    ihdr = struct.pack(">II", 20000, 20000) + bytes(liar[24:29])
    liar[16:33] = ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    paths["liar.png"].write_bytes(bytes(liar))
    Image.new("RGB", (8, 8)).save(paths["ppm.png"], "PPM")
    paths["empty.png"].write_bytes(b"")
    values = np.full((16, 16), 0.5, np.float32)
    values[0, 0] = np.inf
    Image.fromarray(values, "F").save(paths["inf.tif"], "TIFF")
    os.mkfifo(paths["pipe.png"])
    with open(paths["sparse.jpg"], "wb") as f:
        f.truncate(30 * 2**30)
    return paths


def _checkpoints(folder: Path) -> dict[str, Path]:
    import torch
    from safetensors.torch import save_file

    from sr_core.checkpoints import FORMAT
    from sr_core.methods.liif import LIIF, SPEC

    torch.manual_seed(0)
    state = {k: v.contiguous() for k, v in LIIF(**SPEC.tiny).state_dict().items()}
    good = {"format": FORMAT, "arch": "liif", "method": "liif", "trained": True, "config": SPEC.tiny}
    variants: dict[str, tuple[Any, dict]] = {
        "list-meta": ([1, 2], state), "list-arch": ({**good, "arch": ["liif"]}, state),
        "dict-arch": ({**good, "arch": {"x": 1}}, state),
        "deep": ({**good, "config": {"encoder_args": {"n_resblocks": 200000}}}, state),
        "wide": ({**good, "config": {"hidden": [40000, 40000]}}, state),
        "negative": ({**good, "config": {"hidden": [-1]}}, state),
        "trained-no": ({**good, "trained": "no"}, state),
        "nan": (good, {**state, "imnet.layers.0.weight": state["imnet.layers.0.weight"] * math.nan}),
        "inf": (good, {**state, "imnet.layers.0.bias": state["imnet.layers.0.bias"] + math.inf}),
        "int": (good, {k: v.to(torch.int32) for k, v in state.items()}),
    }
    paths = {}
    for name, (meta, tensors) in variants.items():
        paths[name] = folder / f"{name}.safetensors"
        save_file(tensors, str(paths[name]), metadata={"zoomsr": json.dumps(meta)})
    paths["pickle"] = folder / "pickle.safetensors"
    paths["pickle"].write_bytes(pickle.dumps({"x": Exploit(folder / "PWNED-safetensors")}))
    return paths


def _official(folder: Path) -> dict[str, Path]:
    import torch

    from sr_core.methods.liif import LIIF, SPEC

    args = {"encoder_spec": {"name": "edsr-baseline", "args": {"n_resblocks": 1, "n_feats": 8}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": SPEC.tiny["hidden"]}}}
    sd = LIIF(**SPEC.tiny).state_dict()
    huge = {**args, "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [40000, 40000]}}}
    variants = {"nan": {"name": "liif", "args": args, "sd": {k: v * math.nan for k, v in sd.items()}},
                "int": {"name": "liif", "args": args, "sd": {k: v.to(torch.int64) for k, v in sd.items()}},
                "huge": {"name": "liif", "args": huge, "sd": {}},
                "name-list": {"name": ["liif"], "args": args, "sd": sd}}
    paths = {}
    for name, model in variants.items():
        paths[name] = folder / f"{name}.pth"
        torch.save({"model": model}, paths[name])
    paths["evil"] = folder / "evil.pth"
    paths["evil"].write_bytes(pickle.dumps({"model": Exploit(folder / "PWNED-pth")}))
    return paths


def make_cases(folder: Path) -> list[dict[str, Any]]:
    """Write the bad inputs into ``folder``; the cases: ``argv``, ``rc`` (expected exit status),
    ``kind`` (cli or viewer), ``absent`` (files that must not exist afterwards), ``env``."""
    img, ckpt, pth = _images(folder), _checkpoints(folder), _official(folder)
    out = folder / "out"
    out.mkdir()
    never = [str(folder / "PWNED-safetensors"), str(folder / "PWNED-pth")]

    def up(src: Path | str, *extra: str, rc: int = 2, dst: Path | str = out / "o.png") -> dict[str, Any]:
        absent = [str(dst)] if rc and str(dst).startswith(str(folder)) else []
        return {"kind": "cli", "rc": rc, "absent": absent, "argv": [
            "upscale", str(src), "-o", str(dst), *(extra or ("--width", "64", "--method", "bicubic"))]}

    cases = [up(img[name]) for name in ("text.png", "cut.png", "liar.png", "ppm.png", "empty.png",
                                         "pipe.png", "sparse.jpg")]
    cases += [up("/dev/zero"), up(img["bomb.png"], rc=0, dst=out / "bomb.png"),
              up(img["inf.tif"], rc=0, dst=out / "inf.png"),
              up(img["ok.png"], dst=folder / "missing" / "o.png"), up(img["ok.png"], dst="/proc/o.png"),
              up(img["ok.png"], dst="/dev/full"), up(img["ok.png"], dst=out / ("n" * 250 + ".png")),
              {**up(img["ok.png"], dst=img["ok.png"]), "absent": []},
              up(img["ok.png"], "--scale", "nan", "--method", "bicubic"),
              up(img["ok.png"], "--scale", "inf", "--method", "bicubic"),
              up(img["ok.png"], "--width", "0", "--method", "bicubic"),
              up(img["ok.png"], "--width", "8", "--method", "bicubic", "--checkpoint", str(folder / "no"))]
    cases += [up(img["ok.png"], "--scale", "2", "--method", "liif", "--checkpoint", str(path))
              for path in ckpt.values()]
    cases += [{"kind": "cli", "rc": 2, "absent": [str(out / f"{name}.safetensors")],
               "argv": ["import", str(path), "--method", "liif", "-o", str(out / f"{name}.safetensors")]}
              for name, path in pth.items()]
    cases += [{"kind": "cli", "rc": 2, "absent": [], "argv": ["import", str(pth["nan"]), "--method", "liif",
                                                              "-o", "/proc/liif.safetensors"]}]
    garbage = folder / "user-checkpoints"
    garbage.mkdir()
    for method, name in (("liif", "list-meta"), ("clit", "list-arch"), ("diif", "dict-arch"),
                         ("cisrgan", "wide"), ("ultrasr", "trained-no"), ("lte", "nan"), ("ipe", "pickle")):
        os.link(ckpt[name], garbage / f"{method}.safetensors")
    env = {"ZOOMSR_CHECKPOINTS": str(garbage)}
    cases += [{"kind": "cli", "rc": 0, "absent": [], "argv": ["methods"], "env": env},
              {"kind": "viewer", "rc": 0, "absent": [], "argv": ["--selftest"], "env": env}]
    shot = str(out / "shot.png")
    cases += [{"kind": "viewer", "rc": rc, "absent": [shot], "argv": [*argv, "--screenshot", shot]}
              for rc, argv in ((2, ["--zoom", "nan"]), (2, ["--center", "nan,nan"]), (2, ["--size", "0x0"]),
                               (2, ["--size", "30000x30000"]), (2, ["--device", "bogus"]),
                               (2, ["--timeout", "nan"]), (1, [str(img["pipe.png"])]),
                               (1, [str(img["text.png"])]))]
    cases += [{"kind": "viewer", "rc": 2, "absent": [],
               "argv": [str(img["ok.png"]), "--screenshot", "/proc/x.png"]}]
    for case in cases:
        case["absent"] = case["absent"] + never
    return cases


def _run(case: dict[str, Any]) -> dict[str, Any]:
    from main import main

    os.environ.update(case.get("env", {}))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(case["argv"])
    except SystemExit as exit_:
        rc = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - reported as the failure it is
        rc, err = "raised", io.StringIO(f"{type(exc).__name__}: {exc}")
    for key in case.get("env", {}):
        os.environ.pop(key)
    return {**case, "got": rc, "stderr": err.getvalue(),
            "present": [path for path in case["absent"] if os.path.lexists(path)]}


def drive(cases_file: str, limit_gb: float) -> None:
    """Run every case under an address-space limit; one JSON line per case on stdout."""
    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for case in json.loads(Path(cases_file).read_text()):
        print(json.dumps(_run(case)), flush=True)


if __name__ == "__main__":
    drive(sys.argv[1], float(sys.argv[2]))
