"""Contract tests: the real `together` SDKs and CLIs against a live emulator server.

Fixtures:

* ``live_server`` (session): starts ``python -m together_eval_emulator serve --port 0 --clock manual --seed 0``
  from the repository root, waits for its ``listening on http://…`` line and stops it at the end.
  It is parametrised by store (``STORE_KINDS`` of tests/stores/store_support.py: one server per
  store, ``--store ...``), so every contract test runs against each store; a module marked
  ``@pytest.mark.stores("memory", ...)`` runs against those only.
* ``emu`` (function): the same server, reset (``POST /_emulator/reset``) before the test. Every
  test in this directory is reset, whether or not it asks for ``emu``.
* ``advance`` (function): ``advance(seconds)`` moves the emulator clock over HTTP.
* ``together15_python`` (session): a Python interpreter with ``together==1.5.35``; from
  ``$TOGETHER15_PYTHON`` or else built once under ``<repo>/.venvs/together-1.5.35``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.stores.store_support import STORE_KINDS, store_url
from tests.together15 import together15_python_or_fail

HERE = Path(__file__).resolve().parent
REPO_ROOT = Path(__file__).resolve().parents[2]

# Test modules import the helper modules of this directory as plain modules (contract_checks,
# contract_server); this works in every pytest import mode.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from contract_server import LiveEmulator, start_emulator  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stores(*kinds): run these contract tests against these stores only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "live_server" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        kinds = list(marker.args) if marker else STORE_KINDS
        metafunc.parametrize("live_server", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    kind = request.param
    directory = tmp_path_factory.mktemp(f"emulator-server-{kind}")
    store = store_url(kind, request, directory)
    with start_emulator(directory / "server.log", "--store", store) as server:
        yield server


@pytest.fixture(autouse=True)
def emu(live_server: LiveEmulator) -> LiveEmulator:
    """The live server, reset before the test (autouse: every contract test starts clean)."""
    if live_server.proc.poll() is not None:
        pytest.fail(
            f"emulator server died (exit {live_server.proc.returncode}):\n{live_server.log_tail()}", pytrace=False
        )
    live_server.reset()
    return live_server


@pytest.fixture
def advance(emu: LiveEmulator) -> Callable[[float], Any]:
    """``advance(seconds)``: move the emulator clock forward over the control plane."""
    return emu.advance


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ----------------------------------------------------------------------------- together 1.5.35


@pytest.fixture(scope="session")
def together15_python() -> Path:
    """Path of a Python with together==1.5.35 (never this interpreter: it has together 3.x)."""
    return together15_python_or_fail()


@pytest.fixture(scope="session")
def together15_cli(together15_python: Path) -> Path:
    """The `together` console script of the 1.5.35 environment."""
    name = "together.exe" if os.name == "nt" else "together"
    cli = together15_python.parent / name
    if not cli.exists():
        pytest.fail(f"no together CLI next to {together15_python}", pytrace=False)
    return cli
