"""The emulator: the engine behind the route table, a lock, and the one request handler every face calls."""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable, Sequence

from ..engine._clock import Clock
from ..engine._config import EmulatorConfig
from ..engine._engine import Engine
from ..engine._errors import ApiError
from ..engine._files import Files
from ..engine._jobs import Jobs
from ..engine._journal import Journal
from ..engine._store import Pending, Store
from ._default_extensions import default_extensions
from ._extension import ApiExtension
from ._fault_intercept import intercept
from ._recording import journal_entry, recorded
from ._routing import Call, Route, RouteTable, body_limit, dispatch, error_response, resolve
from ._transport import ApiRequest, ApiResponse
from ._view_cache import ViewCache


def _route_table(extensions: tuple[ApiExtension, ...]) -> tuple[Route, ...]:
    from ._routes import route_table  # the handlers, on first use

    return route_table(extensions)


LARGE_BODY = 64 * 1024  # bytes; a larger request body takes a while to parse and store


class InternalError(ApiError):
    status_code = 500
    error_type = "server_error"


def internal_error(exc: BaseException) -> ApiResponse:
    """The JSON 500 of a bug in the emulator (never the request's fault), its traceback on stderr."""
    traceback.print_exception(exc, file=sys.stderr)
    error = InternalError(
        f"Internal emulator error ({type(exc).__name__}: {exc}). Please report it.",
        headers={"x-should-retry": "false"},
    )
    try:
        return error_response(error)
    except Exception:  # a message that will not render (say, lone surrogates): the same shape, plainly
        detail = {"message": f"Internal emulator error ({type(exc).__name__}).", "type": error.error_type}
        body = {"error": {**detail, "param": None, "code": None}}
        return ApiResponse(500, json.dumps(body).encode(), dict(error.headers))


