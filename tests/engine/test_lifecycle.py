"""Status is a function of the emulator clock (docs/reference/evaluations.md#statuses-and-lifecycle)."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._lifecycle import DEFAULT_ERRORS

from tests.support import CoreClient, classify_params, jsonl, qa_rows


def started(rows: int = 10, **config: object) -> tuple[CoreClient, str]:
    client = CoreClient(Emulator(clock="manual", **config))
    file_id = client.upload(jsonl(qa_rows(rows)))
    reply = client.create("classify", classify_params(file_id))
    assert reply.status == 200
    return client, reply.json()["workflow_id"]


def test_a_frozen_clock_freezes_every_job() -> None:
    client, job_id = started()
    for _ in range(5):
        assert client.job(job_id)["status"] == "pending"


def test_phases_follow_the_configured_durations() -> None:
    client, job_id = started(
        rows=100, pending_seconds=2, queued_seconds=3, running_seconds=4, running_seconds_per_row=0.5
    )
    timeline = [
        (1.9, "pending"),
        (0.1, "queued"),
        (2.9, "queued"),
        (0.1, "running"),
        (53.9, "running"),
        (0.1, "completed"),
        (1000, "completed"),
    ]
    for seconds, status in timeline:
        client.emulator.advance(seconds)
        assert client.job(job_id)["status"] == status
        reply = client.request("GET", f"/v1/evaluation/{job_id}/status").json()
        assert reply["status"] == status
        assert (reply["results"] is None) == (status != "completed")


def test_status_updates_record_each_transition_on_the_clock() -> None:
    client, job_id = started()
    client.emulator.advance(3600)
    job = client.job(job_id)
    assert [u["status"] for u in job["status_updates"]] == ["pending", "queued", "running", "completed"]
    assert [u["message"] for u in job["status_updates"]] == [
        "Job created and pending for processing",
        "Job status updated",
        "Job status updated",
        "Job status updated",
    ]
    assert [list(u) for u in job["status_updates"]] == [["status", "message", "timestamp"]] * 4
    stamps = [u["timestamp"] for u in job["status_updates"]]
    assert stamps == [
        "2026-01-01T00:00:00.000000000Z",
        "2026-01-01T00:00:01.000000000Z",
        "2026-01-01T00:00:03.000000000Z",
        "2026-01-01T00:00:06.100000000Z",
    ]
    assert job["created_at"] == "2026-01-01T00:00:00.000000Z"
    assert job["updated_at"] == "2026-01-01T00:00:06.100000Z"
    assert list(job) == [
        "workflow_id",
        "type",
        "owner_id",
        "status",
        "status_updates",
        "parameters",
        "created_at",
        "updated_at",
        "results",
    ]


def test_advancing_in_steps_equals_advancing_at_once() -> None:
    a, job_a = started()
    b, job_b = started()
    for _ in range(70):
        a.emulator.advance(0.1)
    b.emulator.advance(7)
    assert a.job(job_a) == b.job(job_b)


def test_real_clock_with_time_scale_moves_jobs() -> None:
    ticks = iter(range(0, 10**12, 10**9))  # each read of the wall clock: one more second
    emulator = Emulator(clock="real", time_scale=60)
    emulator.clock._wall_ns = lambda: next(ticks)  # an injected wall clock
    emulator.clock.set_ns(0)
    client = CoreClient(emulator)
    file_id = client.upload(jsonl(qa_rows(3)))
    job_id = client.create("classify", classify_params(file_id)).json()["workflow_id"]
    assert client.job(job_id)["status"] == "completed"  # a minute of emulated time per wall second


def test_update_hook_forces_a_terminal_status_and_stops_progress() -> None:
    client, job_id = started()
    reply = client.request(
        "POST", f"/v1/evaluation/{job_id}/update", json_body={"status": "user_error", "error": "bad rows"}
    )
    assert reply.status == 200
    assert reply.json() == {"workflow_id": job_id, "status": "user_error"}
    client.emulator.advance(3600)
    job = client.job(job_id)
    assert job["status"] == "user_error"
    assert job["results"] == {"error": "bad rows"}
    assert job["status_updates"][-1]["message"] == "Job status updated"


@pytest.mark.parametrize(
    "body, message",
    [
        ({"status": "error", "results": {"error": "judge down"}}, "judge down"),  # the message the results carry
        ({"status": "user_error"}, None),  # the status's own default message
    ],
)
def test_update_hook_ends_a_job_in_error_without_an_error_string(body: dict[str, Any], message: str | None) -> None:
    """The hook's fields are all optional: a failed status takes its message from `results`, else the
    default one, as a forced status does."""
    client, job_id = started()
    reply = client.request("POST", f"/v1/evaluation/{job_id}/update", json_body=body)
    assert reply.json() == {"workflow_id": job_id, "status": body["status"]}
    job = client.job(job_id)
    assert job["status"] == body["status"]
    assert job["results"] == {"error": message or DEFAULT_ERRORS[body["status"]]}


def test_update_hook_to_running_resumes_the_normal_flow() -> None:
    client, job_id = started()
    client.request("POST", f"/v1/evaluation/{job_id}/update", json_body={"status": "running"})
    assert client.job(job_id)["status"] == "running"
    client.emulator.advance(3.2)
    assert client.job(job_id)["status"] == "completed"


def test_update_hook_rejects_bad_bodies_and_other_tenants() -> None:
    client, job_id = started()
    bad = client.request("POST", f"/v1/evaluation/{job_id}/update", json_body={"status": "failed"})
    assert bad.status == 400 and bad.json()["error"]["param"] == "status"
    other = client.request("POST", f"/v1/evaluation/{job_id}/update", json_body={"status": "completed"}, key="key-b")
    assert other.status == 404
