"""Job timelines under each progression policy (pure functions of lifecycle.py)."""

from __future__ import annotations

from together_eval_emulator.engine._clock import NS
from together_eval_emulator.engine._config import EmulatorConfig
from together_eval_emulator.engine._lifecycle import on_read, plan, reached, remainder, statuses
from together_eval_emulator.engine._scenarios import Outcome, Progression

CONFIG = EmulatorConfig(
    pending_seconds=1, queued_seconds=2, running_seconds=3, running_seconds_per_row=0.5, failure_delay_seconds=0.25
)
FULL = ["pending", "queued", "running", "completed"]


def test_statuses_per_outcome() -> None:
    assert statuses(Outcome()) == FULL
    assert statuses(Outcome(kind="error", at="pending")) == ["pending", "error"]
    assert statuses(Outcome(kind="user_error", at="queued")) == ["pending", "queued", "user_error"]
    assert statuses(Outcome(kind="stall", at="queued")) == ["pending", "queued"]
    assert statuses(Outcome(kind="stall")) == ["pending", "queued", "running"]
    assert statuses(Outcome(preemptions=2)) == [
        "pending",
        "queued",
        "running",
        "queued",
        "running",
        "queued",
        "running",
        "completed",
    ]
    assert statuses(Outcome(kind="error", preemptions=1)) == [
        "pending",
        "queued",
        "running",
        "queued",
        "running",
        "error",
    ]


def test_remainder() -> None:
    path = ["pending", "queued", "running", "queued", "running", "completed"]
    assert remainder(path, "queued") == ["queued", "running", "completed"]
    assert remainder(["pending", "error"], "running") == ["running", "error"]
    assert remainder(["pending", "queued"], "running") == ["running"]
    assert remainder(FULL, "error") == ["error"]


def test_durations_plan_with_rows_and_failure_delay() -> None:
    phases = plan(Progression(), FULL, CONFIG, rows=4)
    assert [(p.status, p.offset_ns) for p in phases] == [
        ("pending", 0),
        ("queued", 1 * NS),
        ("running", 3 * NS),
        ("completed", 8 * NS),
    ]
    failing = plan(Progression(mode="durations", queued=10), ["pending", "queued", "error"], CONFIG, rows=4)
    assert [p.offset_ns for p in failing] == [0, 1 * NS, int(1.25 * NS)]
    assert [p.status for p in reached(phases, 3 * NS)] == ["pending", "queued", "running"]


def test_immediate_plan_reaches_everything_at_once() -> None:
    phases = plan(Progression(mode="immediate"), FULL, CONFIG, rows=4, at_ns=7)
    assert {p.offset_ns for p in phases} == {7}
    assert [p.status for p in reached(phases, 7)] == FULL


def test_after_polls_plan_moves_on_reads() -> None:
    phases = plan(Progression(mode="after_polls", polls=2), FULL, CONFIG, rows=4)
    seen = []
    for read in range(1, 9):
        phases = on_read(phases, read * NS, read)
        seen.append(reached(phases, read * NS)[-1].status)
    assert seen == ["pending", "pending", "queued", "queued", "running", "running", "completed", "completed"]
    assert [p.offset_ns for p in phases] == [0, 3 * NS, 5 * NS, 7 * NS]  # entered on the reads that reached them


def test_after_polls_zero_skips_a_phase_in_view() -> None:
    phases = plan(Progression(mode="after_polls", polls={"pending": 0}), FULL, CONFIG, rows=0)
    phases = on_read(phases, 0, 1)
    assert [p.status for p in reached(phases, 0)] == ["pending", "queued"]


def test_manual_plan_never_moves_by_itself() -> None:
    phases = plan(Progression(mode="manual"), FULL, CONFIG, rows=4)
    for read in range(1, 5):
        phases = on_read(phases, 10**15, read)
    assert [p.status for p in reached(phases, 10**15)] == ["pending"]
