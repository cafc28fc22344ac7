"""What each dashboard page shows, read from the engine: plain values for its template.

Everything here reads through the engine's services, the way the control plane does, and never
through a client's read path: no job's read counter moves (the `after_polls` progression and the
polling verdict stay as the clients left them), and the journal records nothing of it (control-plane
paths are not recorded). A job is shown as `GET /_emulator/jobs/{id}` shows it (`job_summary`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..engine import _builtin_datasets as builtin_datasets
from ..engine._clock import NS, format_micros
from ..engine._journal import RecordedRequestView
from ..engine._lifecycle import TERMINAL, Phase
from ..engine._polling import PollingReport
from ..engine._store import Job, RecordedRequest, StoredFile, Tenant
from ._control import job_summary
from ._routing import Call
from ._wire import STATUSES

EVAL_TYPES = ("classify", "score", "compare")
JOURNAL_SHOWN = 200  # journal entries listed, newest first; the filters narrow the rest down
JOBS_SHOWN = 100  # jobs drawn, newest first; the filters narrow the rest down
LABEL_MIN_PERCENT = 9.0  # a timeline segment narrower than this is not labelled inside the bar (the list below is)


@dataclass(frozen=True)
class Segment:
    """One phase on a job's timeline bar, in percent of the bar."""

    status: str
    reached: bool
    start: float
    width: float
    at: str
    offset_seconds: float

    @property
    def labelled(self) -> bool:
        return self.width >= LABEL_MIN_PERCENT


@dataclass(frozen=True)
class Waiting:
    """A planned phase with no instant yet: it waits on reads (`after_polls`) or the control plane (`manual`)."""

    status: str
    why: str


@dataclass(frozen=True)
class Timeline:
    """A job's phases against the emulator clock, from its creation to now, or to its last planned
    phase when that is later; an ended job's bar ends a little after its end, however long ago that
    was (`ended_ago` says how long). `now` is in percent of the bar."""

    segments: tuple[Segment, ...]
    waiting: tuple[Waiting, ...]
    now: float
    span_seconds: float
    now_before_creation: bool
    ended_ago: float | None = None  # seconds from the job's end to now, when it has ended

    @property
    def now_beyond(self) -> bool:
        """Whether now lies past the bar's end (the marker then stands at the end)."""
        return self.ended_ago is not None and self.now >= 100


ENDED_MARGIN = 0.25  # an ended job's bar goes on this fraction of its life past its end


def timeline(job: Job, phases: tuple[Phase, ...], now_ns: int, reached: int) -> Timeline:
    """The bar of a job with these phases (as scheduled: `Jobs.timeline`): each phase with an instant
    is a segment from it to the next one (the last one to the end of the bar), each phase without
    one is listed as waiting."""
    timed = [(index, phase) for index, phase in enumerate(phases) if phase.offset_ns is not None]
    elapsed = now_ns - job.created_ns
    last_index, last_phase = timed[-1]
    last = last_phase.offset_ns or 0
    ended = last_phase.status in TERMINAL and last_index < reached
    span = max(elapsed, last, NS)  # at least a second: a shorter bar would magnify nothing
    if ended:  # long after its end, the phases would shrink to nothing at the bar's start
        span = min(span, max(last + round(last * ENDED_MARGIN), last + NS))
    segments = []
    for position, (index, phase) in enumerate(timed):
        start = phase.offset_ns or 0
        end = timed[position + 1][1].offset_ns if position + 1 < len(timed) else span
        assert end is not None
        segments.append(
            Segment(
                status=phase.status,
                reached=index < reached,
                start=round(100 * start / span, 3),
                width=round(100 * max(end - start, 0) / span, 3),
                at=format_micros(job.created_ns + start),
                offset_seconds=round(start / NS, 3),
            )
        )
    waiting = []
    for phase in phases:
        if phase.offset_ns is None:
            why = (
                f"after read {phase.after_reads} of the job"
                if phase.after_reads is not None
                else "when the control plane moves it"
            )
            waiting.append(Waiting(phase.status, why))
    now = min(max(elapsed, 0), span)
    return Timeline(
        tuple(segments),
        tuple(waiting),
        round(100 * now / span, 3),
        span / NS,
        elapsed < 0,
        round((elapsed - last) / NS, 3) if ended else None,
    )


@dataclass(frozen=True)
class JobRow:
    """One job of the jobs page."""

    summary: dict[str, Any]
    created_at: str
    created_ns: int
    timeline: Timeline
    polling: PollingReport | None
    result_file: StoredFile | None
    ended: bool
    # Where a queued job stands in line under a capacity (`GET /_emulator/jobs/{id}`'s `queue`), else None.
    queue_position: int | None = None

    @property
    def workflow_id(self) -> str:
        return str(self.summary["workflow_id"])


