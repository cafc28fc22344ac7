"""Pacing: a thread under `paced()` pauses in its long loops after every few milliseconds of work;
any other thread never pauses."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from together_eval_emulator.engine import _pacing
from together_eval_emulator.engine._pacing import PAUSE_SECONDS, WORK_SECONDS, pace, paced


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A fake `time` for the module: `now` moves only when told; `slept` records the pauses."""
    fake = SimpleNamespace(now=0.0, slept=[])
    fake.perf_counter = lambda: fake.now
    fake.sleep = fake.slept.append
    monkeypatch.setattr(_pacing, "time", fake)
    return fake


def test_a_paced_thread_pauses_after_each_stretch_of_work(clock: SimpleNamespace) -> None:
    with paced():
        pace()
        assert clock.slept == []  # no time has passed
        clock.now += WORK_SECONDS
        pace()
        pace()
        assert clock.slept == [PAUSE_SECONDS]  # the stretch starts again after the pause
        clock.now += WORK_SECONDS
        pace()
    assert clock.slept == [PAUSE_SECONDS, PAUSE_SECONDS]


def test_other_threads_and_code_outside_the_block_never_pause(clock: SimpleNamespace) -> None:
    clock.now += 10 * WORK_SECONDS
    pace()
    with paced():
        other = threading.Thread(target=lambda: [pace() for _ in range(3)])
        clock.now += 10 * WORK_SECONDS
        other.start()
        other.join()
    pace()
    assert clock.slept == []
