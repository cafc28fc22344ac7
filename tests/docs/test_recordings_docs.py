"""docs/recordings.md runs as written: its test file passes under the plugin alone, and its
`[[recordings]]` table reads the files it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from docs_support import REPO, runnable_blocks
from together_eval_emulator.faces._configfile import load_config_file

pytest_plugins = ["pytester"]

PAGE = "docs/recordings.md"
NO_OTHER_PLUGINS = ["-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider"]


def test_the_test_file_passes(pytester: pytest.Pytester) -> None:
    (block,) = runnable_blocks(PAGE)
    assert block.test_file == "test_replay.py"
    pytester.makepyfile(test_replay=block.source)
    result = pytester.runpytest_inprocess(*NO_OTHER_PLUGINS)
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.source, re.M)))


def test_the_config_table_reads_the_files_it_names(tmp_path: Path) -> None:
    (table,) = re.findall(r"^```toml\n(.*?)^```", (REPO / PAGE).read_text(), re.S | re.M)
    (tmp_path / "recordings").mkdir()
    job = {"type": "compare", "status_updates": [{"status": "pending", "timestamp": "2025-06-30T12:50:40Z"}]}
    (tmp_path / "recordings" / "incident.json").write_text(json.dumps(job))
    (tmp_path / "recordings" / "incident-results.jsonl").write_text('{"final_decision": "B"}\n')
    (tmp_path / "emulator.toml").write_text(table)
    assert load_config_file(tmp_path / "emulator.toml") == {
        "recordings": [{"name": "incident", "job": job, "result_file": '{"final_decision": "B"}\n'}]
    }
