"""The route table: every route the emulator serves, and everything said about it.

Each `Route` names its handler and declares its parameters, body, answers (success and error
statuses, with their schemas) and auth; the dispatcher enforces the auth, and `/openapi.json` is
written from these declarations alone (`_openapi.py`). A route added here is served by every face
and documented at once.

Add-ons (`_extension.py`) add to the table: alternatives to the real wire models (wherever a route
declares one) and routes of their own. `route_table(extensions)` is the table of an emulator with
those add-ons.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping, Sequence
from functools import lru_cache, reduce
from types import GenericAlias

from ..engine._faults import FaultBook, FaultRule
from ..engine._journal import RecordedRequestList
from ..engine._paths import MAX_POLLS, MAX_PREEMPTIONS, PathList
from ..engine._polling import PollingReport, PollingReportList
from ..engine._recordings import Recording
from ..engine._scenarios import Scenario, ScenarioBook, ScenarioEntry
from ..engine._snapshot import Snapshot
from . import _api as api, _control as control, _dashboard as dashboard
from ._extension import ApiExtension
from ._openapi import OPENAPI_ROUTE
from ._recording import UPLOAD_PREFIX
from ._routing import Body, Handler, Param, Reply, Route, Schema, json_body
from ._wire import (
    STATUSES,
    CapacityState,
    ClockAdvanceRequest,
    ClockState,
    DirectUploadForm,
    EmptyObject,
    EvaluationCreateRequest,
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationStatusResponse,
    EvaluationUpdateRequest,
    EvaluationUpdateResponse,
    FileDeleteResponse,
    FileListResponse,
    FileObject,
    Health,
    JobSummary,
    ModelListResponse,
    MultipartAbortRequest,
    MultipartCompleteRequest,
    MultipartInitiateRequest,
    MultipartInitiateResponse,
    QueueState,
    RecordingList,
    RecordingSummary,
    RemovedRules,
    SeedState,
    StateImported,
    UploadRequestForm,
    UploadRequestMultipart,
    WhoamiResponse,
)

BAD_BODY = "The body is missing, not JSON, or a field is invalid (named in `error.param`)."

# ---------------------------------------------------------------- the Together API and its upload URLs

JOB_ID = Param("id", "The job's workflow id (`eval-…`).")
FILE_ID = Param("id", "The file's id (`file-…`), or the name of a built-in dataset.")
NO_JOB = "No job with this id for this API key."
NO_FILE = "No file with this id for this API key (or its bytes were never uploaded)."
BAD_FORM = "The form is malformed, or a field is missing or invalid (named in `error.param`)."
LIST_QUERY = (
    Param(
        "limit",
        f"At most this many jobs, newest first (default {api.DEFAULT_LIST_LIMIT}; more than {api.MAX_LIST_LIMIT} "
        f"gives {api.MAX_LIST_LIMIT}).",
        {"type": "integer", "minimum": 1},
    ),
    Param(
        "status",
        "Only jobs in this status (an unknown status lists nothing).",
        {"type": "string", "examples": list(STATUSES)},
    ),
)
MODEL_SOURCE = Param(
    "model_source",
    "`serverless` (or `all`, the default): the serverless allowlist; `dedicated`, `external`: their own lists.",
    {"type": "string", "examples": ["all", "serverless", "dedicated", "external"]},
)
UPLOAD_TOKEN = Param("token", "The upload URL's token, as handed out by `POST /v1/files` or a multipart initiate.")
UPLOAD_URL_DEAD = (
    "The upload URL is used up (its file was preprocessed, completed or deleted) or expired "
    "(`upload_url_seconds` of emulator time), or the request carries another tenant's API key."
)
UPLOAD_FORMS = Body(
    {"application/x-www-form-urlencoded": UploadRequestForm, "multipart/form-data": UploadRequestMultipart}
)
FILE = {200: Reply("The file.", FileObject)}

API_ROUTES: list[Route] = [
    Route(
        "POST",
        "/v1/evaluation",
        api.create_evaluation,
        "evaluation.create",
        prepare=api.prepare_create,
        summary="Create an evaluation job",
        description="The real contract (`type`, `parameters`).",
        body=json_body(EvaluationCreateRequest),
        ok={200: Reply("The job was created.", EvaluationCreateResponse)},
        errors={400: BAD_BODY},
    ),
    Route(
        "GET",
        "/v1/evaluation",
        api.list_evaluations,
        "evaluation.list",
        slow=True,
        summary="List evaluation jobs",
        query=LIST_QUERY,
        ok={200: Reply("The jobs, newest first.", list[EvaluationJob])},
        errors={400: "`limit` is not an integer >= 1."},
    ),
    Route(
        "GET",
        "/v1/evaluations",
        api.list_evaluations,
        "evaluations.list",
        slow=True,
        summary="List evaluation jobs (the plural path of SDK 1.x)",
        query=LIST_QUERY,
        ok={200: Reply("The jobs, newest first.", list[EvaluationJob])},
        errors={400: "`limit` is not an integer >= 1."},
    ),
    Route(
        "GET",
        "/v1/evaluation/model-list",
        api.model_list,
        "evaluation.model_list",
        summary="The models a job may use",
        query=(MODEL_SOURCE,),
        ok={200: Reply("OK", ModelListResponse)},
    ),
    Route(
        "GET",
        "/v1/evaluations/model-list",
        api.model_list,
        "evaluations.model_list",
        summary="The models a job may use (the plural path of SDK 1.x)",
        query=(MODEL_SOURCE,),
        ok={200: Reply("OK", ModelListResponse)},
    ),
    Route(
        "GET",
        "/v1/evaluation/{id}",
        api.get_evaluation,
        "evaluation.retrieve",
        summary="Retrieve an evaluation job",
        params=(JOB_ID,),
        ok={200: Reply("The job.", EvaluationJob)},
        errors={404: NO_JOB},
    ),
    Route(
        "GET",
        "/v1/evaluation/{id}/status",
        api.get_evaluation_status,
        "evaluation.status",
        summary="An evaluation job's status and results",
        params=(JOB_ID,),
        ok={200: Reply("OK", EvaluationStatusResponse)},
        errors={404: NO_JOB},
    ),
    Route(
        "POST",
        "/v1/evaluation/{id}/update",
        api.update_evaluation,
        "evaluation.update",
        summary="Set a job's status, results or error (a test hook)",
        params=(JOB_ID,),
        body=json_body(EvaluationUpdateRequest),
        ok={200: Reply("OK", EvaluationUpdateResponse)},
        errors={400: BAD_BODY, 404: NO_JOB},
    ),
    Route(
        "POST",
        "/v1/files",
        api.request_upload,
        "files.upload",
        summary="Start an upload: a redirect to the URL that takes the bytes",
        body=UPLOAD_FORMS,
        ok={
            302: Reply(
                "PUT the bytes to `Location`, then preprocess the file.",
                headers={"location": "The upload URL.", "x-together-file-id": "The new file's id."},
            ),
            200: Reply("The multipart form carried the bytes (`file`): the file is stored.", FileObject),
        },
        errors={400: BAD_FORM},
        bulk=True,
    ),
    Route(
        "POST",
        "/v1/files/upload",
        api.direct_upload,
        "files.direct_upload",
        summary="Upload a file in one multipart request",
        body=Body({"multipart/form-data": DirectUploadForm}),
        ok=FILE,
        errors={400: BAD_FORM},
        bulk=True,
    ),
    Route(
        "POST",
        "/v1/files/multipart/initiate",
        api.initiate_multipart,
        "files.multipart.initiate",
        summary="Start a multipart upload: one URL per part",
        body=json_body(MultipartInitiateRequest),
        ok={200: Reply("PUT each part to its URL, then complete.", MultipartInitiateResponse)},
        errors={400: BAD_BODY},
    ),
    Route(
        "POST",
        "/v1/files/multipart/complete",
        api.complete_multipart,
        "files.multipart.complete",
        slow=True,
        summary="Finish a multipart upload",
        body=json_body(MultipartCompleteRequest),
        ok=FILE,
        errors={
            400: BAD_BODY + " Or a part was never uploaded.",
            403: "The multipart upload expired.",
            404: "No such multipart upload for this key.",
        },
    ),
    Route(
        "POST",
        "/v1/files/multipart/abort",
        api.abort_multipart,
        "files.multipart.abort",
        summary="Abandon a multipart upload",
        body=json_body(MultipartAbortRequest),
        ok={200: Reply("OK", EmptyObject)},
        errors={400: BAD_BODY, 404: "No such multipart upload for this key."},
    ),
    Route(
        "GET",
        "/v1/files",
        api.list_files,
        "files.list",
        slow=True,
        prepare=api.prepare_sizes,
        summary="List files: the built-in datasets, then the key's own",
        ok={200: Reply("OK", FileListResponse)},
    ),
    Route(
        "GET",
        "/v1/files/{id}",
        api.get_file,
        "files.retrieve",
        slow=True,
        prepare=api.prepare_sizes,
        summary="Retrieve a file",
        params=(FILE_ID,),
        ok=FILE,
        errors={404: NO_FILE},
    ),
    Route(
        "DELETE",
        "/v1/files/{id}",
        api.delete_file,
        "files.delete",
        summary="Delete a file",
        params=(FILE_ID,),
        ok={200: Reply("OK", FileDeleteResponse)},
        errors={403: "A built-in dataset cannot be deleted.", 404: NO_FILE},
    ),
    Route(
        "GET",
        "/v1/files/{id}/content",
        api.file_content,
        "files.content",
        slow=True,
        summary="A file's bytes",
        params=(FILE_ID,),
        ok={200: Reply("The bytes.", bytes, "application/octet-stream")},
        errors={404: NO_FILE},
    ),
    Route(
        "POST",
        "/v1/files/{id}/preprocess",
        api.preprocess,
        "files.preprocess",
        summary="Finish a two-step upload once its bytes are in",
        params=(FILE_ID,),
        ok=FILE,
        errors={400: "The file's bytes were not uploaded yet.", 404: "No file with this id for this API key."},
    ),
    Route(
        "GET",
        "/v3/whoami",
        api.whoami,
        "whoami",
        summary="The API key's organization and project",
        ok={200: Reply("OK", WhoamiResponse)},
    ),
    Route(
        "PUT",
        UPLOAD_PREFIX + "{token}",
        api.receive_upload,
        "upload.put",
        summary="The upload URL: takes a file's bytes",
        auth="none",
        params=(UPLOAD_TOKEN,),
        body=Body({"application/octet-stream": bytes}, required=False),
        ok={200: Reply("Stored; now preprocess the file.")},
        errors={
            403: UPLOAD_URL_DEAD,
            404: "An upload URL this emulator never issued (or a multipart part URL).",
        },
        bulk=True,
    ),
    Route(
        "PUT",
        UPLOAD_PREFIX + "{token}/parts/{part:int}",
        api.receive_part,
        "upload.put_part",
        summary="A multipart upload's part URL: takes one part's bytes",
        auth="none",
        params=(UPLOAD_TOKEN, Param("part", "The part number.", {"type": "integer", "minimum": 0})),
        body=Body({"application/octet-stream": bytes}, required=False),
        ok={200: Reply("Stored; complete the upload with this etag.", headers={"etag": "The part's etag."})},
        errors={
            403: UPLOAD_URL_DEAD,
            404: "An upload URL this emulator never issued, or not a multipart one.",
        },
        bulk=True,
    ),
]

# ---------------------------------------------------------------- the control plane


def _ok(schema: object, description: str = "OK", status: int = 200) -> dict[int, Reply]:
    return {status: Reply(description, schema)}


ANY_JOB_ID = Param("id", "A job's workflow id (`eval-…`), whichever API key created it.")
NO_SUCH_JOB = "No job with this id."
SCENARIO_ID = Param("id", "The id a scenario rule was given when added (`scn-1`, …).")
FAULT_ID = Param("id", "The id a fault rule was given when added (`fault-1`, …).")
RECORDING_NAME = Param("name", "A recording's name (`GET /_emulator/recordings` lists them).")
EVAL_TYPE = Param(
    "type",
    "An evaluation type; any other value is a 400.",
    {"type": "string", "enum": ["classify", "score", "compare"]},
)
JOURNAL_FILTERS = (
    Param("route", "A route name (`evaluation.status`) or `METHOD /path/template`; an unknown one is a 400."),
    Param("job_id", "Only requests about this job."),
    Param("file_id", "Only requests about this file."),
    Param("tenant", "Only requests of this API key or tenant name."),
    Param("status_code", "Only answers with this HTTP status (a value that is not all digits is ignored)."),
)
CLOCK = _ok(ClockState, "The clock after the change.")
POLLING_QUERY = (
    Param(
        "min_interval",
        "Shortest polling interval in seconds, on the emulator clock (default: the setting "
        "`polling_min_interval_seconds`, 1).",
        {"type": "number", "minimum": 0},
    ),
    Param(
        "stops_after_terminal",
        "`false`: reads after the job ended are not checked (default `true`).",
        {"type": "boolean"},
    ),
    Param(
        "reads_after_terminal",
        "Reads allowed after the one that saw the job end (default: `polling_reads_after_terminal`, 0).",
        {"type": "integer", "minimum": 0},
    ),
    Param(
        "honours_retry_after",
        "`false`: reads that came before a Retry-After had passed are not a finding "
        "(default: `polling_honours_retry_after`, true).",
        {"type": "boolean"},
    ),
    Param(
        "list_watches",
        "List calls allowed to watch a running job (default: `polling_list_watches`, 0).",
        {"type": "integer", "minimum": 0},
    ),
    Param(
        "wall_clock",
        "`true`: add the intervals on the wall clock (they differ from run to run).",
        {"type": "boolean"},
    ),
)
BAD_POLLING_QUERY = "A query parameter is invalid or unknown (named in `error.param`)."

CONTROL_ROUTES: list[Route] = [
    Route(
        "GET",
        "/_emulator/health",
        control.health,
        "control.health",
        summary="Liveness and version (never needs the admin token)",
        auth="none",
        ok=_ok(Health),
    ),
    Route(
        "POST",
        "/_emulator/reset",
        control.reset,
        "control.reset",
        summary="Back to the startup state: jobs, files, scenarios, faults, clock and ids (the seed is kept)",
        auth="admin",
        ok=_ok(Health),
    ),
    Route(
        "POST",
        "/_emulator/reset/journal",
        control.reset_journal,
        "control.reset.journal",
        summary="Forget the recorded requests",
        auth="admin",
        ok=_ok(Health),
    ),
    Route(
        "GET",
        "/_emulator/requests",
        control.list_requests,
        "control.requests",
        slow=True,
        summary="The request journal, oldest first, filtered by the query",
        auth="admin",
        query=JOURNAL_FILTERS,
        ok=_ok(RecordedRequestList),
        errors={400: "Unknown route name or template in `route`."},
    ),
    Route(
        "GET",
        "/_emulator/seed",
        control.get_seed,
        "control.seed.get",
        summary="The seed",
        auth="admin",
        ok=_ok(SeedState),
    ),
    Route(
        "POST",
        "/_emulator/seed",
        control.set_seed,
        "control.seed",
        summary="Start over from a new seed (state and journal reset; the clock keeps its time)",
        auth="admin",
        body=json_body(control.SeedRequest),
        ok=_ok(SeedState),
        errors={400: BAD_BODY},
    ),
    Route(
        "GET",
        "/_emulator/clock",
        control.clock_state,
        "control.clock",
        summary="The clock",
        auth="admin",
        ok=_ok(ClockState),
    ),
    Route(
        "POST",
        "/_emulator/clock/advance",
        control.advance_clock,
        "control.clock.advance",
        summary="Move the clock forward",
        auth="admin",
        body=json_body(ClockAdvanceRequest),
        ok=CLOCK,
        errors={400: BAD_BODY},
    ),
    Route(
        "POST",
        "/_emulator/clock/set",
        control.set_clock,
        "control.clock.set",
        summary="Set the clock to an instant",
        auth="admin",
        body=json_body(control.ClockSetRequest),
        ok=CLOCK,
        errors={400: BAD_BODY + " `now` must be RFC 3339 or epoch seconds."},
    ),
    Route(
        "POST",
        "/_emulator/clock/freeze",
        control.freeze_clock,
        "control.clock.freeze",
        summary="Stop the clock (manual mode: it moves only when told)",
        auth="admin",
        ok=CLOCK,
    ),
    Route(
        "POST",
        "/_emulator/clock/run",
        control.run_clock,
        "control.clock.run",
        summary="Run the clock on wall time, optionally scaled",
        auth="admin",
        body=json_body(control.ClockRunRequest, required=False),
        ok=CLOCK,
        errors={400: BAD_BODY},
    ),
    Route(
        "POST",
        "/_emulator/clock/scale",
        control.scale_clock,
        "control.clock.scale",
        summary="Change the clock's speed, keeping its mode",
        auth="admin",
        body=json_body(control.ClockScaleRequest),
        ok=CLOCK,
        errors={400: BAD_BODY},
    ),
    Route(
        "GET",
        "/_emulator/scenarios",
        control.list_scenarios,
        "control.scenarios",
        summary="Every scenario: the default, per type, and the rules",
        auth="admin",
        ok=_ok(ScenarioBook),
    ),
    Route(
        "POST",
        "/_emulator/scenarios",
        control.add_scenario,
        "control.scenarios.add",
        summary="Add a scenario rule (or an entry for the next `times` matching creates)",
        auth="admin",
        body=json_body(ScenarioEntry),
        ok=_ok(ScenarioEntry, "The rule as added, with its id.", 201),
        errors={400: BAD_BODY},
    ),
    Route(
        "DELETE",
        "/_emulator/scenarios",
        control.clear_scenarios,
        "control.scenarios.clear",
        summary="Remove every scenario rule",
        auth="admin",
        ok=_ok(RemovedRules),
    ),
    Route(
        "PUT",
        "/_emulator/scenarios/default",
        control.set_default_scenario,
        "control.scenarios.default",
        summary="Set the default scenario",
        auth="admin",
        body=json_body(Scenario),
        ok=_ok(Scenario),
        errors={400: BAD_BODY},
    ),
    Route(
        "DELETE",
        "/_emulator/scenarios/default",
        control.clear_default_scenario,
        "control.scenarios.default.clear",
        summary="Clear the default scenario",
        auth="admin",
        ok=_ok(Scenario),
    ),
    Route(
        "PUT",
        "/_emulator/scenarios/types/{type}",
        control.set_type_scenario,
        "control.scenarios.type",
        summary="Set the scenario of one evaluation type",
        auth="admin",
        params=(EVAL_TYPE,),
        body=json_body(Scenario),
        ok=_ok(Scenario),
        errors={400: BAD_BODY + " Or an unknown evaluation type."},
    ),
    Route(
        "DELETE",
        "/_emulator/scenarios/types/{type}",
        control.clear_type_scenario,
        "control.scenarios.type.clear",
        summary="Clear the scenario of one evaluation type",
        auth="admin",
        params=(EVAL_TYPE,),
        ok=_ok(Scenario, "The scenario removed (an empty one when there was none)."),
        errors={400: "Unknown evaluation type."},
    ),
    Route(
        "DELETE",
        "/_emulator/scenarios/{id}",
        control.remove_scenario,
        "control.scenarios.remove",
        summary="Remove one scenario rule",
        auth="admin",
        params=(SCENARIO_ID,),
        ok=_ok(ScenarioEntry, "The rule removed."),
        errors={404: "No scenario rule with this id."},
    ),
    Route(
        "GET",
        "/_emulator/faults",
        control.list_faults,
        "control.faults",
        summary="Every fault rule",
        auth="admin",
        ok=_ok(FaultBook),
    ),
    Route(
        "POST",
        "/_emulator/faults",
        control.add_fault,
        "control.faults.add",
        summary="Add a fault rule",
        auth="admin",
        body=json_body(FaultRule),
        ok=_ok(FaultRule, "The rule as added, with its id.", 201),
        errors={400: BAD_BODY},
    ),
    Route(
        "PUT",
        "/_emulator/faults",
        control.replace_faults,
        "control.faults.replace",
        summary="Replace every fault rule at once (`[]` removes them all)",
        auth="admin",
        body=json_body(list[FaultRule]),
        ok=_ok(FaultBook),
        errors={400: BAD_BODY},
    ),
    Route(
        "DELETE",
        "/_emulator/faults",
        control.clear_faults,
        "control.faults.clear",
        summary="Remove every fault rule",
        auth="admin",
        ok=_ok(RemovedRules),
    ),
    Route(
        "DELETE",
        "/_emulator/faults/{id}",
        control.remove_fault,
        "control.faults.remove",
        summary="Remove one fault rule",
        auth="admin",
        params=(FAULT_ID,),
        ok=_ok(FaultRule, "The rule removed."),
        errors={404: "No fault rule with this id."},
    ),
    Route(
        "GET",
        "/_emulator/jobs",
        control.list_jobs,
        "control.jobs",
        slow=True,
        summary="Every job of every API key (not a client read)",
        auth="admin",
        ok=_ok(list[JobSummary]),
    ),
    Route(
        "GET",
        "/_emulator/jobs/{id}",
        control.get_job,
        "control.jobs.get",
        summary="One job, its timeline and results (not a client read)",
        auth="admin",
        params=(ANY_JOB_ID,),
        ok=_ok(JobSummary),
        errors={404: NO_SUCH_JOB},
    ),
    Route(
        "POST",
        "/_emulator/jobs/{id}/advance",
        control.advance_job,
        "control.jobs.advance",
        summary="Move a job on by `steps` phases now",
        auth="admin",
        params=(ANY_JOB_ID,),
        body=json_body(control.JobAdvanceRequest, required=False),
        ok=_ok(JobSummary),
        errors={400: BAD_BODY, 404: NO_SUCH_JOB, 409: "The job has no further phase to advance to."},
    ),
    Route(
        "POST",
        "/_emulator/jobs/{id}/status",
        control.force_job_status,
        "control.jobs.status",
        summary="Put a job in a status now (a terminal one ends it)",
        auth="admin",
        params=(ANY_JOB_ID,),
        body=json_body(control.JobStatusRequest),
        ok=_ok(JobSummary),
        errors={400: BAD_BODY + " `message` only goes with 'error' or 'user_error'.", 404: NO_SUCH_JOB},
    ),
    Route(
        "PUT",
        "/_emulator/jobs/{id}/scenario",
        control.set_job_scenario,
        "control.jobs.scenario",
        summary="Give one running job a progression and/or an outcome",
        auth="admin",
        params=(ANY_JOB_ID,),
        body=json_body(Scenario),
        ok=_ok(JobSummary),
        errors={400: BAD_BODY, 404: NO_SUCH_JOB, 409: "The job has already ended."},
    ),
    Route(
        "GET",
        "/_emulator/capacity",
        control.get_capacity,
        "control.queue.capacity",
        summary="The capacity in force: most jobs running at once per API key and in all (null: no limit)",
        auth="admin",
        ok=_ok(CapacityState),
    ),
    Route(
        "PUT",
        "/_emulator/capacity",
        control.set_capacity,
        "control.queue.capacity.set",
        summary="Set the capacity from now on (a key left out or null: no limit)",
        auth="admin",
        body=json_body(CapacityState),
        ok=_ok(CapacityState, "The capacity now in force."),
        errors={400: BAD_BODY + " A limit is an integer >= 1 or null."},
    ),
    Route(
        "GET",
        "/_emulator/queue",
        control.get_queue,
        "control.queue",
        summary="The jobs waiting in `queued` now, in line order, with their positions and planned starts",
        auth="admin",
        ok=_ok(QueueState),
    ),
    Route(
        "GET",
        "/_emulator/recordings",
        control.list_recordings,
        "control.recordings",
        summary="Every recording a job can replay: the built-in ones, then those added",
        auth="admin",
        ok=_ok(RecordingList),
    ),
    Route(
        "POST",
        "/_emulator/recordings",
        control.add_recording,
        "control.recordings.add",
        summary="Keep a recorded job (what GET /v1/evaluation/{id} answered) for jobs to replay",
        auth="admin",
        body=json_body(Recording),
        ok=_ok(RecordingSummary, "The recording as kept.", 201),
        errors={400: BAD_BODY, 409: "A recording of this name exists already (recordings are never replaced)."},
        bulk=True,
    ),
    Route(
        "GET",
        "/_emulator/recordings/{name}",
        control.get_recording,
        "control.recordings.get",
        summary="One recording, as it was added (with its result file, if any)",
        auth="admin",
        params=(RECORDING_NAME,),
        ok=_ok(Recording),
        errors={404: "No recording of this name."},
    ),
    Route(
        "GET",
        "/_emulator/jobs/{id}/polling",
        control.polling_report,
        "control.jobs.polling",
        slow=True,
        summary="How clients polled one job, and the verdict (not a client read)",
        auth="admin",
        params=(ANY_JOB_ID,),
        query=POLLING_QUERY,
        ok=_ok(PollingReport),
        errors={400: BAD_POLLING_QUERY, 404: NO_SUCH_JOB},
    ),
    Route(
        "GET",
        "/_emulator/polling",
        control.polling_reports,
        "control.polling",
        slow=True,
        summary="How clients polled every job: one report per job, with its verdict",
        auth="admin",
        query=(
            Param("tenant", "Only the jobs of this API key, tenant name or key fingerprint."),
            Param(
                "verdict",
                "Only the reports with this verdict.",
                {"type": "string", "enum": ["ok", "bad", "incomplete"]},
            ),
            *POLLING_QUERY,
        ),
        ok=_ok(PollingReportList),
        errors={400: BAD_POLLING_QUERY},
    ),
    Route(
        "GET",
        "/_emulator/paths",
        control.list_paths,
        "control.paths",
        summary="Every lifecycle path a job can take, filtered; each with the scenario that makes jobs follow it",
        auth="admin",
        query=(
            Param(
                "terminal",
                "How the paths end, comma-separated: `completed`, `error`, `user_error`, `stall` (default: all).",
            ),
            Param(
                "at",
                "Phases an error, user_error or stall happens in, comma-separated: `pending`, `queued`, "
                "`running` (default: all).",
            ),
            Param(
                "max_preemptions",
                f"Also the paths with 1..k preemptions before an end reached from running (0 to {MAX_PREEMPTIONS}; "
                "default 0).",
                {"type": "integer", "minimum": 0, "maximum": MAX_PREEMPTIONS},
            ),
            Param(
                "progression",
                "`durations` (default: the settings' seconds per phase) or `after_polls` (phases move on reads).",
                {"type": "string", "enum": ["durations", "after_polls"]},
            ),
            Param(
                "max_polls",
                f"`after_polls`: each phase shown for 1..N reads, every combination a path (1 to {MAX_POLLS}; "
                "default 1).",
                {"type": "integer", "minimum": 1, "maximum": MAX_POLLS},
            ),
            Param(
                "type",
                "The evaluation type whose creates each path's scenario entry matches (default: every type).",
                {"type": "string", "enum": ["classify", "score", "compare"]},
            ),
        ),
        ok=_ok(PathList),
        errors={400: "A query parameter is invalid or unknown (named in `error.param`)."},
    ),
    Route(
        "PUT",
        "/_emulator/paths/{id}",
        control.attach_path,
        "control.paths.attach",
        summary="Make the next jobs follow one lifecycle path (adds its scenario entry)",
        auth="admin",
        params=(Param("id", "A path's id, as listed (`pending.queued.error`, `pending.queued.stall@1`)."),),
        body=json_body(control.PathAttachRequest, required=False),
        ok=_ok(ScenarioEntry, "The scenario entry added, with its id.", 201),
        errors={400: BAD_BODY, 404: "No lifecycle path with this id."},
    ),
    Route(
        "GET",
        "/_emulator/state",
        control.get_state,
        "control.state",
        slow=True,
        summary="Export the whole state (jobs, files, uploads, ids, clock, rules)",
        auth="admin",
        ok=_ok(Snapshot),
    ),
    Route(
        "PUT",
        "/_emulator/state",
        control.put_state,
        "control.state.import",
        slow=True,
        summary="Replace the whole state with an export",
        auth="admin",
        body=json_body(Snapshot),
        ok=_ok(StateImported),
        errors={400: BAD_BODY},
        bulk=True,
    ),
]

# ---------------------------------------------------------------- the dashboard (docs/dashboard.md)

# HTML pages for a browser, left out of the OpenAPI document. The dispatcher lets every request
# through (`auth="none"`): each handler checks the admin token itself (a header, or the dashboard's
# session cookie) and answers a browser without it with the token form, a 401 page, not a JSON error.
UI = "/_emulator/ui"
PAGE_QUERY_NOTE = "`fragment=live`: only the page's live part (what the page's script fetches to refresh it)."
NO_TOKEN_PAGE = "No admin token (header or session cookie) on an emulator that has one: the token form."
FOREIGN_FORM = "The form did not come from this dashboard's page (origin or form token)."


def _page(path: str, handler: Handler, name: str, summary: str, query: tuple[Param, ...] = ()) -> Route:
    return Route(
        "GET",
        UI + path,
        handler,
        f"dashboard.{name}",
        summary=summary,
        auth="none",
        openapi=False,
        slow=True,  # a page reads every job, request or file: the server answers it off its event loop
        query=(*query, Param("fragment", PAGE_QUERY_NOTE)),
        ok={200: Reply("The page.", str, dashboard.HTML)},
        errors={401: NO_TOKEN_PAGE},
    )


def _form(path: str, handler: Handler, name: str, summary: str, errors: Mapping[int, str]) -> Route:
    return Route(
        "POST",
        UI + path,
        handler,
        f"dashboard.{name}",
        summary=summary,
        auth="none",
        openapi=False,
        body=Body({"application/x-www-form-urlencoded": dict[str, str]}),
        ok={303: Reply("Done: back to the page.", headers={"location": "The page."})},
        errors=errors,
    )


DASHBOARD_ROUTES: list[Route] = [
    _page(
        "",
        dashboard.jobs,
        "jobs",
        "Every tenant's jobs, newest first, with their timelines",
        (Param("tenant", "Only this tenant's jobs."), Param("status", "Only jobs in this status."), EVAL_TYPE),
    ),
    _page(
        "/journal",
        dashboard.journal,
        "journal",
        "The request journal, newest first",
        (
            *JOURNAL_FILTERS,
            Param("seq", "Show this request's body."),
        ),
    ),
    _page("/clock", dashboard.clock, "clock", "The clock", (Param("done", "What the last form did."),)),
    _page(
        "/rules",
        dashboard.rules,
        "rules",
        "Scenario and fault rules, with JSON editors",
        (
            Param("added", "The id of the rule just added."),
            Param("removed", "The id of the rule just removed."),
        ),
    ),
    _page("/files", dashboard.files_list, "files", "Every tenant's files"),
    _form(
        "/clock",
        dashboard.move_clock,
        "clock.move",
        "Advance, set, freeze or run the clock",
        {
            400: "The control plane's clock model refused the values (shown on the page).",
            401: NO_TOKEN_PAGE,
            403: FOREIGN_FORM,
        },
    ),
    _form(
        "/rules",
        dashboard.change_rules,
        "rules.change",
        "Add a scenario or fault rule from JSON, or remove one",
        {
            400: "The control plane's rule model refused the JSON (the message is shown on the page).",
            401: NO_TOKEN_PAGE,
            403: FOREIGN_FORM,
            404: "No rule with this id (removed already).",
        },
    ),
    _form(
        "/login",
        dashboard.sign_in,
        "login",
        "The token form: a session cookie for the dashboard",
        {401: "Not the admin token: the form again.", 403: "Posted from another site's page."},
    ),
    _form(
        "/logout", dashboard.sign_out, "logout", "End the dashboard session", {403: "Posted from another site's page."}
    ),
    Route(
        "GET",
        UI + "/files/{id}/content",
        dashboard.file_content,
        "dashboard.files.content",
        summary="A file's bytes as plain text, whichever tenant owns it",
        auth="none",
        openapi=False,
        slow=True,
        params=(Param("id", "A file's id, or the name of a built-in dataset."),),
        ok={200: Reply("The bytes.", bytes, "text/plain; charset=utf-8")},
        errors={401: NO_TOKEN_PAGE, 404: "No such file (yet)."},
    ),
    Route(
        "GET",
        UI + "/static/{name}",
        dashboard.static,
        "dashboard.static",
        summary="The dashboard's stylesheet and script",
        auth="none",
        openapi=False,
        params=(Param("name", "`dashboard.css` or `dashboard.js`."),),
        ok={200: Reply("The asset.", bytes, "text/css")},
        errors={404: "No such asset."},
    ),
]

# ---------------------------------------------------------------- with the add-ons


def _widened(schema: Schema, alternatives: Mapping[Schema, list[Schema]]) -> Schema:
    """`schema` with each real model the add-ons extend replaced by `Real | Alternative | ...`
    (inside a `list[...]` too)."""
    if isinstance(schema, GenericAlias) and schema.__origin__ is list:
        return list[_widened(schema.__args__[0], alternatives)]  # type: ignore[misc]
    extra = alternatives.get(schema) if isinstance(schema, type) else None
    return reduce(operator.or_, [schema, *extra]) if extra else schema


def _with_addons(route: Route, alternatives: Mapping[Schema, list[Schema]], notes: Sequence[str]) -> Route:
    """A route of the table as the add-ons extend it (the route itself when they do not)."""
    body = route.body
    if body is not None:
        body = dataclasses.replace(body, content={k: _widened(v, alternatives) for k, v in body.content.items()})
    ok = {
        status: dataclasses.replace(reply, schema=_widened(reply.schema, alternatives))
        for status, reply in route.ok.items()
    }
    if body == route.body and ok == route.ok:
        return route
    # A route that now takes an add-on's bodies says so.
    description = " ".join([route.description, *notes]) if body != route.body else route.description
    return dataclasses.replace(route, body=body, ok=ok, description=description)


@lru_cache(maxsize=8)
def route_table(extensions: tuple[ApiExtension, ...] = ()) -> tuple[Route, ...]:
    """The routes of an emulator with these add-ons: the Together API (with the add-ons' models
    declared beside the real ones), the add-ons' own routes, the control plane and the OpenAPI
    document. Built once per set of add-ons."""
    alternatives: dict[Schema, list[Schema]] = {}
    for extension in extensions:
        for real, alternative in extension.alternatives.items():
            alternatives.setdefault(real, []).append(alternative)
    notes = [extension.create_description for extension in extensions if extension.create_description]
    api_routes = [_with_addons(route, alternatives, notes) for route in API_ROUTES]
    own = [route for extension in extensions for route in extension.routes()]
    return (*api_routes, *own, *CONTROL_ROUTES, *DASHBOARD_ROUTES, OPENAPI_ROUTE)
