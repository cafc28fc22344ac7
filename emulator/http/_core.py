"""The emulator core: state, clock, ids and the one request handler every face calls."""

from __future__ import annotations

import sys
import threading
import traceback
from functools import lru_cache

from ..engine import _startup as startup
from ..engine._clock import Clock, parse_time
from ..engine._config import EmulatorConfig
from ..engine._errors import ApiError
from ..engine._faults import intercept
from ..engine._files import Files
from ..engine._ids import IdGenerator
from ..engine._jobs import Jobs
from ..engine._journal import Journal
from ..engine._store import State
from ._routing import Route, dispatch, error_response
from ._transport import ApiRequest, ApiResponse


@lru_cache(maxsize=1)
def _routes() -> list[Route]:
    from ._routes import ROUTES

    return ROUTES


class InternalError(ApiError):
    status_code = 500
    error_type = "server_error"


class Emulator:
    """One emulated Together account space. Thread-safe: every request runs under one lock,
    so concurrent requests never interleave their state changes."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: object) -> None:
        base = config or EmulatorConfig()
        # Overrides are validated like any setting (tables such as `faults` become models).
        self.config = EmulatorConfig.model_validate({**base.model_dump(), **overrides}) if overrides else base
        self._lock = threading.RLock()
        self.clock = Clock(
            self.config.clock,
            scale=self.config.time_scale,
            start_ns=parse_time(self.config.start_time) if self.config.start_time else None,
        )
        self.jobs = Jobs(self)
        self.files = Files(self)
        self.reset(keep_clock=True)

    @property
    def routes(self) -> list[Route]:
        return _routes()

    def reset(self, *, keep_clock: bool = False) -> None:
        """Forget every job, file and upload; restart ids from the seed (and the clock, unless kept)."""
        with self._lock:
            self.state = State()
            self.ids = IdGenerator(self.config.seed)
            self.journal = Journal(lambda: self.routes, self.config.journal_limit)
            if not keep_clock:
                self.clock = Clock(
                    self.config.clock,
                    scale=self.config.time_scale,
                    start_ns=parse_time(self.config.start_time) if self.config.start_time else None,
                )
            startup.apply(self)  # tenants, files, scenarios and faults of the settings

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.clock.advance(seconds)

    def reseed(self, seed: int) -> None:
        """Use `seed` from now on and start over from it: jobs, files and the journal are
        forgotten (ids restart from the new seed); the clock keeps its time."""
        with self._lock:
            self.config = EmulatorConfig.model_validate({**self.config.model_dump(), "seed": seed})
            self.reset(keep_clock=True)

    def reconfigure(self, config: EmulatorConfig) -> None:
        """Replace every setting and reset everything, clock included (a fresh emulator in place)."""
        with self._lock:
            self.config = config
            self.reset()

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request. Never raises: every failure is an error body."""
        with self._lock:
            call = None
            try:
                response, call = intercept(self, request, lambda: dispatch(self, self.routes, request))
            except Exception as exc:  # a bug in the emulator, not in the request
                traceback.print_exc(file=sys.stderr)
                response = error_response(
                    InternalError(
                        f"Internal emulator error ({type(exc).__name__}: {exc}). Please report it.",
                        headers={"x-should-retry": "false"},
                    )
                )
            self.journal.record(request, call, response, self.clock.now_ns())
            return response
