"""The in-process face: a respx router that hands every request for the emulator's host to the core.

No socket and no event loop: the router's side effect turns the `httpx.Request` into an `ApiRequest`,
calls `Emulator.handle` synchronously and turns the answer into an `httpx.Response`, so a sync
`httpx.Client` and an `httpx.AsyncClient` are served alike (respx's `ASGIHandler` would refuse
the sync one).

    with EmulatorMock() as emu:                       # a fresh emulator, manual clock, seed 0
        client = Together(api_key=emu.api_key, base_url=emu.base_url)
        ...
        emu.run_until_complete(job_id)

`respx_router(emulator)` gives the bare `respx.MockRouter` for those who compose their own.

What is intercepted, and where. respx's own mockers patch either every httpx client's transport
choice (`using="httpx"`: each request of every client, in-memory transports included, goes through
the mock first) or httpcore's connection pools (`using="httpcore"`: below pytest-httpx, which patches
`httpx.HTTPTransport.handle_request` and would then see the emulator's requests first; and about
3 ms per start and stop for its 12 patched methods). Neither fits a user's suite, so this module
hooks two places itself, only while an emulator router is active:

* `httpx.Client._transport_for_url` / `AsyncClient._transport_for_url`, where a client picks the
  transport for a URL: a URL on an active emulator's scheme, host and port gets the emulator's
  transport, unless the client's own transport is in-memory (ASGI, WSGI, `MockTransport`,
  Starlette's `TestClient`). Every other request keeps the client's own transport, untouched.
* httpcore's connection pools, the point where a request would leave for the network: with
  `other_hosts="fail"`, a request to another host is refused there with a clear error, unless a
  respx router of the user's is active (then respx decides, as it would without the emulator).
  In-memory transports and pytest-httpx never reach that point.

Each hook is a plain attribute swap (microseconds), undone when the last router stops; if another
patcher (a respx mocker) was laid over a hook meanwhile, the hook stays, doing nothing while no
emulator is active, so the other patcher's own restore stays correct.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpcore
import httpx
import respx
from respx.mocks import Mocker
from respx.models import AllMockedAssertionError

from ..engine._config import EmulatorConfig
from ..http._core import Emulator
from ..http._transport import ApiRequest, ApiResponse
from ._controller import DEFAULT_API_KEY, EmulatorController
from ._httpx_faults import araise_for_fault, raise_for_fault

DEFAULT_BASE_URL = "http://together-emulator.test"
# Settings of an emulator made for tests: frozen clock at the fixed epoch, seed 0 (reproducible ids).
TEST_DEFAULTS: dict[str, Any] = {"clock": "manual", "seed": 0}

OtherHosts = Literal["fail", "pass_through"]
Origin = tuple[str, str, int]
R = TypeVar("R")
T = TypeVar("T")

# Transports that never touch the network: requests through them are the user's own test doubles.
IN_MEMORY_TRANSPORTS: tuple[type, ...] = (httpx.ASGITransport, httpx.WSGITransport, httpx.MockTransport)
IN_MEMORY_PACKAGES = ("starlette", "fastapi")  # TestClient's transport, recognised without importing them


def to_api_request(request: httpx.Request, limit: int | None = None) -> ApiRequest:
    """The core's view of an httpx request (its body is read if it was not yet). A body larger than
    `limit` bytes is not handed on: the request is marked `oversized` (a 413), as the server face does."""
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = request.read()
    oversized = limit is not None and len(body) > limit
    url = request.url
    return ApiRequest(
        method=request.method,
        path=url.path,
        base_url=f"{url.scheme}://{url.netloc.decode('ascii')}",
        query_string=url.query.decode("ascii"),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=b"" if oversized else body,
        oversized=oversized,
    )


# Set while an async client's request is answered (`EmulatorRouter.async_handler`): a fault's wait is
# then awaited, so the event loop keeps running the test's other tasks meanwhile.
_ASYNC_REQUEST: ContextVar[bool] = ContextVar("together_emulator_async_request", default=False)


def serve(emulator: Emulator) -> Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]:
    """A respx side effect answering every request from `emulator`, like the Starlette app does. A
    scripted hang, latency, drop or truncation waits and raises the httpx exception: with `time.sleep`
    for a sync client, and in the awaitable it returns for an async one (respx awaits it)."""

    def side_effect(request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        api_request = to_api_request(request, emulator.body_limit(request.method, request.url.path))
        response = emulator.handle(api_request)
        if response.fault is not None and _ASYNC_REQUEST.get():
            return _after_fault(response, api_request, request)
        raise_for_fault(response, request)
        return _answer(response, api_request)

    return side_effect


async def _after_fault(response: ApiResponse, api_request: ApiRequest, request: httpx.Request) -> httpx.Response:
    await araise_for_fault(response, request)
    return _answer(response, api_request)


def _answer(response: ApiResponse, api_request: ApiRequest) -> httpx.Response:
    """The core's answer as an httpx response."""
    headers = {name.lower(): value for name, value in response.all_headers().items()}
    headers["content-length"] = str(response.size)  # as app.py sends it, even for b""
    if response.stream is not None:  # a result file: its chunks are made as the client reads them
        stream = ChunkStream(response.stream.chunks)
        if api_request.method != "HEAD":
            return httpx.Response(response.status_code, headers=headers, stream=stream)
        stream.close()
        response.body = b""
    return httpx.Response(
        response.status_code, headers=headers, content=b"" if api_request.method == "HEAD" else response.body
    )


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body as an httpx response stream, for sync and async clients alike: iterating the
    response gives the chunks as they are made (respx reads ahead only `httpx.ByteStream` bodies).
    An async client's chunks are made on its event loop, as every in-process answer is."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:  # a body the client stopped reading: its generator ends now
            close()

    async def aclose(self) -> None:
        self.close()


