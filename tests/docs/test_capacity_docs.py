"""docs/capacity.md runs as written: its test files pass under the plugin alone, its script prints
what the page says against a live server, and its `[capacity]` tables are the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_support import REPO, run_script, runnable_blocks
from together_eval_emulator.faces._configfile import load_config_file

pytest_plugins = ["pytester"]

PAGE = "docs/capacity.md"
NO_OTHER_PLUGINS = ["-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"]


def fenced(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", (REPO / PAGE).read_text(), re.S | re.M)


@pytest.mark.parametrize("name", ["test_tenant_priority.py", "test_batch_waits.py"])
def test_the_test_files_pass(pytester: pytest.Pytester, name: str) -> None:
    (block,) = [block for block in runnable_blocks(PAGE) if block.test_file == name]
    pytester.makepyfile(**{name.removesuffix(".py"): block.source})
    result = pytester.runpytest_inprocess(*NO_OTHER_PLUGINS)
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.source, re.M)))


def test_every_test_file_of_the_page_is_run() -> None:
    names = [block.test_file for block in runnable_blocks(PAGE) if block.test_file]
    assert sorted(names) == ["test_batch_waits.py", "test_tenant_priority.py"]


def test_the_script_prints_what_the_page_says(tmp_path: Path) -> None:
    (block,) = [block for block in runnable_blocks(PAGE) if not block.test_file]
    (printed,) = fenced("text")
    assert run_script(block.source, tmp_path) == printed


def test_the_capacity_tables_are_the_settings(tmp_path: Path) -> None:
    limits, options = fenced("toml")
    path = tmp_path / "emulator.toml"
    path.write_text(limits)
    assert load_config_file(path) == {"max_running_per_tenant": 5, "max_running": 20}
    path.write_text(options)
    assert load_config_file(path) == {
        "max_running": 3,
        "max_running_per_type": {"compare": 1},
        "capacity_priority": ["team-a", "key-b"],
    }
