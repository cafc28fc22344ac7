"""Wire models: every request and response body the emulator reads or writes (docs/wire-contract.md#routes).

Field order here is the order on the wire. Job and file state never build dictionaries
themselves; `views.py` turns state into these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SerializerFunctionWrapHandler,
    StrictStr,
    model_serializer,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from ..engine._clock import SPAN_SECONDS

# Re-exported: the job parameter models are wire models too.
from ..engine._parameters import (
    PARAMETER_MODELS as PARAMETER_MODELS,
    STATUSES as STATUSES,
    ClassifyParameters as ClassifyParameters,
    CompareParameters as CompareParameters,
    EvalType as EvalType,
    FilePurpose as FilePurpose,
    FileType as FileType,
    JudgeConfig as JudgeConfig,
    ModelField as ModelField,
    ModelRequest as ModelRequest,
    ModelSource as ModelSource,
    Number as Number,
    Parameters as Parameters,
    ScoreParameters as ScoreParameters,
    Status as Status,
    _Params as _Params,
)
from ..engine._scenarios import Outcome, Progression

# ---------------------------------------------------------------- errors (docs/wire-contract.md#errors)


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ClassifyCreateRequest(BaseModel):
    type: Literal["classify"]
    parameters: ClassifyParameters


class ScoreCreateRequest(BaseModel):
    type: Literal["score"]
    parameters: ScoreParameters


class CompareCreateRequest(BaseModel):
    type: Literal["compare"]
    parameters: CompareParameters


class EvaluationCreateRequest(
    RootModel[Annotated[ClassifyCreateRequest | ScoreCreateRequest | CompareCreateRequest, Field(discriminator="type")]]
):
    """A create of the real contract: `type` picks the shape of `parameters`."""

    # The OpenAPI document's view: the engine validates a create itself (`engine._validation`),
    # to report problems in the order the real API does.


class EvaluationCreateResponse(BaseModel):
    workflow_id: str
    status: Literal["pending"] = "pending"


# ---------------------------------------------------------------- jobs (docs/reference/evaluations.md#the-job-object)


class StatusUpdate(BaseModel):
    status: Status
    message: str
    timestamp: str


class EvaluationJob(BaseModel):
    workflow_id: str
    type: EvalType
    owner_id: str
    status: Status
    status_updates: list[StatusUpdate]
    parameters: dict[str, Any]
    created_at: str
    updated_at: str
    results: dict[str, Any] | None = None


class EvaluationStatusResponse(BaseModel):
    status: Status
    results: dict[str, Any] | None = None


class ModelListResponse(BaseModel):
    model_list: list[str]


class EvaluationUpdateRequest(BaseModel):
    """POST /v1/evaluation/{id}/update: a test hook that sets a job's status, results or error."""

    model_config = ConfigDict(strict=True, extra="ignore")

    status: Status | None = None
    results: dict[str, Any] | None = None
    error: StrictStr | None = None


class EvaluationUpdateResponse(BaseModel):
    workflow_id: str
    status: Status


# ---------------------------------------------------------------- files (docs/reference/files.md)


