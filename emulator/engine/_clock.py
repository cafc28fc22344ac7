"""The emulator clock: every timestamp and every status transition reads it. Its state lives in the
store (`ClockState`); `Clock` reads and moves it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

NS = 1_000_000_000
DEFAULT_EPOCH = "2026-01-01T00:00:00Z"

# The clock's range: every instant it shows, and every timestamp derived from one, must be one a
# date can write. The year after the end leaves room for job phases planned after the last instant.
EARLIEST = "1970-01-01T00:00:00Z"
LATEST = "9999-01-01T00:00:00Z"
EARLIEST_NS = 0
LATEST_NS = 253_370_764_800 * NS
SPAN_SECONDS = (LATEST_NS - EARLIEST_NS) // NS  # the longest advance there can be
_LAST_WRITABLE_NS = 253_402_300_800 * NS - 1  # 9999-12-31T23:59:59.999999999Z
MAX_TIME_SCALE = 1_000_000.0  # a real clock at most this many times faster than the wall (11.5 days a second)

ClockMode = Literal["real", "manual"]


class OutOfRange(ValueError):
    """A time, a move or a speed the clock cannot take: it would leave `EARLIEST` to `LATEST`."""


def _in_range(ns: int, given: object) -> int:
    if not EARLIEST_NS <= ns <= LATEST_NS:
        raise OutOfRange(f"{given!r} is outside the emulator clock's range, {EARLIEST} to {LATEST}")
    return ns


def _seconds_ns(seconds: float, given: object) -> int:
    if not math.isfinite(seconds) or abs(seconds) > LATEST_NS / NS:
        raise OutOfRange(f"{given!r} is outside the emulator clock's range, {EARLIEST} to {LATEST}")
    return int(round(seconds * NS))


def parse_time(value: str | float | int) -> int:
    """An RFC 3339 string or epoch seconds, as epoch nanoseconds. Raises ValueError on anything
    else, and on an instant outside the clock's range (`EARLIEST` to `LATEST`)."""
    if isinstance(value, bool):  # a boolean is not a number of seconds
        raise ValueError(f"{value!r} is neither an RFC 3339 time nor epoch seconds")
    if isinstance(value, (int, float)):
        return _in_range(_seconds_ns(value, value), value)
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return _in_range(_seconds_ns(seconds, value), value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is neither an RFC 3339 time nor epoch seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        ns = int(parsed.timestamp()) * NS + parsed.microsecond * 1000
    except (OverflowError, ValueError):
        raise OutOfRange(f"{value!r} is outside the emulator clock's range, {EARLIEST} to {LATEST}") from None
    return _in_range(ns, value)


DEFAULT_EPOCH_NS = parse_time(DEFAULT_EPOCH)


def _stamp(ns: int) -> tuple[str, int]:
    """(date and time to the second, nanoseconds) of an instant; instants a date cannot write (a
    job phase planned past year 9999) are shown at the last one it can."""
    seconds, rest = divmod(min(max(ns, EARLIEST_NS), _LAST_WRITABLE_NS), NS)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S"), rest


def format_micros(ns: int) -> str:
    """`2025-06-30T12:50:40.723521Z`: the job `created_at` / `updated_at` form."""
    stamp, rest = _stamp(ns)
    return f"{stamp}.{rest // 1000:06d}Z"


def format_nanos(ns: int) -> str:
    """`2025-06-30T12:50:40.722334754Z`: the `status_updates[].timestamp` form."""
    stamp, rest = _stamp(ns)
    return f"{stamp}.{rest:09d}Z"


def check_scale(scale: float) -> float:
    """A real clock's speed, checked: finite, above 0 and at most `MAX_TIME_SCALE`."""
    if isinstance(scale, bool) or not 0 < scale <= MAX_TIME_SCALE:  # NaN fails the comparison too
        raise OutOfRange(f"time scale must be > 0 and at most {MAX_TIME_SCALE:g}, got {scale!r}")
    return scale


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
    check_scale(scale)
    if start_ns is None:
        start_ns = wall_ns() if mode == "real" else DEFAULT_EPOCH_NS
    return ClockState(mode, scale, _in_range(start_ns, start_ns), wall_ns())


class Clock:
    """Manual (frozen until advanced) or real (wall time, optionally scaled), over a state kept in
    a store: reading it reads the store, moving it writes a new state there.

    Both modes can be advanced and set; a real clock keeps running from where it was put, and
    stops at `LATEST`. Moving it outside its range is a ValueError.
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
        elapsed = (self._wall_ns() - state.wall_anchor_ns) * state.scale
        if not elapsed < LATEST_NS - state.anchor_ns:  # the end of its range (or a scale a state import gave)
            return max(state.anchor_ns, LATEST_NS)
        return state.anchor_ns + int(elapsed)

    def now(self) -> float:
        return self.now_ns() / NS

    def wall_ns(self) -> int:
        """The wall clock this clock runs on (epoch ns), for figures about real time, whatever the mode."""
        return self._wall_ns()

    def set_ns(self, ns: int) -> None:
        """Put the clock at `ns` (epoch nanoseconds, within its range)."""
        _in_range(ns, f"{ns / NS:g} epoch seconds")
        state = self._holder.clock_state()
        self._holder.set_clock_state(ClockState(state.mode, state.scale, ns, self._wall_ns()))

    def advance(self, seconds: float) -> None:
        """Move the clock on by `seconds` (finite, >= 0; not past `LATEST`)."""
        if isinstance(seconds, bool) or not 0 <= seconds < math.inf:  # NaN fails the comparison too
            raise ValueError(f"cannot advance the clock by {seconds!r} s: give a finite number of seconds >= 0")
        now = self.now_ns()
        room = (LATEST_NS - now) / NS
        if seconds > room:
            raise OutOfRange(
                f"advancing the clock by {seconds:g} s would take it past {LATEST}, the end of its range; "
                f"it can advance by at most {room:.0f} s from {format_micros(now)}"
            )
        self.set_ns(now + int(round(seconds * NS)))

    def set_mode(self, mode: ClockMode, scale: float | None = None) -> None:
        """Freeze (manual) or run (real) from the current instant."""
        if scale is not None:
            check_scale(scale)
        now = self.now_ns()
        state = self._holder.clock_state()
        self._holder.set_clock_state(ClockState(mode, state.scale if scale is None else scale, now, self._wall_ns()))
