"""Recordings over HTTP, through every face (the in-process core, the Starlette app, and the core over
a SQLite store restarted before every request): `POST`/`GET /_emulator/recordings`, a rule that
attaches one to matching creates, the magic judge model `emulator/replay:<name>`, and what the API
then shows of the replayed job (docs/recordings.md)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from scenario_support import Api, classify_params, jsonl, qa_rows

RECORDED = {
    "workflow_id": "eval-1a2b-1762975656",
    "type": "classify",
    "status": "completed",
    "status_updates": [
        {
            "status": "pending",
            "message": "Job created and pending for processing",
            "timestamp": "2025-11-12T19:27:36.100000Z",
        },
        {"status": "queued", "message": "Job status updated", "timestamp": "2025-11-12T19:27:41.350000Z"},
        {"status": "running", "message": "Job status updated", "timestamp": "2025-11-12T19:29:06.100000Z"},
        {"status": "queued", "message": "Job status updated", "timestamp": "2025-11-12T19:29:16.100000Z"},
        {"status": "running", "message": "Job status updated", "timestamp": "2025-11-12T19:29:20.100000Z"},
        {"status": "completed", "message": "Job status updated", "timestamp": "2025-11-12T19:31:00.000001Z"},
    ],
    "results": {
        "generation_fail_count": 0,
        "invalid_label_count": 0,
        "judge_fail_count": 0,
        "label_counts": {"bad": 1, "good": 3},
        "pass_percentage": 75,
        "result_file_id": "file-15d4f346-5bd1-41a0-9a8a-7a7fa1e9a59c",
    },
}
# (status, microseconds after creation), as recorded
OFFSETS = [
    ("pending", 0),
    ("queued", 5_250_000),
    ("running", 90_000_000),
    ("queued", 100_000_000),
    ("running", 104_000_000),
    ("completed", 203_900_001),
]


def at(micros: int) -> str:
    """The emulator clock (it starts at 2026-01-01T00:00:00Z) `micros` after it starts."""
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    return f"2026-01-01T00:{minutes:02d}:{seconds:02d}.{fraction:06d}Z"


def test_a_recording_is_listed_and_read_back(api: Api) -> None:
    added = api.control("POST", "recordings", {"name": "preempted", "job": RECORDED, "source": "our prod, Nov 12"})
    assert added["name"] == "preempted" and added["final"] == "completed" and added["result_file"] is False
    assert [(p["status"], round(p["offset_seconds"] * 1_000_000)) for p in added["timeline"]] == OFFSETS
    listed = api.control("GET", "recordings")["data"]
    assert [r["name"] for r in listed if r["builtin"]][0] == "example-compare-docs"
    assert listed[-1] == added
    kept = api.control("GET", "recordings/preempted")
    assert kept["job"]["workflow_id"] == "eval-1a2b-1762975656" and kept["source"] == "our prod, Nov 12"


def test_a_rule_replays_the_recording_status_by_status(api: Api) -> None:
    api.control("POST", "recordings", {"name": "preempted", "job": RECORDED})
    api.control("POST", "scenarios", {"match": {"type": "classify"}, "recording": "preempted"})
    file_id = api.upload(jsonl(qa_rows(4)))
    job_id = api.create_id("classify", classify_params(file_id))
    for index, (status, micros) in enumerate(OFFSETS[1:], 1):
        api.control("POST", "clock/set", {"now": at(micros - 1)})
        assert api.status(job_id)["status"] == OFFSETS[index - 1][0]
        api.control("POST", "clock/set", {"now": at(micros)})
        job = api.job(job_id)
        assert job["status"] == status
        assert job["status_updates"][index]["timestamp"] == at(micros).removesuffix("Z") + "000Z"
    results = api.status(job_id)["results"]
    expected = {k: v for k, v in RECORDED["results"].items() if k != "result_file_id"}  # type: ignore[union-attr]
    assert {k: v for k, v in results.items() if k != "result_file_id"} == expected
    content = api.request("GET", f"/v1/files/{results['result_file_id']}/content").body.decode()
    assert Counter(json.loads(line)["label"] for line in content.splitlines()) == {"good": 3, "bad": 1}
    summary = api.control("GET", f"jobs/{job_id}")
    assert summary["recording"] == "preempted" and summary["timeline"][5]["at"] == at(203_900_001)[:-1] + "000Z"


def test_the_magic_model_replays_a_built_in_recording_with_its_result_file(api: Api) -> None:
    rows = [{"prompt": f"Comment {i}", "response": f"Reply {i}"} for i in range(20)]
    file_id = api.upload(jsonl(rows))
    judge = {"model": "emulator/replay:example-compare-docs", "model_source": "serverless", "system_template": "s"}
    body: dict[str, Any] = {"input_data_file_path": file_id, "judge": judge, "model_a": "prompt", "model_b": "response"}
    job_id = api.create_id("compare", body)
    api.advance(76.538992)
    assert api.status(job_id)["status"] == "running"
    api.advance(0.000001)
    status = api.status(job_id)
    assert status["status"] == "completed"
    assert (status["results"]["A_wins"], status["results"]["B_wins"], status["results"]["Ties"]) == (1, 13, 6)
    content = api.request("GET", f"/v1/files/{status['results']['result_file_id']}/content").body.decode()
    assert Counter(json.loads(line)["final_decision"] for line in content.splitlines()) == {"A": 1, "B": 13, "Tie": 6}


def test_a_recording_that_cannot_fit_the_dataset_refuses_the_create(api: Api) -> None:
    api.control("POST", "recordings", {"name": "preempted", "job": RECORDED})
    file_id = api.upload(jsonl(qa_rows(5)))
    judge = {"model": "emulator/replay:preempted", "model_source": "serverless", "system_template": "s {{prompt}}"}
    reply = api.create("classify", classify_params(file_id, judge=judge))
    assert reply.status == 400
    assert reply.json()["error"] == {
        "message": "Recording 'preempted' cannot be replayed by this job: its results cannot come from the job's "
        "rows: the recorded counts add up to 4 rows, the dataset has 5.",
        "type": "invalid_request_error",
        "param": "parameters.judge.model",
        "code": None,
    }
    assert api.request("GET", "/v1/evaluation").json() == []
