"""The queue under a capacity (docs/capacity.md): at most N jobs `running` per API key and M in all,
first created first served, a freed slot going to the next job at that moment, and the schedule a
pure function of the jobs and the capacity, simulated once and kept while nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator, open_store
from together_eval_emulator.engine import _schedule
from together_eval_emulator.engine._capacity import Capacity, CapacityLog

from tests.support import CoreClient, classify_params, jsonl, qa_rows

KEYS = ("key-a", "key-b")
# Under the default settings a 10-row job is pending 1 s, queued 2 s, running 3.1 s.
READY = 3.0  # seconds from creation to the end of its planned `queued` phase
RUNNING = 3.1


class Batch:
    """An emulator on a frozen clock, a dataset per API key, and the jobs created so far."""

    def __init__(self, **config: Any) -> None:
        self.client = CoreClient(Emulator(clock="manual", **config))
        self.files = {key: self.client.upload(jsonl(qa_rows(10)), key=key) for key in KEYS}
        self.ids: list[str] = []
        self.owner: dict[str, str] = {}

    def create(self, count: int = 1, key: str = "key-a", **extra: Any) -> list[str]:
        made = [
            self.client.create_id("classify", classify_params(self.files[key], **extra), key=key) for _ in range(count)
        ]
        self.ids += made
        self.owner.update(dict.fromkeys(made, key))
        return made

    def statuses(self) -> dict[str, str]:
        """Every job's status now, as its owner reads it."""
        return {job_id: self.client.status(job_id, key=self.owner[job_id])["status"] for job_id in self.ids}

    def running(self) -> list[str]:
        return [job_id for job_id, status in self.statuses().items() if status == "running"]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.client.job(job_id, key=self.owner[job_id])

    def entered(self, job_id: str, status: str) -> list[str]:
        """When the job entered `status`, each time (from its `status_updates`)."""
        return [u["timestamp"] for u in self.job(job_id)["status_updates"] if u["status"] == status]

    def now(self) -> str:
        return str(self.client.control("GET", "clock")["now"])

    def control(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.control(method, path, body)


def nanos(stamp: str) -> str:
    """A control-plane time (microseconds) as a status-update timestamp (nanoseconds)."""
    return stamp.removesuffix("Z") + "000Z"


# ---------------------------------------------------------------- no capacity: today's behaviour


def test_without_a_capacity_every_job_runs_at_once() -> None:
    batch = Batch()
    batch.create(20)
    batch.client.advance(READY + 0.5)
    assert len(batch.running()) == 20
    state = batch.control("GET", "state")
    assert "capacity" not in state
    assert all("pinned" not in phase for t in state["tenants"] for j in t["jobs"] for phase in j["phases"])
    assert batch.control("GET", "capacity") == {"per_tenant": None, "total": None}


def test_a_capacity_set_back_to_unlimited_before_any_job_leaves_nothing_behind() -> None:
    batch = Batch()
    batch.control("PUT", "capacity", {"per_tenant": 1})
    batch.control("PUT", "capacity", {"per_tenant": None})  # from the same instant: the limit never applied
    assert batch.client.emulator.engine.store.capacity_log() == CapacityLog()


# ---------------------------------------------------------------- FIFO and the limits


def test_a_batch_of_100_with_5_per_tenant_runs_5_at_a_time_in_order_and_every_job_ends() -> None:
    batch = Batch(max_running_per_tenant=5)
    batch.create(100)
    seen_full = False
    for _ in range(200):
        statuses = batch.statuses()
        running = [job_id for job_id, status in statuses.items() if status == "running"]
        assert len(running) <= 5
        seen_full = seen_full or len(running) == 5
        if running:  # first created, first served: every job before a running one has run already
            last = batch.ids.index(running[-1])
            assert all(statuses[job_id] in ("running", "completed") for job_id in batch.ids[:last])
            assert all(statuses[job_id] in ("pending", "queued") for job_id in batch.ids[last + 1 :])
        if all(status == "completed" for status in statuses.values()):
            break
        batch.client.advance(1.3)
    assert seen_full and set(batch.statuses().values()) == {"completed"}
    starts = [batch.entered(job_id, "running")[0] for job_id in batch.ids]
    assert starts == sorted(starts)  # started in the order created


def test_most_of_a_batch_waits_in_queued() -> None:
    batch = Batch(max_running_per_tenant=3)
    batch.create(30)
    batch.client.advance(READY + 1)
    statuses = list(batch.statuses().values())
    assert statuses.count("running") == 3 and statuses.count("queued") == 27


def test_the_total_limit_holds_over_every_api_key_first_created_first_served() -> None:
    batch = Batch(max_running=3)
    for _ in range(4):
        batch.create(1, "key-a")
        batch.create(1, "key-b")
    batch.client.advance(READY + 0.5)
    assert batch.running() == batch.ids[:3]
    batch.client.advance(RUNNING)
    assert batch.running() == batch.ids[3:6]


def test_a_tenant_at_its_limit_lets_the_next_tenant_in_line_go_first() -> None:
    batch = Batch(max_running_per_tenant=1)
    a = batch.create(3, "key-a")
    (b,) = batch.create(1, "key-b")
    batch.client.advance(READY + 0.5)
    assert batch.running() == [a[0], b]


def test_per_tenant_and_total_limits_together() -> None:
    batch = Batch(max_running_per_tenant=2, max_running=3)
    a = batch.create(5, "key-a")
    b = batch.create(5, "key-b")
    batch.client.advance(READY + 0.5)
    assert batch.running() == [a[0], a[1], b[0]]


def test_a_waiting_job_shows_queued_until_its_slot_and_its_timeline_moves_on_by_the_wait() -> None:
    batch = Batch(max_running_per_tenant=1)
    first, second = batch.create(2)
    batch.client.advance(60)
    assert [u["status"] for u in batch.job(second)["status_updates"]] == ["pending", "queued", "running", "completed"]
    assert batch.entered(second, "running") == batch.entered(first, "completed")
    job = batch.job(second)
    assert job["updated_at"] == job["status_updates"][-1]["timestamp"][:26] + "Z"


# ---------------------------------------------------------------- freed slots


def one_running(**config: Any) -> tuple[Batch, list[str]]:
    """One slot, three jobs: the first running, the two others waiting."""
    batch = Batch(max_running=1, **config)
    made = batch.create(3)
    batch.client.advance(READY + 1)
    assert batch.running() == made[:1]
    return batch, made


def test_forcing_a_running_job_to_error_starts_the_next_queued_one_at_that_moment() -> None:
    batch, (first, second, third) = one_running()
    batch.control("POST", f"jobs/{first}/status", {"status": "error", "message": "boom"})
    assert batch.statuses() == {first: "error", second: "running", third: "queued"}
    assert batch.entered(second, "running") == [nanos(batch.now())]


def test_forcing_a_running_job_to_completed_frees_its_slot_at_that_moment() -> None:
    batch, (first, second, _) = one_running()
    batch.control("POST", f"jobs/{first}/status", {"status": "completed"})
    assert batch.entered(second, "running") == [nanos(batch.now())]


def test_advancing_a_running_job_to_its_end_frees_its_slot_at_that_moment() -> None:
    batch, (first, second, _) = one_running()
    batch.control("POST", f"jobs/{first}/advance")
    assert batch.statuses()[first] == "completed"
    assert batch.entered(second, "running") == [nanos(batch.now())]


def test_preempting_a_running_job_gives_its_slot_to_the_next_and_it_gets_one_back_first() -> None:
    batch, (first, second, third) = one_running()
    batch.control("POST", f"jobs/{first}/status", {"status": "queued"})  # preempted now
    assert batch.statuses() == {first: "queued", second: "running", third: "queued"}
    assert batch.entered(second, "running") == [nanos(batch.now())]
    batch.client.advance(RUNNING)  # the second ends: the first (created before the third) runs again
    assert batch.statuses() == {first: "running", second: "completed", third: "queued"}
    batch.client.advance(600)
    assert set(batch.statuses().values()) == {"completed"}


def test_an_outcome_with_a_preemption_gives_its_slot_back_while_requeued() -> None:
    batch = Batch(max_running=1)
    batch.control("POST", "scenarios", {"times": 1, "outcome": {"preemptions": 1}})
    first, second = batch.create(2)
    batch.client.advance(READY + RUNNING + 0.01)  # the first is preempted at the end of its first run
    assert batch.statuses() == {first: "queued", second: "running"}
    assert batch.entered(second, "running") == [batch.entered(first, "queued")[-1]]
    batch.client.advance(600)
    assert [u["status"] for u in batch.job(first)["status_updates"]] == [
        "pending",
        "queued",
        "running",
        "queued",
        "running",
        "completed",
    ]
    assert batch.entered(first, "running")[-1] == batch.entered(second, "completed")[0]


def test_a_job_failing_early_frees_its_slot_when_it_fails() -> None:
    batch = Batch(max_running=1)
    batch.control("POST", "scenarios", {"times": 1, "outcome": {"kind": "error", "at": "running"}})
    first, second = batch.create(2)
    batch.client.advance(60)
    assert batch.statuses() == {first: "error", second: "completed"}
    assert batch.entered(second, "running") == batch.entered(first, "error")


def test_a_job_forced_into_running_runs_now_and_takes_a_slot() -> None:
    batch, (first, second, third) = one_running()
    batch.control("POST", f"jobs/{third}/status", {"status": "running"})  # a move wins over the capacity
    assert batch.statuses() == {first: "running", second: "queued", third: "running"}
    batch.client.advance(RUNNING)  # both running jobs ended: the second gets the slot
    assert batch.statuses() == {first: "completed", second: "running", third: "completed"}


def test_after_polls_jobs_take_a_slot_but_never_wait_for_one() -> None:
    batch = Batch(max_running=1)
    batch.control("POST", "scenarios", {"times": 1, "progression": {"mode": "after_polls"}})
    polled, timed = batch.create(2)
    for _ in range(2):
        batch.client.status(polled)  # pending, then queued, then running on the third read
    assert batch.client.status(polled)["status"] == "running"
    batch.client.advance(60)
    assert batch.client.status(timed)["status"] == "queued"  # ready for a minute: the slot is taken
    assert batch.client.status(polled)["status"] == "completed"  # this read ends it: the slot frees now
    assert batch.client.status(timed)["status"] == "running"
    assert batch.entered(timed, "running") == batch.entered(polled, "completed")


def test_zero_length_runs_all_end_at_creation_whatever_the_capacity() -> None:
    batch = Batch(max_running=1, progression="immediate")
    batch.create(5)
    assert set(batch.statuses().values()) == {"completed"}


# ---------------------------------------------------------------- a capacity change


def test_a_capacity_change_applies_from_now_on_and_never_rewrites_the_past() -> None:
    batch = Batch(running_seconds=30)
    early = batch.create(4)
    batch.client.advance(READY + 0.5)
    before = {job_id: batch.job(job_id) for job_id in early}
    batch.control("PUT", "capacity", {"total": 1})
    assert batch.running() == early  # already running: they keep their slots
    assert {job_id: batch.job(job_id) for job_id in early} == before
    late = batch.create(2)
    batch.client.advance(10)
    assert [batch.statuses()[job_id] for job_id in late] == ["queued", "queued"]  # 4 running, 1 allowed
    batch.client.advance(600)
    assert set(batch.statuses().values()) == {"completed"}
    assert batch.entered(late[0], "running") == batch.entered(early[-1], "completed")
    assert batch.entered(late[1], "running") == batch.entered(late[0], "completed")


def test_raising_the_capacity_starts_waiting_jobs_at_that_moment() -> None:
    batch, (first, second, third) = one_running()
    batch.control("PUT", "capacity", {"total": 3})
    assert batch.statuses() == {first: "running", second: "running", third: "running"}
    assert batch.entered(second, "running") == batch.entered(third, "running") == [nanos(batch.now())]


def test_the_log_keeps_each_change_from_its_instant() -> None:
    log = CapacityLog().changed(10, Capacity(per_tenant=2)).changed(20, Capacity(total=5))
    assert [log.at(ns) for ns in (9, 10, 19, 20)] == [
        Capacity(),
        Capacity(per_tenant=2),
        Capacity(per_tenant=2),
        Capacity(total=5),
    ]
    assert log.changed(15, Capacity()).changes == (
        (10, Capacity(per_tenant=2)),
        (15, Capacity()),
    )  # the clock went back


# ---------------------------------------------------------------- deterministic, and simulated once


def run_a_day(seed: int) -> list[Any]:
    """A fixed sequence of creates, moves and reads; every answer it got."""
    batch = Batch(seed=seed, max_running_per_tenant=2, max_running=3)
    answers: list[Any] = []
    batch.create(4, "key-a")
    batch.create(3, "key-b")
    for step in range(12):
        batch.client.advance(1.7)
        if step == 3:
            batch.control("POST", f"jobs/{batch.ids[0]}/status", {"status": "queued"})
        if step == 5:
            batch.create(2, "key-b")
        answers.append([batch.job(job_id) for job_id in batch.ids])
        answers.append(batch.control("GET", "queue"))
    return answers


def test_the_schedule_is_the_same_for_the_same_seed_and_requests() -> None:
    assert run_a_day(3) == run_a_day(3)


def test_status_reads_use_the_schedule_kept_until_a_job_or_the_capacity_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    simulate = _schedule.simulate

    def counted(*args: Any) -> Any:
        calls.append(1)
        return simulate(*args)

    monkeypatch.setattr(_schedule, "simulate", counted)
    batch = Batch(max_running_per_tenant=2)
    made = batch.create(10)
    for _ in range(5):
        batch.client.advance(1)
        batch.statuses()
    assert len(calls) == 1  # 50 reads and 5 clock moves: one simulation
    batch.create(1)
    batch.statuses()
    batch.control("POST", f"jobs/{made[0]}/status", {"status": "error"})
    batch.statuses()
    batch.control("PUT", "capacity", {"per_tenant": 3})
    batch.statuses()
    assert len(calls) == 4


def test_a_shared_store_follows_the_other_process_changes(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'shared.db'}"
    one = Batch(store=open_store(url), max_running=1)
    other = CoreClient(Emulator(clock="manual", store=open_store(url), max_running=1))
    first, second = one.create(2)
    one.client.advance(READY + 1)
    assert other.status(second)["status"] == "queued"  # simulated in the other process
    one.control("POST", f"jobs/{first}/status", {"status": "error"})
    assert other.status(second)["status"] == "running"  # its cached schedule was dropped


# ---------------------------------------------------------------- the state


def test_an_exported_state_carries_the_capacity_and_the_moves() -> None:
    batch, (first, second, third) = one_running()
    batch.control("POST", f"jobs/{third}/status", {"status": "running"})
    state = batch.control("GET", "state")
    assert state["capacity"] == [{"at_ns": 0, "per_tenant": None, "total": 1}]
    assert [p.get("pinned", False) for p in state["tenants"][0]["jobs"][2]["phases"]][-2:] == [True, False]
    copy = Batch()
    copy.control("PUT", "state", state)
    copy.owner = dict(batch.owner)
    copy.ids = list(batch.ids)
    for seconds in (0, 1, RUNNING, 60):
        batch.client.advance(seconds)
        copy.client.advance(seconds)
        assert [copy.job(job_id) for job_id in copy.ids] == [batch.job(job_id) for job_id in batch.ids]
        assert copy.control("GET", "queue") == batch.control("GET", "queue")


def test_a_reset_goes_back_to_the_capacity_of_the_settings() -> None:
    batch = Batch(max_running_per_tenant=2)
    batch.control("PUT", "capacity", {"total": 9})
    batch.control("POST", "reset")
    assert batch.control("GET", "capacity") == {"per_tenant": 2, "total": None}


def test_the_settings_capacity_applies_from_the_start_of_time() -> None:
    batch = Batch(max_running=2)
    assert batch.client.emulator.engine.store.capacity_log().at(0) == Capacity(total=2)
