"""Data and helpers shared by the plugin's tests: one evaluation case per type, and a Python
interpreter that has together==1.5.35 (which cannot be imported beside together 3.x)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.together15 import together15_python as find_together15_python

REPO = Path(__file__).resolve().parents[2]

JUDGE = {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "model_source": "serverless"}

# type -> (dataset rows, parameters without input_data_file_path). Every column is used (the column-use rule).
EVAL_CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "classify": (
        [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(5)],
        {
            "judge": {**JUDGE, "system_template": "Is the answer to {{prompt}} helpful?"},
            "labels": ["helpful", "unhelpful"],
            "pass_labels": ["helpful"],
            "model_to_evaluate": "response",
        },
    ),
    "score": (
        [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(4)],
        {
            "judge": {**JUDGE, "system_template": "Rate the answer to {{prompt}} from 1 to 10."},
            "min_score": 1,
            "max_score": 10,
            "pass_threshold": 6,
            "model_to_evaluate": "response",
        },
    ),
    "compare": (
        [{"prompt": f"Question {i}?", "a": f"First {i}.", "b": f"Second {i}."} for i in range(3)],
        {
            "judge": {**JUDGE, "system_template": "Which answer to {{prompt}} is better?"},
            "model_a": "a",
            "model_b": "b",
        },
    ),
}


def together15_python() -> str:
    """A Python interpreter with together==1.5.35 (see tests/together15.py)."""
    return str(find_together15_python())
