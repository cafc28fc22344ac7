"""The code-quality gates run with the suite, so the README's one test command checks them too:
ruff (lint and format) over the package and the tests, and mypy --strict over the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ["emulator", "pytest_plugin"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_check() -> None:
    done = run(sys.executable, "-m", "ruff", "check", *PACKAGE, "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format() -> None:
    done = run(sys.executable, "-m", "ruff", "format", "--check", *PACKAGE, "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict() -> None:
    done = run(sys.executable, str(ROOT / "tests" / "quality" / "typecheck.py"))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
