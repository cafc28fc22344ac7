"""A stored job holds little of its own (a server may keep a hundred thousand): jobs created alike
share every immutable value instead of each holding a copy, and a job record has no per-instance dict."""

from __future__ import annotations

from together_eval_emulator import Emulator

from tests.support import CoreClient, classify_params, jsonl, qa_rows

SHARED = ("parameters", "judge", "dataset", "progression", "outcome", "source", "phases")


def test_jobs_created_alike_share_their_immutable_values() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(qa_rows(5)))
    first, second = (client.create_id("classify", classify_params(file_id)) for _ in range(2))
    one, other = client.emulator.store.find_job(first), client.emulator.store.find_job(second)
    assert one is not None and other is not None and one.workflow_id != other.workflow_id
    assert [name for name in SHARED if getattr(one, name) is not getattr(other, name)] == []
    assert not hasattr(one, "__dict__")


def test_shared_phases_follow_each_job_on_its_own() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(qa_rows(5)))
    first, second = (client.create_id("classify", classify_params(file_id)) for _ in range(2))
    client.control("POST", f"jobs/{first}/status", {"status": "error", "message": "stopped"})
    client.advance(86_400)
    assert (client.status(first)["status"], client.status(second)["status"]) == ("error", "completed")
