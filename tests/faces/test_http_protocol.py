"""The server's HTTP protocol keeps every connection within bounds (docs/limits.md#connections):
a head that never ends is a 431, one that never comes is cut off, a request that is not HTTP is a
400 in the real error shape, a client that pipelines without reading loses its connection, and a
body declared too large is refused before it is sent. Other clients are served meanwhile."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.faces import _http_protocol
from together_eval_emulator.faces._server import EmulatorServer, server_stack

from tests.support import running

pytestmark = pytest.mark.skipif(server_stack()[0] != "httptools", reason="the bounded protocol runs on httptools")


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with running(Emulator(clock="manual")) as live:
        yield live


def connect(server: EmulatorServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def error_of(raw: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower()
    return int(head.split(b" ", 2)[1]), json.loads(body)["error"]


def served(server: EmulatorServer) -> bool:
    with httpx.Client(base_url=server.url) as http:
        return http.get("/v1/evaluation", headers={"authorization": "Bearer k"}).status_code == 200


def test_a_head_that_never_ends_is_a_431_and_the_others_are_served(server: EmulatorServer) -> None:
    with connect(server) as connection:
        connection.sendall(b"GET /v1/evaluation HTTP/1.1\r\nHost: x\r\n")
        try:
            for n in range(20_000):  # about 400 KB of headers, far past the bound
                connection.sendall(f"X-Header-{n}: value\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        status, error = error_of(answer(connection))
    assert status == 431 and error["code"] == "request_header_fields_too_large"
    assert str(_http_protocol.MAX_HEAD_BYTES) in error["message"]
    assert served(server)


@pytest.mark.parametrize(
    "raw",
    [b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"],
    ids=["garbage", "version", "length"],
)
def test_a_request_that_is_not_http_is_a_400_in_the_real_shape(server: EmulatorServer, raw: bytes) -> None:
    with connect(server) as connection:
        connection.sendall(raw)
        status, error = error_of(answer(connection))
    assert status == 400 and set(error) == {"message", "type", "param", "code"}
    assert served(server)


def test_a_connection_whose_head_does_not_come_is_closed(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.server.config, "timeout_keep_alive", 0.2)  # the head's time: 5 s by default
    with connect(server) as silent, connect(server) as trickling:
        trickling.sendall(b"GET /v1/evaluation HTTP/1.1\r\n")  # and nothing more
        assert answer(silent) == b"" and answer(trickling) == b""  # closed by the server, without an answer
    assert served(server)


def test_pipelined_requests_are_answered_in_order_up_to_the_bound(server: EmulatorServer) -> None:
    request = b"GET /v1/evaluation/model-list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
    with connect(server) as connection:
        connection.sendall(request * 10 + b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = answer(connection)
    assert raw.count(b"HTTP/1.1 200 OK") == 10 and raw.count(b"HTTP/1.1 404") == 1
    with connect(server) as connection:  # far more than the bound, without reading: the connection goes
        connection.sendall(request * (_http_protocol.MAX_PIPELINED * 4))
        assert answer(connection).count(b"HTTP/1.1 200 OK") <= _http_protocol.MAX_PIPELINED + 1
    assert served(server)


def test_a_connection_lost_with_requests_waiting_logs_no_error(server: EmulatorServer) -> None:
    """A client that pipelines many requests, then resets the connection: the requests still waiting
    are told the connection is gone, and none writes to the closed transport (which logged an error
    with a traceback per request)."""
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")  # where uvicorn reports an application's exception
    logger.addHandler(handler)
    request = b"GET /v1/evaluation HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
    try:
        for _ in range(3):
            with connect(server) as connection:
                connection.sendall(request * 2000)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert served(server)  # after the server saw the resets
    finally:
        logger.removeHandler(handler)
    assert [record.getMessage() for record in errors] == []


def test_a_body_declared_too_large_is_refused_before_it_is_sent(server: EmulatorServer) -> None:
    with connect(server) as connection:
        connection.sendall(
            b"POST /v1/evaluation HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500000000\r\nExpect: 100-continue\r\n\r\n"
        )
        first = connection.recv(65536)
    assert first.startswith(b"HTTP/1.1 413") and b"100 Continue" not in first
    assert json.loads(first.partition(b"\r\n\r\n")[2])["error"]["code"] == "request_too_large"
    assert served(server)
