"""The lease: which of the processes sharing one Redis state may read and write it now.

One process at a time holds the lease (a Redis key with a short expiry, renewed from a helper
thread while the process lives). While it holds it, nobody else writes, so everything it read
stays true: it serves requests from its own cache and sends Redis one script per request that
changed something (the commit, which checks the lease is still its own before applying a single
write). Commits are pipelined in order on a connection of their own (`_redis_commits.Committer`):
those made while a round trip is under way go together in the next one, as one script run, and a
caller may go on before its commit is answered (its answer must wait). It keeps the lease between
requests until another process asks for it:

* a process that wants the lease joins a queue and wakes the holder's helper thread; the holder
  hands the lease over to the first process in the queue, which is woken by a list push (no
  polling): at once when it is idle, else at the end of the first request after it has held the
  lease for its quantum (`QUANTUM_S`: a hand-over costs a few round trips and wake-ups, so a busy
  holder serves a few requests per hand-over instead of one);
* every commit appends the names of the keys it changed to a change log, numbered by a
  generation counter; a process taking the lease reads the log since its own last generation and
  drops those keys from its cache (or all of it when it is too far behind or the store was
  cleared);
* a process that dies holding the lease (kill -9) blocks the others until the lease expires
  (`LEASE_MS`); the commit's check keeps a process that lost its lease (paused longer than that)
  from writing anything.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import redis

from ..engine._store import Pending
from ._redis_commits import Committer, Reply

LEASE_MS = 2000  # how long a lease outlives a dead (or frozen) holder
QUANTUM_S = 0.005  # a busy holder asked for the lease keeps it this long first (hand-overs cost round trips)
IDLE_S = 0.001  # a holder with no transaction for this long is idle: it hands the lease over at once
LOG_LENGTH = 2000  # commits kept in the change log; a process further behind drops its whole cache
EVERYTHING = "*"  # a change-log entry meaning: every key (the store was cleared)

# Every script takes KEYS = lock, queue, generation, change log; ARGV[1] = the caller's token.
_COMMON = """
local lock, queue, gen_key, log_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, prefix, lease_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function holder_of(t) return string.match(t, '^[^:]*') end
local function changes_since(mine)
  local gen = tonumber(redis.call('GET', gen_key) or '0')
  if mine == gen then return {gen} end
  local behind = gen - mine
  if mine < 0 or behind < 0 or behind > tonumber(ARGV[5]) then return {gen, '*'} end
  local out = redis.call('LRANGE', log_key, 0, behind - 1)
  if #out < behind then return {gen, '*'} end
  table.insert(out, 1, gen)
  return out
end
-- The next process in the queue (entries: "token generation") gets the lease, and on its wake list
-- what changed since its generation: it needs no round trip of its own to start.
local function hand_over()
  local nxt = redis.call('LPOP', queue)
  if not nxt then return 0 end
  local to, mine = string.match(nxt, '^(%S+) (%S+)$')
  redis.call('SET', lock, to, 'PX', lease_ms)
  local wake = prefix .. 'wake:' .. to
  redis.call('DEL', wake)
  redis.call('RPUSH', wake, table.concat(changes_since(tonumber(mine)), '\\n'))
  redis.call('PEXPIRE', wake, lease_ms * 5)
  return 1
end
"""

# ARGV[4] = the caller's generation: granted -> {1, gen, changed keys...}; queued -> {0}.
_ACQUIRE = (
    _COMMON
    + """
local current = redis.call('GET', lock)
local entry = token .. ' ' .. ARGV[4]
redis.call('LREM', queue, 0, entry)
if current == false or current == token then
  redis.call('SET', lock, token, 'PX', lease_ms)
  redis.call('DEL', prefix .. 'wake:' .. token)
  local out = changes_since(tonumber(ARGV[4]))
  table.insert(out, 1, 1)
  return out
