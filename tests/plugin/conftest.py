"""Fixtures of the plugin's tests (the data and the venv helper live in `plugin_support`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from plugin_support import EVAL_CASES, together15_python


@pytest.fixture
def write_dataset(tmp_path: Path) -> Callable[[str], Path]:
    """Write the dataset of an evaluation type to a JSONL file and return its path."""

    def write(eval_type: str) -> Path:
        path = tmp_path / f"{eval_type}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in EVAL_CASES[eval_type][0]))
        return path

    return write


@pytest.fixture(scope="session")
def python15() -> str:
    """Path of a Python with together==1.5.35 (built on first use; never skipped)."""
    return together15_python()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the together SDK's async client does not support trio)."""
    return "asyncio"
