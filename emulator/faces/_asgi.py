"""The Starlette face: a thin adapter that hands every request to the core.

The catch-all endpoint is a plain ASGI callable: it reads the scope and the body and writes the
core's bytes back, with no Request/Response objects in between (the core already did the work)."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from ..engine._config import EmulatorConfig
from ..engine._errors import Forbidden
from ..engine._pacing import paced
from ..engine._store import Pending
from ..http._core import Emulator, internal_error
from ..http._recording import UPLOAD_PREFIX
from ..http._routing import error_response
from ..http._transport import ApiRequest, ApiResponse, SpooledBody, StreamedBody
from ._socket_faults import RAW_SEND, connection_gone, play_fault, transport_of
from ._worker_threads import WorkerThreads

ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


async def read_body(receive: Receive, limit: int, declared: str | None = None) -> tuple[bytes | SpooledBody, bool]:
    """The request body and whether it was larger than `limit` bytes: the bytes of a body sent in one
    message, else a body streamed chunk by chunk to a spooled temporary file (a large upload is never
    held whole in memory here). Past the limit nothing more is kept, but the rest is still read (and
    dropped), so the client can read the 413. A body whose `Content-Length` (`declared`) is already
    past the limit is not asked for at all: a client that waits for leave to send it
    (`Expect: 100-continue`) gets the 413 instead, and the server drops what the others send."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return b"", True
    message = await receive()
    first: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return (b"", True) if len(first) > limit else (first, False)
    spooled = SpooledBody()
    spooled.write(first)
    size = len(first)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            spooled.write(chunk)
    if size > limit:
        spooled.close()
        return b"", True
    return spooled, False


def request_headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


def to_api_request(
    scope: Scope, body: bytes | SpooledBody, oversized: bool = False, headers: dict[str, str] | None = None
) -> ApiRequest:
    headers = request_headers(scope) if headers is None else headers
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return ApiRequest(
        method=scope["method"],
        path=scope["path"],
        base_url=f"{scope.get('scheme', 'http')}://{host}",
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body if isinstance(body, bytes) else b"",
        spooled=body if isinstance(body, SpooledBody) else None,
        oversized=oversized,
    )


