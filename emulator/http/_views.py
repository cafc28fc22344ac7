"""State to wire models: the one place job and file records become response shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from pydantic import BaseModel

from ..engine._clock import NS, format_micros, format_nanos
from ..engine._engine import Engine
from ..engine._parameters import Status
from ..engine._store import Job, StoredFile, Tenant
from ._extension import ViewKind, attached_api
from ._view_cache import ViewCache
from ._wire import EvaluationJob, EvaluationStatusResponse, FileObject, FilePurpose, FileType, StatusUpdate


def _serialized(
    engine: Engine, views: ViewCache, kind: ViewKind, job: Job, build: Callable[[], BaseModel]
) -> tuple[bytes, Status]:
    """A job's serialized view and the status it shows, the view from the cache when it was built
    from the same job record, the same number of phases reached and the same add-on view keys (what
    else an add-on's fields depend on, such as the clock)."""
    reached = engine.jobs.phases_reached(job)
    extra = tuple(ext.view_key(engine, job, data, kind) for ext, data in attached_api(engine, job))
    body = views.get(kind, job, len(reached), lambda: build().model_dump_json(by_alias=True).encode(), extra)
    return body, reached[-1].status


def job_json(engine: Engine, views: ViewCache, tenant: Tenant, job: Job) -> bytes:
    return shown_job(engine, views, tenant, job)[0]


def shown_job(engine: Engine, views: ViewCache, tenant: Tenant, job: Job) -> tuple[bytes, Status]:
    """The body of a job's retrieve and the status it shows."""
    return _serialized(engine, views, "job", job, lambda: job_view(engine, tenant, job))


def shown_status(engine: Engine, views: ViewCache, job: Job) -> tuple[bytes, Status]:
    """The body of a job's status read and the status it shows."""
    return _serialized(engine, views, "status", job, lambda: status_view(engine, job))


def job_view(engine: Engine, tenant: Tenant, job: Job) -> EvaluationJob:
    reached = engine.jobs.phases_reached(job)
    view = EvaluationJob(
        workflow_id=job.workflow_id,
        type=job.type,
        owner_id=tenant.owner_id,
        status=reached[-1].status,
        status_updates=[
            StatusUpdate(
                status=phase.status,
                message=phase.message,
                timestamp=format_nanos(job.created_ns + (phase.offset_ns or 0)),
            )
            for phase in reached
        ],
        parameters=job.parameters,
        created_at=format_micros(job.created_ns),
        updated_at=format_micros(job.created_ns + (reached[-1].offset_ns or 0)),
        results=engine.jobs.results(job),
    )
    # Only the add-ons that made the job add their fields; a real-contract job stays real.
    for extension, data in attached_api(engine, job):
        view = extension.job_view(engine, job, data, view)
    return view


def status_view(engine: Engine, job: Job) -> EvaluationStatusResponse:
    view = EvaluationStatusResponse(
        status=engine.jobs.status(job),
        results=engine.jobs.results(job),
    )
    for extension, data in attached_api(engine, job):
        view = extension.status_view(engine, job, data, view)
    return view


def file_view(engine: Engine, tenant: Tenant, file: StoredFile) -> FileObject:
    # The engine keeps purpose and file_type as str; they come from a validated upload form, a seed
    # file's settings, the engine's own constants or a snapshot of these (FileObject checks them again).
    return FileObject(
        id=file.id,
        created_at=file.created_ns // NS,
        purpose=cast(FilePurpose, file.purpose),
        filename=file.filename,
        bytes=engine.files.size(file),
        file_type=cast(FileType, file.file_type),
        project_id=tenant.project_id,
        organization_id=tenant.organization_id,
    )
