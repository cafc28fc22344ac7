"""The schedule: when each job really enters each phase once a capacity limits how many run at once
(docs/capacity.md).

A job's record plans its phases on its own timeline (`_lifecycle.py`), as if capacity were
unlimited. Under a capacity (`_capacity.py`) a planned `running` phase is a *gate*: the job is
ready for it at its planned instant, and enters it only once a slot is free, staying in the phase
before it (`queued`) meanwhile; the rest of its timeline moves on by the time it waited. A job
holds its slot from entering `running` until it enters any other status (a preemption back to
`queued`, or its end), and a slot freed at an instant goes at that instant to the next job waiting.

Waiting jobs get slots first come, first served by creation (FIFO): by creation instant, then, at
the same instant, in the order they were created for one API key and in the order API keys first
appeared across keys. A job whose API key is at its `per_tenant` limit, or whose evaluation type is
at its `per_type` limit, lets the next one in line go first. Under a `priority`, the waiting jobs
of the tenants it lists first get a free slot first, in line order among one priority; tenants it
does not list come after every listed one. The priority is strict: a steady stream of jobs of a
listed tenant keeps the others waiting.

A phase entered by a move (the control plane, the update hook, a read under `after_polls`) is
*pinned*: it is entered at its instant whatever the capacity, and the running ones count against
it. `after_polls` and `manual` jobs therefore never wait for a slot; they only take one up.

The schedule is a pure function of the job records and the capacity log, never of the clock or of
who read what: it is simulated from the earliest event on, for all jobs at once. `Schedule` keeps
it per process while the store's `SCHEDULE_STAMP` is unchanged, so a status read looks a job up
instead of simulating again.
"""

from __future__ import annotations

import heapq
import secrets
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._capacity import UNLIMITED, Capacity, CapacityLog
from ._datasets import paused_gc
from ._lifecycle import Phase, reached
from ._parameters import EvalType
from ._store import SCHEDULE_STAMP, Job, Store

_CHANGE, _DUE = 0, 1  # event kinds: a capacity change, a job's next phase is due
_TYPES: tuple[str, ...] = typing.get_args(EvalType)  # a job's line is one of its tenant's, one per type


def _has_priority(log: CapacityLog) -> bool:
    return any(capacity.priority for _, capacity in log.changes)


@dataclass(frozen=True)
class Place:
    """A queued job's place in the queue now: its 1-based `position` among every queued job in line
    order, when it entered `queued`, and when its next `running` phase starts (None: not planned on
    the clock, e.g. its slot is held by jobs that never end, or it moves on reads)."""

    workflow_id: str
    tenant: str
    position: int
    since_ns: int
    start_ns: int | None


@dataclass(frozen=True)
class Moves:
    """How the capacity moves one job's phases: each gate it passed (phase index, and its total wait
    from there on), and the gate it waits at for good (None: it passes every gate)."""

    grants: tuple[tuple[int, int], ...] = ()
    stuck: int | None = None

    def apply(self, phases: tuple[Phase, ...]) -> tuple[Phase, ...]:
        """`phases` as scheduled: each moved on by the waits before it, a gate passed pinned where it
        was passed, and the phases from the gate never passed without an instant."""
        passed = dict(self.grants)
        stuck = len(phases) if self.stuck is None else self.stuck
        timeline, delay = [], 0
        for index, phase in enumerate(phases):
            if index >= stuck or phase.offset_ns is None:
                timeline.append(Phase(phase.status, None, phase.after_reads, phase.pinned))
                continue
            delay = passed.get(index, delay)
            pinned = phase.pinned or index in passed
            timeline.append(Phase(phase.status, phase.offset_ns + delay, phase.after_reads, pinned))
        return tuple(timeline)


