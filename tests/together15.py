"""A Python interpreter with together==1.5.35, which cannot be imported beside together 3.x:
$TOGETHER15_PYTHON, else a virtual environment built once under <repo>/.venvs/together-1.5.35
(a file lock keeps parallel builders from colliding). Never skipped: failing to get one is an error."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

VERSION = "1.5.35"
REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venvs" / f"together-{VERSION}"


class Together15Unavailable(RuntimeError):
    """No interpreter with together==1.5.35 could be found or built."""


def installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    try:
        probe = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('together'))"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def _build() -> None:
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"together=={VERSION}",
        ],
    ]
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            raise Together15Unavailable(
                f"could not build {VENV}: {' '.join(command)} exited {done.returncode}\n{done.stderr[-3000:]}\n"
                f"Set TOGETHER15_PYTHON to an interpreter that has together=={VERSION} installed."
            )


@lru_cache(maxsize=1)
def together15_python() -> Path:
    given = os.environ.get("TOGETHER15_PYTHON")
    if given:
        if installed_version(Path(given)) != VERSION:
            raise Together15Unavailable(f"TOGETHER15_PYTHON={given} is not a Python with together=={VERSION}.")
        return Path(given)
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"together-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version(python) != VERSION:
            _build()
    if installed_version(python) != VERSION:
        raise Together15Unavailable(f"built {VENV} but it does not have together=={VERSION}.")
    return python


def together15_python_or_fail() -> Path:
    """`together15_python()` for a fixture: an unavailable interpreter fails the test with the reason."""
    import pytest

    try:
        return together15_python()
    except Together15Unavailable as exc:
        pytest.fail(str(exc), pytrace=False)
