"""The status index: which of a tenant's jobs are in a status at a clock instant, newest first,
without deriving the status of every job.

A job's status is derived from the clock (docs/contributing/architecture.md), so the index is over
time: each job's *timeline* (`timeline`) is the step function of the statuses it may be in, with a
boundary at each instant it enters or leaves one. `StatusIndex` keeps every job's boundaries in
time order and, for each status, the jobs in it at one instant (its cursor), ordered by their
position in the tenant's listing. A query at instant t moves the cursor to t across the boundaries
in between (none when the clock has not moved since the last query, a few when it moved a little)
and reads the newest jobs of the status from the end: O(log n + limit) once the cursor is there, and
each boundary is crossed once while the clock moves forward.

Exact, with one widening: a job that waits on reads (`after_polls`) may enter its next phases on the
very read that lists it, so from the instant it could, it is a candidate for each status it may reach.
The caller checks every candidate with the real rule (`Jobs.list`), so answers equal a scan of every job.

Every store keeps one `StatusIndex` per tenant (in memory, or in each process from the timelines it
persists) and answers `Store.find_jobs` from it.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from ._lifecycle import Phase

# One bit per status: a timeline holds sets of statuses (a job waiting on reads may be in several).
STATUS_BITS = {"pending": 1, "queued": 2, "running": 4, "completed": 8, "error": 16, "user_error": 32}
SEQ_BITS = 32  # a job's position in its tenant's listing (events are keyed on instant, then position)
_SEQ_MASK = (1 << SEQ_BITS) - 1
_BEFORE_ALL = -(1 << 128)  # below every event key (instants are 64-bit nanoseconds)

T = TypeVar("T")
Timeline = tuple[int, ...]  # (statuses from the beginning of time, instant, statuses from it, instant, ...)


def timeline(created_ns: int, phases: tuple[Phase, ...]) -> Timeline:
    """The statuses a job may be in at each clock instant, as `Jobs` derives them (see `_relative`)."""
    steps = _relative(phases)
    if not created_ns:
        return steps
    return tuple(value + created_ns if index % 2 else value for index, value in enumerate(steps))


@functools.lru_cache(maxsize=4096)  # jobs of one configuration share their phases' offsets
def _relative(phases: tuple[Phase, ...]) -> Timeline:
    """The statuses a job created at instant 0 may be in at each clock instant.

    `lifecycle.reached` counts the leading phases entered by an instant, so phase i is current
    from the latest of the offsets of phases 0..i (phase 0 from the beginning of time) until phase
    i+1 is reached. A phase that waits on reads may be entered by a read once every phase before it
    is reached: from then on, its status and every later one are possible too.
    """
    bounds: list[tuple[int | None, int | None, int]] = []  # (from, until, status bit); None: unbounded
    latest: int | None = None  # the instant every phase so far is reached by
    starts: list[int | None] = []  # when each phase is reached (None: never, by time alone)
    reachable = True
    for phase in phases:
        if reachable and phase.offset_ns is not None:
            at = phase.offset_ns
            latest = at if latest is None or at > latest else latest
        else:
            reachable = False
        starts.append(latest if reachable else None)
    for index, phase in enumerate(phases):
        start = None if index == 0 else starts[index]
        if index and start is None:
            break  # never reached by time
        until = starts[index + 1] if index + 1 < len(phases) else None
        if start is None or until is None or start < until:
            bounds.append((start, until, STATUS_BITS[phase.status]))
    waiting = next((i for i, phase in enumerate(phases) if phase.offset_ns is None), None)
    if waiting is not None and phases[waiting].after_reads is not None:
        could = starts[waiting - 1] if waiting else None  # every phase before it reached
        if waiting == 0 or could is not None:
            bits = 0
            for phase in phases[waiting:]:
                bits |= STATUS_BITS[phase.status]
            bounds.append((could if waiting else None, None, bits))
    return _steps(bounds)


def _steps(bounds: list[tuple[int | None, int | None, int]]) -> Timeline:
    """The step function of the union of intervals, each change of statuses a boundary."""
    instants = sorted({t for start, until, _ in bounds for t in (start, until) if t is not None})

    def at(point: int | None) -> int:  # statuses at `point` (None: the beginning of time)
        bits = 0
        for start, until, bit in bounds:
            if point is None:
                inside = start is None
            else:
                inside = (start is None or start <= point) and (until is None or point < until)
            if inside:
                bits |= bit
        return bits

    steps = [at(None)]
    for instant in instants:
        bits = at(instant)
        if bits != steps[-1]:
            steps += [instant, bits]
    return tuple(steps)


def statuses_at(line: Timeline, at_ns: int) -> int:
    """The status bits of a timeline at an instant."""
    bits = line[0]
    for index in range(1, len(line), 2):
        if line[index] > at_ns:
            break
        bits = line[index + 1]
    return bits


def encode_timeline(line: Timeline) -> str:
    """A timeline as text (for stores that keep it outside the process)."""
    return ",".join(map(str, line))


def decode_timeline(text: str) -> Timeline:
    return tuple(map(int, text.split(",")))


class SortedInts:
    """A sorted set of ints in blocks (adding or removing moves at most one block's entries)."""

    LOAD = 256

    def __init__(self) -> None:
        self._blocks: list[list[int]] = []
        self._maxes: list[int] = []

    def __len__(self) -> int:
        return sum(map(len, self._blocks))

    @classmethod
    def of(cls, values: list[int]) -> SortedInts:
        """The set of `values` (distinct), made at once."""
        made = cls()
        values.sort()
        made._blocks = [values[at : at + cls.LOAD] for at in range(0, len(values), cls.LOAD)]
        made._maxes = [block[-1] for block in made._blocks]
        return made

    def add(self, value: int) -> None:
        blocks, maxes = self._blocks, self._maxes
        if not blocks:
            blocks.append([value])
            maxes.append(value)
            return
        at = bisect_left(maxes, value)
        if at == len(maxes):  # the usual case: newer than everything
            at -= 1
            block = blocks[at]
            block.append(value)
            maxes[at] = value
        else:
            block = blocks[at]
            insort(block, value)
        if len(block) > 2 * self.LOAD:
            blocks[at : at + 1] = [block[: self.LOAD], block[self.LOAD :]]
            maxes[at : at + 1] = [block[self.LOAD - 1], block[-1]]

    def remove(self, value: int) -> None:
        at = bisect_left(self._maxes, value)
        block = self._blocks[at]
        del block[bisect_left(block, value)]
        if block:
            self._maxes[at] = block[-1]
        else:
            del self._blocks[at], self._maxes[at]

    def between(self, low: int, high: int) -> list[int]:
        """The values v with low <= v <= high, ascending."""
        found: list[int] = []
        at = bisect_left(self._maxes, low)
        for block in self._blocks[at:]:
            if block[0] > high:
                break
            found.extend(block[bisect_left(block, low) : bisect_right(block, high)])
        return found

    def descending(self) -> Iterator[int]:
        for block in reversed(self._blocks):
            yield from reversed(block)


class StatusIndex:
    """One tenant's jobs by status over time: `put` each job's timeline under its position in the
    tenant's listing, then ask for the positions in a status at an instant, newest first."""

    def __init__(self, at_ns: int | None = None) -> None:
        """An empty index with its cursor at `at_ns` (the instant of the first query, so that the jobs
        put next are placed there directly), or before every boundary (None)."""
        self._lines: dict[int, Timeline] = {}  # position -> timeline
        self._events = SortedInts()  # (instant << SEQ_BITS) | position, one per boundary
        self._cursor: int | None = at_ns  # boundaries at or before it are applied (None: none)
        self._members = {bit: SortedInts() for bit in STATUS_BITS.values()}  # positions, at the cursor

    def __len__(self) -> int:
        return len(self._lines)

    @classmethod
    def built(cls, at_ns: int, lines: Iterable[tuple[int, Timeline]]) -> StatusIndex:
        """An index of the timelines `lines` (by position) with its cursor at `at_ns`, made at once
        (sorting once instead of placing each job)."""
        made = cls(at_ns)
        events: list[int] = []
        members: dict[int, list[int]] = {bit: [] for bit in STATUS_BITS.values()}
        for seq, line in lines:
            if not 0 <= seq <= _SEQ_MASK:
                raise ValueError(f"job position {seq} out of range")
            if seq in made._lines:
                raise ValueError(f"job position {seq} given twice")
            made._lines[seq] = line
            events.extend((line[index] << SEQ_BITS) | seq for index in range(1, len(line), 2))
            bits = statuses_at(line, at_ns)
            for bit, found in members.items():
                if bits & bit:
                    found.append(seq)
        made._events = SortedInts.of(events)
        made._members = {bit: SortedInts.of(found) for bit, found in members.items()}
        return made

    def _bits(self, line: Timeline) -> int:
        return line[0] if self._cursor is None else statuses_at(line, self._cursor)

    def put(self, seq: int, line: Timeline) -> None:
        """Set (or replace) the timeline of the job at position `seq`."""
        if not 0 <= seq <= _SEQ_MASK:
            raise ValueError(f"job position {seq} out of range")
        old = self._lines.get(seq)
        if old == line:
            return
        if old is not None:
            for index in range(1, len(old), 2):
                self._events.remove((old[index] << SEQ_BITS) | seq)
            self._change(seq, self._bits(old), 0)
        self._lines[seq] = line
        for index in range(1, len(line), 2):
            self._events.add((line[index] << SEQ_BITS) | seq)
        self._change(seq, 0, self._bits(line))

    def _change(self, seq: int, before: int, after: int) -> None:
        for bit, members in self._members.items():
            if before & bit and not after & bit:
                members.remove(seq)
            elif after & bit and not before & bit:
                members.add(seq)

    def _seek(self, at_ns: int) -> None:
        """Move the cursor to `at_ns`, applying (or undoing) the boundaries crossed."""
        cursor = self._cursor
        if cursor == at_ns:
            return
        if cursor is None or cursor < at_ns:
            low = _BEFORE_ALL if cursor is None else (cursor + 1) << SEQ_BITS
            crossed = self._events.between(low, (at_ns << SEQ_BITS) | _SEQ_MASK)
            forward = True
        else:
            crossed = self._events.between((at_ns + 1) << SEQ_BITS, (cursor << SEQ_BITS) | _SEQ_MASK)
            crossed.reverse()
            forward = False
        for event in crossed:
            instant, seq = event >> SEQ_BITS, event & _SEQ_MASK
            line = self._lines[seq]
            index = next(i for i in range(1, len(line), 2) if line[i] == instant)  # its instants are distinct
            before, after = line[index - 1], line[index + 1]
            if forward:
                self._change(seq, before, after)
            else:
                self._change(seq, after, before)
        self._cursor = at_ns

    def newest(self, status: str, at_ns: int) -> Iterator[int]:
        """Positions of the jobs that may be in `status` at `at_ns`, newest first. The index must not
        change while the iterator is used."""
        bit = STATUS_BITS.get(status)
        if bit is None:
            return iter(())
        self._seek(at_ns)
        return self._members[bit].descending()


def pick(positions: Iterator[int], load: Callable[[int], T | None], check: Callable[[T], bool], limit: int) -> list[T]:
    """The first `limit` records at `positions` that `check` accepts (`load` gives None for a position
    that holds nothing)."""
    found: list[T] = []
    if limit <= 0:
        return found
    for position in positions:
        record = load(position)
        if record is not None and check(record):
            found.append(record)
            if len(found) == limit:
                break
    return found
