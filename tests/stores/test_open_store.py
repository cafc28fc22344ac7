"""`open_store(url)` and the `store` setting: the accepted forms, a store of another schema version
refused with a clear message, `--reset-store`, and `serve --workers` refusing a memory store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._memory_store import MemoryStore
from together_eval_emulator.engine._store import Tenant
from together_eval_emulator.faces._controller import EmulatorController
from together_eval_emulator.faces._settings import ServerSettings
from together_eval_emulator.stores import _sqlite
from together_eval_emulator.stores._errors import IncompatibleStore, StoreError
from together_eval_emulator.stores._factory import StoreUrl, open_store, parse_store_url
from together_eval_emulator.stores._sqlite import SQLiteStore

REPO_ROOT = Path(__file__).resolve().parents[2]


def serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`serve` in a subprocess that is expected to stop by itself (a refusal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_EMULATOR_")}
    return subprocess.run(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---------------------------------------------------------------- the forms of a store URL


@pytest.mark.parametrize(
    "url, parsed",
    [
        ("memory", StoreUrl("memory", "")),
        (" memory ", StoreUrl("memory", "")),
        ("sqlite:emulator.db", StoreUrl("sqlite", "emulator.db")),
        ("sqlite:/var/lib/e.db", StoreUrl("sqlite", "/var/lib/e.db")),
        ("redis://127.0.0.1:6379/0", StoreUrl("redis", "redis://127.0.0.1:6379/0")),
    ],
)
def test_store_urls(url: str, parsed: StoreUrl) -> None:
    assert parse_store_url(url) == parsed
    assert parsed.shared is (parsed.kind != "memory")


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgres://x", "expected memory, sqlite:PATH or redis://HOST:PORT/DB, got 'postgres://x'"),
        ("sqlite:", "sqlite: needs a file path"),
        ("sqlite:///tmp/e.db", "write a SQLite store as sqlite:PATH"),
        ("", "expected memory, sqlite:PATH or redis://HOST:PORT/DB"),
    ],
)
def test_bad_store_urls_name_the_accepted_forms(url: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_store_url(url)


def test_open_store_by_kind(tmp_path: Path) -> None:
    assert isinstance(open_store(), MemoryStore) and isinstance(open_store("memory"), MemoryStore)
    store = open_store(f"sqlite:{tmp_path / 'sub' / 'e.db'}")  # missing folders are made
    assert isinstance(store, SQLiteStore) and (tmp_path / "sub" / "e.db").is_file()
    store.close()


def test_a_redis_url_without_the_redis_store_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "together_eval_emulator.stores._redis", None)  # as if it were absent
    with pytest.raises(StoreError, match="has no Redis store"):
        open_store("redis://127.0.0.1:1/0")


def test_a_redis_url_with_a_hiredis_too_old_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    old = types.ModuleType("hiredis")
    old.__version__ = "2.1.0"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hiredis", old)  # a release without pack_command
    for name in ("_redis", "_redis_lease", "_redis_commits"):
        monkeypatch.delitem(sys.modules, f"together_eval_emulator.stores.{name}", raising=False)
    with pytest.raises(StoreError, match=r"hiredis 2.1.0 is too old.*together-eval-emulator\[redis\]"):
        open_store("redis://127.0.0.1:1/0")


def test_the_store_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_EMULATOR_STORE", raising=False)
    assert ServerSettings().store == "memory" and ServerSettings().workers == 1
    assert ServerSettings().reset_store is False
    monkeypatch.setenv("TOGETHER_EMULATOR_STORE", "sqlite:from-env.db")
    assert ServerSettings().store == "sqlite:from-env.db"
    config = tmp_path / "emulator.toml"
    config.write_text('store = "sqlite:from-file.db"\nworkers = 3\n')
    monkeypatch.delenv("TOGETHER_EMULATOR_STORE")
    from_file = ServerSettings(config=str(config))
    assert (from_file.store, from_file.workers) == ("sqlite:from-file.db", 3)


@pytest.fixture
def sqlite_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "never-made.db"
    monkeypatch.setenv("TOGETHER_EMULATOR_STORE", f"sqlite:{path}")
    return path


def test_the_in_process_fixture_always_uses_memory(
    sqlite_in_environment: Path, together_emulator: EmulatorController
) -> None:
    assert isinstance(together_emulator.emulator.store, MemoryStore)
    assert not sqlite_in_environment.exists()


# ---------------------------------------------------------------- schema versions


def _set_user_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def test_a_store_of_another_schema_version_is_refused_until_reset(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    store = SQLiteStore(path)
    store.put_tenant(Tenant("key-a"))
    store.close()
    _set_user_version(path, _sqlite.SCHEMA_VERSION + 1)
    with pytest.raises(IncompatibleStore) as refused:
        SQLiteStore(path)
    message = str(refused.value)
    assert f"store schema version {_sqlite.SCHEMA_VERSION + 1}" in message
    assert f"reads schema version {_sqlite.SCHEMA_VERSION}" in message and "--reset-store" in message
    assert "\n" not in message
    fresh = SQLiteStore(path, reset=True)
    assert fresh.tenants() == [] and fresh.seed() is None
    fresh.close()
    SQLiteStore(path).close()  # now of this version


def test_a_database_of_another_application_is_neither_used_nor_reset(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE accounts (id INTEGER)")
    db.commit()
    db.close()
    for reset in (False, True):
        with pytest.raises(StoreError, match="another application, not an emulator store"):
            SQLiteStore(path, reset=reset)
    assert sqlite3.connect(path).execute("SELECT count(*) FROM accounts").fetchone() == (0,)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just text that is long enough to have a header " * 20)
    with pytest.raises(StoreError, match="is it a file of something else"):
        SQLiteStore(path)


# ---------------------------------------------------------------- serve


def test_serve_refuses_an_incompatible_store_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    Emulator(store=SQLiteStore(path)).store.close()
    _set_user_version(path, 99)
    done = serve("--store", f"sqlite:{path}")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "store schema version 99" in done.stderr
    assert "--reset-store" in done.stderr


def test_serve_workers_refuses_a_memory_store_in_one_line() -> None:
    done = serve("--workers", "2")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--workers 2 needs a store the workers share" in done.stderr and "--store sqlite:PATH" in done.stderr


def test_serve_rejects_a_bad_store_url(tmp_path: Path) -> None:
    done = serve("--store", "sqlite://x.db")
    assert done.returncode == 2 and "invalid setting store='sqlite://x.db' (--store)" in done.stderr
