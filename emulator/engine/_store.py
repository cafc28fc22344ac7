"""The store boundary: the records of the emulator's state, and `Store`, the one interface every
piece of mutable state goes through.

Records are immutable values (frozen dataclasses, never changed in place): a service reads a record,
builds the changed one with `dataclasses.replace` and hands it back with a `put_*` call. Counters are
incremented by the store and the new value returned, so a store shared by processes can make each
increment atomic. Whatever depends on time (a job's status, its result file) is not stored: the
services derive it from these records and the clock when it is read.

`MemoryStore` (`_memory_store.py`) is the default. A persistent or shared store implements `Store`
and is handed to `Engine(config, store=...)`; no service or handler changes.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from . import _strict_json as strict_json
from ._capacity import CapacityLog
from ._clock import ClockState, format_micros
from ._datasets import Dataset
from ._faults import FaultRule
from ._ids import stable_hex
from ._lifecycle import Phase
from ._parameters import EvalType
from ._recordings import Recording
from ._redaction import key_fingerprint
from ._results import Judge
from ._scenarios import Outcome, Progression, ScenarioBook

T = TypeVar("T")

# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Tenant:
    """One API key (and its name from the settings, if any); its jobs and files are stored apart."""

    key: str
    name: str | None = None

    @property
    def label(self) -> str:
        """How the journal and the control plane name the tenant: its name, else its key's fingerprint."""
        return self.name or key_fingerprint(self.key)

    @property
    def owner_id(self) -> str:
        return stable_hex(f"owner:{self.key}", 24)

    @property
    def organization_id(self) -> str:
        return f"org_{stable_hex(f'org:{self.key}', 24)}"

    @property
    def project_id(self) -> str:
        return f"proj_{stable_hex(f'project:{self.key}', 24)}"


@dataclass(frozen=True)
class StoredFile:
    """A file's metadata. Its bytes are stored apart (`Store.get_content`); a result file has none:
    it is derived from its job (`source_job`) when read, and never stored."""

    id: str
    tenant: str
    filename: str
    purpose: str
    file_type: str
    created_ns: int
    size: int | None = None  # bytes stored; None until they arrive (and for result files)
    source_job: str | None = None  # result files: the job they are generated from

    @property
    def ready(self) -> bool:
        return self.size is not None or self.source_job is not None


