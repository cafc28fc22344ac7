"""docs/polling.md runs as written and shows what the emulator says: its pytest file passes (run by
pytester), the failure message and the session report it quotes are what a run prints, and its HTTP
script prints the report the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_support import REPO, run_script, runnable_blocks

pytest_plugins = ["pytester"]

PAGE = "docs/polling.md"
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")
CAUGHT = re.compile(
    r"    with pytest\.raises\(AssertionError, match=[^\n]*\n        (together_emulator\.assert_polling)"
)


def text_blocks(fence: str) -> list[str]:
    return re.findall(rf"^```{fence}\n(.*?)^```", (REPO / PAGE).read_text(), re.S | re.M)


def quoted_lines(block: str) -> list[str]:
    """The lines of a quoted output the run must print, the elisions (`...`) left out."""
    return [line for line in block.splitlines() if line.strip() != "..."]


def test_the_pytest_example_passes_and_prints_the_quoted_report(pytester: pytest.Pytester) -> None:
    pytest_file, _ = runnable_blocks(PAGE)
    assert pytest_file.test_file == "test_polling.py"
    pytester.makepyfile(test_polling=pytest_file.source)
    result = pytester.runpytest_inprocess("--together-emulator-polling-report", *QUIET)
    result.assert_outcomes(passed=3)
    _, session_report = text_blocks("text")
    printed = result.stdout.lines
    for line in quoted_lines(session_report):
        assert line in printed, line


def test_the_quoted_failure_message_is_what_the_busy_loop_gets(pytester: pytest.Pytester) -> None:
    pytest_file, _ = runnable_blocks(PAGE)
    uncaught, replaced = CAUGHT.subn(r"    \1", pytest_file.source)
    assert replaced == 1
    pytester.makepyfile(test_polling=uncaught)
    result = pytester.runpytest_inprocess("-k", "busy", *QUIET)
    result.assert_outcomes(failed=1, deselected=2)
    message, _ = text_blocks("text")
    printed = [line.removeprefix("E").strip().removeprefix("AssertionError: ") for line in result.stdout.lines]
    for line in quoted_lines(message):
        assert line.strip() in printed, line


def test_the_http_script_prints_the_documented_report(tmp_path: Path) -> None:
    _, script = runnable_blocks(PAGE)
    (documented,) = text_blocks("json")
    assert run_script(script.source, tmp_path) == documented