class Emulator:
    """One emulated Together account space. Thread-safe: every request runs under one lock,
    so concurrent requests never interleave their state changes.

    `config` and keyword overrides (`EmulatorConfig` fields) give the settings; `store` the state's
    home (a new `MemoryStore` when not given); `extensions` the add-ons (`ApiExtension`) it serves
    beside the real contract: by default the package's own (the documented API), `[]` for none."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        store: Store | None = None,
        extensions: Sequence[ApiExtension] | None = None,
        **overrides: object,
    ) -> None:
        base = config or EmulatorConfig()
        # Overrides are validated like any setting (tables such as `faults` become models).
        settings = EmulatorConfig.model_validate({**base.model_dump(), **overrides}) if overrides else base
        self._lock = threading.RLock()
        self.views = ViewCache()
        self.extensions = tuple(default_extensions() if extensions is None else extensions)
        self._routes = RouteTable(_route_table(self.extensions))
        self.engine = Engine(settings, store=store, routes=lambda: self._routes, extensions=self.extensions)

    # ------------------------------------------------------------ the engine's parts

    @property
    def config(self) -> EmulatorConfig:
        """The settings in force (a new object after `reseed`, `reconfigure` or a state import)."""
        return self.engine.config

    @property
    def routes(self) -> list[Route]:
        """The route table: the Together API with the add-ons, their routes, the control plane."""
        return list(self._routes)

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def jobs(self) -> Jobs:
        return self.engine.jobs

    @property
    def files(self) -> Files:
        return self.engine.files

    @property
    def journal(self) -> Journal:
        return self.engine.journal

    # ------------------------------------------------------------ whole-state moves

    def reset(self, *, keep_clock: bool = False) -> None:
        """Forget every job, file and upload; restart ids from the seed (and the clock, unless kept)."""
        with self._lock, self.store.transaction():
            self.engine.follow_store()
            self.engine.reset(keep_clock=keep_clock)
            self.views.clear()

    def advance(self, seconds: float) -> None:
        with self._lock, self.store.transaction():
            self.engine.clock.advance(seconds)

    def reseed(self, seed: int) -> None:
        """Use `seed` from now on and start over from it: jobs, files and the journal are
        forgotten (ids restart from the new seed); the clock keeps its time."""
        with self._lock, self.store.transaction():
            self.engine.reseed(seed)
            self.views.clear()

    def reconfigure(self, config: EmulatorConfig) -> None:
        """Replace every setting and reset everything, clock included (a fresh emulator in place)."""
        with self._lock, self.store.transaction():
            self.engine.reconfigure(config)
            self.views.clear()

    # ------------------------------------------------------------ requests

    def body_limit(self, method: str, path: str) -> int:
        """The most bytes the body of a `method` request to `path` may hold: a face stops reading
        there and hands the core an `oversized` request, which is answered 413."""
        return body_limit(self.engine.config, self._routes.find(method, path))

    def takes_long(self, request: ApiRequest) -> bool:
        """Whether answering `request` may take long: its body is large, its route's work grows with
        the stored data (`Route.slow`), or its route has long work to prepare for this request (a
        create on a large dataset). A face with an event loop runs these in a thread."""
        if request.body_size > LARGE_BODY:  # the size only: a streamed body is not read here
            return True
        try:
            route, params = resolve(self._routes, request)
            return route.slow or self._work(route, params, request) is not None
        except Exception:  # answered at once, with the error
            return False

    def _work(self, route: Route, params: dict[str, str], request: ApiRequest) -> Callable[[], object] | None:
        """The long, pure part of a request (its route's `prepare`), read under the lock; None when
        there is nothing long to do."""
        if route.prepare is None:
            return None
        engine = self.engine
        with self._lock, engine.store.transaction():
            engine.follow_store()
            tenant = engine.tenants.find(request.api_key) if request.api_key else None
            if route.auth == "api_key" and tenant is None:
                return None  # a key seen for the first time has nothing stored to prepare
            return route.prepare(Call(engine, self.views, request, params, route, tenant, self._routes))

    def _prepare(self, request: ApiRequest) -> None:
        """Run the long part of a request before taking the lock for the request itself, which then
        finds it done: other requests wait for the lock only while the state is read and changed,
        not while a large dataset is parsed and judged."""
        try:
            route, params = resolve(self._routes, request)
            work = self._work(route, params, request)
            if work is not None:
                work()
        except Exception:  # only a head start: the request itself meets and answers any problem
            return

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request. Never raises: every failure, the journal's included, is an error body."""
        response, pending = self.handle_unconfirmed(request)
        return response if pending is None else self.confirmed(response, pending)

    def handle_unconfirmed(self, request: ApiRequest) -> tuple[ApiResponse, Pending | None]:
        """Answer one request, without waiting for a store outside this process to confirm its writes:
        returns the answer and, when there is one, the commit to wait for (`confirmed`) before the
        answer may leave. Meanwhile the next request can be handled (the server face does so)."""
        self._prepare(request)
        with self.store.unconfirmed() as pending:
            response = self._handle(request)
        return response, pending[-1] if pending else None  # commits are applied in order: the last one counts

    def _record(self, request: ApiRequest, call: Call | None, response: ApiResponse) -> None:
        """Journal `request` and its answer (unless the journal leaves its route out)."""
        if not recorded(request):
            return
        engine = self.engine
        now, wall = engine.clock.now_ns(), engine.clock.wall_ns()
        tenant = call.resolved_tenant if call is not None else None
        if tenant is None and request.api_key:  # not checked by its route (or not run)
            tenant = engine.tenants.find(request.api_key)
        name, kept = tenant.name if tenant else None, engine.config.journal_body_limit
        engine.journal.record(
            lambda seq: journal_entry(
                seq, request, call, response, now, tenant_name=name, body_limit=kept, wall_ns=wall
            )
        )

    def confirmed(self, response: ApiResponse, pending: Pending) -> ApiResponse:
        """`response` once its writes are confirmed, or a 500 saying they were not applied."""
        try:
            self.store.confirm(pending)
        except Exception as exc:
            return error_response(
                InternalError(f"The emulator could not store this request's changes ({exc}); nothing was applied.")
            )
        return response

    def _handle(self, request: ApiRequest) -> ApiResponse:
        engine, views, routes = self.engine, self.views, self._routes
        with self._lock:
            try:
                with engine.store.transaction():
                    engine.follow_store()
                    response, call = intercept(
                        engine, views, routes, request, lambda: dispatch(engine, views, routes, request)
                    )
                    self._record(request, call, response)
            except Exception as exc:  # a bug in the emulator, not in the request
                # The transaction ended with the exception: a persistent store rolled back what the
                # request wrote, so a failed request leaves nothing half done. Its 500 is journaled on its own.
                response = internal_error(exc)
                try:
                    with engine.store.transaction():
                        self._record(request, None, response)
                except Exception as journal_exc:
                    response = internal_error(journal_exc)
        try:
            # A deferred body (a result file) is made outside the lock; a fault plays with a whole body.
            return response.finish(whole=response.fault is not None)
        except Exception as exc:
            return internal_error(exc)
