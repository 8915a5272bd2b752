"""The free-memory estimate that large images are checked against, and the C allocator's settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sr_core import memory


def test_available_memory_from_meminfo(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", meminfo)
    assert memory.available_bytes() == 8000000 * 1024


def test_without_meminfo_half_the_physical_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "none")
    free = memory.available_bytes()
    assert free is None or 0 < free < 2**50


#: a second render of the same view, on a paper-size LIIF (random weights), in a process of its
#: own (the allocator's settings are process-wide): its minor page faults
SECOND_RENDER_FAULTS = """
import resource, sys, numpy as np, torch
from sr_core.methods.liif import LIIF
from sr_core.render import Renderer, SourceImage
torch.manual_seed(0)
torch.set_num_threads(1)
image = SourceImage(np.random.default_rng(0).random((48, 48, 3), dtype=np.float32))
renderer = Renderer(LIIF(), dtype=torch.bfloat16)
renderer.render(image, 192, 192)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
renderer.render(image, 192, 192)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(memory.glibc() is None, reason="the allocator settings are glibc's")
def test_a_second_render_reuses_the_memory_the_first_freed():
    env = {k: v for k, v in os.environ.items() if k not in memory.ALLOCATOR_VARIABLES}
    done = subprocess.run([sys.executable, "-c", SECOND_RENDER_FAULTS], capture_output=True, text=True,
                          env=env, timeout=300, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    # glibc's defaults: ~54,000 faults (its freed blocks went back to the system and were
    # faulted in again); kept: a few
    assert int(done.stdout) < 5_000


@pytest.mark.skipif(memory.glibc() is None, reason="the allocator settings are glibc's")
def test_the_allocator_is_tuned_unless_the_environment_tunes_it(monkeypatch):
    for name in memory.ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert memory.keep_freed_blocks()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert not memory.keep_freed_blocks()
