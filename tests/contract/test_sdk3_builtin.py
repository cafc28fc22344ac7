"""The real `together==3.1.1` client and the built-in datasets: it lists and reads them with strict
response validation, runs a real-contract job on one, and never sees a documented-only field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

together = pytest.importorskip("together")

from together_eval_emulator import Emulator  # noqa: E402
from together_eval_emulator.documented._api import DOCUMENTED_ONLY_FIELDS  # noqa: E402
from together_eval_emulator.engine import _builtin_datasets as builtin_datasets  # noqa: E402
from together_eval_emulator.faces._server import EmulatorServer  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "datasets"
DATASET = "reasoning-benchmark-v1"


@pytest.fixture
def served() -> Iterator[tuple[Emulator, Any]]:
    emulator = Emulator(clock="manual")
    server = EmulatorServer(emulator).start()
    try:
        client = together.Together(api_key="sdk3-key", base_url=server.url, _strict_response_validation=True)
        yield emulator, client
        client.close()
    finally:
        server.stop()


def real_parameters(name: str) -> dict[str, Any]:
    """The README's example: every column is referenced, so the column-use rule is satisfied."""
    d = builtin_datasets.get(name).defaults  # type: ignore[union-attr]
    return {
        "input_data_file_path": name,
        "judge": {
            "model": "openai/gpt-oss-120b",
            "model_source": "serverless",
            "system_template": d.judge_system_template,
        },
        "labels": ["correct", "incorrect"],
        "pass_labels": ["correct"],
        "model_to_evaluate": {
            "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "model_source": "serverless",
            "max_tokens": 512,
            "temperature": 0.2,
            "system_template": d.model_system_template,
            "input_template": d.model_input_template,
        },
    }


def test_the_sdk_lists_retrieves_and_downloads_the_builtins(served: tuple[Emulator, Any]) -> None:
    _, client = served
    listed = client.files.list().data  # strict: valid FileResponse objects
    assert [f.id for f in listed] == list(builtin_datasets.names())
    assert all(f.purpose == "eval" and f.file_type == "jsonl" and f.filename == f"{f.id}.jsonl" for f in listed)
    retrieved = client.files.retrieve(DATASET)
    content = client.files.content(DATASET).read()
    assert content == (FIXTURES / f"{DATASET}.jsonl").read_bytes()
    assert retrieved.bytes == len(content)


def test_a_builtin_cannot_be_deleted(served: tuple[Emulator, Any]) -> None:
    _, client = served
    with pytest.raises(together.PermissionDeniedError) as raised:
        client.files.delete(DATASET)
    assert raised.value.status_code == 403 and "cannot be deleted" in str(raised.value)
    assert DATASET in [f.id for f in client.files.list().data]


def test_a_real_job_on_a_builtin_dataset_shows_only_real_shapes(served: tuple[Emulator, Any]) -> None:
    emulator, client = served
    created = client.evals.with_raw_response.create(type="classify", parameters=real_parameters(DATASET))
    assert set(json.loads(created.http_response.content)) == {"workflow_id", "status"}
    job_id = created.parse().workflow_id
    assert client.evals.status(job_id).status == "pending"
    emulator.advance(3600)
    status = client.evals.with_raw_response.status(job_id)
    assert set(json.loads(status.http_response.content)) == {"status", "results"}
    assert status.parse().status == "completed"
    job = client.evals.with_raw_response.retrieve(job_id)
    raw = json.loads(job.http_response.content)
    assert not DOCUMENTED_ONLY_FIELDS & set(raw)
    assert job.parse().parameters["input_data_file_path"] == DATASET
    listed = json.loads(client.evals.with_raw_response.list().http_response.content)
    assert not DOCUMENTED_ONLY_FIELDS & set(listed[0])
    rows = client.files.content(raw["results"]["result_file_id"]).read().decode().splitlines()
    assert len(rows) == builtin_datasets.get(DATASET).rows  # type: ignore[union-attr]
    assert set(json.loads(rows[0])) == {
        "question",
        "options",
        "reference_answer",
        "category",
        "MODEL_TO_EVALUATE_OUTPUT",
        "evaluation_successful",
        "label",
        "feedback",
    }


def test_the_documented_create_is_reachable_through_the_sdk_raw_post(served: tuple[Emulator, Any]) -> None:
    """3.x has no `evaluation_type` argument; docs-style code can still post the documented body."""
    emulator, client = served
    created = client.post(
        "/v1/evaluation",
        cast_to=object,
        body={"model": "meta-llama/Llama-3.2-3B-Instruct-Turbo", "evaluation_type": "classify", "dataset": DATASET},
    )
    assert created["status"] == "pending" and created["id"] == created["workflow_id"]  # type: ignore[index]
    emulator.advance(3600)
    job = client.evals.retrieve(created["id"])  # type: ignore[index]
    assert job.status == "completed" and job.type == "classify"
    extras = job.model_extra or {}
    assert extras["dataset"] == DATASET and 0 <= extras["score"] <= 1
    assert set(extras["metrics"]) == {"accuracy", "precision", "recall", "f1_score", "categories"}
