"""The polling verdict: how clients polled each job, graded from the request journal and the job's
timeline (docs/polling.md).

A job's reads are the `GET /v1/evaluation/{id}` and `/status` requests its tenant made for it, in
journal order. Each entry says what the read showed (`RecordedRequest.job_status`, None when it
was not answered in full), the Retry-After its answer carried, and when it came on the emulator
clock (and on the wall clock). From them and the job's phases:

* an interval after a read answered in full and asking no Retry-After is a polling interval,
  held to `min_interval_seconds`;
* an interval after an answer that carried a Retry-After is held to that wait
  (`honours_retry_after`); an interval after another failed read is a retry, held to neither;
* the reads after the first one that showed a terminal status are reads after terminal
  (`reads_after_terminal` allowed);
* a list call of the job's tenant made while the job had not ended (on its timeline) and followed
  by no read of the job before the tenant's next list call watched the job through the list
  (`list_watches` allowed).

A report is complete when the journal still holds the request that created the job: the journal
drops its oldest entries first, so every later request is there too. Otherwise its verdict is
`incomplete` unless the requests kept already prove a finding. Everything but the wall-clock
figures (given only on request) follows from the journal and the job, so a report is the same on
every run of the same requests.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ._clock import NS, format_micros
from ._config import EmulatorConfig
from ._jobs import Jobs
from ._journal import POLL_ROUTES, Journal
from ._lifecycle import TERMINAL, Phase, reached
from ._parameters import Status
from ._redaction import key_fingerprint
from ._store import Job, RecordedRequest, Tenant

__all__ = [
    "CitedRequest",
    "Finding",
    "Intervals",
    "Polling",
    "PollingReport",
    "PollingReportList",
    "PollingThresholds",
    "ReadCounts",
    "RetryAfterCounts",
]

LIST_ROUTES = frozenset({"evaluation.list", "evaluations.list"})
CREATE_ROUTE = "evaluation.create"
CITED = 10  # offending requests a finding lists; its `count` says how many there were
DOCS = "docs/polling.md"

FindingName = Literal["polls_too_often", "ignored_retry_after", "reads_after_terminal", "list_used_to_watch"]
Verdict = Literal["ok", "bad", "incomplete"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PollingThresholds(_Model):
    """What the verdict holds a client to. The defaults are the settings' `polling_*` fields."""

    min_interval_seconds: float = Field(
        1.0, ge=0, allow_inf_nan=False, description="Shortest polling interval on the emulator clock (0: any)."
    )
    reads_after_terminal: int | None = Field(
        0, ge=0, description="Reads allowed after the one that saw the job end (null: not checked)."
    )
    honours_retry_after: bool = Field(True, description="Whether a read must wait the Retry-After sent before it.")
    list_watches: int = Field(0, ge=0, description="List calls allowed to watch the job while it runs.")

    @classmethod
    def of(cls, config: EmulatorConfig) -> PollingThresholds:
        """The thresholds of the settings."""
        return cls(
            min_interval_seconds=config.polling_min_interval_seconds,
            reads_after_terminal=config.polling_reads_after_terminal,
            honours_retry_after=config.polling_honours_retry_after,
            list_watches=config.polling_list_watches,
        )

    def describe(self) -> str:
        after = "any" if self.reads_after_terminal is None else str(self.reads_after_terminal)
        return (
            f"min_interval {self.min_interval_seconds:g} s, reads_after_terminal {after}, "
            f"honours_retry_after {str(self.honours_retry_after).lower()}, list_watches {self.list_watches}"
        )


class CitedRequest(_Model):
    """A request a finding names: the journal entry, and why it is cited."""

    seq: int = Field(description="Its number in the journal (`GET /_emulator/requests`).")
    time: str = Field(description="When it was answered, on the emulator clock (RFC 3339).")
    method: str
    path: str
    route: str | None
    status_code: int
    saw: str | None = Field(description="The status the read showed (null: not answered in full, or a list).")
    why: str = Field(description="What was wrong with it.")

    def line(self) -> str:
        saw = f" saw {self.saw}" if self.saw else ""
        return f"#{self.seq} {self.time} {self.method} {self.path} -> {self.status_code}{saw}: {self.why}"


