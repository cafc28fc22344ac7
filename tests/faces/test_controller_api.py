"""EmulatorController as the Python twin of `/_emulator/`: every control method, against the
in-process fixture and the live server, with its effect seen by the real together 3.x SDK; the
same calls made over HTTP leave the same state; errors carry the control plane's error body."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import together
from together import Together
from together_eval_emulator import (
    ClockState,
    ControlPlaneError,
    Emulator,
    EmulatorController,
    FaultRule,
    JobNeverCompletes,
    JobSummary,
    Match,
    Outcome,
    Progression,
    Scenario,
    ScenarioEntry,
    Snapshot,
    StateImported,
    key_fingerprint,
)
from together_eval_emulator.faces import _controller

from tests.support import CoreClient, classify_params, jsonl, qa_rows

FACES = ["together_emulator", "together_emulator_server"]


@pytest.fixture(params=FACES, ids=["in_process", "live_server"])
def emu(request: pytest.FixtureRequest) -> EmulatorController:
    """The controller of either fixture; both point `Together()` at their emulator."""
    controller: EmulatorController = request.getfixturevalue(request.param)
    return controller


@pytest.fixture
def client() -> Together:
    return Together()


def upload(client: Together, tmp_path: Path) -> str:
    """A three-row classify dataset uploaded through the SDK."""
    path = tmp_path / "qa.jsonl"
    path.write_text(jsonl(qa_rows(3)))
    return client.files.upload(path, purpose="eval", check=False).id


@pytest.fixture
def file_id(client: Together, tmp_path: Path) -> str:
    return upload(client, tmp_path)


def create(client: Together, file_id: str, **judge: Any) -> str:
    params = classify_params(file_id)
    params["judge"] = {**params["judge"], **judge}
    return client.evals.create(type="classify", parameters=params).workflow_id


def status(client: Together, job_id: str) -> str:
    return client.evals.status(job_id).status


# ---------------------------------------------------------------- health, seed, reset


def test_health_seed_reseed_and_reset(emu: EmulatorController, client: Together, file_id: str, tmp_path: Path) -> None:
    health = emu.health()
    assert health.status == "ok" and health.version
    assert emu.seed() == 0
    first = create(client, file_id)
    emu.advance(30)
    emu.reseed(7)
    assert emu.seed() == 7
    assert emu.job_summaries() == [] and emu.files() == []  # state starts over...
    assert emu.now().isoformat() == "2026-01-01T00:00:30+00:00"  # ...but the clock keeps its time
    emu.reset()
    assert emu.seed() == 7 and emu.now().isoformat() == "2026-01-01T00:00:00+00:00"
    assert create(client, upload(client, tmp_path)) != first  # ids follow the new seed


# ---------------------------------------------------------------- clock


def test_clock(emu: EmulatorController) -> None:
    assert emu.clock() == ClockState(now="2026-01-01T00:00:00.000000Z", epoch=1767225600.0, mode="manual", time_scale=1)
    assert emu.advance(90).now == "2026-01-01T00:01:30.000000Z"
    assert emu.set_clock("2026-03-01T12:00:00Z").now == "2026-03-01T12:00:00.000000Z"
    assert emu.set_clock(datetime(2026, 2, 1, tzinfo=UTC)).now == "2026-02-01T00:00:00.000000Z"
    assert emu.set_clock(1767225600).now == "2026-01-01T00:00:00.000000Z"  # back in time, as /clock/set
    running = emu.run_clock(60)
    assert (running.mode, running.time_scale) == ("real", 60)
    assert emu.scale_clock(2).time_scale == 2 and emu.clock().mode == "real"
    frozen = emu.freeze_clock()
    assert frozen.mode == "manual" and emu.clock().now == frozen.now
    assert emu.now() == datetime.fromisoformat(frozen.now)
    assert emu.run_clock().mode == "real"


def test_bad_clock_input_is_the_control_planes_400(emu: EmulatorController) -> None:
    with pytest.raises(ControlPlaneError) as bad:
        emu.advance(-1)
    assert (bad.value.status_code, bad.value.param, bad.value.type) == (400, "seconds", "invalid_request_error")
    assert bad.value.body["error"]["param"] == "seconds"
    assert str(bad.value).startswith("POST /_emulator/clock/advance answered 400: Invalid field 'seconds'")
    with pytest.raises(ControlPlaneError, match="RFC 3339") as bad:
        emu.set_clock("yesterday")
    assert bad.value.param == "now"
    with pytest.raises(ControlPlaneError) as bad:
        emu.scale_clock(0)
    assert bad.value.param == "time_scale"
    assert emu.clock().now == "2026-01-01T00:00:00.000000Z"  # nothing moved


# ---------------------------------------------------------------- scenarios


def test_scenario_book(emu: EmulatorController) -> None:
    rule = emu.add_scenario(ScenarioEntry(name="flaky judge", match=Match(judge_model="flaky/*"), outcome=Outcome()))
    assert (rule.id, rule.name, rule.used) == ("scn-1", "flaky judge", 0)
    limited = emu.add_scenario({"times": 2, "progression": {"mode": "immediate"}})
    assert (limited.id, limited.times) == ("scn-2", 2)
    assert emu.set_type_scenario("score", Scenario(outcome=Outcome(kind="stall"))).outcome == Outcome(kind="stall")
    assert emu.set_default_scenario({"progression": {"mode": "manual"}}).progression == Progression(mode="manual")

    listing = emu.scenarios()
    assert [entry.id for entry in listing.entries] == ["scn-1", "scn-2"]
    assert listing.types["score"].outcome == Outcome(kind="stall")
    assert listing.default.progression == Progression(mode="manual")

    assert emu.remove_scenario("scn-1").name == "flaky judge"
    assert emu.clear_scenarios() == ["scn-2"]
    assert emu.clear_type_scenario("score").outcome == Outcome(kind="stall")
    assert emu.clear_type_scenario("score") == Scenario()  # none left: the empty scenario
    assert emu.clear_default_scenario() == Scenario()
    assert emu.scenarios().model_dump() == {"default": Scenario().model_dump(), "types": {}, "entries": []}


def test_scenario_errors(emu: EmulatorController) -> None:
    with pytest.raises(ControlPlaneError) as missing:
        emu.remove_scenario("scn-9")
    assert missing.value.status_code == 404 and "GET /_emulator/scenarios lists them" in missing.value.message
    with pytest.raises(ControlPlaneError) as bad_type:
        emu.set_type_scenario("rank", {})  # type: ignore[arg-type]
    assert (bad_type.value.status_code, bad_type.value.param) == (400, "type")
    with pytest.raises(ControlPlaneError) as bad_field:
        emu.add_scenario({"outcome": {"kind": "completed", "at": "queued"}})
    assert bad_field.value.param == "outcome.at"
    with pytest.raises(TypeError, match="Expected a model or a dict"):
        emu.add_scenario(["times", 1])  # type: ignore[arg-type]
    assert emu.scenarios().entries == []


def test_scenarios_decide_how_sdk_jobs_end(emu: EmulatorController, client: Together, file_id: str) -> None:
    emu.add_scenario(ScenarioEntry(times=1, outcome=Outcome(kind="error", at="queued", message="Capacity lost")))
    emu.set_type_scenario("classify", {"progression": {"mode": "immediate"}})
    failed = create(client, file_id)
    done = create(client, file_id)  # the "next 1" entry is used up
    assert status(client, failed) == "error"
    assert client.evals.status(failed).results.error == "Capacity lost"
    assert status(client, done) == "completed"
    summary = emu.job_summary(failed)
    assert summary.source == {"progression": "type:classify", "outcome": "scenario:scn-1"}
    assert emu.scenarios().entries == []


# ---------------------------------------------------------------- faults


def test_a_fault_added_in_python_fires_on_the_next_sdk_request(emu: EmulatorController, client: Together) -> None:
    rule = emu.add_fault(
        FaultRule.model_validate(
            {"match": {"route": "evaluation.list"}, "times": 1, "action": {"kind": "error", "status": 400}}
        )
    )
    assert rule.id == "fault-1" and rule.fired == 0
    with pytest.raises(together.BadRequestError):
        client.evals.list()
    assert client.evals.list() == []  # fired once: the next request passes
    (seen,) = emu.faults()
    assert (seen.id, seen.seen, seen.fired) == ("fault-1", 2, 1)
    assert emu.remove_fault("fault-1").fired == 1
    assert emu.faults() == []


def test_fault_book(emu: EmulatorController, client: Together) -> None:
    emu.add_fault({"match": {"route": "whoami"}, "action": {"kind": "error", "status": 503}})
    replaced = emu.replace_faults(
        [
            {"name": "no listing", "match": {"route": "evaluation.list"}, "action": {"kind": "error", "status": 403}},
            FaultRule(name="quota", quota={"limit": 100}),  # type: ignore[arg-type]
        ]
    )
    assert [(r.id, r.name) for r in replaced] == [("fault-2", "no listing"), ("fault-3", "quota")]
    assert replaced[1].action.status == 429  # a quota's default action
    with pytest.raises(together.PermissionDeniedError):
        client.evals.list()
    assert emu.clear_faults() == ["fault-2", "fault-3"]
    assert client.evals.list() == []
    assert emu.replace_faults([]) == []
    with pytest.raises(ControlPlaneError) as missing:
        emu.remove_fault("fault-1")
    assert missing.value.status_code == 404
    with pytest.raises(ControlPlaneError) as bad:
        emu.add_fault({"action": {"kind": "latency", "status": 500}})
    assert bad.value.param is not None and bad.value.param.startswith("action")


# ---------------------------------------------------------------- jobs


def test_job_summaries_are_not_reads(emu: EmulatorController, client: Together, file_id: str) -> None:
    job_id = create(client, file_id)
    summary = emu.job_summary(job_id)
    assert isinstance(summary, JobSummary)
    assert (summary.workflow_id, summary.tenant, summary.type) == (job_id, key_fingerprint(emu.api_key), "classify")
    assert (summary.status, summary.reads, summary.results) == ("pending", 0, None)
    assert [phase.status for phase in summary.timeline] == ["pending", "queued", "running", "completed"]
    assert summary.timeline[-1].at == "2026-01-01T00:00:06.030000000Z" and not summary.timeline[-1].reached
    assert emu.job_summaries() == [summary]
    emu.run_until_complete(job_id)
    done = emu.job_summary(job_id)
    assert done.status == "completed" and done.results is not None and done.timeline[-1].reached
    assert emu.polls(job_id) == 0
    with pytest.raises(ControlPlaneError) as missing:
        emu.job_summary("eval-x")
    assert missing.value.status_code == 404


def test_advance_and_force_a_job(emu: EmulatorController, client: Together, file_id: str) -> None:
    emu.set_default_scenario({"progression": {"mode": "manual"}})
    job_id = create(client, file_id)
    with pytest.raises(JobNeverCompletes, match="progression is 'manual'.*advance_job"):
        emu.run_until_complete(job_id)
    assert emu.advance_job(job_id).status == "queued"
    assert status(client, job_id) == "queued"
    assert emu.advance_job(job_id, steps=2).status == "completed"
    assert status(client, job_id) == "completed"
    with pytest.raises(ControlPlaneError) as stuck:
        emu.advance_job(job_id)
    assert (stuck.value.status_code, stuck.value.param) == (409, "steps")

    other = create(client, file_id)
    forced = emu.force_status(other, "user_error", "Column answer is empty")
    assert forced.status == "user_error" and forced.results == {"error": "Column answer is empty"}
    assert client.evals.status(other).results.error == "Column answer is empty"
    assert emu.force_status(other, "running").status == "running"  # resumes its path from there
    with pytest.raises(ControlPlaneError) as bad:
        emu.force_status(other, "completed", "no message for completed")
    assert bad.value.param == "message"


def test_a_scenario_attached_to_a_job_changes_its_outcome(
    emu: EmulatorController, client: Together, file_id: str
) -> None:
    job_id = create(client, file_id)
    emu.advance(1.5)  # queued
    attached = emu.attach_scenario(job_id, Scenario(outcome=Outcome(kind="error", message="Judge went away")))
    assert attached.source["outcome"] == "job" and attached.timeline[-1].status == "error"
    assert emu.run_until_complete(job_id) == "error"
    assert client.evals.status(job_id).results.error == "Judge went away"
    stalled = create(client, file_id)
    emu.attach_scenario(stalled, {"outcome": {"kind": "stall"}})
    with pytest.raises(JobNeverCompletes, match="never completes on its own"):
        emu.complete_all()
    with pytest.raises(ControlPlaneError) as ended:
        emu.attach_scenario(job_id, {"outcome": {"kind": "stall"}})
    assert ended.value.status_code == 409


def test_run_until_complete_and_complete_all(emu: EmulatorController, client: Together, file_id: str) -> None:
    first = create(client, file_id)
    emu.advance(100)
    second = create(client, file_id)
    assert emu.run_until_complete(first) == "completed"
    assert emu.now().isoformat() == "2026-01-01T00:01:40+00:00"  # first had ended: no jump
    assert emu.complete_all() == {first: "completed", second: "completed"}
    assert emu.now().isoformat() == "2026-01-01T00:01:46.030000+00:00"  # 6 s + 3 rows x 0.01 s later
    assert status(client, second) == "completed"
    with pytest.raises(LookupError, match=rf"No evaluation job 'eval-x'.*Jobs: \['{first}', '{second}'\]"):
        emu.run_until_complete("eval-x")
    with pytest.raises(LookupError, match="No evaluation job 'eval-x'"):
        emu.job("eval-x")


# ---------------------------------------------------------------- state


def test_state_exported_reset_and_imported_answers_as_before(
    emu: EmulatorController, client: Together, file_id: str
) -> None:
    done = create(client, file_id)
    emu.run_until_complete(done)
    running = create(client, file_id)
    emu.add_fault({"match": {"route": "whoami"}, "after": 5, "action": {"kind": "error", "status": 503}})
    emu.add_scenario({"times": 3, "outcome": {"kind": "stall"}})
    emu.advance(2)
    snapshot = emu.export_state()
    assert isinstance(snapshot, Snapshot) and len(snapshot.tenants[0].jobs) == 2

    def answers() -> list[Any]:
        result_file = client.evals.status(done).results.result_file_id
        return [
            client.evals.retrieve(done).model_dump(),
            client.evals.retrieve(running).model_dump(),
            client.files.content(result_file).read(),
            emu.scenarios(),
            [rule.model_dump(exclude={"seen"}) for rule in emu.faults()],
            emu.clock(),
        ]

    before = answers()
    emu.reset()
    assert emu.job_summaries() == [] and emu.faults() == []
    assert emu.import_state(snapshot) == StateImported(imported=True, tenants=1, jobs=2)
    assert answers() == before
    emu.reset()
    assert emu.import_state(snapshot.model_dump_json()).jobs == 2  # the JSON text of a saved snapshot
    assert emu.import_state(json.loads(snapshot.model_dump_json())).jobs == 2


def test_an_invalid_snapshot_changes_nothing(emu: EmulatorController, client: Together, file_id: str) -> None:
    job_id = create(client, file_id)
    broken = emu.export_state().model_dump(mode="json")
    broken["clock"]["time_scale"] = 0
    with pytest.raises(ControlPlaneError) as bad:
        emu.import_state(broken)
    assert (bad.value.status_code, bad.value.param) == (400, "clock.time_scale")
    assert [job.workflow_id for job in emu.job_summaries()] == [job_id]


# ---------------------------------------------------------------- journal


def test_recorded_requests_with_filters(emu: EmulatorController, client: Together, file_id: str) -> None:
    job_id = create(client, file_id)
    client.evals.status(job_id)
    with pytest.raises(together.NotFoundError):
        client.evals.status("eval-missing")
    emu.job_summary(job_id)  # control-plane requests are never recorded
    (created,) = emu.recorded_requests("evaluation.create")
    assert (created.job_id, created.tenant, created.status_code) == (job_id, key_fingerprint(emu.api_key), 200)
    assert emu.recorded_requests("evaluation.create", tenant=emu.api_key) == [created]  # filtered by the key
    assert created.body["type"] == "classify"
    assert [r.route for r in emu.recorded_requests(job_id=job_id)] == ["evaluation.create", "evaluation.status"]
    assert [r.path for r in emu.recorded_requests(status_code=404)] == ["/v1/evaluation/eval-missing/status"]
    assert [r.path for r in emu.recorded_requests("GET /v1/evaluation/{id}/status")] == [
        f"/v1/evaluation/{job_id}/status",
        "/v1/evaluation/eval-missing/status",
    ]
    (preprocessed,) = emu.recorded_requests("files.preprocess", file_id=file_id)
    assert preprocessed.path == f"/v1/files/{file_id}/preprocess"
    assert emu.recorded_requests(tenant="someone-else") == []
    assert [r.seq for r in emu.recorded_requests()] == [e.seq for e in emu.requests]
    with pytest.raises(ControlPlaneError) as unknown:
        emu.recorded_requests("evaluation.nope")
    assert unknown.value.param == "route"
    emu.reset_journal()
    assert emu.recorded_requests() == [] and emu.requests == []
    assert emu.job_summaries()  # jobs are kept


# ---------------------------------------------------------------- same rules as HTTP, admin token, no internals


def test_python_and_http_leave_the_same_state() -> None:
    """The same control calls, one emulator through the controller and one through HTTP requests."""
    by_python, by_http = Emulator(clock="manual"), Emulator(clock="manual")
    emu, http = EmulatorController(by_python, "http://emulator.test"), CoreClient(by_http)
    for client in (CoreClient(by_python), http):
        job_id = client.create_id("classify", classify_params(client.upload(jsonl(qa_rows(2)))))
    emu.add_scenario({"times": 1, "outcome": {"kind": "error"}})
    http.control("POST", "scenarios", {"times": 1, "outcome": {"kind": "error"}})
    emu.set_default_scenario({"progression": {"mode": "after_polls", "polls": 2}})
    http.control("PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 2}})
    emu.add_fault({"match": {"route": "whoami"}, "times": 2})
    http.control("POST", "faults", {"match": {"route": "whoami"}, "times": 2})
    emu.advance(2.5)
    http.advance(2.5)
    emu.advance_job(job_id)
    http.control("POST", f"jobs/{job_id}/advance", {"steps": 1})
    emu.run_clock(10)
    http.control("POST", "clock/run", {"time_scale": 10})
    emu.scale_clock(20)
    http.control("POST", "clock/scale", {"time_scale": 20})
    emu.freeze_clock()
    http.control("POST", "clock/freeze")
    emu.set_clock("2026-02-01T00:00:00Z")  # after the freeze: the real clock's drift is gone
    http.control("POST", "clock/set", {"now": "2026-02-01T00:00:00Z"})
    assert emu.export_state().model_dump(mode="json") == http.control("GET", "state")


def test_the_admin_token_is_sent_for_the_caller() -> None:
    protected = Emulator(clock="manual", admin_token="s3cret")
    emu = EmulatorController(protected, "http://emulator.test")
    assert emu.add_fault({"match": {"route": "whoami"}}).id == "fault-1"
    assert emu.advance(5).now == "2026-01-01T00:00:05.000000Z"
    assert CoreClient(protected).request("GET", "/_emulator/faults", key=None).status == 401  # others need it


def test_the_controller_steers_through_the_control_plane_only() -> None:
    source = inspect.getsource(_controller)
    assert "_lock" not in source and ".state" not in source and "emulator.jobs" not in source
