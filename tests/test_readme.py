"""The README's two set-up commands stay true: CI runs the test one, the demo image exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> dict[str, str]:
    """The commands under ``# 1. …`` and ``# 2. …`` in the README's first bash block."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    found = re.findall(r"^# (\d)\. (.*)\n(.+)$", block, re.M)
    return {title: command for _, title, command in found}


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert list(commands) == ["launch the viewer on the bundled demo image", "run the tests"]
    assert commands["launch the viewer on the bundled demo image"].endswith("python main.py")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert setup_commands()["run the tests"] in ci


def test_the_demo_image_ships():
    from app.launch import demo_image  # the viewer's own lookup

    assert Path(demo_image()).is_file()