class Finding(_Model):
    """One way the job was polled badly."""

    name: FindingName
    message: str
    count: int = Field(description="How many requests did it; the first ten are in `requests`.")
    requests: list[CitedRequest]


class Intervals(_Model):
    """Polling intervals (from a read answered in full to the next read), in seconds."""

    count: int
    min_seconds: float | None = None
    median_seconds: float | None = None
    max_seconds: float | None = None


class ReadCounts(_Model):
    """The job's reads (retrieve and status) by its tenant."""

    total: int
    by_status: dict[str, int] = Field(description="Reads by the status they showed, in the order first shown.")
    failed: int = Field(description="Reads not answered in full (an error status, or a fault that broke the answer).")
    after_terminal: int = Field(description="Reads after the first one that showed a terminal status.")
    needed: int | None = Field(
        description="Reads a client would have made reading right after the create and then every "
        "`min_interval_seconds` until the job ended (null: the job has not ended, or no minimum)."
    )


class RetryAfterCounts(_Model):
    """Answers to the job's reads that asked for a wait (Retry-After), and how the next read kept it."""

    asked: int = Field(description="Answers with a Retry-After that another read followed.")
    honoured: int = Field(description="Of those, the ones whose next read waited at least that long.")


class PollingReport(_Model):
    """How one job was polled, and the verdict (docs/polling.md)."""

    job_id: str
    tenant: str = Field(description="The job's tenant: its name, else its API key's fingerprint.")
    verdict: Verdict = Field(
        description="`bad` when there is a finding; else `incomplete` when the journal no longer holds "
        "the job's create request; else `ok`."
    )
    complete: bool = Field(description="Whether the journal holds every request made since the job was created.")
    status: Status = Field(description="The job's status now.")
    created_at: str
    terminal_at: str | None = Field(description="When the job ended, on the emulator clock (null: not yet).")
    reads: ReadCounts
    intervals: Intervals = Field(description="Polling intervals on the emulator clock.")
    wall_clock_intervals: Intervals | None = Field(
        None, description="The same intervals on the wall clock; only when asked (`wall_clock=true`)."
    )
    retry_after: RetryAfterCounts
    list_watches: int = Field(description="List calls that watched the job while it ran.")
    thresholds: PollingThresholds
    findings: list[Finding]

    def summary(self) -> str:
        """The verdict and each finding's message, one line each, without the requests."""
        if self.verdict == "incomplete":
            return f"job {self.job_id} (tenant {self.tenant}): incomplete (the journal no longer holds its create)"
        lines = [f"job {self.job_id} (tenant {self.tenant}): {self.verdict}"]
        lines.extend(f"  {finding.name}: {finding.message}" for finding in self.findings)
        return "\n".join(lines)

    def explain(self) -> str:
        """What the client did wrong, with the requests, for a failure message ('' when `ok`)."""
        if self.verdict == "ok":
            return ""
        if self.verdict == "incomplete":
            return (
                f"job {self.job_id} (tenant {self.tenant}) cannot be graded: the journal no longer holds the "
                "request that created it (the oldest requests were dropped past journal_limit or "
                "journal_byte_limit, the journal was reset, or the state was imported), so the reads made "
                "before its oldest entry are unknown. Raise journal_limit / journal_byte_limit, or grade "
                f"jobs created after the reset ({DOCS})."
            )
        lines = [f"job {self.job_id} (tenant {self.tenant}) was polled badly:"]
        for finding in self.findings:
            lines.append(f"  {finding.name}: {finding.message}")
            lines.extend(f"    {cited.line()}" for cited in finding.requests)
            if finding.count > len(finding.requests):
                lines.append(f"    ... and {finding.count - len(finding.requests)} more")
        if not self.complete:
            lines.append("  (the journal no longer holds the job's first requests: there may be more)")
        lines.append(f"  thresholds: {self.thresholds.describe()} ({DOCS})")
        return "\n".join(lines)


class PollingReportList(_Model):
    data: list[PollingReport]


