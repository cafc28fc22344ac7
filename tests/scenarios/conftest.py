"""Fixtures for scenario and fault tests: a fresh emulator per test, through either face."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helpers are a plain module, whatever pytest's import mode
    sys.path.insert(0, str(HERE))

from scenario_support import Api, make_face  # noqa: E402

from emulator import Emulator  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402

REPO_ROOT = HERE.parents[1]


@pytest.fixture(params=["core", "server"])
def api(request: pytest.FixtureRequest) -> Api:
    """A fresh emulator (manual clock, seed 0) through the in-process core or the Starlette app."""
    return make_face(request.param)


@pytest.fixture
def core_api() -> Api:
    return make_face("core")


@pytest.fixture
def server_api() -> Api:
    return make_face("server")


@pytest.fixture
def live() -> Iterator[EmulatorServer]:
    """A live uvicorn server on a free port with a real clock (faults need a real socket)."""
    server = EmulatorServer(Emulator(clock="real")).start()
    try:
        yield server
    finally:
        server.stop()


def together15_python() -> Path | None:
    """An interpreter with together==1.5.35: $TOGETHER15_PYTHON, /work/venv15, or the contract venv."""
    candidates = [os.environ.get("TOGETHER15_PYTHON"), "/work/venv15/bin/python",
                  str(REPO_ROOT / ".venvs" / "together-1.5.35" / "bin" / "python")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def python15() -> Path:
    python = together15_python()
    if python is None:
        pytest.skip("no interpreter with together==1.5.35 (set TOGETHER15_PYTHON, or run tests/contract once "
                    "to build .venvs/together-1.5.35)")
    return python
