"""The Python twin of `/_emulator/*`: what a test holds to steer an emulator and check on it.

Both pytest fixtures (in-process and live server) and `EmulatorMock` hand the test an
`EmulatorController`. Each of its control methods sends the matching control-plane request to the
emulator in-process (`Emulator.handle`, no socket, the admin token included when one is set), so
it goes through the emulator's lock and follows exactly the rules of `/_emulator/`, and returns
the control plane's answer as a typed value. An error answer raises `ControlPlaneError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from ..engine._clock import NS
from ..engine._faults import FaultRule
from ..engine._journal import Journal, RecordedRequest, RecordedRequestView
from ..engine._lifecycle import TERMINAL
from ..engine._parameters import EvalType, Status
from ..engine._paths import LifecyclePath, PathList
from ..engine._polling import PollingReport, PollingReportList
from ..engine._recordings import Recording
from ..engine._scenarios import Scenario, ScenarioEntry
from ..engine._snapshot import Snapshot
from ..http._core import Emulator
from ..http._wire import (
    CapacityState,
    ClockState,
    EvaluationJob,
    FileObject,
    Health,
    QueueState,
    RecordingList,
    RecordingSummary,
)
from . import _api_views as api_views
from ._control_client import ControlPlaneError, JobSummary, ScenarioListing, StateImported, epoch_ns, payload, send

DEFAULT_API_KEY = "test-emulator-key"

M = TypeVar("M", bound=BaseModel)

_FAULT_RULES = TypeAdapter(list[FaultRule])
_JOB_SUMMARIES = TypeAdapter(list[JobSummary])


@lru_cache(maxsize=1)
def together_major_version() -> int | None:
    """The major version of the installed `together` SDK, or None when it is not installed
    (read once: a metadata lookup costs milliseconds, and the fixtures ask for every test)."""
    try:
        return int(metadata.version("together").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return None


def sdk_base_url(url: str, major: int | None) -> str:
    """The base URL a `together` SDK generation expects: 1.x/2.x end in /v1, 3.x do not
    (docs/wire-contract.md#base-urls)."""
    url = url.rstrip("/")
    return f"{url}/v1" if major is not None and major < 3 else url


class JobNeverCompletes(RuntimeError):
    """A job whose timeline has no terminal status, so no clock advance can finish it."""


class EmulatorController:
    """Steer and inspect one emulator: every route of `/_emulator/` as a method, plus reads of jobs
    and files as the API shows them, clock jumps to the end of jobs and the request journal.

    `url` is the emulator's root (`http://127.0.0.1:8123`, or the in-process host); `v1_url` is
    the same with `/v1`; `base_url` is the form the installed `together` SDK expects, which the
    fixtures put in `TOGETHER_BASE_URL`. Methods that take a scenario, a fault rule or a snapshot
    accept the model or a plain dict of the same JSON.
    """

    def __init__(self, emulator: Emulator, url: str, *, api_key: str = DEFAULT_API_KEY) -> None:
        self.emulator = emulator
        self.url = url.rstrip("/")
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"<EmulatorController url={self.url!r} seed={self.seed()} now={self.now().isoformat()}>"

    # ------------------------------------------------------------ the control plane, in-process

    def _control(self, method: str, path: str, body: Any = None, *, query: Mapping[str, Any] | None = None) -> Any:
        return send(self.emulator, self.url, method, path, body, query)

    def _typed(self, model: type[M], method: str, path: str, body: Any = None) -> M:
        return model.model_validate(self._control(method, path, body))

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

    # ------------------------------------------------------------ health, reset and seed

    def health(self) -> Health:
        """`GET /_emulator/health`: the emulator is up, and its version."""
        return self._typed(Health, "GET", "health")

    def reset(self) -> None:
        """`POST /_emulator/reset`: back to the startup state (jobs, files, journal, scenarios,
        faults, ids and the clock as configured; the seed is kept)."""
        self._control("POST", "reset")

    def seed(self) -> int:
        """`GET /_emulator/seed`: the seed of ids, verdicts and generated text."""
        seed: int = self._control("GET", "seed")["seed"]
        return seed

    def reseed(self, seed: int) -> None:
        """`POST /_emulator/seed`: switch to `seed` and start over (as `reset`, but the clock keeps its time)."""
        self._control("POST", "seed", {"seed": seed})

    # ------------------------------------------------------------ clock

    def clock(self) -> ClockState:
        """`GET /_emulator/clock`: the time, the mode (`manual` or `real`) and the time scale."""
        return self._typed(ClockState, "GET", "clock")

    def now(self) -> datetime:
        """The emulator's current time (UTC, to the microsecond)."""
        ns = epoch_ns(self.clock().now)
        return datetime.fromtimestamp(ns // NS, tz=UTC).replace(microsecond=ns % NS // 1000)

    def advance(self, seconds: float) -> ClockState:
        """`POST /_emulator/clock/advance`: move the clock forward; every job moves exactly as it
        would in `seconds` of real time."""
        return self._typed(ClockState, "POST", "clock/advance", {"seconds": seconds})

    def set_clock(self, now: datetime | str | float) -> ClockState:
        """`POST /_emulator/clock/set`: jump to `now` (a datetime, RFC 3339 text or epoch seconds;
        a naive datetime is UTC). The clock may go back."""
        value = now.isoformat() if isinstance(now, datetime) else now
        return self._typed(ClockState, "POST", "clock/set", {"now": value})

    def freeze_clock(self) -> ClockState:
        """`POST /_emulator/clock/freeze`: stop the clock (manual mode) where it is."""
        return self._typed(ClockState, "POST", "clock/freeze")

    def run_clock(self, time_scale: float | None = None) -> ClockState:
        """`POST /_emulator/clock/run`: run the clock on wall time from where it is, scaled by
        `time_scale` when given (60: a minute per second)."""
        body = {} if time_scale is None else {"time_scale": time_scale}
        return self._typed(ClockState, "POST", "clock/run", body)

    def scale_clock(self, time_scale: float) -> ClockState:
        """`POST /_emulator/clock/scale`: change the speed of a running clock, keeping its mode."""
        return self._typed(ClockState, "POST", "clock/scale", {"time_scale": time_scale})

    # ------------------------------------------------------------ scenarios

    def scenarios(self) -> ScenarioListing:
        """`GET /_emulator/scenarios`: the server default, the per-type scenarios and the entries."""
        return self._typed(ScenarioListing, "GET", "scenarios")

    def add_scenario(self, entry: ScenarioEntry | Mapping[str, Any]) -> ScenarioEntry:
        """`POST /_emulator/scenarios`: add a rule (no `times`) or an entry for the next `times`
        matching creates; returns it with its id (`scn-1`, ...)."""
        return self._typed(ScenarioEntry, "POST", "scenarios", payload(entry))

    def remove_scenario(self, scenario_id: str) -> ScenarioEntry:
        """`DELETE /_emulator/scenarios/{id}`: remove one entry; returns it."""
        return self._typed(ScenarioEntry, "DELETE", f"scenarios/{scenario_id}")

    def clear_scenarios(self) -> list[str]:
        """`DELETE /_emulator/scenarios`: remove every entry (not the default or per-type ones);
        returns the ids removed."""
        removed: list[str] = self._control("DELETE", "scenarios")["removed"]
        return removed

    def set_default_scenario(self, scenario: Scenario | Mapping[str, Any]) -> Scenario:
        """`PUT /_emulator/scenarios/default`: the server default scenario."""
        return self._typed(Scenario, "PUT", "scenarios/default", payload(scenario))

    def clear_default_scenario(self) -> Scenario:
        """`DELETE /_emulator/scenarios/default`: no server default (the settings apply)."""
        return self._typed(Scenario, "DELETE", "scenarios/default")

    def set_type_scenario(self, eval_type: EvalType, scenario: Scenario | Mapping[str, Any]) -> Scenario:
        """`PUT /_emulator/scenarios/types/{type}`: the scenario of every job of one evaluation type."""
        return self._typed(Scenario, "PUT", f"scenarios/types/{eval_type}", payload(scenario))

    def clear_type_scenario(self, eval_type: EvalType) -> Scenario:
        """`DELETE /_emulator/scenarios/types/{type}`: remove a type's scenario; returns it (empty if none)."""
        return self._typed(Scenario, "DELETE", f"scenarios/types/{eval_type}")

    # ------------------------------------------------------------ faults

    def faults(self) -> list[FaultRule]:
        """`GET /_emulator/faults`: the rules in force, in order, with their `seen` and `fired` counts."""
        return _FAULT_RULES.validate_python(self._control("GET", "faults")["rules"])

    def add_fault(self, rule: FaultRule | Mapping[str, Any]) -> FaultRule:
        """`POST /_emulator/faults`: add a rule after the others; returns it with its id (`fault-1`, ...)."""
        return self._typed(FaultRule, "POST", "faults", payload(rule))

    def replace_faults(self, rules: Iterable[FaultRule | Mapping[str, Any]]) -> list[FaultRule]:
        """`PUT /_emulator/faults`: replace every rule at once (`[]` removes them all); returns the new rules."""
        listing = self._control("PUT", "faults", [payload(rule) for rule in rules])
        return _FAULT_RULES.validate_python(listing["rules"])

    def remove_fault(self, rule_id: str) -> FaultRule:
        """`DELETE /_emulator/faults/{id}`: remove one rule; returns it, with its final counts."""
        return self._typed(FaultRule, "DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> list[str]:
        """`DELETE /_emulator/faults`: remove every rule; returns the ids removed."""
        removed: list[str] = self._control("DELETE", "faults")["removed"]
        return removed

    # ------------------------------------------------------------ jobs, as the control plane shows them

    def job_summary(self, job_id: str) -> JobSummary:
        """`GET /_emulator/jobs/{id}`: status, reads, progression, outcome, where each came from,
        the planned timeline and the results (not counted as a read)."""
        return self._typed(JobSummary, "GET", f"jobs/{job_id}")

    def job_summaries(self) -> list[JobSummary]:
        """`GET /_emulator/jobs`: every job of every tenant (not counted as reads)."""
        return _JOB_SUMMARIES.validate_python(self._control("GET", "jobs"))

    def advance_job(self, job_id: str, steps: int = 1) -> JobSummary:
        """`POST /_emulator/jobs/{id}/advance`: enter the next phase now (`steps` phases), whatever
        the job's progression. A job with no further phase is a 409."""
        return self._typed(JobSummary, "POST", f"jobs/{job_id}/advance", {"steps": steps})

    def force_status(self, job_id: str, status: Status, message: str | None = None) -> JobSummary:
        """`POST /_emulator/jobs/{id}/status`: put a job in `status` now. A terminal status ends it
        (`message` is the `results.error` of `error` / `user_error`); another one resumes its path."""
        body: dict[str, Any] = {"status": status}
        if message is not None:
            body["message"] = message
        return self._typed(JobSummary, "POST", f"jobs/{job_id}/status", body)

    def attach_scenario(self, job_id: str, scenario: Scenario | Mapping[str, Any]) -> JobSummary:
        """`PUT /_emulator/jobs/{id}/scenario`: give one job that has not ended a progression and/or
        an outcome; it goes on from its current phase."""
        return self._typed(JobSummary, "PUT", f"jobs/{job_id}/scenario", payload(scenario))

    # ------------------------------------------------------------ capacity and queue

    def capacity(self) -> CapacityState:
        """`GET /_emulator/capacity`: most jobs `running` at once per API key and in all (None: no limit)."""
        return self._typed(CapacityState, "GET", "capacity")

    def set_capacity(
        self,
        per_tenant: int | None = None,
        total: int | None = None,
        *,
        per_type: Mapping[str, int] | None = None,
        priority: Sequence[str] | None = None,
    ) -> CapacityState:
        """`PUT /_emulator/capacity`: from now on, at most `per_tenant` jobs of one API key, `total`
        jobs in all and `per_type[type]` jobs of an evaluation type are `running` at once (None: no
        limit); the others wait in `queued`, first created first served, except that the jobs of the
        API keys or tenant names in `priority` go first, first listed first. What jobs did before now
        stays as it was."""
        body: dict[str, object] = {"per_tenant": per_tenant, "total": total}
        if per_type is not None:
            body["per_type"] = dict(per_type)
        if priority is not None:
            body["priority"] = list(priority)
        return self._typed(CapacityState, "PUT", "capacity", body)

    def queue(self) -> QueueState:
        """`GET /_emulator/queue`: the capacity, the jobs `running` now, and every `queued` job in line
        order with its position and planned start."""
        return self._typed(QueueState, "GET", "queue")

    # ------------------------------------------------------------ recordings

    def recordings(self) -> list[RecordingSummary]:
        """`GET /_emulator/recordings`: every recording a job can replay, built-in ones first."""
        return self._typed(RecordingList, "GET", "recordings").data

    def recording(self, name: str) -> Recording:
        """`GET /_emulator/recordings/{name}`: one recording as it was added."""
        return self._typed(Recording, "GET", f"recordings/{name}")

    def add_recording(
        self,
        name: str,
        job: Mapping[str, Any] | Any,
        result_file: str | bytes | None = None,
        source: str | None = None,
    ) -> RecordingSummary:
        """`POST /_emulator/recordings`: keep a recorded job under `name`. `job` is what
        `GET /v1/evaluation/{id}` answered (its JSON, or the SDK's object of it); `result_file` is
        its result file's JSONL, when kept. Jobs then replay it through a scenario rule
        (`{"recording": name, "match": ...}`) or the judge model `emulator/replay:<name>`."""
        if hasattr(job, "model_dump"):  # an SDK object: its JSON as the server sent it
            job = job.model_dump(mode="json", by_alias=True, exclude_unset=True)
        body: dict[str, Any] = {"name": name, "job": dict(job)}
        if result_file is not None:
            body["result_file"] = result_file.decode() if isinstance(result_file, bytes) else result_file
        if source is not None:
            body["source"] = source
        return self._typed(RecordingSummary, "POST", "recordings", body)

    def _summary_or_lookup_error(self, job_id: str) -> JobSummary:
        try:
            return self.job_summary(job_id)
        except ControlPlaneError as exc:
            if exc.status_code != 404:
                raise
            raise self._no_such_job(job_id) from None

    def _no_such_job(self, job_id: str) -> LookupError:
        known = [job.workflow_id for job in self.job_summaries()]
        return LookupError(f"No evaluation job {job_id!r} in the emulator. Jobs: {known or 'none'}.")

    @staticmethod
    def _terminal_ns(job: JobSummary) -> int:
        last = job.timeline[-1]
        if last.status not in TERMINAL:
            raise JobNeverCompletes(
                f"Job {job.workflow_id} never completes on its own: its timeline ends in '{last.status}'. "
                "Give it an outcome (POST /v1/evaluation/{id}/update or a scenario) before waiting for it."
            )
        if last.at is None and job.progression.mode in ("durations", "immediate"):  # waits for a slot
            raise JobNeverCompletes(
                f"Job {job.workflow_id} waits in the queue for a slot that never frees: the jobs running hold "
                "the capacity and never end (GET /_emulator/queue). End them (controller.force_status) or "
                "raise the capacity (controller.set_capacity) before waiting for it."
            )
        if last.at is None:  # after_polls or manual progression: no clock time ends it
            raise JobNeverCompletes(
                f"Job {job.workflow_id} does not end on the clock: its progression is '{job.progression.mode}', "
                "so it moves on reads or control calls. Advance it (controller.advance_job(id), or POST "
                "/_emulator/jobs/{id}/advance) or give it a time-driven progression."
            )
        return epoch_ns(last.at)

    def _advance_to(self, target_ns: int) -> None:
        # The clock's `now` is truncated to the microsecond, so the jump lands on or just past the
        # target, never before it (a real clock also keeps moving between the two requests).
        now_ns = epoch_ns(self.clock().now)
        if target_ns > now_ns:
            self.advance((target_ns - now_ns) / NS)

    def run_until_complete(self, job_id: str) -> str:
        """Advance the clock to the moment `job_id` reaches its terminal status; returns that status.

        No sleeping: this is one clock jump. A job already terminal leaves the clock alone.
        """
        job = self._summary_or_lookup_error(job_id)
        self._advance_to(self._terminal_ns(job))
        return job.timeline[-1].status  # the clock is now past the instant it enters it

    def complete_all(self) -> dict[str, str]:
        """Advance the clock until every job is terminal; returns each job's final status by id."""
        found = self.job_summaries()
        targets = [self._terminal_ns(job) for job in found]
        if targets:
            self._advance_to(max(targets))
        return {job.workflow_id: job.timeline[-1].status for job in found}

    # ------------------------------------------------------------ jobs and files, as the API shows them

    def job(self, job_id: str) -> EvaluationJob:
        """A job as `GET /v1/evaluation/{id}` would answer it now (reading it is not a poll)."""
        found = api_views.job(self.emulator, job_id)
        if found is None:
            raise self._no_such_job(job_id)
        return found

    def jobs(self, *, tenant: str | None = None) -> list[EvaluationJob]:
        """Every job (of one API key when `tenant` is given), oldest first, as the API shows them."""
        return api_views.jobs(self.emulator, tenant)

    def files(self, *, tenant: str | None = None) -> list[FileObject]:
        """Every uploaded file and result file, as `GET /v1/files` shows them (the built-in
        datasets every tenant also sees are left out)."""
        return api_views.files(self.emulator, tenant)

    def file_content(self, file_id: str) -> bytes:
        """The bytes `GET /v1/files/{id}/content` would serve for an upload or a result file."""
        content = api_views.file_content(self.emulator, file_id)
        if content is None:
            raise LookupError(f"No uploaded or result file {file_id!r} in the emulator.")
        return content

    # ------------------------------------------------------------ state

    def export_state(self) -> Snapshot:
        """`GET /_emulator/state`: everything but the journal (clock, seed, ids, tenants with their
        files and jobs, pending uploads, scenarios, faults with their counters)."""
        return self._typed(Snapshot, "GET", "state")

    def import_state(self, snapshot: Snapshot | Mapping[str, Any] | str | bytes) -> StateImported:
        """`PUT /_emulator/state`: restore an exported state (a `Snapshot`, its dict, or its JSON
        text); the emulator then answers every request as the exported one would. An invalid
        snapshot changes nothing."""
        body = json.loads(snapshot) if isinstance(snapshot, str | bytes) else payload(snapshot)
        return self._typed(StateImported, "PUT", "state", body)

    # ------------------------------------------------------------ journal

    @property
    def journal(self) -> Journal:
        """Every API request the emulator answered since the last reset (see `Journal`)."""
        return self.emulator.journal

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the journal, oldest first."""
        return self.emulator.journal.entries

    def recorded_requests(
        self,
        route: str | None = None,
        *,
        job_id: str | None = None,
        file_id: str | None = None,
        tenant: str | None = None,
        status_code: int | None = None,
    ) -> list[RecordedRequestView]:
        """`GET /_emulator/requests`: the journal as the control plane shows it, oldest first,
        filtered on a route (name, `METHOD /template` or `METHOD /path`) and the other criteria."""
        criteria = {"route": route, "job_id": job_id, "file_id": file_id, "tenant": tenant, "status_code": status_code}
        query = {name: value for name, value in criteria.items() if value is not None}
        listing = self._control("GET", "requests", query=query)
        return [RecordedRequestView.model_validate(entry) for entry in listing["data"]]

    def reset_journal(self) -> None:
        """`POST /_emulator/reset/journal`: forget the recorded requests only."""
        self._control("POST", "reset/journal")

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

    # ------------------------------------------------------------ polling verdicts (docs/polling.md)

    @staticmethod
    def _polling_query(**given: Any) -> dict[str, str]:
        """The query of a polling route: the thresholds given (None: the emulator's settings)."""
        return {
            name: ("true" if value else "false") if isinstance(value, bool) else str(value)
            for name, value in given.items()
            if value is not None
        }

    def polling_report(
        self,
        job_id: str,
        *,
        min_interval: float | None = None,
        stops_after_terminal: bool | None = None,
        reads_after_terminal: int | None = None,
        honours_retry_after: bool | None = None,
        list_watches: int | None = None,
        wall_clock: bool = False,
    ) -> PollingReport:
        """`GET /_emulator/jobs/{id}/polling`: how clients polled `job_id`, and the verdict, against
        the settings' thresholds or the ones given (`min_interval` in seconds on the emulator clock;
        `stops_after_terminal=False` leaves the reads after the end unchecked). `wall_clock=True`
        adds the intervals on the wall clock."""
        query = self._polling_query(
            min_interval=min_interval,
            stops_after_terminal=stops_after_terminal,
            reads_after_terminal=reads_after_terminal,
            honours_retry_after=honours_retry_after,
            list_watches=list_watches,
            wall_clock=wall_clock or None,
        )
        try:
            answer = self._control("GET", f"jobs/{job_id}/polling", query=query)
        except ControlPlaneError as exc:
            if exc.status_code != 404:
                raise
            raise self._no_such_job(job_id) from None
        return PollingReport.model_validate(answer)

    def polling_reports(
        self,
        *,
        tenant: str | None = None,
        verdict: str | None = None,
        min_interval: float | None = None,
        stops_after_terminal: bool | None = None,
        reads_after_terminal: int | None = None,
        honours_retry_after: bool | None = None,
        list_watches: int | None = None,
        wall_clock: bool = False,
    ) -> list[PollingReport]:
        """`GET /_emulator/polling`: one report per job (of one tenant: an API key, a tenant name or a
        key fingerprint; of one verdict: `ok`, `bad` or `incomplete`), tenant by tenant, oldest first."""
        query = self._polling_query(
            tenant=tenant,
            verdict=verdict,
            min_interval=min_interval,
            stops_after_terminal=stops_after_terminal,
            reads_after_terminal=reads_after_terminal,
            honours_retry_after=honours_retry_after,
            list_watches=list_watches,
            wall_clock=wall_clock or None,
        )
        return PollingReportList.model_validate(self._control("GET", "polling", query=query)).data

    def assert_polling(
        self,
        job_id: str | None = None,
        *,
        min_interval: float | None = None,
        stops_after_terminal: bool | None = None,
        honours_retry_after: bool | None = None,
        reads_after_terminal: int | None = None,
        list_watches: int | None = None,
    ) -> list[PollingReport]:
        """Assert that `job_id` (every job, when None) was polled well: its verdict is `ok` against
        the settings' thresholds or the ones given. The failure message says what the client did
        wrong, with the offending requests (their time on the emulator clock, method and path); a
        job whose create request the journal no longer holds fails as `incomplete`. Returns the
        reports checked."""
        __tracebackhide__ = True
        thresholds: dict[str, Any] = {
            "min_interval": min_interval,
            "stops_after_terminal": stops_after_terminal,
            "honours_retry_after": honours_retry_after,
            "reads_after_terminal": reads_after_terminal,
            "list_watches": list_watches,
        }
        if job_id is not None:
            reports = [self.polling_report(job_id, **thresholds)]
        else:
            reports = self.polling_reports(**thresholds)
        failed = [report.explain() for report in reports if report.verdict != "ok"]
        if failed:
            raise AssertionError("\n".join(failed))
        return reports

    # ------------------------------------------------------------ lifecycle paths (docs/lifecycle-paths.md)

    def paths(
        self,
        *,
        terminal: Iterable[str] | None = None,
        at: Iterable[str] | None = None,
        max_preemptions: int | None = None,
        progression: str | None = None,
        max_polls: int | None = None,
        type: EvalType | None = None,
    ) -> list[LifecyclePath]:
        """`GET /_emulator/paths`: every lifecycle path the filters list, in a fixed order (`terminal`:
        `completed`, `error`, `user_error`, `stall`; `at`: the phases an error or stall happens in)."""
        given: dict[str, Any] = {
            "terminal": ",".join(terminal) if terminal is not None else None,
            "at": ",".join(at) if at is not None else None,
            "max_preemptions": max_preemptions,
            "progression": progression,
            "max_polls": max_polls,
            "type": type,
        }
        query = {name: value for name, value in given.items() if value is not None}
        return PathList.model_validate(self._control("GET", "paths", query=query)).data

    def attach_path(
        self, path: LifecyclePath | str, *, type: EvalType | None = None, times: int | None = None
    ) -> ScenarioEntry:
        """`PUT /_emulator/paths/{id}`: the next jobs created (of `type`; the next `times` only) follow
        `path` (a listed path or its id); returns the scenario entry added."""
        path_id = path.id if isinstance(path, LifecyclePath) else path
        body = {name: value for name, value in (("type", type), ("times", times)) if value is not None}
        return self._typed(ScenarioEntry, "PUT", f"paths/{path_id}", body)