def in_line_order(jobs: Sequence[Job]) -> list[Job]:
    """Jobs in the order they get slots: by creation instant; at the same instant in the order they
    were created while a capacity was in force (`Job.line`), the others first in the order given
    (every tenant's jobs oldest first, tenants in the order they appeared)."""
    return sorted(jobs, key=lambda job: (job.created_ns, job.line or 0))


class _Simulation:
    """Every job's slot events in time order under the capacity of the log. Only what touches a slot
    is an event: a job due to enter `running` without a slot (a gate, or a pinned entry) and a job
    holding one due to leave `running`. The phases in between follow from each job's delay.

    Waiting jobs stand in one line per (API key, evaluation type): the first of each line is a
    candidate for a slot, so a job held back by its tenant's or its type's limit lets the others go."""

    def __init__(self, jobs: list[Job], log: CapacityLog, names: Mapping[str, str | None]) -> None:
        self.jobs = jobs
        self.names = names  # API key -> tenant name, for the priority
        self.next = [0] * len(jobs)  # each job's next phase that touches a slot (or its end)
        self.delay = [0] * len(jobs)  # how long each job has waited for slots so far
        self.grants: dict[int, list[tuple[int, int]]] = {}  # rank -> (phase index, delay from there) per gate
        self.holding = [False] * len(jobs)
        self.capacity = UNLIMITED
        self.running: dict[str, int] = {}  # tenant -> slots held
        self.running_type: dict[str, int] = {}  # evaluation type -> slots held
        self.running_total = 0
        self.waiting: dict[tuple[str, str], list[int]] = {}  # (tenant, type) -> heap of its waiting jobs' ranks
        # heap of (tenant's priority, rank, line) of the lines' first waiting jobs (may be stale)
        self.heads: list[tuple[int, int, tuple[str, str]]] = []
        self.events: list[tuple[int, int, int]] = []  # (instant, sequence, job rank; a capacity change: -1 - index)
        self.sequence = 0
        self.changes = log.changes
        for index, (at, _) in enumerate(log.changes):
            self._push(at, -1 - index)
        for rank in range(len(jobs)):
            self._plan_next(rank, 0, None)

    def _push(self, at: int, ref: int) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, ref))

    def _plan_next(self, rank: int, start: int, now: int | None) -> None:
        """Plan the job's next slot event from phase `start` on, if its record says when."""
        job = self.jobs[rank]
        holding = self.holding[rank]
        phases = job.phases
        for index in range(start, len(phases)):
            phase = phases[index]
            if phase.offset_ns is None:
                break  # the rest waits on reads or on the control plane
            if (phase.status == "running") != holding:
                self.next[rank] = index
                at = job.created_ns + phase.offset_ns + self.delay[rank]
                self._push(at if now is None or at > now else now, rank)
                return
        self.next[rank] = len(phases)

    def run(self) -> dict[int, Moves]:
        events = self.events
        while events:
            now = events[0][0]
            while events and events[0][0] == now:
                ref = heapq.heappop(events)[2]
                if ref < 0:
                    self.capacity = self.changes[-1 - ref][1]
                    self.heads = []  # the priority may have changed: every line is offered again
                    for line in self.waiting:
                        self._offer(line)
                else:
                    self._due(ref, now)
            if self.heads:
                self._grant(now)
        return self.moves()

    def _due(self, rank: int, now: int) -> None:
        job = self.jobs[rank]
        phase = job.phases[self.next[rank]]
        if phase.status == "running" and not phase.pinned:  # a gate: wait for a slot
            key = (job.tenant, job.type)
            line = self.waiting.setdefault(key, [])
            heapq.heappush(line, rank)
            if line[0] == rank:
                self._offer(key)
        else:
            self._enter(rank, now)

    def _enter(self, rank: int, now: int) -> None:
        """The job enters its next slot phase now: takes a slot (running) or gives its slot back."""
        job = self.jobs[rank]
        tenant, eval_type = job.tenant, job.type
        if self.holding[rank]:
            self.holding[rank] = False
            self.running[tenant] -= 1
            self.running_type[eval_type] -= 1
            self.running_total -= 1
            self._freed(tenant, eval_type)
        else:
            self.holding[rank] = True
            self.running[tenant] = self.running.get(tenant, 0) + 1
            self.running_type[eval_type] = self.running_type.get(eval_type, 0) + 1
            self.running_total += 1
        self._plan_next(rank, self.next[rank] + 1, now)

    def _freed(self, tenant: str, eval_type: str) -> None:
        """Offer again the lines a freed slot of the tenant and the type may let go."""
        capacity = self.capacity
        if capacity.per_type and capacity.type_limit(eval_type) is not None:
            for line in self.waiting:
                if line[1] == eval_type:
                    self._offer(line)
        for other in _TYPES:
            self._offer((tenant, other))

    def _offer(self, key: tuple[str, str]) -> None:
        """Put the line's first waiting job (if any) among the candidates for a slot."""
        line = self.waiting.get(key)
        if line:
            capacity = self.capacity
            first = capacity.priority_of(key[0], self.names.get(key[0])) if capacity.priority else 0
            heapq.heappush(self.heads, (first, line[0], key))

    def _grant(self, now: int) -> None:
        """Give free slots to waiting jobs: the first tenants of the priority first, then first in line first."""
        capacity: Capacity = self.capacity
        while self.heads:
            if capacity.total is not None and self.running_total >= capacity.total:
                return
            _, rank, key = heapq.heappop(self.heads)
            line = self.waiting[key]
            if not line or line[0] != rank:
                continue  # stale: that job got a slot already
            tenant, eval_type = key
            if capacity.per_tenant is not None and self.running.get(tenant, 0) >= capacity.per_tenant:
                continue  # offered again when one of the tenant's slots frees
            most = capacity.type_limit(eval_type) if capacity.per_type else None
            if most is not None and self.running_type.get(eval_type, 0) >= most:
                continue  # offered again when one of the type's slots frees
            heapq.heappop(line)
            self._offer(key)
            job = self.jobs[rank]
            index = self.next[rank]
            ready = job.created_ns + (job.phases[index].offset_ns or 0) + self.delay[rank]
            self.delay[rank] += now - ready
            self.grants.setdefault(rank, []).append((index, self.delay[rank]))
            self._enter(rank, now)

    def moves(self) -> dict[int, Moves]:
        """What the capacity changed, by job rank (jobs it left alone are not listed)."""
        stuck = {rank: self.next[rank] for line in self.waiting.values() for rank in line}
        found = {rank: Moves(tuple(grants), stuck.pop(rank, None)) for rank, grants in self.grants.items()}
        found.update((rank, Moves((), index)) for rank, index in stuck.items())
        return found