@dataclass(frozen=True)
class JobFilters:
    tenant: str = ""
    status: str = ""
    type: str = ""

    @classmethod
    def of(cls, query: dict[str, str]) -> JobFilters:
        return cls(query.get("tenant", ""), query.get("status", ""), query.get("type", ""))

    def keeps(self, tenant: str, status: str, eval_type: str) -> bool:
        return (
            (not self.tenant or tenant == self.tenant)
            and (not self.status or status == self.status)
            and (not self.type or eval_type == self.type)
        )


@dataclass(frozen=True)
class JobsPage:
    rows: list[JobRow]  # the newest `JOBS_SHOWN` of those matching
    matching: int
    total: int
    filters: JobFilters
    tenants: list[str]
    statuses: tuple[str, ...] = STATUSES
    types: tuple[str, ...] = EVAL_TYPES


def jobs_page(call: Call) -> JobsPage:
    """Every tenant's jobs, newest first (of two made at one instant, the one stored later first),
    filtered by the query's tenant, status and type; the newest `JOBS_SHOWN` of them drawn."""
    engine = call.engine
    now = engine.clock.now_ns()
    labels = {tenant.key: tenant.label for tenant in engine.tenants.all()}
    everything = list(reversed(engine.jobs.all()))
    everything.sort(key=lambda job: job.created_ns, reverse=True)  # stable: keeps the reversed order at ties
    filters = JobFilters.of(call.request.query)
    kept = [
        job
        for job in everything
        if filters.keeps(labels.get(job.tenant) or Tenant(job.tenant).label, engine.jobs.status(job), job.type)
    ]
    reports = {report.job_id: report for report in engine.polling.reports()} if kept else {}
    queue = {place.workflow_id: place for place in engine.schedule.queue(now)} if kept else {}
    rows = []
    for job in kept[:JOBS_SHOWN]:
        summary = job_summary(call, job, queue)
        reached = sum(1 for phase in summary["timeline"] if phase["reached"])
        place = summary["queue"]
        rows.append(
            JobRow(
                summary=summary,
                created_at=format_micros(job.created_ns),
                created_ns=job.created_ns,
                timeline=timeline(job, engine.jobs.timeline(job), now, reached),
                polling=reports.get(job.workflow_id),
                result_file=engine.files.result_file(job, now),
                ended=summary["status"] in TERMINAL,
                queue_position=None if place is None else int(place["position"]),
            )
        )
    return JobsPage(rows, len(kept), len(everything), filters, sorted(set(labels.values())))


# ---------------------------------------------------------------- journal


@dataclass(frozen=True)
class JournalFilters:
    route: str = ""
    tenant: str = ""
    status_code: str = ""
    job_id: str = ""
    file_id: str = ""

    @classmethod
    def of(cls, query: dict[str, str]) -> JournalFilters:
        return cls(*(query.get(name, "").strip() for name in ("route", "tenant", "status_code", "job_id", "file_id")))

    def query(self) -> dict[str, str]:
        """The filters given, as the page's query."""
        return {name: value for name, value in dataclasses.asdict(self).items() if value}


@dataclass(frozen=True)
class JournalPage:
    entries: list[RecordedRequest]
    matching: int
    total: int
    filters: JournalFilters
    problem: str | None
    routes: list[str]
    chosen: RecordedRequestView | None
    chosen_body: str | None
    shown: int = JOURNAL_SHOWN


def _body_text(view: RecordedRequestView) -> str | None:
    if view.body is None:
        return None
    if isinstance(view.body, str):
        return view.body
    return json.dumps(view.body, indent=2, ensure_ascii=False)


