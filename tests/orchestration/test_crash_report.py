"""A command that crashes in native code says where every thread was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CRASH = """
import ctypes, sys
from orchestration import cli
cli.main(["check", "--config", sys.argv[1]])
ctypes.string_at(0)  # what a fault in DuckDB or Arrow would do
"""


def test_a_segmentation_fault_prints_each_threads_stack(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    result = subprocess.run(
        [sys.executable, "-c", CRASH, str(tmp_path / "absent.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == -11, (result.returncode, result.stderr[-2000:])
    assert "absent.yml" in result.stdout  # the command ran, and said what it could not read
    assert "Fatal Python error: Segmentation fault" in result.stderr, result.stderr[-2000:]
    assert 'File "<string>", line 5 in <module>' in result.stderr, result.stderr[-2000:]
