"""The `Store` interface, method by method. Written against the interface only: every store of
tests/stores/store_support.py (`STORE_KINDS`) runs them."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from together_eval_emulator.engine import _ids as ids
from together_eval_emulator.engine._capacity import Capacity, CapacityLog
from together_eval_emulator.engine._clock import ClockState
from together_eval_emulator.engine._faults import FaultAction, FaultRule
from together_eval_emulator.engine._lifecycle import Phase
from together_eval_emulator.engine._recordings import Recording
from together_eval_emulator.engine._results import Judge
from together_eval_emulator.engine._scenarios import Outcome, Scenario, ScenarioBook, ScenarioEntry
from together_eval_emulator.engine._store import (
    JOURNAL_SEQ,
    Job,
    PendingUpload,
    RecordedRequest,
    Store,
    StoredFile,
    Tenant,
    reads_counter,
)
from together_eval_emulator.engine._validation import validate_create
from together_eval_emulator.stores._factory import open_store

from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.stores.store_support import STORE_KINDS, close, store_url

PARAMS = {
    "input_data_file_path": "file-1",
    "labels": ["good", "bad"],
    "pass_labels": ["good"],
    "model_to_evaluate": "response",
    "judge": {"model": "judge", "model_source": "serverless", "system_template": "Rate {{prompt}}"},
}


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = open_store(store_url(request.param, request, tmp_path))
    yield made
    made.clear()
    close(made)


def job(workflow_id: str = "eval-0001-1", tenant: str = "key-a", **changes: object) -> Job:
    eval_type, params = validate_create({"type": "classify", "parameters": PARAMS})
    made = Job(
        workflow_id=workflow_id,
        tenant=tenant,
        type=eval_type,
        parameters=PARAMS,
        judge=Judge(eval_type, params, 0),
        created_ns=1_000,
        phases=(Phase("pending", 0), Phase("completed", 5)),
        dataset=None,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def file(file_id: str = "file-1", tenant: str = "key-a", **changes: object) -> StoredFile:
    made = StoredFile(id=file_id, tenant=tenant, filename="d.jsonl", purpose="eval", file_type="jsonl", created_ns=7)
    return replace(made, **changes)  # type: ignore[arg-type]


def entry(seq: int = 0, path: str = "/v1/files") -> RecordedRequest:
    return RecordedRequest(seq, "GET", path, {}, b"", "key-a", "files.list", path, None, None, 200, 9)


# ---------------------------------------------------------------- the whole store


def test_transaction_is_a_context_manager(store: Store) -> None:
    with store.transaction():
        store.put_tenant(Tenant("key-a"))
    assert store.get_tenant("key-a") == Tenant("key-a")


def test_clear_gives_back_a_new_store(store: Store) -> None:
    def fresh_state() -> tuple[object, ...]:  # a new store's clock and ids (its wall anchor is when it was made)
        clock = store.clock_state()
        return clock.mode, clock.scale, clock.anchor_ns, store.id_state()

    fresh = fresh_state()
    store.put_tenant(Tenant("key-a"))
    store.set_known_keys(frozenset({"key-a"}))
    store.put_job(job())
    store.put_file(file())
    store.put_content("key-a", "file-1", b"x")
    store.put_upload("tok", PendingUpload("key-a", "file-1"))
    store.put_upload_part("tok", 1, b"p")
    store.draw(ids.token)
    store.set_clock_state(ClockState("real", 2.0, 5, 6))
    store.increment("c")
    store.admit("fault-1", "key-a", 0, 10, 1)
    store.put_scenario_book(ScenarioBook(default=Scenario(outcome=Outcome(kind="error"))))
    store.put_fault_rules([FaultRule(id="fault-1")])
    store.append_request(entry(), None)
    store.clear()
    assert fresh_state() == fresh
    assert store.tenants() == [] and store.known_keys() is None
    assert store.find_job("eval-0001-1") is None and store.jobs("key-a") == []
    assert store.get_file("key-a", "file-1") is None and store.get_content("key-a", "file-1") is None
    assert store.uploads() == [] and store.upload_parts("tok") == {}
    assert store.counter("c") == 0 and store.quota_windows("fault-1") == {}
    assert store.scenario_book() == ScenarioBook() and list(store.fault_rules()) == []
    assert store.requests() == []


def test_seed_is_none_until_set_and_cleared_with_the_state(store: Store) -> None:
    assert store.seed() is None
    store.set_seed(7)
    assert store.seed() == 7
    store.set_seed(2**70)  # any int a setting allows
    assert store.seed() == 2**70
    store.clear()
    assert store.seed() is None


def test_the_upload_token_key_is_drawn_once_and_kept_by_clear(store: Store) -> None:
    key = store.upload_token_key()
    assert isinstance(key, bytes) and len(key) == 32
    store.put_upload("tok", PendingUpload("key-a", "file-1"))
    store.clear()
    assert store.upload_token_key() == key
    assert open_store("memory").upload_token_key() != key  # another store draws its own


# ---------------------------------------------------------------- tenants


def test_tenants_in_the_order_first_stored(store: Store) -> None:
    assert store.get_tenant("key-b") is None
    store.put_tenant(Tenant("key-b"))
    store.put_tenant(Tenant("key-a", "team-a"))
    store.put_tenant(Tenant("key-b", "renamed"))
    assert store.get_tenant("key-b") == Tenant("key-b", "renamed")
    assert [t.key for t in store.tenants()] == ["key-b", "key-a"]


def test_known_keys(store: Store) -> None:
    assert store.known_keys() is None
    store.set_known_keys(frozenset({"key-a"}))
    assert store.known_keys() == frozenset({"key-a"})
    store.set_known_keys(None)
    assert store.known_keys() is None


# ---------------------------------------------------------------- jobs


def test_jobs_by_tenant_and_by_id(store: Store) -> None:
    a1, b1, a2 = job("eval-a1", "key-a"), job("eval-b1", "key-b"), job("eval-a2", "key-a")
    for made in (a1, b1, a2):
        store.put_job(made)
    assert store.get_job("key-a", "eval-a1") == a1
    assert store.get_job("key-b", "eval-a1") is None  # another tenant's job is not found
    assert store.find_job("eval-b1") == b1 and store.find_job("eval-zz") is None
    assert store.jobs("key-a") == [a1, a2] and store.jobs("key-c") == []


def test_put_job_replaces_in_place(store: Store) -> None:
    store.put_job(job("eval-1"))
    store.put_job(job("eval-2"))
    changed = replace(job("eval-1"), error="boom")
    store.put_job(changed)
    assert store.get_job("key-a", "eval-1") == changed == store.find_job("eval-1")
    assert [j.workflow_id for j in store.jobs("key-a")] == ["eval-1", "eval-2"]  # order kept


def test_job_for_result_file_follows_the_job(store: Store) -> None:
    store.put_job(job("eval-1", result_file_id="file-r1"))
    assert store.job_for_result_file("key-a", "file-r1") == store.find_job("eval-1")
    assert store.job_for_result_file("key-b", "file-r1") is None
    store.put_job(job("eval-1", result_file_id="file-r2"))  # the update hook may name another file
    assert store.job_for_result_file("key-a", "file-r1") is None
    assert store.job_for_result_file("key-a", "file-r2") is not None


def test_find_jobs_by_status_at_an_instant_newest_first(store: Store) -> None:
    # created at 1_000; completed from 1_005 (the `job` helper's phases)
    early, late = job("eval-1"), job("eval-2", created_ns=2_000)
    store.put_job(early)
    store.put_job(job("eval-b", "key-b"))
    store.put_job(late)

    def ids(status: str, at_ns: int, limit: int = 10, check: object = None) -> list[str]:
        found = store.find_jobs("key-a", status, at_ns, limit, check or (lambda made: True))  # type: ignore[arg-type]
        return [made.workflow_id for made in found]

    assert ids("pending", 1_004) == ["eval-2", "eval-1"]  # eval-2 is pending before its creation too
    assert ids("completed", 1_005) == ["eval-1"] and ids("completed", 2_005) == ["eval-2", "eval-1"]
    assert ids("completed", 2_005, limit=1) == ["eval-2"] and ids("completed", 2_005, limit=0) == []
    assert ids("completed", 2_005, check=lambda made: made.workflow_id != "eval-2") == ["eval-1"]
    assert ids("completed", 1_004) == [] and ids("running", 2_005) == []  # the clock moved back; no such status
    store.put_job(replace(early, phases=(Phase("pending", 0), Phase("error", 9_000))))  # a job changed
    assert ids("completed", 20_000) == ["eval-2"] and ids("error", 20_000) == ["eval-1"]
    assert ids("pending", 1_004) == ["eval-2", "eval-1"]
    store.clear()
    assert ids("error", 20_000) == []


# ---------------------------------------------------------------- files


def test_files_and_their_bytes_apart(store: Store) -> None:
    pending = file("file-2", size=None)
    store.put_file(file("file-1", size=3))
    store.put_file(pending)
    store.put_content("key-a", "file-1", b"abc")
    assert store.get_file("key-a", "file-2") == pending and store.get_content("key-a", "file-2") is None
    assert store.get_file("key-b", "file-1") is None and store.get_content("key-b", "file-1") is None
    assert [f.id for f in store.files("key-a")] == ["file-1", "file-2"] and store.files("key-b") == []
    assert store.get_content("key-a", "file-1") == b"abc"
    store.put_file(replace(pending, size=1))
    store.put_content("key-a", "file-2", b"z")
    assert [f.size for f in store.files("key-a")] == [3, 1]


def test_delete_file_forgets_metadata_and_bytes(store: Store) -> None:
    store.put_file(file("file-1", size=1))
    store.put_content("key-a", "file-1", b"a")
    store.delete_file("key-a", "file-1")
    store.delete_file("key-a", "file-404")  # nothing happens
    assert store.get_file("key-a", "file-1") is None and store.get_content("key-a", "file-1") is None
    assert store.files("key-a") == []


# ---------------------------------------------------------------- uploads


def test_uploads_and_parts(store: Store) -> None:
    one, two = PendingUpload("key-a", "file-1", expires_ns=5), PendingUpload("key-a", "file-2", multipart=True)
    store.put_upload("tok-1", one)
    store.put_upload("tok-2", two)
    assert store.get_upload("tok-2") == two and store.get_upload("tok-3") is None
    assert store.uploads() == [("tok-1", one), ("tok-2", two)]
    store.put_upload_part("tok-2", 2, b"b")
    store.put_upload_part("tok-2", 1, b"a")
    store.put_upload_part("tok-2", 1, b"A")
    assert store.upload_parts("tok-2") == {1: b"A", 2: b"b"} and store.upload_parts("tok-1") == {}
    store.delete_upload("tok-2")
    assert store.get_upload("tok-2") is None and store.upload_parts("tok-2") == {}
    assert store.uploads() == [("tok-1", one)]


# ---------------------------------------------------------------- ids


def test_draws_follow_the_generator_state(store: Store) -> None:
    store.set_id_state(ids.initial_state(7))
    first = [store.draw(ids.file_id), store.draw(ids.token), store.draw(ids.workflow_id(5))]
    expected = ids.generator(7)
    assert first == [ids.file_id(expected), ids.token(expected), ids.workflow_id(5)(expected)]
    saved = store.id_state()
    after = [store.draw(ids.file_id) for _ in range(3)]
    store.set_id_state(saved)
    assert [store.draw(ids.file_id) for _ in range(3)] == after
    assert store.id_state() == ids.export_state(ids.restore_state(store.id_state()))


# ---------------------------------------------------------------- clock


def test_clock_state(store: Store) -> None:
    assert store.clock_state().mode == "manual"
    state = ClockState("real", 60.0, 123, 456)
    store.set_clock_state(state)
    assert store.clock_state() == state


# ---------------------------------------------------------------- counters


def test_counters_return_the_new_value(store: Store) -> None:
    assert store.counter(reads_counter("eval-1")) == 0
    assert [store.increment(reads_counter("eval-1")) for _ in range(3)] == [1, 2, 3]
    assert store.increment("x", by=5) == 5 and store.counter("x") == 5
    store.set_counter("x", 1)
    assert store.increment("x") == 2 and store.counter(reads_counter("eval-2")) == 0


def test_counters_are_atomic_under_threads(store: Store) -> None:
    def bump() -> None:
        for _ in range(500):
            store.increment("shared")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.counter("shared") == 2000


def test_quota_admission_slides_per_tenant(store: Store) -> None:
    assert store.admit("fault-1", "key-a", 0, 10, 2) is None
    assert store.admit("fault-1", "key-a", 4, 10, 2) is None
    assert store.admit("fault-1", "key-a", 5, 10, 2) == 0  # the request at 0 must leave the window first
    assert store.admit("fault-1", "key-b", 5, 10, 2) is None  # each tenant has its own window
    assert store.admit("fault-2", "key-a", 5, 10, 2) is None  # and each rule
    assert store.admit("fault-1", "key-a", 11, 10, 2) is None  # 0 left the window at 10
    assert store.quota_windows("fault-1") == {"key-a": [4, 11], "key-b": [5]}
    store.set_quota_windows("fault-1", {"key-c": [1]})
    assert store.quota_windows("fault-1") == {"key-c": [1]} and store.quota_windows("fault-9") == {}


# ---------------------------------------------------------------- books


def test_scenario_book(store: Store) -> None:
    assert store.scenario_book() == ScenarioBook()
    book = ScenarioBook(
        default=Scenario(outcome=Outcome(kind="stall")),
        types={"score": Scenario(outcome=Outcome(kind="error"))},
        entries=[ScenarioEntry(id="scn-1", times=2)],
    )
    store.put_scenario_book(book)
    assert store.scenario_book() == book


def test_fault_rules(store: Store) -> None:
    assert list(store.fault_rules()) == []
    rules = [FaultRule(id="fault-1"), FaultRule(id="fault-2", action=FaultAction(kind="drop"))]
    store.put_fault_rules(rules)
    assert list(store.fault_rules()) == rules
    store.put_fault_rules(rules[1:])
    assert [r.id for r in store.fault_rules()] == ["fault-2"]


# ---------------------------------------------------------------- capacity


def test_capacity_log(store: Store) -> None:
    assert store.capacity_log() == CapacityLog() and not store.capacity_log().active
    log = CapacityLog(((0, Capacity(per_tenant=2)), (5_000, Capacity(per_tenant=2, total=3)), (9_000, Capacity())))
    store.put_capacity_log(log)
    assert store.capacity_log() == log
    store.put_capacity_log(CapacityLog())
    assert store.capacity_log() == CapacityLog()


def test_clear_forgets_the_capacity(store: Store) -> None:
    store.put_capacity_log(CapacityLog(((0, Capacity(total=1)),)))
    store.clear()
    assert store.capacity_log() == CapacityLog()


def test_a_pinned_phase_and_a_place_in_line_come_back(store: Store) -> None:
    phases = (Phase("pending", 0), Phase("queued", 10), Phase("running", 50, pinned=True), Phase("completed", 90))
    store.put_job(job("eval-1", phases=phases, line=7))
    found = store.find_job("eval-1")
    assert found is not None and found.phases == phases and found.line == 7
    assert [phase.pinned for phase in found.phases] == [False, False, True, False]


# ---------------------------------------------------------------- recordings


def recording(name: str, **extra: object) -> Recording:
    updates = [
        {"status": "pending", "message": "Job created and pending for processing", "timestamp": "2025-06-30T12:50:40Z"},
        {"status": "error", "message": "Job status updated", "timestamp": "2025-06-30T12:55:40.5Z"},
    ]
    return Recording.model_validate({"name": name, "job": {"type": "score", "status_updates": updates, **extra}})


def test_recordings_in_the_order_added_and_cleared_with_the_state(store: Store) -> None:
    assert list(store.recordings()) == []
    kept = [recording("one", results={"error": "boom"}, owner_id="abc"), recording("two")]
    store.put_recordings(kept)
    assert list(store.recordings()) == kept
    assert store.recordings()[0].job.model_extra == {"owner_id": "abc"}  # the client's other keys stay
    store.clear()
    assert list(store.recordings()) == []


# ---------------------------------------------------------------- journal


def test_journal_keeps_the_most_recent_entries(store: Store) -> None:
    def record(path: str, limit: int | None) -> RecordedRequest:
        made = entry(seq=store.increment(JOURNAL_SEQ), path=path)
        store.append_request(made, limit)
        return made

    recorded = [record(f"/v1/files/{n}", 3) for n in range(5)]
    assert [e.seq for e in recorded] == [1, 2, 3, 4, 5]
    assert store.requests() == recorded[2:]
    store.clear_requests()
    assert store.requests() == [] and store.counter(JOURNAL_SEQ) == 0
    for n in range(5):
        record(f"/v1/files/{n}", None)  # no limit: every entry is kept
    assert [e.seq for e in store.requests()] == [1, 2, 3, 4, 5]


def test_journal_entries_keep_every_field(store: Store) -> None:
    made = replace(
        entry(seq=store.increment(JOURNAL_SEQ)),
        key_fingerprint="key-…1a2b3c4d",
        wall_ns=1_767_225_600_123_456_789,
        retry_after_ms=2500,
        job_status="running",
    )
    store.append_request(made, None)
    assert store.requests() == [made]


def test_journal_keeps_the_most_recent_entries_within_a_byte_bound(store: Store) -> None:
    def record(body: bytes, max_bytes: int | None) -> RecordedRequest:
        made = replace(entry(seq=store.increment(JOURNAL_SEQ), path="/p"), body=body, body_size=None)
        store.append_request(made, 100, max_bytes)
        return made

    recorded = [record(b"x" * 98, 300) for _ in range(5)]  # 100 bytes each, with the path
    assert [e.journal_bytes for e in recorded] == [100] * 5
    assert store.requests() == recorded[2:]
    huge = record(b"x" * 1000, 300)
    assert store.requests() == [huge]  # the newest entry is always kept, whatever its size
    assert store.requests()[-1].size == 1000 and store.requests()[-1].sha256 == hashlib.sha256(huge.body).hexdigest()
    store.clear_requests()
    kept = [record(b"x" * 98, 300) for _ in range(3)]
    assert store.requests() == kept  # the bytes of cleared entries no longer count


def test_journal_reads_while_another_thread_appends(store: Store) -> None:
    def append() -> None:
        for _ in range(2000):
            store.append_request(entry(), 100)

    writer = threading.Thread(target=append)
    writer.start()
    while writer.is_alive():
        assert len(store.requests()) <= 100
    writer.join()
    assert len(store.requests()) == 100


def test_every_method_of_the_interface_is_tested() -> None:
    tested = open(__file__).read()
    methods = sorted(name for name in Store.__abstractmethods__)
    assert [name for name in methods if f".{name}(" not in tested] == []
