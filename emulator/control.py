"""The control plane under `/_emulator/`: what a test steers, over HTTP (ARCHITECTURE.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from . import __version__
from .clock import format_micros
from .errors import InvalidRequest
from .journal import RecordedRequestList, RecordedRequestView
from .routing import Call, Route, json_response
from .transport import ApiResponse
from .wire import ClockAdvanceRequest, ClockState, Health


def clock_state(call: Call) -> ApiResponse:
    clock = call.emulator.clock
    now = clock.now_ns()
    return json_response(ClockState(now=format_micros(now), epoch=now / 1e9, mode=clock.mode,
                                    time_scale=clock.scale))


def advance_clock(call: Call) -> ApiResponse:
    body = call.model(ClockAdvanceRequest)
    call.emulator.advance(body.seconds)
    return clock_state(call)


def health(call: Call) -> ApiResponse:
    return json_response(Health(version=__version__))


def reset(call: Call) -> ApiResponse:
    call.emulator.reset()
    return json_response(Health(version=__version__))


# ---------------------------------------------------------------- journal and seed (pytest plugin issue)


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int


def list_requests(call: Call) -> ApiResponse:
    """The journal, oldest first; `route`, `job_id`, `file_id`, `tenant`, `status_code` filter it."""
    query = call.request.query
    criteria: dict[str, Any] = {name: query[name] for name in ("job_id", "file_id", "tenant") if query.get(name)}
    if query.get("status_code", "").isdigit():
        criteria["status_code"] = int(query["status_code"])
    try:
        entries = call.emulator.journal.filter(query.get("route") or None, **criteria)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="route") from None
    return json_response(RecordedRequestList(data=[RecordedRequestView.of(e) for e in entries]))


def reset_journal(call: Call) -> ApiResponse:
    call.emulator.journal.clear()
    return json_response(Health(version=__version__))


def reseed(call: Call) -> ApiResponse:
    call.emulator.reseed(call.model(SeedRequest).seed)
    return json_response(Health(version=__version__))


CONTROL_ROUTES: list[Route] = [
    Route("GET", "/_emulator/health", health, "control.health", auth=False),
    Route("GET", "/_emulator/clock", clock_state, "control.clock", auth=False),
    Route("POST", "/_emulator/clock/advance", advance_clock, "control.clock.advance", auth=False),
    Route("POST", "/_emulator/reset", reset, "control.reset", auth=False),
    Route("GET", "/_emulator/requests", list_requests, "control.requests", auth=False),
    Route("POST", "/_emulator/reset/journal", reset_journal, "control.reset.journal", auth=False),
    Route("POST", "/_emulator/seed", reseed, "control.seed", auth=False),
]
