"""Bit-identical reruns, exact resume after Ctrl-C, and DDP (gloo) = one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from sr_core.checkpoints import read_metadata
from tests.training.helpers import losses, run, to_toml, weights
from training import objectives
from training.recipe import REPO_ROOT, parse


def assert_same(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def test_same_seed_same_weights_with_any_worker_count(tiny_recipe: Callable, tmp_path: Path) -> None:
    recipe = tiny_recipe("liif", steps=30)
    first = run(recipe, tmp_path / "a")
    second = run(recipe, tmp_path / "b", workers=2)
    assert_same(first.checkpoint, second.checkpoint)
    assert (losses(tmp_path / "a") == losses(tmp_path / "b")).all()


@pytest.mark.parametrize("method", ["liif", "cisrgan", "clit"])
def test_resume_after_ctrl_c_matches_uninterrupted_run(method: str, tiny_recipe: Callable,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT during step 13 of 24 (CLIT: of its second phase): the run finishes that step,
    saves its state and stops; ``resume`` then ends with the weights of an uninterrupted run
    (optimiser, discriminator, RNG and sampler position restored)."""
    recipe = tiny_recipe(method, steps=12 if method == "clit" else 24)
    whole = run(recipe, tmp_path / "whole")

    calls = {"n": 0}
    cls = objectives.GANObjective if method == "cisrgan" else objectives.L1Objective
    original = cls.step

    def interrupted_step(self: objectives.L1Objective, batch: dict) -> dict:
        calls["n"] += 1
        if calls["n"] == 13:
            signal.raise_signal(signal.SIGINT)
        return original(self, batch)

    monkeypatch.setattr(cls, "step", interrupted_step)
    stopped = run(recipe, tmp_path / "resumed")
    assert not stopped.completed
    assert not (tmp_path / "resumed" / f"{recipe.method}.safetensors").exists()
    monkeypatch.setattr(cls, "step", original)
    with pytest.raises(RuntimeError, match="--resume"):
        run(recipe, tmp_path / "resumed")
    resumed = run(recipe, tmp_path / "resumed", resume=True)
    assert resumed.completed
    assert_same(whole.checkpoint, resumed.checkpoint)
    assert (losses(tmp_path / "whole") == losses(tmp_path / "resumed")).all()


def test_two_process_gloo_ddp_matches_one_process(tiny_raw: Callable, tmp_path: Path) -> None:
    """``torchrun --nproc_per_node 2`` on the CPU (gloo), global batch 4 = 2 × 2, against one
    process with batch 4: the same global batches, gradients averaged → the same weights
    up to float rounding."""
    raw = tiny_raw("liif", steps=20)
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(raw))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "training", "train", str(config), "--out", str(tmp_path / "ddp"),
           "--device", "cpu", "--no-progress"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = run(parse(raw), tmp_path / "single")
    ddp, one = weights(tmp_path / "ddp" / "liif.safetensors"), weights(single.checkpoint)
    meta = read_metadata(tmp_path / "ddp" / "liif.safetensors")
    assert meta["training"]["world_size"] == 2
    assert ddp.keys() == one.keys()
    for key in one:
        torch.testing.assert_close(ddp[key], one[key], rtol=1e-4, atol=1e-5)
    assert len(losses(tmp_path / "ddp")) == 20  # losses averaged over both ranks
    torch.testing.assert_close(torch.tensor(losses(tmp_path / "ddp")),
                               torch.tensor(losses(tmp_path / "single")), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("argv", "code"), [(["list"], 0), (["train", "no/such-recipe"], 2)])
def test_a_torchrun_process_leaves_without_finalizing_yet_keeps_its_output_and_exit_code(
        argv: list[str], code: int) -> None:
    """Under torchrun (WORLD_SIZE > 1) ``python -m training`` ends with ``os._exit`` (gloo's
    threads could abort a finalizing interpreter): what it printed, and its exit code, survive;
    an ``atexit`` handler, which only finalization runs, does not."""
    program = ("import atexit, runpy, sys; atexit.register(lambda: print('finalized', file=sys.stderr)); "
               f"sys.argv = ['training', *{argv!r}]; runpy.run_module('training', run_name='__main__')")
    for world, finalized in (("2", False), ("1", True)):
        env = {**os.environ, "WORLD_SIZE": world,
               "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, proc.stderr
        assert ("paper/liif-edsr" in proc.stdout) == (code == 0)
        assert ("error:" in proc.stderr) == (code != 0)
        assert ("finalized" in proc.stderr) == finalized
