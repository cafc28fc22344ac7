"""Upload URLs: unguessable, bound to their tenant and file, dead once the file is final, expiring on
the emulator clock, and kept across a state export and import."""

from __future__ import annotations

import pytest
from together_eval_emulator import Emulator

from tests.support import BASE, CoreClient, Reply

CONTENT = b'{"prompt": "a", "response": "b"}\n'
FORM = {"content-type": "application/x-www-form-urlencoded"}
STEP1 = b"purpose=eval&file_name=in.jsonl&file_type=jsonl"


@pytest.fixture
def client() -> CoreClient:
    return CoreClient(Emulator(clock="manual"))


def step1(client: CoreClient, key: str = "default") -> tuple[str, str]:
    """(upload URL path, file id) of a new two-step upload."""
    reply = client.request("POST", "/v1/files", headers=FORM, body=STEP1, key=key)
    assert reply.status == 302, reply.body
    return reply.headers["location"].removeprefix(BASE), reply.headers["x-together-file-id"]


def put(client: CoreClient, path: str, body: bytes = CONTENT, key: str | None = None) -> Reply:
    return client.request("PUT", path, body=body, key=key)


def forbidden(reply: Reply, code: str) -> None:
    """A 403 in the real error shape."""
    assert reply.status == 403, reply.body
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code
    assert "POST /v1/files" in error["message"]


def test_a_put_without_a_key_cannot_replace_another_tenants_dataset() -> None:
    """The reproduction: the victim uploads its dataset to a server with an admin token; the attacker,
    with no key, derives the upload token from the seed on an emulator of its own, and also replays
    the victim's URL after preprocess. Neither PUT may touch the victim's file."""
    victim = CoreClient(Emulator(clock="manual", seed=7, admin_token="admin"))
    url, file_id = step1(victim)
    assert put(victim, url).status == 200
    assert victim.request("POST", f"/v1/files/{file_id}/preprocess").status == 200

    attacker_copy = CoreClient(Emulator(clock="manual", seed=7))  # same seed, same requests
    guessed, guessed_file = step1(attacker_copy)
    assert guessed_file == file_id  # ids are still a function of the seed...
    assert guessed != url  # ...but upload URLs are not
    assert put(victim, guessed, b'{"prompt": "evil"}\n').status == 404
    forbidden(put(victim, url, b'{"prompt": "evil"}\n'), "upload_url_used")

    assert victim.request("GET", f"/v1/files/{file_id}/content").body == CONTENT


def test_the_same_seed_gives_the_same_ids_but_new_tokens() -> None:
    one, two = CoreClient(Emulator(clock="manual")), CoreClient(Emulator(clock="manual"))
    (url_one, file_one), (url_two, file_two) = step1(one), step1(two)
    assert file_one == file_two and url_one != url_two
    assert one.upload(CONTENT) == two.upload(CONTENT)  # the ids after an upload are unchanged too


def test_the_upload_url_dies_when_its_file_is_preprocessed(client: CoreClient) -> None:
    url, file_id = step1(client)
    assert put(client, url).status == 200
    assert put(client, url).status == 200  # until the file is final, a client may send it again
    assert client.request("POST", f"/v1/files/{file_id}/preprocess").status == 200
    forbidden(put(client, url, b"{}\n"), "upload_url_used")
    assert client.request("GET", f"/v1/files/{file_id}/content").body == CONTENT


def test_the_upload_url_dies_with_its_file(client: CoreClient) -> None:
    """A client that never preprocesses (the TypeScript SDK) keeps its URL until the file is deleted."""
    url, file_id = step1(client)
    assert put(client, url).status == 200
    assert client.request("DELETE", f"/v1/files/{file_id}").status == 200
    forbidden(put(client, url), "upload_url_used")


def test_the_upload_url_expires_on_the_emulator_clock() -> None:
    client = CoreClient(Emulator(clock="manual", upload_url_seconds=60))
    early, _ = step1(client)
    late, late_file = step1(client)
    client.advance(59)
    assert put(client, early).status == 200
    client.advance(1)
    forbidden(put(client, late), "upload_url_expired")
    forbidden(put(client, late), "upload_url_used")  # forgotten once expired: still a 403
    assert client.request("POST", f"/v1/files/{late_file}/preprocess").status == 404  # no bytes ever came


