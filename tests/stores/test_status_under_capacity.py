"""Status-filtered lists under a capacity, for every store kind the status index tests cover.

Under a capacity a job's phase boundaries depend on the queue (every other job's schedule), and
change when a job is created, ended early or moved; the store's status index keeps each record's own
timeline, so `GET /v1/evaluation?status=S` is answered by a scan of the tenant's jobs instead
(docs/capacity.md#cost). These tests hold the lists to the queue's rules and to each job's own
status, before and after the clock moves, and after a job ahead in line is cancelled (forced to
`error` through the control plane) or ended by its owner (the update hook): the emulator has no
route that deletes a job. Two engines on one shared store (SQLite, Redis), as two `serve --workers`
processes are, answer alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.stores._factory import open_store

from tests.contract.contract_server import start_emulator
from tests.stores.store_support import STORE_KINDS, close, store_url
from tests.stores.test_workers import cpu_ticks, fresh, upload, workers_of
from tests.support import CoreClient, classify_params, jsonl, qa_rows

READY = 3.0  # a 10-row job: pending 1 s, queued 2 s, then running 3.1 s
RUNNING = 3.1
STATUSES = ["pending", "queued", "running", "completed", "error", "user_error"]


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def engines(kind: str, request: pytest.FixtureRequest, tmp_path: Path, count: int) -> Iterator[list[CoreClient]]:
    """`count` emulators on one new store of `kind` (each its own engine, as each worker process has)."""
    url = store_url(kind, request, tmp_path)
    first = Emulator(clock="manual", store=open_store(url))
    first.reset()
    emulators = [first] + [Emulator(clock="manual", store=open_store(url)) for _ in range(count - 1)]
    try:
        yield [CoreClient(emulator) for emulator in emulators]
    finally:
        first.reset()
        for emulator in emulators:
            close(emulator.store)


def listed(api: CoreClient, status: str, limit: int = 100) -> list[str]:
    reply = api.request("GET", "/v1/evaluation", query={"status": status, "limit": limit})
    assert reply.status == 200, reply.body
    return [job["workflow_id"] for job in reply.json()]


def each_status(api: CoreClient, ids: list[str]) -> dict[str, str]:
    """Every job's status as the control plane shows it (not a client read)."""
    return {job_id: api.control("GET", f"jobs/{job_id}")["status"] for job_id in ids}


def assert_lists_agree(api: CoreClient, ids: list[str]) -> None:
    """Each status list is every job in that status, newest first."""
    now = each_status(api, ids)
    for status in STATUSES:
        assert listed(api, status) == [job_id for job_id in reversed(ids) if now[job_id] == status], status


def batch(api: CoreClient, count: int) -> list[str]:
    file_id = api.upload(jsonl(qa_rows(10)))
    return [api.create_id("classify", classify_params(file_id)) for _ in range(count)]


