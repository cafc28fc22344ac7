"""Replaying a recording (docs/recordings.md): a new job that goes through exactly the recorded
statuses at the recorded offsets from its own creation (the first status update is the creation
instant), and ends with the recorded results. Its result file is the recorded one when given;
otherwise it is made from the job's own rows, each row's verdict forced so that the rows add up
to the recorded counts (`_results.replay_kinds`). When they cannot add up, the create is refused
with the reason.

Recordings are kept in the store (`Store.recordings`), beside the built-in ones shipped under
`fixtures/recordings/` (read-only, described by their `catalog.json`). A recording is never
changed or removed once added (a job refers to it by name); a reset or a state import replaces
them all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._builtin_datasets import fixture_bytes
from ._datasets import Dataset
from ._errors import Conflict, InvalidRequest, NotFound
from ._lifecycle import DEFAULT_ERRORS, Phase
from ._recordings import BUILTIN_PREFIX, Recording
from ._results import Judge, replay_kinds, sorted_results
from ._store import Store


@dataclass(frozen=True)
class Replay:
    """What a recording makes of a new job: its phases, and how it ends."""

    phases: tuple[Phase, ...]
    results: dict[str, Any] | None  # completed results as recorded, without the recorded result file id
    error: str | None  # results.error of a failed job


def replay(
    recording: Recording,
    *,
    eval_type: str,
    judge: Judge,
    dataset: Dataset | None,
    problem: str | None,
    param: str | None = None,
) -> Replay:
    """The job `recording` makes of a new job of `eval_type` on `dataset` (`problem`: why the
    dataset cannot serve, if it cannot), or an InvalidRequest naming what cannot agree."""

    def refuse(reason: str) -> InvalidRequest:
        return InvalidRequest(f"Recording '{recording.name}' cannot be replayed by this job: {reason}.", param=param)

    if recording.job.type != eval_type:
        raise refuse(f"it is a {recording.job.type} job, this one is a {eval_type} job")
    # A running phase is entered at its recorded instant whatever the capacity: pinned.
    phases = tuple(Phase(status, offset, pinned=status == "running") for status, offset in recording.timeline())
    final = recording.final
    recorded = recording.job.results or {}
    if final in ("error", "user_error"):
        return Replay(phases, None, recorded.get("error") or DEFAULT_ERRORS[final])
    if final != "completed":
        return Replay(phases, None, None)  # it stays in its last recorded status
    if recording.result_file is None:
        if dataset is None or problem is not None:
            raise refuse(f"it has no result file, and the job's rows cannot make one ({problem})")
        try:
            replay_kinds(judge, dataset, recorded)
        except ValueError as exc:
            raise refuse(f"its results cannot come from the job's rows: {exc}") from None
    results = {key: value for key, value in recorded.items() if key != "result_file_id"}
    return Replay(phases, sorted_results(results), None)


# ---------------------------------------------------------------- built-in recordings


@cache
def builtins() -> dict[str, Recording]:
    """The recordings shipped under `fixtures/recordings/`, by name (read once per process)."""
    catalog = json.loads(fixture_bytes("recordings", "catalog.json"))
    found = {}
    for entry in catalog["recordings"]:
        data = json.loads(fixture_bytes("recordings", entry["file"]))
        result_file = entry.get("result_file")
        found[entry["name"]] = Recording(
            name=entry["name"],
            job=data,
            result_file=fixture_bytes("recordings", result_file).decode() if result_file else None,
            source=entry["source"],
        )
    return found


def find(store: Store, name: str) -> Recording | None:
    """A recording by name: a built-in one, or one added to the store."""
    builtin = builtins().get(name)
    if builtin is not None:
        return builtin
    return next((recording for recording in store.recordings() if recording.name == name), None)


class Recordings:
    """The recordings a job can replay: the built-in ones and those added to the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[tuple[Recording, bool]]:
        """Every recording with whether it is built in: the built-in ones first, then the others in
        the order they were added."""
        return [(r, True) for r in builtins().values()] + [(r, False) for r in self.store.recordings()]

    def find(self, name: str) -> Recording | None:
        return find(self.store, name)

    def unknown(self, name: str) -> str:
        """What to say of a name no recording has."""
        known = ", ".join(recording.name for recording, _ in self.list()) or "none"
        return f"Recording '{name}' not found. Recordings: {known} (GET /_emulator/recordings)."

    def get(self, name: str) -> Recording:
        """A recording by name, or a 404."""
        found = find(self.store, name)
        if found is None:
            raise NotFound(self.unknown(name), param="name")
        return found

    def add(self, recording: Recording) -> Recording:
        if recording.name.startswith(BUILTIN_PREFIX):
            raise InvalidRequest(
                f"Recording names starting with '{BUILTIN_PREFIX}' are kept for the built-in recordings; "
                f"choose another name than '{recording.name}'.",
                param="name",
            )
        if find(self.store, recording.name) is not None:
            raise Conflict(
                f"A recording named '{recording.name}' exists already; recordings are never replaced. "
                "Add this one under another name.",
                param="name",
            )
        self.store.put_recordings([*self.store.recordings(), recording])
        return recording

    def load(self, recordings: Sequence[Recording]) -> None:
        """Replace every added recording (startup and state import)."""
        self.store.put_recordings(list(recordings))