def journal_page(call: Call) -> JournalPage:
    """The recorded requests, newest first, filtered as `GET /_emulator/requests` filters them; with
    `seq`, one request's body."""
    journal = call.engine.journal
    filters = JournalFilters.of(call.request.query)
    criteria: dict[str, Any] = {
        name: value for name in ("job_id", "file_id", "tenant") if (value := getattr(filters, name))
    }
    problem = None
    if filters.status_code:
        if filters.status_code.isascii() and filters.status_code.isdigit():
            criteria["status_code"] = int(filters.status_code)
        else:
            problem = f"Status code '{filters.status_code}' is not a number."
    entries: list[RecordedRequest] = []
    if problem is None:
        try:
            entries = journal.filter(filters.route or None, **criteria)
        except ValueError as exc:
            problem = str(exc)
    everything = journal.entries
    chosen = None
    wanted = call.request.query.get("seq", "")
    if wanted.isascii() and wanted.isdigit():
        entry = next((entry for entry in everything if entry.seq == int(wanted)), None)
        chosen = RecordedRequestView.of(entry) if entry is not None else None
    routes = sorted(route.name for route in call.routes if route.openapi and not route.name.startswith("control."))
    newest = list(reversed(entries))[:JOURNAL_SHOWN]
    return JournalPage(
        newest,
        len(entries),
        len(everything),
        filters,
        problem,
        routes,
        chosen,
        _body_text(chosen) if chosen is not None else None,
    )


# ---------------------------------------------------------------- clock


@dataclass(frozen=True)
class ClockPage:
    now: str
    epoch: float
    mode: str
    scale: float


def clock_page(call: Call) -> ClockPage:
    clock = call.engine.clock
    now = clock.now_ns()
    return ClockPage(format_micros(now), now / NS, clock.mode, clock.scale)


# ---------------------------------------------------------------- scenarios and faults


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


@dataclass(frozen=True)
class Rule:
    """A rule of a book as the page lists it: its id, name, counters and JSON."""

    id: str
    name: str | None
    counters: dict[str, Any]
    json: str


@dataclass(frozen=True)
class RulesPage:
    default: str | None
    types: dict[str, str]
    scenarios: list[Rule]
    faults: list[Rule]


def _trimmed(data: Any) -> Any:
    """A rule's JSON without its empty fields (null, `{}`, `[]`), which say nothing."""
    if isinstance(data, dict):
        kept = {key: _trimmed(value) for key, value in data.items()}
        return {key: value for key, value in kept.items() if value not in (None, {}, [])}
    return data


def _scenario_json(scenario: Any) -> str | None:
    data = _trimmed(scenario.model_dump(mode="json"))
    return _pretty(data) if data else None


def rules_page(call: Call) -> RulesPage:
    """The scenario book (default, per type, rules with their uses) and the fault rules (with how
    many requests each matched and how many times it fired)."""
    book = call.engine.scenarios.book()
    scenarios = [
        Rule(
            entry.id or "",
            entry.name,
            {"used": entry.used, "times": entry.times},
            _pretty(_trimmed(entry.model_dump(mode="json", exclude={"id", "used", "name"}))),
        )
        for entry in book.entries
    ]
    faults = [
        Rule(
            rule.id or "",
            rule.name,
            {"seen": rule.seen, "fired": rule.fired, "times": rule.times},
            _pretty(_trimmed(rule.model_dump(mode="json", exclude={"id", "seen", "fired", "window", "name"}))),
        )
        for rule in call.engine.faults.book().rules
    ]
    types = {str(name): text for name, scenario in book.types.items() if (text := _scenario_json(scenario))}
    return RulesPage(_scenario_json(book.default), types, scenarios, faults)


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class FileRow:
    file: StoredFile
    tenant: str
    created_at: str
    kind: Literal["upload", "result", "built-in"]
    ready: bool

    @property
    def size(self) -> str:
        return "generated when read" if self.kind == "result" else str(self.file.size) if self.ready else "—"


@dataclass(frozen=True)
class FilesPage:
    tenants: list[tuple[str, list[FileRow]]]
    builtins: list[FileRow] = field(default_factory=list)


def files_page(call: Call) -> FilesPage:
    """Each tenant's own files (uploads, those still awaiting their bytes included, and result
    files), then the built-in datasets every tenant sees."""
    engine = call.engine
    found = []
    for tenant in engine.tenants.all():
        rows = [
            FileRow(
                file,
                tenant.label,
                format_micros(file.created_ns),
                "result" if file.source_job else "upload",
                file.ready,
            )
            for file in engine.files.owned(tenant.key, pending=True)
        ]
        if rows:
            found.append((tenant.label, rows))
    builtins = [
        FileRow(file, "every tenant", format_micros(file.created_ns), "built-in", True)
        for file in builtin_datasets.stored_files("")
    ]
    return FilesPage(found, builtins)


def find_file(call: Call, file_id: str) -> StoredFile | None:
    """A file by id, whichever tenant owns it (or a built-in dataset), ready to be read."""
    files = call.engine.files
    for tenant in call.engine.tenants.all():
        file = files.owned_file(tenant.key, file_id)
        if file is not None:
            return file
    return builtin_datasets.stored_file(file_id, "")
