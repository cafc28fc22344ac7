"""Every field of every JSON body, given a value of the wrong kind or left out, is a 4xx in the real
error shape, never a 500 (docs/limits.md).

Each route starts from a body it accepts (checked first, so the sweep never runs on a body that
fails early). Then, one at a time, every member of it, at every depth (the whole body included),
is replaced by each of `WRONG` or removed, and sent to an emulator prepared the same way. When
the emulator accepts such a body, the requests of `aftermath` must not fail either (a setting it
took must not break a later create, read or export). The long lists of a state export (the id
generator's 625 numbers) are probed at their ends only."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest

from tests.support import classify_params

HEADERS = {"authorization": "Bearer sweep", "content-type": "application/json"}
MISSING = object()  # the member is removed
WRONG: list[Any] = [None, {}, [], True, 0, -1, 1.5, "x", "", 10**30, -(10**30), 1e308, [{}], [[]], {"a": []}, MISSING]
ENDS = 2  # members probed at each end of a longer list


@dataclass
class Prepared:
    """A fresh emulator holding one dataset, one classify job on it (read once), a scenario entry, a
    fault rule, one multipart upload with its part sent, and its state export."""

    emulator: Emulator
    file_id: str
    job_id: str
    upload_id: str
    upload_file_id: str
    state: dict[str, Any]


def send(emulator: Emulator, method: str, path: str, body: bytes, content_type: str = "application/json") -> Any:
    headers = {**HEADERS, "content-type": content_type}
    path, _, query = path.partition("?")
    return emulator.handle(ApiRequest(method, path, "http://emulator.test", query, headers, body))


def answered(emulator: Emulator, method: str, path: str, body: Any, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = send(emulator, method, path, data, content_type)
    assert response.status_code in (200, 201, 302), (method, path, response.body)
    return response


def prepared() -> Prepared:
    emulator = Emulator(clock="manual")
    step1 = answered(
        emulator, "POST", "/v1/files", b"purpose=eval&file_name=d.jsonl", "application/x-www-form-urlencoded"
    )
    file_id = step1.headers["x-together-file-id"]
    token = step1.headers["location"].rsplit("/", 1)[-1]
    answered(emulator, "PUT", f"/_emulator/uploads/{token}", b'{"prompt": "2+2?", "response": "4"}\n')
    answered(emulator, "POST", f"/v1/files/{file_id}/preprocess", b"")
    job_id = json.loads(answered(emulator, "POST", "/v1/evaluation", classify(file_id)).body)["workflow_id"]
    answered(emulator, "GET", f"/v1/evaluation/{job_id}/status", b"")  # a read count
    answered(emulator, "POST", "/_emulator/scenarios", {"times": 3, "outcome": {"kind": "stall"}})
    fault = {"match": {"route": "files.list"}, "after": 1, "action": {"kind": "error", "status": 503}}
    answered(emulator, "POST", "/_emulator/faults", fault)
    initiate = {"file_name": "m.jsonl", "file_size": 36, "num_parts": 1, "purpose": "eval", "file_type": "jsonl"}
    upload = json.loads(answered(emulator, "POST", "/v1/files/multipart/initiate", initiate).body)
    part = upload["parts"][0]["URL"].removeprefix("http://emulator.test")
    answered(emulator, "PUT", part, b'{"prompt": "2+2?", "response": "4"}\n')
    state = json.loads(answered(emulator, "GET", "/_emulator/state", b"").body)
    return Prepared(emulator, file_id, job_id, upload["upload_id"], upload["file_id"], state)


JUDGE = {"model": "m", "model_source": "serverless", "system_template": "Rate {{prompt}}", "max_tokens": 9}


def classify(file_id: str) -> dict[str, Any]:
    return {"type": "classify", "parameters": classify_params(file_id, JUDGE)}


GENERATOR = {
    "model": "m",
    "model_source": "dedicated",
    "system_template": "Answer",
    "input_template": "{{prompt}}",
    "max_tokens": 5,
    "temperature": 0.1,
}
# (method, path, body) from a prepared emulator: a body each route accepts.
Case = Callable[[Prepared], tuple[str, str, Any]]
CASES: dict[str, Case] = {
    "create classify": lambda p: ("POST", "/v1/evaluation", classify(p.file_id)),
    "create score": lambda p: (
        "POST",
        "/v1/evaluation",
        {
            "type": "score",
            "parameters": {
                "input_data_file_path": p.file_id,
                "min_score": 1,
                "max_score": 10,
                "pass_threshold": 5,
                "model_to_evaluate": GENERATOR,
                "judge": JUDGE,
            },
        },
    ),
    "create compare": lambda p: (
        "POST",
        "/v1/evaluation",
        {
            "type": "compare",
            "parameters": {
                "input_data_file_path": p.file_id,
                "model_a": "response",
                "model_b": GENERATOR,
                "judge": JUDGE,
            },
        },
    ),
    "create documented": lambda p: (
        "POST",
        "/v1/evaluation",
        {"model": "m", "evaluation_type": "classify", "dataset": "qa-benchmark-v1"},
    ),
    "update": lambda p: ("POST", f"/v1/evaluation/{p.job_id}/update", {"status": "error", "error": "x"}),
    "multipart initiate": lambda p: (
        "POST",
        "/v1/files/multipart/initiate",
        {"file_name": "big.jsonl", "file_size": 172, "num_parts": 2, "purpose": "eval", "file_type": "jsonl"},
    ),
    "multipart complete": lambda p: (
        "POST",
        "/v1/files/multipart/complete",
        {"upload_id": p.upload_id, "file_id": p.upload_file_id, "parts": [{"part_number": 1, "etag": "e"}]},
    ),
    "multipart abort": lambda p: (
        "POST",
        "/v1/files/multipart/abort",
        {"upload_id": p.upload_id, "file_id": p.upload_file_id},
    ),
    "seed": lambda p: ("POST", "/_emulator/seed", {"seed": 7}),
    "clock advance": lambda p: ("POST", "/_emulator/clock/advance", {"seconds": 90}),
    "clock set": lambda p: ("POST", "/_emulator/clock/set", {"now": "2026-03-01T00:00:00Z"}),
    "clock run": lambda p: ("POST", "/_emulator/clock/run", {"time_scale": 2}),
    "clock scale": lambda p: ("POST", "/_emulator/clock/scale", {"time_scale": 2}),
    "scenario error": lambda p: (
        "POST",
        "/_emulator/scenarios",
        {
            "name": "n",
            "times": 1,
            "match": {"type": "classify", "tenant": "sweep", "judge_model": "m"},
            "progression": {"mode": "after_polls", "polls": 2},
            "outcome": {"kind": "error", "at": "queued", "message": "Capacity lost", "preemptions": 1},
        },
    ),
    "scenario completed": lambda p: (
        "POST",
        "/_emulator/scenarios",
        {
            "progression": {"mode": "durations", "pending": 1, "queued": 2, "running": 3},
            "outcome": {
                "kind": "completed",
                "label_weights": {"good": 1},
                "score_mean": 5,
                "score_spread": 1,
                "compare_weights": {"A": 1, "B": 1, "Tie": 1},
                "generation_fail_rate": 0.1,
                "judge_fail_rate": 0.1,
                "invalid_rate": 0.1,
            },
        },
    ),
    "default scenario": lambda p: ("PUT", "/_emulator/scenarios/default", {"progression": {"mode": "immediate"}}),
    "type scenario": lambda p: (
        "PUT",
        "/_emulator/scenarios/types/compare",
        {"progression": {"mode": "after_polls", "polls": 2}},
    ),
    "fault error": lambda p: (
        "POST",
        "/_emulator/faults",
        {
            "name": "n",
            "match": {
                "route": "evaluation.status",
                "method": "GET",
                "path": "/v1/x",
                "tenant": "sweep",
                "job_id": p.job_id,
                "fields": {"type": "classify"},
            },
            "after": 2,
            "times": 1,
            "probability": 0.5,
            "action": {
                "kind": "error",
                "status": 429,
                "retry_after": 0.5,
                "headers": {"x": "y"},
                "message": "m",
                "type": "t",
                "code": "c",
                "param": "p",
                "should_retry": True,
            },
        },
    ),
    "fault latency": lambda p: (
        "POST",
        "/_emulator/faults",
        {"match": {"route": "evaluation.status"}, "action": {"kind": "latency", "seconds": 0.1}},
    ),
    "fault drop": lambda p: (
        "POST",
        "/_emulator/faults",
        {"match": {"route": "evaluation.status"}, "action": {"kind": "drop", "stage": "response"}},
    ),
    "faults replaced": lambda p: (
        "PUT",
        "/_emulator/faults",
        [
            {"match": {"route": "evaluation.create"}, "times": 1, "action": {"kind": "error", "status": 503}},
            {"quota": {"limit": 2, "window_seconds": 1}},
        ],
    ),
    "job advance": lambda p: ("POST", f"/_emulator/jobs/{p.job_id}/advance", {"steps": 2}),
    "job status": lambda p: ("POST", f"/_emulator/jobs/{p.job_id}/status", {"status": "user_error", "message": "x"}),
    "job scenario": lambda p: (
        "PUT",
        f"/_emulator/jobs/{p.job_id}/scenario",
        {"outcome": {"kind": "stall"}, "progression": {"mode": "manual"}},
    ),
    "capacity": lambda p: (
        "PUT",
        "/_emulator/capacity",
        {"per_tenant": 1, "total": 3, "per_type": {"compare": 1}, "priority": ["sweep"]},
    ),
    "recording": lambda p: (
        "POST",
        "/_emulator/recordings",
        {
            "name": "failed-late",
            "job": {
                "type": "score",
                "status_updates": [
                    {"status": "pending", "message": "m", "timestamp": "2025-11-12T19:27:36.100000000Z"},
                    {"status": "error", "message": "m", "timestamp": "2025-11-12T20:10:06.100000000Z"},
                ],
                "results": {"error": "x"},
            },
        },
    ),
    "path": lambda p: ("PUT", "/_emulator/paths/pending.queued.error", {"type": "classify", "times": 1}),
    "state": lambda p: ("PUT", "/_emulator/state", p.state),
}


def aftermath(prepared: Prepared) -> list[tuple[str, str, Any]]:
    """Requests sent after an accepted probe: a create, reads of the job and of the lists, an export."""
    return [
        ("POST", "/v1/evaluation", classify(prepared.file_id)),
        ("GET", f"/v1/evaluation/{prepared.job_id}/status", None),
        ("GET", "/v1/evaluation?status=running", None),
        ("GET", "/v1/files", None),
        ("GET", "/_emulator/state", None),
    ]


def members(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of `value` itself and of every member in it, at every depth (a long list: its ends)."""
    yield where
    if isinstance(value, dict):
        for key, item in value.items():
            yield from members(item, (*where, key))
    elif isinstance(value, list):
        count = len(value)
        for index in sorted({*range(min(ENDS, count)), *range(max(0, count - ENDS), count)}):
            yield from members(value[index], (*where, index))