end
redis.call('RPUSH', queue, entry)
local want = prefix .. 'want:' .. holder_of(current)
redis.call('RPUSH', want, '1')
redis.call('PEXPIRE', want, lease_ms * 5)
return {0}
"""
)

# ARGV[4] = changed keys (newline-separated), ARGV[6] = '1' to hand the lease over to a waiting process,
# ARGV[7..] = writes, each as a count then its words.
_COMMIT = (
    _COMMON
    + """
if redis.call('GET', lock) ~= token then return redis.error_reply('LEASE_LOST') end
local i = 7
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local words = {}
  for j = 1, n do words[j] = ARGV[i + j] end
  if words[1] == 'CLEAR' then
    for _, key in ipairs(redis.call('KEYS', words[2])) do redis.call('DEL', key) end
  elseif words[1] == 'JOURNAL' then  -- entries, sizes, byte total, entry, size, limit, byte limit (0: none)
    local entries, sizes, total = words[2], words[3], words[4]
    local limit, max_bytes = tonumber(words[7]), tonumber(words[8])
    redis.call('RPUSH', entries, words[5])
    local n = redis.call('RPUSH', sizes, words[6])
    local bytes = redis.call('INCRBY', total, words[6])
    while n > 1 and ((limit > 0 and n > limit) or (max_bytes > 0 and bytes > max_bytes)) do
      redis.call('LPOP', entries)
      bytes = redis.call('DECRBY', total, redis.call('LPOP', sizes))
      n = n - 1
    end
  else
    redis.call(unpack(words))
  end
  i = i + n + 1
end
local gen = redis.call('INCR', gen_key)
redis.call('LPUSH', log_key, ARGV[4])
redis.call('LTRIM', log_key, 0, tonumber(ARGV[5]) - 1)
redis.call('PEXPIRE', lock, lease_ms)
local handed = 0
if ARGV[6] == '1' and redis.call('LLEN', queue) > 0 then handed = hand_over() end
return {gen, handed}
"""
)

# Hand the lease to the next in the queue: 1. Nobody waits: free it when ARGV[4] is 'free' (2), else
# keep it (0). Not the caller's lease: -1.
_RELEASE = (
    _COMMON
    + """
if redis.call('GET', lock) ~= token then return -1 end
if hand_over() == 1 then return 1 end
if ARGV[4] == 'free' then redis.call('DEL', lock) return 2 end
return 0
"""
)

# Renew the lease: 1 while it is the caller's, else 0.
_RENEW = (
    _COMMON
    + """