@dataclass(frozen=True, slots=True)  # slots: a server may hold a hundred thousand of them
class Job:
    """An evaluation job as created, and as changed by the control plane or the update hook.

    Its status is not here: it follows from `phases`, `created_ns` and the clock (and, for
    `after_polls`, from the job's read counter, `reads_counter`)."""

    workflow_id: str
    tenant: str
    type: EvalType
    parameters: dict[str, Any]  # as submitted, echoed back on retrieve
    judge: Judge
    created_ns: int
    phases: tuple[Phase, ...]
    dataset: Dataset | None
    results: dict[str, Any] | None = None  # completed results, as served (sorted, with result_file_id)
    error: str | None = None  # results.error of a failed job
    result_file_id: str | None = None
    result_file_deleted: bool = False  # DELETE /v1/files/{id} of its result file
    progression: Progression = field(default_factory=Progression)
    outcome: Outcome = field(default_factory=Outcome)
    source: dict[str, str] = field(default_factory=dict)  # which scenario level set each field
    problem: str | None = None  # the dataset problem that ends the job in user_error at running
    failed_rows: int = 0
    # Its place in line among the jobs created while a capacity was in force (`JOBS_IN_LINE`): jobs
    # created at the same instant get slots in this order (docs/capacity.md). None otherwise.
    line: int | None = None
    # The recording the job replays (docs/recordings.md), by name; None for every other job.
    recording: str | None = None
    # Each add-on's data on this job, by extension name (`_extension.py`): JSON-ready values, kept
    # in snapshots as they are. Empty for a job no add-on made.
    extensions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingUpload:
    """An upload URL handed out and not yet used up, kept under its token (`_upload_tokens.py`);
    multipart parts are stored apart. It takes bytes for its tenant's file `file_id` only, until
    `expires_ns` on the emulator clock or until the file is preprocessed or completed."""

    tenant: str
    file_id: str
    multipart: bool = False
    expires_ns: int | None = None  # None: never expires (a record made without a lifetime)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it, with how it was answered (a journal entry)."""

    seq: int  # 1-based position in the journal (`JOURNAL_SEQ`)
    method: str
    path: str  # an upload URL's token shown as its fingerprint
    query: dict[str, str]
    body: bytes  # secret fields masked; empty when the body was larger than the journal keeps
    tenant: str | None  # the tenant's name, else its key's fingerprint; None without a key
    route: str | None  # matched route name (e.g. "evaluation.create"), None for a 404/405
    route_path: str | None  # matched route template (e.g. "/v1/evaluation/{id}")
    job_id: str | None
    file_id: str | None
    status_code: int
    time_ns: int  # emulator clock when answered
    key_fingerprint: str | None = None  # `_redaction.key_fingerprint` of the bearer key
    body_size: int | None = None  # bytes of the body as received; None: `len(body)`
    body_sha256: str | None = None  # hex SHA-256 of the body as received; None: computed from `body`
    wall_ns: int | None = None  # wall clock (epoch ns) when answered; None in entries made before it was kept
    retry_after_ms: int | None = None  # the wait the answer asked for (`retry-after-ms`, else `retry-after`)
    job_status: str | None = None  # what a read of one job (retrieve, status) answered in full showed

    @property
    def size(self) -> int:
        """Bytes of the request body as it was received (of the body as kept when secrets were
        masked in it)."""
        return len(self.body) if self.body_size is None else self.body_size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the request body as it was received (of the body as kept when secrets
        were masked in it)."""
        return hashlib.sha256(self.body).hexdigest() if self.body_sha256 is None else self.body_sha256

    @property
    def truncated(self) -> bool:
        """Whether the body was larger than the journal keeps (only its size and digest are kept)."""
        return self.size != len(self.body)

    @property
    def journal_bytes(self) -> int:
        """What the entry counts against the journal's byte bound: its body, path and query."""
        return len(self.body) + len(self.path) + sum(len(k) + len(v) for k, v in self.query.items())

    @property
    def time(self) -> str:
        """Emulator time as RFC 3339 (the `created_at` form)."""
        return format_micros(self.time_ns)

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty, not JSON or not kept (too large)."""
        if self.truncated:
            return None
        try:  # what the server took (or refused: standard JSON only, and within any depth it could take)
            return strict_json.loads(self.body, JOURNAL_JSON) if self.body.strip() else None
        except ValueError:
            return None

    def describe(self) -> str:
        """One line for failure messages: `#3 POST /v1/evaluation -> 200 [evaluation.create] body={...}`."""
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        line = f"#{self.seq} {self.method} {self.path}{query} -> {self.status_code} [{self.route or 'no route'}]"
        body = self.json()
        if body is not None:
            text = json.dumps(body, sort_keys=True)
            line += f" body={text if len(text) <= 300 else text[:297] + '...'}"
        elif self.truncated:
            line += f" body=<{self.size} bytes, sha256 {self.sha256[:12]}…>"
        return line


# What a journal entry's body is read back as: any depth the server could have taken.
JOURNAL_JSON = strict_json.JsonLimits(strict_json.MAX_JSON_DEPTH)

# ---------------------------------------------------------------- counter names

JOURNAL_SEQ = "journal-seq"  # requests recorded since the journal was last emptied (the last `seq`)
SCENARIO_IDS = "scenario-ids"  # entries added so far (the last `scn-<n>`)
FAULT_IDS = "fault-ids"  # rules added so far (the last `fault-<n>`)
# A random stamp, drawn again whenever what the schedule derives from changes while a capacity is
# in force (a job's phases, the capacity): a process's cached schedule is valid while it is unchanged.
SCHEDULE_STAMP = "schedule-stamp"
JOBS_IN_LINE = "jobs-in-line"  # jobs created while a capacity was in force (the last `Job.line`)


def reads_counter(workflow_id: str) -> str:
    """Client reads of a job (retrieve, status, list appearances): what `after_polls` counts."""
    return f"reads:{workflow_id}"


def id_space_full_counter(second: int) -> str:
    """Set (to 1) once every job id of `second`'s space is taken: creates borrow the next second's."""
    return f"job-ids-full:{second}"


def id_scan_counter(second: int) -> str:
    """Where the in-order search of `second`'s crowded id space goes on from (the next number to try)."""
    return f"job-ids-scanned:{second}"


