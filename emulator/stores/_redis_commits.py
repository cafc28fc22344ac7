"""`Committer`: a process's commits to the shared Redis state, pipelined on a connection of their own.

It has no thread of its own. A commit is written to the socket by the thread that makes it, at once
when no other commit is in flight; else it waits, and goes with the others that waited (merged into
one script run per lease, `merged`) as soon as the replies of those in flight are in. Replies are
read by whoever needs them: a thread waiting for a commit (`wait`), or the event loop a server face
names (`serve_on`), which reads them as they arrive. So a server answers its requests without handing
each one to another thread and back (which cost more than the commit itself), and Redis still sees
few, large script runs under load.

Commands are packed and replies parsed by hiredis (installed with the `redis` extra). A reply that is an error, a broken
connection or a script Redis no longer knows fails its commit and every commit after it (they were
made on what it wrote); the next transaction takes the lease anew (`Lease.hold`), which reconnects.
"""

from __future__ import annotations

import logging
import select
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import redis

from ..engine._store import Pending

if not hasattr(hiredis, "pack_command"):  # hiredis before 2.2.1
    raise ModuleNotFoundError(f"hiredis {hiredis.__version__} is too old: 2.2.1 or later", name="hiredis")

READ_BYTES = 1 << 16
WAIT_S = 0.05  # a waiting thread looks again this often (another thread may have read its reply)
SEND_TIMEOUT_S = 30.0  # Redis takes no bytes for this long: the connection is given up

_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

Commit = tuple[list[Any], list[Any]]  # keys, args of one EVALSHA


