"""The capacity and the queue over HTTP, through every face (the in-process core, the Starlette app,
and the core over a SQLite store restarted before every request): `GET`/`PUT /_emulator/capacity`,
`GET /_emulator/queue`, each queued job's place in `GET /_emulator/jobs/{id}`, and what the API
shows of a batch that waits (docs/capacity.md)."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_support import Api, classify_params, jsonl, qa_rows, statuses

READY = 3.0  # a 10-row job: pending 1 s, queued 2 s, then running 3.1 s
RUNNING = 3.1


def batch(api: Api, count: int, key: str | None = "default") -> list[str]:
    file_id = api.upload(jsonl(qa_rows(10)), key=key)
    return [api.create_id("classify", classify_params(file_id), key=key) for _ in range(count)]


def test_capacity_is_unlimited_until_set_and_a_put_replaces_both_limits(api: Api) -> None:
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None}
    assert api.control("PUT", "capacity", {"per_tenant": 5, "total": 20}) == {"per_tenant": 5, "total": 20}
    assert api.control("PUT", "capacity", {"total": 8}) == {"per_tenant": None, "total": 8}  # left out: null
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": 8}
    assert api.control("PUT", "capacity", {"per_tenant": None, "total": None}) == {"per_tenant": None, "total": None}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"per_tenant": 0}, "per_tenant"),
        ({"total": -1}, "total"),
        ({"per_tenant": "5"}, "per_tenant"),
        ({"total": True}, "total"),
        ({"total": 2.5}, "total"),
        ({"workers": 2}, "workers"),
        ([5], None),
    ],
)
def test_a_bad_capacity_is_a_400_naming_the_field(api: Api, body: Any, param: str | None) -> None:
    reply = api.request("PUT", "/_emulator/capacity", json_body=body, key=None)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None}  # nothing changed


def test_a_batch_waits_in_queued_and_the_queue_shows_each_place(api: Api) -> None:
    api.control("PUT", "capacity", {"per_tenant": 3})
    made = batch(api, 8)
    api.advance(READY + 1)
    assert [api.status(job_id)["status"] for job_id in made] == ["running"] * 3 + ["queued"] * 5
    queue = api.control("GET", "queue")
    assert queue["capacity"] == {"per_tenant": 3, "total": None} and queue["running"] == 3
    assert [entry["workflow_id"] for entry in queue["data"]] == made[3:]
    assert [entry["position"] for entry in queue["data"]] == [1, 2, 3, 4, 5]
    assert [entry["queued_since"] for entry in queue["data"]] == ["2026-01-01T00:00:01.000000000Z"] * 5
    starts = [entry["planned_start"] for entry in queue["data"]]
    assert starts == ["2026-01-01T00:00:06.100000000Z"] * 3 + ["2026-01-01T00:00:09.200000000Z"] * 2
    summary = api.control("GET", f"jobs/{made[4]}")
    assert summary["status"] == "queued"
    assert summary["queue"] == {k: queue["data"][1][k] for k in ("position", "queued_since", "planned_start")}
    assert summary["timeline"][2] == {
        "status": "running",
        "reached": False,
        "at": "2026-01-01T00:00:06.100000000Z",
        "after_reads": None,
    }
    assert api.control("GET", f"jobs/{made[0]}")["queue"] is None
    assert [job["queue"] is not None for job in api.control("GET", "jobs")] == [False] * 3 + [True] * 5


def test_the_queue_follows_the_clock_and_every_job_ends(api: Api) -> None:
    api.control("PUT", "capacity", {"total": 2})
    made = batch(api, 5)
    for _ in range(20):
        api.advance(1)
        running = [job_id for job_id in made if api.status(job_id)["status"] == "running"]
        assert len(running) <= 2
    assert {api.status(job_id)["status"] for job_id in made} == {"completed"}
    assert api.control("GET", "queue")["data"] == [] and api.control("GET", "queue")["running"] == 0
    for job_id in made:
        assert statuses(api.job(job_id)) == ["pending", "queued", "running", "completed"]


def test_forcing_a_running_job_to_error_starts_the_next_at_that_moment(api: Api) -> None:
    api.control("PUT", "capacity", {"total": 1})
    first, second = batch(api, 2)
    api.advance(READY + 1)
    forced = api.control("POST", f"jobs/{first}/status", {"status": "error", "message": "boom"})
    now = api.control("GET", "clock")["now"]
    assert forced["status"] == "error"
    assert api.status(second)["status"] == "running"
    running = [u["timestamp"] for u in api.job(second)["status_updates"] if u["status"] == "running"]
    assert running == [now.removesuffix("Z") + "000Z"]


def test_each_api_key_has_its_own_limit(api: Api) -> None:
    api.control("PUT", "capacity", {"per_tenant": 1})
    mine = batch(api, 2)
    theirs = batch(api, 2, key="key-b")
    api.advance(READY + 1)
    assert [api.status(job_id)["status"] for job_id in mine] == ["running", "queued"]
    assert [api.status(job_id, key="key-b")["status"] for job_id in theirs] == ["running", "queued"]


def test_listing_by_status_sees_the_queue(api: Api) -> None:
    api.control("PUT", "capacity", {"per_tenant": 2})
    made = batch(api, 5)
    api.advance(READY + 1)
    queued = api.request("GET", "/v1/evaluation", query={"status": "queued"}).json()
    running = api.request("GET", "/v1/evaluation", query={"status": "running"}).json()
    assert sorted(job["workflow_id"] for job in queued) == sorted(made[2:])
    assert sorted(job["workflow_id"] for job in running) == sorted(made[:2])


def test_the_state_carries_the_capacity_and_a_reset_goes_back_to_the_settings(api: Api) -> None:
    api.control("PUT", "capacity", {"per_tenant": 1})
    made = batch(api, 3)
    api.advance(READY + 1)
    state = api.control("GET", "state")
    assert state["capacity"][-1]["per_tenant"] == 1
    api.control("POST", "reset")
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None}
    api.control("PUT", "state", state)
    assert api.control("GET", "capacity") == {"per_tenant": 1, "total": None}
    assert [api.status(job_id)["status"] for job_id in made] == ["running", "queued", "queued"]
