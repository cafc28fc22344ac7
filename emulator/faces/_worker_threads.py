"""Worker threads for the requests that take long, so that the event loop keeps serving the others.
(Not the worker processes of `serve --workers`, `_workers.py`: each of those has its own threads.)

The threads are daemons: a request still being worked on when the server stops (a large dataset
being judged) does not hold up the process's exit. Its answer has nowhere to go by then anyway.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the request was given up (the server is stopping)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class WorkerThreads:
    """A fixed number of daemon threads, started on first use; further work waits its turn."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def run(self, function: Callable[[], T]) -> T:
        """`function()` in a worker thread; the caller's event loop runs on meanwhile."""
        self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((function, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self.count:
                thread = threading.Thread(target=self._work, name="emulator-worker", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            function, loop, future = self._jobs.get()
            if future.cancelled():
                continue
            result, error = None, None
            try:
                result = function()
            except BaseException as exc:  # handed to the awaiting request, as if raised there
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop is closed: the server stopped meanwhile
                pass
