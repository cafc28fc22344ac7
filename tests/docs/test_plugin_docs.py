"""docs/testing.md ("Testing with pytest") runs as written: every python block that starts with a
`# test_<name>.py` line is a user test file, run by pytester with the plugin and nothing else (the one
written for together==1.5.35 in a process where `import together` is 1.5.35); the other blocks run as
scripts. Its option table names every option of the plugin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import together  # noqa: F401  imported once here, so the in-process sub-run does not import it again
from docs_support import REPO, TOGETHER15, clean_env, run_script, runnable_blocks, section, together15_site_packages

pytest_plugins = ["pytester"]

PAGE = "docs/testing.md"
NO_OTHER_PLUGINS = ["-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"]


def example_files(*, sdk15: bool) -> dict[str, str]:
    return {
        block.test_file: block.source
        for block in runnable_blocks(PAGE)
        if block.test_file and (block.directive == TOGETHER15) == sdk15
    }


def test_the_examples_are_there() -> None:
    assert {
        "test_evals_sync.py",
        "test_evals_async.py",
        "test_plain_httpx.py",
        "test_cli_subprocess.py",
        "test_polling_loop.py",
        "test_eval_journal.py",
        "test_settings.py",
    } <= set(example_files(sdk15=False))
    assert set(example_files(sdk15=True)) == {"test_evals_sdk15.py"}


def test_every_block_is_a_test_file_or_a_script() -> None:
    for block in runnable_blocks(PAGE):
        assert block.test_file or block.directive is None, block.where


def test_the_examples_pass(pytester: pytest.Pytester) -> None:
    files = example_files(sdk15=False)
    for name, source in files.items():
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_inprocess(*NO_OTHER_PLUGINS)
    result.assert_outcomes(passed=sum(len(re.findall(r"^def test_", source, re.M)) for source in files.values()))


def test_the_together15_example_passes_with_together15(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", together15_site_packages())
    monkeypatch.setenv("TOGETHER_NO_BANNER", "1")
    for name, source in example_files(sdk15=True).items():
        assert "from together import Together" in source
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_subprocess(*NO_OTHER_PLUGINS, "-p", "no:randomly", "-W", "ignore::DeprecationWarning")
    result.assert_outcomes(passed=1)


def test_the_scripts_run(tmp_path: Path) -> None:
    scripts = [block.source for block in runnable_blocks(PAGE) if not block.test_file]
    assert len(scripts) == 1 and "EmulatorMock" in scripts[0]
    assert run_script("\n".join(scripts), tmp_path).splitlines() == ["[]"]


def test_the_option_table_names_every_option(tmp_path: Path) -> None:
    """Every `--together-emulator-<name>` of `pytest --help` is a row of the table, and no row is stale."""
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:randomly"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    ).stdout
    options = {name.replace("-", "_") for name in re.findall(r"--together-emulator-([a-z-]+)", shown)}
    table = section((REPO / PAGE).read_text(), "## Configuration: marker, command line, ini")
    rows = {name for row in re.findall(r"^\| (`.*?) \|", table, re.M) for name in re.findall(r"`(\w+)`", row)}
    assert options and options == rows
