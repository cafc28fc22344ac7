"""`GET /_emulator/paths` and `PUT /_emulator/paths/{id}` over HTTP: comma-separated filters, the
same bytes through every face, the entry a path adds, and 4xx answers that name the problem."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, classify_params, jsonl, make_face, qa_rows


def get(api: Api, expect: int = 200, **query: Any) -> Any:
    reply = api.request("GET", "/_emulator/paths", query=query, key=None)
    assert reply.status == expect, reply.body
    return reply.json()


def test_filters_are_comma_separated_lists() -> None:
    listed = get(make_face("core"), terminal="error, user_error", at="queued,running", max_preemptions="1")
    assert [path["label"] for path in listed["data"]] == [
        "pending->queued->error",
        "pending->queued->running->error",
        "pending->queued->running->queued->running->error",
        "pending->queued->user_error",
        "pending->queued->running->user_error",
        "pending->queued->running->queued->running->user_error",
    ]
    first = listed["data"][0]
    assert set(first) == {"id", "label", "statuses", "end", "at", "preemptions", "polls", "entry"}
    assert first["entry"]["outcome"]["kind"] == "error" and first["entry"]["match"]["type"] is None


def test_every_face_answers_the_same_bytes() -> None:
    bodies = {
        make_face(face).request("GET", "/_emulator/paths", query={"progression": "after_polls"}, key=None).body
        for face in ("core", "server")
    }
    assert len(bodies) == 1


def test_the_type_goes_into_each_entry() -> None:
    listed = get(make_face("core"), type="compare", terminal="stall")
    assert {path["entry"]["match"]["type"] for path in listed["data"]} == {"compare"}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"terminal": "error,done"}, "terminal"),
        ({"at": "finished"}, "at"),
        ({"max_preemptions": "4"}, "max_preemptions"),
        ({"max_polls": "0"}, "max_polls"),
        ({"progression": "manual"}, "progression"),
        ({"type": "rank"}, "type"),
        ({"preemptions": "1"}, "preemptions"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(query: dict[str, str], param: str) -> None:
    assert get(make_face("core"), expect=400, **query)["error"]["param"] == param


def test_put_makes_the_next_creates_of_a_type_follow_the_path() -> None:
    api = make_face("server")
    entry = api.control("PUT", "paths/pending.queued.running.user_error", {"type": "classify", "times": 1})
    assert (entry["id"], entry["times"], entry["name"]) == ("scn-1", 1, "path pending->queued->running->user_error")
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.advance(3600)
    assert [update["status"] for update in api.job(job_id)["status_updates"]] == [
        "pending",
        "queued",
        "running",
        "user_error",
    ]
    assert api.control("GET", "scenarios")["entries"] == []  # used up by that one create


def test_an_unknown_path_is_a_404_and_a_bad_body_a_400() -> None:
    api = make_face("core")
    reply = api.request("PUT", "/_emulator/paths/pending.finished", key=None)
    assert reply.status == 404 and reply.json()["error"]["param"] == "id"
    reply = api.request("PUT", "/_emulator/paths/pending.error", json_body={"type": "rank"}, key=None)
    assert reply.status == 400 and reply.json()["error"]["param"] == "type"
