"""Write tiny random-weight checkpoints of every method, for the frozen smoke test only.

    python packaging/smoke_checkpoints.py OUT_DIR

The viewer never runs a method without trained weights, so a plain ``--selftest`` of a bundle
without shipped checkpoints renders bicubic only and never touches the network code paths of
torch that the spec might have excluded. Pointing ``ZOOMSR_CHECKPOINTS`` at OUT_DIR makes the
frozen ``--selftest`` run every architecture's real forward pass.

The files are *labelled* trained (the registry refuses anything else) but hold random weights:
they are written to a temporary folder by ``build_linux.sh`` and must never be shipped, imported
into a user's checkpoint folder or used for anything but this smoke test. Their metadata says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# tests.tiny_models: the tests' tiny configuration of every architecture, kept up to date

from sr_core import checkpoints  # noqa: E402  (needs ROOT on sys.path)
from sr_core.registry import METHODS  # noqa: E402
from tests.tiny_models import tiny_model  # noqa: E402

SMOKE_NOTE = "SMOKE TEST ONLY: random weights labelled trained so the frozen self-test runs them"


def write_all(out: Path) -> list[Path]:
    """One ``<method>.safetensors`` per method that needs weights; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, info in METHODS.items():
        if not info.needs_weights:
            continue
        model = tiny_model(info.arch)
        meta = {"method": name, "trained": True, "training": {"source": SMOKE_NOTE}}
        written.append(checkpoints.save(out / f"{name}.safetensors", model, meta))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    paths = write_all(Path(argv[0]))
    print(f"smoke checkpoints: {', '.join(p.stem for p in paths)} in {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
