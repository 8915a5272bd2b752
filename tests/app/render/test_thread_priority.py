"""The model worker renders below the GUI thread's priority, its OpenMP helpers too (issue 30:
a wheel notch is painted at once while the model fills the cores); bicubic tiles do not."""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch
from app_fakes import FakeMethod, FakeProvider, settle

from app.render.thread_priority import BACKGROUND_NICE
from sr_core.coords import Queries
from sr_core.methods.base import FeatureCrop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="thread priorities are read from /proc (Linux); elsewhere Qt sets them")


def _nice(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


class Recording(FakeMethod):
    """Notes the nice value of every thread in the process while it renders."""

    def __init__(self) -> None:
        super().__init__()
        self.nice: dict[int, int] = {}
        self.own: set[int] = set()

    def query(self, fc: FeatureCrop, q: Queries) -> torch.Tensor:
        self.own.add(threading.get_native_id())
        self.nice = {int(t): _nice(int(t)) for t in os.listdir("/proc/self/task")}
        return super().query(fc, q)


def test_the_model_worker_runs_below_the_gui_thread(qtbot, make_window, image_file):
    method = Recording()
    window = make_window(FakeProvider({"fake": lambda: method}), image_file, panels=["bicubic", "fake"])
    window.view.zoom_to(4.0)
    settle(qtbot, window)
    gui = _nice(threading.get_native_id())
    if gui + BACKGROUND_NICE > 19:
        pytest.skip(f"the tests run at nice {gui}: no room below it for the worker")
    (worker,) = method.own
    assert method.nice[worker] == gui + BACKGROUND_NICE
    # its OpenMP helpers (created by its first parallel loop) inherited the priority
    lowered = [t for t, n in method.nice.items() if n == method.nice[worker]]
    assert len(lowered) >= torch.get_num_threads()
    # the GUI thread and the preview worker (bicubic tiles) keep theirs
    assert sum(n == gui for n in method.nice.values()) >= 2
