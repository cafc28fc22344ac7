"""Server processes sharing one Redis state, as a team's shared emulator runs: one clock for all, and
a process killed (kill -9) in the middle of a load loses nothing that was answered 200."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stores.redis_launcher import launch
from tests.support import classify_params, jsonl

AUTH = {"authorization": "Bearer key-a"}


@pytest.fixture
def servers(redis_url: str, tmp_path: Path) -> Iterator[list[tuple[object, httpx.Client]]]:
    """Two server processes on the test's Redis database, each with a client."""
    started = []
    try:
        for n in range(2):
            process, url = launch(redis_url, tmp_path / f"server-{n}.log")
            started.append((process, httpx.Client(base_url=url, timeout=30)))
        yield started
    finally:
        for process, client in started:
            client.close()
            process.kill()  # type: ignore[attr-defined]
            process.wait(10)  # type: ignore[attr-defined]


def test_two_processes_share_one_clock(servers: list[tuple[object, httpx.Client]]) -> None:
    (_, one), (_, two) = servers
    start = two.get("/_emulator/clock").json()
    moved = one.post("/_emulator/clock/advance", json={"seconds": 3600}).json()
    assert moved["epoch"] == start["epoch"] + 3600
    assert two.get("/_emulator/clock").json() == moved
    assert two.post("/_emulator/clock/run", json={}).json()["mode"] == "real"
    assert one.get("/_emulator/clock").json()["mode"] == "real"


# ---------------------------------------------------------------- a process killed mid-load

THREADS, OPERATIONS = 6, 12  # per thread: one upload, then creates and uploads in turn
KILL_AFTER = THREADS * OPERATIONS // 3  # operations answered before the second process is killed


def upload(client: httpx.Client, content: bytes) -> str:
    """The three-step upload on one server; the file id once the last step is answered 200."""
    step1 = client.post(
        "/v1/files",
        headers=AUTH,
        data={"purpose": "eval", "file_name": "d.jsonl", "file_type": "jsonl"},
        follow_redirects=False,
    )
    assert step1.status_code == 302, step1.text
    put = client.put(httpx.URL(step1.headers["location"]).raw_path.decode(), content=content)
    assert put.status_code == 200, put.text
    file_id = step1.headers["x-together-file-id"]
    done = client.post(f"/v1/files/{file_id}/preprocess", headers=AUTH)
    assert done.status_code == 200, done.text
    return file_id


def create(client: httpx.Client, file_id: str) -> str:
    reply = client.post(
        "/v1/evaluation", headers=AUTH, json={"type": "classify", "parameters": classify_params(file_id)}
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["workflow_id"])


def test_a_process_killed_mid_load_loses_nothing_answered(servers: list[tuple[object, httpx.Client]]) -> None:
    (_, survivor), (victim, _) = servers
    clients = [client for _, client in servers]
    files: dict[str, bytes] = {}  # every upload answered 200, with its bytes
    jobs: list[str] = []  # every create answered 200
    failed_on_survivor: list[str] = []
    lock = threading.Lock()
    answered = itertools.count(1)
    half_done = threading.Event()

    def run(thread: int) -> None:
        turn = itertools.count(thread)  # round robin, each thread from its own start
        file_id = None
        for op in range(OPERATIONS):
            while True:  # an operation is retried on the next server until it is answered
                client = clients[next(turn) % 2]
                try:
                    if file_id is None or op % 2 == 0:
                        content = jsonl([{"prompt": f"thread {thread} op {op}", "response": "ok"}] * 3).encode()
                        file_id = upload(client, content)
                        with lock:
                            files[file_id] = content
                    else:
                        workflow_id = create(client, file_id)
                        with lock:
                            jobs.append(workflow_id)
                    break
                except (httpx.TransportError, AssertionError) as exc:
                    if client is survivor:
                        with lock:
                            failed_on_survivor.append(repr(exc))
            if next(answered) >= KILL_AFTER:
                half_done.set()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    assert half_done.wait(120)
    victim.kill()  # type: ignore[attr-defined] (SIGKILL, in the middle of the load)
    for thread in threads:
        thread.join()

    assert failed_on_survivor == []  # the survivor answered every request it was sent
    assert len(files) + len(jobs) == THREADS * OPERATIONS
    for file_id, content in files.items():
        assert survivor.get(f"/v1/files/{file_id}/content", headers=AUTH).content == content
    survivor.post("/_emulator/clock/advance", json={"seconds": 86_400})
    statuses = [survivor.get(f"/v1/evaluation/{job}/status", headers=AUTH).json()["status"] for job in jobs]
    assert statuses == ["completed"] * len(jobs)
    listed = {job["workflow_id"] for job in survivor.get("/_emulator/jobs").json()}
    assert set(jobs) <= listed  # every create answered 200 is listed
    # and at most the requests in flight when the process died besides (committed, never answered)
    assert len(listed - set(jobs)) <= THREADS
    own = {f["id"] for f in survivor.get("/v1/files", headers=AUTH).json()["data"]}
    assert set(files) <= own
    assert json.loads(survivor.get("/_emulator/health").content)  # still serving


# ---------------------------------------------------------------- Redis drops the connections


def test_requests_recover_after_redis_drops_every_connection(
    servers: list[tuple[object, httpx.Client]], redis_url: str
) -> None:
    """Redis closes every client connection (as a restart or a failover does): a request whose commit
    was cut answers a JSON 500 saying nothing was applied, none hangs, and the next ones are served
    on new connections, by both processes, with nothing answered 200 lost."""
    import redis

    (_, one), (_, two) = servers
    file_id = upload(one, jsonl([{"prompt": "p", "response": "r"}]).encode())
    job = create(one, file_id)
    assert two.get(f"/v1/evaluation/{job}/status", headers=AUTH).status_code == 200
    redis.Redis.from_url(redis_url).client_kill_filter(_type="normal", skipme=True)
    answers = [client.get(f"/v1/evaluation/{job}/status", headers=AUTH) for client in (one, two) * 3]
    assert {reply.status_code for reply in answers} <= {200, 500}
    for reply in answers:
        if reply.status_code == 500:
            assert "nothing was applied" in reply.json()["error"]["message"]
    assert [reply.status_code for reply in answers[-2:]] == [200, 200]  # both processes recovered
    assert create(two, file_id) != job
    assert one.get(f"/v1/files/{file_id}/content", headers=AUTH).status_code == 200
