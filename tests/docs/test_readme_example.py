"""The README's "A complete example" runs as written against a live server (together 3.x)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text()
    section = text[text.index("## A complete example") : text.index("## The server:")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]


def test_the_complete_example_runs(tmp_path: Path) -> None:
    server = EmulatorServer(Emulator(clock="manual")).start()
    try:
        source = example().replace('URL = "http://127.0.0.1:8000"', f'URL = "{server.url}"')
        assert server.url in source
        (tmp_path / "example.py").write_text(source)
        done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "pending"
    assert lines[1].startswith("completed ")
    assert "'evaluation_successful': True" in lines[2]
