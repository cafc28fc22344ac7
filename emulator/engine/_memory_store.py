"""`MemoryStore`: the whole state in this process's memory, the default store.

It keeps the records it is given (no copies: records are immutable) in insertion-ordered dicts,
so every read is a dictionary lookup. The emulator's lock already serialises requests, so
`transaction()` does nothing; what the interface promises atomic (counters, quota admissions, id
draws) and the journal (which tests read from their own thread while a live server appends to it)
take the store's own lock.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from . import _ids as ids
from ._capacity import CapacityLog
from ._clock import ClockState, initial_state
from ._faults import FaultRule
from ._recordings import Recording
from ._scenarios import ScenarioBook
from ._status_index import StatusIndex, pick, timeline
from ._store import JOURNAL_SEQ, Job, PendingUpload, RecordedRequest, Store, StoredFile, Tenant

T = TypeVar("T")
_NO_TRANSACTION = nullcontext()
_EMPTY_BOOK = ScenarioBook()  # never changed: changes to a book are new books


class MemoryStore(Store):
    """A `Store` in a few dictionaries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upload_token_key = secrets.token_bytes(32)  # kept by `clear`
        self.clear()

    def transaction(self) -> AbstractContextManager[object]:
        return _NO_TRANSACTION

    def clear(self) -> None:
        self._seed: int | None = None
        self._tenants: dict[str, Tenant] = {}
        self._known_keys: frozenset[str] | None = None
        self._jobs: dict[str, dict[str, Job]] = {}  # tenant -> workflow id -> job
        self._job_index: dict[str, Job] = {}  # workflow id -> job
        self._positions: dict[str, int] = {}  # workflow id -> its place in its tenant's listing
        self._listings: dict[str, list[str]] = {}  # tenant -> its workflow ids, in order
        self._status: dict[str, StatusIndex] = {}  # tenant -> its jobs by status (made on the first query)
        self._result_files: dict[tuple[str, str], str] = {}  # (tenant, result file id) -> workflow id
        self._files: dict[str, dict[str, StoredFile]] = {}  # tenant -> file id -> metadata
        self._contents: dict[tuple[str, str], bytes] = {}
        self._uploads: dict[str, PendingUpload] = {}
        self._parts: dict[str, dict[int, bytes]] = {}
        self._rng: random.Random | None = None  # made on first use: seeding costs more than a lookup
        self._clock = initial_state("manual")
        self._counters: dict[str, int] = {}
        self._windows: dict[str, dict[str, list[int]]] = {}
        self._scenarios = _EMPTY_BOOK
        self._faults: tuple[FaultRule, ...] = ()
        self._capacity = CapacityLog()
        self._recordings: tuple[Recording, ...] = ()
        with self._lock:
            self._journal: deque[RecordedRequest] = deque()
            self._journal_bytes = 0  # sum of the entries' `journal_bytes`

    def upload_token_key(self) -> bytes:
        return self._upload_token_key

    # ------------------------------------------------------------ seed

    def seed(self) -> int | None:
        return self._seed

    def set_seed(self, seed: int) -> None:
        self._seed = seed

    # ------------------------------------------------------------ tenants

    def get_tenant(self, key: str) -> Tenant | None:
        return self._tenants.get(key)

    def put_tenant(self, tenant: Tenant) -> None:
        self._tenants[tenant.key] = tenant

    def tenants(self) -> list[Tenant]:
        return list(self._tenants.values())

    def known_keys(self) -> frozenset[str] | None:
        return self._known_keys

    def set_known_keys(self, keys: frozenset[str] | None) -> None:
        self._known_keys = keys

    # ------------------------------------------------------------ jobs

    def get_job(self, tenant: str, workflow_id: str) -> Job | None:
        jobs = self._jobs.get(tenant)
        return jobs.get(workflow_id) if jobs is not None else None

    def find_job(self, workflow_id: str) -> Job | None:
        return self._job_index.get(workflow_id)

    def put_job(self, job: Job) -> None:
        previous = self._job_index.get(job.workflow_id)
        if previous is not None and previous.result_file_id != job.result_file_id and previous.result_file_id:
            self._result_files.pop((previous.tenant, previous.result_file_id), None)
        if job.result_file_id:
            self._result_files[(job.tenant, job.result_file_id)] = job.workflow_id
        jobs = self._jobs.setdefault(job.tenant, {})
        if job.workflow_id not in jobs:
            listing = self._listings.setdefault(job.tenant, [])
            self._positions[job.workflow_id] = len(listing)
            listing.append(job.workflow_id)
        jobs[job.workflow_id] = job
        self._job_index[job.workflow_id] = job
        index = self._status.get(job.tenant)
        moved = previous is None or (previous.phases, previous.created_ns) != (job.phases, job.created_ns)
        if index is not None and moved:
            index.put(self._positions[job.workflow_id], timeline(job.created_ns, job.phases))

    def jobs(self, tenant: str) -> list[Job]:
        return list(self._jobs.get(tenant, {}).values())

    def find_jobs(self, tenant: str, status: str, at_ns: int, limit: int, check: Callable[[Job], bool]) -> list[Job]:
        index = self._status.get(tenant)
        if index is None:
            kept = self._jobs.get(tenant, {}).values()
            lines = ((self._positions[job.workflow_id], timeline(job.created_ns, job.phases)) for job in kept)
            index = self._status[tenant] = StatusIndex.built(at_ns, lines)
        listing, jobs = self._listings.get(tenant, []), self._jobs.get(tenant, {})
        return pick(index.newest(status, at_ns), lambda position: jobs[listing[position]], check, limit)

    def job_for_result_file(self, tenant: str, file_id: str) -> Job | None:
        workflow_id = self._result_files.get((tenant, file_id))
        return self._job_index.get(workflow_id) if workflow_id is not None else None

    # ------------------------------------------------------------ files

    def get_file(self, tenant: str, file_id: str) -> StoredFile | None:
        files = self._files.get(tenant)
        return files.get(file_id) if files is not None else None

    def put_file(self, file: StoredFile) -> None:
        self._files.setdefault(file.tenant, {})[file.id] = file

    def delete_file(self, tenant: str, file_id: str) -> None:
        self._files.get(tenant, {}).pop(file_id, None)
        self._contents.pop((tenant, file_id), None)

    def files(self, tenant: str) -> list[StoredFile]:
        return list(self._files.get(tenant, {}).values())

    def get_content(self, tenant: str, file_id: str) -> bytes | None:
        return self._contents.get((tenant, file_id))

    def put_content(self, tenant: str, file_id: str, content: bytes) -> None:
        self._contents[(tenant, file_id)] = content

    # ------------------------------------------------------------ uploads

    def get_upload(self, token: str) -> PendingUpload | None:
        return self._uploads.get(token)

    def put_upload(self, token: str, upload: PendingUpload) -> None:
        self._uploads[token] = upload

    def delete_upload(self, token: str) -> None:
        self._uploads.pop(token, None)
        self._parts.pop(token, None)

    def uploads(self) -> list[tuple[str, PendingUpload]]:
        return list(self._uploads.items())

    def put_upload_part(self, token: str, number: int, content: bytes) -> None:
        self._parts.setdefault(token, {})[number] = content

    def upload_parts(self, token: str) -> dict[int, bytes]:
        return dict(self._parts.get(token, {}))

    # ------------------------------------------------------------ ids

    def _generator(self) -> random.Random:
        if self._rng is None:
            self._rng = ids.generator(0)
        return self._rng

    def draw(self, make: Callable[[random.Random], T]) -> T:
        with self._lock:
            return make(self._generator())

    def id_state(self) -> list[Any]:
        return ids.export_state(self._generator())

    def set_id_state(self, state: list[Any]) -> None:
        self._rng = ids.restore_state(state)

    # ------------------------------------------------------------ clock

    def clock_state(self) -> ClockState:
        return self._clock

    def set_clock_state(self, state: ClockState) -> None:
        self._clock = state

    # ------------------------------------------------------------ counters

    def increment(self, name: str, by: int = 1) -> int:
        with self._lock:
            value = self._counters[name] = self._counters.get(name, 0) + by
            return value

    def counter(self, name: str) -> int:
        return self._counters.get(name, 0)

    def set_counter(self, name: str, value: int) -> None:
        self._counters[name] = value

    def admit(self, rule_id: str, tenant: str, now_ns: int, window_ns: int, limit: int) -> int | None:
        with self._lock:
            windows = self._windows.setdefault(rule_id, {})
            admitted = [t for t in windows.get(tenant, []) if t > now_ns - window_ns]
            if len(admitted) < limit:
                windows[tenant] = admitted + [now_ns]
                return None
            windows[tenant] = admitted
            return admitted[-limit]

    def quota_windows(self, rule_id: str) -> dict[str, list[int]]:
        return {tenant: list(times) for tenant, times in self._windows.get(rule_id, {}).items()}

    def set_quota_windows(self, rule_id: str, windows: dict[str, list[int]]) -> None:
        self._windows[rule_id] = {tenant: list(times) for tenant, times in windows.items()}

    # ------------------------------------------------------------ books

    def scenario_book(self) -> ScenarioBook:
        return self._scenarios

    def put_scenario_book(self, book: ScenarioBook) -> None:
        self._scenarios = book

    def fault_rules(self) -> Sequence[FaultRule]:
        return self._faults

    def put_fault_rules(self, rules: Sequence[FaultRule]) -> None:
        self._faults = tuple(rules)

    # ------------------------------------------------------------ capacity

    def capacity_log(self) -> CapacityLog:
        return self._capacity

    def put_capacity_log(self, log: CapacityLog) -> None:
        self._capacity = log

    def recordings(self) -> Sequence[Recording]:
        return self._recordings

    def put_recordings(self, recordings: Sequence[Recording]) -> None:
        self._recordings = tuple(recordings)

    # ------------------------------------------------------------ journal

    def append_request(self, entry: RecordedRequest, limit: int | None, max_bytes: int | None = None) -> None:
        with self._lock:
            self._journal.append(entry)
            self._journal_bytes += entry.journal_bytes
            while len(self._journal) > 1 and (
                (limit and len(self._journal) > limit) or (max_bytes and self._journal_bytes > max_bytes)
            ):
                self._journal_bytes -= self._journal.popleft().journal_bytes

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._journal)

    def clear_requests(self) -> None:
        with self._lock:
            self._journal.clear()
            self._journal_bytes = 0
            self._counters[JOURNAL_SEQ] = 0
