"""Fault rules: validation, matching, triggers (count, seeded probability, quota) and the
mapping of a fault to the httpx exception an in-process face raises."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from together_eval_emulator.engine._faults import FaultAction, FaultMatch, FaultRule, RequestFacts
from together_eval_emulator.engine._memory_store import MemoryStore
from together_eval_emulator.engine._rulebooks import FaultRules
from together_eval_emulator.faces._httpx_faults import httpx_effect
from together_eval_emulator.http._transport import ApiResponse, AppliedFault

NS = 1_000_000_000


def facts(
    route: str = "evaluation.status",
    *,
    job_id: str = "eval-1",
    tenant: str = "key-a",
    body: object = None,
    method: str = "GET",
) -> RequestFacts:
    name = "team-a" if tenant == "key-a" else None
    return RequestFacts(method, f"/v1/evaluation/{job_id}/status", route, {"id": job_id}, tenant, name, body)


@pytest.mark.parametrize(
    "action, field",
    [
        ({"kind": "error"}, "status"),
        ({"kind": "error", "status": 200}, "status"),
        ({"kind": "latency"}, "seconds"),
        ({"kind": "drop", "seconds": 1}, "seconds"),
        ({"kind": "hang", "retry_after": 1}, "retry_after"),
        ({"kind": "error", "status": 500, "stage": "connect"}, "stage"),
        ({"kind": "teleport"}, "kind"),
    ],
)
def test_action_validation_names_the_field(action: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        FaultAction.model_validate(action)
    assert info.value.errors()[0]["loc"] == (field,)


def test_process_only_for_error_hang_drop() -> None:
    with pytest.raises(ValidationError) as info:
        FaultRule.model_validate({"action": {"kind": "latency", "seconds": 1}, "process": True})
    assert info.value.errors()[0]["loc"] == ("process",)
    assert FaultRule.model_validate({"action": {"kind": "drop"}, "process": True}).process


def counted(book: FaultRules, rule_id: str) -> FaultRule:
    """A rule as listed, with its counters."""
    return next(rule for rule in book.rules() if rule.id == rule_id)


def test_matching_on_each_field() -> None:
    book = FaultRules(MemoryStore())
    rule = book.add(
        FaultRule(
            match=FaultMatch(
                route="evaluation.*",
                method="get",
                path="/v1/evaluation/*/status",
                tenant="team-a",
                job_id="eval-1",
                fields={"x.y": 1},
            ),
            action=FaultAction(kind="error", status=500),
        )
    )
    assert book.trigger(facts(body={"x": {"y": 1}}), 0, 0) is not None
    for miss in (
        facts(route="files.list", body={"x": {"y": 1}}),
        facts(job_id="eval-2", body={"x": {"y": 1}}),
        facts(tenant="key-b", body={"x": {"y": 1}}),
        facts(body={"x": {"y": 2}}),
        facts(method="POST", body={"x": {"y": 1}}),
    ):
        assert book.trigger(miss, 0, 0) is None
    assert counted(book, rule.id or "").fired == 1


def test_times_and_after_give_the_third_poll() -> None:
    book = FaultRules(MemoryStore())
    rule = book.add(FaultRule(after=2, times=1, action=FaultAction(kind="error", status=429)))
    fired = [book.trigger(facts(), 0, 0) is not None for _ in range(5)]
    assert fired == [False, False, True, False, False]
    listed = counted(book, rule.id or "")
    assert (listed.seen, listed.fired) == (5, 1)


def test_probability_is_seeded() -> None:
    def run(seed: int) -> list[bool]:
        book = FaultRules(MemoryStore())
        book.add(FaultRule(probability=0.3, action=FaultAction(kind="error", status=503)))
        return [book.trigger(facts(), 0, seed) is not None for _ in range(200)]

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert 40 <= sum(run(1)) <= 80


def test_quota_gives_an_honest_wait_per_tenant() -> None:
    book = FaultRules(MemoryStore())
    book.add(FaultRule.model_validate({"quota": {"limit": 2, "window_seconds": 10}}))
    assert book.trigger(facts(), 0, 0) is None
    assert book.trigger(facts(), 4 * NS, 0) is None
    fired = book.trigger(facts(), 5 * NS, 0)
    assert fired is not None and fired[1] == pytest.approx(5.0)  # the first request leaves the window at 10 s
    assert book.trigger(facts(tenant="key-b"), 5 * NS, 0) is None  # another tenant has its own window
    assert book.trigger(facts(), 10 * NS + 1, 0) is None
    fired = book.trigger(facts(), 11 * NS, 0)
    assert fired is not None and fired[1] == pytest.approx(3.0)


def test_first_firing_rule_wins_and_ids_are_sequential() -> None:
    book = FaultRules(MemoryStore())
    a = book.add(FaultRule(times=1, action=FaultAction(kind="error", status=500)))
    b = book.add(FaultRule(action=FaultAction(kind="error", status=503)))
    assert (a.id, b.id) == ("fault-1", "fault-2")
    assert [book.trigger(facts(), 0, 0)[0].id for _ in range(3)] == ["fault-1", "fault-2", "fault-2"]  # type: ignore[index]
    removed = book.remove("fault-1")
    assert removed is not None and removed.model_copy(update={"seen": 0, "fired": 0}) == a
    assert (removed.seen, removed.fired) == (3, 1) and book.remove("fault-1") is None


REQUEST = httpx.Request("GET", "http://emulator.test/v1/evaluation", extensions={"timeout": {"read": 0.5}})


@pytest.mark.parametrize(
    "fault, wait, error",
    [
        (AppliedFault("f", "hang", hang_seconds=300), 0.0, httpx.ReadTimeout),
        (AppliedFault("f", "drop", drop="response"), 0.0, httpx.RemoteProtocolError),
        (AppliedFault("f", "drop", drop="connect"), 0.0, httpx.ConnectError),
        (AppliedFault("f", "truncate", truncate=True), 0.0, httpx.RemoteProtocolError),
        (AppliedFault("f", "latency", latency=0.2), 0.2, None),
        (AppliedFault("f", "latency", latency=2.0), 0.5, httpx.ReadTimeout),
        (AppliedFault("f", "error"), 0.0, None),
    ],
)
def test_httpx_effect(fault: AppliedFault, wait: float, error: type[Exception] | None) -> None:
    got_wait, got_error = httpx_effect(ApiResponse(body=b'{"a": 1}', fault=fault), REQUEST)
    assert got_wait == pytest.approx(wait)
    assert (type(got_error) if got_error else None) is error
    if got_error is not None:
        assert got_error.request is REQUEST


def test_no_fault_no_effect() -> None:
    assert httpx_effect(ApiResponse(), REQUEST) == (0.0, None)
