"""The capacity's two optional parts over HTTP, through every face: a limit per evaluation type
(`per_type`) and a priority by tenant (`priority`) in `PUT /_emulator/capacity`, what the jobs do
under them, their errors, and the state carrying them (docs/capacity.md)."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_support import Api, classify_params, compare_params, compare_rows, jsonl, make_face, qa_rows, statuses
from together_eval_emulator import Emulator

READY = 3.0  # a 10-row job: pending 1 s, queued 2 s, then running 3.1 s
RUNNING = 3.1


def batch(api: Api, count: int, key: str = "default", eval_type: str = "classify") -> list[str]:
    if eval_type == "compare":
        file_id = api.upload(jsonl(compare_rows(10)), key=key)
        return [api.create_id("compare", compare_params(file_id), key=key) for _ in range(count)]
    file_id = api.upload(jsonl(qa_rows(10)), key=key)
    return [api.create_id("classify", classify_params(file_id), key=key) for _ in range(count)]


def status_of(api: Api, job_id: str, key: str = "default") -> str:
    status: str = api.status(job_id, key=key)["status"]
    return status


# ---------------------------------------------------------------- the control plane


def test_per_type_and_priority_are_shown_only_once_set(api: Api) -> None:
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None}
    body = {"total": 3, "per_type": {"compare": 1}, "priority": ["key-b", "team-c"]}
    assert api.control("PUT", "capacity", body) == {"per_tenant": None, **body}
    assert api.control("GET", "capacity") == {"per_tenant": None, **body}
    assert api.control("GET", "queue")["capacity"] == {"per_tenant": None, **body}
    # A key left out is null, as for the limits; an empty map or list says nothing either.
    assert api.control("PUT", "capacity", {"total": 3, "per_type": {}, "priority": []}) == {
        "per_tenant": None,
        "total": 3,
    }
    assert api.control("PUT", "capacity", {"priority": ["key-b"]}) == {
        "per_tenant": None,
        "total": None,
        "priority": ["key-b"],
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"per_type": {"compare": 0}}, "per_type"),
        ({"per_type": {"compare": -1}}, "per_type"),
        ({"per_type": {"rank": 1}}, "per_type"),
        ({"per_type": {"compare": "1"}}, "per_type"),
        ({"per_type": [1]}, "per_type"),
        ({"priority": "key-b"}, "priority"),
        ({"priority": {"key-b": 1}}, "priority"),
        ({"priority": [""]}, "priority"),
        ({"priority": [3]}, "priority"),
    ],
)
def test_a_bad_per_type_or_priority_is_a_400_naming_the_field(api: Api, body: Any, param: str) -> None:
    reply = api.request("PUT", "/_emulator/capacity", json_body=body, key=None)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"].split(".")[0] == param, error
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None}  # nothing changed


def test_the_state_carries_per_type_and_priority(api: Api) -> None:
    body = {"per_type": {"compare": 1, "score": 2}, "priority": ["key-b"]}
    api.control("PUT", "capacity", body)
    state = api.control("GET", "state")
    assert state["capacity"][-1] == {"at_ns": state["capacity"][-1]["at_ns"], "per_tenant": None, "total": None, **body}
    api.control("POST", "reset")
    api.control("PUT", "state", state)
    assert api.control("GET", "capacity") == {"per_tenant": None, "total": None, **body}


# ---------------------------------------------------------------- per-type capacity


def test_a_type_limit_holds_at_every_read_and_every_job_ends(api: Api) -> None:
    api.control("PUT", "capacity", {"total": 3, "per_type": {"compare": 1}})
    compares = batch(api, 6, eval_type="compare")
    classifies = batch(api, 6)
    most = {"compare": 0, "classify": 0}
    for _ in range(60):
        api.advance(0.5)
        running = {
            kind: sum(status_of(api, job_id) == "running" for job_id in made)
            for kind, made in (("compare", compares), ("classify", classifies))
        }
        assert running["compare"] <= 1 and running["compare"] + running["classify"] <= 3, running
        most = {kind: max(most[kind], running[kind]) for kind in most}
    assert most == {"compare": 1, "classify": 2}  # a compare held back lets the classify jobs behind it go
    assert {status_of(api, job_id) for job_id in compares + classifies} == {"completed"}
    for job_id in compares + classifies:
        assert statuses(api.job(job_id)) == ["pending", "queued", "running", "completed"]


def test_a_type_limit_holds_across_tenants(api: Api) -> None:
    api.control("PUT", "capacity", {"per_type": {"compare": 1}})
    mine = batch(api, 2, eval_type="compare")
    theirs = batch(api, 1, key="key-b", eval_type="compare")
    others = batch(api, 3)
    api.advance(READY + 1)
    assert [status_of(api, job_id) for job_id in mine] == ["running", "queued"]
    assert status_of(api, theirs[0], key="key-b") == "queued"
    assert {status_of(api, job_id) for job_id in others} == {"running"}  # classify has no limit
    api.advance(RUNNING)
    assert [status_of(api, job_id) for job_id in mine] == ["completed", "running"]  # first created first


# ---------------------------------------------------------------- priority by tenant


def test_a_later_job_of_a_prioritized_tenant_starts_first_when_a_slot_frees(api: Api) -> None:
    api.control("PUT", "capacity", {"total": 1, "priority": ["key-b"]})
    early = batch(api, 3)
    api.advance(0.5)
    late = batch(api, 2, key="key-b")
    api.advance(READY + 0.1)  # the first job took the free slot before key-b's were ready
    assert [status_of(api, job_id) for job_id in early] == ["running", "queued", "queued"]
    api.advance(RUNNING)  # its slot frees: key-b's first job goes before the two older ones
    assert [status_of(api, job_id, key="key-b") for job_id in late] == ["running", "queued"]
    assert [status_of(api, job_id) for job_id in early] == ["completed", "queued", "queued"]
    order = [entry["workflow_id"] for entry in api.control("GET", "queue")["data"]]
    assert order == [late[1], early[1], early[2]]  # FIFO within the priority, the others after
    api.advance(RUNNING)
    assert [status_of(api, job_id, key="key-b") for job_id in late] == ["completed", "running"]
    api.advance(RUNNING)
    assert [status_of(api, job_id) for job_id in early] == ["completed", "running", "queued"]
    api.advance(RUNNING)
    assert [status_of(api, job_id) for job_id in early] == ["completed", "completed", "running"]


def test_priority_order_and_unlisted_tenants_first_created_first(api: Api) -> None:
    api.control("PUT", "capacity", {"per_tenant": 1, "total": 1, "priority": ["key-c", "key-b"]})
    jobs = [
        (batch(api, 1)[0], "default"),
        (batch(api, 1, key="key-d")[0], "key-d"),
        (batch(api, 1, key="key-b")[0], "key-b"),
        (batch(api, 1, key="key-c")[0], "key-c"),
        (batch(api, 1)[0], "default"),
    ]
    # All ready at once: key-c, then key-b, then the unlisted tenants' jobs first created first.
    expected = [jobs[3], jobs[2], jobs[0], jobs[1], jobs[4]]
    api.advance(READY + 0.1)
    assert [entry["workflow_id"] for entry in api.control("GET", "queue")["data"]] == [j for j, _ in expected[1:]]
    starts: list[str] = []
    for _ in range(5):
        starts += [job_id for job_id, key in jobs if status_of(api, job_id, key=key) == "running"]
        api.advance(RUNNING)
    assert starts == [job_id for job_id, _ in expected]
    assert {status_of(api, job_id, key=key) for job_id, key in jobs} == {"completed"}


def test_a_priority_names_a_tenant_by_its_name_from_the_settings() -> None:
    emulator = Emulator(
        clock="manual",
        tenants=[{"key": "key-b", "name": "team-b"}],
        max_running=1,
        capacity_priority=["team-b"],
        max_running_per_type={"compare": 1},
    )
    api = make_face("core", emulator)
    assert api.control("GET", "capacity") == {
        "per_tenant": None,
        "total": 1,
        "per_type": {"compare": 1},
        "priority": ["team-b"],
    }
    early = batch(api, 2)
    api.advance(0.5)
    late = batch(api, 1, key="key-b")
    api.advance(READY + 0.1 + RUNNING)
    assert status_of(api, late[0], key="key-b") == "running"
    assert [status_of(api, job_id) for job_id in early] == ["completed", "queued"]
