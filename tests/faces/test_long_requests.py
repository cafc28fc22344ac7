"""Long requests hold up no other request: the core does their long part (parsing and judging a
dataset, generating a result file) outside its lock, and the server runs them off its event loop.

Each test stops a long computation half-way (`Gate`) and checks that another request is answered
meanwhile; the waits are bounded, so a request that would wait for the long one fails the test."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine import _files, _jobs, _pacing
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import CoreClient, Reply, classify_params, jsonl, qa_rows

WAIT = 10.0  # seconds; far longer than any request here takes when it is not held up


class Gate:
    """Stands in for a long computation: stops in the middle of it until released."""

    def __init__(self, compute: Callable[..., Any]) -> None:
        self.compute = compute
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        assert self.release.wait(WAIT), "the gate was never released"
        return self.compute(*args, **kwargs)

    def wait_entered(self) -> None:
        assert self.entered.wait(WAIT), "the long computation never started"


class Background:
    """A call made from another thread, with its result once it returns."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        self.result = call()

    def join(self) -> Any:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the call is held up"
        return self.result


@pytest.fixture
def client() -> CoreClient:
    return CoreClient(Emulator(clock="manual"))


def dataset(rows: int, tag: str) -> str:
    """`rows` rows of a dataset no other test uses: verdicts are shared across emulators by content."""
    return jsonl([{**row, "prompt": f"{tag}: {row['prompt']}"} for row in qa_rows(rows)])


def completed_job(client: CoreClient, rows: int, tag: str) -> tuple[str, str]:
    """A completed classify job on a new dataset of `rows` rows: its id and its result file's id."""
    workflow_id = client.create_id("classify", classify_params(client.upload(dataset(rows, tag))))
    client.advance(86_400)
    return workflow_id, client.status(workflow_id)["results"]["result_file_id"]


@pytest.mark.parametrize(("module", "name"), [(_files, "parse_dataset"), (_jobs, "summarize")], ids=["parse", "judge"])
def test_other_requests_are_answered_while_a_dataset_is_parsed_and_judged(
    client: CoreClient, monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> None:
    other, _ = completed_job(client, 3, f"small {name}")
    content = dataset(2_000, f"big {name}")
    assert len(content) > _jobs.LONG_DATASET_BYTES  # smaller ones are parsed and judged within the create
    big = client.upload(content)
    gate = Gate(getattr(module, name))
    monkeypatch.setattr(module, name, gate)
    creating = Background(lambda: client.create("classify", classify_params(big)))
    gate.wait_entered()
    assert Background(lambda: client.status(other)).join()["status"] == "completed"
    gate.release.set()
    reply: Reply = creating.join()
    assert reply.status == 200, reply.body
    client.advance(86_400)
    assert client.status(reply.json()["workflow_id"])["results"]["label_counts"]


@pytest.mark.parametrize("path", ["/v1/files/{id}/content", "/v1/files/{id}", "/v1/files"])
def test_other_requests_are_answered_while_a_result_file_is_generated(
    client: CoreClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    other, result_file_id = completed_job(client, 40, path)
    gate = Gate(_files.result_file)
    monkeypatch.setattr(_files, "result_file", gate)
    reading = Background(lambda: client.request("GET", path.format(id=result_file_id)))
    gate.wait_entered()
    assert Background(lambda: client.status(other)).join()["status"] == "completed"
    gate.release.set()
    assert reading.join().status == 200


def test_the_server_answers_others_while_a_long_request_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator(clock="manual")
    _, result_file_id = completed_job(CoreClient(emulator), 40, "server")
    paced: list[bool] = []
    original = _files.result_file

    def generate(*args: Any) -> bytes:
        paced.append(_pacing._state.paced)  # the worker thread paces its long loops
        return original(*args)

    gate = Gate(generate)
    monkeypatch.setattr(_files, "result_file", gate)
    server = EmulatorServer(emulator).start()
    host, port = server.socket.getsockname()[:2]

    def get(path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(host, port, timeout=WAIT)
        try:
            connection.request("GET", path, headers={"authorization": "Bearer key-a"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    try:
        downloading = Background(lambda: get(f"/v1/files/{result_file_id}/content"))
        gate.wait_entered()
        assert get("/_emulator/health")[0] == 200  # times out if the event loop is held up
        gate.release.set()
        status, body = downloading.join()
        assert status == 200
        assert body.count(b"\n") == 40
        assert paced == [True]
    finally:
        gate.release.set()
        server.stop()
