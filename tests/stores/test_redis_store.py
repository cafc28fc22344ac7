"""`RedisStore` as several processes see it: each `RedisStore` below has its own cache and its own
lease, as a process of its own would, over one real redis-server (tests/stores/redis_support.py).
The interface itself, method by method, is tested in tests/engine/test_store.py."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis
from together_eval_emulator import Emulator, EmulatorConfig
from together_eval_emulator.engine import _ids as ids
from together_eval_emulator.engine._clock import ClockState
from together_eval_emulator.engine._datasets import parse_dataset
from together_eval_emulator.engine._faults import FaultAction, FaultMatch, FaultRule
from together_eval_emulator.engine._memory_store import MemoryStore
from together_eval_emulator.engine._scenarios import ScenarioBook, ScenarioEntry
from together_eval_emulator.engine._store import JOURNAL_SEQ, Job, PendingUpload, Tenant
from together_eval_emulator.faces._asgi import commit_answered
from together_eval_emulator.stores import _redis_codec as codec
from together_eval_emulator.stores._errors import IncompatibleStore, StoreError
from together_eval_emulator.stores._redis import LeaseLost, RedisStore
from together_eval_emulator.stores._redis_commits import Reply, merged

from tests.engine.test_store import entry, file, job
from tests.stores.redis_support import free_port
from tests.support import CoreClient, classify_params, jsonl, qa_rows

Stores = Callable[[], RedisStore]


@pytest.fixture
def stores(redis_url: str) -> Iterator[Stores]:
    """`stores()`: one more process's view of the test's Redis database."""
    made: list[RedisStore] = []

    def make() -> RedisStore:
        made.append(RedisStore(redis_url))
        return made[-1]

    yield make
    for store in made:
        store.close()


def same_job(a: Job | None, b: Job | None) -> bool:
    """Jobs equal as records; the judge (compared by identity) by what it is made of."""
    assert a is not None and b is not None
    return replace(a, judge=None) == replace(b, judge=None) and (a.judge.type, a.judge.seed, a.judge.params) == (
        b.judge.type,
        b.judge.seed,
        b.judge.params,
    )


# ---------------------------------------------------------------- one state, many processes


def test_another_process_reads_every_record(stores: Stores) -> None:
    one, two = stores(), stores()
    dataset = parse_dataset(b'{"prompt": "p", "response": "r"}\n', "jsonl", "d.jsonl")
    made = job("eval-1", dataset=dataset, result_file_id="file-r1")
    with one.transaction():
        one.put_tenant(Tenant("key-a", "team-a"))
        one.set_known_keys(frozenset({"key-a"}))
        one.put_job(made)
        one.put_file(file("file-1", size=3))
        one.put_content("key-a", "file-1", b"abc")
        one.put_upload("tok", PendingUpload("key-a", "file-2", multipart=True))
        one.put_upload_part("tok", 1, b"part")
        drawn = one.draw(ids.file_id)
        one.set_clock_state(ClockState("real", 2.0, 5, 6))
        one.increment("c", by=3)
        one.admit("fault-1", "key-a", 10, 100, 5)
        one.put_scenario_book(ScenarioBook(entries=[ScenarioEntry(id="scn-1", times=2)]))
        one.put_fault_rules([FaultRule(id="fault-1")])
        one.append_request(entry(seq=one.increment(JOURNAL_SEQ)), 10)
    assert two.tenants() == [Tenant("key-a", "team-a")] and two.known_keys() == frozenset({"key-a"})
    assert same_job(two.find_job("eval-1"), made) and same_job(two.job_for_result_file("key-a", "file-r1"), made)
    assert [j.workflow_id for j in two.jobs("key-a")] == ["eval-1"]
    assert two.files("key-a") == [file("file-1", size=3)] and two.get_content("key-a", "file-1") == b"abc"
    assert two.uploads() == [("tok", PendingUpload("key-a", "file-2", multipart=True))]
    assert two.upload_parts("tok") == {1: b"part"}
    assert two.draw(ids.file_id) != drawn and two.id_state() != ids.initial_state(0)
    assert two.clock_state() == ClockState("real", 2.0, 5, 6)
    assert two.counter("c") == 3 and two.quota_windows("fault-1") == {"key-a": [10]}
    assert two.scenario_book().entries[0].id == "scn-1" and [r.id for r in two.fault_rules()] == ["fault-1"]
    assert [e.seq for e in two.requests()] == [1] and two.counter(JOURNAL_SEQ) == 1


def test_a_change_reaches_the_cache_of_every_other_process(stores: Stores) -> None:
    one, two = stores(), stores()
    one.put_job(job("eval-1"))
    one.put_file(file("file-1", size=1))
    one.put_content("key-a", "file-1", b"a")
    assert two.find_job("eval-1") is not None and two.get_content("key-a", "file-1") == b"a"  # now cached in two
    assert two.clock_state().mode == "manual" and two.counter("c") == 0
    one.put_job(job("eval-1", error="changed"))
    one.delete_file("key-a", "file-1")
    one.set_clock_state(ClockState("manual", 1.0, 42, 0))
    one.increment("c")
    assert two.find_job("eval-1").error == "changed"  # type: ignore[union-attr]
    assert two.get_file("key-a", "file-1") is None and two.get_content("key-a", "file-1") is None
    assert two.clock_state().anchor_ns == 42 and two.counter("c") == 1
    one.clear()
    assert two.find_job("eval-1") is None and two.counter("c") == 0 and two.jobs("key-a") == []


def test_commits_sent_back_to_back_all_apply_in_order_and_reach_the_other_process(stores: Stores) -> None:
    """Unconfirmed commits queue while a round trip is under way and go together (merged into one
    script run per lease): every write applies, in order, and the other process drops each key."""
    one, two = stores(), stores()
    for name in ("a", "b", "c"):
        one.increment(name)
    assert [two.counter(name) for name in ("a", "b", "c")] == [1, 1, 1]  # now cached in two
    with one.unconfirmed() as pending:
        for step in range(60):
            one.increment(("a", "b", "c")[step % 3], by=step)
            one.put_job(job(f"eval-{step % 5}", error=f"step {step}"))
    for future in pending:
        one.confirm(future)
    assert [two.counter(name) for name in ("a", "b", "c")] == [1 + sum(range(k, 60, 3)) for k in range(3)]
    assert [two.find_job(f"eval-{k}").error for k in range(5)] == [f"step {55 + k}" for k in range(5)]  # type: ignore[union-attr]


def test_an_event_loop_named_by_the_face_reads_the_replies_it_awaits(stores: Stores) -> None:
    """Nothing but the loop reads the commit connection while the loop awaits (no thread waits):
    without `answer_on` the await below would time out. A later loop takes over from a closed one,
    and a caller without a loop reads its own replies."""
    one, two = stores(), stores()
    one.increment("a")

    async def commit_and_await(by: int) -> None:
        with one.unconfirmed() as pending:
            one.increment("a", by=by)
        assert pending and not pending[-1].done()
        loop = asyncio.get_running_loop()
        one.answer_on(loop)
        await asyncio.wait_for(commit_answered(pending[-1], loop), 5)  # as the server face awaits it
        one.confirm(pending[-1])  # and then reads the answer

    asyncio.run(commit_and_await(2))
    assert two.counter("a") == 3
    one.increment("a", by=4)  # no loop: the caller reads its reply itself
    asyncio.run(commit_and_await(8))  # a new loop
    assert two.counter("a") == 15 and one.counter("a") == 15


def test_a_dropped_commit_connection_fails_the_commit_and_the_next_transaction_reconnects(
    stores: Stores, redis_url: str
) -> None:
    one, two = stores(), stores()
    one.increment("a")
    port = one._lease._committer._sock.getsockname()[1]
    redis.Redis.from_url(redis_url).client_kill(f"127.0.0.1:{port}")
    with pytest.raises(redis.ConnectionError):
        one.increment("a", by=10)  # not known to be applied: the request answers so
    one.increment("a", by=100)
    assert one.counter("a") == two.counter("a") and two.counter("a") in (101, 111)
    assert one._lease._committer._sock.getsockname()[1] != port


def test_after_a_dropped_connection_the_event_loop_reads_the_new_one(stores: Stores, redis_url: str) -> None:
    one, two = stores(), stores()
    one.increment("a")

    async def commit_and_await(by: int) -> None:
        with one.unconfirmed() as pending:
            one.increment("a", by=by)
        loop = asyncio.get_running_loop()
        one.answer_on(loop)
        await asyncio.wait_for(commit_answered(pending[-1], loop), 5)  # as the server face awaits it
        one.confirm(pending[-1])  # and then reads the answer

    async def requests() -> None:
        await commit_and_await(1)
        port = one._lease._committer._sock.getsockname()[1]
        redis.Redis.from_url(redis_url).client_kill(f"127.0.0.1:{port}")
        with pytest.raises(redis.ConnectionError):
            await commit_and_await(10)
        await commit_and_await(100)  # on a new connection, which the loop now reads

    asyncio.run(requests())
    assert two.counter("a") == 102


def test_a_commit_refused_by_redis_fails_with_the_later_ones_and_the_next_transaction_starts_over(
    stores: Stores, redis_url: str
) -> None:
    one, two = stores(), stores()
    one.increment("a")
    redis.Redis.from_url(redis_url).delete("together-eval-emulator:lease:lock")  # as if it expired
    with one.unconfirmed() as pending:
        one.increment("a", by=10)
        one.increment("a", by=20)
    for future in pending:
        with pytest.raises(LeaseLost):
            one.confirm(future)
    one.increment("a", by=100)  # takes the lease anew
    assert two.counter("a") == 101 and one.counter("a") == 101


def test_merged_commits_keep_their_writes_in_order_and_stop_at_a_hand_over() -> None:
    keys = ["lock", "queue", "gen", "log"]

    def commit(token: str, changed: str, hand: int, *writes: object) -> tuple[list[object], list[object]]:
        return keys, [token, "p:", 2000, changed, 2000, hand, *writes]

    runs = merged(
        [
            commit("t1", "a\nb", 0, 2, "SET", "a"),
            commit("t1", "b\nc", 0, 1, "DEL"),
            commit("t1", "d", 1, 2, "SET", "d"),  # may hand the lease over: the run ends with it
            commit("t1", "e", 0, 1, "X"),
            commit("t2", "f", 0, 1, "Y"),  # another lease: another run
        ]
    )
    assert [count for _, _, count in runs] == [3, 1, 1]
    first = runs[0][1]
    assert first[:6] == ["t1", "p:", 2000, "a\nb\nc\nd", 2000, 1]
    assert first[6:] == [2, "SET", "a", 1, "DEL", 2, "SET", "d"]
    assert runs[1][1][0] == "t1" and runs[2][1][0] == "t2" and runs[2][1][6:] == [1, "Y"]


def test_a_reply_calls_each_callback_once_and_a_failing_callback_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[object] = []
    reply = Reply()
    reply.add_done_callback(lambda r: calls.append(("before", r.result())))
    reply.add_done_callback(lambda r: 1 / 0)  # logged; the callbacks after it still run
    reply.add_done_callback(lambda r: calls.append(("after the failing one", r.result())))
    assert not reply.done()
    with pytest.raises(RuntimeError, match="not answered yet"):
        reply.result()
    reply.set_result([7])
    assert reply.done() and reply.result() == [7]
    reply.add_done_callback(lambda r: calls.append(("once done", r.result())))  # called at once
    assert calls == [("before", [7]), ("after the failing one", [7]), ("once done", [7])]
    assert "ZeroDivisionError" in caplog.text
    with pytest.raises(RuntimeError, match="answered twice"):
        reply.set_exception(redis.ConnectionError("late"))
    failed = Reply()
    failed.set_exception(redis.ConnectionError("gone"))
    with pytest.raises(redis.ConnectionError, match="gone"):
        failed.result()


def test_ids_are_drawn_in_one_sequence_across_processes(stores: Stores) -> None:
    one, two = stores(), stores()
    one.set_id_state(ids.initial_state(3))
    drawn = [store.draw(ids.token) for store in (one, two, one, two, two, one)]
    expected = ids.generator(3)
    assert drawn == [ids.token(expected) for _ in range(6)]


def test_only_a_process_without_the_uncontested_lease_may_wait(stores: Stores) -> None:
    one = stores()
    one.counter("c")  # takes the lease
    assert not one.may_wait()  # its next request runs at once: the server face keeps it on the event loop
    two = stores()
    two.counter("c")  # asks for the lease: one hands it over
    assert one.may_wait() and not two.may_wait()
    assert not MemoryStore().may_wait()


def test_a_long_transaction_keeps_its_lease_while_another_process_waits(redis_url: str) -> None:
    one, two = RedisStore(redis_url, lease_ms=1000), RedisStore(redis_url, lease_ms=1000)
    try:
        with one.transaction():
            one.increment("c")
            waiting = threading.Thread(target=lambda: two.increment("c"))
            waiting.start()  # two asks for the lease while one's transaction goes on
            time.sleep(2.5)  # a request that runs longer than the lease would last without renewal
            one.increment("c")
        waiting.join()
        assert two.counter("c") == 3  # one's transaction was committed whole, then two's
    finally:
        one.close()
        two.close()


def test_a_failed_transaction_writes_nothing(stores: Stores) -> None:
    one, two = stores(), stores()
    with pytest.raises(RuntimeError), one.transaction():
        one.put_tenant(Tenant("key-a"))
        one.increment("c")
        one.draw(ids.token)
        raise RuntimeError("the request failed")
    assert two.tenants() == [] and two.counter("c") == 0 and two.id_state() == ids.initial_state(0)
    assert one.tenants() == [] and one.counter("c") == 0  # nor does the cache of the process that failed


def test_datasets_are_stored_once_for_every_job_made_from_them(stores: Stores, redis_url: str) -> None:
    one, two = stores(), stores()
    dataset = parse_dataset(jsonl(qa_rows(50)).encode(), "jsonl", "d.jsonl")
    for n in range(3):
        one.put_job(job(f"eval-{n}", dataset=dataset))
    client = redis.Redis.from_url(redis_url)
    assert len(client.keys("*dataset*")) == 1
    loaded = [two.find_job(f"eval-{n}") for n in range(3)]
    assert all(j is not None and j.dataset == dataset for j in loaded)
    assert loaded[0].dataset is loaded[1].dataset  # type: ignore[union-attr] (one object in each process too)


def test_a_store_of_another_layout_is_refused(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).set("together-eval-emulator:schema", "0 (together-eval-emulator 0.0.1)")
    with pytest.raises(IncompatibleStore, match=r"layout '0 \(together-eval-emulator 0.0.1\)'.*FLUSHDB"):
        RedisStore(redis_url)


def test_reset_forgets_the_state_whatever_wrote_it(stores: Stores, redis_url: str) -> None:
    stores().put_tenant(Tenant("key-a"))
    redis.Redis.from_url(redis_url).set("together-eval-emulator:schema", "0 (another layout)")
    reset = RedisStore(redis_url, reset=True)
    try:
        assert reset.tenants() == [] and reset.seed() is None
    finally:
        reset.close()


def test_an_unreachable_redis_is_one_line_without_the_password() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(
        StoreError, match=rf"^cannot use the Redis store at redis://:\*\*\*@127.0.0.1:{port}/0: "
    ) as caught:
        RedisStore(f"redis://:hunter2@127.0.0.1:{port}/0")
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_stored_values_load_only_emulator_records() -> None:
    assert codec.loads(codec.dumps(Tenant("key-a"))) == Tenant("key-a")
    hostile = pickle.dumps(print)  # any callable outside the emulator's record types
    with pytest.raises(codec.ForbiddenPickle, match="builtins.print"):
        codec.loads(hostile)


# ---------------------------------------------------------------- emulators (processes) sharing a store


def emulators(redis_url: str, count: int, **settings: object) -> list[Emulator]:
    """`count` emulators on one Redis state: the first fills it from the settings, the others join."""
    config = EmulatorConfig(clock="manual", **settings)  # type: ignore[arg-type]
    return [Emulator(config, store=RedisStore(redis_url)) for _ in range(count)]


def close(made: list[Emulator]) -> None:
    for emulator in made:
        emulator.store.close()  # type: ignore[attr-defined]


def in_threads(clients: list[CoreClient], per_client: int, work: Callable[[CoreClient], int]) -> list[int]:
    """Run `work` `per_client` times from 3 threads per client at once; every status it returned."""
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(3 * len(clients))

    def run(client: CoreClient) -> None:
        start.wait()
        for _ in range(per_client):
            status = work(client)
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_times_1_fault_rule_fires_once_among_concurrent_processes(redis_url: str) -> None:
    rule = FaultRule(match=FaultMatch(route="files.list"), action=FaultAction(kind="error", status=503), times=1)
    made = emulators(redis_url, 4, faults=[rule])
    try:
        clients = [CoreClient(emulator) for emulator in made]
        statuses = in_threads(clients, 10, lambda client: client.request("GET", "/v1/files").status)
        assert sorted(statuses).count(503) == 1 and len(statuses) == 120
        listed = clients[0].control("GET", "faults")["rules"][0]
        assert (listed["seen"], listed["fired"]) == (120, 1)
    finally:
        close(made)


def test_a_times_1_scenario_applies_to_one_job_among_concurrent_processes(redis_url: str) -> None:
    made = emulators(redis_url, 4)
    try:
        clients = [CoreClient(emulator) for emulator in made]
        file_id = clients[0].upload(jsonl(qa_rows(3)))
        clients[1].control("POST", "scenarios", {"times": 1, "outcome": {"kind": "error"}})

        def create(client: CoreClient) -> int:
            return client.create("classify", classify_params(file_id)).status

        assert set(in_threads(clients, 5, create)) == {200}
        clients[2].advance(86_400)
        jobs = clients[3].control("GET", "jobs")
        assert len(jobs) == 60 and len({job["workflow_id"] for job in jobs}) == 60  # ids stay unique
        assert sorted(job["status"] for job in jobs).count("error") == 1
        assert clients[0].control("GET", "scenarios")["entries"] == []  # used up
    finally:
        close(made)


def test_reseed_and_reset_on_one_process_hold_for_all(redis_url: str) -> None:
    made = emulators(redis_url, 2)
    try:
        one, two = (CoreClient(emulator) for emulator in made)
        file_id = one.upload(jsonl(qa_rows(3)))
        assert two.own_files()[0]["id"] == file_id
        one.control("POST", "seed", {"seed": 7})
        assert two.control("GET", "seed") == {"seed": 7} and two.own_files() == []
        again = two.upload(jsonl(qa_rows(3)))
        fresh = CoreClient(Emulator(EmulatorConfig(clock="manual", seed=7)))
        assert fresh.upload(jsonl(qa_rows(3))) == again  # ids as a single emulator with seed 7 draws them
        two.control("POST", "reset")
        assert one.own_files() == [] and one.control("GET", "seed") == {"seed": 7}
    finally:
        close(made)
