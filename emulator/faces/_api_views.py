"""Jobs and files as the Together API shows them, read without counting as a client read.

The control plane has no route for these views (`GET /_emulator/jobs` answers in its own shape,
and reading a job through `/v1` counts as a poll), so this is the one place where
`EmulatorController` reads the engine itself. Each read holds the emulator's lock, as a request would.
"""

from __future__ import annotations

from ..engine._store import Job, Tenant
from ..http._core import Emulator
from ..http._views import file_view, job_view
from ..http._wire import EvaluationJob, FileObject


def _jobs_of(emulator: Emulator, tenant: str | None = None) -> list[Job]:
    found = [job for job in emulator.jobs.all() if tenant is None or job.tenant == tenant]
    return sorted(found, key=lambda job: job.created_ns)


def _view(emulator: Emulator, job: Job) -> EvaluationJob:
    engine = emulator.engine
    return job_view(engine, engine.tenants.find(job.tenant) or Tenant(job.tenant), job)


def job(emulator: Emulator, job_id: str) -> EvaluationJob | None:
    """A job as `GET /v1/evaluation/{id}` would answer it now; None when there is no such job."""
    with emulator._lock:
        found = emulator.store.find_job(job_id)
        return None if found is None else _view(emulator, found)


def jobs(emulator: Emulator, tenant: str | None = None) -> list[EvaluationJob]:
    """Every job (of one API key when `tenant` is given), oldest first."""
    with emulator._lock:
        return [_view(emulator, each) for each in _jobs_of(emulator, tenant)]


def files(emulator: Emulator, tenant: str | None = None) -> list[FileObject]:
    """Every uploaded and result file as `GET /v1/files` shows them (built-in datasets left out)."""
    with emulator._lock:
        engine = emulator.engine
        return [
            file_view(engine, owner, file)
            for owner in engine.store.tenants()
            if tenant is None or owner.key == tenant
            for file in engine.files.owned(owner.key)
        ]


def file_content(emulator: Emulator, file_id: str) -> bytes | None:
    """The bytes `GET /v1/files/{id}/content` would serve for an upload or a result file; None when
    there is no such file."""
    with emulator._lock:
        files = emulator.files
        for owner in emulator.store.tenants():
            file = files.owned_file(owner.key, file_id)
            if file is not None:
                return files.content(file)
        return None
