"""Export -> reset -> import is invisible: an emulator that went through it answers every later
request byte for byte as its twin that did not, for real and documented jobs alike, on every route
(jobs: create, retrieve, status, list with filters; files: list, retrieve, content, delete, uploads;
the documented create, retrieve, status and list; the control plane's job views and moves), and
whichever store holds the state that goes through it.

Upload URLs are the one thing twins do not share: their tokens are random by design, never seeded.
The twin's token is read as the original's wherever it appears, so every other byte is compared."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.stores._factory import open_store

from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.stores.store_support import STORE_KINDS, close, store_url
from tests.support import BASE, JUDGE, Api, classify_params, jsonl, make_face, qa_rows

OTHER = "key-b"
DOCUMENTED = {"model": "meta-llama/Llama-3.2-3B-Instruct-Turbo", "dataset": "reasoning-benchmark-v1"}


@dataclass
class World:
    """The ids the setup made (the same on both twins, everything being seeded, but the upload token)."""

    jobs: dict[str, list[str]] = field(default_factory=lambda: {"key-a": [], OTHER: []})
    manual_job: str = ""
    upload_token: str = ""
    upload_file: str = ""


def _documented(api: Api, evaluation_type: str, key: str = "default", **parameters: Any) -> str:
    body = {**DOCUMENTED, "evaluation_type": evaluation_type, "parameters": parameters}
    reply = api.request("POST", "/v1/evaluation", json_body=body, key=key)
    assert reply.status == 200, reply.body
    return str(reply.json()["id"])


def _scenario(api: Api, **entry: Any) -> None:
    api.control("POST", "scenarios", {"times": 1, **entry})


def populate(api: Api) -> World:
    """Real and documented jobs of two keys in every kind of state, scenarios and a fault rule with
    uses left, a pending upload and a deleted result file."""
    world = World()
    mine = world.jobs["key-a"]
    file_id = api.upload(jsonl(qa_rows(30)))
    mine.append(api.create_id("classify", classify_params(file_id)))
    score = {"input_data_file_path": file_id, "judge": JUDGE, "min_score": 1, "max_score": 10, "pass_threshold": 6}
    mine.append(api.create_id("score", {**score, "model_to_evaluate": "response"}))
    _scenario(api, progression={"mode": "after_polls", "polls": 2})
    compare = {"input_data_file_path": file_id, "judge": JUDGE, "model_a": "response", "model_b": "prompt"}
    mine.append(api.create_id("compare", compare))
    mine.append(_documented(api, "classify"))
    mine.append(_documented(api, "score", scale=[0, 5], threshold=4, judge={"model": "deepseek-ai/DeepSeek-V3.1"}))
    mine.append(_documented(api, "compare", baseline_model="Qwen/Qwen3.5-9B"))
    _scenario(api, outcome={"kind": "error", "at": "running", "message": "judge unavailable"})
    mine.append(_documented(api, "score"))
    _scenario(api, outcome={"pass_percentage": 30})
    mine.append(_documented(api, "classify", system_prompt="Answer briefly."))
    _scenario(api, progression={"mode": "manual"})
    world.manual_job = _documented(api, "classify")
    mine.append(world.manual_job)
    world.jobs[OTHER].append(_documented(api, "compare", key=OTHER, baseline_model="openai/gpt-oss-120b"))
    other_file = api.upload(jsonl(qa_rows(8)), key=OTHER)
    world.jobs[OTHER].append(api.create_id("classify", classify_params(other_file), key=OTHER))
    _scenario(api, progression={"mode": "immediate"})
    finished = _documented(api, "score")
    mine.append(finished)
    # Left for after the export: a scenario entry not used yet, and a fault rule part-way through.
    _scenario(api, match={"type": "classify"}, outcome={"pass_percentage": 95})
    api.control(
        "POST",
        "faults",
        {"match": {"route": "whoami"}, "after": 1, "times": 2, "action": {"kind": "error", "status": 503}},
    )
    api.request("GET", "/v3/whoami")
    step1 = api.request(
        "POST",
        "/v1/files",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"purpose=eval&file_name=late.jsonl&file_type=jsonl",
    )
    world.upload_token = step1.headers["location"].removeprefix(BASE)
    world.upload_file = step1.headers["x-together-file-id"]
    # Time moves: jobs run, some finish; reads count; one result file is deleted.
    api.advance(4)
    for job_id in mine[:4]:
        api.status(job_id)
    result_file = api.job(finished)["results"]["result_file_id"]
    assert api.request("DELETE", f"/v1/files/{result_file}").status == 200
    return world


Answer = tuple[str, int, dict[str, str], bytes]


class Recorder:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.answers: list[Answer] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.api.request(method, path, **kwargs)
        self.answers.append(
            (
                f"{method} {path} {kwargs.get('query') or ''} {kwargs.get('key') or ''}",
                reply.status,
                reply.headers,
                reply.body,
            )
        )
        return reply


def sweep(call: Recorder, world: World) -> None:
    """Every read of the Together API, for both keys."""
    for key, jobs in world.jobs.items():
        for job_id in jobs:
            call("GET", f"/v1/evaluation/{job_id}", key=key)
            call("GET", f"/v1/evaluation/{job_id}/status", key=key)
        for query in (
            {},
            {"limit": 2},
            {"status": "running"},
            {"status": "completed"},
            {"status": "error"},
            {"status": "pending"},
        ):
            call("GET", "/v1/evaluation", query=query, key=key)
            call("GET", "/v1/evaluations", query=query, key=key)
        for item in call("GET", "/v1/files", key=key).json()["data"]:
            call("GET", f"/v1/files/{item['id']}", key=key)
            if item["id"].startswith("file-"):
                call("GET", f"/v1/files/{item['id']}/content", key=key)


def later(api: Api, world: World) -> list[Answer]:
    """What clients and tests do after the export point, recorded."""
    call = Recorder(api)
    sweep(call, world)
    for _ in range(3):
        call("GET", "/v3/whoami")  # the fault rule fires twice more, then stops
    call("PUT", world.upload_token, body=jsonl(qa_rows(5)).encode(), key=None)
    late_file = call("POST", f"/v1/files/{world.upload_file}/preprocess").json()["id"]
    world.jobs["key-a"].append(
        call("POST", "/v1/evaluation", json_body={"type": "classify", "parameters": classify_params(late_file)}).json()[
            "workflow_id"
        ]
    )
    world.jobs["key-a"].append(
        call("POST", "/v1/evaluation", json_body={**DOCUMENTED, "evaluation_type": "score"}).json()["id"]
    )
    call("POST", f"/_emulator/jobs/{world.manual_job}/advance", json_body={"steps": 2}, key=None)
    call("GET", "/_emulator/jobs", key=None)
    for seconds in (1, 30, 3600):
        call("POST", "/_emulator/clock/advance", json_body={"seconds": seconds}, key=None)
        sweep(call, world)
    for key, jobs in world.jobs.items():
        for job_id in jobs:
            call("GET", f"/_emulator/jobs/{job_id}", key=None)
            results = api.job(job_id, key=key)["results"] or {}
            if "result_file_id" in results:
                call("DELETE", f"/v1/files/{results['result_file_id']}", key=key)
    sweep(call, world)
    call("GET", "/v1/evaluation/model-list")
    call("GET", "/_emulator/state", key=None)
    return call.answers


def token(world: World) -> str:
    return world.upload_token.rpartition("/")[2]


class AsKept:
    """Reads the twin's upload token as the original's: in paths, headers, bodies and documents."""

    def __init__(self, twin: World, kept: World) -> None:
        self.twin, self.kept = token(twin), token(kept)

    def text(self, text: str) -> str:
        return text.replace(self.twin, self.kept)

    def answer(self, answer: Answer) -> Answer:
        label, status, headers, body = answer
        body = body.replace(self.twin.encode(), self.kept.encode())
        return self.text(label), status, {k: self.text(v) for k, v in headers.items()}, body

    def document(self, document: Any) -> Any:
        return json.loads(self.text(json.dumps(document)))


@pytest.mark.parametrize(
    ("face", "kind"),
    [
        ("core", "memory"),
        ("server", "memory"),
        *[("core", kind) for kind in STORE_KINDS if kind != "memory"],
    ],
)
def test_export_reset_import_answers_every_later_request_as_before(
    face: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The twin that goes through export -> reset -> import keeps its state in a store of `kind`.
    store = open_store(store_url(kind, request, tmp_path))
    kept, moved = make_face(face, Emulator(clock="manual")), make_face(face, Emulator(clock="manual", store=store))
    world, same_world = populate(kept), populate(moved)
    as_kept = AsKept(same_world, world)
    assert replace(same_world, upload_token=as_kept.text(same_world.upload_token)) == world

    snapshot = moved.control("GET", "state")
    moved.control("POST", "reset")
    assert moved.control("GET", "jobs") == []
    moved.control("PUT", "state", snapshot)
    assert moved.control("GET", "state") == snapshot
    assert as_kept.document(snapshot) == kept.control("GET", "state")

    expected, answered = later(kept, world), [as_kept.answer(answer) for answer in later(moved, same_world)]
    close(store)
    assert [answer[0] for answer in answered] == [answer[0] for answer in expected]
    for want, got in zip(expected, answered, strict=True):
        assert got == want, want[0]
    assert any(b'"metrics":{' in answer[3] for answer in expected)  # documented jobs were answered complete
    assert any(b'"judged_correct"' in answer[3] for answer in expected)  # and their result files read
