"""The control plane under `/_emulator/`: what a test steers, over HTTP (docs/reference/control-plane.md).

Every route but `health` requires the admin token when one is configured, sent as
`Authorization: Bearer <token>` or `X-Emulator-Token: <token>` (declared in `_routes.py`, checked
by the dispatcher). Bad input is a 400 in the real error shape naming the field.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._version import __version__
from ..engine._capacity import Capacity
from ..engine._clock import MAX_TIME_SCALE, OutOfRange, format_micros, format_nanos, parse_time
from ..engine._errors import InvalidRequest, NotFound
from ..engine._faults import FaultRule
from ..engine._journal import RecordedRequestList, RecordedRequestView
from ..engine._paths import PathList, PathQuery, attach, find_path, lifecycle_paths
from ..engine._polling import PollingReportList, PollingThresholds
from ..engine._recordings import Recording
from ..engine._scenarios import Scenario, ScenarioEntry
from ..engine._schedule import Place
from ..engine._snapshot import Snapshot
from ..engine._store import Job, Tenant
from ._routing import Call, json_response, query_int
from ._transport import ApiResponse
from ._wire import (
    CapacityState,
    ClockAdvanceRequest,
    ClockState,
    EvalType,
    Health,
    QueuedJob,
    QueuePlace,
    QueueState,
    RecordedPhase,
    RecordingList,
    RecordingSummary,
    Status,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClockSetRequest(_Body):
    now: str | float = Field(description="RFC 3339 time or epoch seconds")


class ClockRunRequest(_Body):
    time_scale: float | None = Field(None, gt=0, le=MAX_TIME_SCALE)


class ClockScaleRequest(_Body):
    time_scale: float = Field(gt=0, le=MAX_TIME_SCALE)


class SeedRequest(_Body):
    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int


class JobAdvanceRequest(_Body):
    steps: int = Field(1, ge=1, le=100)


class JobStatusRequest(_Body):
    status: Status
    message: str | None = None


class PollingQuery(_Body):
    """The query of the polling routes: thresholds for this call (absent: the settings'), and
    whether to add the wall-clock intervals."""

    min_interval: float | None = Field(None, ge=0, allow_inf_nan=False)
    stops_after_terminal: bool | None = None
    reads_after_terminal: int | None = Field(None, ge=0)
    honours_retry_after: bool | None = None
    list_watches: int | None = Field(None, ge=0)
    wall_clock: bool = False


class PathAttachRequest(_Body):
    type: EvalType | None = Field(None, description="Only creates of this evaluation type follow the path.")
    times: int | None = Field(None, ge=1, description="Only the next `times` matching creates (default: all).")


class PollingListQuery(PollingQuery):
    tenant: str | None = None
    verdict: Literal["ok", "bad", "incomplete"] | None = None


def data_response(data: Any, status_code: int = 200) -> ApiResponse:
    return ApiResponse(status_code=status_code, body=json.dumps(data, ensure_ascii=False, allow_nan=False).encode())


def _body(call: Call, model: type[BaseModel], *, optional: bool = False) -> Any:
    if optional and not call.request.body.strip():
        return model()
    return call.model(model)


# ---------------------------------------------------------------- health, reset, seed


def health(call: Call) -> ApiResponse:
    return json_response(Health(version=__version__))


def reset(call: Call) -> ApiResponse:
    """Back to the startup state: jobs, files, scenarios, faults, clock and ids (the seed is kept)."""
    call.engine.reset()
    return json_response(Health(version=__version__))


def get_seed(call: Call) -> ApiResponse:
    return data_response({"seed": call.engine.config.seed})


def set_seed(call: Call) -> ApiResponse:
    """Start over from a new seed (`Emulator.reseed`): state and journal are reset as by
    POST /_emulator/reset, but the clock keeps its time; ids and verdicts follow the new seed."""
    body: SeedRequest = _body(call, SeedRequest)
    call.engine.reseed(body.seed)
    return get_seed(call)


# ---------------------------------------------------------------- clock


def clock_state(call: Call) -> ApiResponse:
    clock = call.engine.clock
    now = clock.now_ns()
    return json_response(ClockState(now=format_micros(now), epoch=now / 1e9, mode=clock.mode, time_scale=clock.scale))


def advance_clock(call: Call) -> ApiResponse:
    body: ClockAdvanceRequest = _body(call, ClockAdvanceRequest)
    try:
        call.engine.clock.advance(body.seconds)
    except OutOfRange as exc:
        raise InvalidRequest(f"Field 'seconds': {exc}.", param="seconds") from None
    return clock_state(call)


def set_clock(call: Call) -> ApiResponse:
    body: ClockSetRequest = _body(call, ClockSetRequest)
    try:
        now = parse_time(body.now)
    except OutOfRange as exc:
        raise InvalidRequest(f"Field 'now': {exc}.", param="now") from None
    except ValueError:
        raise InvalidRequest(
            f"Field 'now' must be an RFC 3339 time or epoch seconds, got {body.now!r}.", param="now"
        ) from None
    call.engine.clock.set_ns(now)
    return clock_state(call)


def freeze_clock(call: Call) -> ApiResponse:
    call.engine.clock.set_mode("manual")
    return clock_state(call)


def run_clock(call: Call) -> ApiResponse:
    body: ClockRunRequest = _body(call, ClockRunRequest, optional=True)
    call.engine.clock.set_mode("real", body.time_scale)
    return clock_state(call)


def scale_clock(call: Call) -> ApiResponse:
    body: ClockScaleRequest = _body(call, ClockScaleRequest)
    clock = call.engine.clock
    clock.set_mode(clock.mode, body.time_scale)
    return clock_state(call)


# ---------------------------------------------------------------- scenarios


def list_scenarios(call: Call) -> ApiResponse:
    book = call.engine.scenarios.book()
    return data_response(book.model_dump(mode="json", exclude={"next_id"}))


def add_scenario(call: Call) -> ApiResponse:
    """A rule (no `times`) or an entry for the next `times` matching creates."""
    entry: ScenarioEntry = _body(call, ScenarioEntry)
    recordings = call.engine.recordings
    if entry.recording is not None and recordings.find(entry.recording) is None:
        raise InvalidRequest(recordings.unknown(entry.recording), param="recording")
    added = call.engine.scenarios.add(entry)
    return data_response(added.model_dump(mode="json"), 201)


def _cleared(removed: list[Any]) -> ApiResponse:
    """The answer of a DELETE that empties a book of rules: the ids it removed."""
    return data_response({"removed": [item.id for item in removed]})


def _removed(removed: Any, kind: str, listing: str, item_id: str) -> ApiResponse:
    """The answer of a DELETE of one rule by id: the rule, or a 404 naming where they are listed."""
    if removed is None:
        raise NotFound(f"{kind} '{item_id}' not found; GET {listing} lists them.", param="id")
    return data_response(removed.model_dump(mode="json"))


def clear_scenarios(call: Call) -> ApiResponse:
    return _cleared(call.engine.scenarios.clear())


def remove_scenario(call: Call) -> ApiResponse:
    return _removed(
        call.engine.scenarios.remove(call.params["id"]), "Scenario", "/_emulator/scenarios", call.params["id"]
    )


def set_default_scenario(call: Call) -> ApiResponse:
    scenario: Scenario = _body(call, Scenario)
    call.engine.scenarios.set_default(scenario)
    return data_response(scenario.model_dump(mode="json"))


def clear_default_scenario(call: Call) -> ApiResponse:
    call.engine.scenarios.set_default(Scenario())
    return data_response(Scenario().model_dump(mode="json"))


def _eval_type(call: Call) -> EvalType:
    value = call.params["type"]
    if value not in ("classify", "score", "compare"):
        raise InvalidRequest(f"Evaluation type '{value}' is not one of 'classify', 'score', 'compare'.", param="type")
    return value  # type: ignore[return-value]


def set_type_scenario(call: Call) -> ApiResponse:
    eval_type = _eval_type(call)
    scenario: Scenario = _body(call, Scenario)
    call.engine.scenarios.set_type(eval_type, scenario)
    return data_response(scenario.model_dump(mode="json"))


def clear_type_scenario(call: Call) -> ApiResponse:
    removed = call.engine.scenarios.clear_type(_eval_type(call))
    return data_response((removed or Scenario()).model_dump(mode="json"))


# ---------------------------------------------------------------- faults


def list_faults(call: Call) -> ApiResponse:
    return data_response(call.engine.faults.book().model_dump(mode="json", exclude={"next_id"}))


def add_fault(call: Call) -> ApiResponse:
    rule: FaultRule = _body(call, FaultRule)
    added = call.engine.faults.add(rule)
    return data_response(added.model_dump(mode="json"), 201)


class _FaultList(BaseModel):
    rules: list[FaultRule]


def replace_faults(call: Call) -> ApiResponse:
    """Replace every rule at once with a JSON array of rules (`[]` removes them all)."""
    rules: _FaultList = call.model(_FaultList, {"rules": call.json()})
    call.engine.faults.replace(rules.rules)
    return list_faults(call)


def clear_faults(call: Call) -> ApiResponse:
    return _cleared(call.engine.faults.clear())


def remove_fault(call: Call) -> ApiResponse:
    return _removed(call.engine.faults.remove(call.params["id"]), "Fault", "/_emulator/faults", call.params["id"])


# ---------------------------------------------------------------- jobs


def _tenant_label(call: Call, key: str) -> str:
    """How the control plane names a tenant: never by its key."""
    return (call.engine.tenants.find(key) or Tenant(key)).label


def _place(place: Place) -> QueuePlace:
    start = None if place.start_ns is None else format_nanos(place.start_ns)
    return QueuePlace(position=place.position, queued_since=format_nanos(place.since_ns), planned_start=start)


def job_summary(call: Call, job: Job, queue: dict[str, Place] | None = None) -> dict[str, Any]:
    """A job as the control plane shows it: reading it here never counts as a client read. `queue`:
    the places of the queued jobs, when the caller has them already."""
    jobs = call.engine.jobs
    timeline = jobs.timeline(job)
    reached = len(jobs.phases_reached(job))
    status = jobs.status(job)
    place = None
    if status == "queued":
        if queue is None:
            queue = {found.workflow_id: found for found in call.engine.schedule.queue(call.engine.clock.now_ns())}
        place = queue.get(job.workflow_id)
    summary: dict[str, Any] = {
        "workflow_id": job.workflow_id,
        "tenant": _tenant_label(call, job.tenant),
        "type": job.type,
        "status": status,
        "reads": jobs.reads(job),
        "progression": job.progression.model_dump(mode="json", exclude_none=True),
        "outcome": job.outcome.model_dump(mode="json", exclude_defaults=True),
        "source": job.source,
        "timeline": [
            {
                "status": phase.status,
                "reached": index < reached,
                "at": format_nanos(job.created_ns + phase.offset_ns) if phase.offset_ns is not None else None,
                "after_reads": phase.after_reads,
            }
            for index, phase in enumerate(timeline)
        ],
        "results": jobs.results(job),
        "queue": None if place is None else _place(place).model_dump(mode="json"),
    }
    if job.recording is not None:  # only on a job that replays a recording (docs/recordings.md)
        summary["recording"] = job.recording
    return summary


def list_jobs(call: Call) -> ApiResponse:
    queue = {place.workflow_id: place for place in call.engine.schedule.queue(call.engine.clock.now_ns())}
    return data_response([job_summary(call, job, queue) for job in call.engine.jobs.all()])


def get_job(call: Call) -> ApiResponse:
    return data_response(job_summary(call, call.engine.jobs.locate(call.params["id"])))


def advance_job(call: Call) -> ApiResponse:
    body: JobAdvanceRequest = _body(call, JobAdvanceRequest, optional=True)
    job = call.engine.jobs.advance(call.params["id"], body.steps)
    return data_response(job_summary(call, job))


def force_job_status(call: Call) -> ApiResponse:
    body: JobStatusRequest = _body(call, JobStatusRequest)
    job = call.engine.jobs.force(call.params["id"], body.status, body.message)
    return data_response(job_summary(call, job))


def set_job_scenario(call: Call) -> ApiResponse:
    scenario: Scenario = _body(call, Scenario)
    job = call.engine.jobs.attach(call.params["id"], scenario)
    return data_response(job_summary(call, job))


# ---------------------------------------------------------------- capacity and queue


def _capacity(capacity: Capacity) -> CapacityState:
    return CapacityState(
        per_tenant=capacity.per_tenant,
        total=capacity.total,
        per_type=dict(capacity.per_type) or None,
        priority=list(capacity.priority) or None,
    )


def get_capacity(call: Call) -> ApiResponse:
    return json_response(_capacity(call.engine.schedule.capacity(call.engine.clock.now_ns())))


def set_capacity(call: Call) -> ApiResponse:
    """Put a capacity in force from now on (null: no limit); what jobs did before stays as it was."""
    body: CapacityState = _body(call, CapacityState)
    capacity = Capacity(body.per_tenant, body.total, tuple((body.per_type or {}).items()), tuple(body.priority or ()))
    call.engine.schedule.set_capacity(capacity, call.engine.clock.now_ns())
    return get_capacity(call)


def get_queue(call: Call) -> ApiResponse:
    engine = call.engine
    now = engine.clock.now_ns()
    running = sum(1 for job in engine.jobs.all() if engine.jobs.status(job) == "running")
    queued = [
        QueuedJob(workflow_id=place.workflow_id, tenant=_tenant_label(call, place.tenant), **dict(_place(place)))
        for place in engine.schedule.queue(now)
    ]
    return json_response(QueueState(capacity=_capacity(engine.schedule.capacity(now)), running=running, data=queued))


# ---------------------------------------------------------------- recordings


def _recording_summary(recording: Recording, builtin: bool) -> RecordingSummary:
    return RecordingSummary(
        name=recording.name,
        type=recording.job.type,
        builtin=builtin,
        source=recording.source,
        timeline=[RecordedPhase(status=s, offset_seconds=seconds) for s, seconds in recording.offsets_seconds()],
        final=recording.final,
        result_file=recording.result_file is not None,
    )


def list_recordings(call: Call) -> ApiResponse:
    listed = [_recording_summary(recording, builtin) for recording, builtin in call.engine.recordings.list()]
    return json_response(RecordingList(data=listed))


def add_recording(call: Call) -> ApiResponse:
    """Keep a recording under its name (never replaced: a second one of the name is a 409)."""
    added = call.engine.recordings.add(_body(call, Recording))
    return json_response(_recording_summary(added, False), 201)


def get_recording(call: Call) -> ApiResponse:
    return ApiResponse(body=call.engine.recordings.get(call.params["name"]).model_dump_json().encode())


# ---------------------------------------------------------------- polling verdicts (docs/polling.md)


def _thresholds(call: Call, query: PollingQuery) -> PollingThresholds:
    return call.engine.polling.thresholds(
        min_interval=query.min_interval,
        stops_after_terminal=query.stops_after_terminal,
        reads_after_terminal=query.reads_after_terminal,
        honours_retry_after=query.honours_retry_after,
        list_watches=query.list_watches,
    )


def polling_report(call: Call) -> ApiResponse:
    """How clients polled one job, and the verdict; the query may set the thresholds."""
    query: PollingQuery = call.model(PollingQuery, dict(call.request.query), strict=False)
    report = call.engine.polling.report(call.params["id"], _thresholds(call, query), wall_clock=query.wall_clock)
    return json_response(report)


def polling_reports(call: Call) -> ApiResponse:
    """One report per job (of one tenant with `tenant=`, of one verdict with `verdict=`)."""
    query: PollingListQuery = call.model(PollingListQuery, dict(call.request.query), strict=False)
    reports = call.engine.polling.reports(
        _thresholds(call, query), tenant=query.tenant, verdict=query.verdict, wall_clock=query.wall_clock
    )
    return json_response(PollingReportList(data=reports))


# ---------------------------------------------------------------- lifecycle paths (docs/lifecycle-paths.md)

LIST_QUERY_FIELDS = ("terminal", "at")  # given comma-separated: `terminal=error,user_error`


def list_paths(call: Call) -> ApiResponse:
    """Every lifecycle path the query's filters list, in a fixed order."""
    query: dict[str, Any] = dict(call.request.query)
    for name in LIST_QUERY_FIELDS:
        if name in query:
            query[name] = [part.strip() for part in query[name].split(",") if part.strip()]
    try:
        chosen: PathQuery = call.model(PathQuery, query, strict=False)
    except InvalidRequest as exc:  # `terminal.1` is the second item of `terminal`: name the parameter
        raise InvalidRequest(exc.message, param=(exc.param or "").split(".")[0] or None) from None
    return json_response(PathList(data=lifecycle_paths(chosen)))


def attach_path(call: Call) -> ApiResponse:
    """Make the next creates (of `type`; the next `times` only, when given) follow one path, in
    place of a path attached earlier for the same creates."""
    body: PathAttachRequest = _body(call, PathAttachRequest, optional=True)
    added = attach(call.engine.scenarios, find_path(call.params["id"], body.type), body.times)
    return data_response(added.model_dump(mode="json"), 201)


# ---------------------------------------------------------------- journal (pytest plugin issue)


def list_requests(call: Call) -> ApiResponse:
    """The journal, oldest first; `route`, `job_id`, `file_id`, `tenant`, `status_code` filter it."""
    query = call.request.query
    criteria: dict[str, Any] = {name: query[name] for name in ("job_id", "file_id", "tenant") if query.get(name)}
    status_code = query_int(call.request, "status_code", minimum=0)
    if status_code is not None:
        criteria["status_code"] = status_code
    try:
        entries = call.engine.journal.filter(query.get("route") or None, **criteria)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="route") from None
    return json_response(RecordedRequestList(data=[RecordedRequestView.of(e) for e in entries]))


def reset_journal(call: Call) -> ApiResponse:
    call.engine.journal.clear()
    return json_response(Health(version=__version__))


# ---------------------------------------------------------------- state


def get_state(call: Call) -> ApiResponse:
    return ApiResponse(body=call.engine.export_state().model_dump_json().encode())


def put_state(call: Call) -> ApiResponse:
    snapshot: Snapshot = _body(call, Snapshot)
    call.engine.import_state(snapshot)
    return data_response(
        {"imported": True, "tenants": len(snapshot.tenants), "jobs": sum(len(t.jobs) for t in snapshot.tenants)}
    )
