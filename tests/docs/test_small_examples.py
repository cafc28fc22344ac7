"""The short examples of docs/configuration.md, docs/openapi.md and docs/pytest.md run as written,
and do what the pages say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docs_support import clean_env, run_script, runnable_blocks


def sources(page: str) -> list[str]:
    return [block.source for block in runnable_blocks(page)]


def test_configuration_derives_settings_with_model_copy(tmp_path: Path) -> None:
    (source,) = sources("docs/configuration.md")
    printed = run_script(
        source + "print(float(base.running_seconds), float(emulator.config.running_seconds))\n", tmp_path
    )
    assert printed.split() == ["30.0", "1.0"]


def test_openapi_document_is_fetched_in_process(tmp_path: Path) -> None:
    (source,) = sources("docs/openapi.md")
    printed = run_script(source + "print(document['openapi'], len(document['paths']) > 30)\n", tmp_path)
    assert printed.split() == ["3.1.0", "True"]


def test_pytest_page_imports_and_unittest_example(tmp_path: Path) -> None:
    imports, unittest_example = sources("docs/pytest.md")
    run_script(imports, tmp_path)
    (tmp_path / "test_grading.py").write_text(unittest_example)
    done = subprocess.run(
        [sys.executable, "-m", "unittest", "-v", "test_grading"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Ran 2 tests" in done.stderr and "OK" in done.stderr