def _origin(scheme: str, host: str, port: int | None) -> Origin:
    return (scheme, host, port if port is not None else (443 if scheme == "https" else 80))


def _in_memory(transport: object) -> bool:
    return (
        isinstance(transport, IN_MEMORY_TRANSPORTS)
        or type(transport).__module__.partition(".")[0] in IN_MEMORY_PACKAGES
    )


class _RouterTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The transport a client gets for an emulator's URL: the router answers, sync or async."""

    def __init__(self, router: EmulatorRouter) -> None:
        self._router = router

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._router.handler(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await self._router.async_handler(request)


class EmulatorRouter(respx.MockRouter):
    """A respx router for one emulator's scheme, host and port; while started, every httpx client
    whose transport is not in-memory is served by it for that origin (see the module docstring)."""

    def __init__(self, base_url: str, origin: Origin, other_hosts: OtherHosts) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True, using=None)
        self.served_url = base_url
        self.origin = origin
        self.other_hosts = other_hosts
        self.transport = _RouterTransport(self)

    def start(self) -> None:
        """Snapshot the routes (as respx does) and start serving the origin."""
        super().start()
        _INTERCEPTION.activate(self)

    def stop(self, clear: bool = True, reset: bool = True, quiet: bool = False) -> None:
        """Stop serving the origin, then roll the routes back (as respx does)."""
        _INTERCEPTION.deactivate(self)
        super().stop(clear=clear, reset=reset, quiet=quiet)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """An async client's request: a fault's wait is awaited (`serve`)."""
        marked = _ASYNC_REQUEST.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _ASYNC_REQUEST.reset(marked)


