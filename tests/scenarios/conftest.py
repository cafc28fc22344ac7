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
from together_eval_emulator.engine._config import EmulatorConfig  # noqa: E402
from together_eval_emulator.faces._server import EmulatorServer  # noqa: E402
from together_eval_emulator.stores._factory import open_store  # noqa: E402

from tests.stores.redis_support import redis_server, redis_url  # noqa: E402, F401 (fixtures)
from tests.stores.store_support import STORE_KINDS, RestartingFace, store_url  # noqa: E402
from tests.together15 import together15_python_or_fail  # noqa: E402

REPO_ROOT = HERE.parents[1]


@pytest.fixture(params=["core", "server", "sqlite-restarts"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A fresh emulator (manual clock, seed 0) through the in-process core, the Starlette app, or the
    core over a SQLite store restarted before every request (each answer must be the same)."""
    if request.param != "sqlite-restarts":
        yield make_face(request.param)
        return
    face = RestartingFace(store_url("sqlite", request, tmp_path), EmulatorConfig(clock="manual"))
    yield Api(face)  # type: ignore[arg-type]
    face.emulator.store.close()


@pytest.fixture
def core_api() -> Api:
    return make_face("core")


@pytest.fixture
def server_api() -> Api:
    return make_face("server")


@pytest.fixture(params=STORE_KINDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorServer]:
    """A live uvicorn server on a free port with a real clock (faults need a real socket), over each store."""
    emulator = Emulator(clock="real", store=open_store(store_url(request.param, request, tmp_path)))
    server = EmulatorServer(emulator).start()
    try:
        yield server
    finally:
        server.stop()
        emulator.store.close()


@pytest.fixture(scope="session")
def python15() -> Path:
    """An interpreter with together==1.5.35 (see tests/together15.py); never skipped."""
    return together15_python_or_fail()
