"""README.md: its two examples run as written (the first run against the server the quickstart starts,
with its embedded defaults; the pytest file through the plugin), and it stays a short front page whose
set-up commands are the ones CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import together  # noqa: F401  imported once here, so the in-process sub-run does not import it again
from docs_support import REPO, SERVER_URL, clean_env, runnable_blocks, served

pytest_plugins = ["pytester"]

README = REPO / "README.md"
TEST_COMMAND = "python -m pip install -e '.[test]' && python -m pytest"
SERVE_COMMAND = "python -m pip install . && together-eval-emulator serve"


def test_the_readme_is_a_short_front_page() -> None:
    text = README.read_text()
    assert len(text.splitlines()) < 200
    lines = text.splitlines()
    assert TEST_COMMAND in lines and SERVE_COMMAND in lines  # the two set-up commands, each on its own line
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text().splitlines()
    assert not re.search(r"\bD(10|[1-9])\b", text)  # no decision ids of documents outside the project


def test_the_blocks_are_one_script_and_one_test_file() -> None:
    blocks = runnable_blocks("README.md")
    assert len(blocks) == 2
    assert blocks[0].test_file is None and SERVER_URL in blocks[0].source
    assert blocks[1].test_file == "test_first_eval.py"


def test_the_first_run_works_against_the_quickstart_server(tmp_path: Path) -> None:
    script = runnable_blocks("README.md")[0].source
    with served() as url:  # `together-eval-emulator serve`, no options: a real clock
        (tmp_path / "first_run.py").write_text(script.replace(SERVER_URL, url))
        done = subprocess.run(
            [sys.executable, "first_run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=clean_env()
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "pending"
    assert re.fullmatch(r"completed \{'correct': \d, 'incorrect': \d\}", lines[1])
    assert lines[2] == "2"


def test_the_pytest_example_passes(pytester: pytest.Pytester) -> None:
    block = runnable_blocks("README.md")[1]
    pytester.makepyfile(**{"test_first_eval": block.source})
    result = pytester.runpytest_inprocess(
        "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
