"""`GET /_emulator/jobs/{id}/polling` and `GET /_emulator/polling` over HTTP: the documented report,
the same bytes through every face, thresholds from the query, and clear 4xx answers."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator import Emulator, key_fingerprint

from tests.support import Api, classify_params, jsonl, make_face, qa_rows

FACES = ["core", "server"]


def busy_job(api: Api) -> str:
    """A job read twice at once, then once more after it ended."""
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.status(job_id)
    api.status(job_id)
    api.advance(10)
    api.status(job_id)
    api.status(job_id)
    return job_id


def polling(api: Api, path: str, expect: int = 200, **query: Any) -> Any:
    reply = api.request("GET", "/_emulator/" + path, query=query, key=None)
    assert reply.status == expect, reply.body
    return reply.json()


@pytest.mark.parametrize("face", FACES)
def test_the_report_of_a_job(face: str) -> None:
    api = make_face(face)
    job_id = busy_job(api)
    found = polling(api, f"jobs/{job_id}/polling")
    assert set(found) == {
        "job_id",
        "tenant",
        "verdict",
        "complete",
        "status",
        "created_at",
        "terminal_at",
        "reads",
        "intervals",
        "wall_clock_intervals",
        "retry_after",
        "list_watches",
        "thresholds",
        "findings",
    }
    assert (found["job_id"], found["tenant"], found["verdict"], found["status"]) == (
        job_id,
        key_fingerprint("key-a"),
        "bad",
        "completed",
    )
    assert [finding["name"] for finding in found["findings"]] == ["polls_too_often", "reads_after_terminal"]
    cited = found["findings"][0]["requests"][0]
    assert set(cited) == {"seq", "time", "method", "path", "route", "status_code", "saw", "why"}
    assert (cited["method"], cited["path"], cited["saw"]) == ("GET", f"/v1/evaluation/{job_id}/status", "pending")


def test_every_face_answers_the_same_bytes() -> None:
    bodies = set()
    for face in FACES:
        api = make_face(face)
        job_id = busy_job(api)
        bodies.add(api.request("GET", f"/_emulator/jobs/{job_id}/polling", key=None).body)
    assert len(bodies) == 1


def test_the_query_sets_the_thresholds_of_one_call() -> None:
    api = make_face("core")
    job_id = busy_job(api)
    lenient = polling(api, f"jobs/{job_id}/polling", min_interval=0, stops_after_terminal="false")
    assert (lenient["verdict"], lenient["thresholds"]) == (
        "ok",
        {"min_interval_seconds": 0.0, "reads_after_terminal": None, "honours_retry_after": True, "list_watches": 0},
    )
    allowed = polling(api, f"jobs/{job_id}/polling", min_interval="0", reads_after_terminal="1")
    assert allowed["verdict"] == "ok"
    assert polling(api, f"jobs/{job_id}/polling")["verdict"] == "bad"  # the settings again on the next call
    walled = polling(api, f"jobs/{job_id}/polling", wall_clock="true")
    assert walled["wall_clock_intervals"]["count"] == walled["intervals"]["count"] == 3


def test_reading_a_report_is_no_client_read() -> None:
    api = make_face("core")
    job_id = busy_job(api)
    before = api.emulator.journal.entries
    polling(api, f"jobs/{job_id}/polling")
    polling(api, "polling")
    assert api.emulator.journal.entries == before
    assert api.control("GET", f"jobs/{job_id}")["reads"] == 4


def test_one_report_per_job_filtered_by_tenant_and_verdict() -> None:
    api = make_face("core", Emulator(clock="manual", tenants=[{"key": "key-b", "name": "team-b"}]))
    busy = busy_job(api)
    quiet = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)), key="key-b")), key="key-b")
    everything = polling(api, "polling")["data"]
    assert [(found["job_id"], found["verdict"]) for found in everything] == [(quiet, "ok"), (busy, "bad")]
    assert [found["job_id"] for found in polling(api, "polling", tenant="team-b")["data"]] == [quiet]
    assert [found["job_id"] for found in polling(api, "polling", tenant="key-a", verdict="bad")["data"]] == [busy]
    assert polling(api, "polling", verdict="incomplete")["data"] == []


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"min_interval": "-1"}, "min_interval"),
        ({"min_interval": "soon"}, "min_interval"),
        ({"min_interval": "inf"}, "min_interval"),
        ({"reads_after_terminal": "1.5"}, "reads_after_terminal"),
        ({"stops_after_terminal": "maybe"}, "stops_after_terminal"),
        ({"list_watches": "-2"}, "list_watches"),
        ({"min_intervall": "2"}, "min_intervall"),
    ],
)
def test_a_bad_query_is_a_400_naming_it(query: dict[str, str], param: str) -> None:
    api = make_face("core")
    job_id = busy_job(api)
    error = polling(api, f"jobs/{job_id}/polling", expect=400, **query)["error"]
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert polling(api, "polling", expect=400, **query)["error"]["param"] == param


def test_the_list_route_refuses_an_unknown_verdict() -> None:
    error = polling(make_face("core"), "polling", expect=400, verdict="great")["error"]
    assert error["param"] == "verdict" and "'ok', 'bad' or 'incomplete'" in error["message"]


def test_an_unknown_job_is_a_404() -> None:
    error = polling(make_face("core"), "jobs/eval-0000-0/polling", expect=404)["error"]
    assert error["param"] == "id" and "eval-0000-0" in error["message"]
