"""The installed names never collide with a user's project: a project with its own `emulator/` package
and a `pytest_plugin.py` at its root runs its own tests and ours, with `python -m pytest` (which puts
the project first on sys.path) and with the `pytest` script (which does not)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = {
    "emulator/__init__.py": 'NAME = "the project\'s own emulator"\n',
    "emulator/controller.py": "def steer():\n    return 'steered'\n",
    "pytest_plugin.py": "HELPER = 'the project\\'s own pytest_plugin'\n",
    "test_own.py": """
from emulator import NAME
from emulator.controller import steer
import pytest_plugin

def test_own_modules():
    assert NAME == "the project's own emulator"
    assert steer() == "steered"
    assert pytest_plugin.HELPER == "the project's own pytest_plugin"
""",
    "test_with_fixtures.py": """
import httpx
from together import Together
from emulator import NAME

def test_in_process(together_emulator):
    assert Together().evals.list() == []
    assert NAME == "the project's own emulator"

def test_live_server(together_emulator_server):
    assert httpx.get(together_emulator_server.url + "/_emulator/health").json()["status"] == "ok"
""",
}

# Plugins of this environment that are not ours, left out to save start-up time.
QUIET = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-p",
    "no:faker",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:benchmark",
)

# What the `pytest` console script runs; started from another folder, like the script, so the
# project's folder is not put first on sys.path by Python itself.
SCRIPT = "import sys\nfrom pytest import console_main\nsys.exit(console_main())\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name, text in PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root.parent / "bin").mkdir(exist_ok=True)
    (root.parent / "bin" / "pytest_script.py").write_text(SCRIPT)
    return root


def run(project: Path, how: str, *tests: str) -> subprocess.CompletedProcess[str]:
    command = (
        [sys.executable, "-m", "pytest"] if how == "python -m pytest" else [sys.executable, "../bin/pytest_script.py"]
    )
    return subprocess.run(
        [*command, "-q", *QUIET, *tests],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("how", ["python -m pytest", "pytest"])
def test_project_tests_and_fixtures_side_by_side(project: Path, how: str) -> None:
    done = run(project, how)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


@pytest.mark.parametrize("how", ["python -m pytest", "pytest"])
def test_project_tests_without_the_fixtures(project: Path, how: str) -> None:
    done = run(project, how, "test_own.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "Error while loading plugin" not in done.stderr


def test_the_distribution_installs_no_top_level_emulator_or_pytest_plugin(tmp_path: Path) -> None:
    probe = "import importlib.util as u; print(u.find_spec('emulator'), u.find_spec('pytest_plugin'))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "None None", done.stdout + done.stderr
