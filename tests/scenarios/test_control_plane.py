"""The control plane: clock, seed, reset, scenarios, faults, jobs, state export/import, the
admin token, and a 400 naming the field for every bad input."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_support import Api, classify_params, jsonl, make_face, qa_rows
from together_eval_emulator import Emulator, EmulatorConfig, key_fingerprint


def test_clock_routes(api: Api) -> None:
    assert api.control("GET", "clock") == {
        "now": "2026-01-01T00:00:00.000000Z",
        "epoch": 1767225600.0,
        "mode": "manual",
        "time_scale": 1.0,
    }
    assert api.control("POST", "clock/advance", {"seconds": 90})["now"] == "2026-01-01T00:01:30.000000Z"
    assert api.control("POST", "clock/set", {"now": "2026-03-01T12:00:00Z"})["now"] == "2026-03-01T12:00:00.000000Z"
    assert api.control("POST", "clock/set", {"now": 1767225600})["now"] == "2026-01-01T00:00:00.000000Z"
    running = api.control("POST", "clock/run", {"time_scale": 60})
    assert (running["mode"], running["time_scale"]) == ("real", 60)
    assert api.control("POST", "clock/scale", {"time_scale": 2})["time_scale"] == 2
    frozen = api.control("POST", "clock/freeze")
    assert frozen["mode"] == "manual" and api.control("GET", "clock")["now"] == frozen["now"]
    assert api.control("POST", "clock/run")["mode"] == "real"


def test_seed_restarts_ids_from_the_new_seed(api: Api) -> None:
    assert api.control("GET", "seed") == {"seed": 0}
    first = api.upload("{}\n")
    assert api.control("POST", "seed", {"seed": 42}) == {"seed": 42}
    assert api.own_files() == []  # state starts over
    with_42 = api.upload("{}\n")
    api.control("POST", "reset")
    assert api.control("GET", "seed") == {"seed": 42} and api.upload("{}\n") == with_42 != first


def test_reset_goes_back_to_the_startup_state() -> None:
    config = EmulatorConfig(
        clock="manual",
        defaults={"progression": {"mode": "immediate"}},
        faults=[{"match": {"route": "whoami"}, "action": {"kind": "error", "status": 503}}],
        tenants=[{"key": "key-a", "name": "team-a"}],
        files=[{"tenant": "key-a", "id": "file-00000000-0000-4000-8000-000000000001", "rows": qa_rows(3)}],
    )
    api = make_face("core", Emulator(config))
    workflow_id = api.create_id("classify", classify_params("file-00000000-0000-4000-8000-000000000001"))
    assert api.job(workflow_id)["status"] == "completed"
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    api.control("DELETE", "faults")
    api.advance(100)
    api.control("POST", "reset")
    assert api.request("GET", "/v1/evaluation").json() == []
    assert [f["id"] for f in api.own_files()] == ["file-00000000-0000-4000-8000-000000000001"]
    assert api.control("GET", "scenarios")["default"]["progression"]["mode"] == "immediate"
    assert api.request("GET", "/v3/whoami").status == 503
    assert api.control("GET", "clock")["now"] == "2026-01-01T00:00:00.000000Z"


def test_scenario_routes(api: Api) -> None:
    added = api.control(
        "POST", "scenarios", {"name": "flaky judge", "match": {"judge_model": "x"}, "outcome": {"kind": "error"}}
    )
    assert added["id"] == "scn-1" and added["used"] == 0
    api.control("POST", "scenarios", {"times": 2, "progression": {"mode": "immediate"}})
    api.control("PUT", "scenarios/types/score", {"outcome": {"kind": "stall"}})
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    listed = api.control("GET", "scenarios")
    assert [e["id"] for e in listed["entries"]] == ["scn-1", "scn-2"]
    assert listed["types"]["score"]["outcome"]["kind"] == "stall"
    assert listed["default"]["progression"]["mode"] == "manual"
    assert api.control("DELETE", "scenarios/scn-1")["name"] == "flaky judge"
    assert api.control("DELETE", "scenarios")["removed"] == ["scn-2"]
    assert api.control("DELETE", "scenarios/types/score")["outcome"]["kind"] == "stall"
    api.control("DELETE", "scenarios/default")
    assert api.control("GET", "scenarios") == {
        "default": {"progression": None, "outcome": None},
        "types": {},
        "entries": [],
    }
    assert api.request("DELETE", "/_emulator/scenarios/scn-9", key=None).status == 404


def test_each_entry_counts_the_creates_it_applied_to(api: Api) -> None:
    """`used`: a rule (no `times`) counts every matching create, as a "next N" entry does until used up."""
    rule = api.control("POST", "scenarios", {"match": {"type": "classify"}, "outcome": {"kind": "stall"}})
    next_two = api.control("POST", "scenarios", {"times": 2, "progression": {"mode": "immediate"}})
    other = api.control("POST", "scenarios", {"match": {"type": "score"}, "outcome": {"kind": "error"}})
    file_id = api.upload(jsonl(qa_rows(2)))
    for _ in range(3):
        api.create_id("classify", classify_params(file_id))
    used = {e["id"]: e["used"] for e in api.control("GET", "scenarios")["entries"]}
    assert used == {rule["id"]: 3, other["id"]: 0}  # the "next 2" entry was used up, and went
    assert next_two["id"] not in used


def test_forcing_the_status_a_job_has_changes_nothing_but_an_errors_message(api: Api) -> None:
    """No transition, no status update: the phase keeps its start, and `completed_at` stays when the
    job completed."""
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    api.advance(4)
    before = api.job(job_id)
    assert before["status"] == "running"
    api.control("POST", f"jobs/{job_id}/status", {"status": "running"})
    assert api.job(job_id) == before
    api.advance(100)
    done = api.job(job_id)
    assert done["status"] == "completed"
    api.advance(10)
    api.control("POST", f"jobs/{job_id}/status", {"status": "completed"})
    assert api.job(job_id) == done
    api.control("POST", f"jobs/{job_id}/status", {"status": "error", "message": "first"})
    failed = api.job(job_id)
    api.control("POST", f"jobs/{job_id}/status", {"status": "error", "message": "second"})
    again = api.job(job_id)
    assert again["status_updates"] == failed["status_updates"] and again["results"] == {"error": "second"}


def test_jobs_routes(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    other = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)), key="key-b")), key="key-b")
    jobs = api.control("GET", "jobs")
    assert [(j["workflow_id"], j["tenant"]) for j in jobs] == [
        (workflow_id, key_fingerprint("key-a")),
        (other, key_fingerprint("key-b")),
    ]
    summary = api.control("POST", f"jobs/{workflow_id}/advance")
    assert summary["status"] == "queued"
    assert [(p["status"], p["reached"]) for p in summary["timeline"]] == [
        ("pending", True),
        ("queued", True),
        ("running", False),
        ("completed", False),
    ]
    assert api.request("GET", "/_emulator/jobs/eval-0000-1", key=None).status == 404


BAD_INPUTS: list[tuple[str, str, Any, str | None]] = [
    ("POST", "clock/advance", {"seconds": -1}, "seconds"),
    ("POST", "clock/advance", {"seconds": 1, "secs": 1}, "secs"),
    ("POST", "clock/set", {"now": "yesterday"}, "now"),
    ("POST", "clock/run", {"time_scale": 0}, "time_scale"),
    ("POST", "clock/scale", {}, "time_scale"),
    ("POST", "seed", {"seed": "x"}, "seed"),
    ("POST", "scenarios", {"progression": {"mode": "durations", "polls": 1}}, "progression.polls"),
    ("POST", "scenarios", {"outcome": {"kind": "explode"}}, "outcome.kind"),
    ("POST", "scenarios", {"times": 0}, "times"),
    ("POST", "scenarios", {"match": {"judge": "x"}}, "match.judge"),
    ("PUT", "scenarios/default", {"outcome": {"kind": "stall", "message": "m"}}, "outcome.message"),
    ("PUT", "scenarios/types/rank", {}, "type"),
    ("PUT", "scenarios/types/score", {"outcome": {"judge_fail_rate": 2}}, "outcome.judge_fail_rate"),
    ("POST", "faults", {"action": {"kind": "error"}}, "action.status"),
    ("POST", "faults", {"action": {"kind": "latency", "seconds": 0}}, "action.seconds"),
    ("POST", "faults", {"probability": 1.5}, "probability"),
    ("POST", "faults", {"quota": {"limit": 0}}, "quota.limit"),
    ("POST", "faults", {"match": {"route": 5}}, "match.route"),
    ("PUT", "faults", {"not": "a list"}, "rules"),
    ("POST", "jobs/{id}/status", {"status": "failed"}, "status"),
    ("POST", "jobs/{id}/status", {"status": "queued", "message": "m"}, "message"),
    ("POST", "jobs/{id}/advance", {"steps": 0}, "steps"),
    ("PUT", "jobs/{id}/scenario", {"outcome": {"kind": "completed", "at": "queued"}}, "outcome.at"),
    ("PUT", "state", {"version": 2}, "version"),
    ("PUT", "state", {"seed": 0, "clock": {"now_ns": 0, "mode": "manual", "time_scale": 1}, "ids": [1, 2, 3]}, "ids"),
    ("POST", "faults", None, None),  # empty body
]


@pytest.mark.parametrize("method, path, body, param", BAD_INPUTS, ids=[f"{m} {p} {f}" for m, p, _, f in BAD_INPUTS])
def test_bad_inputs_are_400s_naming_the_field(api: Api, method: str, path: str, body: Any, param: str | None) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    reply = api.request(method, "/_emulator/" + path.replace("{id}", workflow_id), json_body=body, key=None)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    if param is not None:
        assert param.split(".")[-1] in error["message"]


def test_admin_token() -> None:
    api = make_face("server", Emulator(clock="manual", admin_token="s3cret"))
    reply = api.request("GET", "/_emulator/clock", key=None)
    assert reply.status == 401 and reply.json()["error"]["code"] == "invalid_admin_token"
    assert api.request("GET", "/_emulator/clock", key="wrong").status == 401
    assert api.request("GET", "/_emulator/clock", key="s3cret").status == 200
    assert api.request("GET", "/_emulator/clock", key=None, headers={"x-emulator-token": "s3cret"}).status == 200
    assert api.request("GET", "/_emulator/health", key=None).status == 200  # probes need no token
    assert api.upload("{}\n")  # the upload URLs under /_emulator/uploads/ are API traffic


def test_known_keys_only() -> None:
    api = make_face("core", Emulator(clock="manual", auth="known", tenants=[{"key": "key-a"}]))
    assert api.request("GET", "/v1/files").status == 200
    reply = api.request("GET", "/v1/files", key="stranger")
    assert reply.status == 401 and reply.json()["error"]["code"] == "invalid_api_key"


def test_state_export_import_round_trip(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    api.control("POST", "scenarios", {"match": {"type": "classify"}, "outcome": {"pass_percentage": 90}})
    api.control(
        "POST", "faults", {"match": {"route": "whoami"}, "times": 5, "action": {"kind": "error", "status": 500}}
    )
    file_id = api.upload(jsonl(qa_rows(20)))
    workflow_id = api.create_id("classify", classify_params(file_id))
    assert api.status(workflow_id)["status"] == "pending"
    api.request("GET", "/v3/whoami")
    snapshot = api.control("GET", "state")

    fresh = make_face("core")
    fresh.control("PUT", "state", snapshot)
    assert fresh.control("GET", "state") == snapshot
    for client in (api, fresh):  # both go on identically
        assert [client.status(workflow_id)["status"] for _ in range(3)] == ["queued", "running", "completed"]
    assert fresh.job(workflow_id) == api.job(workflow_id)
    result_file = api.job(workflow_id)["results"]["result_file_id"]
    assert fresh.content(result_file) == api.content(result_file)
    assert fresh.upload("{}\n") == api.upload("{}\n")  # the id generator continues too
    assert fresh.request("GET", "/v3/whoami").status == 500
    assert fresh.control("GET", "faults")["rules"][0]["fired"] == 2


def test_import_of_a_broken_snapshot_changes_nothing(api: Api) -> None:
    api.upload("{}\n")
    snapshot = api.control("GET", "state")
    snapshot["tenants"][0]["files"][0]["content_b64"] = "not base64!"
    reply = api.request("PUT", "/_emulator/state", json_body=snapshot, key=None)
    assert reply.status == 400 and reply.json()["error"]["param"] == "tenants.0.files.0.content_b64"
    assert len(api.own_files()) == 1
