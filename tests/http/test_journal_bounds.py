"""The journal is bounded and discreet: large bodies kept as their size and SHA-256, a bound in bytes
as well as in entries, deleted files' bytes freed, no API key or secret shown in full."""

from __future__ import annotations

import gc
import hashlib
import json
import tracemalloc
from typing import Any

import pytest
from together_eval_emulator import Emulator, EmulatorConfig, key_fingerprint
from together_eval_emulator.engine._config import TenantConfig
from together_eval_emulator.engine._redaction import masked

from tests.support import BASE, JUDGE, CoreClient, jsonl, qa_rows

SECRET = "sk-live-0123456789abcdef"


LINE = json.dumps({"prompt": "What is two plus two?", "response": "Four."}).encode() + b"\n"


def dataset(size: int) -> bytes:
    """`size` bytes of JSONL rows (the last one cut short)."""
    return (LINE * (size // len(LINE) + 1))[:size]


def test_a_body_larger_than_the_limit_is_kept_as_its_size_and_digest() -> None:
    emu = Emulator(clock="manual", journal_body_limit=1024)
    client = CoreClient(emu)
    small, large = dataset(1000), dataset(5000)
    client.upload(small)
    client.upload(large)
    kept, cut = [e for e in emu.journal.entries if e.route == "upload.put"]
    assert (kept.body, kept.size, kept.sha256, kept.truncated) == (small, len(small), sha(small), False)
    assert (cut.body, cut.size, cut.sha256, cut.truncated) == (b"", len(large), sha(large), True)
    assert cut.json() is None and f"body=<{len(large)} bytes, sha256 {sha(large)[:12]}" in cut.describe()
    shown = requests(client, route="upload.put")
    assert [(e["body_size"], e["body_sha256"], e["body_truncated"]) for e in shown] == [
        (len(small), sha(small), False),
        (len(large), sha(large), True),
    ]
    assert shown[1]["body"] is None and shown[0]["body"] == small.decode()


def test_the_default_body_limit_is_64_kib() -> None:
    assert EmulatorConfig().journal_body_limit == 64 * 1024
    emu = Emulator(clock="manual")
    client = CoreClient(emu)
    client.upload(dataset(64 * 1024))
    client.upload(dataset(64 * 1024 + 1))
    assert [e.truncated for e in emu.journal.filter("upload.put")] == [False, True]


def test_the_journal_is_bounded_in_bytes() -> None:
    emu = Emulator(clock="manual", journal_byte_limit=20_000)
    client = CoreClient(emu)
    for _ in range(30):
        client.upload(dataset(2000))
    entries = emu.journal.entries
    assert sum(e.journal_bytes for e in entries) <= 20_000
    assert entries[-1].route == "files.preprocess" and entries[-1].seq == 90  # the newest are kept
    assert len(entries) < 90


def test_deleting_files_frees_their_bytes() -> None:
    """Six uploads, each parsed as a dataset, then deleted: nothing of them stays in memory."""
    emu = Emulator(clock="manual")
    client = CoreClient(emu)
    client.upload(dataset(1000))  # warm up what any upload allocates once
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(6):
            file_id = client.upload(LINE * (2**20 // len(LINE)))
            emu.files.dataset(emu.files.get(client.key, file_id))  # parsed, as a job's create does
            assert client.request("DELETE", f"/v1/files/{file_id}").status == 200
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert left < 512 * 1024, f"{left} bytes still held after deleting 6 MB of files"


def test_api_keys_are_never_shown_by_the_journal_or_the_control_plane() -> None:
    named_key, other_key = "team-a-0123456789abcdef", "team-b-0123456789abcdef"
    emu = Emulator(clock="manual", tenants=[TenantConfig(key=named_key, name="team-a")])
    client = CoreClient(emu, key=named_key)
    for key in (named_key, other_key):
        file_id = client.upload(jsonl(qa_rows(2)), key=key)
        params = {"input_data_file_path": file_id, "judge": JUDGE, "labels": ["a", "b"], "pass_labels": ["a"]}
        client.create_id("classify", {**params, "model_to_evaluate": "response"}, key=key)
    shown = b"".join(client.request("GET", f"/_emulator/{path}", key=None).body for path in ("requests", "jobs"))
    assert named_key.encode() not in shown and other_key.encode() not in shown
    assert {e["tenant"] for e in requests(client)} == {
        "team-a",
        key_fingerprint(other_key),
        None,
    }  # None: key-less PUTs
    jobs = client.control("GET", "jobs")
    assert [job["tenant"] for job in jobs] == ["team-a", key_fingerprint(other_key)]
    assert key_fingerprint(other_key).startswith("key-team…")
    # Filtering by the key itself still works, in Python and over HTTP.
    by_key = requests(client, tenant=other_key)
    assert len(by_key) == 3 and {e["tenant"] for e in by_key} == {key_fingerprint(other_key)}  # the PUT has no key
    assert len(requests(client, tenant="team-a")) == len(requests(client, tenant=named_key)) == 3
    assert len(emu.journal.filter(tenant=named_key)) == 3
    assert emu.journal.assert_called("evaluation.create", times=1, tenant=other_key)


def test_secret_fields_of_bodies_and_queries_are_masked() -> None:
    emu = Emulator(clock="manual")
    client = CoreClient(emu)
    file_id = client.upload(jsonl(qa_rows(2)))
    judge = {**JUDGE, "model_source": "external", "external_api_token": SECRET, "max_tokens": 512}
    params = {"input_data_file_path": file_id, "judge": judge, "labels": ["a", "b"], "pass_labels": ["a"]}
    body = {"type": "classify", "parameters": {**params, "model_to_evaluate": "response"}}
    client.request("POST", "/v1/evaluation", json_body=body, query={"api_key": SECRET, "limit": "5"})
    (entry,) = emu.journal.filter("evaluation.create")
    kept = entry.json()["parameters"]["judge"]
    assert kept["external_api_token"].startswith("secret-…") and kept["max_tokens"] == 512
    assert entry.query["api_key"].startswith("secret-…") and entry.query["limit"] == "5"
    assert SECRET.encode() not in client.request("GET", "/_emulator/requests", key=None).body
    # Assertions compare secrets masked the same way: the test's own values still match.
    emu.journal.assert_called_with("evaluation.create", body={"parameters": {"judge": {"external_api_token": SECRET}}})
    emu.journal.assert_called_with("evaluation.create", query={"api_key": SECRET})
    with pytest.raises(AssertionError, match="external_api_token"):
        emu.journal.assert_called_with("evaluation.create", body={"parameters": {"judge": {"external_api_token": "x"}}})


def test_upload_tokens_are_not_shown_in_the_journal() -> None:
    emu = Emulator(clock="manual")
    client = CoreClient(emu)
    step1 = client.request(
        "POST",
        "/v1/files",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"purpose=eval&file_name=in.jsonl",
    )
    url = step1.headers["location"].removeprefix(BASE)
    token = url.removeprefix("/_emulator/uploads/")
    assert client.request("PUT", url, body=jsonl(qa_rows(1)).encode(), key=None).status == 200
    (put,) = emu.journal.filter("upload.put")
    assert put.path == "/_emulator/uploads/" + masked(token) and put.route_path == "/_emulator/uploads/{token}"
    initiated = client.request(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={"file_name": "big.jsonl", "file_size": 3, "num_parts": 1, "purpose": "eval"},
    ).json()
    ids = {"upload_id": initiated["upload_id"], "file_id": initiated["file_id"]}
    client.request(
        "POST", "/v1/files/multipart/complete", json_body={**ids, "parts": [{"part_number": 1, "etag": "x"}]}
    )
    (complete,) = emu.journal.filter("files.multipart.complete", status_code=400)  # the part never came
    assert complete.json()["upload_id"] == masked(initiated["upload_id"])  # the upload is still alive
    shown = client.request("GET", "/_emulator/requests", key=None).body
    assert token.encode() not in shown and initiated["upload_id"].encode() not in shown


def requests(client: CoreClient, **query: str) -> list[dict[str, Any]]:
    """`GET /_emulator/requests` with filters."""
    reply = client.request("GET", "/_emulator/requests", query=query, key=None)
    assert reply.status == 200, reply.body
    return reply.json()["data"]  # type: ignore[no-any-return]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
