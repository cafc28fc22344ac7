"""Recordings from the faces: the controller's methods under both fixtures, and a user's code on the
real together 3.x SDK that records a job (what `client.evals.retrieve` gave it) and replays it in a
later test, seeing every recorded status (docs/recordings.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from together import Together
from together_eval_emulator import EmulatorController

FACES = ["together_emulator", "together_emulator_server"]
ROWS = [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(6)]


@pytest.fixture(params=FACES, ids=["in_process", "live_server"])
def emu(request: pytest.FixtureRequest) -> EmulatorController:
    controller: EmulatorController = request.getfixturevalue(request.param)
    return controller


def classify(client: Together, tmp_path: Path, judge_model: str = "judge-model") -> str:
    dataset = tmp_path / "qa.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    file_id = client.files.upload(dataset, purpose="eval", check=False).id
    parameters = {
        "input_data_file_path": file_id,
        "judge": {"model": judge_model, "model_source": "serverless", "system_template": "Judge {{prompt}}"},
        "labels": ["good", "bad"],
        "pass_labels": ["good"],
        "model_to_evaluate": "response",
    }
    return client.evals.create(type="classify", parameters=parameters).workflow_id


def test_a_job_recorded_through_the_sdk_replays_status_by_status(emu: EmulatorController, tmp_path: Path) -> None:
    client = Together()
    # Record: a job that was preempted once, as the SDK retrieved it, and its result file.
    emu.add_scenario({"times": 1, "outcome": {"preemptions": 1}})
    original = classify(client, tmp_path)
    emu.run_until_complete(original)
    retrieved = client.evals.retrieve(original)
    content = client.files.content(retrieved.results.result_file_id).read()
    summary = emu.add_recording("preempted-once", retrieved, result_file=content, source="a test run")
    assert [phase.status for phase in summary.timeline] == [
        "pending",
        "queued",
        "running",
        "queued",
        "running",
        "completed",
    ]
    # Replay: a later job goes through the same statuses at the same offsets, with the same results.
    replayed = classify(client, tmp_path, judge_model="emulator/replay:preempted-once")
    seen = []
    for phase in summary.timeline:
        emu.set_clock(client.evals.retrieve(replayed).created_at)
        emu.advance(phase.offset_seconds)
        seen.append(client.evals.status(replayed).status)
    assert seen == [phase.status for phase in summary.timeline]
    again = client.evals.retrieve(replayed)
    offsets = [(u.timestamp - again.status_updates[0].timestamp).total_seconds() for u in again.status_updates]
    assert offsets == pytest.approx([phase.offset_seconds for phase in summary.timeline], abs=1e-6)
    assert again.results.label_counts == retrieved.results.label_counts
    assert client.files.content(again.results.result_file_id).read() == content
    assert emu.job_summary(replayed).recording == "preempted-once"


def test_the_controller_lists_and_reads_recordings(emu: EmulatorController) -> None:
    names = [recording.name for recording in emu.recordings()]
    assert names[:2] == ["example-compare-docs", "example-classify-cookbook"]
    docs = emu.recording("example-compare-docs")
    assert docs.job.type == "compare" and docs.result_file is None
    emu.add_recording(
        "stuck",
        {"type": "score", "status_updates": [{"status": "pending", "timestamp": "2025-01-01T00:00:00Z"}]},
    )
    assert emu.recordings()[-1].final == "pending"