def test_queued_and_running_lists_follow_the_queue(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for (api,) in engines(kind, request, tmp_path, 1):
        api.control("PUT", "capacity", {"total": 1})
        first, second, third, fourth = made = batch(api, 4)
        assert listed(api, "pending") == made[::-1] and listed(api, "queued") == listed(api, "running") == []

        api.advance(READY + 1)  # every job is ready; one slot
        assert listed(api, "running") == [first]
        assert listed(api, "queued") == [fourth, third, second]
        assert listed(api, "queued", limit=1) == [fourth]
        assert_lists_agree(api, made)

        api.control("POST", f"jobs/{first}/status", {"status": "error", "message": "cancelled"})
        assert listed(api, "running") == [second]  # the freed slot goes to the next in line at once
        assert listed(api, "queued") == [fourth, third]
        assert listed(api, "error") == [first]

        reply = api.request(
            "POST", f"/v1/evaluation/{third}/update", json_body={"status": "user_error", "error": "withdrawn"}
        )
        assert reply.status == 200, reply.body
        assert listed(api, "queued") == [fourth]  # the job ahead of it left the line
        assert listed(api, "running") == [second]
        assert_lists_agree(api, made)

        api.advance(RUNNING)  # the second job ends: the fourth gets its slot
        assert listed(api, "running") == [fourth]
        assert listed(api, "queued") == []
        assert listed(api, "completed") == [second]
        assert_lists_agree(api, made)

        api.control("POST", "clock/set", {"now": "2026-01-01T00:00:00Z"})  # back before anything ran
        assert listed(api, "running") == listed(api, "queued") == []
        assert listed(api, "pending") == made[::-1]


def test_a_capacity_change_moves_the_lists(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for (api,) in engines(kind, request, tmp_path, 1):
        api.control("PUT", "capacity", {"per_tenant": 2})
        made = batch(api, 5)
        api.advance(READY + 1)
        assert listed(api, "running") == made[1::-1] and listed(api, "queued") == made[:1:-1]
        api.control("PUT", "capacity", {"per_tenant": 4})  # from now on: two more start at once
        assert listed(api, "running") == made[3::-1] and listed(api, "queued") == [made[4]]
        api.control("PUT", "capacity", {})  # no limit: the last one starts too
        assert listed(api, "running") == made[::-1] and listed(api, "queued") == []
        assert_lists_agree(api, made)


@pytest.mark.parametrize("shared", ["sqlite", "redis"])
def test_two_engines_on_one_store_share_the_queue(shared: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """What two `serve --workers` processes on one store do: each keeps its own copy of the schedule,
    simulated again when the store's schedule stamp says another one changed what it derives from."""
    for one, other in engines(shared, request, tmp_path, 2):
        other.control("PUT", "capacity", {"per_tenant": 2})
        file_id = one.upload(jsonl(qa_rows(10)))
        made = [api.create_id("classify", classify_params(file_id)) for api in (one, other, one, other, one)]
        assert one.control("GET", "capacity") == {"per_tenant": 2, "total": None}
        one.advance(READY + 1)
        for api in (one, other):
            assert listed(api, "running") == made[1::-1] and listed(api, "queued") == made[:1:-1]
            assert [entry["workflow_id"] for entry in api.control("GET", "queue")["data"]] == made[2:]
        other.control("POST", f"jobs/{made[0]}/status", {"status": "error", "message": "cancelled"})
        for api in (one, other):  # the engine that did not end it sees the slot go to the next in line
            assert listed(api, "running") == [made[2], made[1]] and listed(api, "queued") == made[:2:-1]
            assert [api.status(job_id)["status"] for job_id in made] == ["error", "running", "running"] + ["queued"] * 2
        one.advance(RUNNING)
        assert listed(other, "running") == [made[4], made[3]] and listed(other, "completed") == [made[2], made[1]]
        assert_lists_agree(other, made)
        assert_lists_agree(one, made)


def lists_from_every_worker(url: str, workers: set[int], rounds: int = 8) -> set[tuple[tuple[str, ...], ...]]:
    """`?status=running`, `?status=queued` and each job's status as answered over new connections from
    several threads at once (so both workers answer: each must use CPU time); the distinct answers."""
    answers: set[tuple[tuple[str, ...], ...]] = set()
    before = {pid: cpu_ticks(pid) for pid in workers}

    def ask() -> None:
        for _ in range(rounds):
            with fresh(url) as http:
                running = http.get("/v1/evaluation", params={"status": "running"}).json()
                queued = http.get("/v1/evaluation", params={"status": "queued"}).json()
                answers.add((tuple(j["workflow_id"] for j in running), tuple(j["workflow_id"] for j in queued)))

    deadline = time.monotonic() + 30  # more rounds until each worker has answered some: the kernel picks who
    while time.monotonic() < deadline:  # accepts, and a light request may cost less than one clock tick
        threads = [threading.Thread(target=ask) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        if all(cpu_ticks(pid) > before[pid] for pid in workers):
            break
    assert all(cpu_ticks(pid) > before[pid] for pid in workers)
    return answers


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from /proc")
@pytest.mark.parametrize("shared", ["sqlite", "redis"])
def test_serve_workers_keep_one_queue(shared: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """`serve --workers 2` with a capacity: whichever worker answers, the lists are the same, and a job
    cancelled through one worker frees its slot for the next in line as every worker sees it."""
    store = store_url(shared, request, tmp_path)
    args = ("--store", store, "--workers", "2", "--max-running-per-tenant", "2")
    with start_emulator(tmp_path / "server.log", *args) as server:
        workers = workers_of(server.proc.pid)
        assert len(workers) == 2
        with fresh(server.url) as http:
            file_id = upload(http)
        made = []
        for _ in range(5):  # each create on a new connection: the workers share them
            with fresh(server.url) as http:
                reply = http.post("/v1/evaluation", json={"type": "classify", "parameters": classify_params(file_id)})
                assert reply.status_code == 200, reply.text
                made.append(reply.json()["workflow_id"])
        server.advance(4)  # 3-row jobs: ready at 3 s, running for 3.03 s
        assert lists_from_every_worker(server.url, workers) == {(tuple(made[1::-1]), tuple(made[:1:-1]))}
        with fresh(server.url) as http:
            cancel = {"status": "error", "message": "cancelled"}
            assert http.post(f"/_emulator/jobs/{made[0]}/status", json=cancel).status_code == 200
        assert lists_from_every_worker(server.url, workers) == {((made[2], made[1]), tuple(made[:2:-1]))}
        with fresh(server.url) as http:
            queue = http.get("/_emulator/queue").json()
            assert [entry["workflow_id"] for entry in queue["data"]] == made[3:] and queue["running"] == 2
    assert server.proc.returncode == 0
