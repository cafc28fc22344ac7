"""What the SQLite store adds to the Store interface: several connections and processes on one file,
transactions that roll back, what it keeps in memory and what it keeps once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._store import JOURNAL_SEQ, StoredFile, Tenant
from together_eval_emulator.stores import _sqlite
from together_eval_emulator.stores._sqlite import SQLiteStore

from tests.support import Api, CoreFace, classify_params, jsonl, qa_rows

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "e.db"


def file(file_id: str, size: int | None = None) -> StoredFile:
    return StoredFile(file_id, "key-a", "d.jsonl", "eval", "jsonl", 1, size=size)


def test_a_write_through_one_connection_is_read_through_another(path: Path) -> None:
    one, two = SQLiteStore(path), SQLiteStore(path)
    assert two.get_tenant("key-a") is None and two.counter("c") == 0 and two.files("key-a") == []  # now kept
    one.put_tenant(Tenant("key-a", "team"))
    one.increment("c", by=4)
    one.put_file(file("file-1"))
    assert two.get_tenant("key-a") == Tenant("key-a", "team") and two.counter("c") == 4
    assert [f.id for f in two.files("key-a")] == ["file-1"]
    two.delete_file("key-a", "file-1")
    assert one.get_file("key-a", "file-1") is None and one.files("key-a") == []
    one.close()
    two.close()


def test_a_failed_transaction_leaves_nothing_behind(path: Path) -> None:
    store = SQLiteStore(path)
    store.put_file(file("file-1", size=1))
    with pytest.raises(RuntimeError), store.transaction():
        store.put_file(replace(file("file-1"), size=9))
        store.put_tenant(Tenant("key-b"))
        store.increment("c")
        raise RuntimeError("the request failed half-way")
    assert store.get_file("key-a", "file-1") == file("file-1", size=1)
    assert store.get_tenant("key-b") is None and store.counter("c") == 0
    store.close()


def test_nested_transactions_join_the_outer_one(path: Path) -> None:
    store, other = SQLiteStore(path), SQLiteStore(path)
    other._db.execute("PRAGMA busy_timeout = 0")  # another connection would wait for the outer commit
    with store.transaction():
        with store.transaction():
            store.increment("c")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.counter("c")
    assert other.counter("c") == 1
    store.close()
    other.close()


_WORKER = textwrap.dedent(
    """
    import json, sys
    from together_eval_emulator.engine import _ids as ids
    from together_eval_emulator.stores._sqlite import SQLiteStore
    store = SQLiteStore(sys.argv[1])
    drawn = []
    for _ in range(200):
        with store.transaction():
            store.increment("shared")
            drawn.append(store.draw(ids.token))
    print(json.dumps(drawn))
    store.close()
    """
)


def test_processes_on_one_file_count_and_draw_without_losing_or_repeating(path: Path) -> None:
    SQLiteStore(path).close()
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(path)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    drawn = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        drawn += json.loads(out)
    store = SQLiteStore(path)
    assert store.counter("shared") == 600
    assert len(set(drawn)) == 600  # one generator, its state handed from process to process
    store.close()


def test_file_bytes_are_read_from_the_file_not_all_kept(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite, "CONTENT_CACHE_BYTES", 3_000)
    monkeypatch.setattr(_sqlite, "CONTENT_CACHE_ITEM", 1_000)
    store = SQLiteStore(path)
    contents = {f"file-{n}": bytes([n]) * (400 + 300 * n) for n in range(6)}  # 400 .. 1900 bytes
    for file_id, content in contents.items():
        store.put_content("key-a", file_id, content)
    for file_id, content in contents.items():
        assert store.get_content("key-a", file_id) == content
        assert store._content_bytes <= 3_000
    assert all(len(kept or b"") <= 1_000 for kept in store._contents.values())
    store.close()


def test_jobs_share_one_stored_copy_of_their_dataset(path: Path) -> None:
    emulator = Emulator(clock="manual", store=SQLiteStore(path))
    api = Api(CoreFace(emulator))
    file_id = api.upload(jsonl(qa_rows(50)))
    ids = [api.create_id("classify", classify_params(file_id)) for _ in range(5)]
    emulator.store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM datasets").fetchone() == (1,)
    assert db.execute("SELECT count(DISTINCT dataset) FROM jobs").fetchone() == (1,)
    db.close()
    reopened = SQLiteStore(path)
    jobs = [reopened.find_job(workflow_id) for workflow_id in ids]
    assert all(job is not None and job.dataset is jobs[0].dataset for job in jobs)  # type: ignore[union-attr]
    reopened.close()


def test_the_journal_keeps_its_limit_in_the_file(path: Path) -> None:
    """The entries past the limit are gone from the journal at once, and from the file in batches:
    it never holds more than the limit and JOURNAL_SLACK rows."""
    emulator = Emulator(clock="manual", journal_limit=5, store=SQLiteStore(path))
    api = Api(CoreFace(emulator))
    db = sqlite3.connect(path)
    rows = []
    for number in range(1, 201):
        api.request("GET", "/v1/files")
        assert [entry.seq for entry in emulator.journal] == list(range(max(1, number - 4), number + 1))
        rows.append(db.execute("SELECT count(*) FROM journal").fetchone()[0])
    db.close()
    assert emulator.store.counter(JOURNAL_SEQ) == 200
    assert max(rows) <= 5 + _sqlite.JOURNAL_SLACK and rows[-1] < 200 and min(rows[100:]) >= 5
    emulator.store.close()
    reopened = Emulator(clock="manual", journal_limit=5, store=SQLiteStore(path))
    assert [entry.seq for entry in reopened.journal] == [196, 197, 198, 199, 200]
    reopened.store.close()


def test_a_larger_journal_limit_brings_back_no_dropped_entry(path: Path) -> None:
    """Rows past the old bounds still in the file are deleted before the bounds change, so a larger
    limit (a restart with another setting) keeps what the old one kept, then grows."""
    emulator = Emulator(clock="manual", journal_limit=5, store=SQLiteStore(path))
    api = Api(CoreFace(emulator))
    for _ in range(12):
        api.request("GET", "/v1/files")
    assert [entry.seq for entry in emulator.journal] == [8, 9, 10, 11, 12]
    emulator.store.close()
    larger = Emulator(clock="manual", journal_limit=20, store=SQLiteStore(path))
    Api(CoreFace(larger)).request("GET", "/v1/files")
    assert [entry.seq for entry in larger.journal] == [8, 9, 10, 11, 12, 13]
    larger.store.close()


def test_a_smaller_journal_limit_leaves_no_more_than_the_slack_in_the_file(path: Path) -> None:
    emulator = Emulator(clock="manual", journal_limit=200, store=SQLiteStore(path))
    api = Api(CoreFace(emulator))
    for _ in range(150):
        api.request("GET", "/v1/files")
    emulator.store.close()
    smaller = Emulator(clock="manual", journal_limit=5, store=SQLiteStore(path))
    Api(CoreFace(smaller)).request("GET", "/v1/files")
    assert [entry.seq for entry in smaller.journal] == [147, 148, 149, 150, 151]
    smaller.store.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM journal").fetchone()[0] <= 5 + _sqlite.JOURNAL_SLACK
