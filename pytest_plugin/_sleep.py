"""`advance_on_sleep`: sleeping in the test's thread moves the emulator clock instead of waiting.

Code under test that polls with `time.sleep(5)`, `await asyncio.sleep(5)`, `await anyio.sleep(5)` or
`await trio.sleep(5)` then sees five emulated seconds pass at once. However the function was
imported (`import time`, `import time as t`, `from time import sleep`, `from asyncio import sleep as
nap`), the name points at the stand-in for the test's duration: as freezegun does for `datetime`,
every loaded module's global that is the real function is rebound, and put back afterwards. Only
the thread that runs the test is affected; the live server's thread, Starlette's `TestClient`
portal and every other thread sleep for real. An infinite delay (`sleep(math.inf)`, a "wait until
cancelled" idiom) is left to the real function.

Not reached: a sleep function captured before the test in a default argument, a class attribute
or a closure; names inside asyncio, anyio and trio themselves (their internals keep the real
functions); anyio and trio when they are not imported yet when the test starts.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from together_eval_emulator.faces._controller import EmulatorController

# Modules whose own globals keep the real functions: the event loops' internals (anyio sleeps for
# math.inf or polls with sleep(0.1) inside), pytest's, and ours. Their public `sleep` is patched.
INTERNAL_PACKAGES = ("asyncio", "anyio", "trio", "_pytest", "pluggy", "together_eval_emulator")


class _Switch:
    """On for the test's duration: monkeypatch turns it off at teardown, so a stand-in that a module
    imported during the test keeps afterwards behaves as the real function again."""

    on = False


def _real_sleeps() -> Iterator[tuple[ModuleType, Callable[..., Any], bool]]:
    """(module, its real sleep function, whether it is a coroutine function) for each library loaded."""
    import asyncio

    yield time, time.sleep, False
    yield asyncio, asyncio.sleep, True
    for name in ("anyio", "trio"):
        module = sys.modules.get(name)
        if module is not None and callable(getattr(module, "sleep", None)):
            yield module, module.sleep, True


def _stand_in(
    real: Callable[..., Any], is_async: bool, switch: _Switch, controller: EmulatorController
) -> Callable[..., Any]:
    test_thread = threading.get_ident()

    def takes_effect(delay: Any) -> bool:
        return (
            switch.on
            and threading.get_ident() == test_thread
            and isinstance(delay, int | float)
            and 0 < delay < math.inf
        )

    if is_async:

        async def async_sleep(delay: Any, *args: Any, **kwargs: Any) -> Any:
            if not takes_effect(delay):
                return await real(delay, *args, **kwargs)
            controller.advance(delay)
            return await real(0, *args, **kwargs)  # still a suspension point, as a real sleep is

        async_sleep.__wrapped__ = real  # type: ignore[attr-defined]
        return async_sleep

    def sleep(seconds: Any) -> None:
        if not takes_effect(seconds):
            return real(seconds)  # type: ignore[no-any-return]
        controller.advance(seconds)
        return None

    sleep.__wrapped__ = real  # type: ignore[attr-defined]
    return sleep


def patch_sleep(monkeypatch: pytest.MonkeyPatch, controller: EmulatorController) -> None:
    """Stand in for the sleep functions for the rest of the test (undone by monkeypatch)."""
    switch = _Switch()
    monkeypatch.setattr(switch, "on", True)
    stand_ins: dict[int, Callable[..., Any]] = {}
    for module, real, is_async in _real_sleeps():
        fake = _stand_in(real, is_async, switch, controller)
        stand_ins[id(real)] = fake
        monkeypatch.setattr(module, "sleep", fake)
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", None)
        namespace = getattr(module, "__dict__", None)
        if not isinstance(name, str) or not isinstance(namespace, dict) or name.partition(".")[0] in INTERNAL_PACKAGES:
            continue
        for attribute, value in list(namespace.items()):
            fake = stand_ins.get(id(value))
            if fake is not None:
                monkeypatch.setattr(module, attribute, fake)
