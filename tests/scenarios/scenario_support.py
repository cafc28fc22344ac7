"""Helpers for the scenario and fault tests: the face-parametrised client of tests/support.py, with
a judge that reads both dataset columns and the parameters these tests share."""

from __future__ import annotations

from typing import Any

from tests.support import (  # noqa: F401
    BASE,
    KEY,
    Api,
    CoreFace,
    Reply,
    ServerFace,
    classify_params as support_classify_params,
    jsonl,
    make_face,
    qa_rows,
)

JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}} {{response}}"}


def classify_params(file_id: str, **extra: Any) -> dict[str, Any]:
    return support_classify_params(file_id, **{"judge": JUDGE, **extra})


def score_params(file_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "input_data_file_path": file_id,
        "judge": JUDGE,
        "min_score": 1,
        "max_score": 10,
        "pass_threshold": 6,
        "model_to_evaluate": "response",
        **extra,
    }


def compare_params(file_id: str, **extra: Any) -> dict[str, Any]:
    judge = dict(JUDGE, system_template="Compare answers to {{prompt}}")
    return {"input_data_file_path": file_id, "judge": judge, "model_a": "response", "model_b": "other", **extra}


def compare_rows(n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"Question {i}?", "response": f"Answer {i}.", "other": f"Other {i}."} for i in range(n)]


def statuses(job: dict[str, Any]) -> list[str]:
    return [update["status"] for update in job["status_updates"]]
