"""Long loops that leave room for other threads.

A thread working through a large dataset (parsing it, judging its rows, writing its result file)
holds the GIL while it computes. The other threads of the process (a server's event loop answering
the other clients) get it back only at the interpreter's switch interval, and wait for it again
after each socket call they make: on a busy machine a poll could wait a hundred milliseconds. A
thread that runs its long loops under `paced()` pauses briefly after every few milliseconds of work
instead (`pace()`), so that the others run in between. Only threads that ask for it are paced: the
server's workers do, the in-process faces and the tests run at full speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

WORK_SECONDS = 0.002  # computing between two pauses (each pause costs the long request ~25%)
PAUSE_SECONDS = 0.0005  # each pause: long enough for a waiting thread to take the GIL and answer

_state = threading.local()


@contextmanager
def paced() -> Iterator[None]:
    """Pace the long loops this thread runs inside the block."""
    _state.since = time.perf_counter()
    _state.paced = True
    try:
        yield
    finally:
        _state.paced = False


def pace() -> None:
    """A point in a long loop where a paced thread may pause (each row, each slice of input)."""
    if getattr(_state, "paced", False) and time.perf_counter() - _state.since >= WORK_SECONDS:
        time.sleep(PAUSE_SECONDS)
        _state.since = time.perf_counter()
