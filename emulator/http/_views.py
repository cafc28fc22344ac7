"""State to wire models: the one place job and file objects become response shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ..documented._api import documented_job_view, documented_status_view
from ..engine._clock import NS, format_micros, format_nanos
from ..engine._store import Job, StoredFile, Tenant
from ._wire import EvaluationJob, EvaluationStatusResponse, FileObject, StatusUpdate

if TYPE_CHECKING:
    from ._core import Emulator


def cached(job: Job, kind: str, reached: int, build: Callable[[], BaseModel]) -> bytes:
    """A job's serialized view: a pure function of its revision and the phases it has reached,
    so it is built once per (kind, revision, phases reached) and then served from the job.
    (Documented-API jobs also show clock-driven `progress`, so they are built every time.)"""
    if job.convenience is not None:
        return build().model_dump_json(by_alias=True).encode()
    key = (kind, job.revision, reached)
    body = job.views.get(key)
    if body is None:
        if len(job.views) >= 4:
            job.views.clear()
        body = job.views[key] = build().model_dump_json(by_alias=True).encode()
    return body


def job_json(emu: Emulator, tenant: Tenant, job: Job) -> bytes:
    reached = len(emu.jobs.phases_reached(job))
    return cached(job, "job", reached, lambda: job_view(emu, tenant, job))


def status_json(emu: Emulator, job: Job) -> bytes:
    reached = len(emu.jobs.phases_reached(job))
    return cached(job, "status", reached, lambda: status_view(emu, job))


def job_view(emu: Emulator, tenant: Tenant, job: Job) -> EvaluationJob:
    reached = emu.jobs.phases_reached(job)
    view = EvaluationJob(
        workflow_id=job.workflow_id,
        type=job.type,  # type: ignore[arg-type]
        owner_id=tenant.owner_id,
        status=reached[-1].status,  # type: ignore[arg-type]
        status_updates=[
            StatusUpdate(
                status=phase.status,
                message=phase.message,  # type: ignore[arg-type]
                timestamp=format_nanos(job.created_ns + phase.offset_ns),
            )
            for phase in reached
        ],
        parameters=job.parameters,
        created_at=format_micros(job.created_ns),
        updated_at=format_micros(job.created_ns + reached[-1].offset_ns),
        results=emu.jobs.results(job),
    )
    # Only documented-API jobs carry the documented fields; real-contract jobs stay real.
    return view if job.convenience is None else documented_job_view(emu, job, view)


def status_view(emu: Emulator, job: Job) -> EvaluationStatusResponse:
    view = EvaluationStatusResponse(
        status=emu.jobs.status(job),  # type: ignore[arg-type]
        results=emu.jobs.results(job),
    )
    return view if job.convenience is None else documented_status_view(emu, job, view)


def file_view(emu: Emulator, tenant: Tenant, file: StoredFile) -> FileObject:
    return FileObject(
        id=file.id,
        created_at=file.created_ns // NS,
        purpose=file.purpose,  # type: ignore[arg-type]
        filename=file.filename,
        bytes=emu.files.size(file),
        FileType=file.file_type,  # type: ignore[arg-type]
        project_id=tenant.project_id,
        organization_id=tenant.organization_id,
    )
