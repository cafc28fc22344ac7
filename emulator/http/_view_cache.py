"""Serialized job views, kept with what they were built from.

A view of a job (retrieve, status, list) is a pure function of the job record, of how many of
its phases have been reached by now, and of the view keys of the add-ons that made the job (what
else their fields depend on: `ApiExtension.view_key`). Records are immutable (every change stores a
new one), so an entry is valid exactly while the job's current record is the one it was built from
and the phases reached and the keys are the same; nothing has to remember to invalidate it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..engine._store import Job

LIMIT = 4096  # views kept; the cache is cleared when full


class ViewCache:
    def __init__(self) -> None:
        # (kind, workflow id) -> (the job record, phases reached, add-on keys, the bytes built from them)
        self._entries: dict[tuple[str, str], tuple[Job, int, Hashable, bytes]] = {}

    def get(self, kind: str, job: Job, reached: int, build: Callable[[], bytes], extra: Hashable = ()) -> bytes:
        """The `kind` view of `job` with `reached` phases reached (and the add-on keys `extra`),
        built on a miss."""
        key = (kind, job.workflow_id)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is job and entry[1] == reached and entry[2] == extra:
            return entry[3]
        body = build()
        if len(self._entries) >= LIMIT:
            self._entries.clear()
        self._entries[key] = (job, reached, extra, body)
        return body

    def clear(self) -> None:
        self._entries.clear()
