"""`mypy --strict` over the installed package's layout: `python tests/quality/typecheck.py`.

The repository keeps the design card's folders (emulator/, pytest_plugin/) while the package installs
as `together_eval_emulator` with `pytest_plugin` inside it; mypy cannot follow setuptools' editable
mapping, so this builds the package's layout from symbolic links in a temporary folder and checks it
there, with the settings of pyproject.toml's [tool.mypy]."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "together_eval_emulator"


def build_view(where: Path) -> Path:
    """`where/together_eval_emulator`: links to emulator/'s entries, plus pytest_plugin/ inside it."""
    package = where / PACKAGE
    package.mkdir()
    for entry in (ROOT / "emulator").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "pytest_plugin").symlink_to(ROOT / "pytest_plugin")
    return package


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        build_view(Path(folder))
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", PACKAGE]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env={**os.environ, "MYPYPATH": ""})
        report = done.stdout.replace(f"{PACKAGE}/pytest_plugin/", "pytest_plugin/").replace(f"{PACKAGE}/", "emulator/")
        print(report + done.stderr, end="")
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
