"""`SQLiteStore`: the whole state in one SQLite file (standard library `sqlite3`), kept across restarts
and shareable by several processes on one host.

Durability: the file is in WAL mode with `synchronous=NORMAL`, and every request is one transaction
committed before its answer is sent. A commit has written the transaction to the write-ahead log
through the operating system, so whatever a process answered survives that process dying in any
way (`kill -9` included). What NORMAL does not do is wait for the disk at each commit: a crash of
the machine itself may lose the last commits, never the file's consistency. (`synchronous=FULL`
would add a disk flush to every write request, for a case a test double does not need.)

Several processes: every transaction starts with `BEGIN IMMEDIATE`, so one request's reads and
writes never interleave with another process's; the others wait (up to `BUSY_TIMEOUT_S`).

Caching: decoded records are kept in this process (bounded), and dropped whenever another
connection has committed since this one last looked (`PRAGMA data_version`, checked as each
transaction starts), or when a transaction rolls back. In one process, a read that hits the cache
costs a dictionary lookup and hands back the same object as last time (which the view and dataset
caches above rely on). File bytes are read from the file when asked for; only small ones are kept.
"""

from __future__ import annotations

import functools
import os
import random
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from .._version import __version__
from ..engine import _ids as ids
from ..engine._capacity import CapacityLog
from ..engine._clock import ClockState, initial_state
from ..engine._datasets import Dataset
from ..engine._faults import FaultRule
from ..engine._recordings import Recording
from ..engine._scenarios import ScenarioBook
from ..engine._status_index import StatusIndex, decode_timeline, encode_timeline, pick, timeline
from ..engine._store import JOURNAL_SEQ, Job, PendingUpload, RecordedRequest, Store, StoredFile, Tenant
from . import _codec as codec
from ._errors import IncompatibleStore, StoreError

T = TypeVar("T")
P = ParamSpec("P")

# The store schema: raise it whenever the tables below or `codec.FORMAT_VERSION` change. A file
# of another schema is refused (start it over with `--reset-store`).
# 2: codec format 2 (a job's add-on data as JSON); 3: job timelines and change numbers (the status
# index), journal entry sizes; 4: codec format 4 (a job's pinned phases, place in line, recording),
# capacity and recordings rows; 5: codec format 5 (a dataset is its bytes and its facts, not its rows);
# 6: each journal row carries the running total of the entries' sizes (no total kept in `meta`);
# 7: the journal's rows past its bounds are deleted in batches (the bounds they were kept by in `meta`:
# an older version would show the rows not yet deleted)
SCHEMA_VERSION = 7
ROW_ROOM = 1 << 20  # bytes of a row besides its file bytes, at most
APPLICATION_ID = 0x54454545  # "TEEE": marks the file as an emulator store (PRAGMA application_id)
BUSY_TIMEOUT_S = 30.0  # how long a transaction waits for another process's to finish
CACHE_LIMIT = 20_000  # records of each kind kept decoded; a cache is emptied when full
CONTENT_CACHE_BYTES = 32 * 1024 * 1024  # file bytes kept in memory at most (small files only)
CONTENT_CACHE_ITEM = 1024 * 1024
JOURNAL_SLACK = 64  # the journal's rows past its bounds are deleted together, every this many appends

