"""Job timelines: status is a function of the emulator clock and of the job's reads, never of a
background task.

A job stores its creation instant and a list of phases. A phase is entered at a fixed offset from
creation (time-driven progressions), on the read that brings the job's read count to a number
(`after_polls`), or when the control plane moves the job (`manual`). Its status at any instant is
the last phase entered (docs/contributing/architecture.md#time-dependent-state-is-derived-on-read).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._clock import NS, SPAN_SECONDS
from ._config import EmulatorConfig
from ._parameters import TERMINAL as TERMINAL, Status  # TERMINAL: read from here by the other modules
from ._scenarios import Outcome, Progression

FLOW: tuple[Status, ...] = ("pending", "queued", "running")
CREATED_MESSAGE = "Job created and pending for processing"
# results.error of a job that fails without a message of its own.
DEFAULT_ERRORS = {
    "error": "The evaluation job failed because of an internal error. Please run it again.",
    "user_error": "The evaluation job failed because of a problem with its request or dataset.",
}
UPDATED_MESSAGE = "Job status updated"


@dataclass(frozen=True)
class Phase:
    status: Status
    offset_ns: int | None  # when the job entered it, from creation; None: not yet
    after_reads: int | None = None  # after_polls: entered on the read that makes the job's reads this
    # Entered at `offset_ns` whatever the capacity: a move made it (the control plane, the update hook,
    # a read) or the schedule already gave it its slot (docs/capacity.md). Only set while a capacity is
    # in force, so a running phase without it is planned and waits for a free slot.
    pinned: bool = False

    @property
    def message(self) -> str:
        return CREATED_MESSAGE if self.offset_ns == 0 and self.status == "pending" else UPDATED_MESSAGE


def _ns(seconds: float) -> int:
    """A phase's length in nanoseconds. One longer than the clock's whole range never ends, whatever
    its length: it counts as that range (so 1e300 seconds, or a long per-row time times many rows,
    stays a number every store can hold)."""
    return int(round(min(seconds, SPAN_SECONDS) * NS))


def statuses(outcome: Outcome) -> list[Status]:
    """The statuses a job with this outcome goes through, from `pending` to its end."""
    last = FLOW.index(outcome.phase) if outcome.kind != "completed" else len(FLOW) - 1
    path = list(FLOW[: last + 1])
    if "running" in path:
        at = path.index("running")
        preempted: list[Status] = ["running", "queued"]
        path[at : at + 1] = preempted * outcome.preemptions + ["running"]
    if outcome.kind != "stall":
        path.append(outcome.kind)
    return path


def remainder(path: list[Status], status: Status) -> list[Status]:
    """The rest of `path` for a job put in `status`: from its last occurrence, or `status` then
    the path's end (its terminal status, or nothing for a stall)."""
    if status in path:
        return path[len(path) - 1 - path[::-1].index(status) :]
    if status in TERMINAL or path[-1] not in TERMINAL:
        return [status]
    return [status, path[-1]]


def plan(
    progression: Progression,
    path: list[Status],
    config: EmulatorConfig,
    *,
    rows: int,
    at_ns: int = 0,
    reads: int = 0,
    pin_first: bool = False,
) -> tuple[Phase, ...]:
    """Phases for `path`, the first entered at `at_ns` when the job had `reads` reads (and pinned
    there when `pin_first`: a move enters it now, whatever the capacity).

    Under `durations` each phase lasts its duration (running grows with the row count); a phase
    followed by error or user_error ends after `failure_delay` instead.
    """
    mode = progression.mode
    phases = [Phase(path[0], at_ns, pinned=pin_first)]
    offset, seen = at_ns, reads
    for before, status in zip(path, path[1:], strict=False):
        if mode == "immediate":
            phases.append(Phase(status, at_ns))
        elif mode == "after_polls":
            seen += progression.polls_for(before)
            phases.append(Phase(status, None, after_reads=seen + 1))
        elif mode == "manual":
            phases.append(Phase(status, None))
        else:
            offset += _duration(progression, config, before, status, rows)
            phases.append(Phase(status, offset))
    return tuple(phases)


def _duration(progression: Progression, config: EmulatorConfig, status: str, following: str, rows: int) -> int:
    def pick(value: float | None, default: float) -> float:
        return default if value is None else value

    if following in ("error", "user_error"):
        return _ns(pick(progression.failure_delay, config.failure_delay_seconds))
    if status == "pending":
        return _ns(pick(progression.pending, config.pending_seconds))
    if status == "queued":
        return _ns(pick(progression.queued, config.queued_seconds))
    return _ns(
        pick(progression.running, config.running_seconds)
        + pick(progression.running_per_row, config.running_seconds_per_row) * rows
    )


def reached(phases: tuple[Phase, ...], elapsed_ns: int) -> tuple[Phase, ...]:
    """The phases already entered after `elapsed_ns` (always at least the first)."""
    count = 0
    for phase in phases:
        if phase.offset_ns is None or phase.offset_ns > elapsed_ns:
            break
        count += 1
    return phases[: count or 1]


def on_read(phases: tuple[Phase, ...], elapsed_ns: int, reads: int, *, pin: bool = False) -> tuple[Phase, ...]:
    """The phases after a read that brought the job's read count to `reads` (the same tuple when
    the read enters no phase); each phase it enters is pinned there when `pin`."""
    updated: list[Phase] | None = None
    for index, phase in enumerate(phases):
        if phase.offset_ns is not None:
            if phase.offset_ns > elapsed_ns:
                break
            continue
        if phase.after_reads is None or phase.after_reads > reads:
            break
        if updated is None:
            updated = list(phases)
        updated[index] = replace(phase, offset_ns=elapsed_ns, after_reads=None, pinned=pin)
    return phases if updated is None else tuple(updated)
