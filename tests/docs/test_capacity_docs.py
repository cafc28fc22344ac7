"""docs/capacity.md runs as written: its test file passes under the plugin alone, its script prints
what the page says against a live server, and its `[capacity]` table is the two settings."""

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


def test_the_test_file_passes(pytester: pytest.Pytester) -> None:
    (block,) = [block for block in runnable_blocks(PAGE) if block.test_file]
    assert block.test_file == "test_batch_waits.py"
    pytester.makepyfile(test_batch_waits=block.source)
    result = pytester.runpytest_inprocess(*NO_OTHER_PLUGINS)
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.source, re.M)))


def test_the_script_prints_what_the_page_says(tmp_path: Path) -> None:
    (block,) = [block for block in runnable_blocks(PAGE) if not block.test_file]
    (printed,) = fenced("text")
    assert run_script(block.source, tmp_path) == printed


def test_the_capacity_table_is_the_two_settings(tmp_path: Path) -> None:
    (table,) = fenced("toml")
    path = tmp_path / "emulator.toml"
    path.write_text(table)
    assert load_config_file(path) == {"max_running_per_tenant": 5, "max_running": 20}