def merged(commits: list[Commit]) -> list[tuple[list[Any], list[Any], int]]:
    """Consecutive commits under the same lease token as one commit each run (with how many it
    holds): their writes in order, their changed keys together. The script then checks the lease,
    counts a generation and logs the changes once for the run instead of once per commit, and
    applies every write of it or none. A commit that may hand the lease over ends its run (nothing
    of this process follows it before it is answered)."""
    runs: list[tuple[list[Any], list[Any], int]] = []
    for keys, args in commits:
        if runs:
            last_keys, last_args, count = runs[-1]
            if last_keys == keys and last_args[0] == args[0] and last_args[5] == 0:
                changed = "\n".join(sorted({*_lines(last_args[3]), *_lines(args[3])}))
                head = [*last_args[:3], changed, last_args[4], args[5]]
                runs[-1] = (keys, [*head, *last_args[6:], *args[6:]], count + 1)
                continue
        runs.append((keys, args, 1))
    return runs


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def _word(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _error(reply: Exception) -> redis.RedisError:
    """A Redis error reply as the exception the redis client raises for it."""
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return redis.exceptions.NoScriptError(message)
    return redis.ResponseError(message)


class Reply:
    """A commit's answer (`Pending`): what a `concurrent.futures.Future` does here, at a third of its
    cost (it is made for every request): no condition variable, since a waiting thread reads the
    replies itself (`Committer.wait`)."""

    __slots__ = ("_done", "_result", "_error", "_callbacks", "_lock")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Reply], object]] = []
        self._lock = threading.Lock()

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        if not self._done:
            raise RuntimeError("the commit is not answered yet")
        if self._error is not None:
            raise self._error
        return self._result

    def _finish(self, result: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._done:
                raise RuntimeError("a commit answered twice")
            self._result, self._error, self._done = result, error, True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _call(callback, self)

    def set_result(self, result: Any) -> None:
        self._finish(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._finish(None, error)

    def add_done_callback(self, callback: Callable[[Reply], object]) -> None:
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return
        _call(callback, self)


def _call(callback: Callable[[Reply], object], reply: Reply) -> None:
    """A callback of a reply; what it raises is logged and goes no further (as with a `Future`), so
    the replies after this one are still read."""
    try:
        callback(reply)
    except Exception:
        logging.getLogger(__name__).exception("a callback of a Redis commit's reply failed")


class Committer:
    """Script runs (`EVALSHA` of one script) sent in the order given, each answered through a future
    (see the module's docstring). `failed` is set by the first commit that failed: the later ones
    fail unsent until `resume`."""

    def __init__(self, client: redis.Redis, script: str) -> None:
        self._client = client
        self._script = script
        self._lock = threading.Lock()  # the socket's writes, `_waiting`, `_in_flight`, the parser
        self._reading = threading.Lock()  # one thread reads the socket at a time
        self._waiting: list[tuple[list[Any], list[Any], Reply]] = []
        self._in_flight: deque[list[Reply]] = deque()  # per script run sent: its commits' futures
        self._loop: Any = None  # the event loop reading the replies as they come (`serve_on`), if any
        self._gone: list[Any] = []  # sockets of dropped connections, still watched by the loop
        self._watched: Any = None  # the socket `_loop` watches
        self._broken = False  # the connection failed: nothing more is read or sent on it
        self.last: Reply | None = None  # the last commit handed in (the ones before end first)
        self.failed: BaseException | None = None
        self.generation = -1  # the generation of the last commit applied
        self._connect()

    # ------------------------------------------------------------ the connection

    def _connect(self) -> None:
        self._sha = _word(self._client.script_load(self._script))  # again after a failure: Redis may have restarted
        connection = self._client.connection_pool.make_connection()
        connection.connect()  # type: ignore[no-untyped-call]
        sock = getattr(connection, "_sock", None)
        if sock is None:
            raise redis.ConnectionError("the redis client gave no socket for the commit connection")
        sock.setblocking(False)
        self._connection, self._sock, self._parser, self._broken = connection, sock, hiredis.Reader(), False

    def _break(self, error: BaseException) -> None:
        """The connection failed: every commit in flight or waiting fails (none is known to be applied),
        and so do the later ones until `resume` (with `_lock` held)."""
        self.failed = self.failed or error
        self._broken = True
        for futures in self._in_flight:
            for future in futures:
                future.set_exception(error)
        self._in_flight.clear()
        self._fail_waiting()
        if self._loop is not None:  # the loop watches the socket: it closes it (`_readable`, `serve_on`)
            self._gone.append(self._sock)
        else:
            self._connection.disconnect()  # type: ignore[no-untyped-call]

    def _fail_waiting(self) -> None:
        assert self.failed is not None
        for _, _, future in self._waiting:
            future.set_exception(self.failed)
        self._waiting = []

    def resume(self) -> None:
        """Send commits again after a failure (once the lease is taken anew); a new connection if it broke."""
        with self._reading, self._lock:
            if self.failed is None:
                return
            if self._broken:
                self._connect()
            else:
                self._sha = _word(self._client.script_load(self._script))
            self.failed = None

    def close(self) -> None:
        """Wait a little for the commits in flight, then close the connection."""
        last = self.last
        if last is not None and not self._broken:
            try:
                self.wait(last, timeout=5.0)
            except redis.RedisError:
                pass  # closing: what failed was reported to its caller
        with self._lock:
            if not self._broken:
                self._break(redis.ConnectionError("the Redis store was closed"))
            loop, self._loop, gone, self._gone = self._loop, None, self._gone, []
        if loop is None or loop.is_closed():
            for sock in gone:
                sock.close()
            return
        try:
            loop.call_soon_threadsafe(_forget, loop, gone)
        except RuntimeError:  # the loop closed meanwhile
            for sock in gone:
                sock.close()

    # ------------------------------------------------------------ sending

    def send(self, keys: list[Any], args: list[Any]) -> Reply:
        """Hand in a commit; its future is answered with the script's reply, or fails."""
        future = Reply()
        with self._lock:
            self.last = future
            if self.failed is not None:  # a commit before this one failed: it was made on what that wrote
                future.set_exception(self.failed)
                return future
            self._waiting.append((keys, args, future))
            if not self._in_flight:
                self._flush()
        return future

    def _flush(self) -> None:
        """Send the commits that waited, merged (with `_lock` held)."""
        batch, self._waiting = self._waiting, []
        futures = iter([future for _, _, future in batch])
        payload = []
        for keys, args, count in merged([(keys, args) for keys, args, _ in batch]):
            payload.append(hiredis.pack_command(("EVALSHA", self._sha, len(keys), *keys, *args)))
            self._in_flight.append([next(futures) for _ in range(count)])
        try:
            self._write(b"".join(payload))
        except (OSError, redis.RedisError) as exc:
            self._break(redis.ConnectionError(f"writing to Redis failed: {exc}"))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view) :]
            except _WOULD_BLOCK:
                ready = select.select([self._sock], [self._sock], [], SEND_TIMEOUT_S)
                if not ready[0] and not ready[1]:
                    raise redis.TimeoutError(f"Redis took no bytes for {SEND_TIMEOUT_S:.0f} s") from None

    # ------------------------------------------------------------ reading the replies

    def wait(self, future: Pending, timeout: float | None = None) -> None:
        """Read replies until `future` is answered (another thread may read it meanwhile)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not future.done():
            if deadline is not None and time.monotonic() > deadline:
                raise redis.TimeoutError("Redis did not answer a commit in time")
            if self._reading.acquire(timeout=WAIT_S):
                try:
                    if not future.done():
                        self._read(WAIT_S)
                finally:
                    self._reading.release()

    def drain(self) -> None:
        """Wait until every commit handed in is answered (whatever the answer)."""
        last = self.last
        if last is not None:
            self.wait(last)

    def serve_on(self, loop: Any) -> None:
        """Read replies on `loop` as they arrive (called from the loop's thread): the server face's
        event loop, so that the futures it awaits are answered there, with no thread in between."""
        if loop is self._loop and self._watched is self._sock and not self._gone:
            return
        with self._lock:
            old, self._loop = self._loop, loop
            gone, self._gone = self._gone, []
            sock, watched = self._sock, self._watched
            broken = self._broken
        if old is loop:
            _forget(loop, [s for s in (watched, *gone) if s is not None and s is not sock])
        else:
            for stale in gone:
                stale.close()
            if old is not None and watched is not None and watched.fileno() >= 0:
                try:
                    old.call_soon_threadsafe(old.remove_reader, watched.fileno())
                except RuntimeError:
                    pass  # closed meanwhile
        self._watched = None
        if not broken and (old is not loop or watched is not sock):
            loop.add_reader(sock.fileno(), self._readable, loop, sock)
        if not broken:
            self._watched = sock

    def _readable(self, loop: Any, sock: Any) -> None:
        if sock is not self._sock or self._broken:  # a dropped connection: the loop stops watching it
            with self._lock:
                if sock in self._gone:
                    self._gone.remove(sock)
                if self._watched is sock:
                    self._watched = None
            _forget(loop, [sock])
            return
        if self._reading.acquire(blocking=False):  # else another thread is reading them
            try:
                self._read(0)
            finally:
                self._reading.release()

    def _read(self, wait: float) -> None:
        """Read the replies that have come (waiting up to `wait` seconds for some), answer their
        commits, and send the commits that waited for them (with `_reading` held)."""
        if self._broken:
            return
        sock = self._sock
        data, broken = b"", None
        try:
            data = sock.recv(READ_BYTES)
        except _WOULD_BLOCK:
            if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                return
            try:
                data = sock.recv(READ_BYTES)
            except _WOULD_BLOCK:
                return
            except OSError as exc:
                broken = exc
        except OSError as exc:
            broken = exc
        while data and isinstance(sock, ssl.SSLSocket) and sock.pending():
            data += sock.recv(READ_BYTES)
        with self._lock:
            if not data:
                self._break(redis.ConnectionError(f"Redis closed the connection{f' ({broken})' if broken else ''}"))
                return
            self._parser.feed(data)
            while (reply := self._parser.gets()) is not False:
                if not self._in_flight:
                    self._break(redis.ConnectionError("Redis sent a reply to no commit"))
                    return
                futures = self._in_flight.popleft()
                if isinstance(reply, Exception):  # this run was not applied; those after it are not sent
                    error = _error(reply)
                    self.failed = self.failed or error
                    for future in futures:
                        future.set_exception(error)
                    continue
                self.generation = max(self.generation, int(reply[0]))
                for future in futures:
                    future.set_result(reply)
            if self.failed is not None:
                self._fail_waiting()
            elif not self._in_flight and self._waiting:
                self._flush()


def _forget(loop: Any, sockets: list[Any]) -> None:
    """Stop watching `sockets` on `loop` (from its thread) and close them."""
    for sock in sockets:
        if sock.fileno() >= 0:
            loop.remove_reader(sock.fileno())
        sock.close()