_TABLES = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tenants (pos INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE datasets (digest TEXT PRIMARY KEY, data TEXT NOT NULL, content BLOB NOT NULL);
CREATE TABLE jobs (
    pos INTEGER PRIMARY KEY, workflow_id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL,
    result_file_id TEXT, dataset TEXT, data TEXT NOT NULL,
    timeline TEXT NOT NULL, changed INTEGER NOT NULL
);
CREATE INDEX jobs_by_tenant ON jobs (tenant, pos);
CREATE INDEX jobs_by_change ON jobs (changed);
CREATE INDEX jobs_by_result_file ON jobs (tenant, result_file_id);
CREATE TABLE files (pos INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL);
CREATE UNIQUE INDEX files_by_id ON files (tenant, id);
CREATE INDEX files_by_tenant ON files (tenant, pos);
CREATE TABLE contents (tenant TEXT NOT NULL, id TEXT NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE uploads (pos INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE upload_parts (token TEXT NOT NULL, number INTEGER NOT NULL, bytes BLOB NOT NULL, UNIQUE (token, number));
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE quotas (pos INTEGER PRIMARY KEY, rule TEXT NOT NULL, tenant TEXT NOT NULL, times TEXT NOT NULL);
CREATE UNIQUE INDEX quotas_by_rule ON quotas (rule, tenant);
CREATE TABLE journal (
    pos INTEGER PRIMARY KEY, data TEXT NOT NULL, body BLOB NOT NULL, size INTEGER NOT NULL, total INTEGER NOT NULL
);
"""
_STATE_TABLES = (
    "tenants",
    "datasets",
    "jobs",
    "files",
    "contents",
    "uploads",
    "upload_parts",
    "counters",
    "quotas",
    "journal",
)
_WRITTEN_BY, _FORMAT = "written_by", "format"  # meta rows that describe the file, kept by `clear`
_UPLOAD_TOKEN_KEY = "upload_token_key"  # kept by `clear` too (Store.upload_token_key)
_SEED, _KNOWN_KEYS, _CLOCK, _IDS, _SCENARIOS, _FAULTS = "seed", "known_keys", "clock", "ids", "scenarios", "faults"
_JOURNAL_NEWEST = "journal_newest"  # kept in `_metas` only: the newest entry's (position, `total`)
_JOURNAL_BOUNDS = "journal_bounds"  # the journal's bounds its rows were last kept by (entries, bytes)
_JOBS_EPOCH = "jobs_epoch"  # a new value whenever the jobs are cleared: positions and changes start over
_CAPACITY, _RECORDINGS = "capacity", "recordings"


def _scoped(method: Callable[Concatenate[SQLiteStore, P], T]) -> Callable[Concatenate[SQLiteStore, P], T]:
    """Run a store method inside the current transaction, or in one of its own when called outside
    any (the interface may be used outside `transaction()`, from any thread)."""

    @functools.wraps(method)
    def run(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            if self._depth:
                return method(self, *args, **kwargs)
            with self.transaction():
                return method(self, *args, **kwargs)

    return run


class SQLiteStore(Store):
    """A `Store` in a SQLite file. `reset=True` starts the file over, whatever it held (an emulator
    state of any schema version); a file of another schema version is otherwise refused."""

    def __init__(self, path: str | Path, *, reset: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.url = f"sqlite:{path}"
        self._lock = threading.RLock()
        self._depth = 0  # transactions open (nested ones join the outermost)
        self._seen_version: int | None = None  # PRAGMA data_version when this connection last looked
        self._forget()
        self._drop_status()
        if self.path.exists() and not os.access(self.path, os.W_OK):  # SQLite would open it read-only, and fail later
            raise StoreError(f"cannot use {self.url}: the file is read-only; the store writes every answered change")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.url}: {exc}") from None
        # A row holds at most SQLITE_LIMIT_LENGTH bytes (1e9 by default): file bytes, with room for the
        # rest of their row (keys, a dataset's facts).
        self.max_content_bytes = self._db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) - ROW_ROOM
        try:
            self._prepare(reset)
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------ the file

    def _prepare(self, reset: bool) -> None:
        db = self._db
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past the timeout, read-only, ...
            raise StoreError(f"cannot use {self.url}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.url}: {exc} (is it a file of something else?)") from None
        try:
            tables = [
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not name.startswith("sqlite_")
            ]
            ours = db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            if tables and not ours:
                raise StoreError(
                    f"{self.url} is a SQLite database of another application, not an emulator store; "
                    f"refusing to use or reset it: choose another path"
                )
            if tables and reset:
                for table in tables:
                    db.execute(f'DROP TABLE "{table}"')
                tables = []
            if not tables:
                for statement in _TABLES.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._write_meta(_WRITTEN_BY, __version__)
                self._write_meta(_FORMAT, str(codec.FORMAT_VERSION))
                self._write_meta(_CLOCK, codec.encode_clock(initial_state("manual")))
                self._write_meta(_JOBS_EPOCH, secrets.token_hex(8))
            else:
                self._check_version()
            db.execute("COMMIT")
        except BaseException as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # no transaction left to roll back (the failure ended it)
            if isinstance(exc, sqlite3.Error):  # a file SQLite cannot use as a store (a device, a damaged one)
                raise StoreError(f"cannot use {self.url}: {exc}") from None
            raise

    def _check_version(self) -> None:
        found = self._db.execute("PRAGMA user_version").fetchone()[0]
        written_by = self._read_meta(_WRITTEN_BY) or "an unknown version"
        data_format = self._read_meta(_FORMAT)
        if found != SCHEMA_VERSION or data_format != str(codec.FORMAT_VERSION):
            raise IncompatibleStore(
                f"{self.url} holds a state of store schema version {found} (format {data_format}), written by "
                f"together-eval-emulator {written_by}; this version ({__version__}) reads schema version "
                f"{SCHEMA_VERSION} (format {codec.FORMAT_VERSION}). Serve it with the version that wrote it, or "
                f"start it over with --reset-store (its state is lost)"
            )

    def close(self) -> None:
        """Close the file (the store cannot be used afterwards)."""
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ transactions and the cache

    def _forget(self) -> None:
        """Drop everything kept in this process: the file is the truth."""
        self._metas: dict[str, Any] = {}
        self._rng: random.Random | None = None
        self._rng_dirty = False
        self._tenants: dict[str, Tenant | None] = {}
        self._jobs: dict[str, Job | None] = {}
        self._job_lists: dict[str, dict[str, None]] = {}  # tenant -> its workflow ids, in order
        self._datasets: dict[str, Dataset] = {}  # digest -> dataset
        self._digests: dict[int, tuple[Dataset, str]] = {}  # id(dataset) -> (dataset, its stored digest)
        self._files: dict[tuple[str, str], StoredFile | None] = {}
        self._file_lists: dict[str, dict[str, None]] = {}  # tenant -> its file ids, in order
        self._contents: dict[tuple[str, str], bytes | None] = {}
        self._content_bytes = 0
        self._counters: dict[str, int] = {}

    def _drop_status(self) -> None:
        """Forget the status indexes of this process (rebuilt from the file when next asked)."""
        self._status: dict[str, StatusIndex] = {}  # tenant -> its jobs by status, by position (`pos`)
        self._status_ids: dict[str, dict[int, str]] = {}  # tenant -> position -> workflow id
        self._status_seen = 0  # the last `changed` the indexes follow
        self._status_epoch: str | None = None

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= CACHE_LIMIT and key not in cache:
            cache.clear()
        cache[key] = value

    def transaction(self) -> AbstractContextManager[object]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[object]:
        with self._lock:
            if self._depth:  # joins the transaction already open
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self
                self._commit()
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0

    def _begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:  # another connection committed: what is kept may be stale
            self._forget()
            self._seen_version = version

    def _commit(self) -> None:
        if self._rng_dirty and self._rng is not None:  # the generator moves often: written once per transaction
            self._write_meta(_IDS, codec.encode_json(ids.export_state(self._rng)))
            self._rng_dirty = False
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction left to roll back (the failure ended it)
        self._forget()
        self._drop_status()  # they may follow what the transaction wrote

    # ------------------------------------------------------------ meta values

    def _read_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _write_meta(self, name: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def _meta(self, name: str, decode: Callable[[str], T], default: Callable[[], T]) -> T:
        try:
            return self._metas[name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        text = self._read_meta(name)
        value = default() if text is None else decode(text)
        self._metas[name] = value
        return value

    def _set_meta(self, name: str, value: Any, text: str | None) -> None:
        self._write_meta(name, text)
        self._metas[name] = value

    # ------------------------------------------------------------ the whole store

    @_scoped
    def clear(self) -> None:
        for table in _STATE_TABLES:
            self._db.execute(f"DELETE FROM {table}")
        self._db.execute("DELETE FROM meta WHERE name NOT IN (?, ?, ?)", (_WRITTEN_BY, _FORMAT, _UPLOAD_TOKEN_KEY))
        self._forget()
        self._drop_status()
        clock = initial_state("manual")
        self._set_meta(_CLOCK, clock, codec.encode_clock(clock))
        self._set_meta(_JOBS_EPOCH, None, secrets.token_hex(8))

    @_scoped
    def upload_token_key(self) -> bytes:
        # The first process to ask draws it; one that asks at the same time reads the winner's.
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (_UPLOAD_TOKEN_KEY, secrets.token_hex(32)),
        )
        return bytes.fromhex(self._meta(_UPLOAD_TOKEN_KEY, str, str))

    @_scoped
    def seed(self) -> int | None:
        return self._meta(_SEED, int, lambda: None)

    @_scoped
    def set_seed(self, seed: int) -> None:
        self._set_meta(_SEED, seed, str(seed))

    # ------------------------------------------------------------ tenants

    @_scoped
    def get_tenant(self, key: str) -> Tenant | None:
        try:
            return self._tenants[key]
        except KeyError:
            pass
        row = self._db.execute("SELECT name FROM tenants WHERE key = ?", (key,)).fetchone()
        tenant = None if row is None else Tenant(key, row[0])
        self._remember(self._tenants, key, tenant)
        return tenant

    @_scoped
    def put_tenant(self, tenant: Tenant) -> None:
        self._db.execute(
            "INSERT INTO tenants (key, name) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET name = excluded.name",
            (tenant.key, tenant.name),
        )
        self._remember(self._tenants, tenant.key, tenant)

    @_scoped
    def tenants(self) -> list[Tenant]:
        return [Tenant(key, name) for key, name in self._db.execute("SELECT key, name FROM tenants ORDER BY pos")]

    @_scoped
    def known_keys(self) -> frozenset[str] | None:
        return self._meta(_KNOWN_KEYS, lambda text: frozenset(codec.decode_json(text)), lambda: None)

    @_scoped
    def set_known_keys(self, keys: frozenset[str] | None) -> None:
        self._set_meta(_KNOWN_KEYS, keys, None if keys is None else codec.encode_json(sorted(keys)))

    # ------------------------------------------------------------ jobs

    def _dataset(self, digest: str) -> Dataset:
        dataset = self._datasets.get(digest)
        if dataset is None:
            row = self._db.execute("SELECT data, content FROM datasets WHERE digest = ?", (digest,)).fetchone()
            dataset = codec.decode_dataset(row[0], row[1])
            self._remember(self._datasets, digest, dataset)
            self._remember(self._digests, id(dataset), (dataset, digest))
        return dataset

    def _dataset_digest(self, dataset: Dataset) -> str:
        """The digest a dataset is stored under, storing it on first sight (jobs share datasets)."""
        known = self._digests.get(id(dataset))
        if known is not None and known[0] is dataset:
            return known[1]
        digest, text, content = codec.encode_dataset(dataset)
        self._db.execute(
            "INSERT INTO datasets (digest, data, content) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (digest, text, content),
        )
        self._remember(self._digests, id(dataset), (dataset, digest))
        self._datasets.setdefault(digest, dataset)
        return digest

    def _decode_job(self, workflow_id: str, tenant: str, digest: str | None, data: str) -> Job:
        return codec.decode_job(workflow_id, tenant, data, self._dataset(digest) if digest else None)

    def _job(self, workflow_id: str) -> Job | None:
        try:
            return self._jobs[workflow_id]
        except KeyError:
            pass
        row = self._db.execute(
            "SELECT tenant, dataset, data FROM jobs WHERE workflow_id = ?", (workflow_id,)
        ).fetchone()
        job = None if row is None else self._decode_job(workflow_id, *row)
        self._remember(self._jobs, workflow_id, job)
        return job

    @_scoped
    def get_job(self, tenant: str, workflow_id: str) -> Job | None:
        job = self._job(workflow_id)
        return job if job is not None and job.tenant == tenant else None

    @_scoped
    def find_job(self, workflow_id: str) -> Job | None:
        return self._job(workflow_id)

    @_scoped
    def put_job(self, job: Job) -> None:
        digest = self._dataset_digest(job.dataset) if job.dataset is not None else None
        # `changed` orders the changes of timelines, so each process's status index takes up only
        # the rows changed since it last looked (`_follow_status`).
        self._db.execute(
            "INSERT INTO jobs (workflow_id, tenant, result_file_id, dataset, data, timeline, changed) "
            "VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(changed), 0) + 1 FROM jobs)) "
            "ON CONFLICT (workflow_id) DO UPDATE SET tenant = excluded.tenant, "
            "result_file_id = excluded.result_file_id, dataset = excluded.dataset, data = excluded.data, "
            "changed = CASE WHEN timeline = excluded.timeline THEN changed ELSE excluded.changed END, "
            "timeline = excluded.timeline",
            (
                job.workflow_id,
                job.tenant,
                job.result_file_id,
                digest,
                codec.encode_job(job),
                encode_timeline(timeline(job.created_ns, job.phases)),
            ),
        )
        listing = self._job_lists.get(job.tenant)
        if listing is not None and job.workflow_id not in listing:
            listing[job.workflow_id] = None
        self._remember(self._jobs, job.workflow_id, job)

    @_scoped
    def jobs(self, tenant: str) -> list[Job]:
        listing = self._job_lists.get(tenant)
        found = {workflow_id: self._jobs.get(workflow_id) for workflow_id in listing or ()}
        if listing is None or None in found.values():
            found = {}
            for workflow_id, digest, data in self._db.execute(
                "SELECT workflow_id, dataset, data FROM jobs WHERE tenant = ? ORDER BY pos", (tenant,)
            ):
                job = self._jobs.get(workflow_id) or self._decode_job(workflow_id, tenant, digest, data)
                self._remember(self._jobs, workflow_id, job)
                found[workflow_id] = job
            self._remember(self._job_lists, tenant, dict.fromkeys(found))
        return list(found.values())  # type: ignore[arg-type]

    @_scoped
    def find_jobs(self, tenant: str, status: str, at_ns: int, limit: int, check: Callable[[Job], bool]) -> list[Job]:
        index = self._status_index(tenant, at_ns)
        ids = self._status_ids[tenant]
        return pick(index.newest(status, at_ns), lambda position: self._job(ids[position]), check, limit)

    def _status_index(self, tenant: str, at_ns: int) -> StatusIndex:
        """The tenant's status index, following every change made to the file since it was built."""
        self._follow_status()
        index = self._status.get(tenant)
        if index is None:
            rows = self._db.execute(
                "SELECT pos, workflow_id, timeline FROM jobs WHERE tenant = ?", (tenant,)
            ).fetchall()
            self._status_ids[tenant] = {position: workflow_id for position, workflow_id, _ in rows}
            lines = ((position, decode_timeline(text)) for position, _, text in rows)
            index = self._status[tenant] = StatusIndex.built(at_ns, lines)
        return index

    def _follow_status(self) -> None:
        """Bring this process's status indexes up to the file: the timelines changed since they last
        looked (by any process), or everything when the jobs were cleared meanwhile."""
        epoch = self._meta(_JOBS_EPOCH, str, lambda: "")
        if epoch != self._status_epoch:
            self._drop_status()
            self._status_epoch = epoch
        if not self._status:  # nothing to follow: start from the latest change
            (latest,) = self._db.execute("SELECT COALESCE(MAX(changed), 0) FROM jobs").fetchone()
            self._status_seen = latest
            return
        rows = self._db.execute(
            "SELECT pos, workflow_id, tenant, timeline, changed FROM jobs WHERE changed > ? ORDER BY changed",
            (self._status_seen,),
        )
        for position, workflow_id, tenant, text, changed in rows:
            index = self._status.get(tenant)
            if index is not None:
                index.put(position, decode_timeline(text))
                self._status_ids[tenant][position] = workflow_id
            self._status_seen = changed

    @_scoped
    def job_for_result_file(self, tenant: str, file_id: str) -> Job | None:
        row = self._db.execute(
            "SELECT workflow_id FROM jobs WHERE tenant = ? AND result_file_id = ?", (tenant, file_id)
        ).fetchone()
        return None if row is None else self._job(row[0])

    # ------------------------------------------------------------ files and their bytes

    @_scoped
    def get_file(self, tenant: str, file_id: str) -> StoredFile | None:
        try:
            return self._files[(tenant, file_id)]
        except KeyError:
            pass
        row = self._db.execute("SELECT data FROM files WHERE tenant = ? AND id = ?", (tenant, file_id)).fetchone()
        file = None if row is None else codec.decode_file(row[0])
        self._remember(self._files, (tenant, file_id), file)
        return file

    @_scoped
    def put_file(self, file: StoredFile) -> None:
        self._db.execute(
            "INSERT INTO files (tenant, id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant, id) DO UPDATE SET data = excluded.data",
            (file.tenant, file.id, codec.encode_file(file)),
        )
        listing = self._file_lists.get(file.tenant)
        if listing is not None and file.id not in listing:
            listing[file.id] = None
        self._remember(self._files, (file.tenant, file.id), file)

    @_scoped
    def delete_file(self, tenant: str, file_id: str) -> None:
        self._db.execute("DELETE FROM files WHERE tenant = ? AND id = ?", (tenant, file_id))
        self._db.execute("DELETE FROM contents WHERE tenant = ? AND id = ?", (tenant, file_id))
        self._remember(self._files, (tenant, file_id), None)
        self._file_lists.get(tenant, {}).pop(file_id, None)
        self._forget_content(tenant, file_id)

    @_scoped
    def files(self, tenant: str) -> list[StoredFile]:
        listing = self._file_lists.get(tenant)
        found = {file_id: self._files.get((tenant, file_id)) for file_id in listing or ()}
        if listing is None or None in found.values():
            found = {}
            for file_id, data in self._db.execute(
                "SELECT id, data FROM files WHERE tenant = ? ORDER BY pos", (tenant,)
            ):
                file = self._files.get((tenant, file_id)) or codec.decode_file(data)
                self._remember(self._files, (tenant, file_id), file)
                found[file_id] = file
            self._remember(self._file_lists, tenant, dict.fromkeys(found))
        return list(found.values())  # type: ignore[arg-type]

    def _forget_content(self, tenant: str, file_id: str) -> None:
        dropped = self._contents.pop((tenant, file_id), None)
        if dropped is not None:
            self._content_bytes -= len(dropped)

    def _keep_content(self, tenant: str, file_id: str, content: bytes | None) -> None:
        self._forget_content(tenant, file_id)
        size = len(content or b"")
        if size > CONTENT_CACHE_ITEM:
            return
        if self._content_bytes + size > CONTENT_CACHE_BYTES or len(self._contents) >= CACHE_LIMIT:
            self._contents.clear()
            self._content_bytes = 0
        self._contents[(tenant, file_id)] = content
        self._content_bytes += size

    @_scoped
    def get_content(self, tenant: str, file_id: str) -> bytes | None:
        try:
            return self._contents[(tenant, file_id)]
        except KeyError:
            pass
        row = self._db.execute("SELECT bytes FROM contents WHERE tenant = ? AND id = ?", (tenant, file_id)).fetchone()
        content = None if row is None else bytes(row[0])
        self._keep_content(tenant, file_id, content)
        return content

    @_scoped
    def put_content(self, tenant: str, file_id: str, content: bytes) -> None:
        self._db.execute(
            "INSERT INTO contents (tenant, id, bytes) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant, id) DO UPDATE SET bytes = excluded.bytes",
            (tenant, file_id, content),
        )
        self._keep_content(tenant, file_id, content)

    # ------------------------------------------------------------ pending uploads (rare: read from the file)

    @_scoped
    def get_upload(self, token: str) -> PendingUpload | None:
        row = self._db.execute("SELECT data FROM uploads WHERE token = ?", (token,)).fetchone()
        return None if row is None else codec.decode_upload(row[0])

    @_scoped
    def put_upload(self, token: str, upload: PendingUpload) -> None:
        self._db.execute(
            "INSERT INTO uploads (token, data) VALUES (?, ?) ON CONFLICT (token) DO UPDATE SET data = excluded.data",
            (token, codec.encode_upload(upload)),
        )

    @_scoped
    def delete_upload(self, token: str) -> None:
        self._db.execute("DELETE FROM uploads WHERE token = ?", (token,))
        self._db.execute("DELETE FROM upload_parts WHERE token = ?", (token,))

    @_scoped
    def uploads(self) -> list[tuple[str, PendingUpload]]:
        rows = self._db.execute("SELECT token, data FROM uploads ORDER BY pos")
        return [(token, codec.decode_upload(data)) for token, data in rows]

    @_scoped
    def put_upload_part(self, token: str, number: int, content: bytes) -> None:
        self._db.execute(
            "INSERT INTO upload_parts (token, number, bytes) VALUES (?, ?, ?) "
            "ON CONFLICT (token, number) DO UPDATE SET bytes = excluded.bytes",
            (token, number, content),
        )

    @_scoped
    def upload_parts(self, token: str) -> dict[int, bytes]:
        rows = self._db.execute("SELECT number, bytes FROM upload_parts WHERE token = ? ORDER BY rowid", (token,))
        return {number: bytes(content) for number, content in rows}

    # ------------------------------------------------------------ the id generator

    def _generator(self) -> random.Random:
        if self._rng is None:
            text = self._read_meta(_IDS)
            self._rng = ids.generator(0) if text is None else ids.restore_state(codec.decode_json(text))
        return self._rng

    @_scoped
    def draw(self, make: Callable[[random.Random], T]) -> T:
        made = make(self._generator())
        self._rng_dirty = True
        return made

    @_scoped
    def id_state(self) -> list[Any]:
        return ids.export_state(self._generator())

    @_scoped
    def set_id_state(self, state: list[Any]) -> None:
        self._rng = ids.restore_state(state)
        self._rng_dirty = True

    # ------------------------------------------------------------ the clock

    @_scoped
    def clock_state(self) -> ClockState:
        return self._meta(_CLOCK, codec.decode_clock, lambda: initial_state("manual"))

    @_scoped
    def set_clock_state(self, state: ClockState) -> None:
        self._set_meta(_CLOCK, state, codec.encode_clock(state))

    # ------------------------------------------------------------ counters

    def _counter(self, name: str) -> int:
        try:
            return self._counters[name]
        except KeyError:
            pass
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = 0 if row is None else int(row[0])
        self._remember(self._counters, name, value)
        return value

    def _write_counter(self, name: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        self._remember(self._counters, name, value)

    @_scoped
    def increment(self, name: str, by: int = 1) -> int:
        value = self._counter(name) + by  # atomic: the transaction holds the file's write lock
        self._write_counter(name, value)
        return value

    @_scoped
    def counter(self, name: str) -> int:
        return self._counter(name)

    @_scoped
    def set_counter(self, name: str, value: int) -> None:
        self._write_counter(name, value)

    @_scoped
    def admit(self, rule_id: str, tenant: str, now_ns: int, window_ns: int, limit: int) -> int | None:
        row = self._db.execute("SELECT times FROM quotas WHERE rule = ? AND tenant = ?", (rule_id, tenant)).fetchone()
        times: list[int] = [] if row is None else codec.decode_json(row[0])
        admitted = [t for t in times if t > now_ns - window_ns]
        waiting_for = None
        if len(admitted) < limit:
            admitted.append(now_ns)
        else:
            waiting_for = admitted[-limit]
        self._db.execute(
            "INSERT INTO quotas (rule, tenant, times) VALUES (?, ?, ?) "
            "ON CONFLICT (rule, tenant) DO UPDATE SET times = excluded.times",
            (rule_id, tenant, codec.encode_json(admitted)),
        )
        return waiting_for

    @_scoped
    def quota_windows(self, rule_id: str) -> dict[str, list[int]]:
        rows = self._db.execute("SELECT tenant, times FROM quotas WHERE rule = ? ORDER BY pos", (rule_id,))
        return {tenant: codec.decode_json(times) for tenant, times in rows}

    @_scoped
    def set_quota_windows(self, rule_id: str, windows: dict[str, list[int]]) -> None:
        self._db.execute("DELETE FROM quotas WHERE rule = ?", (rule_id,))
        self._db.executemany(
            "INSERT INTO quotas (rule, tenant, times) VALUES (?, ?, ?)",
            [(rule_id, tenant, codec.encode_json(list(times))) for tenant, times in windows.items()],
        )

    # ------------------------------------------------------------ scenario and fault books

    @_scoped
    def scenario_book(self) -> ScenarioBook:
        return self._meta(_SCENARIOS, codec.decode_book, ScenarioBook)

    @_scoped
    def put_scenario_book(self, book: ScenarioBook) -> None:
        self._set_meta(_SCENARIOS, book, codec.encode_book(book))

    @_scoped
    def fault_rules(self) -> Sequence[FaultRule]:
        return self._meta(_FAULTS, codec.decode_rules, tuple)

    @_scoped
    def put_fault_rules(self, rules: Sequence[FaultRule]) -> None:
        self._set_meta(_FAULTS, tuple(rules), codec.encode_rules(rules))

    # ------------------------------------------------------------ capacity

    @_scoped
    def capacity_log(self) -> CapacityLog:
        return self._meta(_CAPACITY, codec.decode_capacity, CapacityLog)

    @_scoped
    def put_capacity_log(self, log: CapacityLog) -> None:
        self._set_meta(_CAPACITY, log, codec.encode_capacity(log) if log.active else None)

    # ------------------------------------------------------------ recordings

    @_scoped
    def recordings(self) -> Sequence[Recording]:
        return self._meta(_RECORDINGS, codec.decode_recordings, tuple)

    @_scoped
    def put_recordings(self, recordings: Sequence[Recording]) -> None:
        self._set_meta(_RECORDINGS, tuple(recordings), codec.encode_recordings(recordings) if recordings else None)

    # ------------------------------------------------------------ the request journal

    @_scoped
    def append_request(self, entry: RecordedRequest, limit: int | None, max_bytes: int | None = None) -> None:
        # Each row's `total` is the sum of `size` over every entry appended since the journal was last
        # emptied, this one included, so the entries within the byte bound are those whose `total - size`
        # (the total before them) is at least the newest's `total` less the bound (`_journal_start`).
        # The rows past the bounds are deleted together, every JOURNAL_SLACK appends: deleting the
        # oldest row at every append rewrote one more page of the file per request.
        bounds = (limit, max_bytes)
        kept_by = self._journal_bounds()
        if bounds != kept_by:  # what the old bounds dropped stays dropped: delete it before they change
            self._trim_journal(*kept_by)
            self._set_meta(_JOURNAL_BOUNDS, bounds, codec.encode_json(list(bounds)))
            self._trim_journal(*bounds)  # and smaller bounds leave no more than JOURNAL_SLACK rows past them
        data, body = codec.encode_request(entry)
        total = self._journal_newest()[1] + entry.journal_bytes
        added = self._db.execute(
            "INSERT INTO journal (data, body, size, total) VALUES (?, ?, ?, ?)",
            (data, body, entry.journal_bytes, total),
        ).lastrowid
        assert added is not None
        self._metas[_JOURNAL_NEWEST] = (added, total)
        if added % JOURNAL_SLACK == 0:
            self._trim_journal(limit, max_bytes)

    def _journal_bounds(self) -> tuple[int | None, int | None]:
        """The bounds the journal's rows were last kept by (none before the first append)."""
        return self._meta(_JOURNAL_BOUNDS, lambda text: tuple(codec.decode_json(text)), lambda: (None, None))

    def _journal_newest(self) -> tuple[int, int]:
        """The newest entry's position and `total` (0 and 0 for an empty journal)."""
        try:
            return self._metas[_JOURNAL_NEWEST]  # type: ignore[no-any-return]
        except KeyError:
            pass
        row = self._db.execute("SELECT pos, total FROM journal ORDER BY pos DESC LIMIT 1").fetchone()
        newest = (0, 0) if row is None else (int(row[0]), int(row[1]))
        self._metas[_JOURNAL_NEWEST] = newest
        return newest

    def _journal_start(self, limit: int | None, max_bytes: int | None) -> int:
        """The position of the oldest entry within the bounds: the newest `limit` entries, and of
        those the newest that fit in `max_bytes` (the newest stays, whatever its size). Positions
        are consecutive: rows go from the oldest end only, or all together."""
        newest, total = self._journal_newest()
        start = max(1, newest - limit + 1) if limit else 1
        if max_bytes is not None and newest:
            row = self._db.execute(
                "SELECT pos FROM journal WHERE pos >= ? AND total - size >= ? ORDER BY pos LIMIT 1",
                (start, total - max_bytes),
            ).fetchone()
            start = newest if row is None else int(row[0])
        return start

    def _trim_journal(self, limit: int | None, max_bytes: int | None) -> None:
        """Delete the rows past the bounds."""
        self._db.execute("DELETE FROM journal WHERE pos < ?", (self._journal_start(limit, max_bytes),))

    @_scoped
    def requests(self) -> list[RecordedRequest]:
        start = self._journal_start(*self._journal_bounds())
        rows = self._db.execute("SELECT data, body FROM journal WHERE pos >= ? ORDER BY pos", (start,))
        return [codec.decode_request(data, bytes(body)) for data, body in rows]

    @_scoped
    def clear_requests(self) -> None:
        self._db.execute("DELETE FROM journal")
        self._metas[_JOURNAL_NEWEST] = (0, 0)
        self._write_counter(JOURNAL_SEQ, 0)
