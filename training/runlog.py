"""Training logs: ``log.csv`` in the run folder, and TensorBoard events when it is installed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

FIELDS = ("phase", "step", "lr", "loss", "l1", "adv", "perceptual", "d_loss", "continuity", "it_per_s",
          "elapsed_s", "val_psnr")


class RunLog:
    """Appends rows to ``<out>/log.csv`` (a resumed run continues the same file)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / "log.csv"
        fresh = not self.path.exists()
        self._file = open(self.path, "a", newline="")  # noqa: SIM115  (closed by close())
        self._csv = csv.DictWriter(self._file, FIELDS)
        if fresh:
            self._csv.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            self._tb = None
        else:
            self._tb = SummaryWriter(str(out_dir / "tensorboard"))

    def write(self, row: dict[str, Any], global_step: int) -> None:
        self._csv.writerow({k: _fmt(v) for k, v in row.items()})
        self._file.flush()
        if self._tb is not None:
            for key, value in row.items():
                if key not in ("phase", "step") and isinstance(value, float):
                    self._tb.add_scalar(f"{row['phase']}/{key}", value, global_step)

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _fmt(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value

