"""The emulator clock: every timestamp and every status transition reads it. Its state lives in the
store (`ClockState`); `Clock` reads and moves it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

NS = 1_000_000_000
DEFAULT_EPOCH = "2026-01-01T00:00:00Z"

ClockMode = Literal["real", "manual"]


def parse_time(value: str | float | int) -> int:
    """An RFC 3339 string or epoch seconds, as epoch nanoseconds."""
    if isinstance(value, (int, float)):
        return int(round(value * NS))
    text = value.strip()
    try:
        return int(round(float(text) * NS))
    except ValueError:
        pass
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp()) * NS + parsed.microsecond * 1000


DEFAULT_EPOCH_NS = parse_time(DEFAULT_EPOCH)


def format_micros(ns: int) -> str:
    """`2025-06-30T12:50:40.723521Z`: the job `created_at` / `updated_at` form."""
    seconds, rest = divmod(ns, NS)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 1000:06d}Z"


def format_nanos(ns: int) -> str:
    """`2025-06-30T12:50:40.722334754Z`: the `status_updates[].timestamp` form."""
    seconds, rest = divmod(ns, NS)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z"


@dataclass(frozen=True)
class ClockState:
    """Everything a clock is: its mode, its speed, and the emulated instant it showed at a wall instant.

    A manual clock shows `anchor_ns`; a real one shows `anchor_ns` plus the wall time elapsed since
    `wall_anchor_ns`, times `scale`. Kept in the store, so several processes can share one clock.
    """

    mode: ClockMode
    scale: float
    anchor_ns: int
    wall_anchor_ns: int


class ClockStateHolder(Protocol):
    """Where a `Clock` keeps its state (a `Store` is one)."""

    def clock_state(self) -> ClockState: ...

    def set_clock_state(self, state: ClockState) -> None: ...


def initial_state(
    mode: ClockMode = "manual",
    *,
    start_ns: int | None = None,
    scale: float = 1.0,
    wall_ns: Callable[[], int] = time.time_ns,
) -> ClockState:
    """A clock's state at start: a manual clock starts at the default epoch, a real one at the wall time."""
    if scale <= 0:
        raise ValueError(f"time scale must be > 0, got {scale}")
    if start_ns is None:
        start_ns = wall_ns() if mode == "real" else DEFAULT_EPOCH_NS
    return ClockState(mode, scale, start_ns, wall_ns())


class Clock:
    """Manual (frozen until advanced) or real (wall time, optionally scaled), over a state kept in
    a store: reading it reads the store, moving it writes a new state there.

    Both modes can be advanced and set; a real clock keeps running from where it was put.
    """

    def __init__(self, holder: ClockStateHolder, wall_ns: Callable[[], int] = time.time_ns) -> None:
        self._holder = holder
        self._wall_ns = wall_ns

    @property
    def mode(self) -> ClockMode:
        return self._holder.clock_state().mode

    @property
    def scale(self) -> float:
        return self._holder.clock_state().scale

    def start(self, mode: ClockMode, *, start_ns: int | None = None, scale: float = 1.0) -> None:
        """Start over as a fresh clock (`start_ns` None: the default epoch, or now for a real clock)."""
        self._holder.set_clock_state(initial_state(mode, start_ns=start_ns, scale=scale, wall_ns=self._wall_ns))

    def now_ns(self) -> int:
        state = self._holder.clock_state()
        if state.mode == "manual":
            return state.anchor_ns
        return state.anchor_ns + int((self._wall_ns() - state.wall_anchor_ns) * state.scale)

    def now(self) -> float:
        return self.now_ns() / NS

    def wall_ns(self) -> int:
        """The wall clock this clock runs on (epoch ns), for figures about real time, whatever the mode."""
        return self._wall_ns()

    def set_ns(self, ns: int) -> None:
        state = self._holder.clock_state()
        self._holder.set_clock_state(ClockState(state.mode, state.scale, ns, self._wall_ns()))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds} s)")
        self.set_ns(self.now_ns() + int(round(seconds * NS)))

    def set_mode(self, mode: ClockMode, scale: float | None = None) -> None:
        """Freeze (manual) or run (real) from the current instant."""
        if scale is not None and scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale}")
        now = self.now_ns()
        state = self._holder.clock_state()
        self._holder.set_clock_state(ClockState(mode, state.scale if scale is None else scale, now, self._wall_ns()))
