"""Contract tests: the real `together` SDKs and CLIs against a live emulator server.

Fixtures:

* ``live_server`` (session): starts ``python -m emulator serve --port 0 --clock manual --seed 0``
  from the repository root, waits for its ``listening on http://…`` line and stops it at the end.
* ``emu`` (function): the same server, reset (``POST /_emulator/reset``) before the test. Every
  test in this directory is reset, whether or not it asks for ``emu``.
* ``advance`` (function): ``advance(seconds)`` moves the emulator clock over HTTP.
* ``together15_python`` (session): a Python interpreter with ``together==1.5.35``; from
  ``$TOGETHER15_PYTHON`` or else built once under ``<repo>/.venvs/together-1.5.35``.
"""

from __future__ import annotations

import os
import sys
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = Path(__file__).resolve().parents[2]

# Test modules import the helper modules of this directory as plain modules (contract_checks,
# contract_server); this works in every pytest import mode.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from contract_server import LiveEmulator, start_emulator  # noqa: E402

TOGETHER15_VERSION = "1.5.35"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    with start_emulator(tmp_path_factory.mktemp("emulator-server") / "server.log") as server:
        yield server


@pytest.fixture(autouse=True)
def emu(live_server: LiveEmulator) -> LiveEmulator:
    """The live server, reset before the test (autouse: every contract test starts clean)."""
    if live_server.proc.poll() is not None:
        pytest.fail(f"emulator server died (exit {live_server.proc.returncode}):\n{live_server.log_tail()}",
                    pytrace=False)
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


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _together_version(python: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(python), "-c", "import together, sys; sys.stdout.write(together.version)"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "TOGETHER_NO_BANNER": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _build_venv(venv: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(_venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
         f"together=={TOGETHER15_VERSION}"],
    ]
    for cmd in steps:
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"could not build the together {TOGETHER15_VERSION} venv at {venv}: "
                        f"{' '.join(cmd)} raised {exc!r}. Set TOGETHER15_PYTHON to an interpreter "
                        f"that has together=={TOGETHER15_VERSION} installed.", pytrace=False)
        if res.returncode != 0:
            pytest.fail(f"could not build the together {TOGETHER15_VERSION} venv at {venv}: "
                        f"{' '.join(cmd)} exited {res.returncode}\nstdout:\n{res.stdout[-3000:]}\n"
                        f"stderr:\n{res.stderr[-3000:]}\nSet TOGETHER15_PYTHON to an interpreter that "
                        f"has together=={TOGETHER15_VERSION} installed.", pytrace=False)


@pytest.fixture(scope="session")
def together15_python() -> Path:
    """Path of a Python with together==1.5.35 (never this interpreter: it has together 3.x)."""
    explicit = os.environ.get("TOGETHER15_PYTHON")
    if explicit:
        python = Path(explicit)
        version = _together_version(python)
        if version != TOGETHER15_VERSION:
            pytest.fail(f"TOGETHER15_PYTHON={explicit} has together {version!r}, "
                        f"need {TOGETHER15_VERSION}", pytrace=False)
        return python

    venv = REPO_ROOT / ".venvs" / f"together-{TOGETHER15_VERSION}"
    marker = venv / ".contract-tests-ready"
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.parent / f".together-{TOGETHER15_VERSION}.lock"
    with open(lock_path, "w") as lock:
        try:  # one builder at a time (pytest-xdist workers share the cache)
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: no flock; a single worker is the common case there
            pass
        python = _venv_python(venv)
        if not (marker.exists() and _together_version(python) == TOGETHER15_VERSION):
            _build_venv(venv)
            version = _together_version(python)
            if version != TOGETHER15_VERSION:
                pytest.fail(f"built {venv} but it reports together {version!r}", pytrace=False)
            marker.write_text(TOGETHER15_VERSION + "\n")
    return python


@pytest.fixture(scope="session")
def together15_cli(together15_python: Path) -> Path:
    """The `together` console script of the 1.5.35 environment."""
    name = "together.exe" if os.name == "nt" else "together"
    cli = together15_python.parent / name
    if not cli.exists():
        pytest.fail(f"no together CLI next to {together15_python}", pytrace=False)
    return cli