class FileObject(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    object: Literal["file"] = "file"
    created_at: int
    type: None = None
    purpose: FilePurpose
    filename: str
    bytes: int
    line_count: int = Field(0, alias="LineCount")
    processed: bool = Field(True, alias="Processed")
    file_type: FileType = Field(alias="FileType")
    project_id: str
    organization_id: str


class FileListResponse(BaseModel):
    data: list[FileObject]


class EmptyObject(BaseModel):
    """`{}`: the answer of a multipart abort."""

    model_config = ConfigDict(extra="forbid")


class FileDeleteResponse(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


def _form_schema(schema: JsonDict) -> None:
    """A form field is never null: in the JSON schema, an optional one is just left out."""
    properties = schema.get("properties", {})
    assert isinstance(properties, dict)
    for field_schema in properties.values():
        if isinstance(field_schema, dict) and "default" in field_schema and field_schema["default"] is None:
            del field_schema["default"]


class UploadRequestForm(BaseModel):
    """Step 1 of an upload (form-urlencoded from 1.5.x, multipart text parts from 3.x)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_form_schema)

    purpose: FilePurpose
    file_name: str = Field(min_length=1)
    file_type: FileType = "jsonl"
    checksum: str | SkipJsonSchema[None] = None  # a form field is never null


class UploadRequestMultipart(UploadRequestForm):
    """Step 1 of an upload as multipart/form-data: the same fields, and the bytes may come along
    (then the file is stored at once and the answer is the file, not a redirect)."""

    file: bytes | SkipJsonSchema[None] = None


class DirectUploadForm(BaseModel):
    """POST /v1/files/upload: the file's bytes in the part `file`; its name and type default to the
    part's filename and its extension."""

    model_config = ConfigDict(json_schema_extra=_form_schema)

    file: bytes
    purpose: FilePurpose
    file_name: str | SkipJsonSchema[None] = Field(None, min_length=1)
    file_type: FileType | SkipJsonSchema[None] = None
    checksum: str | SkipJsonSchema[None] = None


class MultipartInitiateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    file_name: str = Field(min_length=1)
    file_size: int = Field(ge=0)
    num_parts: int = Field(ge=1, le=10_000)
    purpose: FilePurpose
    file_type: FileType = "jsonl"
    checksum: str | None = None


class UploadPart(BaseModel):
    PartNumber: int
    URL: str
    Headers: dict[str, str] = Field(default_factory=dict)


class MultipartInitiateResponse(BaseModel):
    upload_id: str
    file_id: str
    parts: list[UploadPart]


class CompletedPart(BaseModel):
    part_number: int = Field(ge=1)
    etag: str


class MultipartCompleteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    upload_id: str
    file_id: str
    parts: list[CompletedPart]


class MultipartAbortRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    upload_id: str
    file_id: str


# ---------------------------------------------------------------- whoami (docs/wire-contract.md#whoami)


class WhoamiAPIKey(BaseModel):
    id: str


class WhoamiOrganization(BaseModel):
    id: str
    name: str


class WhoamiProject(BaseModel):
    id: str
    name: str
    slug: str


class WhoamiResponse(BaseModel):
    type: Literal["project_api_key"] = "project_api_key"
    api_key: WhoamiAPIKey
    organization: WhoamiOrganization
    project: WhoamiProject


# ---------------------------------------------------------------- control plane


class ClockState(BaseModel):
    now: str
    epoch: float
    mode: Literal["real", "manual"]
    time_scale: float


class ClockAdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, le=SPAN_SECONDS, description="Not past the end of the clock's range (year 9999).")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class SeedState(BaseModel):
    seed: int


class RemovedRules(BaseModel):
    """What a DELETE that empties a book of rules removed: their ids."""

    removed: list[str]


class StateImported(BaseModel):
    imported: Literal[True]
    tenants: int
    jobs: int


class TimelineEntry(BaseModel):
    status: Status
    reached: bool
    at: str | None  # when the phase is (or was) entered; None while it waits on reads or the control plane
    after_reads: int | None


class CapacityState(BaseModel):
    """The capacity: most jobs `running` at once per API key, in all and per evaluation type (null:
    no limit), and the API keys or tenant names whose waiting jobs go first (null: none). The body
    of `PUT /_emulator/capacity` (a key left out is null) and its answer, which shows `per_type`
    and `priority` only when set."""

    model_config = ConfigDict(extra="forbid", strict=True)

    per_tenant: int | None = Field(None, ge=1)
    total: int | None = Field(None, ge=1)
    per_type: dict[EvalType, Annotated[int, Field(ge=1)]] | None = None
    priority: list[Annotated[str, Field(min_length=1)]] | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation: pydantic would take it as the answer's schema instead of the fields'.
        data = handler(self)
        for name in ("per_type", "priority"):
            if not data.get(name):
                data.pop(name, None)  # unset: the answer reads as before these keys existed
        return data


class QueuePlace(BaseModel):
    """Where a `queued` job stands: its 1-based position among every queued job in line order
    (first created first), when it entered `queued`, and when its next `running` phase is planned
    to start (null: not on the clock, e.g. the slots are held by jobs that never end)."""

    position: int
    queued_since: str
    planned_start: str | None


class QueuedJob(QueuePlace):
    workflow_id: str
    tenant: str


class QueueState(BaseModel):
    """`GET /_emulator/queue`: the capacity in force, how many jobs are `running` now, and every
    `queued` job in line order."""

    capacity: CapacityState
    running: int
    data: list[QueuedJob]


class RecordedPhase(BaseModel):
    status: Status
    offset_seconds: float  # from the job's creation (its first status update)


class RecordingSummary(BaseModel):
    """A recording as `GET /_emulator/recordings` lists it: its recorded timeline, how it ends, and
    whether it carries its result file (docs/recordings.md)."""

    name: str
    type: EvalType
    builtin: bool
    source: str | None
    timeline: list[RecordedPhase]
    final: Status
    result_file: bool


class RecordingList(BaseModel):
    data: list[RecordingSummary]


class JobSummary(BaseModel):
    """A job as the control plane shows it (reading it there is not a client read)."""

    workflow_id: str
    tenant: str
    type: EvalType
    status: Status
    reads: int
    progression: Progression
    outcome: Outcome
    source: dict[str, str]
    timeline: list[TimelineEntry]
    results: dict[str, Any] | None
    queue: QueuePlace | None  # null unless the job is `queued` now
    recording: str | None = None  # the recording it replays; only present on such a job
