"""`advance_on_sleep`: every spelling of a sleep in the test's thread moves the emulator clock instead of
waiting (`from time import sleep`, `import time as t`, asyncio, anyio, and trio where it is installed),
other threads sleep for real, and every name is put back after the test."""

from __future__ import annotations

import asyncio
import threading
import time
import time as t
from asyncio import sleep as nap
from collections.abc import Iterator
from time import sleep

import anyio
import pytest
from together_eval_emulator.faces._controller import EmulatorController
from together_eval_emulator.http._core import Emulator
from together_eval_emulator.pytest_plugin._sleep import patch_sleep

REAL = (time.sleep, asyncio.sleep, anyio.sleep)
START_NS = Emulator(clock="manual").clock.now_ns()  # the manual clock's fixed start


def elapsed(controller: EmulatorController) -> float:
    """Emulated seconds since the start."""
    return (controller.emulator.clock.now_ns() - START_NS) / 1e9


@pytest.fixture
def controller() -> Iterator[EmulatorController]:
    """An emulator whose clock the sleeps of the test's thread move, for the test's duration."""
    monkeypatch = pytest.MonkeyPatch()
    controller = EmulatorController(Emulator(clock="manual"), "http://together-emulator.test")
    patch_sleep(monkeypatch, controller)
    yield controller
    monkeypatch.undo()


def test_from_time_import_sleep(controller: EmulatorController) -> None:
    sleep(5)
    assert elapsed(controller) == 5


def test_time_imported_under_another_name(controller: EmulatorController) -> None:
    t.sleep(2.5)
    time.sleep(0.5)
    assert elapsed(controller) == 3


def test_a_boolean_delay_is_a_number_of_seconds_as_for_the_real_sleep(controller: EmulatorController) -> None:
    time.sleep(True)
    asyncio.run(asyncio.sleep(True))
    assert elapsed(controller) == 2


def test_asyncio_sleep_however_imported(controller: EmulatorController) -> None:
    async def main() -> str:
        await asyncio.sleep(4)
        return await nap(6, result="done")  # asyncio.sleep's result argument still works

    assert asyncio.run(main()) == "done"
    assert elapsed(controller) == 10


def test_anyio_sleep(controller: EmulatorController) -> None:
    async def main() -> None:
        await anyio.sleep(7)

    anyio.run(main)
    assert elapsed(controller) == 7


def test_trio_and_anyio_on_trio() -> None:
    trio = pytest.importorskip("trio")  # optional: patched when installed and imported
    monkeypatch = pytest.MonkeyPatch()
    controller = EmulatorController(Emulator(clock="manual"), "http://together-emulator.test")
    real = trio.sleep
    patch_sleep(monkeypatch, controller)

    async def main() -> None:
        await trio.sleep(8)
        await anyio.sleep(2)

    try:
        trio.run(main)
        anyio.run(main, backend="trio")
    finally:
        monkeypatch.undo()
    assert elapsed(controller) == 20
    assert trio.sleep is real


def test_other_threads_and_odd_delays_sleep_for_real(controller: EmulatorController) -> None:
    worker = threading.Thread(target=sleep, args=(0.01,))
    worker.start()
    worker.join()
    sleep(0)
    with pytest.raises(ValueError):
        sleep(-1)  # the real function's own error
    assert elapsed(controller) == 0


def test_every_name_is_put_back_and_late_copies_turn_inert() -> None:
    monkeypatch = pytest.MonkeyPatch()
    controller = EmulatorController(Emulator(clock="manual"), "http://together-emulator.test")
    patch_sleep(monkeypatch, controller)
    assert (time.sleep, asyncio.sleep, anyio.sleep) != REAL
    assert (sleep, t.sleep, nap) != (REAL[0], REAL[0], REAL[1])
    copied = time.sleep  # as a module imported during the test would bind it
    monkeypatch.undo()
    assert (time.sleep, asyncio.sleep, anyio.sleep) == REAL
    assert (sleep, nap) == (REAL[0], REAL[1])
    copied(0)
    copied(0.001)  # sleeps for real now: the clock stays
    assert elapsed(controller) == 0


@pytest.mark.together_emulator(advance_on_sleep=True)
def test_through_the_fixture_marker(together_emulator: EmulatorController) -> None:
    sleep(1)
    t.sleep(2)

    async def main() -> None:
        await anyio.sleep(3)

    anyio.run(main)
    assert together_emulator.now().isoformat() == "2026-01-01T00:00:06+00:00"
