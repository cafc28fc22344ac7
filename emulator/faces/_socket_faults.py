"""How the Starlette face plays a fault on a real connection: latency, a hang until the client
gives up, a dropped connection, a truncated body.

ASGI has no message for "close the connection without answering", so under uvicorn the raw
`send` (kept in the scope by `app.EmulatorApp`) leads to the connection's transport, which is
aborted. Without uvicorn (Starlette's TestClient, which is in-process) the fault is raised as the
httpx exception a real network would have produced, as the respx face does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive, Scope, Send

from ..http._transport import ApiResponse

RAW_SEND = "together_emulator.send"
Headers = list[tuple[bytes, bytes]]


def connection_gone(scope: Scope) -> bool:
    """Whether the request's connection has closed (its client went away). If so, uvicorn is told, so
    that it does not report the answer left unfinished as an error."""
    cycle: Any = getattr(scope.get(RAW_SEND), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not transport.is_closing():
        return False
    cycle.disconnected = True
    return True


def transport_of(scope: Scope) -> Any:
    """The uvicorn connection's asyncio transport, or None when not served by uvicorn."""
    cycle = getattr(scope.get(RAW_SEND), "__self__", None)
    transport = getattr(cycle, "transport", None)
    return transport if hasattr(transport, "abort") else None


async def _disconnected(receive: Receive, timeout: float, stopping: asyncio.Event | None = None) -> bool:
    """Wait until the client goes away (True), or `timeout` passes or the server stops (False)."""

    async def wait() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    gone = asyncio.ensure_future(wait())
    waits = [gone] if stopping is None else [gone, asyncio.ensure_future(stopping.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    return gone.done() and not gone.cancelled()


async def _pause(seconds: float, stopping: asyncio.Event) -> None:
    """Sleep `seconds`, or less when the server stops meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        pass


def _httpx_request(scope: Scope) -> Any:
    import httpx  # only the in-process TestClient path needs it; the server starts without httpx

    host, port = scope.get("server") or ("testserver", 80)
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"{scope.get('scheme', 'http')}://{host}:{port}{scope['path']}" + (f"?{query}" if query else "")
    return httpx.Request(scope["method"], url)


async def _answer(response: ApiResponse, headers: Headers, scope: Scope, send: Send, *, partial: bool = False) -> None:
    body = b"" if scope["method"] == "HEAD" else response.body
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if partial:
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
    else:
        await send({"type": "http.response.body", "body": body})


async def play_fault(
    response: ApiResponse, headers: Headers, scope: Scope, receive: Receive, send: Send, stopping: asyncio.Event
) -> None:
    """Send `response` (its `headers` already encoded) as `response.fault` says. A latency or a
    hang ends early when `stopping` is set (the server is shutting down)."""
    fault = response.fault
    assert fault is not None
    transport = transport_of(scope)
    if transport is None:
        from ._httpx_faults import araise_for_fault

        await araise_for_fault(response, _httpx_request(scope))
        await _answer(response, headers, scope, send)
        return
    if fault.latency:
        await _pause(fault.latency, stopping)
    if fault.hang_seconds is not None:
        if await _disconnected(receive, fault.hang_seconds, stopping):
            return
    elif fault.truncate:
        await _answer(response, headers, scope, send, partial=True)
    elif not fault.drop:
        await _answer(response, headers, scope, send)
        return
    transport.abort()  # closes without a response (or mid-body, when truncating)
    await _disconnected(receive, 1.0)  # let uvicorn see the loss before the endpoint returns
