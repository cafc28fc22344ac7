"""docs/python-api.md and the "From Python" section of docs/scenarios.md run as written, and the route
table of the guide names every control-plane route and an `EmulatorController` method for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from docs_support import REPO, runnable_blocks, section
from together_eval_emulator import EmulatorController
from together_eval_emulator.http._routes import CONTROL_ROUTES

GUIDE = REPO / "docs" / "python-api.md"
RUN_HEADINGS = ["## A session, step by step", "## Models and plain dicts", "## Errors"]


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


@pytest.mark.parametrize("heading", RUN_HEADINGS[1:])
def test_the_standalone_examples_run(heading: str) -> None:
    blocks = python_blocks(section(GUIDE.read_text(), heading))
    assert blocks
    run(blocks)


def test_the_scenarios_from_python_example_runs() -> None:
    guide = (REPO / "docs" / "scenarios.md").read_text()
    (block,) = python_blocks(section(guide, "## From Python"))
    assert "emu.state" not in block and "emu.jobs." not in block  # the controller only
    run([block])


def test_every_python_block_of_the_pages_is_run_above() -> None:
    run_here = [block for heading in RUN_HEADINGS for block in python_blocks(section(GUIDE.read_text(), heading))]
    assert sorted(run_here) == sorted(block.source for block in runnable_blocks("docs/python-api.md"))
    assert [block.source for block in runnable_blocks("docs/scenarios.md")] == python_blocks(
        section((REPO / "docs" / "scenarios.md").read_text(), "## From Python")
    )


def test_the_route_table_covers_the_control_plane() -> None:
    table = section(GUIDE.read_text(), "## Route to method")
    rows = re.findall(r"^\| `(GET|POST|PUT|DELETE) (/_emulator/[^`]*)` \| (.*?) \|", table, flags=re.M)
    assert {f"{method} {path}" for method, path, _ in rows} == {f"{r.method} {r.path}" for r in CONTROL_ROUTES}
    for _, _, methods in rows:
        for name in re.findall(r"`(\w+)\(", methods):
            assert callable(getattr(EmulatorController, name, None)), name