class _Interception:
    """The process-wide hooks in httpx and httpcore, and the routers they serve."""

    def __init__(self) -> None:
        self.routers: tuple[EmulatorRouter, ...] = ()  # replaced whole, so other threads read a consistent tuple
        self._hooks: list[tuple[type, str, Any, Any]] = []  # (owner, name, original, hook) while installed
        self._lock = threading.Lock()

    def activate(self, router: EmulatorRouter) -> None:
        with self._lock:
            if not self._hooks:
                self._install()
            self.routers = (*self.routers, router)

    def deactivate(self, router: EmulatorRouter) -> None:
        with self._lock:
            if router not in self.routers:
                return
            self.routers = tuple(active for active in self.routers if active is not router)
            if not self.routers and all(owner.__dict__.get(name) is hook for owner, name, _, hook in self._hooks):
                for owner, name, original, _ in self._hooks:
                    setattr(owner, name, original)
                self._hooks = []

    def router_for(self, url: httpx.URL) -> EmulatorRouter | None:
        """The most recently started router serving `url`'s origin, if any."""
        routers = self.routers
        if not routers:
            return None
        origin = _origin(url.scheme, url.host, url.port)
        for router in reversed(routers):
            if router.origin == origin:
                return router
        return None

    def refusal(self, request: httpcore.Request) -> AllMockedAssertionError | None:
        """The error for a request about to leave for the network, when an emulator forbids it."""
        failing = [router for router in self.routers if router.other_hosts == "fail"]
        if not failing or any(mocker.routers for mocker in Mocker.registry.values()):
            return None  # nothing forbids it, or a user's respx router is active and decides
        url = request.url
        port = "" if url.port is None else f":{url.port}"
        shown = f"{url.scheme.decode()}://{url.host.decode()}{port}{url.target.decode()}"
        served = ", ".join(router.served_url for router in failing)
        return AllMockedAssertionError(
            f"RESPX: <Request({request.method.decode()!r}, {shown!r})> not mocked! The together emulator serves only "
            f"{served}; use that base URL, mock this host with another respx router or pytest-httpx, or let "
            "other hosts through with other_hosts='pass_through' (marker option of @pytest.mark.together_emulator)."
        )

    def _install(self) -> None:
        for owner, name, make in (
            (httpx.Client, "_transport_for_url", self._transport_hook),
            (httpx.AsyncClient, "_transport_for_url", self._transport_hook),
            (httpcore.ConnectionPool, "handle_request", self._sync_guard),
            (httpcore.AsyncConnectionPool, "handle_async_request", self._async_guard),
        ):
            original = owner.__dict__[name]
            hook = make(original)
            setattr(owner, name, hook)
            self._hooks.append((owner, name, original, hook))

    def _transport_hook(self, original: Callable[[Any, httpx.URL], T]) -> Callable[[Any, httpx.URL], T]:
        @functools.wraps(original)
        def _transport_for_url(client: Any, url: httpx.URL) -> Any:
            transport = original(client, url)
            router = self.router_for(url)
            return transport if router is None or _in_memory(transport) else router.transport

        return _transport_for_url

    def _sync_guard(self, original: Callable[[Any, httpcore.Request], T]) -> Callable[[Any, httpcore.Request], T]:
        @functools.wraps(original)
        def handle_request(pool: Any, request: httpcore.Request) -> T:
            if (error := self.refusal(request)) is not None:
                raise error
            return original(pool, request)

        return handle_request

    def _async_guard(self, original: Callable[[Any, httpcore.Request], Any]) -> Callable[[Any, httpcore.Request], Any]:
        @functools.wraps(original)
        async def handle_async_request(pool: Any, request: httpcore.Request) -> Any:
            if (error := self.refusal(request)) is not None:
                raise error
            return await original(pool, request)

        return handle_async_request


_INTERCEPTION = _Interception()


def checked_base_url(base_url: str) -> httpx.URL:
    """`base_url` as a URL the in-process emulator can answer at, or a ValueError: the root of an
    http(s) origin (a path would put every request under it, and each would get a 404)."""
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"base_url must look like 'http://host[:port]' (no path), got {base_url!r}")
    return url


def respx_router(
    emulator: Emulator, *, base_url: str = DEFAULT_BASE_URL, other_hosts: OtherHosts = "fail"
) -> respx.MockRouter:
    """A respx router serving every path of `base_url`'s scheme, host and port from `emulator`.

    Unknown paths get the emulator's own 404 ("not emulated"), never a connection error. Requests
    to other hosts are never touched by the router: in-memory transports (Starlette's `TestClient`,
    `httpx.ASGITransport`, `MockTransport`, pytest-httpx) serve them as usual; one about to go out
    to the network goes to any other active respx router, and otherwise fails
    (`other_hosts="fail"`) or goes out (`other_hosts="pass_through"`).
    """
    if other_hosts not in ("fail", "pass_through"):
        raise ValueError(f"other_hosts must be 'fail' or 'pass_through', got {other_hosts!r}")
    url = checked_base_url(base_url)
    origin = _origin(url.scheme, url.host, url.port)
    router = EmulatorRouter(f"{url.scheme}://{url.netloc.decode('ascii')}", origin, other_hosts)
    router.route(scheme=url.scheme, host=url.host, port=origin[2], name="together-emulator").mock(
        side_effect=serve(emulator)
    )
    return router


