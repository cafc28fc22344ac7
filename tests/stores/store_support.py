"""The stores the tests run against, in one place.

`STORE_KINDS` lists them; `store_url(kind, request, directory)` gives the `store` setting of one
(a fresh one for each directory). The Store interface tests (tests/engine/test_store.py), the
contract suite's live server and the scenario suite's live servers are parametrised over
`STORE_KINDS`: a new store joins them all by adding its kind here and its URL below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._config import EmulatorConfig
from together_eval_emulator.engine._store import Store
from together_eval_emulator.stores._factory import open_store

from tests.stores.redis_support import empty_database
from tests.support import Api, CoreFace, Reply

STORE_KINDS = ["memory", "sqlite", "redis"]
SESSION_DATABASE = 1  # the Redis database of a session-wide server; each test of its own gets database 0


def store_url(kind: str, request: pytest.FixtureRequest, directory: Path) -> str:
    """The `store` setting of a new store of `kind`, its files (if any) under `directory`."""
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite:{directory / 'emulator.db'}"
    if kind == "redis":  # a real redis-server, started by the redis_server fixture (tests/stores/redis_support.py)
        if request.scope == "session":  # a server for the whole session: a database of its own, emptied first
            return empty_database(str(request.getfixturevalue("redis_server")), SESSION_DATABASE)
        return str(request.getfixturevalue("redis_url"))
    raise ValueError(f"no test store of kind {kind!r}")


def close(store: Store) -> None:
    """Close a store that holds a file or a connection (a memory store has nothing to close)."""
    closing = getattr(store, "close", None)
    if closing is not None:
        closing()


class RestartingFace:
    """The in-process face over a persistent store, restarted before every request: each request is
    answered by a new `Emulator` (same settings) on the store reopened, as after `kill -9` and a
    restart. A test passes through it only if nothing a later answer depends on lives outside the store."""

    name = "restarting"

    def __init__(self, url: str, config: EmulatorConfig) -> None:
        self.url = url
        self.config = config
        self.emulator = Emulator(config, store=open_store(url))

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes, query: str) -> Reply:
        before = self.emulator
        self.emulator = Emulator(self.config, store=open_store(self.url))
        close(before.store)  # after the new one opened: the last connection to close would checkpoint (slow)
        return CoreFace(self.emulator).send(method, path, headers, body, query)


def job_reads(api: Api, ids: list[str]) -> dict[str, Any]:
    """Every read of these jobs (retrieve, status, the result file's rows) and the job list, as JSON:
    what two emulators on one store must answer alike."""
    answers: dict[str, Any] = {"list": api.request("GET", "/v1/evaluation").json()}
    for job_id in ids:
        job = api.job(job_id)
        answers[job_id] = {
            "job": job,
            "status": api.status(job_id),
            "rows": api.content(job["results"]["result_file_id"]),
        }
    return answers
