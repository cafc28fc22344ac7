"""A request that fails changes nothing, on every store: a state import the emulator refuses (a 400
naming the field) and a request that meets a bug in the emulator (a 500) leave the state exactly
as it was, and what an export holds imports back.

The bug is simulated: the store's `put_job` raises after a state import has emptied the store and
written part of the new state. A persistent store rolls the whole request back. The memory store
has no transactions: docs/limits.md says what a 500 may leave there, so it is not tested for it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._strict_json import MAX_SAFE_INTEGER
from together_eval_emulator.stores._factory import open_store

from tests.stores.redis_support import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.stores.store_support import STORE_KINDS, close, store_url
from tests.support import Api, CoreFace, classify_params, jsonl, qa_rows

OTHER = "key-b"


@pytest.fixture(params=STORE_KINDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    emulator = Emulator(clock="manual", store=open_store(store_url(request.param, request, tmp_path)))
    yield Api(CoreFace(emulator))
    close(emulator.store)


def populated(api: Api) -> dict[str, Any]:
    """Two keys with a job each (one read), a scenario entry and a fault rule with uses counted, and a
    multipart upload with one of its two parts sent; the state export."""
    for key in (api.key, OTHER):
        file_id = api.upload(jsonl(qa_rows(4)), key=key)
        job = api.create_id("classify", classify_params(file_id), key=key)
        api.status(job, key=key)
    api.control("POST", "scenarios", {"times": 3, "outcome": {"kind": "stall"}})
    api.control(
        "POST", "faults", {"match": {"route": "files.list"}, "after": 5, "action": {"kind": "error", "status": 503}}
    )
    assert api.request("GET", "/v1/files").status == 200  # the fault rule has seen one request
    initiate = {"file_name": "m.jsonl", "file_size": 80, "num_parts": 2, "purpose": "eval", "file_type": "jsonl"}
    upload = api.request("POST", "/v1/files/multipart/initiate", json_body=initiate).json()
    part = upload["parts"][0]["URL"].split("/_emulator/", 1)[1]
    assert api.request("PUT", f"/_emulator/{part}", body=b'{"prompt": "a", "response": "b"}\n', key=None).status == 200
    return dict(api.control("GET", "state"))


def exported(api: Api) -> dict[str, Any]:
    return dict(api.control("GET", "state"))


def refused(api: Api, state: dict[str, Any], param: str) -> str:
    """Import `state`: a 400 naming `param`, and the state as it was. The error message."""
    before = exported(api)
    reply = api.request("PUT", "/_emulator/state", json_body=state, key=None)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["param"] == param, error
    assert exported(api) == before
    return str(error["message"])


def test_an_export_with_a_multipart_upload_under_way_imports_back_and_the_upload_completes(api: Api) -> None:
    state = populated(api)
    assert json.loads(json.dumps(state))["uploads"][0]["parts"].keys() == {"1"}  # JSON object keys are strings
    api.control("POST", "reset")
    assert api.request("PUT", "/_emulator/state", json_body=state, key=None).status == 200
    assert exported(api) == state
    upload = next(u for u in state["uploads"] if u["multipart"])
    token, file_id = upload["token"], upload["file_id"]
    second = b'{"prompt": "c", "response": "d"}\n{"prompt": "e", "response": "f"}\n'
    assert api.request("PUT", f"/_emulator/uploads/{token}/parts/2", body=second, key=None).status == 200
    parts = [{"part_number": 1, "etag": "x"}, {"part_number": 2, "etag": "y"}]
    done = api.request(
        "POST", "/v1/files/multipart/complete", json_body={"upload_id": token, "file_id": file_id, "parts": parts}
    )
    assert done.status == 200, done.body
    assert len(api.content(file_id)) == 3


def test_a_workflow_id_held_by_two_keys_is_refused(api: Api) -> None:
    state = populated(api)
    copied = json.loads(json.dumps(state))
    mine, theirs = copied["tenants"][0], copied["tenants"][1]
    theirs["jobs"].append(mine["jobs"][0])
    where = f"tenants.1.jobs.{len(theirs['jobs']) - 1}.workflow_id"
    assert "appears twice" in refused(api, copied, where)


def test_a_key_or_a_file_listed_twice_is_refused(api: Api) -> None:
    state = populated(api)
    twice = json.loads(json.dumps(state))
    twice["tenants"].append(dict(twice["tenants"][0], jobs=[], files=[]))
    refused(api, twice, f"tenants.{len(twice['tenants']) - 1}.key")
    copied = json.loads(json.dumps(state))
    files = copied["tenants"][0]["files"]
    files.append(files[0])
    refused(api, copied, f"tenants.0.files.{len(files) - 1}.id")


@pytest.mark.parametrize(
    "where",
    [
        ("tenants", 0, "jobs", 0, "reads"),
        ("scenarios", "next_id"),
        ("scenarios", "entries", 0, "used"),
        ("faults", "next_id"),
        ("faults", "rules", 0, "seen"),
        ("faults", "rules", 0, "fired"),
    ],
    ids=lambda where: ".".join(map(str, where)),
)
def test_a_counter_past_what_every_store_holds_is_refused(api: Api, where: tuple[Any, ...]) -> None:
    state = populated(api)
    for too_big in (MAX_SAFE_INTEGER + 1, 2**63, 10**30):
        copied = json.loads(json.dumps(state))
        parent = copied
        for step in where[:-1]:
            parent = parent[step]
        parent[where[-1]] = too_big
        refused(api, copied, ".".join(map(str, where)))
    copied = json.loads(json.dumps(state))  # the largest one is taken, and counted on
    copied["tenants"][0]["jobs"][0]["reads"] = MAX_SAFE_INTEGER - 1
    assert api.request("PUT", "/_emulator/state", json_body=copied, key=None).status == 200
    job = copied["tenants"][0]["jobs"][0]["workflow_id"]
    api.status(job)
    assert exported(api)["tenants"][0]["jobs"][0]["reads"] == MAX_SAFE_INTEGER


def test_a_request_that_meets_a_bug_changes_nothing_on_a_persistent_store(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = api.emulator.store
    if type(store).__name__ == "MemoryStore":
        pytest.skip("the memory store has no transactions (docs/limits.md)")
    state = populated(api)
    api.advance(30)
    before = exported(api)
    file_id = state["tenants"][0]["files"][0]["id"]
    writes = []

    def failing(*args: Any, **kwargs: Any) -> None:
        writes.append(args)
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(store, "put_job", failing)
    imported = api.request("PUT", "/_emulator/state", json_body=state, key=None)
    created = api.create("classify", classify_params(file_id))  # draws an id and uses a scenario entry first
    monkeypatch.undo()
    for reply in (imported, created):
        assert reply.status == 500 and reply.json()["error"]["type"] == "server_error", reply.body
    assert len(writes) == 2  # each failed part-way: the import after emptying the store
    assert exported(api) == before
    # The failed create is in the journal (control-plane requests never are), and nothing else changed.
    journal = api.control("GET", "requests")["data"]
    assert [(e["method"], e["path"], e["status_code"]) for e in journal[-1:]] == [("POST", "/v1/evaluation", 500)]
    assert api.create_id("classify", classify_params(file_id)) not in {
        job["workflow_id"] for tenant in state["tenants"] for job in tenant["jobs"]
    }


def test_file_bytes_larger_than_the_store_holds_are_a_413_and_nothing_is_stored(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each store holds file bytes up to its `max_content_bytes` in one value (SQLite about 1 GB, Redis
    512 MiB): an upload URL, a part, a multipart upload's whole file and an imported file beyond it are
    a 413 naming what was too large, and leave nothing half stored. Here the limit is 100 bytes."""
    state = populated(api)
    monkeypatch.setattr(api.emulator.store, "max_content_bytes", 100)
    row = b'{"prompt": "a", "response": "' + b"b" * 60 + b'"}\n'  # 92 bytes: fits

    step1 = api.request(
        "POST",
        "/v1/files",
        body=b"purpose=eval&file_name=d.jsonl",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    url = step1.headers["location"].split("/_emulator/", 1)[1]
    too_big = api.request("PUT", f"/_emulator/{url}", body=row + b"\n" * 9, key=None)
    assert too_big.status == 413 and "101 bytes" in too_big.json()["error"]["message"], too_big.body
    assert api.request("PUT", f"/_emulator/{url}", body=row, key=None).status == 200  # the URL still takes bytes

    initiate = {"file_name": "m.jsonl", "file_size": 186, "num_parts": 2, "purpose": "eval", "file_type": "jsonl"}
    upload = api.request("POST", "/v1/files/multipart/initiate", json_body=initiate).json()
    first, second = (part["URL"].split("/_emulator/", 1)[1] for part in upload["parts"])
    assert api.request("PUT", f"/_emulator/{first}", body=row * 2, key=None).status == 413
    for part in (first, second):
        assert api.request("PUT", f"/_emulator/{part}", body=row, key=None).status == 200
    ids = {"upload_id": upload["upload_id"], "file_id": upload["file_id"]}
    parts = [{"part_number": 1, "etag": "x"}, {"part_number": 2, "etag": "y"}]
    joined = api.request("POST", "/v1/files/multipart/complete", json_body={**ids, "parts": parts})
    assert joined.status == 413 and joined.json()["error"]["param"] == "parts", joined.body
    assert api.request("GET", f"/v1/files/{upload['file_id']}").status == 404  # not ready, not listed
    assert api.request("POST", "/v1/files/multipart/abort", json_body=ids).status == 200  # still under way

    api.control("POST", "reset")
    before = exported(api)
    copied = json.loads(json.dumps(state))
    files = copied["tenants"][0]["files"]
    index = next(i for i, file in enumerate(files) if file.get("content_b64"))
    files[index]["content_b64"] = base64.b64encode(row * 2).decode()
    imported = api.request("PUT", "/_emulator/state", json_body=copied, key=None)
    assert imported.status == 413, imported.body
    assert imported.json()["error"]["param"] == f"tenants.0.files.{index}.content_b64"
    assert exported(api) == before


def nested(depth: int) -> Any:
    """A value whose arrays and objects nest `depth` levels deep."""
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_every_export_imports_back_however_deep_what_it_holds(api: Api) -> None:
    """A dataset row nested past any bound (its job ends in `user_error`) and a documented job whose
    request nests as deep as a body may: the export holds them, and imports back unchanged."""
    deep_row = json.dumps({"prompt": "p", "response": "r", "extra": nested(300)})
    file_id = api.upload(deep_row + "\n")
    failed = api.create_id("classify", classify_params(file_id))
    body = {"model": "m", "evaluation_type": "classify", "dataset": "qa-benchmark-v1"}
    body["parameters"] = {"judge": {"model": "j", "extra": nested(64 - 3)}}  # the body: 64 levels, the most
    assert api.request("POST", "/v1/evaluation", json_body=body).status == 200
    too_deep = {**body, "parameters": {"judge": {"model": "j", "extra": nested(64 - 2)}}}
    assert api.request("POST", "/v1/evaluation", json_body=too_deep).status == 400
    api.advance(3600)
    assert api.status(failed)["status"] == "user_error"
    state = exported(api)
    answers = api.request("GET", "/v1/evaluation").body, api.request("GET", f"/v1/evaluation/{failed}").body
    api.control("POST", "reset")
    reply = api.request("PUT", "/_emulator/state", json_body=state, key=None)
    assert reply.status == 200, reply.body
    assert exported(api) == state
    assert (api.request("GET", "/v1/evaluation").body, api.request("GET", f"/v1/evaluation/{failed}").body) == answers
