"""The polling verdict of clients written as a user would write them, on the real together 3.x SDK:
a well-behaved poller, a busy one, one that ignores Retry-After, one that polls on after the end and
one that watches through the list, through the in-process fixture and the live server. Sleeps move
the emulator clock (`advance_on_sleep`), so a client that sleeps 2 s has 2 s intervals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import together
from plugin_support import EVAL_CASES
from together import AsyncTogether, Together
from together_eval_emulator.faces._controller import EmulatorController

TERMINAL = {"completed", "error", "user_error"}
SLEEPING = pytest.mark.together_emulator(advance_on_sleep=True)


def create(client: Together, write_dataset: Callable[[str], Path]) -> str:
    uploaded = client.files.upload(write_dataset("classify"), purpose="eval", check=False)
    parameters = {**EVAL_CASES["classify"][1], "input_data_file_path": uploaded.id}
    return client.evals.create(type="classify", parameters=parameters).workflow_id


@pytest.fixture(params=["in-process", "live server"])
def emulator(request: pytest.FixtureRequest) -> EmulatorController:
    """The test's emulator: the in-process one, then the live server."""
    face: EmulatorController = request.getfixturevalue(
        "together_emulator" if request.param == "in-process" else "together_emulator_server"
    )
    return face


def wait_for(client: Together, job_id: str, every: float) -> str:
    """The user's poller: read the status, sleep `every` seconds, until the job ends (6.05 s after its create)."""
    while True:
        status = client.evals.status(job_id).status
        if status in TERMINAL:
            return status
        time.sleep(every)


@SLEEPING
def test_a_poller_that_sleeps_between_reads_passes(
    emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together()
    job_id = create(client, write_dataset)
    assert wait_for(client, job_id, every=2) == "completed"
    (report,) = emulator.assert_polling(job_id)
    assert (report.verdict, report.reads.total, report.reads.after_terminal) == ("ok", 5, 0)
    assert report.intervals.min_seconds == report.intervals.max_seconds == 2.0  # on the emulator clock


@SLEEPING
def test_a_busy_poller_fails_with_the_reads_that_came_too_soon(
    emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together()
    job_id = create(client, write_dataset)
    wait_for(client, job_id, every=0.1)
    with pytest.raises(AssertionError) as failure:
        emulator.assert_polling(job_id)
    message = str(failure.value)
    assert f"job {job_id}" in message and "was polled badly" in message
    assert "polls_too_often: 61 reads came less than 1 s after the read before (shortest 0.1 s)" in message
    assert f"2026-01-01T00:00:00.100000Z GET /v1/evaluation/{job_id}/status -> 200 saw pending: 0.1 s after" in message
    assert "... and 51 more" in message
    emulator.assert_polling(job_id, min_interval=0.1)  # what this client promised, it kept


@SLEEPING
def test_the_sdk_retrying_a_429_honours_its_retry_after(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together()
    job_id = create(client, write_dataset)
    together_emulator.add_fault(
        {
            "match": {"route": "evaluation.status"},
            "action": {"kind": "error", "status": 429, "retry_after": 5},
            "times": 1,
        }
    )
    assert wait_for(client, job_id, every=2) == "completed"  # the SDK slept the 5 s it was told, then retried
    (report,) = together_emulator.assert_polling(job_id)
    assert (report.retry_after.asked, report.retry_after.honoured, report.reads.failed) == (1, 1, 1)


@SLEEPING
def test_a_client_that_ignores_retry_after_fails(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together(max_retries=0)  # the client retries by itself, after its own fixed pause
    job_id = create(client, write_dataset)
    together_emulator.add_fault(
        {
            "match": {"route": "evaluation.status"},
            "action": {"kind": "error", "status": 429, "retry_after": 5},
            "times": 2,
        }
    )
    while True:
        try:
            if client.evals.status(job_id).status in TERMINAL:
                break
        except together.RateLimitError:
            time.sleep(1)
            continue
        time.sleep(2)
    with pytest.raises(AssertionError, match=r"ignored_retry_after: 2 reads came before the wait") as failure:
        together_emulator.assert_polling(job_id)
    assert "1 s after #" in str(failure.value) and "whose answer asked for a 5 s wait" in str(failure.value)
    together_emulator.assert_polling(job_id, honours_retry_after=False)


@SLEEPING
def test_a_client_that_polls_on_after_completion_fails(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together()
    job_id = create(client, write_dataset)
    wait_for(client, job_id, every=2)
    for _ in range(3):  # "just to be sure"
        time.sleep(2)
        client.evals.status(job_id)
    with pytest.raises(AssertionError, match=r"reads_after_terminal: 3 reads came after #\d+ showed 'completed'"):
        together_emulator.assert_polling(job_id)
    together_emulator.assert_polling(job_id, stops_after_terminal=False)


@SLEEPING
def test_a_client_that_watches_through_the_list_fails(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = Together()
    job_id = create(client, write_dataset)
    while not any(job.workflow_id == job_id and job.status in TERMINAL for job in client.evals.list()):
        time.sleep(2)
    with pytest.raises(AssertionError, match=r"list_used_to_watch: 4 list calls \(GET /v1/evaluation\)"):
        together_emulator.assert_polling(job_id)


@SLEEPING
@pytest.mark.anyio
async def test_an_async_poller_that_sleeps_passes(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Path]
) -> None:
    client = AsyncTogether()
    uploaded = await client.files.upload(write_dataset("classify"), purpose="eval", check=False)
    parameters = {**EVAL_CASES["classify"][1], "input_data_file_path": uploaded.id}
    job_id = (await client.evals.create(type="classify", parameters=parameters)).workflow_id
    while (await client.evals.status(job_id)).status not in TERMINAL:
        await asyncio.sleep(1.5)
    (report,) = together_emulator.assert_polling()  # every job of the test
    assert (report.job_id, report.intervals.min_seconds) == (job_id, 1.5)