def simulate(jobs: Sequence[Job], log: CapacityLog, names: Mapping[str, str | None] | None = None) -> dict[str, Moves]:
    """How the capacity of the log moves each job's phases, by workflow id (the jobs it leaves alone
    are not listed). `names` gives the tenants' names by API key, for a priority naming them."""
    ordered = in_line_order(jobs)
    simulation = _Simulation(ordered, log, names or {})
    return {ordered[rank].workflow_id: moves for rank, moves in simulation.run().items()}


class Schedule:
    """The capacity in force and the schedule it gives, over one store (docs/capacity.md).

    Without a capacity ever set since the last reset (the default), a job's phases are its record's
    and nothing is simulated. Otherwise the schedule of every job is simulated once and kept while
    the store's `SCHEDULE_STAMP` is unchanged; whoever changes what it derives from (a job's phases,
    the capacity) calls `changed`, which draws a new stamp, so every process sharing the store
    simulates again on its next read.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stamp: int | None = None
        self._moves: dict[str, Moves] = {}
        self._sources: dict[str, tuple[Phase, ...]] = {}  # the record phases the schedule was simulated on
        self._timelines: dict[str, tuple[Phase, ...]] = {}  # the moved timelines built so far

    # ------------------------------------------------------------ capacity

    def log(self) -> CapacityLog:
        return self.store.capacity_log()

    @property
    def active(self) -> bool:
        """Whether a capacity was set since the last reset: only then does anything wait for a slot,
        and are the phases moves enter pinned."""
        return self.store.capacity_log().active

    def capacity(self, now_ns: int) -> Capacity:
        """The capacity in force at `now_ns`."""
        return self.store.capacity_log().at(now_ns)

    def set_capacity(self, capacity: Capacity, now_ns: int) -> None:
        """Put `capacity` in force from `now_ns` on; what jobs did before stays as it was."""
        self.load(self.store.capacity_log().changed(now_ns, capacity))

    def load(self, log: CapacityLog) -> None:
        """Replace the whole capacity log (a reset, a state import)."""
        self.store.put_capacity_log(log)
        self.changed()

    def changed(self) -> None:
        """What the schedule derives from changed: every process simulates again on its next read."""
        self.store.set_counter(SCHEDULE_STAMP, secrets.randbits(62) + 1)

    # ------------------------------------------------------------ timelines

    def timeline(self, job: Job) -> tuple[Phase, ...]:
        """The job's phases as scheduled: when it enters each (offset from creation), None for the
        phases not planned on the clock. A record not stored yet (a move in the making) is read as
        it is: its phases up to now were fixed by the move."""
        log = self.store.capacity_log()
        if not log.active:
            return job.phases
        self._refresh(log)
        return self._lookup(job)

    def _lookup(self, job: Job) -> tuple[Phase, ...]:
        workflow_id = job.workflow_id
        source = self._sources.get(workflow_id)
        if source is None or (source is not job.phases and source != job.phases):
            return job.phases
        timeline = self._timelines.get(workflow_id)
        if timeline is None:
            moves = self._moves.get(workflow_id)
            timeline = self._timelines[workflow_id] = job.phases if moves is None else moves.apply(job.phases)
        return timeline

    def _all_jobs(self) -> list[Job]:
        return [job for tenant in self.store.tenants() for job in self.store.jobs(tenant.key)]

    def _refresh(self, log: CapacityLog) -> None:
        stamp = self.store.counter(SCHEDULE_STAMP)
        if stamp == self._stamp:
            return
        jobs = self._all_jobs()
        names = {tenant.key: tenant.name for tenant in self.store.tenants()} if _has_priority(log) else {}
        with paused_gc():  # many small tuples, no reference cycles
            self._moves = simulate(jobs, log, names)
        self._sources = {job.workflow_id: job.phases for job in jobs}
        self._timelines = {}
        self._stamp = stamp

    def queue(self, now_ns: int) -> list[Place]:
        """Every job `queued` at `now_ns`, in line order (the tenants of the priority in force first),
        with its position and planned start."""
        log = self.store.capacity_log()
        if log.active:
            self._refresh(log)
        ordered = in_line_order(self._all_jobs())
        capacity = log.at(now_ns)
        if capacity.priority:  # a stable sort: line order within one priority
            names = {tenant.key: tenant.name for tenant in self.store.tenants()}
            ordered.sort(key=lambda job: capacity.priority_of(job.tenant, names.get(job.tenant)))
        places: list[Place] = []
        for job in ordered:
            phases = self._lookup(job) if log.active else job.phases
            entered = reached(phases, now_ns - job.created_ns)
            if entered[-1].status != "queued":
                continue
            start = next((p.offset_ns for p in phases[len(entered) :] if p.status == "running"), None)
            places.append(
                Place(
                    workflow_id=job.workflow_id,
                    tenant=job.tenant,
                    position=len(places) + 1,
                    since_ns=job.created_ns + (entered[-1].offset_ns or 0),
                    start_ns=None if start is None else job.created_ns + start,
                )
            )
        return places
