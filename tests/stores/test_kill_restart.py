"""`kill -9` of a SQLite-backed server in the middle of 50 clients uploading files and creating jobs,
then a restart on the same file: every upload and every create that was answered is there, the
bytes identical, and every job completes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

from tests.contract.contract_server import LiveEmulator, start_emulator

CLIENTS = 50
ROUNDS = 6  # uploads and creates per client at most: the kill comes long before
KILL_AFTER = 60  # creates answered before the kill
TENANTS = 5


class Answered:
    """What the server answered 200 to, gathered from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (its key, its bytes)
        self.jobs: dict[str, str] = {}  # workflow id -> its key
        self.enough = threading.Event()
        self.cut_off = 0  # clients whose requests failed: the server was gone

    def file(self, file_id: str, key: str, content: bytes) -> None:
        with self.lock:
            self.files[file_id] = (key, content)

    def job(self, workflow_id: str, key: str) -> None:
        with self.lock:
            self.jobs[workflow_id] = key
            if len(self.jobs) >= KILL_AFTER:
                self.enough.set()


def dataset(client: int, round_: int) -> bytes:
    rows = [{"prompt": f"Client {client}, round {round_}, question {i}?", "response": f"Answer {i}."} for i in range(3)]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def create_body(file_id: str) -> dict[str, object]:
    judge = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}}"}
    parameters = {
        "input_data_file_path": file_id,
        "judge": judge,
        "labels": ["good", "bad"],
        "pass_labels": ["good"],
        "model_to_evaluate": "response",
    }
    return {"type": "classify", "parameters": parameters}


def client(url: str, index: int, answered: Answered) -> None:
    key = f"key-{index % TENANTS}"
    # Plain HTTP on loopback: verify=False spares loading a CA bundle per client (0.1 s each).
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {key}"}, verify=False) as http:
        try:
            for round_ in range(ROUNDS):
                content = dataset(index, round_)
                form = {"purpose": "eval", "file_name": f"c{index}-r{round_}.jsonl", "file_type": "jsonl"}
                step1 = http.post("/v1/files", data=form)
                assert step1.status_code == 302, step1.text
                file_id = step1.headers["x-together-file-id"]
                assert http.put(step1.headers["location"], content=content).status_code == 200
                if http.post(f"/v1/files/{file_id}/preprocess").status_code == 200:
                    answered.file(file_id, key, content)
                created = http.post("/v1/evaluation", json=create_body(file_id))
                if created.status_code == 200:
                    answered.job(created.json()["workflow_id"], key)
        except httpx.HTTPError:  # the server was killed under this client
            with answered.lock:
                answered.cut_off += 1


def test_kill_9_under_load_loses_nothing_answered(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'emulator.db'}"
    answered = Answered()
    with start_emulator(tmp_path / "first.log", "--store", store) as server:
        threads = [threading.Thread(target=client, args=(server.url, i, answered)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert answered.enough.wait(120), f"only {len(answered.jobs)} creates answered in 120 s"
        server.proc.kill()  # SIGKILL, mid-load
        server.proc.wait(10)
        for thread in threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in threads)
    assert answered.cut_off > 0, "every client finished before the kill: it was not mid-load"
    assert len(answered.files) >= KILL_AFTER

    with start_emulator(tmp_path / "second.log", "--store", store) as restarted:
        check_everything_answered_is_back(restarted, answered)


def check_everything_answered_is_back(server: LiveEmulator, answered: Answered) -> None:
    for file_id, (key, content) in answered.files.items():
        reply = server.api("GET", f"/v1/files/{file_id}/content", key=key)
        assert reply.status_code == 200 and reply.content == content, file_id
    listed: set[str] = set()
    for n in range(TENANTS):
        listed |= {f["id"] for f in server.api("GET", "/v1/files", key=f"key-{n}").json()["data"]}
    assert set(answered.files) <= listed
    for workflow_id, key in answered.jobs.items():
        assert server.api("GET", f"/v1/evaluation/{workflow_id}", key=key).status_code == 200, workflow_id
    server.advance(86_400)
    for workflow_id, key in answered.jobs.items():
        status = server.api("GET", f"/v1/evaluation/{workflow_id}/status", key=key).json()
        assert status["status"] == "completed", (workflow_id, status)
        result_file = status["results"]["result_file_id"]
        assert server.api("GET", f"/v1/files/{result_file}/content", key=key).status_code == 200
