"""The plugin costs a pytest run nothing until a fixture is used: loading it imports neither the
emulator nor its heavy dependencies, its static option table matches the settings model, and it
loads cleanly under `python -W error -m pytest`. (Timings: `python -m tests.benchmarks plugin_startup`.)"""

from __future__ import annotations

import pprint
import subprocess
import sys
from pathlib import Path

from together_eval_emulator.faces import _controller, _mock
from together_eval_emulator.pytest_plugin import _fixture_settings, _option_table

HEAVY = ("pydantic", "httpx", "httpcore", "respx", "starlette", "uvicorn", "faker", "jinja2", "multipart", "anyio")
OURS_HEAVY = ("engine", "http", "documented", "faces")
# The one module of those a plugin load imports: the registry the package root puts its default add-on
# in (`emulator/__init__.py`). It imports nothing at run time; the add-on loads when an emulator is built.
REGISTRY = ("together_eval_emulator.http", "together_eval_emulator.http._default_extensions")


def test_option_table_matches_the_settings_model() -> None:
    for name, expected in (
        ("OPTION_TABLE", _fixture_settings.option_table()),
        ("MARKER_DEFAULTS", _fixture_settings.marker_defaults()),
    ):
        assert getattr(_option_table, name) == expected, (
            f"pytest_plugin/_option_table.py is out of date with the settings model; replace {name} with:\n"
            + pprint.pformat(expected, width=118, sort_dicts=False)
        )
    assert _option_table.DEFAULT_API_KEY == _controller.DEFAULT_API_KEY
    assert _option_table.DEFAULT_BASE_URL == _mock.DEFAULT_BASE_URL
    assert _option_table.TEST_DEFAULTS == _mock.TEST_DEFAULTS


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    probe = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import together_eval_emulator.pytest_plugin\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded = done.stdout.split()
    heavy = [name for name in loaded if name.partition(".")[0] in HEAVY]
    ours = [
        name for name in loaded if name.split(".")[1:2] and name.split(".")[1] in OURS_HEAVY and name not in REGISTRY
    ]
    assert (heavy, ours) == ([], []), loaded


def test_the_plugin_loads_cleanly_with_warnings_as_errors(tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixtures.py").write_text(
        "from together import Together\n\n"
        "def test_in_process(together_emulator):\n    with Together() as client:\n"
        "        assert client.evals.list() == []\n\n"
        "def test_live(together_emulator_server):\n    with Together() as client:  # socket closed, not left to GC\n"
        "        assert client.evals.list() == []\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed" in done.stdout
