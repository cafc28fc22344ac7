"""The live server streams large uploads to a spooled temporary file: through the PUT to the upload
URL and through the direct multipart upload, the request body is never held whole in memory before
the file's bytes are stored (their peak memory is measured by `tests/benchmarks/upload_memory.py`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._store import Pending
from together_eval_emulator.faces._server import EmulatorServer
from together_eval_emulator.http._transport import SPOOL_MEMORY, ApiRequest, ApiResponse

AUTH = {"authorization": "Bearer key-a"}
LINE = b'{"prompt": "What is the capital of France?", "response": "Paris."}\n'
CONTENT = LINE * (3 * 2**20 // len(LINE))  # about 3 MB, past what a spool holds in memory


class Spy:
    """The requests an emulator handled, as the face built them."""

    def __init__(self, emulator: Emulator) -> None:
        self.requests: list[ApiRequest] = []
        self._handle = emulator.handle_unconfirmed
        emulator.handle_unconfirmed = self  # type: ignore[method-assign]

    def __call__(self, request: ApiRequest) -> tuple[ApiResponse, Pending | None]:
        self.requests.append(request)
        return self._handle(request)


@pytest.fixture
def served() -> Iterator[tuple[httpx.Client, Spy]]:
    emulator = Emulator(clock="manual")
    spy = Spy(emulator)
    server = EmulatorServer(emulator).start()
    try:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
            yield client, spy
    finally:
        server.stop()


def streamed(request: ApiRequest) -> bool:
    """The body went to a temporary file on disk and was never read whole into the request."""
    return request.spooled is not None and request.spooled.on_disk and not request.body_loaded


def test_a_put_to_the_upload_url_is_streamed(served: tuple[httpx.Client, Spy]) -> None:
    client, spy = served
    assert len(CONTENT) > SPOOL_MEMORY
    step1 = client.post("/v1/files", data={"purpose": "eval", "file_name": "big.jsonl", "file_type": "jsonl"})
    put = httpx.put(step1.headers["location"], content=CONTENT)  # no key, as the SDKs send it
    assert put.status_code == 200
    assert streamed(spy.requests[-1])
    file_id = step1.headers["x-together-file-id"]
    assert client.post(f"/v1/files/{file_id}/preprocess").json()["bytes"] == len(CONTENT)
    assert client.get(f"/v1/files/{file_id}/content").content == CONTENT
    (entry,) = [e for e in client.get("/_emulator/requests").json()["data"] if e["route"] == "upload.put"]
    assert (entry["body_size"], entry["body_sha256"]) == (len(CONTENT), hashlib.sha256(CONTENT).hexdigest())


def test_a_direct_multipart_upload_is_streamed(served: tuple[httpx.Client, Spy]) -> None:
    client, spy = served
    reply = client.post("/v1/files/upload", data={"purpose": "eval"}, files={"file": ("big.jsonl", CONTENT)})
    assert reply.status_code == 200, reply.text
    assert streamed(spy.requests[-1])
    assert (reply.json()["filename"], reply.json()["bytes"]) == ("big.jsonl", len(CONTENT))
    assert client.get(f"/v1/files/{reply.json()['id']}/content").content == CONTENT
