"""docs/persistence.md: its Python example runs as written, and the refusal it quotes is what
`serve --workers 2` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docs_support import REPO, clean_env, run_script, runnable_blocks

PAGE = "docs/persistence.md"


def test_the_python_example_restarts_from_the_file(tmp_path: Path) -> None:
    (block,) = runnable_blocks(PAGE)
    assert run_script(block.source, tmp_path) == "3 2026-01-01T01:00:00.000000Z 1\n"
    assert (tmp_path / "state.db").is_file()


def test_the_quoted_workers_refusal_is_what_serve_prints() -> None:
    quoted = next(
        line.removeprefix("together-eval-emulator: ")
        for line in (REPO / PAGE).read_text().splitlines()
        if line.startswith("together-eval-emulator: --workers")
    )
    done = subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert done.returncode == 2 and done.stderr == f"together-eval-emulator: {quoted}\n"
