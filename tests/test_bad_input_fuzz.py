"""Issue 18 stays fixed: every bad input gives its exit status, one line and no traceback, leaves
no output behind and stays under a memory limit (the CLI and the headless viewer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_inputs import make_cases

ROOT = Path(__file__).resolve().parents[1]
#: address space of the process that runs every case (PyTorch and Qt included)
LIMIT_GB = 2.5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and RLIMIT_AS (POSIX)")
def test_bad_inputs_fail_cleanly_under_a_memory_limit(tmp_path):
    cases = make_cases(tmp_path)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "ZOOMSR_CONFIG_DIR": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tests.bad_inputs", str(tmp_path / "cases.json"), str(LIMIT_GB)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(cases), proc.stderr[-3000:]
    failures = []
    for r in results:
        problems = []
        if r["got"] != r["rc"]:
            problems.append(f"exit {r['got']}, expected {r['rc']}")
        if "Traceback" in r["stderr"]:
            problems.append("traceback")
        errors = [line for line in r["stderr"].splitlines() if line.startswith(("error", "zoomsr"))]
        if r["rc"] and (not errors or "\n" in r["stderr"].strip() and r["kind"] == "cli"):
            problems.append("not exactly one error line")
        if r["present"]:
            problems.append(f"left {r['present']}")
        if problems:
            failures.append(f"{' '.join(r['argv'])[-90:]}: {'; '.join(problems)}: {r['stderr'][-300:]!r}")
    assert not failures, "\n".join(failures)
    bomb = tmp_path / "out" / "bomb.png"
    assert bomb.is_file()  # 14000×14000 → 64 wide, inside the limit
