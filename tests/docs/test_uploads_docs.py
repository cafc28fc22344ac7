"""docs/uploads-and-journal.md runs as written: its python block is a user test file, run by pytester
with the plugin and nothing else."""

from __future__ import annotations

import re

import pytest
from docs_support import runnable_blocks

pytest_plugins = ["pytester"]

PAGE = "docs/uploads-and-journal.md"
NO_OTHER_PLUGINS = ["-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"]


def test_the_example_passes(pytester: pytest.Pytester) -> None:
    blocks = runnable_blocks(PAGE)
    assert [block.test_file for block in blocks] == ["test_upload_and_journal.py"]
    (block,) = blocks
    pytester.makepyfile(test_upload_and_journal=block.source)
    result = pytester.runpytest_inprocess(*NO_OTHER_PLUGINS)
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.source, re.M)))
