"""The emulator clock: every timestamp and every status transition reads it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

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


class Clock:
    """Manual (frozen until advanced) or real (wall time, optionally scaled).

    Both modes can be advanced and set; a real clock keeps running from where it was put.
    """

    def __init__(
        self,
        mode: ClockMode = "manual",
        *,
        start_ns: int | None = None,
        scale: float = 1.0,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale}")
        self._wall_ns = wall_ns
        self.mode: ClockMode = mode
        self.scale = scale
        if start_ns is None:
            start_ns = wall_ns() if mode == "real" else parse_time(DEFAULT_EPOCH)
        self._anchor_emulated = start_ns
        self._anchor_wall = wall_ns()

    def now_ns(self) -> int:
        if self.mode == "manual":
            return self._anchor_emulated
        elapsed = self._wall_ns() - self._anchor_wall
        return self._anchor_emulated + int(elapsed * self.scale)

    def now(self) -> float:
        return self.now_ns() / NS

    def set_ns(self, ns: int) -> None:
        self._anchor_emulated = ns
        self._anchor_wall = self._wall_ns()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds} s)")
        self.set_ns(self.now_ns() + int(round(seconds * NS)))

    def set_mode(self, mode: ClockMode, scale: float | None = None) -> None:
        """Freeze (manual) or run (real) from the current instant."""
        now = self.now_ns()
        self.mode = mode
        if scale is not None:
            if scale <= 0:
                raise ValueError(f"time scale must be > 0, got {scale}")
            self.scale = scale
        self.set_ns(now)
