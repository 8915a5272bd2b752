"""Entry point of ``python -m training``."""

import os
import sys

from training.cli import main
from training.distributed import launched

code = main()
if launched():
    # Under torchrun, leave without finalizing the interpreter: gloo's worker threads may still
    # be releasing the tensors of the last collective, which takes the GIL, and a thread that
    # asks for the GIL while the interpreter finalizes ends in std::terminate (SIGABRT, 1 run in
    # 20–40 on a loaded 2-core machine). Everything the run writes is closed by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
raise SystemExit(code)