# ---------------------------------------------------------------- grading


def _seconds(ns: int) -> float:
    return round(ns / NS, 6)


def _intervals(gaps: Sequence[int]) -> Intervals:
    if not gaps:
        return Intervals(count=0)
    return Intervals(
        count=len(gaps),
        min_seconds=_seconds(min(gaps)),
        median_seconds=_seconds(round(statistics.median(gaps))),
        max_seconds=_seconds(max(gaps)),
    )


def _cite(entry: RecordedRequest, why: str) -> CitedRequest:
    return CitedRequest(
        seq=entry.seq,
        time=entry.time,
        method=entry.method,
        path=entry.path,
        route=entry.route,
        status_code=entry.status_code,
        saw=entry.job_status,
        why=why,
    )


# An offending request and why it is cited; made a `CitedRequest` only when listed (a busy poller
# gives thousands).
Offence = tuple[RecordedRequest, str]


def _finding(name: FindingName, message: str, offences: Sequence[Offence]) -> Finding:
    cited = [_cite(entry, why) for entry, why in offences[:CITED]]
    return Finding(name=name, message=message, count=len(offences), requests=cited)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass
class _JournalIndex:
    """The journal's entries as the verdict looks them up: reads by job, lists by tenant, creates."""

    reads: dict[str, list[RecordedRequest]] = field(default_factory=dict)
    lists: dict[str | None, list[RecordedRequest]] = field(default_factory=dict)
    creates: dict[str, int] = field(default_factory=dict)  # job id -> seq of the create that made it

    @classmethod
    def of(cls, entries: Iterable[RecordedRequest]) -> _JournalIndex:
        index = cls()
        for entry in entries:
            if entry.route in POLL_ROUTES and entry.job_id is not None:
                index.reads.setdefault(entry.job_id, []).append(entry)
            elif entry.route in LIST_ROUTES:
                index.lists.setdefault(entry.key_fingerprint, []).append(entry)
            elif entry.route == CREATE_ROUTE and entry.job_id is not None and entry.status_code < 400:
                index.creates.setdefault(entry.job_id, entry.seq)
        return index


@dataclass(frozen=True)
class _Job:
    """What the verdict needs of a job: its record, its tenant's label and where it is now."""

    record: Job
    tenant: str
    status: Status
    terminal_ns: int | None  # when it ended (emulator clock), None while it has not
    timeline: tuple[Phase, ...]  # its phases as scheduled (`Jobs.timeline`: moved on by a capacity)

    def status_at(self, ns: int) -> str:
        """Its status at an instant, from its timeline."""
        return reached(self.timeline, ns - self.record.created_ns)[-1].status


@dataclass
class _Shown:
    """What a job's reads showed: reads by status, and the reads after the first that showed its end."""

    by_status: dict[str, int] = field(default_factory=dict)
    first_terminal: RecordedRequest | None = None
    after: list[RecordedRequest] = field(default_factory=list)

    @classmethod
    def of(cls, reads: list[RecordedRequest]) -> _Shown:
        shown = cls()
        for entry in reads:
            if shown.first_terminal is not None:
                shown.after.append(entry)
            if entry.job_status is not None:
                shown.by_status[entry.job_status] = shown.by_status.get(entry.job_status, 0) + 1
                if shown.first_terminal is None and entry.job_status in TERMINAL:
                    shown.first_terminal = entry
        return shown