class EmulatorMock:
    """An emulator behind a respx router: a context manager, a decorator, or started by hand.

    Entering returns the `EmulatorController`. As a decorator it builds a fresh emulator for
    every call (so parametrized cases never share state) and passes the controller as the
    `together_emulator` argument when the function has one. On a class (a `unittest.TestCase`
    or a plain pytest class) it decorates each test method, as `unittest.mock.patch` does.
    `settings` are `EmulatorConfig` fields (seed, clock, running_seconds, ...) over `config`,
    or over the test defaults (manual clock, seed 0) when no config is given.
    With `patch_env=True`, `TOGETHER_API_KEY` and `TOGETHER_BASE_URL` point at the emulator
    while it is active.
    """

    def __init__(
        self,
        emulator: Emulator | None = None,
        *,
        config: EmulatorConfig | None = None,
        base_url: str = DEFAULT_BASE_URL,
        other_hosts: OtherHosts = "fail",
        api_key: str = DEFAULT_API_KEY,
        patch_env: bool = False,
        **settings: Any,
    ) -> None:
        if emulator is not None and not isinstance(emulator, Emulator):
            raise TypeError(
                f"EmulatorMock takes an Emulator (or nothing), got {emulator!r}; "
                "as a decorator, write @EmulatorMock() with parentheses."
            )
        if emulator is not None and (config is not None or settings):
            raise TypeError("Pass an emulator, or a config and/or settings, not both.")
        self._shared = emulator
        self._options: dict[str, Any] = dict(
            config=config, base_url=base_url, other_hosts=other_hosts, api_key=api_key, patch_env=patch_env
        )
        self._settings = settings
        if emulator is None:
            base = config.model_dump() if config is not None else dict(TEST_DEFAULTS)
            emulator = Emulator(EmulatorConfig.model_validate({**base, **settings}))
        self.emulator = emulator
        self.router = respx_router(self.emulator, base_url=base_url, other_hosts=other_hosts)
        self.control = EmulatorController(self.emulator, base_url, api_key=api_key)
        self._saved_env: dict[str, str | None] | None = None

    def _fresh(self) -> EmulatorMock:
        return EmulatorMock(self._shared, **self._options, **self._settings)

    # ------------------------------------------------------------ start and stop

    def start(self) -> EmulatorController:
        """Activate the router (and the environment variables); returns the controller."""
        self.router.start()
        if self._options["patch_env"]:
            values = {"TOGETHER_API_KEY": self.control.api_key, "TOGETHER_BASE_URL": self.control.base_url}
            self._saved_env = {name: os.environ.get(name) for name in values}
            os.environ.update(values)
        return self.control

    def stop(self) -> None:
        """Deactivate the router and restore the environment."""
        self.router.stop(quiet=True)
        for name, value in (self._saved_env or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = None

    def __enter__(self) -> EmulatorController:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> EmulatorController:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ decorator

    def __call__(self, target: T) -> T:
        """Decorate a sync or async function (a fresh emulator is active for each call), or a class
        (each of its test methods)."""
        if inspect.isclass(target):
            return self._decorate_class(target)  # type: ignore[return-value]
        if not callable(target):
            raise TypeError(f"EmulatorMock decorates a function or a class, got {target!r}.")
        return self._decorate_function(target)  # type: ignore[return-value]

    def _decorate_function(self, func: Callable[..., R]) -> Callable[..., R]:
        wants_control = "together_emulator" in inspect.signature(func).parameters

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh() as control:
                    if wants_control:
                        kwargs["together_emulator"] = control
                    return await func(*args, **kwargs)

            return _mark(_hide_argument(async_wrapper, wants_control))

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh() as control:
                if wants_control:
                    kwargs["together_emulator"] = control
                return func(*args, **kwargs)

        return _mark(_hide_argument(wrapper, wants_control))

    def _decorate_class(self, cls: type[Any]) -> type[Any]:
        """Wrap every method whose name starts with `test` (unittest's and pytest's default), inherited
        ones included, as `unittest.mock.patch` does; setUp and fixtures run outside the emulator."""
        decorated = 0
        for name in dir(cls):
            if not name.startswith(TEST_PREFIX):
                continue
            raw = inspect.getattr_static(cls, name)
            if isinstance(raw, staticmethod | classmethod):
                function, rewrap = raw.__func__, type(raw)
            elif inspect.isfunction(raw):
                function, rewrap = raw, None
            else:
                continue  # a test_* attribute that is not a method (a constant, a nested class)
            decorated += 1
            if getattr(function, _MARK, False):
                continue  # already decorated (a decorated base class): one emulator per test
            wrapped: Any = self._decorate_function(function)
            setattr(cls, name, rewrap(wrapped) if rewrap is not None else wrapped)
        if not decorated:
            raise TypeError(
                f"@EmulatorMock() on class {cls.__name__} found no test methods (names starting with "
                f"{TEST_PREFIX!r}) to decorate; decorate the test functions themselves, or the class "
                "that defines them."
            )
        return cls


TEST_PREFIX = "test"  # what unittest and pytest collect by default, and what unittest.mock.patch decorates
_MARK = "__together_emulator_mock__"


def _mark(wrapper: Callable[..., R]) -> Callable[..., R]:
    setattr(wrapper, _MARK, True)
    return wrapper


def _hide_argument(wrapper: Callable[..., Any], hide: bool) -> Callable[..., Any]:
    """Drop `together_emulator` from the visible signature, so pytest does not look for a fixture."""
    if hide:
        signature = inspect.signature(wrapper)
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name != "together_emulator"]
        )
    return wrapper
