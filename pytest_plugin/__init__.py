"""pytest plugin of together-eval-emulator, registered through the `pytest11` entry point.

Fixtures:

* `together_emulator`: a fresh in-process emulator for each test (and each parametrized case),
  served to every httpx client (sync and async) through a respx router; no socket.
* `together_emulator_server`: one live server per session on a free port, reset before each
  test, for clients respx cannot intercept (`requests`, `aiohttp`, subprocesses, CLIs).

Both patch `TOGETHER_API_KEY` and `TOGETHER_BASE_URL` (in the form the installed `together` SDK
expects) and hand the test an `EmulatorController`. Settings: `@pytest.mark.together_emulator(...)`,
`--together-emulator-<name>` options and `together_emulator_<name>` ini keys (see `_options`).

Every pytest run in an environment where the package is installed loads this module, fixtures used
or not: it imports only pytest and the static option table. The emulator, httpx, respx, Starlette
and pydantic are imported by the fixtures, on first use.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from . import _options, _paths, _polling

if TYPE_CHECKING:
    from ..engine._paths import LifecyclePath
    from ..faces._controller import EmulatorController
    from ..faces._server import EmulatorServer
    from ._fixture_settings import FixtureSettings

__all__ = ["EmulatorController", "together_emulator", "together_emulator_path", "together_emulator_server"]

_DEFAULTS = pytest.StashKey[dict[str, Any]]()


def __getattr__(name: str) -> Any:
    if name == "EmulatorController":  # re-exported for type hints in users' tests, loaded on first use
        from ..faces._controller import EmulatorController

        return EmulatorController
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _options.marker_signature())
    config.addinivalue_line("markers", _paths.MARKER_LINE)
    config.stash[_DEFAULTS] = _options.session_defaults(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    _paths.parametrize(metafunc)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        _polling.grade(item, report)
        _paths.record(item, report)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    _polling.summarize(terminalreporter, config)
    _paths.summarize(terminalreporter)


@pytest.fixture
def together_emulator_path(request: pytest.FixtureRequest) -> LifecyclePath | None:
    """The lifecycle path this run's jobs follow, under `@pytest.mark.together_emulator_paths(...)`
    (None without it): `.label` (`pending->queued->error`), `.statuses`, `.end`, `.at`."""
    path: LifecyclePath | None = getattr(request, "param", None)
    return path


def _prepare(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    controller: EmulatorController,
    settings: FixtureSettings,
    path: LifecyclePath | None,
) -> None:
    """Point the together SDKs at the emulator for this test (undone by monkeypatch); with a
    lifecycle path, make the jobs follow it."""
    monkeypatch.setenv("TOGETHER_API_KEY", controller.api_key)
    monkeypatch.setenv("TOGETHER_BASE_URL", controller.base_url)
    monkeypatch.setenv("TOGETHER_TELEMETRY_DISABLED", "1")  # the 3.x CLI would post analytics
    monkeypatch.setenv("TOGETHER_NO_BANNER", "1")  # the 1.5.x SDK prints a banner otherwise
    if settings.advance_on_sleep:
        from ._sleep import patch_sleep

        patch_sleep(monkeypatch, controller, _paths.stall_deadline(request, controller, path))
    _paths.follow(controller, path)


@pytest.fixture
def together_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, together_emulator_path: LifecyclePath | None
) -> Iterator[EmulatorController]:
    """A fresh in-process emulator behind a respx router, for httpx-based clients.

    `Together()` with no arguments reaches it; so does any `httpx.Client` / `AsyncClient` sent
    to `together_emulator.url`. Unknown paths answer the emulator's 404. Requests through in-memory
    transports (Starlette's `TestClient`, `httpx.ASGITransport`, pytest-httpx) are left alone;
    requests that would reach another network host fail (or pass through, with
    `other_hosts="pass_through"`).
    """
    from ..faces._mock import EmulatorMock
    from ..http._core import Emulator

    settings = _options.for_test(request.node, request.config.stash[_DEFAULTS])
    mock = EmulatorMock(
        Emulator(settings.emulator_config()),
        base_url=settings.base_url,
        other_hosts=settings.other_hosts,
        api_key=settings.api_key,
    )
    controller = mock.start()
    try:
        _prepare(request, monkeypatch, controller, settings, together_emulator_path)
        _polling.watch(request, controller, settings.polling)
        yield controller
    finally:
        mock.stop()


@pytest.fixture(scope="session")
def _together_emulator_live_server() -> Iterator[EmulatorServer]:
    """The session's emulator server on 127.0.0.1 and a free port, in a background thread."""
    from ..faces._mock import TEST_DEFAULTS
    from ..faces._server import EmulatorServer
    from ..http._core import Emulator

    server = EmulatorServer(Emulator(**TEST_DEFAULTS)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def together_emulator_server(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    _together_emulator_live_server: EmulatorServer,
    together_emulator_path: LifecyclePath | None,
) -> EmulatorController:
    """The session's live emulator server, reset and configured for this test.

    `.url` is its root (`http://127.0.0.1:<port>`, the together 3.x base URL), `.v1_url` the
    together 1.x/2.x base URL, `.base_url` the one for the installed SDK.
    """
    from ..faces._controller import EmulatorController

    settings = _options.for_test(request.node, request.config.stash[_DEFAULTS])
    server = _together_emulator_live_server
    server.emulator.reconfigure(settings.emulator_config())
    controller = EmulatorController(server.emulator, server.url, api_key=settings.api_key)
    _prepare(request, monkeypatch, controller, settings, together_emulator_path)
    _polling.watch(request, controller, settings.polling)
    return controller
