"""The Python twin of `/_emulator/*`: what a test holds to steer an emulator and check on it.

Both pytest fixtures (in-process and live server) hand the test an `EmulatorController`. It
works on the `Emulator` object directly (the live server runs in the test's own process), so
it needs no HTTP and sees exactly the state the server serves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import Any

from ..engine._clock import NS
from ..engine._journal import Journal, RecordedRequest
from ..engine._lifecycle import TERMINAL
from ..engine._store import Job, Tenant
from ..http._core import Emulator
from ..http._views import file_view, job_view
from ..http._wire import EvaluationJob, FileObject

DEFAULT_API_KEY = "test-emulator-key"


@lru_cache(maxsize=1)
def together_major_version() -> int | None:
    """The major version of the installed `together` SDK, or None when it is not installed
    (read once: a metadata lookup costs milliseconds, and the fixtures ask for every test)."""
    try:
        return int(metadata.version("together").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return None


def sdk_base_url(url: str, major: int | None) -> str:
    """The base URL a `together` SDK generation expects (spec §1.1): 1.x/2.x end in /v1, 3.x do not."""
    url = url.rstrip("/")
    return f"{url}/v1" if major is not None and major < 3 else url


class JobNeverCompletes(RuntimeError):
    """A job whose timeline has no terminal status, so no clock advance can finish it."""


class EmulatorController:
    """Steer and inspect one emulator: clock, jobs, files, reset, seed and the request journal.

    `url` is the emulator's root (`http://127.0.0.1:8123`, or the in-process host); `v1_url` is
    the same with `/v1`; `base_url` is the form the installed `together` SDK expects, which the
    fixtures put in `TOGETHER_BASE_URL`.
    """

    def __init__(self, emulator: Emulator, url: str, *, api_key: str = DEFAULT_API_KEY) -> None:
        self.emulator = emulator
        self.url = url.rstrip("/")
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"<EmulatorController url={self.url!r} seed={self.emulator.config.seed} now={self.now().isoformat()}>"

    # ------------------------------------------------------------ addresses

    @property
    def v1_url(self) -> str:
        """`<url>/v1`: the base URL of together 1.x and 2.x."""
        return f"{self.url}/v1"

    @property
    def base_url(self) -> str:
        """The base URL for the installed `together` generation (3.x when none is installed)."""
        return sdk_base_url(self.url, together_major_version())

    def base_url_for(self, sdk_version: str | int) -> str:
        """The base URL for a given SDK version (`"1.5.35"`, `3`, ...)."""
        return sdk_base_url(self.url, int(str(sdk_version).split(".")[0]))

    # ------------------------------------------------------------ clock

    def now(self) -> datetime:
        """The emulator's current time (UTC)."""
        ns = self.emulator.clock.now_ns()
        return datetime.fromtimestamp(ns // NS, tz=UTC).replace(microsecond=ns % NS // 1000)

    def advance(self, seconds: float) -> None:
        """Move the clock forward; every job moves exactly as it would in `seconds` of real time."""
        self.emulator.advance(seconds)

    def _terminal_ns(self, job: Job) -> int:
        last = job.phases[-1]
        if last.status not in TERMINAL:
            raise JobNeverCompletes(
                f"Job {job.workflow_id} never completes on its own: its timeline ends in '{last.status}'. "
                "Give it an outcome (POST /v1/evaluation/{id}/update or a scenario) before waiting for it."
            )
        if last.offset_ns is None:  # after_polls or manual progression: no clock time ends it
            raise JobNeverCompletes(
                f"Job {job.workflow_id} does not end on the clock: its progression is '{job.progression.mode}', "
                "so it moves on reads or control calls. Advance it (emulator.jobs.advance, or POST "
                "/_emulator/jobs/{id}/advance) or give it a time-driven progression."
            )
        return job.created_ns + last.offset_ns

    def _advance_to(self, target_ns: int) -> None:
        with self.emulator._lock:
            now = self.emulator.clock.now_ns()
            if target_ns > now:
                self.emulator.clock.advance((target_ns - now) / NS)

    def run_until_complete(self, job_id: str) -> str:
        """Advance the clock to the moment `job_id` reaches its terminal status; returns that status.

        No sleeping: this is one clock jump. A job already terminal leaves the clock alone.
        """
        with self.emulator._lock:
            job = self._find(job_id)
            self._advance_to(self._terminal_ns(job))
            return self.emulator.jobs.status(job)

    def complete_all(self) -> dict[str, str]:
        """Advance the clock until every job is terminal; returns each job's final status by id."""
        with self.emulator._lock:
            found = self._all()
            targets = [self._terminal_ns(job) for job in found]
            if targets:
                self._advance_to(max(targets))
            return {job.workflow_id: self.emulator.jobs.status(job) for job in found}

    # ------------------------------------------------------------ jobs and files

    def _all(self, tenant: str | None = None) -> list[Job]:
        found = [job for job in self.emulator.jobs.all() if tenant is None or job.tenant == tenant]
        return sorted(found, key=lambda job: job.created_ns)

    def _find(self, job_id: str) -> Job:
        job = self.emulator.store.find_job(job_id)
        if job is None:
            known = [job.workflow_id for job in self._all()]
            raise LookupError(f"No evaluation job {job_id!r} in the emulator. Jobs: {known or 'none'}.")
        return job

    def _view(self, job: Job) -> EvaluationJob:
        engine = self.emulator.engine
        return job_view(engine, engine.tenants.find(job.tenant) or Tenant(job.tenant), job)

    def job(self, job_id: str) -> EvaluationJob:
        """A job as `GET /v1/evaluation/{id}` would answer it now (reading it is not a poll)."""
        with self.emulator._lock:
            return self._view(self._find(job_id))

    def jobs(self, *, tenant: str | None = None) -> list[EvaluationJob]:
        """Every job (of one API key when `tenant` is given), oldest first."""
        with self.emulator._lock:
            return [self._view(job) for job in self._all(tenant)]

    def files(self, *, tenant: str | None = None) -> list[FileObject]:
        """Every uploaded file and result file, as `GET /v1/files` shows them (the built-in
        datasets every tenant also sees are left out)."""
        with self.emulator._lock:
            engine = self.emulator.engine
            return [
                file_view(engine, owner, file)
                for owner in engine.store.tenants()
                if tenant is None or owner.key == tenant
                for file in engine.files.owned(owner.key)
            ]

    def file_content(self, file_id: str) -> bytes:
        """The bytes `GET /v1/files/{id}/content` would serve for an upload or a result file."""
        with self.emulator._lock:
            files = self.emulator.files
            for owner in self.emulator.store.tenants():
                file = files.owned_file(owner.key, file_id)
                if file is not None:
                    return files.content(file)
            raise LookupError(f"No uploaded or result file {file_id!r} in the emulator.")

    # ------------------------------------------------------------ reset and seed

    def reset(self) -> None:
        """Forget jobs, files and the journal; restart ids from the seed and the clock from its start."""
        self.emulator.reset()

    def reset_journal(self) -> None:
        """Forget the recorded requests only."""
        self.emulator.journal.clear()

    def reseed(self, seed: int) -> None:
        """Switch to `seed` and start over (jobs, files and journal forgotten; the clock keeps its time)."""
        self.emulator.reseed(seed)

    # ------------------------------------------------------------ journal

    @property
    def journal(self) -> Journal:
        """Every API request the emulator answered since the last reset (see `Journal`)."""
        return self.emulator.journal

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the journal, oldest first."""
        return self.emulator.journal.entries

    def polls(self, job_id: str) -> int:
        """How many times `job_id` was read (retrieve and status)."""
        return self.emulator.journal.polls(job_id)

    def assert_called(self, route: str, *, times: int | None = None, **criteria: Any) -> list[RecordedRequest]:
        """Assert `route` was called (exactly `times` times when given). See `Journal.assert_called`."""
        __tracebackhide__ = True
        return self.emulator.journal.assert_called(route, times=times, **criteria)

    def assert_not_called(self, route: str, **criteria: Any) -> None:
        """Assert `route` was never called."""
        __tracebackhide__ = True
        self.emulator.journal.assert_not_called(route, **criteria)

    def assert_called_with(
        self, route: str, *, body: dict[str, Any] | None = None, query: dict[str, str] | None = None, **criteria: Any
    ) -> RecordedRequest:
        """Assert some call to `route` carried a body containing `body` (and the `query`)."""
        __tracebackhide__ = True
        return self.emulator.journal.assert_called_with(route, body=body, query=query, **criteria)

    def assert_polled(
        self, job_id: str, *, times: int | None = None, min: int | None = None, max: int | None = None
    ) -> int:
        """Assert how many times `job_id` was polled; returns the count."""
        __tracebackhide__ = True
        return self.emulator.journal.assert_polled(job_id, times=times, min=min, max=max)