def scenario_used_counter(entry_id: str) -> str:
    """Creates a "next N" scenario entry has applied to."""
    return f"scenario-used:{entry_id}"


def fault_seen_counter(rule_id: str) -> str:
    """Requests a fault rule has matched."""
    return f"fault-seen:{rule_id}"


def fault_fired_counter(rule_id: str) -> str:
    """Times a fault rule has fired."""
    return f"fault-fired:{rule_id}"


# ---------------------------------------------------------------- the interface


class Pending(Protocol):
    """A commit a store has sent and not yet confirmed (`Store.unconfirmed`)."""

    def done(self) -> bool:
        """Whether the store has answered it (applied, or failed)."""

    def result(self) -> Any:
        """The store's answer, once done; raises what went wrong when it was not applied."""

    def add_done_callback(self, callback: Callable[[Any], object]) -> None:
        """Call `callback` with it once done (at once when it is), in the thread that answers it."""


class Store(ABC):
    """Every piece of the emulator's mutable state.

    Rules for implementations: records go in and come out as values (a store may hand back the
    object it was given, or a copy); `put_*` inserts or replaces; listings keep insertion order;
    `increment` and `admit` are atomic; `clear` gives back the state of a new store. Calls are
    made inside `transaction()` for one request; a store shared by processes makes that a
    transaction (SQLite) or a lock (Redis) so one request's reads and writes are not interleaved
    with another's.
    """

    # The most bytes one value of file bytes (a file's content, or one part of a multipart upload) may
    # hold in this store: a larger one is refused with a 413 (`_files.check_size`), never half stored.
    max_content_bytes: int = sys.maxsize

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]:
        """The scope of one request (or one control call)."""

    def unconfirmed(self) -> AbstractContextManager[list[Pending]]:
        """Within it, the calling thread's transactions may end before the store confirms their
        writes; the futures of those commits are added to the list it gives, and `confirm` waits
        for one (a response must not leave before its writes are confirmed). A store that confirms
        every commit at once adds none."""
        return nullcontext([])

    def confirm(self, pending: Pending) -> None:
        """Wait until a commit made within `unconfirmed()` is applied; raises when it was not."""
        pending.result()

    def answer_on(self, loop: Any) -> None:  # noqa: B027 (a store that confirms at once has nothing to read)
        """Called by a face with an event loop, from that loop's thread, before it awaits a commit made
        within `unconfirmed()`: a store whose confirmations arrive on a socket reads them there, as they
        come, instead of in a thread of its own."""

    def may_wait(self) -> bool:
        """Whether the next transaction may wait for another process (a lock or lease it holds). The
        server face then runs the request off its event loop, so this process keeps reading and
        answering connections meanwhile. A store in this process never waits."""
        return False

    @abstractmethod
    def clear(self) -> None:
        """Forget everything: back to the state of a new store."""

    def close(self) -> None:  # noqa: B027 (a store that holds nothing has nothing to release)
        """Release what the store holds in this process (a file, a connection); the state stays in
        the store. The store is not used afterwards."""

    @abstractmethod
    def upload_token_key(self) -> bytes:
        """The key upload-URL tokens are signed with (`_upload_tokens.py`): drawn from `secrets` the first
        time it is asked for, then the same for as long as the store lives. `clear` keeps it, so a
        token issued before a reset is still recognised once spent; a persistent or shared store
        keeps it with the state, so tokens survive a restart and every process recognises them."""

    # ------------------------------------------------------------ the seed

    @abstractmethod
    def seed(self) -> int | None:
        """The seed the state was made from (set by the engine at every reset, reseed and state
        import), or None for a store no engine has filled yet. A persistent or shared store keeps
        it with the state, so an engine opened on it later, or in another process, takes it up."""

    @abstractmethod
    def set_seed(self, seed: int) -> None: ...

    # ------------------------------------------------------------ tenants

    @abstractmethod
    def get_tenant(self, key: str) -> Tenant | None: ...

    @abstractmethod
    def put_tenant(self, tenant: Tenant) -> None: ...

    @abstractmethod
    def tenants(self) -> list[Tenant]:
        """Every tenant, in the order first stored."""

    @abstractmethod
    def known_keys(self) -> frozenset[str] | None:
        """The only API keys that may become tenants, or None when any key may (auth "any")."""

    @abstractmethod
    def set_known_keys(self, keys: frozenset[str] | None) -> None: ...

    # ------------------------------------------------------------ jobs

    @abstractmethod
    def get_job(self, tenant: str, workflow_id: str) -> Job | None:
        """One tenant's job (another tenant's job is None)."""

    @abstractmethod
    def find_job(self, workflow_id: str) -> Job | None:
        """A job by id, whichever tenant owns it (ids are unique across tenants)."""

    @abstractmethod
    def put_job(self, job: Job) -> None: ...

    @abstractmethod
    def jobs(self, tenant: str) -> list[Job]:
        """A tenant's jobs, oldest first (in the order first stored)."""

    @abstractmethod
    def job_for_result_file(self, tenant: str, file_id: str) -> Job | None:
        """The tenant's job whose `result_file_id` is `file_id`, if any."""

    @abstractmethod
    def find_jobs(self, tenant: str, status: str, at_ns: int, limit: int, check: Callable[[Job], bool]) -> list[Job]:
        """The tenant's newest jobs in `status` at clock instant `at_ns`: the first `limit`, in the order
        of `reversed(jobs(tenant))`, that pass `check` among the jobs whose timeline
        (`_status_index.timeline`) holds `status` at `at_ns`. `check` says whether a job is in the
        status (it is asked about every job that is, and perhaps about some that could be by a read);
        it must not write to the store.

        Answered from a `StatusIndex` of the tenant's jobs kept by the store (built on first use, then
        kept in step with every `put_job`, this process's and, for a shared store, the others'), so the
        cost is O(log n + limit) jobs looked at, not a scan of every job."""

    # ------------------------------------------------------------ files and their bytes

    @abstractmethod
    def get_file(self, tenant: str, file_id: str) -> StoredFile | None: ...

    @abstractmethod
    def put_file(self, file: StoredFile) -> None: ...

    @abstractmethod
    def delete_file(self, tenant: str, file_id: str) -> None:
        """Forget a file's metadata and its bytes (nothing happens for an unknown file)."""

    @abstractmethod
    def files(self, tenant: str) -> list[StoredFile]:
        """A tenant's files, ready or not, in the order first stored."""

    @abstractmethod
    def get_content(self, tenant: str, file_id: str) -> bytes | None: ...

    @abstractmethod
    def put_content(self, tenant: str, file_id: str, content: bytes) -> None: ...

    # ------------------------------------------------------------ pending uploads

    @abstractmethod
    def get_upload(self, token: str) -> PendingUpload | None: ...

    @abstractmethod
    def put_upload(self, token: str, upload: PendingUpload) -> None: ...

    @abstractmethod
    def delete_upload(self, token: str) -> None:
        """Forget an upload and its parts."""

    @abstractmethod
    def uploads(self) -> list[tuple[str, PendingUpload]]:
        """Every pending upload with its token, in the order first stored."""

    @abstractmethod
    def put_upload_part(self, token: str, number: int, content: bytes) -> None: ...

    @abstractmethod
    def upload_parts(self, token: str) -> dict[int, bytes]:
        """The parts received so far, by part number."""

    # ------------------------------------------------------------ the id generator

    @abstractmethod
    def draw(self, make: Callable[[random.Random], T]) -> T:
        """Apply one draw (`_ids.file_id`, ...) to the id generator and keep its new state; returns
        what the draw made. Atomic: concurrent draws never see the same state."""

    @abstractmethod
    def id_state(self) -> list[Any]:
        """The generator's state as JSON-ready data (`_ids.export_state`)."""

    @abstractmethod
    def set_id_state(self, state: list[Any]) -> None:
        """Put the generator in a state `_ids.initial_state` or `id_state` gave."""

    # ------------------------------------------------------------ the clock

    @abstractmethod
    def clock_state(self) -> ClockState: ...

    @abstractmethod
    def set_clock_state(self, state: ClockState) -> None: ...

    # ------------------------------------------------------------ counters

    @abstractmethod
    def increment(self, name: str, by: int = 1) -> int:
        """Add `by` to a counter (0 when new) and return its new value. Atomic."""

    @abstractmethod
    def counter(self, name: str) -> int:
        """A counter's value (0 when never incremented)."""

    @abstractmethod
    def set_counter(self, name: str, value: int) -> None: ...

    @abstractmethod
    def admit(self, rule_id: str, tenant: str, now_ns: int, window_ns: int, limit: int) -> int | None:
        """A quota's sliding window: admit one request of `tenant` at `now_ns` when fewer than `limit`
        were admitted in the window ending now (and return None), else return the admission
        instant that must leave the window before the next one is admitted. Atomic."""

    @abstractmethod
    def quota_windows(self, rule_id: str) -> dict[str, list[int]]:
        """The admission instants still kept for a rule's quota, by tenant."""

    @abstractmethod
    def set_quota_windows(self, rule_id: str, windows: dict[str, list[int]]) -> None: ...

    # ------------------------------------------------------------ scenario and fault books

    @abstractmethod
    def scenario_book(self) -> ScenarioBook:
        """The attached scenarios. The book's counters (`next_id`, each entry's `used`) are kept in
        counters (`SCENARIO_IDS`, `scenario_used_counter`), not in the stored book."""

    @abstractmethod
    def put_scenario_book(self, book: ScenarioBook) -> None: ...

    @abstractmethod
    def fault_rules(self) -> Sequence[FaultRule]:
        """The fault rules in force, in order. Their counters (`seen`, `fired`, `window`) are kept in
        counters and quota windows, not in the stored rules."""

    @abstractmethod
    def put_fault_rules(self, rules: Sequence[FaultRule]) -> None: ...

    # ------------------------------------------------------------ capacity

    @abstractmethod
    def capacity_log(self) -> CapacityLog:
        """The capacity over time (`_capacity.py`); an empty log (a new store's) limits nothing."""

    @abstractmethod
    def put_capacity_log(self, log: CapacityLog) -> None: ...

    # ------------------------------------------------------------ recordings

    @abstractmethod
    def recordings(self) -> Sequence[Recording]:
        """The recordings added (`_replays.py`), in the order added."""

    @abstractmethod
    def put_recordings(self, recordings: Sequence[Recording]) -> None: ...

    # ------------------------------------------------------------ the request journal

    @abstractmethod
    def append_request(self, entry: RecordedRequest, limit: int | None, max_bytes: int | None = None) -> None:
        """Append an entry (numbered by `increment(JOURNAL_SEQ)`), keeping only the most recent
        `limit` entries (all when None) and, when `max_bytes` is given, only the most recent entries
        whose `journal_bytes` add up to at most `max_bytes` (the newest entry is always kept)."""

    @abstractmethod
    def requests(self) -> list[RecordedRequest]:
        """The journal, oldest first. Safe to call from another thread while requests are served."""

    @abstractmethod
    def clear_requests(self) -> None:
        """Empty the journal and set `JOURNAL_SEQ` back to 0 (numbering starts again at 1)."""
