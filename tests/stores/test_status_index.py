"""Status-filtered lists from the stores' status index give exactly what a scan of every job gives.

A seeded model test: random jobs (every kind of phase: timed, entered on reads, manual, offsets out
of order, several at one instant), random changes to them, and queries at random clock instants
(forward and back) for every status, each answered by `Store.find_jobs` and by a brute-force scan of
`Store.jobs`, for every store kind. The shared stores (SQLite, Redis) run it also through two store
objects on one state, as two processes would: each sees the other's changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine import _lifecycle as lifecycle
from together_eval_emulator.engine._lifecycle import Phase
from together_eval_emulator.engine._status_index import STATUS_BITS, SortedInts, StatusIndex, timeline
from together_eval_emulator.engine._store import Job, Store
from together_eval_emulator.stores._factory import open_store

from tests.engine.test_store import job as make_job
from tests.stores.store_support import STORE_KINDS, close, store_url
from tests.support import JUDGE, CoreClient, jsonl, qa_rows

STATUSES = list(STATUS_BITS)
TENANTS = ["key-a", "key-b"]


def random_phases(rng: random.Random) -> tuple[Phase, ...]:
    """Phase 0 at offset 0, then timed phases (in order or not), phases entered on reads, manual ones."""
    phases = [Phase(rng.choice(STATUSES), 0)]
    offset = 0
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        status = rng.choice(STATUSES)
        if kind < 0.55:
            offset += rng.choice([0, 0, rng.randint(1, 3_000)])
            phases.append(Phase(status, offset))
        elif kind < 0.7:
            phases.append(Phase(status, rng.randint(0, 6_000)))  # out of order with the others
        elif kind < 0.9:
            phases.append(Phase(status, None, after_reads=rng.randint(1, 4)))
        else:
            phases.append(Phase(status, None))
    return tuple(phases)


def listed(job: Job, at_ns: int, reads: dict[str, int]) -> str:
    """The status `Jobs.list` lists a job with: as the read that lists it would leave it."""
    elapsed = at_ns - job.created_ns
    would_be = lifecycle.on_read(job.phases, elapsed, reads.get(job.workflow_id, 0) + 1)
    return lifecycle.reached(would_be, elapsed)[-1].status


def scan(store: Store, tenant: str, status: str, at_ns: int, limit: int, reads: dict[str, int]) -> list[str]:
    """The answer without an index: every job of the tenant, newest first."""
    found = [j.workflow_id for j in reversed(store.jobs(tenant)) if listed(j, at_ns, reads) == status]
    return found[: max(limit, 0)]


def run_model(stores: list[Store], seed: int, steps: int) -> int:
    """Random puts, changes, read counts, clears and queries through `stores` (one state); returns the
    number of queries compared."""
    rng = random.Random(seed)
    made: dict[str, Job] = {}
    reads: dict[str, int] = {}
    queries = 0
    for step in range(steps):
        store = rng.choice(stores)
        roll = rng.random()
        if roll < 0.35 or not made:
            workflow_id = f"eval-{step:05d}"
            made[workflow_id] = make_job(
                workflow_id, rng.choice(TENANTS), created_ns=rng.randint(0, 10_000), phases=random_phases(rng)
            )
            store.put_job(made[workflow_id])
        elif roll < 0.55:
            workflow_id = rng.choice(sorted(made))
            made[workflow_id] = replace(made[workflow_id], phases=random_phases(rng))
            store.put_job(made[workflow_id])
        elif roll < 0.6:
            workflow_id = rng.choice(sorted(made))
            reads[workflow_id] = reads.get(workflow_id, 0) + rng.randint(1, 3)
        elif roll < 0.605:
            store.clear()
            made.clear()
            reads.clear()
        else:
            tenant, status = rng.choice(TENANTS), rng.choice(STATUSES)
            at_ns, limit = rng.randint(0, 20_000), rng.choice([0, 1, 3, 10, 1_000])
            with store.transaction():
                found = store.find_jobs(
                    tenant, status, at_ns, limit, lambda j, t=at_ns, s=status: listed(j, t, reads) == s
                )
                expected = scan(store, tenant, status, at_ns, limit, reads)
            assert [j.workflow_id for j in found] == expected, (step, tenant, status, at_ns, limit)
            queries += 1
    return queries


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def opened(kind: str, request: pytest.FixtureRequest, tmp_path: Path, count: int) -> Iterator[list[Store]]:
    url = store_url(kind, request, tmp_path)
    stores = [open_store(url) for _ in range(count)]
    stores[0].clear()
    try:
        yield stores
    finally:
        stores[0].clear()
        for store in stores:
            close(store)


def test_the_index_answers_as_a_scan_of_every_job(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for stores in opened(kind, request, tmp_path, 1):
        assert run_model(stores, seed=17, steps=1_500) > 500


@pytest.mark.parametrize("shared", ["sqlite", "redis"])
def test_two_stores_on_one_state_follow_each_other(shared: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for stores in opened(shared, request, tmp_path, 2):
        assert run_model(stores, seed=23, steps=800) > 250


def test_a_store_opened_later_builds_its_index_from_the_state(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if kind == "memory":
        pytest.skip("a memory store is not shared")
    for stores in opened(kind, request, tmp_path, 1):
        rng = random.Random(5)
        for n in range(60):
            stores[0].put_job(
                make_job(f"eval-{n}", "key-a", created_ns=rng.randint(0, 5_000), phases=random_phases(rng))
            )
        later = open_store(store_url(kind, request, tmp_path))
        try:
            for at_ns in range(0, 12_000, 500):
                for status in STATUSES:
                    found = later.find_jobs(
                        "key-a", status, at_ns, 5, lambda j, t=at_ns, s=status: listed(j, t, {}) == s
                    )
                    assert [j.workflow_id for j in found] == scan(later, "key-a", status, at_ns, 5, {})
        finally:
            close(later)


# ---------------------------------------------------------------- the index itself


def test_a_timeline_is_the_status_jobs_derive_at_every_instant() -> None:
    rng = random.Random(3)
    for _ in range(2_000):
        phases, created = random_phases(rng), rng.randint(0, 1_000)
        line = timeline(created, phases)
        job = make_job(created_ns=created, phases=phases)
        for at_ns in sorted({rng.randint(0, 12_000) for _ in range(20)} | set(line[1::2])):
            bits = line[0]
            for index in range(1, len(line), 2):
                if line[index] <= at_ns:
                    bits = line[index + 1]
            assert bits & STATUS_BITS[listed(job, at_ns, {})], (phases, at_ns)  # the status is always held
            waits = any(p.offset_ns is None and p.after_reads is not None for p in phases)
            if not waits:  # exact when nothing waits on reads
                assert bits == STATUS_BITS[listed(job, at_ns, {})]


def test_the_index_moves_its_cursor_both_ways() -> None:
    index = StatusIndex()
    index.put(0, timeline(0, (Phase("pending", 0), Phase("running", 10), Phase("completed", 20))))
    index.put(1, timeline(5, (Phase("pending", 0), Phase("completed", 1))))
    assert list(index.newest("completed", 6)) == [1]
    assert list(index.newest("completed", 25)) == [1, 0]
    assert list(index.newest("pending", 0)) == [1, 0]
    assert list(index.newest("running", 12)) == [0]
    assert list(index.newest("unknown", 12)) == []


def test_sorted_ints_in_blocks() -> None:
    rng = random.Random(9)
    values: set[int] = set()
    kept = SortedInts()
    for _ in range(5_000):
        value = rng.randint(-2_000, 2_000)
        if value in values:
            kept.remove(value)
            values.discard(value)
        else:
            kept.add(value)
            values.add(value)
    assert list(kept.descending()) == sorted(values, reverse=True) and len(kept) == len(values)
    assert kept.between(-100, 100) == sorted(v for v in values if -100 <= v <= 100)


# ---------------------------------------------------------------- through the API


def test_status_lists_through_the_api_match_a_scan(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Real jobs under every progression, moved by the control plane, listed at clock instants forward
    and back: each list equals a scan made just before it (with the read counts then)."""
    emulator = Emulator(clock="manual", store=open_store(store_url(kind, request, tmp_path)))
    emulator.reset()
    api = CoreClient(emulator)
    try:
        rng = random.Random(11)
        files = [api.upload(jsonl(qa_rows(rows))) for rows in (2, 5)]
        ids: list[str] = []
        compared = 0
        for step in range(150):
            roll = rng.random()
            if roll < 0.3 or not ids:
                mode = rng.choice(["immediate", "durations", "after_polls", "manual"])
                api.control("POST", "scenarios", {"times": 1, "progression": {"mode": mode}})
                parameters = {
                    "input_data_file_path": rng.choice(files),
                    "labels": ["good", "bad"],
                    "pass_labels": ["good"],
                    "model_to_evaluate": "response",
                    "judge": JUDGE,
                }
                ids.append(api.create_id("classify", parameters))
            elif roll < 0.4:
                api.control("POST", f"jobs/{rng.choice(ids)}/advance", expect=(200, 409))
            elif roll < 0.5:
                status = rng.choice(STATUSES)
                body = {"status": status} | ({"message": "boom"} if status in ("error", "user_error") else {})
                api.control("POST", f"jobs/{rng.choice(ids)}/status", body)
            elif roll < 0.6:
                api.advance(rng.choice([0.5, 3, 30, 600]))
            elif roll < 0.63:
                api.control("POST", "clock/set", {"now": rng.choice(["2024-01-01T00:00:00Z", "2031-01-01T00:00:00Z"])})
            elif roll < 0.7:
                api.status(rng.choice(ids))
            else:
                status, limit = rng.choice(STATUSES), rng.choice([1, 2, 5, 50])
                with emulator.store.transaction():
                    now = emulator.engine.clock.now_ns()
                    reads = {j.workflow_id: emulator.engine.jobs.reads(j) for j in emulator.store.jobs(api.key)}
                    expected = scan(emulator.store, api.key, status, now, limit, reads)
                reply = api.request("GET", "/v1/evaluation", query={"status": status, "limit": limit})
                assert [j["workflow_id"] for j in reply.json()] == expected, (step, status, limit)
                compared += 1
        assert compared > 20
    finally:
        close(emulator.store)


def test_an_index_built_at_once_answers_as_one_built_job_by_job() -> None:
    rng = random.Random(4)
    lines = [(seq, timeline(rng.randint(0, 5_000), random_phases(rng))) for seq in range(0, 3_000, 3)]
    at_once, one_by_one = StatusIndex.built(4_000, lines), StatusIndex()
    for seq, line in lines:
        one_by_one.put(seq, line)
    for at_ns in [4_000, 9_000, 0, 2_500, 12_000]:
        for status in STATUSES:
            assert list(at_once.newest(status, at_ns)) == list(one_by_one.newest(status, at_ns))