def encoded_headers(response: ApiResponse) -> list[tuple[bytes, bytes]]:
    """The response's headers as ASGI sends them, `content-length` included (also for a HEAD)."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.all_headers().items()
    ]
    headers.append((b"content-length", str(response.size).encode()))
    return headers


SEND_BYTES = 1 << 20  # a response body is sent in slices of this size
WORKER_THREADS = 4  # requests that take long, answered at once; more wait for a thread


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # else the request was cancelled (its client went away)
        waiter.set_result(None)


async def commit_answered(pending: Pending, loop: asyncio.AbstractEventLoop) -> None:
    """Wait on `loop` (the running one) for a commit to be answered, however it ends
    (`Emulator.confirmed` reads the answer). The store usually answers it on this loop's thread
    (`Store.answer_on`): the waiter is then woken directly, without a cross-thread hand-off."""
    waiter: asyncio.Future[None] = loop.create_future()
    here = threading.get_ident()

    def answered(_: Pending) -> None:
        if threading.get_ident() == here:
            _wake(waiter)
        else:
            loop.call_soon_threadsafe(_wake, waiter)

    pending.add_done_callback(answered)
    await waiter


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    """The next chunk of a streamed body (None after the last), its long loops paced."""
    with paced():
        return next(chunks, None)


class CoreEndpoint:
    """ASGI endpoint: one request in, the core's answer out.

    Most requests take microseconds and are answered on the event loop (a thread hop would cost
    more than the work). Those whose work grows with the data (`Emulator.takes_long`: a large body,
    a dataset to judge, a result file) run in a worker thread, so the loop keeps serving the others
    meanwhile; the core's lock is held only while the state is read and changed. So does every
    request while the store may wait for another process (`Store.may_wait`)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.workers = WorkerThreads(WORKER_THREADS)
        self.stopping = asyncio.Event()  # set when the server shuts down: playing faults end at once
        self.streaming: set[Any] = set()  # the connections result files are being sent on

    def stop(self) -> None:
        """The server is shutting down: cut short the faults still playing (a hang, a latency) and the
        result files still being sent (a client that reads slowly, or not at all, would hold the
        shutdown for its whole grace period)."""
        self.stopping.set()
        for transport in list(self.streaming):
            transport.abort()

    def _answer_paced(self, request: ApiRequest) -> tuple[ApiResponse, Pending | None]:
        """`handle_unconfirmed` in a thread; long loops pause now and then, so the event loop keeps
        answering the others. A streamed body is closed here, once the request is done with it."""
        try:
            with paced():
                return self.emulator.handle_unconfirmed(request)
        finally:
            if request.spooled is not None:
                request.spooled.close()

    async def _answer(self, request: ApiRequest) -> tuple[ApiResponse, Pending | None]:
        """The core's answer and the commit it waits for, on the event loop or in a thread."""
        emulator = self.emulator
        if emulator.store.may_wait():  # for another process: keep the event loop serving meanwhile
            return await run_in_threadpool(self._answer_paced, request)
        if emulator.takes_long(request):
            return await self.workers.run(lambda: self._answer_paced(request))
        return emulator.handle_unconfirmed(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        emulator = self.emulator
        body: bytes | SpooledBody = b""
        try:
            given = request_headers(scope)
            limit = emulator.body_limit(scope["method"], scope["path"])
            body, oversized = await read_body(receive, limit, given.get("content-length"))
            request = to_api_request(scope, body, oversized, given)
            response, pending = await self._answer(request)
            if pending is not None:  # the answer leaves once its writes are stored; other requests go on meanwhile
                if not pending.done():
                    loop = asyncio.get_running_loop()  # once: on Python 3.11 each call is a getpid() system call
                    emulator.store.answer_on(loop)
                    await commit_answered(pending, loop)
                response = emulator.confirmed(response, pending)
            headers = encoded_headers(response)
        except Exception as exc:  # a bug: still a JSON 500, never the server's plain-text one
            response = internal_error(exc)
            headers = encoded_headers(response)
        finally:
            if isinstance(body, SpooledBody):
                body.close()  # its temporary file goes now, not when collected (closing twice is harmless)
        try:
            await self._respond(response, headers, scope, receive, send)
        except RuntimeError:  # uvloop refuses to write to a closed connection: its client went away
            if not connection_gone(scope):
                raise

    async def _respond(
        self, response: ApiResponse, headers: list[tuple[bytes, bytes]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Send the answer: a fault as it plays, a streamed body chunk by chunk, any other in slices."""
        if response.fault is not None and response.fault.transport:
            await play_fault(response, headers, scope, receive, send, self.stopping)
            return
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        if response.stream is not None:
            transport = transport_of(scope)
            if transport is not None:
                self.streaming.add(transport)
            try:
                await self._send_stream(response.stream, send, head=scope["method"] == "HEAD")
            finally:
                self.streaming.discard(transport)
            return
        sent = b"" if scope["method"] == "HEAD" else response.body
        # A large body goes in slices: the server then waits for the client to take each one,
        # instead of copying the whole body into its buffer in one go on the event loop.
        last = max(0, (len(sent) - 1) // SEND_BYTES * SEND_BYTES)  # where the last slice starts
        for start in range(0, last, SEND_BYTES):
            await send({"type": "http.response.body", "body": sent[start : start + SEND_BYTES], "more_body": True})
        await send({"type": "http.response.body", "body": sent[last:]})

    async def _send_stream(self, stream: StreamedBody, send: Send, *, head: bool) -> None:
        """A streamed body (a result file), chunk by chunk as the client takes them: each chunk is made
        in a worker thread, so the event loop only sends. Its `Content-Length` went with the headers.
        No chunk can fail (the job's dataset was checked when it was created); if one did anyway (a
        bug), the exception ends the connection short of that length, which the client reports."""
        chunks = stream.chunks
        try:
            while (
                not head
                and not self.stopping.is_set()
                and (chunk := await self.workers.run(lambda: _next_chunk(chunks))) is not None
            ):
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            close = getattr(chunks, "close", None)
            try:
                if close is not None:  # a generator given up early (a HEAD, a client gone) ends now
                    close()
            except ValueError:  # still making a chunk in its thread (the request was cancelled): it ends with it
                pass
        await send({"type": "http.response.body", "body": b""})


HEALTH_PATH = "/_emulator/health"


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, without its port) names this machine and nothing else:
    `localhost` and its subdomains (RFC 6761: never sent to DNS), a loopback address."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_of(scope: Scope) -> str:
    """The host a request was addressed to, from its `Host` header, without the port."""
    value = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    if value.startswith("["):
        return value[: value.find("]") + 1]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _foreign_host(scope: Scope) -> str | None:
    """The host a control-plane request was addressed to when it is not this machine's (loopback) name,
    else None. A page of another site can point its own name at this machine (DNS rebinding): its
    requests are then same-origin to the browser, and only the Host header tells them apart."""
    path = scope["path"]
    if not path.startswith("/_emulator/") or path.startswith(UPLOAD_PREFIX) or path == HEALTH_PATH:
        return None  # the upload URLs are API traffic; health tells nothing (both need no admin token either)
    host = _host_of(scope)
    return None if is_loopback(host) else host


class EmulatorApp(Starlette):
    """The Starlette app. HTTP requests for the core go straight to it: the core routes them itself
    and never raises, so Starlette's router and error middleware would only add time per request.
    The server's own `send` stays in the scope so that a fault can drop the connection
    (`fault_responses.py`).

    `loopback_only` (a server on a socket, `EmulatorServer`): without an admin token, the control
    plane answers only requests addressed to a loopback name (`is_loopback`), so that no web page can
    reach it through a name of its own. In-process faces (a test client) reach it by any name."""

    def __init__(self, core: CoreEndpoint, *, loopback_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core
        self.loopback_only = loopback_only and not core.emulator.engine.config.admin_token

    def stop(self) -> None:
        """Called as the server starts shutting down (`CoreEndpoint.stop`)."""
        self.core.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        if scope["type"] == "http":
            if self.loopback_only and (host := _foreign_host(scope)) is not None:
                await _refuse_host(host, send)
                return
            await self.core(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def _refuse_host(host: str, send: Send) -> None:
    response = error_response(
        Forbidden(
            f"This emulator has no admin token, so its control plane answers only requests addressed to "
            f"this machine by a loopback name (localhost, 127.0.0.1, [::1]); this one was addressed to "
            f"'{host}'. Use such a URL, or start the server with --admin-token.",
            code="host_not_allowed",
        )
    )
    await send({"type": "http.response.start", "status": response.status_code, "headers": encoded_headers(response)})
    await send({"type": "http.response.body", "body": response.body})


def create_app(
    emulator: Emulator | None = None, config: EmulatorConfig | None = None, *, loopback_only: bool = False
) -> EmulatorApp:
    """A Starlette app serving `emulator` (a new one from `config` when not given); `loopback_only`:
    see `EmulatorApp`."""
    emu = emulator or Emulator(config)
    core = CoreEndpoint(emu)
    app = EmulatorApp(
        core,
        loopback_only=loopback_only,
        routes=[StarletteRoute("/{path:path}", core, methods=ALL_METHODS)],
    )
    app.state.emulator = emu
    return app
