"""`advance_on_sleep`: sleeping in the test's thread moves the emulator clock instead of waiting.

Code under test that polls with `time.sleep(5)` or `await asyncio.sleep(5)` then sees five
emulated seconds pass at once. Only the thread that runs the test is affected; the live
server's thread and every other thread sleep for real.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from ..faces._controller import EmulatorController


def patch_sleep(monkeypatch: pytest.MonkeyPatch, controller: EmulatorController) -> None:
    """Replace `time.sleep` and `asyncio.sleep` for the rest of the test (undone by monkeypatch)."""
    test_thread = threading.get_ident()
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() != test_thread:
            return real_sleep(seconds)
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        controller.advance(seconds)

    async def async_sleep(delay: float, result: Any = None) -> Any:
        if threading.get_ident() == test_thread and delay > 0:
            controller.advance(delay)
        return await real_async_sleep(0, result)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
