"""The lifecycle path explorer (`engine/_paths.py`): the set of paths is bounded, ordered and
filtered as documented, and a job that follows a path shows exactly its statuses."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._errors import NotFound
from together_eval_emulator.engine._paths import (
    MAX_POLLS,
    MAX_PREEMPTIONS,
    LifecyclePath,
    PathQuery,
    find_path,
    lifecycle_paths,
)
from together_eval_emulator.faces._controller import EmulatorController

from tests.support import CoreClient, classify_params, jsonl, qa_rows

TERMINAL = ("completed", "error", "user_error")


def ids(**query: Any) -> list[str]:
    return [path.id for path in lifecycle_paths(PathQuery(**query))]


def test_the_default_set_every_end_from_every_phase() -> None:
    assert ids() == [
        "pending.queued.running.completed",
        "pending.error",
        "pending.queued.error",
        "pending.queued.running.error",
        "pending.user_error",
        "pending.queued.user_error",
        "pending.queued.running.user_error",
        "pending.stall",
        "pending.queued.stall",
        "pending.queued.running.stall",
    ]
    labels = [path.label for path in lifecycle_paths()]
    assert labels[2] == "pending->queued->error" and labels[-1] == "pending->queued->running->stall"


def test_filters_on_the_end_and_the_phase() -> None:
    assert ids(terminal=["error", "user_error"], at=["queued"]) == ["pending.queued.error", "pending.queued.user_error"]
    assert ids(terminal=["completed"], at=["pending"]) == ["pending.queued.running.completed"]  # `at` is for failures
    assert ids(terminal=["stall"], at=["running"]) == ["pending.queued.running.stall"]


def test_preemptions_come_before_every_end_reached_from_running() -> None:
    assert ids(terminal=["completed", "error"], at=["queued", "running"], max_preemptions=2) == [
        "pending.queued.running.completed",
        "pending.queued.running.queued.running.completed",
        "pending.queued.running.queued.running.queued.running.completed",
        "pending.queued.error",  # never reaches running: no preemption
        "pending.queued.running.error",
        "pending.queued.running.queued.running.error",
        "pending.queued.running.queued.running.queued.running.error",
    ]
    assert ids(terminal=["stall"], max_preemptions=2) == ids(terminal=["stall"])


def test_after_polls_lists_every_read_count_of_every_phase_the_job_leaves() -> None:
    assert ids(terminal=["error"], at=["queued"], progression="after_polls", max_polls=2) == [
        "pending.queued.error@1-1",
        "pending.queued.error@1-2",
        "pending.queued.error@2-1",
        "pending.queued.error@2-2",
    ]
    (stall,) = lifecycle_paths(PathQuery(terminal=["stall"], at=["pending"], progression="after_polls"))
    assert (stall.id, stall.label, stall.polls) == ("pending.stall@", "pending->stall (on reads)", {})


def test_the_set_is_bounded_ordered_and_its_ids_unique() -> None:
    everything = lifecycle_paths(
        PathQuery(progression="after_polls", max_preemptions=MAX_PREEMPTIONS, max_polls=MAX_POLLS)
    )
    assert len(everything) == 361
    assert len({path.id for path in everything}) == len(everything)
    assert everything == lifecycle_paths(
        PathQuery(progression="after_polls", max_preemptions=MAX_PREEMPTIONS, max_polls=MAX_POLLS)
    )
    with pytest.raises(ValueError, match="max_preemptions"):
        PathQuery(max_preemptions=MAX_PREEMPTIONS + 1)
    with pytest.raises(ValueError, match="max_polls"):
        PathQuery(max_polls=MAX_POLLS + 1)


def test_a_path_is_found_by_its_id_for_a_type() -> None:
    path = find_path("pending.queued.running.queued.running.user_error", "score")
    assert (path.end, path.at, path.preemptions, path.entry.match.type) == ("user_error", "running", 1, "score")
    assert find_path("pending.queued.error@2-1").polls == {"pending": 2, "queued": 1}
    with pytest.raises(NotFound, match="No lifecycle path 'pending.done'"):
        find_path("pending.done")
    with pytest.raises(NotFound):
        find_path("pending.queued.error@9-9")


# ---------------------------------------------------------------- a job follows its path


def follow(path: LifecyclePath) -> tuple[list[str], list[str]]:
    """A job created after the path is attached: (its status_updates once it can move no more,
    the statuses its reads showed while polling it once per emulated second)."""
    api = CoreClient(Emulator(clock="manual"))
    EmulatorController(api.emulator, "http://emulator.test").attach_path(path)
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    seen = []
    for _ in range(60):
        seen.append(api.status(job_id)["status"])
        if seen[-1] in TERMINAL:
            break
        api.advance(1)
    return [update["status"] for update in api.job(job_id)["status_updates"]], seen


@pytest.mark.parametrize("path", lifecycle_paths(PathQuery(max_preemptions=1)), ids=lambda path: path.label)
def test_a_job_shows_exactly_the_statuses_of_its_path(path: LifecyclePath) -> None:
    updates, seen = follow(path)
    assert updates == path.statuses
    assert seen[-1] == path.statuses[-1]  # a stall stays in its phase; an end is the last status read


@pytest.mark.parametrize(
    "path",
    lifecycle_paths(PathQuery(terminal=["completed", "error"], at=["queued"], progression="after_polls", max_polls=2)),
    ids=lambda path: path.label,
)
def test_under_after_polls_each_phase_is_shown_for_its_reads(path: LifecyclePath) -> None:
    _, seen = follow(path)
    assert path.polls is not None
    expected = [status for status in path.statuses[:-1] for _ in range(path.polls[status])] + [path.statuses[-1]]
    assert seen == expected


def test_the_newest_path_attached_for_the_same_creates_wins() -> None:
    api = CoreClient(Emulator(clock="manual"))
    controller = EmulatorController(api.emulator, "http://emulator.test")
    controller.attach_path("pending.queued.running.completed", type="classify")
    controller.attach_path("pending.queued.error", type="classify")
    controller.attach_path("pending.stall", type="score")
    assert [entry.name for entry in controller.scenarios().entries] == [
        "path pending->queued->error",
        "path pending->stall",
    ]
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.advance(3600)
    assert api.status(job_id)["status"] == "error"


def test_times_limits_a_path_to_the_next_creates() -> None:
    api = CoreClient(Emulator(clock="manual"))
    entry = EmulatorController(api.emulator, "http://emulator.test").attach_path("pending.queued.error", times=1)
    assert (entry.times, entry.id) == (1, "scn-1")
    first, second = (api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3))))) for _ in range(2))
    api.advance(3600)
    assert (api.status(first)["status"], api.status(second)["status"]) == ("error", "completed")


def test_describe_says_what_the_job_does() -> None:
    assert find_path("pending.queued.running.queued.running.completed").describe() == (
        "the job completes, preempted 1 time"
    )
    assert find_path("pending.queued.error@1-2").describe() == (
        "the job ends in error, entered from queued (each phase shown for 1 read in pending, 2 reads in queued); "
        "its results hold only `error`"
    )
    assert "never ends: a client needs a deadline" in find_path("pending.queued.stall").describe()
