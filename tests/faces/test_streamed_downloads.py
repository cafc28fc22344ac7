"""A large result file leaves each face as it is generated: the live server sends it in several body
messages under its `Content-Length`, the respx face answers with a stream whose chunks are made as
the client reads them, and both bodies are the whole file."""

from __future__ import annotations

import asyncio
import http.client
import json
from typing import Any

import httpx
import pytest
from together_eval_emulator.faces._asgi import create_app
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.faces._server import EmulatorServer
from together_eval_emulator.http._core import Emulator

from tests.support import CoreClient, classify_params, jsonl

AUTH = {"authorization": "Bearer key-a"}
ROWS = 4_000  # a result file of about a megabyte: several chunks


def completed(emulator: Emulator, tag: str) -> tuple[str, bytes]:
    """The id and the bytes of a completed job's large result file (`tag` makes its rows unique)."""
    client = CoreClient(emulator)
    rows = [{"prompt": f"{tag} question {i}?", "response": f"Answer {i}."} for i in range(ROWS)]
    workflow_id = client.create_id("classify", classify_params(client.upload(jsonl(rows))))
    client.advance(86_400)
    file_id = client.status(workflow_id)["results"]["result_file_id"]
    return file_id, emulator.files.content(emulator.files.get(client.key, file_id))


def asgi_get(app: Any, method: str, path: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """One request straight into the ASGI app: the response's headers and its body messages."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(b"authorization", AUTH["authorization"].encode()), (b"host", b"emulator.test")],
        "scheme": "http",
        "server": ("emulator.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *body = sent
    return {name.decode(): value.decode() for name, value in start["headers"]}, body


@pytest.mark.parametrize("download", ["first", "again"])
def test_the_server_app_sends_a_large_result_file_in_several_body_messages(download: str) -> None:
    emulator = Emulator(clock="manual")
    file_id, expected = completed(emulator, f"asgi {download}")
    app = create_app(emulator)
    if download == "again":  # its size known: generated chunk by chunk as it is sent
        asgi_get(app, "GET", f"/v1/files/{file_id}/content")
    headers, messages = asgi_get(app, "GET", f"/v1/files/{file_id}/content")
    assert headers["content-length"] == str(len(expected))
    assert len([m for m in messages if m.get("more_body")]) > 1
    assert not messages[-1].get("more_body") and b"".join(m["body"] for m in messages) == expected


def test_a_head_of_a_large_result_file_has_its_length_and_no_body() -> None:
    emulator = Emulator(clock="manual")
    file_id, expected = completed(emulator, "head")
    headers, messages = asgi_get(create_app(emulator), "HEAD", f"/v1/files/{file_id}/content")
    assert headers["content-length"] == str(len(expected))
    assert b"".join(m["body"] for m in messages) == b""


def test_the_live_server_streams_a_large_result_file_whole() -> None:
    emulator = Emulator(clock="manual")
    file_id, expected = completed(emulator, "live")
    server = EmulatorServer(emulator).start()
    host, port = server.socket.getsockname()[:2]
    try:
        for _ in range(2):  # measured first, then generated as it is sent
            connection = http.client.HTTPConnection(host, port, timeout=60)
            connection.request("GET", f"/v1/files/{file_id}/content", headers=AUTH)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("content-length") == str(len(expected))
            pieces = []
            while piece := response.read(64 * 1024):
                pieces.append(piece)
            connection.close()
            assert len(pieces) > 1 and b"".join(pieces) == expected
        assert json.loads(b"".join(pieces).splitlines()[-1])["prompt"] == f"live question {ROWS - 1}?"
    finally:
        server.stop()


def test_the_respx_face_answers_with_a_stream_of_chunks() -> None:
    with EmulatorMock(api_key="key-a") as emu:
        file_id, expected = completed(emu.emulator, "respx")
        with httpx.Client(base_url=emu.url, headers=AUTH) as client:
            for _ in range(2):  # measured first, then generated as it is read
                with client.stream("GET", f"/v1/files/{file_id}/content") as response:
                    assert response.headers["content-length"] == str(len(expected))
                    chunks = list(response.iter_raw())
                assert len(chunks) > 1 and b"".join(chunks) == expected
            assert client.get(f"/v1/files/{file_id}/content").content == expected
            head = client.head(f"/v1/files/{file_id}/content")
            assert (head.headers["content-length"], head.content) == (str(len(expected)), b"")
            with client.stream("GET", f"/v1/files/{file_id}/content") as response:
                assert next(response.iter_raw())  # a reader that stops early: its generator is closed


def test_the_respx_face_streams_to_async_clients_too() -> None:
    with EmulatorMock(api_key="key-a") as emu:
        file_id, expected = completed(emu.emulator, "respx async")

        async def download() -> list[bytes]:
            async with httpx.AsyncClient(base_url=emu.url, headers=AUTH) as client:
                async with client.stream("GET", f"/v1/files/{file_id}/content") as response:
                    return [chunk async for chunk in response.aiter_raw()]

        chunks = asyncio.run(download())
        assert len(chunks) > 1 and b"".join(chunks) == expected


def test_together_3_reads_a_large_result_file_through_the_respx_face() -> None:
    from together import AsyncTogether, Together

    with EmulatorMock(api_key="key-a") as emu:
        file_id, expected = completed(emu.emulator, "together 3")
        client = Together(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        assert client.files.content(file_id).read() == expected

        async def read() -> bytes:
            async with AsyncTogether(api_key=emu.api_key, base_url=emu.base_url, max_retries=0) as client:
                return await (await client.files.content(file_id)).read()

        assert asyncio.run(read()) == expected
