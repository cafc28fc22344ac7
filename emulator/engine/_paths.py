"""The lifecycle path explorer: every legal path a job can take, each as the scenario that makes a
job follow it (docs/lifecycle-paths.md).

A path is the statuses a job goes through from `pending`: to `completed`; to `error` or
`user_error` entered from `pending`, `queued` or `running`; to a stall (the job never leaves a
phase) in each of the three; with 1..k preemptions (`running → queued`, then `running` again)
before each end reached from `running`; and, under `after_polls`, with each phase shown for 1..N
reads. The set is bounded (`MAX_PREEMPTIONS`, `MAX_POLLS`) and always listed in the same order: by
end (completed, error, user_error, stall), then the phase it is entered from, then preemptions,
then read counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ._errors import NotFound
from ._lifecycle import statuses
from ._parameters import Status
from ._rulebooks import ScenarioRules
from ._scenarios import EvalType, Match, Outcome, PhaseName, Progression, ScenarioEntry

__all__ = ["LifecyclePath", "PathList", "PathQuery", "attach", "find_path", "lifecycle_paths"]

End = Literal["completed", "error", "user_error", "stall"]
ENDS: tuple[End, ...] = ("completed", "error", "user_error", "stall")
PHASES: tuple[PhaseName, ...] = ("pending", "queued", "running")
MAX_PREEMPTIONS = 3
MAX_POLLS = 3
ENTRY_NAME = "path "  # how the scenario entries of attached paths are named: "path pending->queued->error"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathQuery(_Model):
    """Which paths to list."""

    terminal: tuple[End, ...] = Field(ENDS, description="How the paths end (`stall`: the job never ends).")
    at: tuple[PhaseName, ...] = Field(PHASES, description="Phases an error, user_error or stall may happen in.")
    max_preemptions: int = Field(
        0, ge=0, le=MAX_PREEMPTIONS, description="Paths with 0..k preemptions before an end reached from running."
    )
    progression: Literal["durations", "after_polls"] = Field(
        "durations", description="`durations`: the settings' seconds per phase; `after_polls`: phases move on reads."
    )
    max_polls: int = Field(
        1, ge=1, le=MAX_POLLS, description="`after_polls`: every phase shown for 1..N reads, each combination a path."
    )
    type: EvalType | None = Field(None, description="The evaluation type whose creates a path applies to (all: null).")


class LifecyclePath(_Model):
    """One path: its statuses, and the scenario entry that makes the next jobs follow it."""

    id: str = Field(
        description="`pending.queued.error`; a stall ends in `.stall`; under after_polls, `@` and the reads "
        "of each phase the job leaves follow (`pending.queued.error@1-2`)."
    )
    label: str = Field(description="`pending->queued->error`: how a test id shows it.")
    statuses: list[Status] = Field(description="The statuses a job following it shows, in order.")
    end: End
    at: PhaseName | None = Field(description="The phase an error, user_error or stall happens in.")
    preemptions: int
    polls: dict[PhaseName, int] | None = Field(description="`after_polls`: reads each phase is shown for.")
    entry: ScenarioEntry = Field(description="What `PUT /_emulator/paths/{id}` adds to the scenarios.")

    def describe(self) -> str:
        """What a job following the path does, in a sentence."""
        turns = f", preempted {self.preemptions} time{'s' * (self.preemptions != 1)}" if self.preemptions else ""
        reads = ""
        if self.polls:
            reads = (
                " (each phase shown for "
                + ", ".join(f"{n} read{'s' * (n != 1)} in {p}" for p, n in self.polls.items())
                + ")"
            )
        if self.end == "completed":
            return f"the job completes{turns}{reads}"
        if self.end == "stall":
            return (
                f"the job stalls in {self.at}{reads} and never ends: a client needs a deadline "
                "(on the emulator clock, with advance_on_sleep)"
            )
        return f"the job ends in {self.end}, entered from {self.at}{turns}{reads}; its results hold only `error`"


class PathList(_Model):
    data: list[LifecyclePath]


def _shape(end: End, at: PhaseName | None, preemptions: int) -> tuple[Outcome, list[Status]]:
    outcome = Outcome(kind=end, at=at, preemptions=preemptions)
    return outcome, statuses(outcome)


def _bases(query: PathQuery) -> Iterator[tuple[End, PhaseName | None, int]]:
    """(end, phase, preemptions) of every path the query lists, before read counts."""
    for end in ENDS:
        if end not in query.terminal:
            continue
        phases: tuple[PhaseName | None, ...] = (None,) if end == "completed" else PHASES
        for at in phases:
            if at is not None and at not in query.at:
                continue
            # Preemptions happen in running: only before an end reached from it.
            reaches_running = end != "stall" and at in (None, "running")
            for preemptions in range(query.max_preemptions + 1 if reaches_running else 1):
                yield end, at, preemptions


def _path(
    end: End, at: PhaseName | None, preemptions: int, polls: dict[PhaseName, int] | None, query: PathQuery
) -> LifecyclePath:
    outcome, shown = _shape(end, at, preemptions)
    progression = Progression(mode=query.progression, polls=polls)
    words = [*shown, "stall"] if end == "stall" else list(shown)
    path_id, label = ".".join(words), "->".join(words)
    if polls is not None:  # after_polls: `@` and the reads of each phase the job leaves
        counts = [str(count) for count in polls.values()]
        path_id += "@" + "-".join(counts)
        label += f" (reads {','.join(counts)})" if counts else " (on reads)"
    return LifecyclePath(
        id=path_id,
        label=label,
        statuses=shown,
        end=end,
        at=at,
        preemptions=preemptions,
        polls=polls,
        entry=ScenarioEntry(
            name=ENTRY_NAME + label,
            match=Match(type=query.type),
            progression=progression,
            outcome=outcome,
        ),
    )


def lifecycle_paths(query: PathQuery | None = None) -> list[LifecyclePath]:
    """Every path the query lists, in the fixed order."""
    query = query or PathQuery()
    found = []
    for end, at, preemptions in _bases(query):
        if query.progression == "durations":
            found.append(_path(end, at, preemptions, None, query))
            continue
        _, shown = _shape(end, at, preemptions)
        phases = [phase for phase in PHASES if phase in shown[:-1]]  # the phases the job leaves
        for counts in itertools.product(range(1, query.max_polls + 1), repeat=len(phases)):
            found.append(_path(end, at, preemptions, dict(zip(phases, counts, strict=True)), query))
    return found


@lru_cache(maxsize=2)
def _every_path(progression: Literal["durations", "after_polls"]) -> dict[str, LifecyclePath]:
    query = PathQuery(progression=progression, max_preemptions=MAX_PREEMPTIONS, max_polls=MAX_POLLS)
    return {path.id: path for path in lifecycle_paths(query)}


def find_path(path_id: str, eval_type: EvalType | None = None) -> LifecyclePath:
    """The path with this id (any the explorer can list), for creates of `eval_type` (all: None)."""
    found = _every_path("after_polls" if "@" in path_id else "durations").get(path_id)
    if found is None:
        raise NotFound(
            f"No lifecycle path '{path_id}'. Ids read like 'pending.queued.error', "
            "'pending.queued.running.queued.running.completed', 'pending.queued.stall' or, under after_polls, "
            "'pending.queued.error@1-2'; GET /_emulator/paths lists them.",
            param="id",
        )
    if eval_type is None:
        return found
    entry = found.entry.model_copy(update={"match": Match(type=eval_type)})
    return found.model_copy(update={"entry": entry})


def attach(scenarios: ScenarioRules, path: LifecyclePath, times: int | None = None) -> ScenarioEntry:
    """Make the next creates (the next `times`, when given) that the path's entry matches follow it:
    its scenario entry is added after the others, and a path attached earlier for the same creates
    is removed first (the newest path wins). Returns the entry added."""
    for entry in scenarios.book().entries:
        if (entry.name or "").startswith(ENTRY_NAME) and entry.match == path.entry.match and entry.id:
            scenarios.remove(entry.id)
    return scenarios.add(path.entry.model_copy(update={"times": times}))
