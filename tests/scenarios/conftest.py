"""Fixtures for scenario and fault tests: a fresh emulator per test, through either face."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helpers are a plain module, whatever pytest's import mode
    sys.path.insert(0, str(HERE))

from scenario_support import Api, make_face  # noqa: E402
from together_eval_emulator import Emulator  # noqa: E402
from together_eval_emulator.faces._server import EmulatorServer  # noqa: E402

from tests.together15 import together15_python_or_fail  # noqa: E402

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


@pytest.fixture(scope="session")
def python15() -> Path:
    """An interpreter with together==1.5.35 (see tests/together15.py); never skipped."""
    return together15_python_or_fail()