@dataclass
class _Timing:
    """The intervals between a job's reads: polling ones (after a read answered in full), and the
    waits asked by Retry-After; an interval after another failed read is a retry, held to neither."""

    gaps: list[int] = field(default_factory=list)
    wall_gaps: list[int] = field(default_factory=list)
    too_soon: list[Offence] = field(default_factory=list)
    ignored: list[Offence] = field(default_factory=list)
    asked: int = 0
    honoured: int = 0

    @classmethod
    def of(cls, reads: list[RecordedRequest], min_ns: int) -> _Timing:
        timing = cls()
        for previous, entry in zip(reads, reads[1:], strict=False):
            gap = entry.time_ns - previous.time_ns
            if previous.retry_after_ms is not None:
                timing.asked += 1
                if gap >= previous.retry_after_ms * 1_000_000:
                    timing.honoured += 1
                else:
                    wait = f"{previous.retry_after_ms / 1000:g} s"
                    why = f"{_seconds(gap):g} s after #{previous.seq}, whose answer asked for a {wait} wait"
                    timing.ignored.append((entry, why))
            elif previous.job_status is not None:
                timing.gaps.append(gap)
                if previous.wall_ns is not None and entry.wall_ns is not None:
                    timing.wall_gaps.append(entry.wall_ns - previous.wall_ns)
                if gap < min_ns:
                    timing.too_soon.append((entry, f"{_seconds(gap):g} s after #{previous.seq}"))
        return timing


def _list_watches(
    job: _Job, lists: list[RecordedRequest], reads: list[RecordedRequest], create_seq: int | None
) -> list[Offence]:
    """The tenant's list calls made while the job had not ended, each followed by no read of the
    job before the tenant's next list call."""
    watches = []
    read_seqs = [entry.seq for entry in reads]
    for position, entry in enumerate(lists):
        made = entry.seq > create_seq if create_seq is not None else entry.time_ns >= job.record.created_ns
        status = job.status_at(entry.time_ns)
        if not made or status in TERMINAL:
            continue
        until = lists[position + 1].seq if position + 1 < len(lists) else math.inf
        if not any(entry.seq < seq < until for seq in read_seqs):
            watches.append((entry, f"the job was '{status}' and no read of it followed"))
    return watches


def _findings(thresholds: PollingThresholds, shown: _Shown, timing: _Timing, watches: list[Offence]) -> list[Finding]:
    findings = []
    interval = f"{thresholds.min_interval_seconds:g} s"
    if timing.too_soon:
        findings.append(
            _finding(
                "polls_too_often",
                f"{_plural(len(timing.too_soon), 'read')} came less than {interval} after the read before "
                f"(shortest {_seconds(min(timing.gaps)):g} s). Sleep between reads: at most one read per {interval}.",
                timing.too_soon,
            )
        )
    if timing.ignored and thresholds.honours_retry_after:
        findings.append(
            _finding(
                "ignored_retry_after",
                f"{_plural(len(timing.ignored), 'read')} came before the wait the answer before it asked for had "
                "passed. Wait what retry-after-ms (or retry-after) says before reading again.",
                timing.ignored,
            )
        )
    allowed, first = thresholds.reads_after_terminal, shown.first_terminal
    if first is not None and allowed is not None and len(shown.after) > allowed:
        saw = f"#{first.seq} showed '{first.job_status}'"
        findings.append(
            _finding(
                "reads_after_terminal",
                f"{_plural(len(shown.after), 'read')} came after {saw} (allowed: {allowed}). Stop polling once "
                "the status is completed, error or user_error.",
                [(entry, f"after {saw}") for entry in shown.after[allowed:]],
            )
        )
    if len(watches) > thresholds.list_watches:
        findings.append(
            _finding(
                "list_used_to_watch",
                f"{_plural(len(watches), 'list call')} (GET /v1/evaluation) came while the job ran and no read "
                f"of the job followed before the next list (allowed: {thresholds.list_watches}). Read the job "
                "itself (GET /v1/evaluation/{id}/status) to watch it.",
                watches[thresholds.list_watches :],
            )
        )
    return findings


