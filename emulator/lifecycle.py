"""Job timelines: status is a function of the emulator clock, never of a background task.

A job stores its creation instant and a list of phases (status, offset from creation). Its
status at any instant is the last phase whose offset has passed (ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import NS
from .config import EmulatorConfig

TERMINAL = frozenset({"completed", "error", "user_error"})
FLOW = ("pending", "queued", "running")
CREATED_MESSAGE = "Job created and pending for processing"
UPDATED_MESSAGE = "Job status updated"


@dataclass(frozen=True)
class Phase:
    status: str
    offset_ns: int

    @property
    def message(self) -> str:
        return CREATED_MESSAGE if self.offset_ns == 0 and self.status == "pending" else UPDATED_MESSAGE


def _ns(seconds: float) -> int:
    return int(round(seconds * NS))


def plan(config: EmulatorConfig, rows: int, terminal: str, *, start: str = "pending",
         at_ns: int = 0) -> list[Phase]:
    """Phases from `start` (reached at `at_ns`) to `terminal`, with the configured durations.

    A job that fails on its dataset (`user_error`) ends `failure_delay_seconds` after it starts
    running instead of after the full running time.
    """
    durations = {
        "pending": _ns(config.pending_seconds),
        "queued": _ns(config.queued_seconds),
        "running": (_ns(config.failure_delay_seconds) if terminal != "completed"
                    else _ns(config.running_seconds + config.running_seconds_per_row * rows)),
    }
    phases: list[Phase] = []
    offset = at_ns
    for status in FLOW[FLOW.index(start):] if start in FLOW else ():
        phases.append(Phase(status, offset))
        offset += durations[status]
    phases.append(Phase(terminal, offset))
    return phases


def reached(phases: list[Phase], elapsed_ns: int) -> list[Phase]:
    """The phases already entered after `elapsed_ns` (always at least the first)."""
    done = [phase for phase in phases if phase.offset_ns <= elapsed_ns]
    return done or phases[:1]
