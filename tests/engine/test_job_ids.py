"""Job ids never run out and never loop: once a second's id space (`eval-0000-<s>` to
`eval-ffff-<s>`) is used up, creates borrow the following second's, and the ids stay unique,
deterministic and of the real form however many jobs share one emulated second."""

from __future__ import annotations

import copy
import re

from together_eval_emulator import Emulator
from together_eval_emulator.engine import _ids as ids
from together_eval_emulator.engine._store import Job

from tests.support import CoreClient, classify_params, jsonl, qa_rows

START = 1767225600  # the manual clock's default epoch, in seconds
ID = re.compile(r"^eval-[0-9a-f]{4}-(\d+)$")


def create_many(emulator: Emulator, count: int, *, bits: int | None = None) -> list[str]:
    """Create `count` jobs without moving the clock (id space of `bits` bits when given)."""
    if bits is not None:
        emulator.engine.jobs.id_bits = bits
    client = CoreClient(emulator)
    params = classify_params(client.upload(jsonl(qa_rows(2))))
    return [client.create_id("classify", params) for _ in range(count)]


def test_a_full_second_lends_the_next_ones_space() -> None:
    made = create_many(Emulator(clock="manual"), 40, bits=3)  # 8 ids a second
    assert len(set(made)) == 40
    seconds = [int(ID.fullmatch(job_id).group(1)) for job_id in made]  # type: ignore[union-attr]
    assert seconds == sorted(seconds)  # a second's space is used up before the next one is borrowed
    assert {second: seconds.count(second) for second in set(seconds)} == {START + n: 8 for n in range(5)}


def test_ids_past_a_full_space_are_deterministic() -> None:
    assert create_many(Emulator(clock="manual"), 30, bits=2) == create_many(Emulator(clock="manual"), 30, bits=2)
    assert create_many(Emulator(clock="manual", seed=1), 30, bits=2) != create_many(
        Emulator(clock="manual"), 30, bits=2
    )


def test_creates_in_a_second_whose_space_was_lent_take_what_is_left() -> None:
    emulator = Emulator(clock="manual")
    made = create_many(emulator, 6, bits=2)  # 4 ids a second: START used up, 2 of START + 1 lent
    emulator.advance(1)
    later = create_many(emulator, 3)
    assert [job_id.rsplit("-", 1)[1] for job_id in later] == [str(START + 1)] * 2 + [str(START + 2)]
    assert len(set(made + later)) == 9


def renamed(job: Job, workflow_id: str) -> Job:
    """`dataclasses.replace(job, workflow_id=...)`, at a third of its cost (65,536 of them below)."""
    clone = copy.copy(job)
    object.__setattr__(clone, "workflow_id", workflow_id)
    return clone


def test_the_whole_16_bit_space_filled_then_one_more_create() -> None:
    """The real size: 65,536 ids of one second taken (put straight into the store), then a create
    gets an id of the next second at once instead of drawing forever."""
    emulator = Emulator(clock="manual")
    client = CoreClient(emulator)
    params = classify_params(client.upload(jsonl(qa_rows(2))))
    first = client.create_id("classify", params)
    store = emulator.store
    job = store.find_job(first)
    assert job is not None
    with store.transaction():
        for number in range(1 << ids.JOB_ID_BITS):
            store.put_job(renamed(job, ids.job_id(number, START)))
    borrowed = client.create_id("classify", params)
    assert borrowed.endswith(f"-{START + 1}") and ID.fullmatch(borrowed)
    assert client.job(borrowed)["created_at"] == "2026-01-01T00:00:00.000000Z"  # it was created at START
    assert client.create_id("classify", params).endswith(f"-{START + 1}")  # the full second is skipped at once