if redis.call('GET', lock) ~= token then return 0 end
redis.call('PEXPIRE', lock, lease_ms)
return 1
"""
)


class LeaseLost(RuntimeError):
    """This process lost the lease mid-request (it was paused longer than `LEASE_MS`); nothing of
    the request was written."""


class Changes:
    """What changed since this process last held the lease: key names, or everything."""

    def __init__(self, keys: Sequence[str], everything: bool) -> None:
        self.keys = keys
        self.everything = everything


class Lease:
    """The lease of one process over one shared state (`prefix` in one Redis database).

    `mutex` serialises this process's transactions; `hold`, `commit` and `end` are called with it held."""

    def __init__(self, client: redis.Redis, prefix: str, *, lease_ms: int = LEASE_MS) -> None:
        self._redis = client
        self._prefix = prefix
        self._lease_ms = lease_ms
        self._keys = [f"{prefix}lease:lock", f"{prefix}lease:queue", f"{prefix}sync:gen", f"{prefix}sync:log"]
        self._holder = f"{os.getpid()}-{uuid.uuid4().hex}"  # no ':' (the token's first part)
        self._tokens = 0
        self._scripts = {name: client.register_script(body) for name, body in _SCRIPTS.items()}
        self._committer = Committer(client, _COMMIT)
        weakref.finalize(self, self._committer.close)  # its connection ends with the lease, closed or dropped
        self.mutex = threading.RLock()
        self.token: str | None = None  # the lease, while this process holds it
        self._held_since = 0.0  # when it took the lease (monotonic)
        self._last_end = 0.0  # when its last transaction ended (monotonic)
        self.generation = -1  # the last commit this process has seen (-1: none yet)
        self._wanted = threading.Event()  # another process asked for the lease
        self._lost = threading.Event()  # a renewal found the lease gone (this process was paused too long)
        self._closed = threading.Event()
        # The helper holds the lease only weakly: a store dropped without close() ends its thread too.
        self._helper = threading.Thread(target=_help, args=(weakref.ref(self),), name="redis-lease", daemon=True)
        self._helper.start()

    def _run(self, name: str, token: str, fourth: str | int = "", *rest: bytes | str | int) -> Any:
        """Run a script: ARGV = token, prefix, lease ms, `fourth`, log length, `rest`."""
        return self._scripts[name](
            keys=self._keys, args=[token, self._prefix, self._lease_ms, fourth, LOG_LENGTH, *rest]
        )

    # ------------------------------------------------------------ taking and giving the lease

    def hold(self) -> Changes | None:
        """Take the lease (waiting in the queue for it) unless held already; returns what changed
        since this process last held it (None when it still holds it: nothing did)."""
        if self.token is not None and not self._lost.is_set() and self._committer.failed is None:
            return None
        self._committer.drain()
        self.generation = max(self.generation, self._committer.generation)
        self.token = None
        self._lost.clear()
        self._tokens += 1
        token = f"{self._holder}:{self._tokens}"
        wake = f"{self._prefix}wake:{token}"
        while True:
            reply = self._run("acquire", token, self.generation)
            if reply[0] == 0:  # queued: the holder hands over with a push on our wake list
                popped = self._redis.blpop([wake], timeout=self._lease_ms / 1000)
                if popped is None:  # the holder died (its lease expires) or we missed the push: ask again
                    continue
                reply = [1, *_text(popped[1]).split("\n")]
            self.token = token
            self._held_since = time.monotonic()
            self._wanted.clear()
            if self._committer.failed is not None:  # what this process wrote since may not be there
                self._committer.resume()
                self.generation = -1
            return self._changes(reply[1:])

    def _changes(self, reply: list[Any]) -> Changes:
        generation, entries = int(reply[0]), [_text(e) for e in reply[1:]]
        everything = self.generation < 0 or EVERYTHING in entries
        self.generation = generation
        keys = [key for entry in entries for key in entry.split("\n") if key]
        return Changes(keys, everything or EVERYTHING in keys)

    def commit(
        self, changed: Sequence[str], writes: Sequence[Sequence[bytes | str | int]], *, confirm: bool = True
    ) -> Reply | None:
        """Apply `writes` (Redis commands, ("CLEAR", pattern), or ("JOURNAL", ...): a journal append, which
        drops the oldest entries past its bounds) at once, if the lease is still ours.

        With `confirm`, or when another process waits for the lease and this one has had it for its
        quantum (the commit then hands it over), wait for Redis to answer. Else return at once with
        the commit's future: the caller must not answer its request before the future is done
        (`confirmed` raises what went wrong); the commits of this process are applied in order."""
        assert self.token is not None
        argv: list[bytes | str | int] = []
        for words in writes:
            argv.append(len(words))
            argv.extend(words)
        hand = self._quantum_spent() and (confirm or self._wanted.is_set())
        args = [self.token, self._prefix, self._lease_ms, "\n".join(sorted(changed)), LOG_LENGTH, int(hand), *argv]
        future = self._committer.send(self._keys, args)
        if not (confirm or hand):
            return future  # a failure shows in `_committer.failed`: the next transaction takes the lease anew
        generation, handed = self.confirmed(future)
        self.generation = max(self.generation, int(generation))
        if handed:
            self.token = None
        return None

    def confirmed(self, future: Pending) -> Any:
        """Wait for a commit's answer; LeaseLost when it was not applied (or a Redis error)."""
        self._committer.wait(future)
        try:
            return future.result()
        except redis.ResponseError as exc:
            if "LEASE_LOST" not in str(exc):
                raise
            raise LeaseLost(
                "this emulator process lost its lease on the shared Redis state (paused for longer than "
                f"{self._lease_ms} ms?); the request was not applied, retry it"
            ) from None

    def drain(self) -> None:
        """Wait until every commit this process sent is answered (before reading Redis directly)."""
        self._committer.drain()

    def serve_on(self, loop: Any) -> None:
        """Read the commits' replies on `loop` as they come (`Committer.serve_on`)."""
        self._committer.serve_on(loop)

    def uncontested(self) -> bool:
        """Whether this process holds the lease and no other process asked for it."""
        lost = self._lost.is_set() or self._committer.failed is not None
        return self.token is not None and not self._wanted.is_set() and not lost

    def _quantum_spent(self) -> bool:
        return time.monotonic() - self._held_since >= QUANTUM_S

    def end(self) -> None:
        """The end of a transaction: hand the lease over if another process asked for it (and this one
        has had it for its quantum)."""
        self._last_end = time.monotonic()
        if self.token is not None and self._wanted.is_set() and self._quantum_spent():
            self._release(free=False)

    def _release(self, *, free: bool) -> None:
        """Hand the lease to the next process in the queue; with nobody there, keep it (a want
        already served by a commit's hand-over) unless `free`."""
        self._wanted.clear()
        self._committer.drain()  # the next holder must find every write of this one
        token, self.token = self.token, None  # given up before the script ends: the next holder may start then
        if token is not None and self._run("release", token, "free" if free else "keep") == 0:
            self.token = token

    def forget(self) -> None:
        """Drop the lease without telling Redis (after an error talking to it): take it anew next time."""
        self.token = None

    # ------------------------------------------------------------ the helper thread

    def help_once(self, asked: bool) -> None:
        """One turn of the helper thread, after waiting on this process's want list: hand the lease
        over when `asked` (and due), and renew it while it is held."""
        token = self.token
        if token is None or self._closed.is_set():
            return
        period = self._lease_ms / 3000
        if asked:
            self._wanted.set()
            self._hand_over_when_due(token, period)
        if self.token == token and not self._run("renew", token):
            self._lost.set()  # the next transaction takes the lease anew, reading what changed

    def _hand_over_when_due(self, token: str, period: float) -> None:
        """Another process asked for the lease: give it once this process is idle (no transaction for
        `IDLE_S`), or once it has had it for its quantum (a busy process's commit hands it over then too)."""
        while self.token == token and not self._closed.is_set():
            time.sleep(IDLE_S)
            due = self._quantum_spent()
            if self.mutex.acquire(timeout=period if due else 0):  # no transaction is running
                try:
                    if self.token == token and (due or time.monotonic() - self._last_end >= IDLE_S):
                        self._release(free=False)
                        return
                finally:
                    self.mutex.release()
            elif due and self.token == token and not self._run("renew", token):  # a long transaction runs
                self._lost.set()
                return

    def close(self) -> None:
        """Give the lease back (to the next process, or free) and stop the helper thread."""
        self._closed.set()
        with self.mutex:
            try:
                self._release(free=True)
                self._redis.rpush(f"{self._prefix}want:{self._holder}", "closing")  # wake the helper
            except redis.RedisError:
                pass
        self._committer.close()
        self._helper.join(self._lease_ms / 1000 + 1)


def _help(lease_ref: weakref.ref[Lease]) -> None:
    """The helper thread: wait on the want list (at most a third of the lease), then take a turn."""
    lease = lease_ref()
    if lease is None:
        return
    client, want, period, closed = (
        lease._redis,
        f"{lease._prefix}want:{lease._holder}",
        lease._lease_ms / 3000,
        lease._closed,
    )
    del lease  # not kept alive by its own thread while it waits
    while not closed.is_set():
        try:
            asked = client.blpop([want], timeout=period) is not None
            lease = lease_ref()
            if lease is None:
                return
            lease.help_once(asked)
            del lease
        except redis.RedisError:
            if closed.wait(period):
                return


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_SCRIPTS = {"acquire": _ACQUIRE, "commit": _COMMIT, "release": _RELEASE, "renew": _RENEW}
