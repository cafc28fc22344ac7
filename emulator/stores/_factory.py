"""`open_store(url)`: the store a `store` setting names.

* `memory`: this process's memory (the default; every start is clean);
* `sqlite:PATH`: a SQLite file, kept across restarts (`SQLiteStore`);
* `redis://HOST:PORT/DB`: a Redis database shared by several servers (`RedisStore`, loaded only
  when asked for: it needs the `redis` package).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..engine._memory_store import MemoryStore
from ..engine._store import Store
from ._errors import StoreError

StoreKind = Literal["memory", "sqlite", "redis"]
FORMS = "memory, sqlite:PATH or redis://HOST:PORT/DB"


@dataclass(frozen=True)
class StoreUrl:
    """A parsed `store` setting."""

    kind: StoreKind
    target: str  # the SQLite path, the Redis URL; "" for memory

    @property
    def shared(self) -> bool:
        """Whether several processes can serve one state from it (`serve --workers`)."""
        return self.kind != "memory"


def parse_store_url(url: str) -> StoreUrl:
    """The kind and target of a `store` setting; ValueError with the accepted forms for anything else."""
    text = url.strip()
    if text == "memory":
        return StoreUrl("memory", "")
    if text.startswith("sqlite:"):
        path = text.removeprefix("sqlite:")
        if path.startswith("//"):
            raise ValueError(f"write a SQLite store as sqlite:PATH (sqlite:emulator.db, sqlite:/tmp/e.db), got {url!r}")
        if not path.strip() or path.strip() == ":memory:" or path.startswith("file:"):
            # an in-memory database is one per process, and kept by none: neither shared nor persistent
            raise ValueError("sqlite: needs a file path, e.g. sqlite:emulator.db (the memory store is `memory`)")
        return StoreUrl("sqlite", path)
    if text.startswith(("redis://", "rediss://")):
        return StoreUrl("redis", text)
    raise ValueError(f"expected {FORMS}, got {url!r}")


def open_store(url: str = "memory", *, reset: bool = False) -> Store:
    """Open the store `url` names. `reset=True` starts a persistent or shared store over (its whole
    state is forgotten, whatever version wrote it); a memory store is always new.

    Raises ValueError for a malformed `url`, and `StoreError` (with a one-line message) for a store
    that cannot be opened, or holds a state this version cannot read (see `--reset-store`)."""
    parsed = parse_store_url(url)
    if parsed.kind == "memory":
        return MemoryStore()
    if parsed.kind == "sqlite":
        from ._sqlite import SQLiteStore

        return SQLiteStore(parsed.target, reset=reset)
    try:
        from ._redis import RedisStore  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as exc:
        if exc.name in ("redis", "hiredis"):
            raise StoreError(
                f"the Redis store needs the redis and hiredis packages ({exc.msg}): "
                "pip install 'together-eval-emulator[redis]'"
            ) from None
        raise StoreError("this installation of together-eval-emulator has no Redis store") from None
    store: Store = RedisStore(parsed.target, reset=True) if reset else RedisStore(parsed.target)
    return store
