"""`serve --workers N` on a SQLite store: N processes answer on one port, as one emulator (unique
ids, one clock, every job seen by every worker); a worker killed is replaced; Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.contract.contract_server import LiveEmulator, start_emulator
from tests.support import classify_params, jsonl, qa_rows

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from /proc")

KEY = "workers-key"


def workers_of(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time a process has used, in clock ticks (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def fresh(url: str) -> httpx.Client:
    """A client that opens a new connection for every request, so requests spread over the workers."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, verify=False)


def upload(http: httpx.Client) -> str:
    step1 = http.post("/v1/files", data={"purpose": "eval", "file_name": "d.jsonl", "file_type": "jsonl"})
    file_id = step1.headers["x-together-file-id"]
    assert http.put(step1.headers["location"], content=jsonl(qa_rows(3)).encode()).status_code == 200
    assert http.post(f"/v1/files/{file_id}/preprocess").status_code == 200
    return file_id


def replaced(server: LiveEmulator, gone: int, deadline_s: float = 30) -> set[int]:
    """The parent's workers once it has replaced `gone` (polled: a process start has no event to wait on)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        now = workers_of(server.proc.pid)
        if gone not in now and len(now) == 2:
            return now
        threading.Event().wait(0.05)
    raise AssertionError(f"worker {gone} was not replaced in {deadline_s} s:\n{server.log_tail()}")


def test_two_workers_serve_one_emulator(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'emulator.db'}"
    with start_emulator(tmp_path / "server.log", "--store", store, "--workers", "2") as server:
        workers = workers_of(server.proc.pid)
        assert len(workers) == 2
        idle = {pid: cpu_ticks(pid) for pid in workers}
        with fresh(server.url) as http:
            file_id = upload(http)
        created: list[str] = []

        def create_jobs() -> None:
            with fresh(server.url) as http:
                for _ in range(4):
                    reply = http.post(
                        "/v1/evaluation", json={"type": "classify", "parameters": classify_params(file_id)}
                    )
                    assert reply.status_code == 200, reply.text
                    created.append(reply.json()["workflow_id"])

        threads = [threading.Thread(target=create_jobs) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(created) == 40 and len(set(created)) == 40  # ids stay unique across the workers
        assert all(cpu_ticks(pid) > idle[pid] for pid in workers)  # both took their share

        server.advance(86_400)  # one clock: every worker sees the advance
        with fresh(server.url) as http:
            listed = http.get("/v1/evaluation", params={"limit": 100}).json()
            assert {job["workflow_id"] for job in listed} == set(created)
            statuses = {http.get(f"/v1/evaluation/{w}/status").json()["status"] for w in created}
            assert statuses == {"completed"}

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        with fresh(server.url) as http:  # the other worker (and the socket's queue) keep answering
            assert all(http.get(f"/v1/evaluation/{w}").status_code == 200 for w in created[:10])
        workers = replaced(server, killed)
        with fresh(server.url) as http:
            assert all(http.get(f"/v1/evaluation/{w}").status_code == 200 for w in created)
    assert server.proc.returncode == 0
    assert not any(alive(pid) for pid in workers)  # Ctrl-C stopped them with the parent
