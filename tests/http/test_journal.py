"""The request journal, driven through Emulator.handle with plain ApiRequests (no transport)."""

from __future__ import annotations

import hashlib
import json

import pytest
from together_eval_emulator import key_fingerprint
from together_eval_emulator.http._core import Emulator

from tests.http.journal_calls import DATA, call, create_job


@pytest.fixture
def emu() -> Emulator:
    return Emulator(clock="manual")


def test_records_every_api_request_with_what_it_concerns(emu: Emulator) -> None:
    job_id, file_id = create_job(emu)
    emu.advance(2.5)
    call(emu, "GET", f"/v1/evaluation/{job_id}/status")
    call(emu, "GET", "/v1/nope")
    entries = emu.journal.entries
    assert [e.route for e in entries] == [
        "files.upload",
        "upload.put",
        "files.preprocess",
        "evaluation.create",
        "evaluation.status",
        None,
    ]
    upload, put, preprocess, create, status, unknown = entries
    assert (upload.file_id, preprocess.file_id, upload.status_code) == (file_id, file_id, 302)
    assert put.tenant is None and put.body == DATA
    # the tenant by its key's fingerprint, never by the key
    assert (create.job_id, create.tenant, create.json()["type"]) == (job_id, key_fingerprint("key-a"), "classify")
    assert (status.job_id, status.time, status.route_path) == (
        job_id,
        "2026-01-01T00:00:02.500000Z",
        "/v1/evaluation/{id}/status",
    )
    assert (unknown.status_code, unknown.route, unknown.seq) == (404, None, 6)


def test_control_plane_is_not_recorded_and_serves_the_journal(emu: Emulator) -> None:
    job_id, _ = create_job(emu)
    call(emu, "GET", f"/v1/evaluation/{job_id}")
    status, body, _ = call(emu, "GET", "/_emulator/requests", query=f"route=evaluation.retrieve&job_id={job_id}")
    assert status == 200
    (entry,) = json.loads(body)["data"]
    assert entry == {
        "seq": 5,
        "time": "2026-01-01T00:00:00.000000Z",
        "method": "GET",
        "path": f"/v1/evaluation/{job_id}",
        "query": {},
        "body": None,
        "body_size": 0,
        "body_sha256": hashlib.sha256(b"").hexdigest(),
        "body_truncated": False,
        "tenant": key_fingerprint("key-a"),
        "route": "evaluation.retrieve",
        "job_id": job_id,
        "file_id": None,
        "status_code": 200,
    }
    _, body, _ = call(emu, "GET", "/_emulator/requests")
    assert [e["route"] for e in json.loads(body)["data"]][1] == "upload.put"  # text bodies are kept as text
    assert json.loads(body)["data"][1]["body"] == DATA.decode()
    assert len(emu.journal) == 5  # reading it did not add to it
    status, body, _ = call(emu, "GET", "/_emulator/requests", query="route=nope")
    assert status == 400 and json.loads(body)["error"]["param"] == "route"
    call(emu, "POST", "/_emulator/reset/journal")
    assert len(emu.journal) == 0 and emu.store.jobs("key-a")  # state is kept


def test_seed_route_reseeds_and_starts_over(emu: Emulator) -> None:
    first, _ = create_job(emu)
    status, _, _ = call(emu, "POST", "/_emulator/seed", {"seed": 7})
    assert status == 200 and emu.config.seed == 7 and not emu.store.tenants() and len(emu.journal) == 0
    second, _ = create_job(emu)
    assert second != first
    emu.reseed(0)
    assert create_job(emu)[0] == first
    status, body, _ = call(emu, "POST", "/_emulator/seed", {"seed": "x"})
    assert status == 400 and json.loads(body)["error"]["param"] == "seed"


def test_filters_and_route_forms(emu: Emulator) -> None:
    job_id, file_id = create_job(emu)
    call(emu, "GET", f"/v1/evaluation/{job_id}", headers={"authorization": "Bearer key-b"})  # 404
    journal = emu.journal
    assert journal.count("evaluation.create") == 1
    assert journal.count("POST /v1/evaluation") == 1
    assert journal.count("GET /v1/evaluation/{id}") == 1
    assert journal.count(f"GET /v1/evaluation/{job_id}") == 1
    assert journal.count("/v1/files/{id}/preprocess") == 1
    assert [e.seq for e in journal.filter(file_id=file_id)] == [1, 3]
    assert [e.tenant for e in journal.filter(status_code=404)] == [key_fingerprint("key-b")]
    assert journal.filter(tenant="key-b")[0].job_id == job_id  # by the key, as by its fingerprint
    assert journal.filter(tenant=key_fingerprint("key-b"))[0].job_id == job_id
    with pytest.raises(ValueError, match=r"No route 'GET /v1/evaluation/\{id\}/results'"):
        journal.count("GET /v1/evaluation/{id}/results")


def test_assertions_pass_and_fail(emu: Emulator) -> None:
    job_id, _ = create_job(emu)
    call(emu, "GET", f"/v1/evaluation/{job_id}/status")
    call(emu, "GET", f"/v1/evaluation/{job_id}")
    journal = emu.journal
    assert len(journal.assert_called("evaluation.create", times=1)) == 1
    journal.assert_not_called("evaluations.list")
    assert journal.assert_called_with("evaluation.create", body={"parameters": {"pass_labels": ["good"]}}).seq == 4
    assert journal.assert_polled(job_id, min=1, max=2) == 2
    with pytest.raises(AssertionError, match="expected 0 calls to evaluation.create, got 1"):
        journal.assert_not_called("evaluation.create")
    with pytest.raises(AssertionError, match=r"body.parameters.judge.model: expected 'x', got 'm'"):
        journal.assert_called_with("evaluation.create", body={"parameters": {"judge": {"model": "x"}}})
    with pytest.raises(AssertionError, match=r"body.extra: missing"):
        journal.assert_called_with("evaluation.create", body={"extra": 1})
    with pytest.raises(AssertionError, match=r"query.limit: missing"):
        journal.assert_called_with("evaluation.create", query={"limit": "5"})
    with pytest.raises(AssertionError, match="polled exactly 3 time"):
        journal.assert_polled(job_id, times=3)
    with pytest.raises(AssertionError, match="polled at least 1 time.*got 0"):
        journal.assert_polled("eval-0000-0")


def test_reset_starts_a_new_journal(emu: Emulator) -> None:
    create_job(emu)
    emu.reset()
    assert len(emu.journal) == 0


def test_the_journal_keeps_the_most_recent_requests_up_to_its_limit() -> None:
    from together_eval_emulator import Emulator

    from tests.support import CoreClient

    client = CoreClient(Emulator(clock="manual", journal_limit=3))
    for n in range(5):
        client.request("GET", f"/v1/evaluation/eval-000{n}-1")
    entries = client.emulator.journal.entries
    assert [entry.seq for entry in entries] == [3, 4, 5]
    assert [entry.path for entry in entries] == [f"/v1/evaluation/eval-000{n}-1" for n in (2, 3, 4)]
