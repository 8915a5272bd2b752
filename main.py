"""ZoomSR entry point: the viewer, or a command-line tool when the first word is a command.

    python main.py [IMAGE] [viewer options]       the viewer (demo image without IMAGE)
    python main.py upscale IN -o OUT --scale S    upscale a file
    python main.py methods [--json]               list methods and their weights
    python main.py import OFFICIAL.pth --method M import the authors' official weights
    python main.py --version                      the version (sr_core.__version__)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--version"]:
        from sr_core import __version__

        print(f"ZoomSR {__version__}")
        return 0
    from sr_core import cli

    if args and args[0] in cli.COMMANDS:
        return cli.main(args)
    from app.main import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