def test_the_default_lifetime_is_an_hour(client: CoreClient) -> None:
    url, _ = step1(client)
    client.advance(3599)
    assert put(client, url).status == 200
    client.advance(1)
    forbidden(put(client, url), "upload_url_expired")


def test_the_upload_url_takes_bytes_for_its_own_tenant_only(client: CoreClient) -> None:
    url, file_id = step1(client)
    forbidden_reply = put(client, url, key="key-b")
    assert forbidden_reply.status == 403 and forbidden_reply.json()["error"]["code"] == "upload_url_forbidden"
    assert put(client, url, key="key-a").status == 200  # its own key, or none, as the SDKs send
    assert client.request("GET", f"/v1/files/{file_id}", key="key-b").status == 404


def test_unknown_and_mangled_tokens_are_404(client: CoreClient) -> None:
    url, _ = step1(client)
    nonce, _, signature = url.removeprefix("/_emulator/uploads/").partition(".")
    assert put(client, f"/_emulator/uploads/{nonce}.{signature[::-1]}").status == 404
    assert put(client, "/_emulator/uploads/not-a-token").status == 404
    assert put(client, url).status == 200


def test_multipart_part_urls_die_when_the_upload_completes(client: CoreClient) -> None:
    init = client.request(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={"file_name": "big.jsonl", "file_size": len(CONTENT), "num_parts": 1, "purpose": "eval"},
    ).json()
    part_url = init["parts"][0]["URL"].removeprefix(BASE)
    etag = put(client, part_url).headers["etag"].strip('"')
    done = client.request(
        "POST",
        "/v1/files/multipart/complete",
        json_body={**{k: init[k] for k in ("upload_id", "file_id")}, "parts": [{"part_number": 1, "etag": etag}]},
    )
    assert done.status == 200
    forbidden(put(client, part_url), "upload_url_used")


def test_an_expired_multipart_upload_cannot_be_completed(client: CoreClient) -> None:
    init = client.request(
        "POST",
        "/v1/files/multipart/initiate",
        json_body={"file_name": "big.jsonl", "file_size": len(CONTENT), "num_parts": 1, "purpose": "eval"},
    ).json()
    part_url = init["parts"][0]["URL"].removeprefix(BASE)
    etag = put(client, part_url).headers["etag"].strip('"')
    client.advance(3600)
    reply = client.request(
        "POST",
        "/v1/files/multipart/complete",
        json_body={**{k: init[k] for k in ("upload_id", "file_id")}, "parts": [{"part_number": 1, "etag": etag}]},
    )
    assert reply.status == 403 and reply.json()["error"]["param"] == "upload_id"


def test_pending_uploads_are_exported_and_imported_with_their_expiry(client: CoreClient) -> None:
    url, file_id = step1(client)
    client.advance(600)
    snapshot = client.control("GET", "state")
    (pending,) = snapshot["uploads"]
    assert pending["expires_ns"] == 1767225600 * 10**9 + 3600 * 10**9
    assert "/_emulator/uploads/" + pending["token"] == url

    restored = CoreClient(Emulator(clock="manual"))
    restored.control("PUT", "state", snapshot)
    assert put(restored, url).status == 200
    assert restored.request("POST", f"/v1/files/{file_id}/preprocess").status == 200

    again = CoreClient(Emulator(clock="manual"))
    again.control("PUT", "state", snapshot)
    again.advance(3000)  # 600 + 3000 = the hour since step 1
    forbidden(put(again, url), "upload_url_expired")


def test_a_snapshot_without_expiries_gives_its_uploads_a_lifetime_from_the_import(client: CoreClient) -> None:
    url, _ = step1(client)
    snapshot = client.control("GET", "state")
    del snapshot["uploads"][0]["expires_ns"]  # as an older emulator exported it
    restored = CoreClient(Emulator(clock="manual", upload_url_seconds=10))
    restored.control("PUT", "state", snapshot)
    restored.advance(10)
    forbidden(put(restored, url), "upload_url_expired")