def replaced(body: Any, where: tuple[Any, ...], new: Any) -> Any:
    """`body` with the member at `where` set to `new` (removed for MISSING)."""
    if not where:
        return new
    body = copy.deepcopy(body)
    parent = body
    for step in where[:-1]:
        parent = parent[step]
    if new is MISSING:
        del parent[where[-1]]
    else:
        parent[where[-1]] = new
    return body


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_member_of_the_wrong_kind_is_a_clear_4xx(case: str) -> None:
    first = prepared()
    method, path, body = CASES[case](first)
    answered(first.emulator, method, path, body)  # the body as given is accepted
    probes = 0
    for where in members(body):
        for new in WRONG:
            if not where and new is MISSING:
                continue
            fresh = prepared()
            method, path, body = CASES[case](fresh)
            response = send(fresh.emulator, method, path, json.dumps(replaced(body, where, new)).encode())
            probes += 1
            assert response.status_code < 500, (where, new, response.body)
            if response.status_code < 300:  # accepted: what it changed must not break later requests either
                for method, path, follow in aftermath(fresh):
                    later = send(fresh.emulator, method, path, json.dumps(follow).encode() if follow else b"")
                    assert later.status_code < 500 or later.fault is not None, (where, new, path, later.body)
            if response.status_code >= 400:
                error = json.loads(response.body)["error"]
                assert set(error) == {"message", "type", "param", "code"}, (where, new, error)
                assert isinstance(error["message"], str) and error["message"], (where, new, error)
    assert probes >= 2 * len(WRONG) - 1  # the body itself and at least one member
