"""`RedisStore`: one emulator state in a Redis database, shared by every process that opens it.

Several server processes (on one host or many) open the same `redis://HOST:PORT/DB` and serve one
account space: any request can go to any of them. Each transaction (one request) runs while its
process holds the lease (`_redis_lease.py`), so requests of different processes never interleave:
a `times: 1` rule fires once, ids are drawn from one generator, counters, quota windows and the
clock are one. Within the lease a process reads through its own cache, which the change log keeps
exact, and buffers its writes; the commit applies them in one Lua script, after checking the
lease, before the response leaves. A request that changes nothing costs no Redis round trip. The
server face does not wait idle for a commit (`unconfirmed`): it handles its next requests while
the commit travels, and commits sent meanwhile go together (see `_redis_commits.Committer`).

Layout, under the key prefix (`together-eval-emulator:` by default): `schema` (the layout's
version), `lease:*` and `sync:*` (the lease and the change log), and `data:*`, the state itself:
one key per record (pickled by `_redis_codec`, which loads nothing but the emulator's records), a list per
listing (a tenant's jobs, its files, the tenants, the uploads) in insertion order, one key per
file's bytes and one hash per multipart upload's parts, counters as integers, the journal as a
list trimmed to its bounds (with a list of the entries' sizes and their running total), and each
distinct dataset once.
"""

from __future__ import annotations

import random
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import redis

from .._version import __version__
from ..engine import _ids as ids
from ..engine._capacity import CapacityLog
from ..engine._clock import DEFAULT_EPOCH_NS, ClockState
from ..engine._datasets import Dataset
from ..engine._faults import FaultRule
from ..engine._recordings import Recording
from ..engine._scenarios import ScenarioBook
from ..engine._status_index import StatusIndex, Timeline, decode_timeline, encode_timeline, pick, timeline
from ..engine._store import JOURNAL_SEQ, Job, Pending, PendingUpload, RecordedRequest, Store, StoredFile, Tenant
from . import _redis_codec as codec
from ._codec import decode_request, encode_request
from ._errors import IncompatibleStore, StoreError
from ._redis_lease import Lease, LeaseLost

__all__ = ["IncompatibleStore", "LeaseLost", "RedisStore"]

T = TypeVar("T")

# The layout of the keys and records; a store of another one is refused (2: `Job.extensions`; 3: the
# jobs' timelines and positions, for the status index; 4: the journal entries' sizes and their running
# total; 5: pinned phases, a job's place in line and recording, the capacity log and the recordings; 6: a
# dataset is its file's bytes and facts, not its rows; 7: journal entries as JSON and body, as SQLite keeps them)
SCHEMA = "7"
DEFAULT_PREFIX = "together-eval-emulator:"
CACHE_LIMIT = 50_000  # records kept decoded; the cache is emptied when full
CONTENT_CACHE_BYTES = 32 * 1024 * 1024  # file bytes kept in memory (recently read or written)
DATASET_CACHE_LIMIT = 1024

_ONE_KEYS = (
    "clock",
    "capacity",
    "seed",
    "faults",
    "scenarios",
    "journal",
    "journal-sizes",
    "journal-bytes",
    "recordings",
)
_ABSENT: Any = object()  # a key known to hold nothing
_FRESH_CLOCK = ClockState("manual", 1.0, DEFAULT_EPOCH_NS, 0)  # a new store's clock
_EMPTY_BOOK = ScenarioBook()
_NO_CAPACITY = CapacityLog()
_PREFIX = re.compile(r"[A-Za-z0-9_.:-]+")

Word = bytes | str | int


