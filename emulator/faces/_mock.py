"""The in-process face: a respx router that hands every request for the emulator's host to the core.

No socket and no event loop: the respx side effect turns the `httpx.Request` into an `ApiRequest`,
calls `Emulator.handle` synchronously and turns the answer into an `httpx.Response`, so a sync
`httpx.Client` and an `httpx.AsyncClient` are served alike (respx's `ASGIHandler` would refuse
the sync one).

    with EmulatorMock() as emu:                       # a fresh emulator, manual clock, seed 0
        client = Together(api_key=emu.api_key, base_url=emu.base_url)
        ...
        emu.run_until_complete(job_id)

`respx_router(emulator)` gives the bare `respx.MockRouter` for those who compose their own.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import respx
from respx.mocks import HTTPCoreMocker
from respx.models import AllMockedAssertionError

from ..engine._config import EmulatorConfig
from ..http._core import Emulator
from ..http._transport import ApiRequest
from ._controller import DEFAULT_API_KEY, EmulatorController
from ._httpx_faults import raise_for_fault

DEFAULT_BASE_URL = "http://together-emulator.test"
# Settings of an emulator made for tests: frozen clock at the fixed epoch, seed 0 (reproducible ids).
TEST_DEFAULTS: dict[str, Any] = {"clock": "manual", "seed": 0}

OtherHosts = Literal["fail", "pass_through"]
R = TypeVar("R")


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


def serve(emulator: Emulator) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect answering every request from `emulator`, like the Starlette app does."""

    def side_effect(request: httpx.Request) -> httpx.Response:
        api_request = to_api_request(request, emulator.body_limit(request.method, request.url.path))
        response = emulator.handle(api_request)
        raise_for_fault(response, request)  # a scripted hang, drop or truncation: the httpx exception
        headers = {name.lower(): value for name, value in response.all_headers().items()}
        headers["content-length"] = str(len(response.body))  # as app.py sends it, even for b""
        return httpx.Response(
            response.status_code, headers=headers, content=b"" if api_request.method == "HEAD" else response.body
        )

    return side_effect


def respx_router(
    emulator: Emulator, *, base_url: str = DEFAULT_BASE_URL, other_hosts: OtherHosts = "fail"
) -> respx.MockRouter:
    """A respx router serving every path of `base_url`'s scheme, host and port from `emulator`.

    Unknown paths get the emulator's own 404 ("not emulated"), never a connection error.
    Requests to other hosts fall through to any other active respx router and otherwise fail
    (`other_hosts="fail"`), or go out to the network (`other_hosts="pass_through"`).
    """
    if other_hosts not in ("fail", "pass_through"):
        raise ValueError(f"other_hosts must be 'fail' or 'pass_through', got {other_hosts!r}")
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must look like 'http://host[:port]', got {base_url!r}")
    port = url.port or (443 if url.scheme == "https" else 80)
    # Patch the httpx transports (a quarter of the cost of patching httpcore pools, paid on every
    # start); requests for other hosts go on down to httpcore, where a user's own respx router
    # (the default mocker) can take them.
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True, using="httpx")
    router.route(scheme=url.scheme, host=url.host, port=port, name="together-emulator").mock(
        side_effect=serve(emulator)
    )
    if other_hosts == "pass_through":
        router.route(name="other-hosts").pass_through()
    else:

        def refuse(request: httpx.Request) -> httpx.Request:
            if HTTPCoreMocker.routers:  # another respx router is active below us: pass it down there
                return request
            raise AllMockedAssertionError(
                f"RESPX: {request!r} not mocked! The together emulator serves only "
                f"{url.scheme}://{url.netloc.decode()}; "
                "use that base URL, mock this host with another respx router, or let other hosts through "
                "with other_hosts='pass_through' (marker option of @pytest.mark.together_emulator)."
            )

        router.route(name="other-hosts").mock(side_effect=refuse)
    return router


class EmulatorMock:
    """An emulator behind a respx router: a context manager, a decorator, or started by hand.

    Entering returns the `EmulatorController`. As a decorator it builds a fresh emulator for
    every call (so parametrized cases never share state) and passes the controller as the
    `together_emulator` argument when the function has one. `settings` are `EmulatorConfig`
    fields (seed, clock, running_seconds, ...) over `config`, or over the test defaults
    (manual clock, seed 0) when no config is given.
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

    def __call__(self, func: Callable[..., R]) -> Callable[..., R]:
        """Decorate a sync or async function: a fresh emulator is active for each call."""
        wants_control = "together_emulator" in inspect.signature(func).parameters

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh() as control:
                    if wants_control:
                        kwargs["together_emulator"] = control
                    return await func(*args, **kwargs)

            return _hide_argument(async_wrapper, wants_control)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh() as control:
                if wants_control:
                    kwargs["together_emulator"] = control
                return func(*args, **kwargs)

        return _hide_argument(wrapper, wants_control)


def _hide_argument(wrapper: Callable[..., Any], hide: bool) -> Callable[..., Any]:
    """Drop `together_emulator` from the visible signature, so pytest does not look for a fixture."""
    if hide:
        signature = inspect.signature(wrapper)
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name != "together_emulator"]
        )
    return wrapper
