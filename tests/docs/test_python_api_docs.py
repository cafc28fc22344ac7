"""docs/python-api.md and the README's "From Python" run as written, and the route table of the
guide names every control-plane route and an `EmulatorController` method for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import EmulatorController
from together_eval_emulator.http._routes import CONTROL_ROUTES

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "python-api.md"


def section(text: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level (a `#` line
    inside a code block is a comment, not a heading)."""
    level = len(heading.split(" ", 1)[0])
    lines, fenced = [], False
    for line in text.split(heading + "\n", 1)[1].splitlines(keepends=True):
        fenced ^= line.startswith("```")
        marks = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < marks <= level and line[marks : marks + 1] == " ":
            break
        lines.append(line)
    return "".join(lines)


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def run(blocks: list[str], namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    namespace = {} if namespace is None else namespace
    for number, block in enumerate(blocks):
        exec(compile(block, f"<block {number + 1}>", "exec"), namespace)
    return namespace


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples write data.jsonl and state.json into the working directory."""
    monkeypatch.chdir(tmp_path)


def test_the_session_runs_in_order() -> None:
    guide = GUIDE.read_text()
    blocks = python_blocks(section(guide, "## A session, step by step"))
    assert len(blocks) == 8
    namespace: dict[str, Any] = {}
    try:
        run(blocks, namespace)
    finally:
        if "mock" in namespace:
            namespace["mock"].stop()  # a failing block leaves the router active otherwise
    assert namespace["emu"].seed() == 7


@pytest.mark.parametrize("heading", ["## Models and plain dicts", "## Errors"])
def test_the_standalone_examples_run(heading: str) -> None:
    blocks = python_blocks(section(GUIDE.read_text(), heading))
    assert blocks
    run(blocks)


def test_the_readme_from_python_example_runs() -> None:
    readme = (REPO / "README.md").read_text()
    (block,) = python_blocks(section(readme, "### From Python"))
    assert "emu.state" not in block and "emu.jobs." not in block  # the controller only
    run([block])


def test_the_route_table_covers_the_control_plane() -> None:
    table = section(GUIDE.read_text(), "## Route to method")
    rows = re.findall(r"^\| `(GET|POST|PUT|DELETE) (/_emulator/[^`]*)` \| (.*?) \|", table, flags=re.M)
    assert {f"{method} {path}" for method, path, _ in rows} == {f"{r.method} {r.path}" for r in CONTROL_ROUTES}
    for _, _, methods in rows:
        for name in re.findall(r"`(\w+)\(", methods):
            assert callable(getattr(EmulatorController, name, None)), name
