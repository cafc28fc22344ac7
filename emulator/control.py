"""The control plane under `/_emulator/`: what a test steers, over HTTP (ARCHITECTURE.md)."""

from __future__ import annotations

from . import __version__
from .clock import format_micros
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


CONTROL_ROUTES: list[Route] = [
    Route("GET", "/_emulator/health", health, "control.health", auth=False),
    Route("GET", "/_emulator/clock", clock_state, "control.clock", auth=False),
    Route("POST", "/_emulator/clock/advance", advance_clock, "control.clock.advance", auth=False),
    Route("POST", "/_emulator/reset", reset, "control.reset", auth=False),
]
