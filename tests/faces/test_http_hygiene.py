"""HTTP hygiene on every face (a live uvicorn server, Starlette's TestClient, the respx router): a 405
carries `Allow`, `HEAD` answers every `GET` route with the same headers and no body, and a body
over its limit is a 413 the client can read (the server stops keeping it at the limit)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces._asgi import read_body
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.faces._server import EmulatorServer
from together_eval_emulator.http._transport import SpooledBody

from tests.support import ServerFace, jsonl, qa_rows

AUTH = {"authorization": "Bearer key-a"}
FACES = ["uvicorn", "testclient", "respx"]


@contextmanager
def client(face: str, emulator: Emulator) -> Iterator[httpx.Client]:
    """An httpx client talking to `emulator` through `face`."""
    if face == "uvicorn":
        server = EmulatorServer(emulator).start()
        try:
            with httpx.Client(base_url=server.url, headers=AUTH) as http:
                yield http
        finally:
            server.stop()
    elif face == "testclient":
        with ServerFace(emulator).client as http:
            http.headers.update(AUTH)
            yield http
    else:
        with EmulatorMock(emulator=emulator) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as http:
            yield http


def get_paths(emulator: Emulator) -> list[str]:
    """A concrete path for every GET route, some of them naming things that exist."""
    with client("testclient", emulator) as http:
        step1 = http.post("/v1/files", data={"purpose": "eval", "file_name": "d.jsonl"}, follow_redirects=False)
        http.put(step1.headers["location"], content=jsonl(qa_rows(2)))
        file_id = step1.headers["x-together-file-id"]
    values = {"id": file_id, "type": "classify"}
    return [
        re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), route.path)
        for route in emulator.routes
        if route.method == "GET"
    ]


@pytest.mark.parametrize("face", FACES)
def test_head_answers_every_get_route_with_its_headers_and_no_body(face: str) -> None:
    emulator = Emulator(clock="manual")
    paths = get_paths(emulator)
    assert "/_emulator/health" in paths and len(paths) >= 15
    with client(face, emulator) as http:
        for path in paths:
            got = http.get(path)
            head = http.head(path)
            assert head.status_code == got.status_code, path
            assert head.content == b"", path
            assert {k: v for k, v in head.headers.items() if k != "date"} == {
                k: v for k, v in got.headers.items() if k != "date"
            }, path
            assert int(head.headers["content-length"]) == len(got.content), path


@pytest.mark.parametrize("face", FACES)
def test_a_405_names_the_allowed_methods(face: str) -> None:
    with client(face, Emulator(clock="manual")) as http:
        reply = http.delete("/v1/evaluation")
        assert reply.status_code == 405
        assert reply.headers["allow"] == "GET, HEAD, POST"
        assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
        assert http.post("/_emulator/health").headers["allow"] == "GET, HEAD"
        assert http.get("/_emulator/reset").headers["allow"] == "POST"


@pytest.mark.parametrize("face", FACES)
def test_a_body_over_the_limit_is_a_413_the_client_reads(face: str) -> None:
    emulator = Emulator(clock="manual", max_body_bytes=1024, max_upload_bytes=64 * 1024)
    with client(face, emulator) as http:
        reply = http.post("/v1/evaluation", content=b"{" + b" " * 4 * 1024 * 1024 + b"}")
        assert reply.status_code == 413
        assert reply.json()["error"]["code"] == "request_too_large"
        step1 = http.post("/v1/files", data={"purpose": "eval", "file_name": "d.jsonl"}, follow_redirects=False)
        assert http.put(step1.headers["location"], content=b"x" * (64 * 1024 + 1)).status_code == 413
        assert http.put(step1.headers["location"], content=b"x" * (64 * 1024)).status_code == 200
        assert http.get("/_emulator/health").status_code == 200  # the connection (or a new one) still serves


def test_the_server_face_stops_keeping_a_body_at_its_limit() -> None:
    """`read_body` reads a body to its end (so the client can read the answer) but keeps at most `limit`."""
    chunks = [b"a" * 1000] * 50
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": chunks[len(received) - 1], "more_body": len(received) < len(chunks)}

    body, oversized = asyncio.run(read_body(receive, 2500))
    assert (body, oversized, len(received)) == (b"", True, 50)
    received.clear()
    body, oversized = asyncio.run(read_body(receive, 50_000))
    assert isinstance(body, SpooledBody)  # a body of several messages is streamed to a spool
    assert (body.stream().read(), oversized) == (b"a" * 50_000, False)


def test_the_respx_face_hands_no_oversized_body_to_the_core() -> None:
    emulator = Emulator(clock="manual", max_body_bytes=10)
    with EmulatorMock(emulator=emulator) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as http:
        assert http.post("/_emulator/faults", content=b"[" + b" " * 100 + b"]").status_code == 413
        assert http.post("/v1/evaluation", content=b"x" * 100).status_code == 413
    assert [entry.body for entry in emulator.journal.entries] == [b""]
