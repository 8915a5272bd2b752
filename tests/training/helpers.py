"""Helpers of the training tests: run a recipe on the CPU, read its log, write TOML."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from training.recipe import Recipe
from training.trainer import RunOptions, RunResult, train


def run(recipe: Recipe, out: Path, **opts: Any) -> RunResult:
    return train(recipe, RunOptions(out_dir=out, device="cpu", progress=False, **opts))


def losses(out: Path, key: str = "loss", phase: str | None = None) -> np.ndarray:
    """A column of ``log.csv`` (rows of one phase if given) as floats."""
    with open(out / "log.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if phase is None or r["phase"] == phase]
    return np.array([float(r[key]) for r in rows if r[key]])


def to_toml(table: dict[str, Any]) -> str:
    """A TOML document for a recipe table (scalars, lists, nested tables, arrays of tables)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in table.items() if not isinstance(v, dict) and k != "phases"]
    for k, v in table.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in v.items()]
    for phase in table.get("phases", []):
        lines += ["[[phases]]"] + [f"{kk} = {value(vv)}" for kk, vv in phase.items()]
    return "\n".join(lines) + "\n"


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))
