"""docs/lifecycle-paths.md runs as written and shows what a run prints: its client that handles every
end survives every path, its happy-path client fails as quoted, and its HTTP script prints what the
page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_support import REPO, run_script, runnable_blocks

pytest_plugins = ["pytester"]

PAGE = "docs/lifecycle-paths.md"
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")


def text_blocks() -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", (REPO / PAGE).read_text(), re.S | re.M)


def assert_printed(block: str, printed: list[str]) -> None:
    """Every line of a quoted output, but the elisions (`...`), is a line the run printed."""
    for line in block.splitlines():
        if line != "...":
            assert line in printed, line


def test_a_client_that_handles_every_end_survives_every_path(pytester: pytest.Pytester) -> None:
    block = runnable_blocks(PAGE)[0]
    assert block.test_file == "test_eval_paths.py"
    pytester.makepyfile(test_eval_paths=block.source)
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=13)
    assert_printed(text_blocks()[0], result.stdout.lines)


def test_the_happy_path_client_fails_as_quoted(pytester: pytest.Pytester) -> None:
    block = runnable_blocks(PAGE)[1]
    assert block.test_file == "test_happy_path_only.py"
    pytester.makepyfile(test_happy_path_only=block.source)
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=1, failed=2)
    assert_printed(text_blocks()[1], result.stdout.lines)


def test_the_http_script_prints_what_the_page_says(tmp_path: Path) -> None:
    script = runnable_blocks(PAGE)[2]
    assert run_script(script.source, tmp_path) == text_blocks()[2]
