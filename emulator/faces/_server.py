"""Serving the app with uvicorn: in the foreground (the CLI) or in a background thread (tests).

The server runs on the fastest stack that imports here: httptools (HTTP parsing) and uvloop (the
event loop), which `uvicorn[standard]` installs where they build, else uvicorn's pure-Python h11
and the standard asyncio loop. Both are chosen explicitly (`server_stack`), and the loop is made
for this server only (no process-wide event loop policy is set).
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
from collections.abc import Callable
from typing import Literal

import uvicorn

from ..http._core import Emulator
from ._asgi import create_app


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets that say so, and
    # without it every keep-alive request waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


HttpImpl = Literal["httptools", "h11"]
LoopImpl = Literal["uvloop", "asyncio"]


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def server_stack() -> tuple[HttpImpl, LoopImpl]:
    """The HTTP implementation and event loop the server runs on: httptools and uvloop when each
    imports, else h11 and asyncio (each chosen on its own)."""
    http: HttpImpl = "httptools" if _importable("httptools") else "h11"
    loop: LoopImpl = "uvloop" if _importable("uvloop") else "asyncio"
    return http, loop


def http_protocol(http: HttpImpl) -> type[asyncio.Protocol] | HttpImpl:
    """What uvicorn speaks HTTP with: on httptools, its protocol with the bounds a shared server needs
    (`_http_protocol.py`); h11 has bounds of its own."""
    if http == "httptools":
        from ._http_protocol import BoundedHttpToolsProtocol

        return BoundedHttpToolsProtocol
    return http


def loop_factory(loop: LoopImpl) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the server's event loop (None: asyncio's default)."""
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None  # asyncio's own default loop


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


SHUTDOWN_GRACE_SECONDS = 2  # requests still running when the server stops get this long to finish


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, telling the app when it starts shutting down: a fault still playing (a
    `hang` holds its connection, and so the shutdown, for minutes) ends at once."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.on_shutdown()
        await super().shutdown(sockets=sockets)


class EmulatorServer:
    """A uvicorn server for one emulator, on a socket it binds (port 0 picks a free one) or is given."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        *,
        sock: socket.socket | None = None,
    ) -> None:
        self.emulator = emulator
        self.socket = sock or bind(host, port)  # a socket given is shared (`serve --workers`)
        self.url = url_of(self.socket)
        self.http, self.loop = server_stack()
        app = create_app(emulator, loopback_only=True)  # on a socket: see `EmulatorApp`
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            http=http_protocol(self.http),
            loop="none",  # the loop is made by `serve`, for this server only
            ws="none",  # no WebSocket route: uvicorn need not import a WebSocket library
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
        self.server = _Uvicorn(config, on_shutdown=app.stop)
        self._thread: threading.Thread | None = None

    def serve(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Run in the foreground until Ctrl-C (or `stop()`)."""
        if on_ready is not None:
            original = self.server.startup

            async def startup(sockets: list[socket.socket] | None = None) -> None:
                await original(sockets=sockets)
                if self.server.started:
                    on_ready(self.url)

            self.server.startup = startup  # type: ignore[method-assign]
        with asyncio.Runner(loop_factory=loop_factory(self.loop)) as runner:
            runner.run(self.server.serve(sockets=[self.socket]))

    def start(self) -> EmulatorServer:
        """Serve from a daemon thread; returns once the socket accepts connections."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self.serve, args=(lambda url: ready.set(),), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the emulator server did not start within 10 s")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
        self.socket.close()