def _without_password(url: str) -> str:
    """`url` with its password (if any) replaced by `***`."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _timeline(text: bytes | str) -> Timeline:
    return decode_timeline(_b(text).decode())


def _journal_value(entry: RecordedRequest) -> bytes:
    """A journal entry as stored: its fields as one line of JSON, then its body (written once per
    request: JSON costs a fraction of a pickle)."""
    fields, body = encode_request(entry)
    return fields.encode() + b"\n" + body


def _journal_entry(value: bytes) -> RecordedRequest:
    fields, _, body = value.partition(b"\n")  # compact JSON has no raw newline
    return decode_request(fields.decode(), body)


def _b(value: bytes | str) -> bytes:
    """A reply as bytes (the client is made without decoding: replies are bytes already)."""
    return value if isinstance(value, bytes) else value.encode()


class _Transaction:
    """What one transaction has written and not yet committed."""

    def __init__(self) -> None:
        self.written: dict[str, Any] = {}  # key -> value (or _ABSENT), as read back within the transaction
        self.changed: set[str] = set()  # keys other processes must drop from their caches
        self.writes: list[Sequence[Word] | Callable[[], Sequence[Word]]] = []  # in order; callables run at commit
        self.cleared = False  # clear() ran: keys not written since hold nothing
        self.journal: list[RecordedRequest] = []  # entries appended (the list itself holds older ones)
        self.journal_limit: int | None = None
        self.journal_cleared = False
        self.parts: dict[str, dict[int, bytes]] = {}  # upload token -> parts received
        self.parts_dropped: set[str] = set()  # tokens whose stored parts are gone
        # Timelines written: tenant -> workflow id -> (its position when known here, timeline)
        self.timelines: dict[str, dict[str, tuple[int | None, Timeline]]] = {}


class _Scope:
    """One transaction of a `RedisStore` (`transaction`, `_scope`): the lease held and this process's
    mutex taken, the writes committed at the end (or nothing, after an exception), and the lease
    handed over if another process asked for it. Entered again in the same thread (nested), it is
    the outer transaction, which commits. Every request enters it, and every store call outside one:
    a plain class, as a generator-made context manager costs several times more to enter and leave."""

    __slots__ = ("_store", "_nested")

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._nested = False

    def __enter__(self) -> _Transaction:
        store = self._store
        lease = store._lease
        lease.mutex.acquire()
        try:
            if store._tx is not None:  # this thread's own (the mutex is held for a whole transaction)
                self._nested = True
                return store._tx
            try:
                changes = lease.hold()
            except redis.RedisError:
                lease.forget()
                raise
            if changes is not None:
                store._forget(changes.keys, everything=changes.everything)
            tx = store._tx = _Transaction()
            store._tx_thread = threading.get_ident()
            return tx
        except BaseException:
            lease.mutex.release()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        store = self._store
        lease = store._lease
        try:
            if self._nested:  # the outer transaction commits
                return
            tx = store._tx
            assert tx is not None
            try:
                if kind is None:
                    store._commit(tx)
                else:  # nothing is written; the cache may hold what the transaction changed in place
                    store._drop_cache()
            except BaseException:  # the commit failed: the same
                store._drop_cache()
                raise
            finally:
                store._tx = store._tx_thread = None
                try:
                    lease.end()
                except redis.RedisError:
                    lease.forget()
        finally:
            lease.mutex.release()


class _Unconfirmed:
    """`RedisStore.unconfirmed` (entered once per request: a plain class, as `_Scope` is)."""

    __slots__ = ("_store", "_thread")

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._thread = 0

    def __enter__(self) -> list[Pending]:
        sink: list[Pending] = []
        self._thread = threading.get_ident()
        self._store._unconfirmed[self._thread] = sink
        return sink

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        del self._store._unconfirmed[self._thread]


class _Within:
    """`RedisStore._scope` within the calling thread's own transaction: it holds the mutex already, so
    there is nothing to take or release."""

    __slots__ = ("_store",)

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    def __enter__(self) -> _Transaction:
        tx = self._store._tx
        assert tx is not None
        return tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        return None


class RedisStore(Store):
    """A `Store` in Redis, shared by every process that opens the same URL (and key prefix).

    `url` is `redis://[:password@]HOST:PORT/DB` (or `rediss://` for TLS, `unix://` for a socket).
    The first process to open an empty database writes its schema version; a database written in
    another layout is refused (`IncompatibleStore`). `reset=True` forgets whatever the database
    holds under the prefix first, whatever wrote it (`serve --reset-store`)."""

    # Redis takes values of up to `proto-max-bulk-len` bytes, 512 MiB unless configured otherwise.
    max_content_bytes = 512 * 1024 * 1024

    def __init__(
        self, url: str, *, reset: bool = False, prefix: str = DEFAULT_PREFIX, lease_ms: int | None = None
    ) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"key prefix {prefix!r}: use letters, digits and _ . : - only")
        self.url = _without_password(url)  # for messages: the password stays out of logs
        try:
            self._redis = redis.Redis.from_url(url)
        except (ValueError, TypeError) as exc:  # a port out of range, an option of the wrong kind, ...
            raise StoreError(f"cannot use the Redis URL {self.url}: {exc}") from None
        self._p = prefix
        self._data = f"{prefix}data:"
        self._one_keys = {name: self._key(name) for name in _ONE_KEYS}  # the keys read by most requests
        try:
            if reset:
                for key in self._redis.scan_iter(match=f"{prefix}*", count=1000):
                    self._redis.delete(key)
            self._check_schema()
        except redis.RedisError as exc:
            raise StoreError(f"cannot use the Redis store at {self.url}: {exc}") from None
        self._lease = Lease(self._redis, prefix, **({"lease_ms": lease_ms} if lease_ms else {}))
        self._tx: _Transaction | None = None
        self._tx_thread: int | None = None  # the thread whose transaction `_tx` is
        self._within = _Within(self)
        self._unconfirmed: dict[int, list[Pending]] = {}  # thread -> its unconfirmed commits
        self._cache: dict[str, Any] = {}
        self._contents: dict[str, bytes] = {}
        self._content_bytes = 0
        self._datasets: dict[str, Dataset] = {}
        self._stored_datasets: set[str] = set()  # digests known to be in Redis
        self._drop_status()

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self._p!r})"

    def _check_schema(self) -> None:
        key = f"{self._p}schema"
        written = f"{SCHEMA} (together-eval-emulator {__version__})"
        self._redis.set(key, written, nx=True)
        stored = self._redis.get(key)
        found = None if stored is None else _b(stored).decode()
        if found is not None and found.split(" ", 1)[0] != SCHEMA:
            raise IncompatibleStore(
                f"the Redis store at {self.url} (key prefix {self._p!r}) holds emulator state in layout "
                f"{found!r}; this emulator ({__version__}) reads layout {SCHEMA!r}. Point it at another "
                "database (redis://HOST:PORT/<n>), or start over with --reset-store (or redis-cli -n <n> FLUSHDB)."
            )

    def may_wait(self) -> bool:
        """False while this process holds the lease and no other process asked for it."""
        return not self._lease.uncontested()

    def answer_on(self, loop: Any) -> None:
        """The replies to this process's commits are read on `loop` as they come."""
        self._lease.serve_on(loop)

    def close(self) -> None:
        """Give the lease back and close the connections (the state stays in Redis)."""
        self._lease.close()
        self._redis.close()

    # ------------------------------------------------------------ transactions

    def transaction(self) -> AbstractContextManager[object]:
        return _Scope(self)

    def unconfirmed(self) -> AbstractContextManager[list[Pending]]:
        """Within it, the calling thread's transactions commit without waiting for Redis to answer:
        their commits are sent in order, and their futures added to the list given (the caller
        waits for them with `confirm` before answering). Meanwhile this process goes on with its
        next requests, so the round trips of several requests overlap."""
        return _Unconfirmed(self)

    def confirm(self, pending: Pending) -> None:
        """Wait until a commit made within `unconfirmed()` is applied; raises LeaseLost (or a Redis
        error) when it was not."""
        self._lease.confirmed(pending)

    def _scope(self) -> _Scope | _Within:
        """The calling thread's transaction, or a new one around a single call."""
        if self._tx is not None and self._tx_thread == threading.get_ident():
            return self._within  # (another thread's transaction never has this thread's ident)
        return _Scope(self)

    def _commit(self, tx: _Transaction) -> None:
        if not tx.writes:
            return
        writes = [write() if callable(write) else write for write in tx.writes]
        sink = self._unconfirmed.get(threading.get_ident())
        try:
            pending = self._lease.commit(
                [key.removeprefix(self._p) for key in tx.changed], writes, confirm=sink is None
            )
        except redis.RedisError:
            self._lease.forget()
            raise
        if pending is not None and sink is not None:
            sink.append(pending)
        if tx.cleared:
            self._stored_datasets.clear()
        for key, value in tx.written.items():
            if key.startswith(self._data + "content\x1f"):
                self._remember_content(key, value)
            else:
                self._remember(key, value)

    # ------------------------------------------------------------ the cache

    def _forget(self, keys: Sequence[str], *, everything: bool) -> None:
        """Drop what other processes changed since this one last held the lease."""
        if everything:
            self._drop_cache()
            return
        timelines = self._key("timeline", "")
        for key in keys:
            full = self._p + key
            if full.startswith(timelines):  # a job's timeline changed: its tenant, its workflow id
                tenant, _, workflow_id = full.removeprefix(timelines).partition("\x1f")
                if tenant in self._status:
                    self._status_pending.setdefault(tenant, set()).add(workflow_id)
                continue
            self._cache.pop(full, None)
            content = self._contents.pop(full, None)
            if content is not None:
                self._content_bytes -= len(content)

    def _drop_cache(self) -> None:
        self._cache.clear()
        self._contents.clear()
        self._content_bytes = 0
        self._stored_datasets.clear()
        self._drop_status()

    def _drop_status(self) -> None:
        """Forget the status indexes of this process (rebuilt from Redis when next asked)."""
        self._status: dict[str, StatusIndex] = {}  # tenant -> its jobs by status, by position in its listing
        self._status_ids: dict[str, dict[int, str]] = {}  # tenant -> position -> workflow id
        self._status_positions: dict[str, int] = {}  # workflow id -> position, for the indexed tenants
        self._status_pending: dict[str, set[str]] = {}  # tenant -> workflow ids other processes changed

    def _remember(self, key: str, value: Any) -> None:
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = value

    def _remember_content(self, key: str, value: Any) -> None:
        old = self._contents.pop(key, None)
        if old is not None:
            self._content_bytes -= len(old)
        if value is _ABSENT or len(value) > CONTENT_CACHE_BYTES // 4:
            return
        if self._content_bytes + len(value) > CONTENT_CACHE_BYTES:
            self._contents.clear()
            self._content_bytes = 0
        self._contents[key] = value
        self._content_bytes += len(value)

    def _read(self, tx: _Transaction, key: str, load: Callable[[bytes], Any]) -> Any:
        """A key's value: as this transaction wrote it, else cached, else loaded from its raw value
        (`_ABSENT` when the key holds nothing)."""
        if key in tx.written:
            return tx.written[key]
        if tx.cleared:
            return _ABSENT
        if key in self._cache:
            return self._cache[key]
        self._lease.drain()
        raw = self._redis.get(key)
        value = _ABSENT if raw is None else load(_b(raw))
        self._remember(key, value)
        return value

    def _read_many(self, tx: _Transaction, keys: Sequence[str]) -> list[Any]:
        """Several pickled records (fetched in one round trip when not cached)."""
        missing = [k for k in keys if k not in tx.written and k not in self._cache and not tx.cleared]
        if missing:
            self._lease.drain()
            for key, raw in zip(missing, self._redis.mget(missing), strict=True):
                self._remember(key, _ABSENT if raw is None else self._load(_b(raw)))
        return [self._read(tx, key, self._load) for key in keys]

    def _write(
        self, tx: _Transaction, key: str, value: Any, *writes: Sequence[Word] | Callable[[], Sequence[Word]]
    ) -> None:
        tx.written[key] = value
        tx.changed.add(key)
        tx.writes.extend(writes)

    # ------------------------------------------------------------ records as bytes

    def _dump(self, tx: _Transaction, value: Any) -> bytes:
        """A record as bytes; its datasets are stored apart, once each."""
        found: dict[str, Dataset] = {}
        data = codec.dumps(value, found)
        for digest, dataset in found.items():
            self._datasets.setdefault(digest, dataset)
            if digest not in self._stored_datasets or tx.cleared:
                tx.writes.append(("SET", self._key("dataset", digest), codec.dumps(dataset), "NX"))
                self._stored_datasets.add(digest)
        return data

    def _load(self, raw: bytes) -> Any:
        return codec.loads(raw, self._dataset)

    def _dataset(self, digest: str) -> Dataset:
        found = self._datasets.get(digest)
        if found is None:
            self._lease.drain()
            raw = self._redis.get(self._key("dataset", digest))
            if raw is None:
                raise KeyError(f"dataset {digest} is missing from the Redis store at {self.url}")
            found = codec.loads(_b(raw))
            if len(self._datasets) >= DATASET_CACHE_LIMIT:
                self._datasets.clear()
            self._datasets[digest] = found
            self._stored_datasets.add(digest)
        return found

    def _key(self, *parts: str) -> str:
        return self._data + "\x1f".join(parts)

    def _record(self, tx: _Transaction, key: str) -> Any:
        value = self._read(tx, key, self._load)
        return None if value is _ABSENT else value

    def _put_record(self, tx: _Transaction, key: str, value: Any) -> None:
        self._write(tx, key, value, ("SET", key, self._dump(tx, value)))

    def _listing(self, tx: _Transaction, key: str) -> tuple[str, ...]:
        """The members of a listing, in insertion order."""
        if key in tx.written:
            return tx.written[key]  # type: ignore[no-any-return]
        if tx.cleared:
            return ()
        if key not in self._cache:
            self._lease.drain()
            self._remember(key, tuple(_b(m).decode() for m in self._redis.lrange(key, 0, -1)))
        return self._cache[key]  # type: ignore[no-any-return]

    def _add_member(self, tx: _Transaction, key: str, member: str) -> None:
        self._write(tx, key, (*self._listing(tx, key), member), ("RPUSH", key, member))

    def _remove_member(self, tx: _Transaction, key: str, member: str) -> None:
        members = self._listing(tx, key)
        if member in members:
            self._write(tx, key, tuple(m for m in members if m != member), ("LREM", key, 0, member))

    def clear(self) -> None:
        with self._scope() as tx:
            self._drop_cache()
            tx.written.clear()
            tx.writes = [("CLEAR", self._data + "*")]
            tx.changed = {self._p + "*"}
            tx.cleared = True
            tx.journal, tx.journal_cleared = [], True
            tx.parts, tx.parts_dropped = {}, set()

    # ------------------------------------------------------------ the seed

    def upload_token_key(self) -> bytes:
        # Outside `data:`, so `clear` keeps it; the first process to ask draws it, the others read it.
        key = f"{self._p}upload-token-key"
        self._redis.set(key, secrets.token_bytes(32), nx=True)
        stored = self._redis.get(key)
        return self.upload_token_key() if stored is None else _b(stored)  # None: deleted meanwhile

    def seed(self) -> int | None:
        with self._scope() as tx:
            seed = self._read(tx, self._one_keys["seed"], int)
            return None if seed is _ABSENT else int(seed)

    def set_seed(self, seed: int) -> None:
        with self._scope() as tx:
            key = self._one_keys["seed"]
            self._write(tx, key, seed, ("SET", key, str(seed)))

    # ------------------------------------------------------------ tenants

    def get_tenant(self, key: str) -> Tenant | None:
        with self._scope() as tx:
            return self._record(tx, self._key("tenant", key))  # type: ignore[no-any-return]

    def put_tenant(self, tenant: Tenant) -> None:
        with self._scope() as tx:
            key = self._key("tenant", tenant.key)
            if self._record(tx, key) is None:
                self._add_member(tx, self._key("tenants"), tenant.key)
            self._put_record(tx, key, tenant)

    def tenants(self) -> list[Tenant]:
        with self._scope() as tx:
            keys = [self._key("tenant", member) for member in self._listing(tx, self._key("tenants"))]
            return [t for t in self._read_many(tx, keys) if t is not _ABSENT]

    def known_keys(self) -> frozenset[str] | None:
        with self._scope() as tx:
            return self._record(tx, self._key("known-keys"))  # type: ignore[no-any-return]

    def set_known_keys(self, keys: frozenset[str] | None) -> None:
        with self._scope() as tx:
            key = self._key("known-keys")
            if keys is None:
                self._write(tx, key, _ABSENT, ("DEL", key))
            else:
                self._put_record(tx, key, frozenset(keys))

    # ------------------------------------------------------------ jobs

    def get_job(self, tenant: str, workflow_id: str) -> Job | None:
        job = self.find_job(workflow_id)
        return job if job is not None and job.tenant == tenant else None

    def find_job(self, workflow_id: str) -> Job | None:
        with self._scope() as tx:
            return self._record(tx, self._key("job", workflow_id))  # type: ignore[no-any-return]

    def put_job(self, job: Job) -> None:
        with self._scope() as tx:
            key = self._key("job", job.workflow_id)
            previous: Job | None = self._record(tx, key)
            if previous is None:
                self._add_member(tx, self._key("jobs", job.tenant), job.workflow_id)
            old_file = previous.result_file_id if previous is not None else None
            if old_file != job.result_file_id or previous is None:
                if previous is not None and old_file:
                    index = self._key("result-file", previous.tenant, old_file)
                    self._write(tx, index, _ABSENT, ("DEL", index))
                if job.result_file_id:
                    index = self._key("result-file", job.tenant, job.result_file_id)
                    self._write(tx, index, job.workflow_id, ("SET", index, job.workflow_id))
            self._put_record(tx, key, job)
            if previous is None or (previous.phases, previous.created_ns) != (job.phases, job.created_ns):
                self._put_timeline(tx, job, new=previous is None)

    def _put_timeline(self, tx: _Transaction, job: Job, *, new: bool) -> None:
        """Keep a job's timeline (and, for a new job, its position in its tenant's listing) where every
        process's status index finds it, and tell the other processes it changed."""
        tenant, workflow_id = job.tenant, job.workflow_id
        line = timeline(job.created_ns, job.phases)
        text = encode_timeline(line)
        tx.writes.append(("HSET", self._key("timelines", tenant), workflow_id, text))
        tx.changed.add(self._key("timeline", tenant, workflow_id))
        position = self._status_positions.get(workflow_id)
        if new:
            position = len(self._listing(tx, self._key("jobs", tenant))) - 1
            tx.writes.append(("HSET", self._key("positions", tenant), workflow_id, position))
        elif position is None:
            position = tx.timelines.get(tenant, {}).get(workflow_id, (None, ()))[0]
        tx.timelines.setdefault(tenant, {})[workflow_id] = (position, line)
        index = self._status.get(tenant)
        if index is not None and position is not None:
            self._index_job(tenant, index, workflow_id, position, line)

    def _index_job(self, tenant: str, index: StatusIndex, workflow_id: str, position: int, line: Timeline) -> None:
        index.put(position, line)
        self._status_ids[tenant][position] = workflow_id
        self._status_positions[workflow_id] = position

    def find_jobs(self, tenant: str, status: str, at_ns: int, limit: int, check: Callable[[Job], bool]) -> list[Job]:
        with self._scope() as tx:
            index = self._status_index(tx, tenant, at_ns)
            ids = self._status_ids[tenant]
            return pick(index.newest(status, at_ns), lambda position: self.find_job(ids[position]), check, limit)

    def _status_index(self, tx: _Transaction, tenant: str, at_ns: int) -> StatusIndex:
        """The tenant's status index: built from Redis on first use, then following the timelines
        other processes changed (named in the change log) and this process's own."""
        index = self._status.get(tenant)
        if index is None:
            self._status_pending.pop(tenant, None)
            loaded: list[tuple[int, str, Timeline]] = []
            if not tx.cleared:
                self._lease.drain()
                stored = self._redis.hgetall(self._key("positions", tenant))
                texts = self._redis.hgetall(self._key("timelines", tenant))
                for member, place in stored.items():
                    text = texts.get(member)
                    if text is not None:
                        loaded.append((int(place), _b(member).decode(), _timeline(text)))
            self._status_ids[tenant] = {position: workflow_id for position, workflow_id, _ in loaded}
            self._status_positions.update((workflow_id, position) for position, workflow_id, _ in loaded)
            index = self._status[tenant] = StatusIndex.built(at_ns, ((p, line) for p, _, line in loaded))
        else:
            pending = sorted(self._status_pending.pop(tenant, ()))
            if pending and not tx.cleared:
                self._lease.drain()
                unknown = [w for w in pending if w not in self._status_positions]
                found = self._redis.hmget(self._key("positions", tenant), unknown) if unknown else []
                places: dict[str, Any] = dict(zip(unknown, found, strict=True))
                texts_of = self._redis.hmget(self._key("timelines", tenant), pending)
                for workflow_id, text in zip(pending, texts_of, strict=True):
                    spot = self._status_positions.get(workflow_id, places.get(workflow_id))
                    if text is not None and spot is not None:
                        self._index_job(tenant, index, workflow_id, int(spot), _timeline(text))
        for workflow_id, (known, line) in tx.timelines.get(tenant, {}).items():  # not committed yet
            position = self._status_positions.get(workflow_id) if known is None else known
            if position is not None:
                self._index_job(tenant, index, workflow_id, position, line)
        return index

    def jobs(self, tenant: str) -> list[Job]:
        with self._scope() as tx:
            keys = [self._key("job", member) for member in self._listing(tx, self._key("jobs", tenant))]
            return [job for job in self._read_many(tx, keys) if job is not _ABSENT]

    def job_for_result_file(self, tenant: str, file_id: str) -> Job | None:
        with self._scope() as tx:
            workflow_id = self._read(tx, self._key("result-file", tenant, file_id), lambda raw: raw.decode())
            if workflow_id is _ABSENT:
                return None
            job = self.find_job(workflow_id)
            return job if job is not None and job.tenant == tenant else None

    # ------------------------------------------------------------ files and their bytes

    def get_file(self, tenant: str, file_id: str) -> StoredFile | None:
        with self._scope() as tx:
            return self._record(tx, self._key("file", tenant, file_id))  # type: ignore[no-any-return]

    def put_file(self, file: StoredFile) -> None:
        with self._scope() as tx:
            key = self._key("file", file.tenant, file.id)
            if self._record(tx, key) is None:
                self._add_member(tx, self._key("files", file.tenant), file.id)
            self._put_record(tx, key, file)

    def delete_file(self, tenant: str, file_id: str) -> None:
        with self._scope() as tx:
            key, content = self._key("file", tenant, file_id), self._key("content", tenant, file_id)
            if self._record(tx, key) is None:
                return
            self._remove_member(tx, self._key("files", tenant), file_id)
            self._write(tx, key, _ABSENT, ("DEL", key))
            self._write(tx, content, _ABSENT, ("DEL", content))

    def files(self, tenant: str) -> list[StoredFile]:
        with self._scope() as tx:
            keys = [self._key("file", tenant, member) for member in self._listing(tx, self._key("files", tenant))]
            return [file for file in self._read_many(tx, keys) if file is not _ABSENT]

    def get_content(self, tenant: str, file_id: str) -> bytes | None:
        with self._scope() as tx:
            key = self._key("content", tenant, file_id)
            if key in tx.written:
                value = tx.written[key]
            elif tx.cleared:
                value = _ABSENT
            elif key in self._contents:
                value = self._contents[key]
            else:
                self._lease.drain()
                raw = self._redis.get(key)
                value = _ABSENT if raw is None else _b(raw)
                self._remember_content(key, value)
            return None if value is _ABSENT else value

    def put_content(self, tenant: str, file_id: str, content: bytes) -> None:
        with self._scope() as tx:
            key = self._key("content", tenant, file_id)
            self._write(tx, key, content, ("SET", key, content))

    # ------------------------------------------------------------ pending uploads

    def get_upload(self, token: str) -> PendingUpload | None:
        with self._scope() as tx:
            return self._record(tx, self._key("upload", token))  # type: ignore[no-any-return]

    def put_upload(self, token: str, upload: PendingUpload) -> None:
        with self._scope() as tx:
            key = self._key("upload", token)
            if self._record(tx, key) is None:
                self._add_member(tx, self._key("uploads"), token)
            self._put_record(tx, key, upload)

    def delete_upload(self, token: str) -> None:
        with self._scope() as tx:
            key, parts = self._key("upload", token), self._key("parts", token)
            self._remove_member(tx, self._key("uploads"), token)
            self._write(tx, key, _ABSENT, ("DEL", key), ("DEL", parts))
            tx.parts.pop(token, None)
            tx.parts_dropped.add(token)

    def uploads(self) -> list[tuple[str, PendingUpload]]:
        with self._scope() as tx:
            tokens = self._listing(tx, self._key("uploads"))
            found = self._read_many(tx, [self._key("upload", token) for token in tokens])
            return [(token, upload) for token, upload in zip(tokens, found, strict=True) if upload is not _ABSENT]

    def put_upload_part(self, token: str, number: int, content: bytes) -> None:
        with self._scope() as tx:
            key = self._key("parts", token)
            tx.parts.setdefault(token, {})[number] = content
            tx.writes.append(("HSET", key, number, content))

    def upload_parts(self, token: str) -> dict[int, bytes]:
        """Parts are never cached: they are read once, when the upload completes."""
        with self._scope() as tx:
            stored: dict[int, bytes] = {}
            if not tx.cleared and token not in tx.parts_dropped:
                self._lease.drain()
                stored = {int(n): _b(part) for n, part in self._redis.hgetall(self._key("parts", token)).items()}
            return {**stored, **tx.parts.get(token, {})}

    # ------------------------------------------------------------ the id generator

    def _generator(self, tx: _Transaction) -> random.Random:
        rng = self._read(tx, self._key("ids"), lambda raw: ids.restore_state(codec.loads(raw)))
        return ids.generator(0) if rng is _ABSENT else rng

    def _put_generator(self, tx: _Transaction, rng: random.Random) -> None:
        key = self._key("ids")
        if tx.written.get(key) is not rng:  # the state is written once, at commit, after every draw
            self._write(tx, key, rng, lambda: ("SET", key, codec.dumps(ids.export_state(rng))))

    def draw(self, make: Callable[[random.Random], T]) -> T:
        with self._scope() as tx:
            rng = self._generator(tx)
            made = make(rng)
            self._put_generator(tx, rng)
            return made

    def id_state(self) -> list[Any]:
        with self._scope() as tx:
            return ids.export_state(self._generator(tx))

    def set_id_state(self, state: list[Any]) -> None:
        with self._scope() as tx:
            self._put_generator(tx, ids.restore_state(state))

    # ------------------------------------------------------------ the clock

    def clock_state(self) -> ClockState:
        with self._scope() as tx:
            state = self._record(tx, self._one_keys["clock"])
            return _FRESH_CLOCK if state is None else state

    def set_clock_state(self, state: ClockState) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._one_keys["clock"], state)

    # ------------------------------------------------------------ counters

    def _counter(self, tx: _Transaction, key: str) -> int:
        value = self._read(tx, key, int)
        return 0 if value is _ABSENT else int(value)

    def increment(self, name: str, by: int = 1) -> int:
        with self._scope() as tx:
            key = self._key("counter", name)
            value = self._counter(tx, key) + by
            self._write(tx, key, value, ("INCRBY", key, by))
            return value

    def counter(self, name: str) -> int:
        with self._scope() as tx:
            return self._counter(tx, self._key("counter", name))

    def set_counter(self, name: str, value: int) -> None:
        with self._scope() as tx:
            key = self._key("counter", name)
            self._write(tx, key, value, ("SET", key, value))

    def _windows(self, tx: _Transaction, rule_id: str) -> dict[str, list[int]]:
        windows = self._record(tx, self._key("quota", rule_id))
        return {} if windows is None else {tenant: list(times) for tenant, times in windows.items()}

    def admit(self, rule_id: str, tenant: str, now_ns: int, window_ns: int, limit: int) -> int | None:
        with self._scope() as tx:
            windows = self._windows(tx, rule_id)
            admitted = [t for t in windows.get(tenant, []) if t > now_ns - window_ns]
            leaving = None if len(admitted) < limit else admitted[-limit]
            windows[tenant] = admitted + [now_ns] if leaving is None else admitted
            self._put_record(tx, self._key("quota", rule_id), windows)
            return leaving

    def quota_windows(self, rule_id: str) -> dict[str, list[int]]:
        with self._scope() as tx:
            return self._windows(tx, rule_id)

    def set_quota_windows(self, rule_id: str, windows: dict[str, list[int]]) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._key("quota", rule_id), {t: list(times) for t, times in windows.items()})

    # ------------------------------------------------------------ scenario and fault books

    def scenario_book(self) -> ScenarioBook:
        with self._scope() as tx:
            book = self._record(tx, self._one_keys["scenarios"])
            return _EMPTY_BOOK if book is None else book

    def put_scenario_book(self, book: ScenarioBook) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._one_keys["scenarios"], book)

    def fault_rules(self) -> Sequence[FaultRule]:
        with self._scope() as tx:
            rules = self._record(tx, self._one_keys["faults"])
            return () if rules is None else rules

    def put_fault_rules(self, rules: Sequence[FaultRule]) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._one_keys["faults"], tuple(rules))

    # ------------------------------------------------------------ capacity

    def capacity_log(self) -> CapacityLog:
        with self._scope() as tx:
            log = self._record(tx, self._one_keys["capacity"])
            return _NO_CAPACITY if log is None else log

    def put_capacity_log(self, log: CapacityLog) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._one_keys["capacity"], log)

    # ------------------------------------------------------------ recordings

    def recordings(self) -> Sequence[Recording]:
        with self._scope() as tx:
            recordings = self._record(tx, self._one_keys["recordings"])
            return () if recordings is None else recordings

    def put_recordings(self, recordings: Sequence[Recording]) -> None:
        with self._scope() as tx:
            self._put_record(tx, self._one_keys["recordings"], tuple(recordings))

    # ------------------------------------------------------------ the request journal

    def append_request(self, entry: RecordedRequest, limit: int | None, max_bytes: int | None = None) -> None:
        with self._scope() as tx:
            tx.journal.append(entry)
            tx.journal_limit = limit
            # One JOURNAL write appends the entry and its size and drops the oldest entries until the rest
            # fit both bounds (the newest stays), all in Redis: a running byte total, as the SQLite
            # store keeps, so an append costs what it drops, not a read of the whole journal.
            keys = self._journal_keys()
            tx.writes.append(("JOURNAL", *keys, _journal_value(entry), entry.journal_bytes, limit or 0, max_bytes or 0))

    def _journal_keys(self) -> tuple[str, str, str]:
        """The journal's entries, their sizes (a list in step with it) and their running byte total."""
        return self._one_keys["journal"], self._one_keys["journal-sizes"], self._one_keys["journal-bytes"]

    def requests(self) -> list[RecordedRequest]:
        """The journal as committed (read without the lease, so another thread may call it while this
        process serves), plus what the calling thread's transaction appended."""
        tx = self._tx if self._tx_thread == threading.get_ident() else None
        stored: list[RecordedRequest] = []
        if tx is None or not (tx.cleared or tx.journal_cleared):
            if tx is not None:
                self._lease.drain()
            stored = [_journal_entry(_b(raw)) for raw in self._redis.lrange(self._one_keys["journal"], 0, -1)]
        if tx is None or not tx.journal:
            return stored
        found = stored + tx.journal
        return found[-tx.journal_limit :] if tx.journal_limit else found

    def clear_requests(self) -> None:
        with self._scope() as tx:
            tx.journal, tx.journal_cleared = [], True
            tx.writes.append(("DEL", *self._journal_keys()))
            self.set_counter(JOURNAL_SEQ, 0)
