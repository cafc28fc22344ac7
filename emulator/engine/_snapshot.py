"""Export and import of the whole emulator state as JSON: clock, seed, id generator, tenants with
their jobs and files, pending uploads, scenarios and fault rules (not the request journal).

Importing a snapshot taken with the same emulator version gives back an emulator that answers
every later request exactly as the exported one would have.

Result files are derived from their jobs, never stored; a snapshot still lists the result file of
each job completed at export time (as version 1 always has, so older emulators read it), and marks
such a job `result_file_registered`. On import, listed result files are derived again, and a
registered job whose result file is not listed had it deleted.

A job made by an add-on (`_extension.py`) carries the add-on's data under `extensions` (empty for
every other job; a snapshot without the key reads as one without add-on jobs). On import, each
add-on checks its data, and the job's judge is built again with the add-on's hooks, exactly as at
creation.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from . import _ids as ids
from ._capacity import Capacity, CapacityLog
from ._clock import EARLIEST_NS, LATEST_NS, MAX_TIME_SCALE, Clock
from ._datasets import Dataset, DatasetError, parse_dataset, rows_dataset, written_rows
from ._errors import InvalidRequest
from ._extension import Extension, import_job_data
from ._faults import FaultBook
from ._files import Files, check_size
from ._jobs import Jobs, make_judge
from ._lifecycle import Phase
from ._parameters import EvalType, FilePurpose, FileType, Status
from ._recordings import Recording
from ._rulebooks import FaultRules, ScenarioRules
from ._scenarios import Outcome, Progression, ScenarioBook
from ._schedule import Schedule
from ._store import JOBS_IN_LINE, Job, PendingUpload, Store, StoredFile, Tenant, reads_counter
from ._strict_json import MAX_SAFE_INTEGER
from ._validation import validate_create

VERSION: Final = 1
# The most levels a snapshot adds above a value a request put in it (a documented job's request, under
# `tenants[].jobs[].extensions`, sits 6 deeper than in its create): a state import may nest this much
# deeper than `max_json_depth`, so that every export imports back.
NESTING: Final = 8


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _without(data: dict[str, Any], name: str, keep: bool) -> dict[str, Any]:
    """`data` without its `name` key unless `keep`: a field only written when it says something, so
    a snapshot of a state that does not use it reads as before the field existed.

    The serializers calling it have no return annotation on purpose: pydantic would take the
    annotation (a dict) as the model's serialized JSON schema, instead of its fields'."""
    if not keep:
        data.pop(name, None)
    return data


class PhaseData(_Data):
    status: Status
    offset_ns: int | None
    after_reads: int | None = None
    pinned: bool = False  # entered at its instant whatever the capacity (written only when true)

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        return _without(handler(self), "pinned", self.pinned)


class DatasetData(_Data):
    """A job's dataset: a JSONL file's own lines (verdicts hash them, and the rows are read from them),
    else its rows. `rows` beside `lines` (written by earlier exports) must be what the lines hold."""

    columns: list[str]
    rows: list[dict[str, Any]] | None = None
    lines: list[str] | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = _without(handler(self), "rows", self.rows is not None)
        return _without(data, "lines", self.lines is not None)


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
    reads: int = Field(0, ge=0, le=MAX_SAFE_INTEGER)
    extensions: dict[str, Any] = Field(default_factory=dict, description="Add-on data, by extension name.")
    line: int | None = Field(None, ge=1)  # its place in line (docs/capacity.md); written only when set
    recording: str | None = None  # the recording it replays (docs/recordings.md); written only when set

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = _without(handler(self), "line", self.line is not None)
        return _without(data, "recording", self.recording is not None)


class FileData(_Data):
    id: str
    filename: str
    purpose: FilePurpose
    file_type: FileType
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
    # When the upload URL dies, on the emulator clock; absent (older snapshots): a whole lifetime
    # after the import.
    expires_ns: int | None = None

    @field_validator("parts", mode="before")
    @classmethod
    def _numbered(cls, parts: Any) -> Any:
        """Part numbers as the export writes them: JSON object keys are strings ("1")."""
        if not isinstance(parts, dict):
            return parts
        return {int(k) if isinstance(k, str) and k.isascii() and k.isdigit() else k: v for k, v in parts.items()}


class CapacityChange(_Data):
    """The capacity in force from `at_ns` on (docs/capacity.md); null: no limit."""

    at_ns: int
    per_tenant: int | None = Field(None, ge=1)
    total: int | None = Field(None, ge=1)
    per_type: dict[EvalType, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)  # written only when set
    priority: list[str] = Field(default_factory=list)  # written only when set

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = _without(handler(self), "per_type", bool(self.per_type))
        return _without(data, "priority", bool(self.priority))

    def capacity(self) -> Capacity:
        return Capacity(self.per_tenant, self.total, tuple(self.per_type.items()), tuple(self.priority))


class ClockData(_Data):
    now_ns: int = Field(ge=EARLIEST_NS, le=LATEST_NS)
    mode: Literal["real", "manual"]
    time_scale: float = Field(gt=0, le=MAX_TIME_SCALE)


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
    capacity: list[CapacityChange] = Field(default_factory=list)  # written only when a capacity was set
    recordings: list[Recording] = Field(default_factory=list)  # the ones added; written only when any was

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = _without(handler(self), "capacity", bool(self.capacity))
        return _without(data, "recordings", bool(self.recordings))


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidRequest(f"Field '{where}' is not valid base64.", param=where) from None


def _dataset_data(dataset: Dataset) -> DatasetData:
    """A dataset in a snapshot: a JSONL file's own lines (as text: a row nested however deep is one
    string, which any export can write and any import read), else its rows (CSV rows are flat)."""
    if dataset.kind == "jsonl":
        return DatasetData(columns=list(dataset.columns), lines=[key.decode() for _, key in dataset.keyed_rows()])
    return DatasetData(columns=list(dataset.columns), rows=list(dataset.rows()))


def _job_data(job: Job, *, reads: int, completed: bool, datasets: dict[int, DatasetData]) -> JobData:
    dataset = None
    if job.dataset is not None:  # read once per dataset: jobs share them
        dataset = datasets.get(id(job.dataset))
        if dataset is None:
            dataset = datasets[id(job.dataset)] = _dataset_data(job.dataset)
    return JobData(
        workflow_id=job.workflow_id,
        type=job.type,
        parameters=job.parameters,
        seed=job.judge.seed,
        created_ns=job.created_ns,
        phases=[
            PhaseData(status=p.status, offset_ns=p.offset_ns, after_reads=p.after_reads, pinned=p.pinned)
            for p in job.phases
        ],
        dataset=dataset,
        results=job.results,
        error=job.error,
        result_file_id=job.result_file_id,
        result_file_registered=completed and job.result_file_id is not None,
        progression=job.progression,
        outcome=job.outcome,
        source=job.source,
        problem=job.problem,
        failed_rows=job.failed_rows,
        reads=reads,
        extensions=dict(job.extensions),
        line=job.line,
        recording=job.recording,
    )


def _file_data(file: StoredFile, content: bytes | None) -> FileData:
    return FileData(
        id=file.id,
        filename=file.filename,
        purpose=cast(FilePurpose, file.purpose),  # checked when the file was made
        file_type=cast(FileType, file.file_type),
        created_ns=file.created_ns,
        content_b64=_b64(content),
        source_job=file.source_job,
    )


def export_state(
    store: Store,
    *,
    seed: int,
    clock: Clock,
    jobs: Jobs,
    files: Files,
    scenarios: ScenarioRules,
    faults: FaultRules,
    schedule: Schedule,
) -> Snapshot:
    """The whole state, as of now."""
    now = clock.now_ns()
    tenants = []
    datasets: dict[int, DatasetData] = {}
    for tenant in store.tenants():
        owned = files.owned(tenant.key, pending=True)
        tenant_jobs = store.jobs(tenant.key)
        tenants.append(
            TenantData(
                key=tenant.key,
                name=tenant.name,
                files=[_file_data(f, None if f.source_job else store.get_content(tenant.key, f.id)) for f in owned],
                jobs=[
                    _job_data(
                        job,
                        reads=jobs.reads(job),
                        completed=files.completed_ns(job, now) is not None,
                        datasets=datasets,
                    )
                    for job in tenant_jobs
                ],
            )
        )
    known = store.known_keys()
    return Snapshot(
        seed=seed,
        clock=ClockData(now_ns=now, mode=clock.mode, time_scale=clock.scale),
        ids=store.id_state(),
        tenants=tenants,
        uploads=[
            UploadData(
                token=token,
                tenant=u.tenant,
                file_id=u.file_id,
                multipart=u.multipart,
                parts={n: _b64(p) or "" for n, p in store.upload_parts(token).items()},
                expires_ns=u.expires_ns,
            )
            for token, u in store.uploads()
        ],
        workflow_ids=sorted(job.workflow_id for tenant in store.tenants() for job in store.jobs(tenant.key)),
        scenarios=scenarios.book(),
        faults=faults.book(),
        known_keys=sorted(known) if known is not None else None,
        capacity=[
            CapacityChange(
                at_ns=at,
                per_tenant=capacity.per_tenant,
                total=capacity.total,
                per_type=dict(capacity.per_type),
                priority=list(capacity.priority),
            )
            for at, capacity in schedule.log().changes
        ],
        recordings=list(store.recordings()),
    )


class _Datasets:
    """The datasets of a snapshot's jobs, each read once (jobs share them)."""

    def __init__(self) -> None:
        self._read: dict[bytes, Dataset] = {}  # content -> dataset

    def get(self, data: DatasetData, where: str) -> Dataset:
        """The dataset a job's `dataset` field holds: a JSONL file's rows are read from its lines (which
        verdicts hash), other rows as they are; each must be what `columns` (and `rows`, if given) say."""
        if data.lines is not None:
            content = "".join(line + "\n" for line in data.lines).encode("utf-8", "surrogatepass")
        elif data.rows is not None:
            content = written_rows(data.rows)
        else:
            raise InvalidRequest(f"{where}.dataset: give its 'lines' or its 'rows'.", param=f"{where}.dataset")
        dataset = self._read.get(content)
        if dataset is None:
            try:
                if data.lines is not None:
                    dataset = parse_dataset(content, "jsonl", f"{where}.dataset")
                else:
                    dataset = rows_dataset(content, f"{where}.dataset")
            except DatasetError as exc:
                raise InvalidRequest(f"{where}.dataset: {exc}", param=f"{where}.dataset") from None
            self._read[content] = dataset
        if list(dataset.columns) != data.columns or (
            data.lines is not None and data.rows is not None and data.rows != list(dataset.rows())
        ):
            raise InvalidRequest(
                f"{where}.dataset: 'columns' and 'rows' must be the columns and rows its lines hold.",
                param=f"{where}.dataset",
            )
        return dataset


