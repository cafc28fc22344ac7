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
    from ..faces._controller import EmulatorController

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
    real: Callable[..., Any],
    is_async: bool,
    switch: _Switch,
    controller: EmulatorController,
    on_advance: Callable[[], None] | None = None,
) -> Callable[..., Any]:
    test_thread = threading.get_ident()

    def advance(delay: float) -> None:
        controller.advance(float(delay))  # as a number of seconds: `sleep(True)` sleeps one, as the real one does
        if on_advance is not None:
            on_advance()

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
            advance(delay)
            return await real(0, *args, **kwargs)  # still a suspension point, as a real sleep is

        async_sleep.__wrapped__ = real  # type: ignore[attr-defined]
        return async_sleep

    def sleep(seconds: Any) -> None:
        if not takes_effect(seconds):
            return real(seconds)  # type: ignore[no-any-return]
        advance(seconds)
        return None

    sleep.__wrapped__ = real  # type: ignore[attr-defined]
    return sleep


def patch_sleep(
    monkeypatch: pytest.MonkeyPatch, controller: EmulatorController, on_advance: Callable[[], None] | None = None
) -> None:
    """Stand in for the sleep functions for the rest of the test (undone by monkeypatch);
    `on_advance` is called after each sleep moved the clock."""
    switch = _Switch()
    monkeypatch.setattr(switch, "on", True)
    stand_ins: dict[int, Callable[..., Any]] = {}
    for module, real, is_async in _real_sleeps():
        stand_ins[id(real)] = _stand_in(real, is_async, switch, controller, on_advance)
        monkeypatch.setattr(module, "sleep", stand_ins[id(real)])
    for module, names in _bound_names(frozenset(stand_ins)):
        for name in names:
            fake = stand_ins.get(id(module.__dict__.get(name)))
            if fake is not None:  # still bound to the real function
                monkeypatch.setattr(module, name, fake)


# Which globals of which module were bound to a real sleep function, by module: a Python loop over
# every global of every loaded module costs 20-60 ms, so a module is scanned again only when it is
# new or its number of globals changed (the real functions never change while they are loaded).
_SCANS: dict[str, tuple[ModuleType, int, tuple[str, ...]]] = {}
_SCANNED_FOR: list[frozenset[int]] = [frozenset()]


def _bound_names(real_ids: frozenset[int]) -> Iterator[tuple[ModuleType, tuple[str, ...]]]:
    """(module, names of its globals that are real sleep functions) for each loaded module that has some."""
    if _SCANNED_FOR[0] != real_ids:  # anyio or trio was imported since: every module is looked at again
        _SCANS.clear()
        _SCANNED_FOR[0] = real_ids
    for module_name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module_name.partition(".")[0] in INTERNAL_PACKAGES:
            continue
        scan = _SCANS.get(module_name)
        if scan is None or scan[0] is not module or scan[1] != len(namespace):
            names = tuple(name for name, value in list(namespace.items()) if id(value) in real_ids)
            scan = _SCANS[module_name] = (module, len(namespace), names)
        if scan[2]:
            yield module, scan[2]