def _grade(job: _Job, index: _JournalIndex, thresholds: PollingThresholds, *, wall_clock: bool) -> PollingReport:
    """The report of one job, from the journal's entries (indexed) and the job."""
    fingerprint = key_fingerprint(job.record.tenant)
    reads = [entry for entry in index.reads.get(job.record.workflow_id, []) if entry.key_fingerprint == fingerprint]
    create_seq = index.creates.get(job.record.workflow_id)
    min_ns = round(thresholds.min_interval_seconds * NS)
    shown = _Shown.of(reads)
    timing = _Timing.of(reads, min_ns)
    watches = _list_watches(job, index.lists.get(fingerprint, []), reads, create_seq)
    findings = _findings(thresholds, shown, timing, watches)
    created_ns, terminal_ns = job.record.created_ns, job.terminal_ns
    complete = create_seq is not None
    return PollingReport(
        job_id=job.record.workflow_id,
        tenant=job.tenant,
        verdict="bad" if findings else "ok" if complete else "incomplete",
        complete=complete,
        status=job.status,
        created_at=format_micros(created_ns),
        terminal_at=format_micros(terminal_ns) if terminal_ns is not None else None,
        reads=ReadCounts(
            total=len(reads),
            by_status=shown.by_status,
            failed=sum(1 for entry in reads if entry.job_status is None),
            after_terminal=len(shown.after),
            needed=math.ceil((terminal_ns - created_ns) / min_ns) + 1 if terminal_ns is not None and min_ns else None,
        ),
        intervals=_intervals(timing.gaps),
        wall_clock_intervals=_intervals(timing.wall_gaps) if wall_clock else None,
        retry_after=RetryAfterCounts(asked=timing.asked, honoured=timing.honoured),
        list_watches=len(watches),
        thresholds=thresholds,
        findings=findings,
    )


# ---------------------------------------------------------------- the service


class Polling:
    """Polling reports of the jobs in a store, from its journal."""

    def __init__(self, jobs: Jobs, journal: Journal, config: EmulatorConfig) -> None:
        self.jobs = jobs
        self.journal = journal
        self.config = config

    def thresholds(
        self,
        *,
        min_interval: float | None = None,
        stops_after_terminal: bool | None = None,
        reads_after_terminal: int | None = None,
        honours_retry_after: bool | None = None,
        list_watches: int | None = None,
    ) -> PollingThresholds:
        """The settings' thresholds with the given ones instead (None: the setting's).
        `stops_after_terminal=False` leaves the reads after the end unchecked."""
        base = PollingThresholds.of(self.config)
        given = {
            "min_interval_seconds": min_interval,
            "reads_after_terminal": reads_after_terminal,
            "honours_retry_after": honours_retry_after,
            "list_watches": list_watches,
        }
        update: dict[str, object] = {name: value for name, value in given.items() if value is not None}
        if stops_after_terminal is False:
            update["reads_after_terminal"] = None
        return PollingThresholds.model_validate({**base.model_dump(), **update})

    def _job(self, record: Job) -> _Job:
        phases = self.jobs.phases_reached(record)
        last = phases[-1]
        terminal_ns = None
        if last.status in TERMINAL and last.offset_ns is not None:
            terminal_ns = record.created_ns + last.offset_ns
        tenant = self.jobs.store.get_tenant(record.tenant) or Tenant(record.tenant)
        return _Job(record, tenant.label, last.status, terminal_ns, self.jobs.timeline(record))

    def report(
        self, workflow_id: str, thresholds: PollingThresholds | None = None, *, wall_clock: bool = False
    ) -> PollingReport:
        """The report of one job, whichever tenant owns it (404 for an unknown id)."""
        record = self.jobs.locate(workflow_id)
        index = _JournalIndex.of(self.journal.entries)
        return _grade(self._job(record), index, thresholds or PollingThresholds.of(self.config), wall_clock=wall_clock)

    def reports(
        self,
        thresholds: PollingThresholds | None = None,
        *,
        tenant: str | None = None,
        verdict: Verdict | None = None,
        wall_clock: bool = False,
    ) -> list[PollingReport]:
        """The report of every job (of one tenant: an API key, a tenant name or a key fingerprint),
        tenant by tenant and each tenant's oldest first; only those with `verdict` when given."""
        index = _JournalIndex.of(self.journal.entries)
        chosen = thresholds or PollingThresholds.of(self.config)
        found = []
        for record in self.jobs.all():
            job = self._job(record)
            if tenant is not None and tenant not in (record.tenant, job.tenant, key_fingerprint(record.tenant)):
                continue
            report = _grade(job, index, chosen, wall_clock=wall_clock)
            if verdict is None or report.verdict == verdict:
                found.append(report)
        return found