def _job(
    data: JobData, tenant: str, where: str, *, deleted: bool, extensions: Sequence[Extension], datasets: _Datasets
) -> Job:
    try:
        eval_type, params = validate_create({"type": data.type, "parameters": data.parameters})
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}.parameters: {exc.message}", param=f"{where}.parameters") from None
    job_data = import_job_data(extensions, data.extensions, where)
    dataset = datasets.get(data.dataset, where) if data.dataset else None
    return Job(
        workflow_id=data.workflow_id,
        tenant=tenant,
        type=eval_type,
        parameters=data.parameters,
        judge=make_judge(eval_type, params, data.seed, data.outcome, job_data, extensions),
        created_ns=data.created_ns,
        phases=tuple(Phase(p.status, p.offset_ns, p.after_reads, p.pinned) for p in data.phases),
        dataset=dataset,
        results=data.results,
        error=data.error,
        result_file_id=data.result_file_id,
        result_file_deleted=deleted,
        progression=data.progression,
        outcome=data.outcome,
        source=dict(data.source),
        problem=data.problem,
        failed_rows=data.failed_rows,
        extensions=job_data,
        line=data.line,
        recording=data.recording,
    )


@dataclass
class _Contents:
    """Everything a snapshot puts in the store, built (and so validated) before the store is touched."""

    tenants: list[Tenant] = field(default_factory=list)
    files: list[tuple[StoredFile, bytes | None]] = field(default_factory=list)
    jobs: list[tuple[Job, int]] = field(default_factory=list)  # with the job's reads
    uploads: list[tuple[str, PendingUpload, dict[int, bytes]]] = field(default_factory=list)


