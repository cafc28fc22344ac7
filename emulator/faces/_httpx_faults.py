"""How a scripted fault surfaces to an httpx client served in-process (the respx face, and the
Starlette app under its in-process TestClient): the exception a real network would have raised."""

from __future__ import annotations

import asyncio
import time

import httpx

from ..http._transport import ApiResponse


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


def httpx_effect(response: ApiResponse, request: httpx.Request) -> tuple[float, Exception | None]:
    """What an in-process face does with `response.fault`: (seconds to wait, exception to raise
    after waiting, or None to answer `response`).

    hang → `httpx.ReadTimeout` at once (nothing can change while the caller waits); latency at or
    over the request's read timeout → `ReadTimeout` after the timeout; drop → `RemoteProtocolError`
    (stage `connect`: `ConnectError`); truncate → `RemoteProtocolError` (incomplete body).
    """
    fault = response.fault
    if fault is None or not fault.transport:
        return 0.0, None
    if fault.hang_seconds is not None:
        return 0.0, httpx.ReadTimeout(
            f"timed out: the emulator hangs this request (fault '{fault.rule_id}')", request=request
        )
    if fault.drop == "connect":
        return 0.0, httpx.ConnectError(f"connection refused by the emulator (fault '{fault.rule_id}')", request=request)
    if fault.drop:
        return 0.0, httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    wait = fault.latency
    read_timeout = _read_timeout(request)
    if read_timeout is not None and wait >= read_timeout:
        return read_timeout, httpx.ReadTimeout(
            f"timed out after {read_timeout:g} s: the emulator delays this "
            f"request by {wait:g} s (fault '{fault.rule_id}')",
            request=request,
        )
    if fault.truncate:
        sent = len(response.body) // 2
        return wait, httpx.RemoteProtocolError(
            f"peer closed connection without sending complete message body (received {sent} bytes, "
            f"expected {len(response.body)})",
            request=request,
        )
    return wait, None


def raise_for_fault(response: ApiResponse, request: httpx.Request) -> None:
    """Sync in-process faces: wait and raise as `httpx_effect` says; return to answer normally."""
    wait, error = httpx_effect(response, request)
    if wait:
        time.sleep(wait)
    if error is not None:
        raise error


async def araise_for_fault(response: ApiResponse, request: httpx.Request) -> None:
    """Async twin of `raise_for_fault`."""
    wait, error = httpx_effect(response, request)
    if wait:
        await asyncio.sleep(wait)
    if error is not None:
        raise error
