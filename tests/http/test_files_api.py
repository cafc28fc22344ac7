"""Files API: the three-step upload of both SDKs, direct and multipart uploads, read, delete
(docs/reference/files.md)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlencode

import httpx
import pytest
from together_eval_emulator import Emulator

from tests.support import BASE, CoreClient

CONTENT = b'{"prompt": "a", "response": "b"}\r\n{"prompt": "c", "response": "d"}\n'


@pytest.fixture
def client() -> CoreClient:
    return CoreClient(Emulator(clock="manual"))


def multipart(fields: dict[str, str], file: tuple[str, bytes] | None = None) -> tuple[dict[str, str], bytes]:
    request = httpx.Request("POST", BASE, data=fields, files={"file": file} if file else {"_": (None, b"")})
    if file is None:  # text parts only, as the 3.1.1 SDK sends step 1
        request = httpx.Request("POST", BASE, files={k: (None, v.encode()) for k, v in fields.items()})
    return {"content-type": request.headers["content-type"]}, request.read()


def test_upload_step1_urlencoded_answers_302_with_location_and_file_id(client: CoreClient) -> None:
    reply = client.request(
        "POST",
        "/v1/files",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"purpose=eval&file_name=in.jsonl&file_type=jsonl",
    )
    assert reply.status == 302
    assert reply.headers["location"].startswith(BASE + "/_emulator/uploads/")
    assert re.fullmatch(
        r"file-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", reply.headers["x-together-file-id"]
    )


def test_three_step_upload_with_multipart_text_parts(client: CoreClient) -> None:
    headers, body = multipart(
        {
            "purpose": "eval",
            "file_name": "in.jsonl",
            "file_type": "jsonl",
            "checksum": hashlib.sha256(CONTENT).hexdigest(),
        }
    )
    step1 = client.request("POST", "/v1/files", headers=headers, body=body)
    assert step1.status == 302
    put = client.request("PUT", step1.headers["location"].removeprefix(BASE), body=CONTENT, key=None)
    assert put.status == 200
    file_id = step1.headers["x-together-file-id"]
    done = client.request("POST", f"/v1/files/{file_id}/preprocess", headers={"content-type": "application/json"})
    assert done.status == 200
    assert done.json() == {
        "id": file_id,
        "object": "file",
        "created_at": 1767225600,
        "type": None,
        "purpose": "eval",
        "filename": "in.jsonl",
        "bytes": len(CONTENT),
        "LineCount": 0,
        "Processed": True,
        "FileType": "jsonl",
        "project_id": done.json()["project_id"],
        "organization_id": done.json()["organization_id"],
    }
    content = client.request("GET", f"/v1/files/{file_id}/content")
    assert content.body == CONTENT
    assert content.headers["content-type"] == "application/octet-stream"


def test_upload_as_the_typescript_sdk_sends_it(client: CoreClient) -> None:
    """together-ai 0.52.0: the fields in the query string and again in a urlencoded body, the whole
    local path as `file_name`, an octet-stream PUT, then `GET /v1/files/{id}` instead of preprocess."""
    fields = {"file_name": "/home/dev/evals/in.jsonl", "file_type": "jsonl", "purpose": "eval"}
    step1 = client.request(
        "POST",
        "/v1/files",
        query=fields,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode(),
    )
    assert step1.status == 302
    put = client.request(
        "PUT",
        step1.headers["location"].removeprefix(BASE),
        headers={"content-type": "application/octet-stream", "content-length": str(len(CONTENT))},
        body=CONTENT,
        key=None,
    )
    assert put.status == 200
    file_id = step1.headers["x-together-file-id"]
    file = client.request("GET", f"/v1/files/{file_id}")
    assert file.status == 200
    assert {k: file.json()[k] for k in ("id", "object", "purpose", "filename", "bytes", "FileType", "Processed")} == {
        "id": file_id,
        "object": "file",
        "purpose": "eval",
        "filename": "/home/dev/evals/in.jsonl",  # as sent: the emulator does not rewrite names
        "bytes": len(CONTENT),
        "FileType": "jsonl",
        "Processed": True,
    }
    assert client.request("GET", f"/v1/files/{file_id}/content").body == CONTENT
    assert [f["id"] for f in client.own_files()] == [file_id]


def test_the_upload_url_needs_its_token_not_a_key(client: CoreClient) -> None:
    assert client.request("PUT", "/_emulator/uploads/not-a-token", body=b"x", key=None).status == 404


def test_preprocess_before_the_bytes_arrive_is_a_400(client: CoreClient) -> None:
    step1 = client.request(
        "POST",
        "/v1/files",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"purpose=eval&file_name=in.jsonl&file_type=jsonl",
    )
    file_id = step1.headers["x-together-file-id"]
    reply = client.request("POST", f"/v1/files/{file_id}/preprocess")
    assert reply.status == 400
    assert client.request("GET", f"/v1/files/{file_id}").status == 404
    assert [f for f in client.request("GET", "/v1/files").json()["data"] if f["id"].startswith("file-")] == []


@pytest.mark.parametrize(
    "body,param",
    [
        (b"file_name=in.jsonl&file_type=jsonl", "purpose"),
        (b"purpose=homework&file_name=in.jsonl", "purpose"),
        (b"purpose=eval&file_name=in.jsonl&file_type=xlsx", "file_type"),
        (b"purpose=eval", "file_name"),
    ],
)
def test_bad_upload_requests_name_the_field(client: CoreClient, body: bytes, param: str) -> None:
    reply = client.request(
        "POST", "/v1/files", headers={"content-type": "application/x-www-form-urlencoded"}, body=body
    )
    assert reply.status == 400
    assert reply.json()["error"]["param"] == param


def test_direct_upload(client: CoreClient) -> None:
    headers, body = multipart({"purpose": "eval"}, ("rows.csv", b"prompt,response\nq,a\n"))
    reply = client.request("POST", "/v1/files/upload", headers=headers, body=body)
    assert reply.status == 200
    assert reply.json()["FileType"] == "csv" and reply.json()["filename"] == "rows.csv"
    assert client.request("GET", f"/v1/files/{reply.json()['id']}/content").body == b"prompt,response\nq,a\n"


def test_multipart_upload_initiate_put_parts_complete(client: CoreClient) -> None:
    init = client.request(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={
            "file_name": "big.jsonl",
            "file_size": len(CONTENT),
            "num_parts": 2,
            "purpose": "eval",
            "file_type": "jsonl",
        },
    )
    assert init.status == 200
    parts = init.json()["parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    etags = []
    for part, chunk in zip(parts, (CONTENT[:10], CONTENT[10:]), strict=False):
        put = client.request("PUT", part["URL"].removeprefix(BASE), body=chunk, key=None)
        assert put.status == 200 and put.headers["etag"]
        etags.append({"part_number": part["PartNumber"], "etag": put.headers["etag"].strip('"')})
    done = client.request(
        "POST",
        "/v1/files/multipart/complete",
        json_body={"upload_id": init.json()["upload_id"], "file_id": init.json()["file_id"], "parts": etags},
    )
    assert done.status == 200 and done.json()["object"] == "file"
    assert client.request("GET", f"/v1/files/{init.json()['file_id']}/content").body == CONTENT


def test_multipart_abort_forgets_the_file(client: CoreClient) -> None:
    init = client.request(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={"file_name": "big.jsonl", "file_size": 5, "num_parts": 1, "purpose": "eval"},
    ).json()
    reply = client.request(
        "POST", "/v1/files/multipart/abort", json_body={"upload_id": init["upload_id"], "file_id": init["file_id"]}
    )
    assert reply.status == 200
    assert (
        client.request(
            "POST",
            "/v1/files/multipart/complete",
            json_body={"upload_id": init["upload_id"], "file_id": init["file_id"], "parts": []},
        ).status
        == 404
    )


def test_list_retrieve_delete(client: CoreClient) -> None:
    first, second = client.upload(CONTENT), client.upload(CONTENT, filename="two.jsonl")
    listed = client.request("GET", "/v1/files").json()["data"]
    assert [f["id"] for f in listed if f["id"].startswith("file-")] == [first, second]  # after the built-ins
    assert client.request("GET", f"/v1/files/{first}").json()["id"] == first
    deleted = client.request("DELETE", f"/v1/files/{first}")
    assert deleted.json() == {"id": first, "object": "file", "deleted": True}
    assert client.request("GET", f"/v1/files/{first}").status == 404
    assert client.request("DELETE", f"/v1/files/{first}").status == 404
    assert client.request("GET", f"/v1/files/{second}", key="key-b").status == 404


def test_direct_upload_keeps_binary_bytes_and_non_ascii_names(client: CoreClient) -> None:
    content = b"a,b\r\n1,2\r\n\x00\xff\n\r\nend"
    headers, body = multipart({"purpose": "eval"}, ("dätä sheet.csv", content))
    reply = client.request("POST", "/v1/files/upload", headers=headers, body=body)
    assert reply.status == 200
    assert reply.json()["filename"] == "dätä sheet.csv"
    assert client.request("GET", f"/v1/files/{reply.json()['id']}/content").body == content


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=zzz", "multipart/form-data", "application/xml"]
)
def test_unparseable_upload_forms_are_a_400(client: CoreClient, content_type: str) -> None:
    reply = client.request("POST", "/v1/files", headers={"content-type": content_type}, body=b"garbage")
    assert reply.status == 400
    assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
