"""Data and helpers shared by the plugin's tests: one evaluation case per type, and a Python
interpreter that has together==1.5.35 (which cannot be imported beside together 3.x)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TOGETHER15 = "together==1.5.35"
TOGETHER15_VENV = REPO / ".venvs" / "together-1.5.35"  # shared with tests/contract: built once
PREBUILT_VENV = Path("/work/venv15")

JUDGE = {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "model_source": "serverless"}

# type -> (dataset rows, parameters without input_data_file_path). Every column is used (D6).
EVAL_CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "classify": (
        [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(5)],
        {"judge": {**JUDGE, "system_template": "Is the answer to {{prompt}} helpful?"},
         "labels": ["helpful", "unhelpful"], "pass_labels": ["helpful"], "model_to_evaluate": "response"}),
    "score": (
        [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(4)],
        {"judge": {**JUDGE, "system_template": "Rate the answer to {{prompt}} from 1 to 10."},
         "min_score": 1, "max_score": 10, "pass_threshold": 6, "model_to_evaluate": "response"}),
    "compare": (
        [{"prompt": f"Question {i}?", "a": f"First {i}.", "b": f"Second {i}."} for i in range(3)],
        {"judge": {**JUDGE, "system_template": "Which answer to {{prompt}} is better?"},
         "model_a": "a", "model_b": "b"}),
}


def _usable(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('together'))"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.strip() == TOGETHER15.split("==")[1]


def together15_python() -> str:
    """A Python interpreter with together==1.5.35: $TOGETHER15_PYTHON, /work/venv15, or a venv built
    once under .venvs/together-1.5.35 (a file lock keeps parallel builders from colliding)."""
    given = os.environ.get("TOGETHER15_PYTHON")
    if given:
        if not _usable(Path(given)):
            raise RuntimeError(f"TOGETHER15_PYTHON={given} is not a Python with {TOGETHER15} installed.")
        return given
    prebuilt = PREBUILT_VENV / "bin" / "python"
    if _usable(prebuilt):
        return str(prebuilt)
    python = TOGETHER15_VENV / "bin" / "python"
    TOGETHER15_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(TOGETHER15_VENV.parent / "together-1.5.35.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _usable(python):
            venv.create(TOGETHER15_VENV, with_pip=True, clear=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", TOGETHER15], check=True)
    if not _usable(python):
        raise RuntimeError(f"Could not build {TOGETHER15_VENV} with {TOGETHER15}.")
    return str(python)
