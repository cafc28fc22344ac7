"""Jobs and files as the Together API shows them, read without counting as a client read.

The control plane has no route for these views (`GET /_emulator/jobs` answers in its own shape,
and reading a job through `/v1` counts as a poll), so this is the one place where
`EmulatorController` reads the emulator's state itself. Each read holds the emulator's lock, as a
request would.
"""

from __future__ import annotations

from ..engine._store import Job, Tenant
from ..http._core import Emulator
from ..http._views import file_view, job_view
from ..http._wire import EvaluationJob, FileObject


def _jobs_of(emulator: Emulator, tenant: str | None = None) -> list[tuple[Tenant, Job]]:
    tenants = emulator.state.tenants.values()
    found = [(t, j) for t in tenants if tenant is None or t.key == tenant for j in t.jobs.values()]
    return sorted(found, key=lambda pair: pair[1].created_ns)


def job(emulator: Emulator, job_id: str) -> EvaluationJob | None:
    """A job as `GET /v1/evaluation/{id}` would answer it now; None when there is no such job."""
    with emulator._lock:
        for tenant in emulator.state.tenants.values():
            found = tenant.jobs.get(job_id)
            if found is not None:
                emulator.jobs.settle(tenant, found)
                return job_view(emulator, tenant, found)
        return None


def jobs(emulator: Emulator, tenant: str | None = None) -> list[EvaluationJob]:
    """Every job (of one API key when `tenant` is given), oldest first."""
    with emulator._lock:
        found = _jobs_of(emulator, tenant)
        for owner, each in found:
            emulator.jobs.settle(owner, each)
        return [job_view(emulator, owner, each) for owner, each in found]


def files(emulator: Emulator, tenant: str | None = None) -> list[FileObject]:
    """Every uploaded and result file as `GET /v1/files` shows them (built-in datasets left out)."""
    with emulator._lock:
        result = []
        for owner in emulator.state.tenants.values():
            if tenant is None or owner.key == tenant:
                emulator.jobs.settle_all(owner)
                result += [file_view(emulator, owner, f) for f in owner.files.values() if f.ready]
        return result


def file_content(emulator: Emulator, file_id: str) -> bytes | None:
    """The bytes `GET /v1/files/{id}/content` would serve for an upload or a result file; None when
    there is no such file."""
    with emulator._lock:
        for owner in emulator.state.tenants.values():
            emulator.jobs.settle_all(owner)
            file = owner.files.get(file_id)
            if file is not None and file.ready:
                return emulator.files.content(file)
        return None
