"""The HTTP protocol the server runs on where httptools installs: uvicorn's, with the bounds that a
server shared by many clients needs and uvicorn's lacks (docs/limits.md#connections).

- **A request's head** (its request line and headers) holds at most `MAX_HEAD_BYTES`: a longer one
  is a `431` in the real error shape, and the connection closes. (uvicorn's httptools protocol keeps
  every byte: one client streaming headers that never end took the server past 2 GB.)
- **A request's head arrives within uvicorn's keep-alive timeout** (5 s) of the connection, or of
  the last answer on it: a connection that sends nothing, or a head a byte at a time, is closed then
  (uvicorn times out only the quiet after an answer, and any byte stops it, so such connections
  stayed open until the server ran out of file descriptors).
- **At most `MAX_PIPELINED` requests wait** behind the one being answered on a connection: a client
  that sends more without reading the answers loses the connection (each waiting request held its
  scope, and its answers piled up unread).
- **A request that is not HTTP/1.1** is a `400` in the real error shape, not uvicorn's plain-text
  one, and is not logged (any client could flood the log).
- **A connection lost while requests wait**: they are dropped (the ASGI face stops writing an
  answer to a closed connection quietly; each such answer logged a traceback).
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..engine._errors import ApiError, InvalidRequest
from ..http._routing import error_response

MAX_HEAD_BYTES = 64 * 1024
MAX_PIPELINED = 64


class HeadTooLarge(ApiError):
    status_code = 431


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds above. The head's time is uvicorn's keep-alive
    timer, armed from the connection's start as well as after each answer, and stopped when a head
    is complete rather than at its first byte: a request's head then arrives within
    `timeout_keep_alive` seconds (5 by default) of the connection or of the last answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # bytes received for the open head (to within one read)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pipeline.clear()  # the requests that wait: never answered now
        super().connection_lost(exc)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def data_received(self, data: bytes) -> None:
        began = self.scope  # a new request's scope replaces it when one begins
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # no WebSocket route: the request was answered as plain HTTP
            return
        except httptools.HttpParserError:
            if not self.transport.is_closing():
                self._refuse(InvalidRequest("The request is not valid HTTP/1.1; it was not read."))
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:  # a head came: its request is answered or waits
            if self.timeout_keep_alive_task is not None:
                self._unset_keepalive_if_required()
            if len(self.pipeline) > MAX_PIPELINED and not self.transport.is_closing():
                self.transport.close()  # a client that sends without reading the answers: it loses the connection
                return
        if self.scope is not None and (cycle is None or cycle.scope is not self.scope):  # a head is open
            # A head begun in this read: what came before it is not counted (less than one read).
            self._head_bytes = self._head_bytes + len(data) if self.scope is began else 0
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(
                    HeadTooLarge(
                        f"The request line and headers are larger than {MAX_HEAD_BYTES} bytes, the most this "
                        "emulator reads; send shorter ones.",
                        code="request_header_fields_too_large",
                    )
                )

    def _refuse(self, error: ApiError) -> None:
        """Answer `error` in the real error shape, then close the connection."""
        response = error_response(error)
        status = HTTPStatus(error.status_code)
        self.transport.write(
            f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
            + b"content-type: application/json\r\ncontent-length: "
            + str(len(response.body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + response.body
        )
        self.transport.close()