def _once(seen: set[str], value: str, where: str, what: str) -> None:
    """Refuse a second `value` where the state holds one: each store keeps one of each."""
    if value in seen:
        raise InvalidRequest(f"Field '{where}': {what} {value!r} appears twice; the state holds one.", param=where)
    seen.add(value)


def _contents(snapshot: Snapshot, upload_expiry_ns: int, extensions: Sequence[Extension], most_bytes: int) -> _Contents:
    """What `snapshot` holds, checked (`most_bytes`: the most file bytes the store holds in one value)."""
    contents = _Contents()
    datasets = _Datasets()
    keys: set[str] = set()
    workflow_ids: set[str] = set()  # unique across tenants
    for t_index, data in enumerate(snapshot.tenants):
        _once(keys, data.key, f"tenants.{t_index}.key", "the API key")
        contents.tenants.append(Tenant(data.key, name=data.name))
        listed: set[str] = set()
        for f_index, f in enumerate(data.files):
            _once(listed, f.id, f"tenants.{t_index}.files.{f_index}.id", "the file id")
            if f.source_job is not None:  # a result file: derived again from its job
                continue
            where = f"tenants.{t_index}.files.{f_index}.content_b64"
            content = _unb64(f.content_b64, where) if f.content_b64 is not None else None
            if content is not None:
                check_size(most_bytes, len(content), f"File '{f.id}'", where)
            stored = StoredFile(
                id=f.id,
                tenant=data.key,
                filename=f.filename,
                purpose=f.purpose,
                file_type=f.file_type,
                created_ns=f.created_ns,
                size=len(content) if content is not None else None,
            )
            contents.files.append((stored, content))
        for j_index, job_data in enumerate(data.jobs):
            deleted = job_data.result_file_registered and job_data.result_file_id not in listed
            where = f"tenants.{t_index}.jobs.{j_index}"
            _once(workflow_ids, job_data.workflow_id, f"{where}.workflow_id", "the workflow id")
            job = _job(job_data, data.key, where, deleted=deleted, extensions=extensions, datasets=datasets)
            contents.jobs.append((job, job_data.reads))
    tokens: set[str] = set()
    for u_index, upload in enumerate(snapshot.uploads):
        _once(tokens, upload.token, f"uploads.{u_index}.token", "the upload token")
        parts = {n: _unb64(p, f"uploads.{u_index}.parts.{n}") for n, p in upload.parts.items()}
        for number, part in parts.items():
            check_size(most_bytes, len(part), f"Part {number} of upload {u_index}", f"uploads.{u_index}.parts.{number}")
        expires_ns = upload.expires_ns if upload.expires_ns is not None else upload_expiry_ns
        record = PendingUpload(upload.tenant, upload.file_id, multipart=upload.multipart, expires_ns=expires_ns)
        contents.uploads.append((upload.token, record, parts))
    return contents


