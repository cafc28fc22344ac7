"""`serve --workers N`: N server processes on one listening socket, over one shared store.

The parent binds the socket, then forks the workers; each inherits the socket, opens the store
itself (a connection is never carried across a fork) and serves it with uvicorn, and the kernel
hands each new connection to one of them. The parent only supervises: it restarts a worker that
dies (a `kill -9`, a crash), forwards Ctrl-C / SIGTERM to all of them and waits for them to stop.
A worker whose parent is gone stops too.

Forking (rather than uvicorn's own `workers`, which needs an import string and re-reads the
settings in each child) lets every worker build its emulator from the settings already read,
and keeps the port the parent bound (`--port 0`). It needs `os.fork`: not on Windows.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from ..stores._factory import open_store
from ._server import EmulatorServer, url_of
from ._settings import ServerSettings

STARTUP_FAILURE = 3  # a worker's exit code when it cannot build its emulator: restarting would not help
PARENT_CHECK_S = 1.0  # how often a worker looks whether its parent is still there
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def supported() -> bool:
    return hasattr(os, "fork")


def _stop_when_orphaned(parent: int) -> None:
    """A worker outlives a parent killed with SIGKILL: it stops itself, as Ctrl-C would."""
    while os.getppid() == parent:
        threading.Event().wait(PARENT_CHECK_S)
    os.kill(os.getpid(), signal.SIGTERM)


def _work(settings: ServerSettings, sock: socket.socket, parent: int) -> NoReturn:
    """The body of a worker process (never returns: it exits)."""
    from ..http._core import Emulator

    try:
        emulator = Emulator(settings.emulator_config(), store=open_store(settings.store))
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(STARTUP_FAILURE)
    threading.Thread(target=_stop_when_orphaned, args=(parent,), name="parent-watch", daemon=True).start()
    code = 0
    try:
        EmulatorServer(emulator, log_level=settings.log_level, sock=sock).serve()
    except KeyboardInterrupt:
        pass
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        emulator.store.close()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _start(settings: ServerSettings, sock: socket.socket) -> int:
    parent = os.getpid()
    # Signals wait until the child has dropped the parent's handlers (they would stop its siblings).
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    pid = os.fork()
    if pid == 0:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        _work(settings, sock, parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    return pid


def serve_workers(settings: ServerSettings, sock: socket.socket, on_ready: Callable[[str], None]) -> int:
    """Run `settings.workers` workers on `sock` until Ctrl-C or SIGTERM; the exit code of `serve`."""
    workers: set[int] = set()
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in _SIGNALS}
    code = 0
    try:
        for _ in range(settings.workers):
            workers.add(_start(settings, sock))
        on_ready(url_of(sock))
        while workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            workers.discard(pid)
            if stopping:
                continue
            exit_code = os.waitstatus_to_exitcode(status)
            if exit_code == STARTUP_FAILURE:
                print(f"together-eval-emulator: worker {pid} could not start (see above); stopping", file=sys.stderr)
                code = 1
                stop(signal.SIGTERM, None)
                continue
            how = f"signal {-exit_code}" if exit_code < 0 else f"exit code {exit_code}"
            print(f"together-eval-emulator: worker {pid} ended ({how}); starting another", file=sys.stderr)
            workers.add(_start(settings, sock))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return code
