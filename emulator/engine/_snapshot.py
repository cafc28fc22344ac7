"""Export and import of the whole emulator state as JSON: clock, seed, id generator, tenants with
their jobs and files, pending uploads, scenarios and fault rules (not the request journal).

Importing a snapshot taken with the same emulator version gives back an emulator that answers
every later request exactly as the exported one would have.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._clock import Clock
from ._datasets import Dataset
from ._errors import InvalidRequest
from ._faults import FaultBook
from ._lifecycle import Phase
from ._parameters import EvalType, Status
from ._results import Judge
from ._scenarios import Outcome, Progression, ScenarioBook, verdict_weights
from ._store import Job, PendingUpload, State, StoredFile, Tenant
from ._validation import validate_create

if TYPE_CHECKING:
    from ..http._core import Emulator

VERSION = 1


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseData(_Data):
    status: Status
    offset_ns: int | None
    after_reads: int | None = None


class DatasetData(_Data):
    columns: list[str]
    rows: list[dict[str, Any]]
    lines: list[str] | None = None  # a JSONL dataset's own lines: verdicts hash them


class JobData(_Data):
    workflow_id: str
    type: EvalType
    parameters: dict[str, Any]
    seed: int
    created_ns: int
    phases: list[PhaseData] = Field(min_length=1)
    dataset: DatasetData | None = None
    results: dict[str, Any] | None = None
    error: str | None = None
    result_file_id: str | None = None
    result_file_registered: bool = False
    progression: Progression = Field(default_factory=Progression)
    outcome: Outcome = Field(default_factory=Outcome)
    source: dict[str, str] = Field(default_factory=dict)
    problem: str | None = None
    failed_rows: int = 0
    reads: int = 0


class FileData(_Data):
    id: str
    filename: str
    purpose: str
    file_type: str
    created_ns: int
    content_b64: str | None = None
    source_job: str | None = None


class TenantData(_Data):
    key: str
    name: str | None = None
    files: list[FileData] = Field(default_factory=list)
    jobs: list[JobData] = Field(default_factory=list)


class UploadData(_Data):
    token: str
    tenant: str
    file_id: str
    parts: dict[int, str] = Field(default_factory=dict)  # part number -> base64
    multipart: bool = False


class ClockData(_Data):
    now_ns: int
    mode: Literal["real", "manual"]
    time_scale: float = Field(gt=0)


class Snapshot(_Data):
    version: Literal[1] = VERSION
    seed: int
    clock: ClockData
    ids: list[Any]
    tenants: list[TenantData] = Field(default_factory=list)
    uploads: list[UploadData] = Field(default_factory=list)
    workflow_ids: list[str] = Field(default_factory=list)
    scenarios: ScenarioBook = Field(default_factory=ScenarioBook)
    faults: FaultBook = Field(default_factory=FaultBook)
    known_keys: list[str] | None = None


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidRequest(f"Field '{where}' is not valid base64.", param=where) from None


def _job_data(job: Job) -> JobData:
    return JobData(
        workflow_id=job.workflow_id,
        type=job.type,
        parameters=job.parameters,  # type: ignore[arg-type]
        seed=job.judge.seed,
        created_ns=job.created_ns,
        phases=[
            PhaseData(status=p.status, offset_ns=p.offset_ns, after_reads=p.after_reads)  # type: ignore[arg-type]
            for p in job.phases
        ],
        dataset=DatasetData(
            columns=list(job.dataset.columns),
            rows=list(job.dataset.rows),
            lines=list(job.dataset.lines) if job.dataset.lines is not None else None,
        )
        if job.dataset
        else None,
        results=job.results,
        error=job.error,
        result_file_id=job.result_file_id,
        result_file_registered=job.result_file_registered,
        progression=job.progression,
        outcome=job.outcome,
        source=job.source,
        problem=job.problem,
        failed_rows=job.failed_rows,
        reads=job.reads,
    )


def export_state(emulator: Emulator) -> Snapshot:
    state = emulator.state
    return Snapshot(
        seed=emulator.config.seed,
        clock=ClockData(now_ns=emulator.clock.now_ns(), mode=emulator.clock.mode, time_scale=emulator.clock.scale),
        ids=emulator.ids.export(),
        tenants=[
            TenantData(
                key=t.key,
                name=t.name,
                files=[
                    FileData(
                        id=f.id,
                        filename=f.filename,
                        purpose=f.purpose,
                        file_type=f.file_type,
                        created_ns=f.created_ns,
                        content_b64=_b64(f.content),
                        source_job=f.source_job,
                    )
                    for f in t.files.values()
                ],
                jobs=[_job_data(job) for job in t.jobs.values()],
            )
            for t in state.tenants.values()
        ],
        uploads=[
            UploadData(
                token=token,
                tenant=u.tenant,
                file_id=u.file_id,
                multipart=u.multipart,
                parts={n: _b64(p) or "" for n, p in u.parts.items()},
            )
            for token, u in state.uploads.items()
        ],
        workflow_ids=sorted(state.workflow_ids),
        scenarios=state.scenarios.model_copy(deep=True),
        faults=state.faults.model_copy(deep=True),
        known_keys=sorted(state.known_keys) if state.known_keys is not None else None,
    )


def _job(data: JobData, where: str) -> Job:
    try:
        eval_type, params = validate_create({"type": data.type, "parameters": data.parameters})
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}.parameters: {exc.message}", param=f"{where}.parameters") from None
    dataset = (
        Dataset(
            columns=tuple(data.dataset.columns),
            rows=tuple(data.dataset.rows),
            lines=tuple(data.dataset.lines) if data.dataset.lines is not None else None,
        )
        if data.dataset
        else None
    )
    return Job(
        workflow_id=data.workflow_id,
        tenant="",
        type=eval_type,
        parameters=data.parameters,
        judge=Judge(eval_type, params, data.seed, verdict_weights(data.outcome, params)),
        created_ns=data.created_ns,
        phases=[Phase(p.status, p.offset_ns, p.after_reads) for p in data.phases],
        dataset=dataset,
        results=data.results,
        error=data.error,
        result_file_id=data.result_file_id,
        result_file_registered=data.result_file_registered,
        progression=data.progression,
        outcome=data.outcome,
        source=dict(data.source),
        problem=data.problem,
        failed_rows=data.failed_rows,
        reads=data.reads,
    )


def import_state(emulator: Emulator, snapshot: Snapshot) -> None:
    """Replace the emulator's whole state with `snapshot` (validated first: nothing changes on error)."""
    state = State(
        workflow_ids=set(snapshot.workflow_ids),
        scenarios=snapshot.scenarios.model_copy(deep=True),
        faults=snapshot.faults.model_copy(deep=True),
    )
    for t_index, data in enumerate(snapshot.tenants):
        tenant = state.tenants[data.key] = Tenant(data.key, name=data.name)
        for f_index, f in enumerate(data.files):
            tenant.files[f.id] = StoredFile(
                id=f.id,
                tenant=data.key,
                filename=f.filename,
                purpose=f.purpose,
                file_type=f.file_type,
                created_ns=f.created_ns,
                source_job=f.source_job,
                content=_unb64(f.content_b64, f"tenants.{t_index}.files.{f_index}.content_b64")
                if f.content_b64 is not None
                else None,
            )
        for j_index, job_data in enumerate(data.jobs):
            job = _job(job_data, f"tenants.{t_index}.jobs.{j_index}")
            job.tenant = data.key
            tenant.jobs[job.workflow_id] = job
    for u_index, upload in enumerate(snapshot.uploads):
        state.uploads[upload.token] = PendingUpload(
            tenant=upload.tenant,
            file_id=upload.file_id,
            multipart=upload.multipart,
            parts={n: _unb64(p, f"uploads.{u_index}.parts.{n}") for n, p in upload.parts.items()},
        )
    state.known_keys = set(snapshot.known_keys) if snapshot.known_keys is not None else None
    ids = type(emulator.ids)(snapshot.seed)
    try:
        ids.restore(snapshot.ids)
    except (TypeError, ValueError):
        raise InvalidRequest(
            "Field 'ids' is not an id generator state; export it with GET /_emulator/state.", param="ids"
        ) from None
    emulator.config = emulator.config.model_copy(update={"seed": snapshot.seed})  # never mutate a shared config
    emulator.ids = ids
    emulator.clock = Clock(snapshot.clock.mode, start_ns=snapshot.clock.now_ns, scale=snapshot.clock.time_scale)
    emulator.state = state