def import_state(
    store: Store,
    snapshot: Snapshot,
    *,
    clock: Clock,
    scenarios: ScenarioRules,
    faults: FaultRules,
    schedule: Schedule,
    upload_lifetime_ns: int,
    extensions: Sequence[Extension] = (),
) -> None:
    """Replace the store's whole state with `snapshot`, validated first: nothing changes on error.
    The caller takes `snapshot.seed` as its seed (a new settings object: settings never change).
    A pending upload without an expiry (an older snapshot) gets `upload_lifetime_ns` from the
    snapshot's clock. `extensions` are the engine's add-ons: they check their jobs' data and adjust
    their judges."""
    contents = _contents(snapshot, snapshot.clock.now_ns + upload_lifetime_ns, extensions, store.max_content_bytes)
    try:
        ids.restore_state(snapshot.ids)
    except (TypeError, ValueError):
        raise InvalidRequest(
            "Field 'ids' is not an id generator state; export it with GET /_emulator/state.", param="ids"
        ) from None
    store.clear()
    store.set_id_state(snapshot.ids)
    clock.start(snapshot.clock.mode, start_ns=snapshot.clock.now_ns, scale=snapshot.clock.time_scale)
    for tenant in contents.tenants:
        store.put_tenant(tenant)
    for file, content in contents.files:
        store.put_file(file)
        if content is not None:
            store.put_content(file.tenant, file.id, content)
    for job, reads in contents.jobs:
        store.put_job(job)
        store.set_counter(reads_counter(job.workflow_id), reads)
    last_in_line = max((job.line or 0 for job, _ in contents.jobs), default=0)
    if last_in_line:
        store.set_counter(JOBS_IN_LINE, last_in_line)
    for token, upload, parts in contents.uploads:
        store.put_upload(token, upload)
        for number, part in parts.items():
            store.put_upload_part(token, number, part)
    store.set_known_keys(frozenset(snapshot.known_keys) if snapshot.known_keys is not None else None)
    scenarios.load(snapshot.scenarios)
    faults.load(snapshot.faults)
    if snapshot.recordings:  # a cleared store holds none already
        store.put_recordings(snapshot.recordings)
    changes = sorted(snapshot.capacity, key=lambda change: change.at_ns)
    log = CapacityLog(tuple((c.at_ns, c.capacity()) for c in changes))
    if log.active:  # a cleared store limits nothing already
        schedule.load(log)
